//! Downloads against an HTTP server started on 127.0.0.1 by the test itself.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;

use dlsuite_data::download::{fetch, Remote, RemoteFile};
use dlsuite_data::{DataError, Digits, Kind, Locator, Split};
use md5::{Digest, Md5};

const FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/mnist")
            .join(name),
    )
    .unwrap()
}

/// Serves the fixture files under four behaviours chosen by the first path
/// segment: `good/`, `bad/` (wrong bytes), `error/` (HTTP 500) and `cut/`
/// (the connection drops halfway through the body). Returns the base address.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("/");
            let mut parts = path.trim_start_matches('/').splitn(2, '/');
            let mode = parts.next().unwrap_or("").to_string();
            let name = parts.next().unwrap_or("").to_string();
            let body = if FILES.contains(&name.as_str()) {
                fixture_bytes(&name)
            } else {
                Vec::new()
            };
            let _ = match mode.as_str() {
                "good" | "bad" | "cut" if !body.is_empty() => {
                    let mut body = body;
                    if mode == "bad" {
                        body[100] ^= 0xff;
                    }
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let sent = if mode == "cut" { body.len() / 2 } else { body.len() };
                    stream
                        .write_all(head.as_bytes())
                        .and_then(|_| stream.write_all(&body[..sent]))
                }
                _ => stream.write_all(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    format!("http://{addr}/")
}

fn remote(base: &str, modes: &[&str]) -> Remote {
    Remote {
        mirrors: modes.iter().map(|m| format!("{base}{m}/")).collect(),
        files: FILES
            .iter()
            .map(|name| RemoteFile {
                name: name.to_string(),
                md5: format!("{:x}", Md5::digest(fixture_bytes(name))),
            })
            .collect(),
    }
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn download_succeeds_and_loads() {
    let base = serve();
    let cache = tempfile::tempdir().unwrap();
    let locator = Locator {
        kind: Kind::Mnist,
        explicit: None,
        cache: Some(cache.path().join("mnist")),
        system: vec![],
        remote: Some(remote(&base, &["good"])),
        progress: false,
    };
    let (train, test) = locator.load().unwrap();
    assert_eq!((train.len(), test.len()), (600, 200));
    let mut names = leftovers(&cache.path().join("mnist"));
    names.sort();
    let mut expected: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(names, expected, "only the four verified files remain");
}

#[test]
fn hash_mismatch_is_reported_and_nothing_is_kept() {
    let base = serve();
    let dest = tempfile::tempdir().unwrap();
    let err = fetch(&remote(&base, &["bad"]), dest.path(), false).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DataError::Download { .. }));
    assert!(msg.contains("checksum mismatch"), "{msg}");
    assert!(msg.contains("bad/train-images-idx3-ubyte.gz"), "{msg}");
    assert!(
        leftovers(dest.path()).is_empty(),
        "{:?}",
        leftovers(dest.path())
    );
}

#[test]
fn server_error_is_reported() {
    let base = serve();
    let dest = tempfile::tempdir().unwrap();
    let msg = fetch(&remote(&base, &["error"]), dest.path(), false)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("500"), "{msg}");
    assert!(leftovers(dest.path()).is_empty());
}

#[test]
fn cut_connection_falls_back_to_the_next_mirror() {
    let base = serve();
    let dest = tempfile::tempdir().unwrap();
    fetch(&remote(&base, &["cut", "good"]), dest.path(), false).unwrap();
    for name in FILES {
        assert_eq!(
            std::fs::read(dest.path().join(name)).unwrap(),
            fixture_bytes(name)
        );
    }
    assert_eq!(leftovers(dest.path()).len(), 4, "no partial files left");
    Digits::load_dir(dest.path(), Split::Train).unwrap();
}

#[test]
fn cut_connection_alone_is_an_error_naming_the_cut() {
    let base = serve();
    let dest = tempfile::tempdir().unwrap();
    let msg = fetch(&remote(&base, &["cut"]), dest.path(), false)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("connection") && msg.contains("cut/train-images-idx3-ubyte.gz"),
        "{msg}"
    );
    assert!(leftovers(dest.path()).is_empty());
}

#[test]
fn unreachable_mirrors_end_in_not_found_with_the_reason() {
    // A port nobody listens on: bind, note the port, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cache = tempfile::tempdir().unwrap();
    let locator = Locator {
        kind: Kind::Mnist,
        explicit: None,
        cache: Some(cache.path().join("mnist")),
        system: vec![],
        remote: Some(remote(&format!("http://127.0.0.1:{port}/"), &["good"])),
        progress: false,
    };
    let msg = locator.locate().unwrap_err().to_string();
    assert!(msg.starts_with("MNIST not found"), "{msg}");
    assert!(msg.contains("every mirror failed"), "{msg}");
}

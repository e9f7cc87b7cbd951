//! Loading the committed fixtures, and one clear error for each kind of bad file.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use dlsuite_data::idx::{encode_images, encode_labels, PIXELS};
use dlsuite_data::{DataError, Digits, Kind, Locator, Split};

fn fixture(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(kind)
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A temporary copy of the MNIST fixture, uncompressed, to be damaged.
fn raw_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture("mnist")).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap();
        std::fs::write(dir.path().join(stem), gunzip(&path)).unwrap();
    }
    dir
}

fn load_err(dir: &Path, split: Split) -> (DataError, String) {
    let err = Digits::load_dir(dir, split).unwrap_err();
    let msg = err.to_string();
    (err, msg)
}

#[test]
fn fixtures_load_gzipped_and_raw() {
    let gz = Digits::load_dir(&fixture("mnist"), Split::Train).unwrap();
    assert_eq!(gz.len(), 600);
    let raw_dir = raw_copy();
    let raw = Digits::load_dir(raw_dir.path(), Split::Train).unwrap();
    assert_eq!(raw.pixels(), gz.pixels());
    assert_eq!(raw.labels(), gz.labels());
    // The first MNIST training digits are 5, 0, 4, 1, 9.
    assert_eq!(&gz.labels()[..5], &[5, 0, 4, 1, 9]);
    let test = Digits::load_dir(&fixture("mnist"), Split::Test).unwrap();
    assert_eq!(test.len(), 200);
    assert_eq!(&test.labels()[..3], &[7, 2, 1]);
    let fashion = Digits::load_dir(&fixture("fashion-mnist"), Split::Train).unwrap();
    assert_eq!(fashion.len(), 600);
    assert_eq!(
        fashion.label(0),
        9,
        "Fashion-MNIST starts with an ankle boot"
    );
}

#[test]
fn wrong_magic_names_the_file() {
    let dir = raw_copy();
    let path = dir.path().join("train-images-idx3-ubyte");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[3] = 0x01;
    std::fs::write(&path, bytes).unwrap();
    let (err, msg) = load_err(dir.path(), Split::Train);
    assert!(matches!(err, DataError::BadMagic { .. }));
    assert!(msg.contains("train-images-idx3-ubyte"), "{msg}");
    assert!(msg.contains("bad magic number 0x00000801"), "{msg}");
}

#[test]
fn truncated_file_says_how_much_is_missing() {
    let dir = raw_copy();
    let path = dir.path().join("t10k-images-idx3-ubyte");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    let (err, msg) = load_err(dir.path(), Split::Test);
    assert!(
        matches!(err, DataError::Truncated { expected, found, .. } if expected == found + 100),
        "{msg}"
    );
    assert!(msg.contains("t10k-images-idx3-ubyte: truncated"), "{msg}");
}

#[test]
fn truncated_gzip_stream_is_a_gzip_error() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture("mnist")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let path = dir.path().join("train-labels-idx1-ubyte.gz");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let (err, msg) = load_err(dir.path(), Split::Train);
    assert!(matches!(err, DataError::Gzip { .. }), "{msg}");
    assert!(msg.contains("train-labels-idx1-ubyte.gz"), "{msg}");
}

#[test]
fn gzip_garbage_is_a_gzip_error() {
    let dir = raw_copy();
    std::fs::remove_file(dir.path().join("train-labels-idx1-ubyte")).unwrap();
    let mut garbage = vec![0x1f, 0x8b];
    garbage.extend((0..500u32).map(|i| (i * 37 % 251) as u8));
    std::fs::write(dir.path().join("train-labels-idx1-ubyte.gz"), garbage).unwrap();
    let (err, msg) = load_err(dir.path(), Split::Train);
    assert!(matches!(err, DataError::Gzip { .. }), "{msg}");
    assert!(msg.contains("not a valid gzip stream"), "{msg}");
}

#[test]
fn image_and_label_counts_must_agree() {
    let dir = raw_copy();
    let labels = gunzip(&fixture("mnist").join("t10k-labels-idx1-ubyte.gz"));
    std::fs::write(dir.path().join("train-labels-idx1-ubyte"), labels).unwrap();
    let (err, msg) = load_err(dir.path(), Split::Train);
    assert!(
        matches!(
            err,
            DataError::CountMismatch {
                n_images: 600,
                n_labels: 200,
                ..
            }
        ),
        "{msg}"
    );
}

#[test]
fn label_above_nine_is_named_with_its_index() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t10k-images-idx3-ubyte"),
        encode_images(&[0; 3 * PIXELS]),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("t10k-labels-idx1-ubyte"),
        encode_labels(&[1, 12, 3]),
    )
    .unwrap();
    let (err, msg) = load_err(dir.path(), Split::Test);
    assert!(
        matches!(
            err,
            DataError::BadLabel {
                index: 1,
                label: 12,
                ..
            }
        ),
        "{msg}"
    );
}

#[test]
fn images_must_be_28_by_28() {
    let dir = raw_copy();
    let path = dir.path().join("train-images-idx3-ubyte");
    let mut bytes = std::fs::read(&path).unwrap();
    // Claim 600 images of 32×32: same magic, a different geometry.
    bytes[8..12].copy_from_slice(&32u32.to_be_bytes());
    bytes[12..16].copy_from_slice(&32u32.to_be_bytes());
    std::fs::write(&path, bytes).unwrap();
    let (err, msg) = load_err(dir.path(), Split::Train);
    assert!(
        matches!(
            err,
            DataError::WrongImageSize {
                rows: 32,
                cols: 32,
                ..
            }
        ),
        "{msg}"
    );
}

#[test]
fn missing_file_is_named() {
    let dir = raw_copy();
    std::fs::remove_file(dir.path().join("t10k-labels-idx1-ubyte")).unwrap();
    let (err, msg) = load_err(dir.path(), Split::Test);
    assert!(matches!(err, DataError::Missing { .. }));
    assert!(
        msg.contains("t10k-labels-idx1-ubyte.gz: file not found"),
        "{msg}"
    );
}

#[test]
fn explicit_dir_that_does_not_exist() {
    let locator = Locator::new(Kind::Mnist, Some("/no/such/folder".into()));
    let msg = locator.locate().unwrap_err().to_string();
    assert_eq!(msg, "/no/such/folder: file not found");
}

#[test]
fn nothing_anywhere_says_where_it_looked_and_what_to_do() {
    let empty = tempfile::tempdir().unwrap();
    let locator = Locator {
        kind: Kind::FashionMnist,
        explicit: None,
        cache: Some(empty.path().join("cache")),
        system: vec![empty.path().join("system")],
        remote: None,
        progress: false,
    };
    let msg = locator.locate().unwrap_err().to_string();
    assert!(msg.starts_with("Fashion-MNIST not found"), "{msg}");
    assert!(msg.contains(&empty.path().join("system").display().to_string()));
    assert!(msg.contains("--data-dir") && msg.contains("DLSUITE_FASHION_MNIST_DIR"));
}

#[test]
fn explicit_dir_is_used_without_checksums() {
    let (train, test) = Locator::new(Kind::Mnist, Some(fixture("mnist")))
        .load()
        .unwrap();
    assert_eq!((train.len(), test.len()), (600, 200));
    let _ = std::io::stdout().flush();
}

#[test]
fn a_folder_where_a_file_should_be_says_so() {
    let dir = raw_copy();
    let labels = dir.path().join("t10k-labels-idx1-ubyte");
    std::fs::remove_file(&labels).unwrap();
    std::fs::create_dir(&labels).unwrap();
    let msg = Locator::new(Kind::Mnist, Some(dir.path().into()))
        .locate()
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        format!(
            "{}: is a folder, where the file t10k-labels-idx1-ubyte should be",
            labels.display()
        )
    );
}

#[test]
fn a_file_given_as_the_data_folder_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mnist.zip");
    std::fs::write(&file, b"PK").unwrap();
    let msg = Locator::new(Kind::Mnist, Some(file.clone()))
        .locate()
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with(&format!("{}: is a file, where a folder", file.display())),
        "{msg}"
    );
}

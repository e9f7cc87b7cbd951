//! Fetching the IDX files from public mirrors: progress bar, checksum, fallback
//! mirror, and an atomic rename so that a half-downloaded file never looks done.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use md5::{Digest, Md5};

use crate::error::{DataError, Result};

/// One file as published on the mirrors, with the checksum it must match.
#[derive(Clone, Debug)]
pub struct RemoteFile {
    /// File name on the mirror and in the cache, e.g. `train-images-idx3-ubyte.gz`.
    pub name: String,
    /// Lower-case hex MD5, the figure the dataset's publishers list.
    pub md5: String,
}

/// Where a dataset can be downloaded from: mirrors in order of preference.
#[derive(Clone, Debug)]
pub struct Remote {
    /// Base addresses, each ending with `/`; tried in order.
    pub mirrors: Vec<String>,
    pub files: Vec<RemoteFile>,
}

/// Downloads every file of `remote` that `dest` lacks, trying each mirror in
/// turn. A file lands under its final name only once its checksum matched.
pub fn fetch(remote: &Remote, dest: &Path, progress: bool) -> Result<()> {
    std::fs::create_dir_all(dest).map_err(|source| DataError::Io {
        path: dest.to_path_buf(),
        source,
    })?;
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(15))
        .timeout_read(Duration::from_secs(60))
        .build();
    for file in &remote.files {
        let target = dest.join(&file.name);
        if target.is_file() {
            continue;
        }
        let mut failures = Vec::new();
        let mut done = false;
        for mirror in &remote.mirrors {
            let url = format!("{mirror}{}", file.name);
            match fetch_one(&agent, &url, file, &target, progress) {
                Ok(()) => {
                    done = true;
                    break;
                }
                Err(err) => failures.push(err.to_string()),
            }
        }
        if !done {
            return Err(DataError::Download {
                url: file.name.clone(),
                reason: format!("every mirror failed:\n  {}", failures.join("\n  ")),
            });
        }
    }
    Ok(())
}

fn fetch_one(
    agent: &ureq::Agent,
    url: &str,
    file: &RemoteFile,
    target: &Path,
    progress: bool,
) -> Result<()> {
    let fail = |reason: String| DataError::Download {
        url: url.to_string(),
        reason,
    };
    let response = agent.get(url).call().map_err(|e| {
        fail(match e {
            ureq::Error::Status(code, r) => format!("HTTP {code} {}", r.status_text()),
            ureq::Error::Transport(t) => t.to_string().replace(&format!("{url}: "), ""),
        })
    })?;
    let expected_len: Option<u64> = response
        .header("Content-Length")
        .and_then(|v| v.parse().ok());
    let bar = if progress {
        let bar = indicatif::ProgressBar::new(expected_len.unwrap_or(0));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})",
            )
            .expect("constant template is valid")
            .progress_chars("=> "),
        );
        bar.set_message(file.name.clone());
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };

    let partial = target.with_extension(format!("part-{}", std::process::id()));
    let result = (|| {
        let mut out = File::create(&partial).map_err(|source| DataError::Io {
            path: partial.clone(),
            source,
        })?;
        let mut reader = response.into_reader();
        let mut hasher = Md5::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut received = 0u64;
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| fail(format!("connection lost after {received} bytes: {e}")))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|source| DataError::Io {
                path: partial.clone(),
                source,
            })?;
            received += n as u64;
            bar.set_position(received);
        }
        if let Some(len) = expected_len {
            if received != len {
                return Err(fail(format!(
                    "connection closed after {received} of {len} bytes"
                )));
            }
        }
        let found = format!("{:x}", hasher.finalize());
        if found != file.md5 {
            return Err(DataError::HashMismatch {
                url: url.to_string(),
                found,
                expected: file.md5.clone(),
            });
        }
        out.sync_all().map_err(|source| DataError::Io {
            path: partial.clone(),
            source,
        })?;
        std::fs::rename(&partial, target).map_err(|source| DataError::Io {
            path: target.to_path_buf(),
            source,
        })
    })();
    bar.finish_and_clear();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

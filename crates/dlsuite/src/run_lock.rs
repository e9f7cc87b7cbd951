//! The lock a command holds on a run folder while it writes there.
//!
//! An OS file lock (`flock`), so it dies with its process: `kill -9` leaves
//! no stale lock to clear by hand. The lock file names its holder, so a
//! second writer can say who is in the way. It is removed on release, so a
//! folder the lock merely visited (a refused resume, say) is left as it was.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside a run folder.
pub const LOCK_FILE: &str = "run.lock";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{dir}: another dlsuite is writing this run folder ({holder}); wait for it to finish or choose another --run-dir"
    )]
    Held { dir: PathBuf, holder: String },
    #[error("{path}: cannot lock: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Held while a command writes a run folder; released (and its file
/// removed) on drop.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    _file: File,
}

impl RunLock {
    /// Locks `dir` (which must exist), or says which process holds it.
    pub fn acquire(dir: &Path) -> Result<Self, LockError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        loop {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = match holder.trim() {
                        "" => "a process that is just starting".to_string(),
                        h => format!("process {h}"),
                    };
                    return Err(LockError::Held {
                        dir: dir.to_path_buf(),
                        holder,
                    });
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
            // The holder before us removes the file as it lets go: if it did
            // so between our open and our lock, we locked a file nobody else
            // will open again, so start over on the one now at the path.
            if !same_file(&file, &path) {
                continue;
            }
            file.set_len(0).map_err(io)?;
            writeln!(file, "{} ({})", std::process::id(), command_line()).map_err(io)?;
            return Ok(Self { path, _file: file });
        }
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Removed while still locked, so that no one locks it in between;
        // the lock itself goes when the file is closed, right after.
        let _ = std::fs::remove_file(&self.path);
    }
}

fn command_line() -> String {
    let mut args = std::env::args();
    let program = args
        .next()
        .map(|p| {
            Path::new(&p)
                .file_name()
                .map_or(p.clone(), |n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    std::iter::once(program)
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_naming_the_first_and_the_lock_goes_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path()).unwrap();
        let err = RunLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains(&format!("process {}", std::process::id()))
                && err.contains("another dlsuite is writing"),
            "{err}"
        );
        drop(first);
        assert!(!dir.path().join(LOCK_FILE).exists(), "lock file removed");
        let again = RunLock::acquire(dir.path()).unwrap();
        drop(again);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_lock_file_left_by_a_killed_process_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        // What kill -9 leaves: the file, unlocked.
        std::fs::write(dir.path().join(LOCK_FILE), "12345 (dlsuite train x)\n").unwrap();
        let lock = RunLock::acquire(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert!(text.starts_with(&std::process::id().to_string()), "{text}");
        drop(lock);
    }
}

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use burn::record::{
    FileRecorder, FullPrecisionSettings, NamedMpkFileRecorder, Recorder as BurnRecorder,
    RecorderError,
};
use burn::tensor::backend::Backend;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// How models and checkpoints are saved: MessagePack at full precision, so a
/// reloaded model computes exactly what the trained one did, written to a
/// temporary file and renamed into place, so a run killed while saving leaves
/// the old file or the new one, never half of one. The files are the ones
/// Burn's `NamedMpkFileRecorder` reads.
///
/// burn-train saves checkpoints on threads of its own and, when a save
/// fails, only stops training; clones of a recorder share the first
/// failure, so whoever trains can report it, and a count of finished
/// saves, so that training can wait for a checkpoint to be written.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    reader: NamedMpkFileRecorder<FullPrecisionSettings>,
    failure: Arc<Mutex<Option<String>>>,
    saves: Arc<(Mutex<usize>, Condvar)>,
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The first save that failed, as "path: OS error".
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    /// How many saves, by this recorder and its clones, have finished
    /// (written or failed).
    pub fn saves(&self) -> usize {
        self.saves.0.lock().map_or(0, |n| *n)
    }

    /// Blocks until `count` saves have finished, or `timeout` has passed.
    pub fn wait_for_saves(&self, count: usize, timeout: Duration) {
        let (lock, done) = &*self.saves;
        if let Ok(guard) = lock.lock() {
            let _ = done.wait_timeout_while(guard, timeout, |n| *n < count);
        }
    }

    fn finished_a_save(&self) {
        let (lock, done) = &*self.saves;
        if let Ok(mut n) = lock.lock() {
            *n += 1;
        }
        done.notify_all();
    }

    fn fail(&self, message: String) -> RecorderError {
        if let Ok(mut first) = self.failure.lock() {
            first.get_or_insert_with(|| message.clone());
        }
        RecorderError::Unknown(message)
    }
}

impl<B: Backend> BurnRecorder<B> for Recorder {
    type Settings = FullPrecisionSettings;
    type RecordArgs = PathBuf;
    type RecordOutput = ();
    type LoadArgs = PathBuf;

    fn save_item<I: Serialize>(&self, item: I, file: PathBuf) -> Result<(), RecorderError> {
        let path = file.with_extension(<Self as FileRecorder<B>>::file_extension());
        let written = rmp_serde::encode::to_vec_named(&item)
            .map_err(|e| self.fail(format!("{}: cannot encode: {e}", path.display())))
            .and_then(|bytes| {
                write_atomic(&path, &bytes)
                    .map_err(|e| self.fail(format!("{}: cannot write: {e}", path.display())))
            });
        self.finished_a_save();
        written
    }

    fn load_item<I: DeserializeOwned>(&self, file: &mut PathBuf) -> Result<I, RecorderError> {
        <NamedMpkFileRecorder<FullPrecisionSettings> as BurnRecorder<B>>::load_item(
            &self.reader,
            file,
        )
    }
}

impl<B: Backend> FileRecorder<B> for Recorder {
    fn file_extension() -> &'static str {
        "mpk"
    }
}

/// How [`write_atomic`]'s temporary files begin.
const TEMPORARY_PREFIX: &str = ".tmp-";

/// Deletes the temporary files that writes cut short by a kill left in
/// `dir` (a clean exit leaves none); returns how many. Missing folders are
/// fine.
pub fn remove_leftover_temporaries(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(TEMPORARY_PREFIX))
        })
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

/// Writes `bytes` to `path` through a synced temporary file in the same
/// folder and a rename, so readers see the old file or the new one, never a
/// mixture.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMPORARY_PREFIX);
    // Read and write for all, less the user's umask (the kernel applies it
    // on creation), as any tool's output: temporary files are owner-only
    // by default, and a run on a shared machine is for others to read too.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;

    #[cfg(unix)]
    #[test]
    fn files_are_written_as_the_umask_says_not_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        write_atomic(&dir.path().join("a.json"), b"{}").unwrap();
        // What any other tool (std::fs::write) makes under the same umask.
        std::fs::write(dir.path().join("b.json"), b"{}").unwrap();
        let mode = |n: &str| {
            std::fs::metadata(dir.path().join(n))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("a.json"), mode("b.json"));
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        if let Some(umask) = status.lines().find_map(|l| l.strip_prefix("Umask:")) {
            let umask = u32::from_str_radix(umask.trim(), 8).unwrap();
            assert_eq!(mode("a.json"), 0o666 & !umask);
        }
    }

    #[test]
    fn a_failed_save_is_kept_for_whoever_trains_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should go: the rename onto it fails.
        std::fs::create_dir_all(dir.path().join("model.mpk/x")).unwrap();
        let recorder = Recorder::new();
        let shared = recorder.clone();
        let layer: Linear<B> = LinearConfig::new(3, 2).init(&Default::default());
        assert!(layer
            .save_file(dir.path().join("model"), &recorder)
            .is_err());
        let failure = shared.failure().expect("the clone sees the failure");
        assert!(failure.contains("model.mpk: cannot write"), "{failure}");
    }

    #[test]
    fn leftover_temporaries_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(&dir.path().join("model-1.mpk"), b"whole").unwrap();
        // What a write killed before its rename leaves.
        std::fs::write(dir.path().join(".tmp-Ab12cd"), b"half").unwrap();
        assert_eq!(remove_leftover_temporaries(dir.path()), 1);
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, ["model-1.mpk"]);
        assert_eq!(remove_leftover_temporaries(&dir.path().join("none")), 0);
    }
    use burn::module::Module;
    use burn::nn::{Linear, LinearConfig};

    type B = NdArray;

    #[test]
    fn saves_files_burn_reads_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let device = Default::default();
        let first: Linear<B> = LinearConfig::new(3, 2).init(&device);
        let second: Linear<B> = LinearConfig::new(3, 2).init(&device);
        let expected = second.weight.val().into_data();
        first
            .save_file(dir.path().join("model"), &Recorder::new())
            .unwrap();
        // Saving again replaces the file whole.
        second
            .save_file(dir.path().join("model"), &Recorder::new())
            .unwrap();

        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["model.mpk"]);
        let loaded = LinearConfig::new(3, 2)
            .init::<B>(&device)
            .load_file(
                dir.path().join("model.mpk"),
                &NamedMpkFileRecorder::<FullPrecisionSettings>::new(),
                &device,
            )
            .unwrap();
        loaded.weight.val().into_data().assert_eq(&expected, true);
    }
}

//! Which folders a command may write a run into, and how: a run folder says
//! it is one (`run.json`), a fresh run never writes into a folder that holds
//! anything, `--overwrite` replaces only the suite's own files, and
//! `--resume` continues only the run it was asked for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::run_dir::{last_checkpoint, read_run_config, read_summary};
use crate::run_lock::{LockError, RunLock, LOCK_FILE};

/// The marker's file name.
pub const MARKER_FILE: &str = "run.json";

/// What the marker's `suite` field says.
const SUITE: &str = "dlsuite";

/// Files a run of any kind may write at the top of its folder, besides its
/// pictures.
const SUITE_FILES: [&str; 16] = [
    MARKER_FILE,
    "config.json",
    "metrics.jsonl",
    "summary.json",
    "model.mpk",
    // `dlsuite export`'s default file, made from model.mpk.
    "model.safetensors",
    "experiment.log",
    "lesson.json",
    "ensemble.json",
    crate::autoencoder::SUMMARY_FILE,
    crate::gan::SUMMARY_FILE,
    "generator.mpk",
    "discriminator.mpk",
    crate::sequence::SUMMARY_FILE,
    crate::sequence::VOCAB_FILE,
    "melody.wav",
];

/// The pictures a training run draws (see `pictures.rs`); a run folder from
/// before the marker listed its pictures has no others.
const TRAINING_PICTURES: [&str; 4] = [
    "curves.png",
    "confusion.png",
    "misclassified.png",
    "weights.png",
];

/// Settings a resumed run may change; the marker records each change.
const MAY_CHANGE: [&str; 3] = ["train.epochs", "train.patience", "backend"];

/// Wording that does not change what is trained.
const IGNORED: [&str; 6] = [
    "description",
    "lecture_accuracy",
    "group",
    "check",
    "repeat_seeds",
    "figure",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Training,
    Lesson,
    Ensemble,
    Autoencoder,
    Gan,
    Sequence,
}

impl RunKind {
    fn noun(self) -> &'static str {
        match self {
            RunKind::Training => "run",
            RunKind::Lesson => "lesson",
            RunKind::Ensemble => "ensemble",
            RunKind::Autoencoder => "autoencoder run",
            RunKind::Gan => "GAN run",
            RunKind::Sequence => "sequence run",
        }
    }
}

/// How a command may treat a folder that already holds something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteMode {
    /// Only a new or empty folder.
    Fresh,
    /// Continue the run there, if it is the same run.
    Resume,
    /// Replace the run there (only the suite's files go).
    Overwrite,
}

/// A setting changed when a run was resumed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingChange {
    /// The last epoch trained with the old value.
    pub after_epoch: usize,
    pub field: String,
    pub from: Value,
    pub to: Value,
}

/// `run.json`: marks a folder as a run and records what the config alone
/// does not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunMarker {
    pub suite: String,
    pub version: String,
    pub experiment: String,
    pub kind: RunKind,
    pub backend: String,
    /// Which optimizer implementation's state the checkpoints hold: another
    /// one cannot read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizer_state: Option<String>,
    /// Pictures the run drew, so `--overwrite` knows them.
    #[serde(default)]
    pub pictures: Vec<String>,
    #[serde(default)]
    pub changes: Vec<SettingChange>,
}

impl RunMarker {
    pub fn new(request: &RunRequest) -> Self {
        Self {
            suite: SUITE.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            experiment: request.experiment.clone(),
            kind: request.kind,
            backend: request.backend.clone(),
            optimizer_state: request.optimizer_state.clone(),
            pictures: Vec::new(),
            changes: Vec::new(),
        }
    }
}

/// What a command is about to write.
#[derive(Clone, Debug)]
pub struct RunRequest {
    pub experiment: String,
    pub kind: RunKind,
    pub backend: String,
    pub optimizer_state: Option<String>,
    /// The experiment's settings as `config.json` records them.
    pub settings: Value,
}

/// A run found in a folder.
#[derive(Clone, Debug)]
pub struct FoundRun {
    /// `None` for a run written before folders were marked.
    pub marker: Option<RunMarker>,
    pub kind: RunKind,
    pub experiment: String,
    pub finished: bool,
    /// The last whole checkpoint of a training run.
    pub checkpoint: Option<usize>,
}

impl FoundRun {
    /// "a finished run of mnist-softmax (1 epoch, test accuracy 90.12%)".
    pub fn describe(&self, dir: &Path) -> String {
        let noun = self.kind.noun();
        let name = &self.experiment;
        if self.kind != RunKind::Training {
            let state = if self.finished {
                "a finished"
            } else {
                "an unfinished"
            };
            return format!("{state} {noun} of {name}");
        }
        match (self.finished, read_summary(dir)) {
            (true, Ok(s)) => format!(
                "a finished run of {name} ({} epoch{}, test accuracy {:.2}%, {})",
                s.epochs,
                if s.epochs == 1 { "" } else { "s" },
                s.test_accuracy,
                s.backend
            ),
            _ => match self.checkpoint {
                Some(e) => format!("an unfinished run of {name} (checkpoint after epoch {e})"),
                None => format!("an unfinished run of {name} (no epoch finished)"),
            },
        }
    }
}

/// What a folder holds, as far as writing a run into it goes.
#[derive(Clone, Debug)]
pub enum Holds {
    /// Missing, or empty (a lock file left by a killed run counts as nothing).
    Nothing,
    Run(FoundRun),
    /// Anything else: the names of (up to a few of) its entries.
    Other(Vec<String>),
}

#[derive(Debug, thiserror::Error)]
pub enum RunFolderError {
    #[error("{dir}: holds {what}; {offer} (only the suite's own files go)")]
    HoldsRun {
        dir: PathBuf,
        what: String,
        offer: &'static str,
    },
    #[error(
        "{dir}: not a dlsuite run folder, and not empty (it holds {listing}); nothing was changed: choose a new or empty folder with --run-dir"
    )]
    Foreign { dir: PathBuf, listing: String },
    #[error(
        "{dir}: holds {what}, which differs from what this command would train: {differences}. Resuming would train a mixture, so nothing was changed; give the run's settings, or --overwrite to replace it"
    )]
    Mismatch {
        dir: PathBuf,
        what: String,
        differences: String,
    },
    #[error("{dir}: cannot resume: {why}; nothing was changed")]
    NotResumable { dir: PathBuf, why: String },
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("{path}: {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
}

/// Reads what `dir` holds; writes nothing.
pub fn inspect(dir: &Path) -> Result<Holds, RunFolderError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Holds::Nothing),
        Err(source) => {
            return Err(RunFolderError::Io {
                path: dir.to_path_buf(),
                action: if dir.exists() && !dir.is_dir() {
                    "is a file, not a folder"
                } else {
                    "cannot read"
                },
                source,
            })
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() {
                format!("{name}/")
            } else {
                name
            }
        })
        .filter(|n| n != LOCK_FILE)
        .collect();
    if names.is_empty() {
        return Ok(Holds::Nothing);
    }
    if let Some(run) = found_run(dir) {
        return Ok(Holds::Run(run));
    }
    names.sort();
    Ok(Holds::Other(names))
}

fn read_marker(dir: &Path) -> Option<RunMarker> {
    let text = std::fs::read_to_string(dir.join(MARKER_FILE)).ok()?;
    serde_json::from_str::<RunMarker>(&text)
        .ok()
        .filter(|m| m.suite == SUITE)
}

/// The run in `dir`: marked, or one from before the marker (its
/// `config.json`, `lesson.json` or `ensemble.json` says what it was).
fn found_run(dir: &Path) -> Option<FoundRun> {
    let marker = read_marker(dir);
    let (kind, experiment) = match &marker {
        Some(m) => (m.kind, m.experiment.clone()),
        None => {
            if let Ok(config) = read_run_config(dir) {
                (RunKind::Training, config.name)
            } else if let Some(name) = json_name(&dir.join("lesson.json")) {
                (RunKind::Lesson, name)
            } else if let Some(name) = json_name(&dir.join("ensemble.json")) {
                (RunKind::Ensemble, name)
            } else {
                return None;
            }
        }
    };
    let finished = match kind {
        RunKind::Training => dir.join("summary.json").is_file() && dir.join("model.mpk").is_file(),
        RunKind::Lesson => dir.join("lesson.json").is_file(),
        RunKind::Ensemble => dir.join("summary.json").is_file(),
        RunKind::Autoencoder => dir.join(crate::autoencoder::SUMMARY_FILE).is_file(),
        RunKind::Gan => dir.join(crate::gan::SUMMARY_FILE).is_file(),
        RunKind::Sequence => dir.join(crate::sequence::SUMMARY_FILE).is_file(),
    };
    Some(FoundRun {
        marker,
        kind,
        experiment,
        finished,
        checkpoint: (kind == RunKind::Training)
            .then(|| last_checkpoint(dir))
            .flatten(),
    })
}

/// The `name` field of a JSON file, or, for an ensemble's list of members,
/// the folder's own name.
fn json_name(path: &Path) -> Option<String> {
    let value: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    match value.get("name").and_then(Value::as_str) {
        Some(name) => Some(name.to_string()),
        None => path
            .parent()?
            .file_name()
            .map(|n| n.to_string_lossy().into_owned()),
    }
}

/// A run folder opened for writing, locked until this is dropped.
#[derive(Debug)]
pub struct OpenRun {
    pub lock: RunLock,
    pub marker: RunMarker,
    pub start: Start,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Start {
    /// Nothing to continue: train from the beginning.
    Fresh,
    /// Continue after this epoch's checkpoint (`None`: no epoch finished).
    Resume { after_epoch: Option<usize> },
    /// The run is finished and nothing asked changes that; no file changed.
    NothingToDo { what: String },
}

/// Locks `dir` for `request` and decides, by `mode` and what the folder
/// holds, whether and how to write there. Refusals change nothing in the
/// folder; `--overwrite` removes the old run's files before returning.
pub fn open_run(
    dir: &Path,
    request: &RunRequest,
    mode: WriteMode,
) -> Result<OpenRun, RunFolderError> {
    // Refuse what can be refused without touching the folder at all.
    refuse(dir, &inspect(dir)?, mode)?;
    std::fs::create_dir_all(dir).map_err(|source| RunFolderError::Io {
        path: dir.to_path_buf(),
        action: "cannot create",
        source,
    })?;
    let lock = RunLock::acquire(dir)?;
    // Again under the lock: another writer may have finished in between.
    let holds = inspect(dir)?;
    refuse(dir, &holds, mode)?;
    let fresh = |lock| OpenRun {
        lock,
        marker: RunMarker::new(request),
        start: Start::Fresh,
    };
    let run = match holds {
        Holds::Run(run) => run,
        _ => return Ok(fresh(lock)),
    };
    match mode {
        WriteMode::Fresh => unreachable!("refused above"),
        WriteMode::Overwrite => {
            remove_suite_files(dir, &run)?;
            Ok(fresh(lock))
        }
        WriteMode::Resume => {
            let (marker, start) = resume(dir, &run, request)?;
            Ok(OpenRun {
                lock,
                marker,
                start,
            })
        }
    }
}

fn refuse(dir: &Path, holds: &Holds, mode: WriteMode) -> Result<(), RunFolderError> {
    match (holds, mode) {
        (Holds::Other(names), _) => {
            const SHOWN: usize = 5;
            let mut listing = names
                .iter()
                .take(SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if names.len() > SHOWN {
                listing.push_str(&format!(" and {} more", names.len() - SHOWN));
            }
            Err(RunFolderError::Foreign {
                dir: dir.to_path_buf(),
                listing,
            })
        }
        (Holds::Run(run), WriteMode::Fresh) => Err(RunFolderError::HoldsRun {
            dir: dir.to_path_buf(),
            what: run.describe(dir),
            offer: match run.kind {
                RunKind::Training => "add --resume to continue it or --overwrite to replace it",
                // Lessons keep no checkpoints; an ensemble reuses its members.
                RunKind::Lesson
                | RunKind::Ensemble
                | RunKind::Autoencoder
                | RunKind::Gan
                | RunKind::Sequence => "add --overwrite to run it again",
            },
        }),
        _ => Ok(()),
    }
}

/// Checks that the run in `dir` is the one `request` describes; returns
/// the marker to write (with any allowed changes recorded) and where to
/// start.
fn resume(
    dir: &Path,
    run: &FoundRun,
    request: &RunRequest,
) -> Result<(RunMarker, Start), RunFolderError> {
    let what = run.describe(dir);
    let mismatch = |differences: String| RunFolderError::Mismatch {
        dir: dir.to_path_buf(),
        what: what.clone(),
        differences,
    };
    if run.kind != request.kind {
        return Err(mismatch(format!(
            "it is a {}, this command runs a {}",
            run.kind.noun(),
            request.kind.noun()
        )));
    }
    let recorded_config = std::fs::read_to_string(dir.join("config.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .ok_or_else(|| RunFolderError::NotResumable {
            dir: dir.to_path_buf(),
            why: "its config.json is missing or unreadable, so what it trained is unknown".into(),
        })?;
    let mut recorded = flatten(&recorded_config);
    let mut requested = flatten(&request.settings);
    if let Some(marker) = &run.marker {
        recorded.insert("backend".into(), Value::from(marker.backend.clone()));
        requested.insert("backend".into(), Value::from(request.backend.clone()));
        if let (Some(was), Some(now)) = (&marker.optimizer_state, &request.optimizer_state) {
            recorded.insert("optimizer state".into(), Value::from(was.clone()));
            requested.insert("optimizer state".into(), Value::from(now.clone()));
        }
    }
    let mut fixed = Vec::new();
    let mut changes = Vec::new();
    let after_epoch = run.checkpoint.unwrap_or(0);
    let fields: std::collections::BTreeSet<&String> =
        recorded.keys().chain(requested.keys()).collect();
    for field in fields {
        let field = field.as_str();
        if IGNORED
            .iter()
            .any(|i| field == *i || field.starts_with(&format!("{i}.")))
        {
            continue;
        }
        let (was, now) = (
            recorded.get(field).unwrap_or(&Value::Null),
            requested.get(field).unwrap_or(&Value::Null),
        );
        if was == now {
            continue;
        }
        if MAY_CHANGE.contains(&field) {
            changes.push(SettingChange {
                after_epoch,
                field: field.into(),
                from: was.clone(),
                to: now.clone(),
            });
        } else {
            fixed.push(format!(
                "{field}: {} in the run, {} now",
                show(was),
                show(now)
            ));
        }
    }
    if !fixed.is_empty() {
        return Err(mismatch(fixed.join("; ")));
    }
    let mut marker = run
        .marker
        .clone()
        .unwrap_or_else(|| RunMarker::new(request));
    marker.backend = request.backend.clone();
    marker.optimizer_state = request.optimizer_state.clone();
    let more_epochs = changes
        .iter()
        .any(|c| c.field == "train.epochs" && c.to.as_u64() > c.from.as_u64());
    if run.finished && !more_epochs {
        return Ok((marker, Start::NothingToDo { what }));
    }
    marker.changes.extend(changes);
    Ok((
        marker,
        Start::Resume {
            after_epoch: run.checkpoint,
        },
    ))
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "not set".into(),
        v => v.to_string(),
    }
}

/// `{"train": {"lr": 0.1}}` → `train.lr = 0.1`; arrays stay whole.
fn flatten(value: &Value) -> BTreeMap<String, Value> {
    fn walk(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&path, v, out);
                }
            }
            v => {
                out.insert(prefix.to_string(), v.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", value, &mut out);
    out
}

/// Removes the files the suite wrote for `run`, and nothing else.
fn remove_suite_files(dir: &Path, run: &FoundRun) -> Result<(), RunFolderError> {
    let remove = |path: PathBuf| match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(RunFolderError::Io {
            path,
            action: "cannot remove",
            source,
        }),
    };
    let mut names: Vec<String> = SUITE_FILES.iter().map(|s| s.to_string()).collect();
    match &run.marker {
        Some(marker) => names.extend(marker.pictures.iter().cloned()),
        None if run.kind == RunKind::Training => {
            names.extend(TRAINING_PICTURES.iter().map(|s| s.to_string()))
        }
        None => {}
    }
    for name in names {
        // A picture name is a plain file name; anything else is not ours.
        if Path::new(&name).file_name() == Some(std::ffi::OsStr::new(&name)) {
            remove(dir.join(name))?;
        }
    }
    dlsuite_train::remove_leftover_temporaries(dir);
    let checkpoints = dir.join("checkpoint");
    dlsuite_train::remove_leftover_temporaries(&checkpoints);
    if let Ok(entries) = std::fs::read_dir(&checkpoints) {
        for entry in entries.filter_map(|e| e.ok()) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_checkpoint_file(&name) {
                remove(entry.path())?;
            }
        }
        // Kept if it holds anything else.
        let _ = std::fs::remove_dir(&checkpoints);
    }
    Ok(())
}

/// `model-3.mpk`, `optim-3.mpk`, `scheduler-3.mpk`: what burn-train's
/// checkpointer writes.
fn is_checkpoint_file(name: &str) -> bool {
    ["model-", "optim-", "scheduler-"].iter().any(|prefix| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(".mpk"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Records the pictures a run drew in its marker (for `--overwrite`).
pub fn record_pictures(
    dir: &Path,
    marker: &mut RunMarker,
    pictures: &[PathBuf],
) -> anyhow::Result<()> {
    for path in pictures {
        if let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) {
            if !marker.pictures.contains(&name) {
                marker.pictures.push(name);
            }
        }
    }
    crate::artifacts::write_json(&dir.join(MARKER_FILE), marker)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(settings: Value) -> RunRequest {
        RunRequest {
            experiment: "x".into(),
            kind: RunKind::Training,
            backend: "flex".into(),
            optimizer_state: Some("host-adam".into()),
            settings,
        }
    }

    fn write_run(dir: &Path, settings: &Value, finished: bool) {
        let r = request(settings.clone());
        std::fs::create_dir_all(dir.join("checkpoint")).unwrap();
        std::fs::write(
            dir.join(MARKER_FILE),
            serde_json::to_string(&RunMarker::new(&r)).unwrap(),
        )
        .unwrap();
        std::fs::write(dir.join("config.json"), settings.to_string()).unwrap();
        for part in ["model", "optim", "scheduler"] {
            // One whole MessagePack value: an empty array.
            std::fs::write(dir.join(format!("checkpoint/{part}-2.mpk")), [0x90]).unwrap();
        }
        if finished {
            std::fs::write(dir.join("model.mpk"), [0x90]).unwrap();
            std::fs::write(dir.join("summary.json"), "{}").unwrap();
        }
    }

    fn settings(epochs: u64, lr: f64) -> Value {
        serde_json::json!({"name": "x", "description": "d", "train": {"epochs": epochs, "lr": lr, "limit": null}})
    }

    fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.insert(p.clone(), std::fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    #[test]
    fn a_fresh_run_refuses_a_folder_of_other_files_and_leaves_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("train/cats")).unwrap();
        std::fs::write(dir.path().join("train/cats/1.jpg"), b"x").unwrap();
        let before = snapshot(dir.path());
        for mode in [WriteMode::Fresh, WriteMode::Overwrite, WriteMode::Resume] {
            let err = open_run(dir.path(), &request(settings(1, 0.1)), mode).unwrap_err();
            assert!(
                matches!(err, RunFolderError::Foreign { .. }),
                "{mode:?}: {err}"
            );
            assert!(err.to_string().contains("train/"), "{err}");
        }
        assert_eq!(snapshot(dir.path()), before);
    }

    #[test]
    fn a_fresh_run_refuses_a_run_and_offers_resume_or_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path(), &settings(2, 0.1), false);
        let before = snapshot(dir.path());
        let err = open_run(dir.path(), &request(settings(2, 0.1)), WriteMode::Fresh)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("an unfinished run of x (checkpoint after epoch 2)")
                && err.contains("--resume")
                && err.contains("--overwrite"),
            "{err}"
        );
        assert_eq!(snapshot(dir.path()), before);
    }

    #[test]
    fn overwrite_removes_the_runs_files_and_keeps_the_users() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path(), &settings(2, 0.1), true);
        std::fs::write(dir.path().join("notes.txt"), b"mine").unwrap();
        std::fs::write(dir.path().join("checkpoint/mine.txt"), b"mine").unwrap();
        std::fs::write(dir.path().join("curves.png"), b"not in the marker").unwrap();
        let open = open_run(dir.path(), &request(settings(2, 0.1)), WriteMode::Overwrite).unwrap();
        assert_eq!(open.start, Start::Fresh);
        drop(open);
        let left: Vec<PathBuf> = snapshot(dir.path()).into_keys().collect();
        let expect: Vec<PathBuf> = ["checkpoint/mine.txt", "curves.png", "notes.txt"]
            .iter()
            .map(|n| dir.path().join(n))
            .collect();
        assert_eq!(left, expect);
    }

    #[test]
    fn a_mismatched_resume_lists_the_fields_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path(), &settings(2, 0.1), false);
        let before = snapshot(dir.path());
        let mut asked = settings(3, 0.5);
        asked["train"]["limit"] = Value::from(500);
        asked["description"] = Value::from("reworded");
        let err = open_run(dir.path(), &request(asked), WriteMode::Resume)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("train.lr: 0.1 in the run, 0.5 now")
                && err.contains("train.limit: not set in the run, 500 now")
                && !err.contains("epochs")
                && !err.contains("description"),
            "{err}"
        );
        assert_eq!(snapshot(dir.path()), before);

        let mut other = request(settings(2, 0.1));
        other.optimizer_state = Some("burn".into());
        let err = open_run(dir.path(), &other, WriteMode::Resume)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("optimizer state: \"host-adam\" in the run, \"burn\" now"),
            "{err}"
        );
        assert_eq!(snapshot(dir.path()), before);
    }

    #[test]
    fn a_resume_with_more_epochs_records_the_change() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path(), &settings(2, 0.1), true);
        let mut asked = request(settings(4, 0.1));
        asked.backend = "ndarray".into();
        let open = open_run(dir.path(), &asked, WriteMode::Resume).unwrap();
        assert_eq!(
            open.start,
            Start::Resume {
                after_epoch: Some(2)
            }
        );
        let fields: Vec<(&str, usize)> = open
            .marker
            .changes
            .iter()
            .map(|c| (c.field.as_str(), c.after_epoch))
            .collect();
        assert_eq!(fields, [("backend", 2), ("train.epochs", 2)]);
    }

    #[test]
    fn resuming_a_finished_run_with_nothing_left_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path(), &settings(2, 0.1), true);
        let before = snapshot(dir.path());
        let open = open_run(dir.path(), &request(settings(2, 0.1)), WriteMode::Resume).unwrap();
        assert!(
            matches!(open.start, Start::NothingToDo { .. }),
            "{:?}",
            open.start
        );
        drop(open);
        assert_eq!(snapshot(dir.path()), before);
    }

    #[test]
    fn a_locked_folder_is_refused_before_anything_is_read_into_it() {
        let dir = tempfile::tempdir().unwrap();
        let _held = RunLock::acquire(dir.path()).unwrap();
        let err = open_run(dir.path(), &request(settings(1, 0.1)), WriteMode::Fresh).unwrap_err();
        assert!(
            matches!(err, RunFolderError::Lock(LockError::Held { .. })),
            "{err}"
        );
    }

    #[test]
    fn only_burns_checkpoint_names_count_as_checkpoints() {
        assert!(is_checkpoint_file("model-12.mpk"));
        assert!(is_checkpoint_file("scheduler-1.mpk"));
        assert!(!is_checkpoint_file("model-.mpk"));
        assert!(!is_checkpoint_file("model-1.mpk.bak"));
        assert!(!is_checkpoint_file("cats-1.mpk"));
    }
}

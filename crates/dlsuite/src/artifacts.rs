//! Writing a run's files so that a crash never leaves a half-written one.

use std::path::Path;

use anyhow::Context;

/// Writes `bytes` to `path` atomically (see [`dlsuite_train::write_atomic`]),
/// with an error that names the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    dlsuite_train::write_atomic(path, bytes)
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// Serialises `value` as pretty JSON into `path`, atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Reads one of a finished run's JSON files: a missing one asks whether the
/// run finished, a malformed one says it is not `what`.
pub fn read_run_json<T: serde::de::DeserializeOwned>(
    dir: &Path,
    file: &str,
    what: &str,
) -> anyhow::Result<T> {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{}: cannot read (did the run finish?)", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not {what}", path.display()))
}

/// A self-checking run's verdict as its closing line says it.
pub fn verdict_words(as_lectured: bool) -> &'static str {
    if as_lectured {
        "as lectured"
    } else {
        "NOT as lectured"
    }
}

/// The commit the binary was run from, if git knows it.
pub fn git_revision() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

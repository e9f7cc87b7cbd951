use std::path::PathBuf;

/// Everything that can go wrong while finding, fetching or parsing a dataset.
///
/// Each variant names the file (or address) and the fault, so that a user
/// reading one line knows what to fix.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: file not found")]
    Missing { path: PathBuf },
    #[error("{path}: is a folder, where the file {} should be", .path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()))]
    FolderNotFile { path: PathBuf },
    #[error("{path}: is a file, where a folder holding the four IDX files should be")]
    FileNotFolder { path: PathBuf },
    #[error("{path}: not a valid gzip stream: {source}")]
    Gzip {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: bad magic number {found:#010x}, expected {expected:#010x} (an IDX {kind} file)"
    )]
    BadMagic {
        path: PathBuf,
        found: u32,
        expected: u32,
        kind: &'static str,
    },
    #[error("{path}: truncated: the header promises {expected} bytes, the file holds {found}")]
    Truncated {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    #[error("{path}: {extra} unexpected bytes after the last item")]
    TrailingBytes { path: PathBuf, extra: u64 },
    #[error("{path}: images are {rows}x{cols} pixels, expected 28x28")]
    WrongImageSize { path: PathBuf, rows: u32, cols: u32 },
    #[error("{images} holds {n_images} images but {labels} holds {n_labels} labels")]
    CountMismatch {
        images: PathBuf,
        n_images: usize,
        labels: PathBuf,
        n_labels: usize,
    },
    #[error("{path}: label {label} at index {index} is above 9")]
    BadLabel {
        path: PathBuf,
        index: usize,
        label: u8,
    },
    #[error("{url}: checksum mismatch: md5 {found}, expected {expected}")]
    HashMismatch {
        url: String,
        found: String,
        expected: String,
    },
    #[error("{url}: download failed: {reason}")]
    Download { url: String, reason: String },
    #[error("{dataset} not found. Looked in:\n{tried}\nPass --data-dir DIR (or set {env_var}) to a folder holding the four IDX files, or connect to the internet so they can be downloaded")]
    NotFound {
        dataset: &'static str,
        env_var: &'static str,
        tried: String,
    },
    #[error("{path}: {reason}")]
    Picture { path: PathBuf, reason: String },
    #[error("{what}: {reason}")]
    Text { what: String, reason: String },
    #[error("{what}: {reason}")]
    InvalidArgument { what: &'static str, reason: String },
}

impl DataError {
    /// An I/O failure on `path`: a missing file is named as such.
    pub fn from_io(path: &std::path::Path, source: std::io::Error) -> Self {
        match source.kind() {
            std::io::ErrorKind::NotFound => DataError::Missing {
                path: path.to_path_buf(),
            },
            _ => DataError::Io {
                path: path.to_path_buf(),
                source,
            },
        }
    }
}

pub type Result<T> = std::result::Result<T, DataError>;

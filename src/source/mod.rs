//! Sources: where log bytes come from.
//!
//! A `velos logs` argument names a file, `-` (stdin), or a process the
//! supervisor manages, whose logs live under `$VELOS_HOME/logs/`: the
//! structured `<name>.log` with its rotated `<name>.log.1`, `.2`… and the
//! raw-mode `<name>-out.log` / `<name>-err.log` (rotated the same way).
//! Regular files are memory-mapped ([`mapping`]); everything else is read.
//! Nothing downstream knows where the bytes came from.

pub mod mapping;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use mapping::MappedFile;

/// An error opening a source, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Neither a file nor a managed process.
    #[error(
        "no such file or managed process `{0}`: give a path to a log file, `-` for stdin, or the name of a process started with `velos start` (see `velos list`)"
    )]
    NotFound(String),
    /// A path that does not exist.
    #[error("{0}: no such file")]
    NoSuchFile(PathBuf),
    /// A directory where a file was expected.
    #[error("{0}: is a directory; give a log file inside it")]
    IsDirectory(PathBuf),
    /// Permission denied.
    #[error(
        "{0}: permission denied (check the file's mode and owner, or run as a user who can read it)"
    )]
    PermissionDenied(PathBuf),
    /// Any other I/O failure.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        cause: std::io::Error,
    },
}

impl SourceError {
    /// The error for an I/O failure on `path`, by kind.
    pub(crate) fn io(path: &Path, err: std::io::Error) -> SourceError {
        match err.kind() {
            std::io::ErrorKind::NotFound => SourceError::NoSuchFile(path.to_path_buf()),
            std::io::ErrorKind::PermissionDenied => {
                SourceError::PermissionDenied(path.to_path_buf())
            }
            _ if err.raw_os_error() == Some(libc::EISDIR) => {
                SourceError::IsDirectory(path.to_path_buf())
            }
            _ => SourceError::Io {
                path: path.to_path_buf(),
                cause: err,
            },
        }
    }
}

/// What one command-line argument resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input.
    Stdin,
    /// A file given by path.
    File(PathBuf),
    /// A managed process's log files, one stream per kind, each oldest
    /// file first. Streams are merged by time.
    Process {
        /// The process name.
        name: String,
        /// Non-empty streams: structured log, raw stdout, raw stderr.
        streams: Vec<Vec<PathBuf>>,
    },
}

/// Resolves a `velos logs` argument: `-`, an existing path, or a process
/// name with log files under `home/logs/`.
pub fn resolve(arg: &str, home: &Path) -> Result<Input, SourceError> {
    if arg == "-" {
        return Ok(Input::Stdin);
    }
    let path = Path::new(arg);
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => return Err(SourceError::IsDirectory(path.to_path_buf())),
        Ok(_) => return Ok(Input::File(path.to_path_buf())),
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            return Err(SourceError::io(path, err));
        }
        Err(_) => {}
    }
    let looks_like_name = !arg.is_empty() && !arg.contains('/') && !arg.starts_with('.');
    if looks_like_name {
        let logs = home.join("logs");
        let streams: Vec<Vec<PathBuf>> = [
            format!("{arg}.log"),
            format!("{arg}-out.log"),
            format!("{arg}-err.log"),
        ]
        .iter()
        .map(|base| rotated_set(&logs, base))
        .filter(|files| !files.is_empty())
        .collect();
        if !streams.is_empty() {
            return Ok(Input::Process {
                name: arg.to_string(),
                streams,
            });
        }
        return Err(SourceError::NotFound(arg.to_string()));
    }
    Err(SourceError::NoSuchFile(path.to_path_buf()))
}

/// `base` and its rotations `base.1`, `base.2`… present in `dir`, oldest
/// (highest number) first.
pub fn rotated_set(dir: &Path, base: &str) -> Vec<PathBuf> {
    let mut rotated: Vec<(u32, PathBuf)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(suffix) = name.strip_prefix(base).and_then(|s| s.strip_prefix('.')) else {
                continue;
            };
            if let Ok(n) = suffix.parse::<u32>() {
                rotated.push((n, entry.path()));
            }
        }
    }
    rotated.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    let mut files: Vec<PathBuf> = rotated.into_iter().map(|(_, p)| p).collect();
    let current = dir.join(base);
    if current.is_file() {
        files.push(current);
    }
    files
}

/// The bytes of an opened file: mapped when possible, read otherwise.
pub enum FileBytes {
    /// A memory mapping (regular, non-empty files).
    Mapped(MappedFile),
    /// Bytes read into memory (empty files, special files, fallbacks).
    Owned(Vec<u8>),
}

impl FileBytes {
    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m.bytes(),
            FileBytes::Owned(v) => v,
        }
    }

    /// Maps the pages of `start..end` ahead of a scan (see
    /// [`MappedFile::populate`]).
    pub fn populate(&self, start: usize, end: usize) {
        if let FileBytes::Mapped(m) = self {
            m.populate(start, end);
        }
    }

    /// Whether the file shrank under the mapping (see [`mapping`]).
    pub fn truncated(&self) -> bool {
        match self {
            FileBytes::Mapped(m) => m.truncated(),
            FileBytes::Owned(_) => false,
        }
    }
}

/// An opened file source.
pub struct OpenFile {
    /// The path, as given.
    pub path: PathBuf,
    /// Its bytes at the time it was opened.
    pub data: FileBytes,
    /// Its modification time, Unix ms (reference for yearless dates).
    pub modified_ms: Option<i64>,
    /// Whether the file is a regular file (can be re-read at an offset).
    pub regular: bool,
}

/// Opens a file for reading: regular files are mapped, others read whole.
pub fn open_file(path: &Path) -> Result<OpenFile, SourceError> {
    let file = File::open(path).map_err(|e| SourceError::io(path, e))?;
    let meta = file.metadata().map_err(|e| SourceError::io(path, e))?;
    if meta.is_dir() {
        return Err(SourceError::IsDirectory(path.to_path_buf()));
    }
    let modified_ms = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64);
    let regular = meta.is_file();
    let len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    let data = if regular && len > 0 {
        match MappedFile::map(&file, len) {
            Ok(mapped) => FileBytes::Mapped(mapped),
            Err(_) => FileBytes::Owned(read_all(file, path)?),
        }
    } else {
        FileBytes::Owned(read_all(file, path)?)
    };
    Ok(OpenFile {
        path: path.to_path_buf(),
        data,
        modified_ms,
        regular,
    })
}

fn read_all(mut file: File, path: &Path) -> Result<Vec<u8>, SourceError> {
    let mut buf = Vec::new();
    file.read_to_end(&mut buf)
        .map_err(|e| SourceError::io(path, e))?;
    Ok(buf)
}

/// Reads a file's bytes from `offset` to its current end (the fallback
/// after a truncation under the mapping).
pub fn read_from(path: &Path, offset: u64) -> Result<Vec<u8>, SourceError> {
    use std::io::Seek;
    let mut file = File::open(path).map_err(|e| SourceError::io(path, e))?;
    file.seek(std::io::SeekFrom::Start(offset))
        .map_err(|e| SourceError::io(path, e))?;
    read_all(file, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_paths_names_and_errors() {
        let home = tempfile::tempdir().unwrap();
        let logs = home.path().join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        for f in [
            "api.log",
            "api.log.1",
            "api.log.2",
            "api.log.10",
            "web-out.log",
            "web-err.log",
            "api.log.x",
        ] {
            std::fs::write(logs.join(f), "x\n").unwrap();
        }
        match resolve("api", home.path()).unwrap() {
            Input::Process { streams, .. } => {
                let names: Vec<_> = streams[0]
                    .iter()
                    .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
                    .collect();
                assert_eq!(names, ["api.log.10", "api.log.2", "api.log.1", "api.log"]);
            }
            other => panic!("{other:?}"),
        }
        match resolve("web", home.path()).unwrap() {
            Input::Process { streams, .. } => assert_eq!(streams.len(), 2),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            resolve("nope", home.path()),
            Err(SourceError::NotFound(_))
        ));
        assert!(matches!(
            resolve("./nope.log", home.path()),
            Err(SourceError::NoSuchFile(_))
        ));
        assert!(matches!(
            resolve(logs.to_str().unwrap(), home.path()),
            Err(SourceError::IsDirectory(_))
        ));
        assert_eq!(resolve("-", home.path()).unwrap(), Input::Stdin);
    }
}

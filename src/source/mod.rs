//! Sources: where log bytes come from.
//!
//! A `velos logs` argument names a file, `-` (stdin), or a process the
//! supervisor manages, whose logs live under `$VELOS_HOME/logs/`: the
//! structured `<name>.log` with its rotated `<name>.log.1`, `.2`… and the
//! raw-mode `<name>-out.log` / `<name>-err.log` (rotated the same way,
//! rotated copies possibly compressed: `<name>.log.3.gz`).
//!
//! Every input is opened in one place, [`Part::open`], into a [`Source`]:
//! a regular file is memory-mapped ([`mapping`]); a compressed file (told
//! by its magic bytes, see [`decode`]) is decoded on a thread of its own;
//! stdin, named pipes and devices are streamed with bounded memory, never
//! read whole. A stream that must be read twice (pattern ids before
//! printing) is first spooled to an unlinked temporary file ([`spool`]).
//! A file whose first block holds NUL bytes gets a one-line note on
//! stderr and is read as text, invalid bytes shown escaped.
//! Nothing downstream knows where the bytes came from.

pub mod decode;
pub mod mapping;

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use decode::{Compression, Decoded};
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
    /// A stream could not be saved for a second pass.
    #[error(
        "{name}: cannot save the stream for a second pass ({cause}); set TMPDIR to a directory with room, or drop --json/--pattern"
    )]
    Spool {
        /// The stream.
        name: String,
        /// The failure.
        cause: std::io::Error,
    },
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
        let streams: Vec<Vec<PathBuf>> = crate::home::process_log_names(arg)
            .iter()
            .map(|base| rotated_parts(&logs, base))
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

/// Name endings of compressed rotated copies (`base.N.gz`…). Only the
/// listing goes by name; how a file is read is decided by its bytes.
const COMPRESSED_SUFFIXES: [&str; 4] = ["gz", "zst", "xz", "bz2"];

/// The directory a file path lies in: its parent, or `.` for a bare name.
pub fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// `base` and its plain rotations `base.1`, `base.2`… present in `dir`,
/// oldest (highest number) first. For callers that map the files; a
/// process's whole set, compressed copies included, is [`rotated_parts`].
pub fn rotated_set(dir: &Path, base: &str) -> Vec<PathBuf> {
    rotated(dir, base, false)
}

/// `base` and all its rotations, plain (`base.1`) or compressed
/// (`base.2.gz`, `.zst`, `.xz`, `.bz2`), oldest first. When a number has
/// both a plain and a compressed copy (a compression under way), the plain
/// one is taken.
pub fn rotated_parts(dir: &Path, base: &str) -> Vec<PathBuf> {
    rotated(dir, base, true)
}

fn rotated(dir: &Path, base: &str, compressed: bool) -> Vec<PathBuf> {
    // (number, compressed, path)
    let mut rotated: Vec<(u32, bool, PathBuf)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(suffix) = name.strip_prefix(base).and_then(|s| s.strip_prefix('.')) else {
                continue;
            };
            let (number, packed) = match suffix.split_once('.') {
                Some((n, ext)) if compressed && COMPRESSED_SUFFIXES.contains(&ext) => (n, true),
                Some(_) => continue,
                None => (suffix, false),
            };
            if let Ok(n) = number.parse::<u32>() {
                rotated.push((n, packed, entry.path()));
            }
        }
    }
    rotated.sort_by_key(|entry| (std::cmp::Reverse(entry.0), entry.1));
    rotated.dedup_by_key(|entry| entry.0);
    let mut files: Vec<PathBuf> = rotated.into_iter().map(|(_, _, p)| p).collect();
    let current = dir.join(base);
    if current.is_file() {
        files.push(current);
    }
    files
}

/// One input to read front to back: stdin, a file, or a stream already
/// spooled to disk. Cheap to clone; opened with [`Part::open`].
#[derive(Debug, Clone)]
pub enum Part {
    /// Standard input.
    Stdin,
    /// A file by path: regular, compressed, a named pipe or a device.
    File(PathBuf),
    /// A stream saved to an unlinked temporary file (see [`spool`]).
    Spooled(Arc<Spool>),
}

/// A stream's bytes saved to an unlinked temporary file, so it can be read
/// more than once.
#[derive(Debug)]
pub struct Spool {
    file: File,
    name: String,
}

/// Where an opened input's bytes come from.
pub enum Body {
    /// A regular uncompressed file (or a spool), mapped: it can be cut into
    /// chunks and read in parallel.
    Mapped(OpenFile),
    /// A stream read front to back: stdin, a pipe or device, or the decoded
    /// bytes of a compressed file. A read error ends it (for compressed
    /// data, a [`decode::DecodeError`] naming the damaged offset).
    Stream(Box<dyn Read + Send>),
}

/// An opened input.
pub struct Source {
    /// Its name for display: the path as given, or `<stdin>`.
    pub name: String,
    /// Its modification time, Unix ms, when it is a file (reference for
    /// yearless dates; streams use the current time).
    pub modified_ms: Option<i64>,
    /// Its compression, if any.
    pub compression: Option<Compression>,
    /// Its bytes.
    pub body: Body,
}

/// Bytes looked at for NUL bytes, as ripgrep does.
const BINARY_PROBE: usize = 64 << 10;

impl Part {
    /// Its name for display.
    pub fn name(&self) -> String {
        match self {
            Part::Stdin => "<stdin>".to_string(),
            Part::File(path) => path.display().to_string(),
            Part::Spooled(spool) => spool.name.clone(),
        }
    }

    /// Whether it can be opened more than once (stdin and pipes cannot
    /// until spooled).
    pub fn rereadable(&self) -> bool {
        match self {
            Part::Stdin => false,
            Part::File(path) => std::fs::metadata(path).is_ok_and(|m| m.is_file()),
            Part::Spooled(_) => true,
        }
    }

    /// The modification time of a file part, Unix ms.
    pub fn modified_ms(&self) -> Option<i64> {
        match self {
            Part::File(path) => std::fs::metadata(path).ok().and_then(|m| modified_ms(&m)),
            _ => None,
        }
    }

    /// Opens it: regular files are mapped, compressed ones decoded on a
    /// thread of their own, everything else streamed.
    pub fn open(&self) -> Result<Source, SourceError> {
        let name = self.name();
        match self {
            Part::Stdin => open_stream(name, None, Box::new(std::io::stdin())),
            Part::Spooled(spool) => {
                let path = PathBuf::from(&spool.name);
                let len = spool
                    .file
                    .metadata()
                    .map_err(|e| SourceError::io(&path, e))?
                    .len();
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                let data = if len == 0 {
                    FileBytes::Owned(Vec::new())
                } else {
                    FileBytes::Mapped(
                        MappedFile::map(&spool.file, len).map_err(|e| SourceError::io(&path, e))?,
                    )
                };
                let head = data.bytes();
                if let Some(format) = Compression::sniff(head) {
                    let file = spool
                        .file
                        .try_clone()
                        .map_err(|e| SourceError::io(&path, e))?;
                    let reader = positioned(file, &path)?;
                    return open_compressed(name, None, format, reader, &path);
                }
                note_if_binary(&name, head);
                Ok(Source {
                    name,
                    modified_ms: None,
                    compression: None,
                    body: Body::Mapped(OpenFile {
                        path,
                        data,
                        modified_ms: None,
                        regular: true,
                    }),
                })
            }
            Part::File(path) => {
                let file = File::open(path).map_err(|e| SourceError::io(path, e))?;
                let meta = file.metadata().map_err(|e| SourceError::io(path, e))?;
                if meta.is_dir() {
                    return Err(SourceError::IsDirectory(path.clone()));
                }
                let modified = modified_ms(&meta);
                if !meta.is_file() {
                    return open_stream(name, modified, Box::new(file));
                }
                let mut head = [0u8; decode::MAGIC_LEN];
                let got = read_head(&file, &mut head).map_err(|e| SourceError::io(path, e))?;
                if let Some(format) = Compression::sniff(&head[..got]) {
                    return open_compressed(name, modified, format, file, path);
                }
                let opened = open_file(path)?;
                note_if_binary(&name, opened.data.bytes());
                Ok(Source {
                    name,
                    modified_ms: modified,
                    compression: None,
                    body: Body::Mapped(opened),
                })
            }
        }
    }
}

/// The compression of a regular file, told by its first bytes.
pub fn compression_of(path: &Path) -> Option<Compression> {
    let file = File::open(path).ok()?;
    let mut head = [0u8; decode::MAGIC_LEN];
    let got = read_head(&file, &mut head).ok()?;
    Compression::sniff(&head[..got])
}

/// Saves the rest of `part` (a stream) to an unlinked temporary file, so it
/// can be read twice with bounded memory.
pub fn spool(part: &Part) -> Result<Part, SourceError> {
    let name = part.name();
    let path = PathBuf::from(&name);
    let mut input: Box<dyn Read> = match part {
        Part::Stdin => Box::new(std::io::stdin().lock()),
        Part::File(p) => Box::new(File::open(p).map_err(|e| SourceError::io(p, e))?),
        Part::Spooled(_) => return Ok(part.clone()),
    };
    let mut file = tempfile::tempfile().map_err(|e| SourceError::Spool {
        name: name.clone(),
        cause: e,
    })?;
    std::io::copy(&mut input, &mut file).map_err(|e| match e.kind() {
        // Only writes to the spool fail with these.
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => SourceError::Spool {
            name: name.clone(),
            cause: e,
        },
        _ => SourceError::io(&path, e),
    })?;
    file.flush().map_err(|e| SourceError::io(&path, e))?;
    Ok(Part::Spooled(Arc::new(Spool { file, name })))
}

/// `file` reset to its start, as a reader.
fn positioned(mut file: File, path: &Path) -> Result<File, SourceError> {
    use std::io::Seek;
    file.seek(std::io::SeekFrom::Start(0))
        .map_err(|e| SourceError::io(path, e))?;
    Ok(file)
}

/// Reads the first bytes of a regular file without moving its offset.
fn read_head(file: &File, head: &mut [u8]) -> std::io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut got = 0;
    while got < head.len() {
        match file.read_at(&mut head[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn open_compressed<R: Read + Send + 'static>(
    name: String,
    modified_ms: Option<i64>,
    format: Compression,
    input: R,
    path: &Path,
) -> Result<Source, SourceError> {
    let decoded = Decoded::spawn(format, input).map_err(|e| SourceError::io(path, e))?;
    Ok(Source {
        body: Body::Stream(Box::new(BinaryNote::new(name.clone(), decoded))),
        name,
        modified_ms,
        compression: Some(format),
    })
}

/// A stream: its first bytes tell whether it is compressed.
fn open_stream(
    name: String,
    modified_ms: Option<i64>,
    mut input: Box<dyn Read + Send>,
) -> Result<Source, SourceError> {
    let path = PathBuf::from(&name);
    let mut head = Vec::with_capacity(decode::MAGIC_LEN);
    while head.len() < decode::MAGIC_LEN {
        let mut byte = [0u8; decode::MAGIC_LEN];
        let want = decode::MAGIC_LEN - head.len();
        match input.read(&mut byte[..want]) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&byte[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(SourceError::io(&path, e)),
        }
    }
    let format = Compression::sniff(&head);
    let whole = std::io::Cursor::new(head).chain(input);
    if let Some(format) = format {
        return open_compressed(name, modified_ms, format, whole, &path);
    }
    Ok(Source {
        body: Body::Stream(Box::new(BinaryNote::new(name.clone(), whole))),
        name,
        modified_ms,
        compression: None,
    })
}

/// Passes a stream through, printing the binary note when a NUL byte shows
/// in its first [`BINARY_PROBE`] bytes.
struct BinaryNote<R> {
    inner: R,
    name: String,
    seen: usize,
}

impl<R> BinaryNote<R> {
    fn new(name: String, inner: R) -> BinaryNote<R> {
        BinaryNote {
            inner,
            name,
            seen: 0,
        }
    }
}

impl<R: Read> Read for BinaryNote<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.seen < BINARY_PROBE {
            let look = n.min(BINARY_PROBE - self.seen);
            if let Some(at) = memchr::memchr(0, &buf[..look]) {
                note_binary(&self.name, self.seen + at);
                self.seen = BINARY_PROBE;
            } else {
                self.seen += look;
            }
        }
        Ok(n)
    }
}

/// The NUL byte in the first block of `bytes`, if any.
pub fn binary_offset(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(0, &bytes[..bytes.len().min(BINARY_PROBE)])
}

fn note_if_binary(name: &str, bytes: &[u8]) {
    if let Some(at) = binary_offset(bytes) {
        note_binary(name, at);
    }
}

/// Prints the binary note, once per input name for the whole run (inputs
/// read twice are noted once).
fn note_binary(name: &str, offset: usize) {
    static NOTED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut noted = NOTED.lock().unwrap_or_else(|e| e.into_inner());
    if noted.iter().any(|n| n == name) {
        return;
    }
    noted.push(name.to_string());
    eprintln!(
        "velos: note: {name} looks binary (NUL byte at offset {offset}); reading it as text anyway"
    );
}

fn modified_ms(meta: &std::fs::Metadata) -> Option<i64> {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
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

/// Opens a regular file for reading, mapped (read whole when it cannot be
/// mapped). Inputs of any kind are opened with [`Part::open`].
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

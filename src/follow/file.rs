//! Following one file by path: reading what is appended, and carrying on
//! across rotation (the file renamed and a new one created: the old one is
//! read to its end first, then the new one from its start), truncation
//! (read again from the top) and a file that does not exist yet.
//!
//! A [`Follower`] keeps its file open and reads at its own offset. Each
//! [`Follower::poll`] reads what is new, checks whether the path still
//! names the same file, and hands out whole records through a
//! [`Pending`]. It never blocks: waiting is the caller's business (see
//! [`super::wake`]).

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use memchr::memrchr;

use super::pending::{Batch, Pending, Release};
use crate::frame::{Layout, SNIFF_BYTES};
use crate::source::mapping::MappedFile;
use crate::source::{FileBytes, OpenFile, SourceError};
use crate::timestamp::{self, TimeContext, Zone};

/// Bytes read from a file per step; records are handed out between steps.
const READ_STEP: usize = 1 << 20;

/// What happened to a followed path, besides new records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The file appeared (it did not exist, or was gone) and is read from
    /// its start.
    Appeared,
    /// Another file took the path (rotation); the old one was read to its
    /// end.
    Replaced,
    /// The path no longer names a file; the old one was read to its end.
    Gone,
    /// The file shrank; it is read again from its start.
    Truncated,
    /// The file read last was rotated away and deleted before the newer
    /// rotated files could be found: files between it and the oldest one
    /// kept may have been deleted unread (announced before the kept ones
    /// are read).
    Deleted {
        /// When the file read last was last written (Unix ms): the missing
        /// lines were written after.
        after_ms: Option<i64>,
        /// When the oldest file kept was created (Unix ms), where the
        /// file system records it: the missing lines were written before.
        before_ms: Option<i64>,
    },
}

/// What [`Follower::poll`] hands out.
#[derive(Debug)]
pub enum Event<'a> {
    /// Whole records.
    Records(Batch<'a>),
    /// A change of file.
    Change(Change),
}

/// The bytes of a file before the point where following starts, for the
/// backlog (the last records before the new ones).
pub struct Snapshot {
    /// The file, mapped up to that point only.
    pub file: OpenFile,
    /// Its time context (yearless dates placed before its modification).
    pub ctx: TimeContext,
    /// Its layout, the one the follower goes on with.
    pub layout: Layout,
    /// Device and inode, to tell it from its rotated copies.
    pub id: (u64, u64),
}

struct Opened {
    file: File,
    id: (u64, u64),
    pos: u64,
    /// The last bytes read, ending at `pos`: when they are no longer there,
    /// the file was truncated and written again past `pos` between polls.
    tail: Vec<u8>,
}

/// Most listings of the rotated files taken while looking for a stable one.
const MAX_LISTINGS: usize = 200;

/// How many of the last bytes read are checked for a rewrite.
const TAIL_CHECK: usize = 64;

/// Follows one path incrementally.
pub struct Follower {
    path: PathBuf,
    pending: Pending,
    open: Option<Opened>,
    /// The last file read to its end.
    last: Option<(u64, u64)>,
    /// When that file was last written, Unix ms.
    last_written_ms: Option<i64>,
    /// Rotated copies present when following began (shown in a backlog,
    /// or history): never read as new.
    baseline: Vec<(u64, u64)>,
}

impl Follower {
    /// Follows `path` from the start of the file it names, now or once it
    /// appears.
    pub fn new(path: &Path, zone: Zone) -> Follower {
        let mut follower = Follower {
            path: path.to_path_buf(),
            pending: Pending::new(zone),
            open: None,
            last: None,
            last_written_ms: None,
            baseline: Vec::new(),
        };
        follower.baseline = follower.rotated().iter().map(|f| f.id).collect();
        follower
    }

    /// Follows `path` from its current end, and returns the bytes before
    /// that point. The end is the last line end: the records before it are
    /// taken as whole (so `--lines N` shows N of them), an unfinished last
    /// line is followed. A missing file gives no snapshot and is waited for.
    /// `count_lines` counts the lines before the end, for line numbers.
    pub fn at_end(
        path: &Path,
        zone: &Zone,
        count_lines: bool,
    ) -> Result<(Follower, Option<Snapshot>), SourceError> {
        let mut follower = Follower::new(path, zone.clone());
        let Some(opened) = open_regular(path)? else {
            return Ok((follower, None));
        };
        let meta = opened.file.metadata().map_err(|e| io_error(path, e))?;
        let len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
        let modified = meta.modified().ok();
        let modified_ms = modified
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as i64);
        let ctx = TimeContext::new(zone.clone(), modified_ms.unwrap_or_else(timestamp::now_ms));
        let age = modified
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .unwrap_or(Duration::ZERO);
        let now = Instant::now();
        let last_bytes = now.checked_sub(age).unwrap_or(now);

        let whole = map(&opened.file, len, path)?;
        let data = whole.bytes();
        let layout = Layout::sniff(&data[..data.len().min(SNIFF_BYTES)], &ctx);
        let complete = memrchr(b'\n', data).map_or(0, |i| i + 1);
        let cut = complete;
        let head = &data[..cut.min(SNIFF_BYTES)];
        let layout = if cut < data.len().min(SNIFF_BYTES) {
            Layout::sniff(head, &ctx)
        } else {
            layout
        };
        let line = if count_lines {
            1 + bytecount::count(&data[..cut], b'\n') as u64
        } else {
            1
        };
        follower.pending = Pending::resume(zone.clone(), head, line, last_bytes);
        let tail = data[cut.saturating_sub(TAIL_CHECK)..cut].to_vec();
        drop(whole);
        let snapshot = Snapshot {
            file: OpenFile {
                path: path.to_path_buf(),
                data: map(&opened.file, cut, path)?,
                modified_ms,
                regular: true,
            },
            ctx,
            layout,
            id: opened.id,
        };
        follower.open = Some(Opened {
            pos: cut as u64,
            tail,
            ..opened
        });
        Ok((follower, Some(snapshot)))
    }

    /// The followed path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a file is open (the path named one when last looked at).
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Device and inode of the open file.
    pub fn id(&self) -> Option<(u64, u64)> {
        self.open.as_ref().map(|o| o.id)
    }

    /// When a held-back record becomes whole by silence (poll by then).
    pub fn deadline(&self) -> Option<Instant> {
        self.pending.deadline()
    }

    /// The record held back because more lines could still join it.
    pub fn held(&self) -> Option<Batch<'_>> {
        self.pending.held()
    }

    /// Records that the first `upto` bytes of the held record were shown.
    pub fn mark_shown(&mut self, upto: usize) {
        self.pending.mark_shown(upto);
    }

    /// Reads what is new and hands out whole records and changes, in
    /// order. Never blocks.
    pub fn poll(
        &mut self,
        now: Instant,
        out: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), SourceError> {
        // A rotation is followed by at most a few file switches per poll.
        for _ in 0..4 {
            if self.open.is_none() {
                match open_regular(&self.path)? {
                    Some(opened) => {
                        // Files that took the path and were rotated away
                        // while it was looked for.
                        let (skipped, deleted) = match self.last {
                            Some(last) => self.rotated_after(last, Some(opened.id)),
                            None => (self.rotated_new(opened.id), None),
                        };
                        if let Some(deleted) = deleted {
                            out(Event::Change(deleted));
                        }
                        self.read_whole(skipped, now, out)?;
                        self.open = Some(opened);
                        self.pending.restart();
                        out(Event::Change(Change::Appeared));
                    }
                    None => return Ok(()),
                }
            }
            self.check_truncation(now, out)?;
            self.read_new(now, out)?;
            let Some(id) = self.id() else { return Ok(()) };
            let change = match std::fs::metadata(&self.path) {
                Ok(meta) if (meta.dev(), meta.ino()) == id => None,
                Ok(_) => Some(Change::Replaced),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(Change::Gone),
                Err(_) => None,
            };
            let Some(change) = change else { break };
            // Bytes written just before the rename belong to the old file.
            self.read_new(now, out)?;
            self.pending
                .take(now, Release::All, &mut |b| out(Event::Records(b)));
            self.finish_file();
            self.open = None;
            // The file that has the path now, opened before looking for
            // files that took the path and were rotated away again since
            // the last look (renames go on meanwhile: files are told apart
            // by inode, not by name).
            let current = open_regular(&self.path)?;
            let (skipped, deleted) = self.rotated_after(id, current.as_ref().map(|c| c.id));
            if let Some(deleted) = deleted {
                out(Event::Change(deleted));
            }
            self.read_whole(skipped, now, out)?;
            out(Event::Change(change));
            if let Some(current) = current {
                self.open = Some(current);
                self.pending.restart();
            }
        }
        self.pending
            .take(now, Release::Records, &mut |b| out(Event::Records(b)));
        Ok(())
    }

    /// Reads `files` to their ends, one after the other, as whole files.
    fn read_whole(
        &mut self,
        files: Vec<Opened>,
        now: Instant,
        out: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), SourceError> {
        for file in files {
            self.open = Some(file);
            self.pending.restart();
            self.read_new(now, out)?;
            self.pending
                .take(now, Release::All, &mut |b| out(Event::Records(b)));
            self.finish_file();
            self.open = None;
        }
        Ok(())
    }

    /// The rotated copies of the path (`<file>.1`, `.2`…), opened, oldest
    /// first, as they were at one moment. A writer that keeps many files
    /// renames them one by one (`.n` to `.n+1`, from the oldest down), so a
    /// listing taken meanwhile can miss a file, or a name can name another
    /// file by the time it is opened: the listing is taken again until the
    /// names, and the file behind each, stay the same across the opening.
    fn rotated(&self) -> Vec<Opened> {
        let Some(base) = self.path.file_name().and_then(|n| n.to_str()) else {
            return Vec::new();
        };
        let dir = crate::source::dir_of(&self.path);
        let list = || -> Vec<PathBuf> {
            crate::source::rotated_set(dir, base)
                .into_iter()
                .filter(|p| p.file_name() != self.path.file_name())
                .collect()
        };
        let same_file = |path: &Path, id: (u64, u64)| {
            std::fs::symlink_metadata(path).is_ok_and(|m| (m.dev(), m.ino()) == id)
        };
        let mut names = list();
        let mut files = Vec::new();
        for attempt in 0..MAX_LISTINGS {
            files = names
                .iter()
                .filter_map(|p| open_regular(p).ok().flatten())
                .collect();
            let again = list();
            let stable = again == names
                && files.len() == names.len()
                && names.iter().zip(&files).all(|(p, f)| same_file(p, f.id));
            if stable {
                break;
            }
            names = again;
            if attempt > 4 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        files
    }

    /// The rotated copies that were not there when following began,
    /// oldest first, without the file `current`.
    fn rotated_new(&self, current: (u64, u64)) -> Vec<Opened> {
        let mut seen = self.baseline.clone();
        let mut files = self.rotated();
        if let Some(at) = files.iter().position(|f| f.id == current) {
            files.truncate(at);
        }
        files.retain(|f| {
            let fresh = !seen.contains(&f.id);
            seen.push(f.id);
            fresh
        });
        files
    }

    /// The rotated copies newer than the file `old`, oldest first, without
    /// the file `current`, and whether files between `old` and the oldest of
    /// them may have been deleted unread (`old` itself is gone: files are
    /// dropped oldest first, so every rotated copy left is newer).
    fn rotated_after(
        &self,
        old: (u64, u64),
        current: Option<(u64, u64)>,
    ) -> (Vec<Opened>, Option<Change>) {
        let mut files = self.rotated();
        let deleted = match files.iter().position(|f| f.id == old) {
            Some(at) => {
                files.drain(..=at);
                None
            }
            None => {
                files.retain(|f| !self.baseline.contains(&f.id));
                files.first().map(|oldest| Change::Deleted {
                    after_ms: self.last_written_ms,
                    before_ms: oldest
                        .file
                        .metadata()
                        .ok()
                        .and_then(|m| m.created().ok())
                        .and_then(unix_ms),
                })
            }
        };
        // `current` may have been rotated away too since it was opened:
        // what came after it is read after it.
        if let Some(at) = files.iter().position(|f| Some(f.id) == current) {
            files.truncate(at);
        }
        let mut seen = vec![old];
        files.retain(|f| {
            let fresh = !seen.contains(&f.id);
            seen.push(f.id);
            fresh
        });
        (files, deleted)
    }

    /// Notes that the open file was read to its end and is left.
    fn finish_file(&mut self) {
        if let Some(opened) = &self.open {
            self.last = Some(opened.id);
            self.last_written_ms = opened
                .file
                .metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(unix_ms);
        }
    }

    /// Hands out every whole line still held (when leaving).
    pub fn finish(&mut self, now: Instant, out: &mut dyn FnMut(Event<'_>)) {
        self.pending
            .take(now, Release::Lines, &mut |b| out(Event::Records(b)));
    }

    fn check_truncation(
        &mut self,
        now: Instant,
        out: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), SourceError> {
        let Some(opened) = self.open.as_mut() else {
            return Ok(());
        };
        let len = opened
            .file
            .metadata()
            .map_err(|e| io_error(&self.path, e))?
            .len();
        if len < opened.pos || !opened.tail_intact() {
            opened.pos = 0;
            opened.tail.clear();
            self.pending
                .take(now, Release::All, &mut |b| out(Event::Records(b)));
            self.pending.restart();
            out(Event::Change(Change::Truncated));
        }
        Ok(())
    }

    fn read_new(
        &mut self,
        now: Instant,
        out: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), SourceError> {
        let Some(opened) = self.open.as_mut() else {
            return Ok(());
        };
        let mut chunk = vec![0u8; 64 << 10];
        let mut step = 0usize;
        loop {
            let n = match opened.file.read_at(&mut chunk, opened.pos) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(&self.path, e)),
            };
            if n == 0 {
                return Ok(());
            }
            opened.pos += n as u64;
            opened.remember(&chunk[..n]);
            self.pending.push(&chunk[..n], now);
            step += n;
            if step >= READ_STEP {
                step = 0;
                self.pending
                    .take(now, Release::Records, &mut |b| out(Event::Records(b)));
            }
        }
    }
}

/// Opens `path` for following: `None` when it does not exist.
fn open_regular(path: &Path) -> Result<Option<Opened>, SourceError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path, e)),
    };
    let meta = file.metadata().map_err(|e| io_error(path, e))?;
    if meta.is_dir() {
        return Err(SourceError::IsDirectory(path.to_path_buf()));
    }
    Ok(Some(Opened {
        file,
        id: (meta.dev(), meta.ino()),
        pos: 0,
        tail: Vec::new(),
    }))
}

impl Opened {
    fn remember(&mut self, read: &[u8]) {
        if read.len() >= TAIL_CHECK {
            self.tail.clear();
            self.tail
                .extend_from_slice(&read[read.len() - TAIL_CHECK..]);
        } else {
            self.tail.extend_from_slice(read);
            let extra = self.tail.len().saturating_sub(TAIL_CHECK);
            self.tail.drain(..extra);
        }
    }

    /// Whether the bytes before `pos` are still those that were read.
    fn tail_intact(&self) -> bool {
        if self.tail.is_empty() {
            return true;
        }
        let mut now = [0u8; TAIL_CHECK];
        let now = &mut now[..self.tail.len()];
        let at = self.pos - self.tail.len() as u64;
        match self.file.read_at(now, at) {
            Ok(n) => n < now.len() || now[..] == self.tail[..],
            Err(_) => true,
        }
    }
}

/// Maps the first `len` bytes of `file` (read when mapping fails).
fn map(file: &File, len: usize, path: &Path) -> Result<FileBytes, SourceError> {
    if len == 0 {
        return Ok(FileBytes::Owned(Vec::new()));
    }
    match MappedFile::map(file, len) {
        Ok(mapped) => Ok(FileBytes::Mapped(mapped)),
        Err(_) => {
            let mut buf = vec![0u8; len];
            let mut at = 0;
            while at < len {
                match file.read_at(&mut buf[at..], at as u64) {
                    Ok(0) => break,
                    Ok(n) => at += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(io_error(path, e)),
                }
            }
            buf.truncate(at);
            Ok(FileBytes::Owned(buf))
        }
    }
}

fn unix_ms(time: SystemTime) -> Option<i64> {
    let ms = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?
        .as_millis();
    i64::try_from(ms).ok()
}

fn io_error(path: &Path, err: std::io::Error) -> SourceError {
    SourceError::io(path, err)
}

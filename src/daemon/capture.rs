//! Output capture: one thread per running process reads its stdout and
//! stderr pipes (with `poll`), splits lines and writes records.
//!
//! Nothing is dropped: the thread writes what it read before reading more,
//! so a child that prints faster than the disk takes is slowed down by its
//! full pipe, never losing lines. A partial last line is written at end of
//! stream or after [`SILENCE`] without new bytes on that stream (the rest of
//! that line then comes as a `cont` record); a line longer than
//! [`MAX_LINE`] is written in pieces, the later ones marked `cont`.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::process::{ChildStderr, ChildStdout};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, poll};

use super::fleet::Tap;
use super::logfile::{MAX_LINE, ProcessLog, Record, Src};
use super::now_ms;
use crate::classify::Classifier;

/// Silence after which a partial line is written.
pub const SILENCE: Duration = Duration::from_secs(1);

const READ_SIZE: usize = 64 * 1024;

struct Stream {
    file: File,
    src: Src,
    pending: Vec<u8>,
    cont_next: bool,
    open: bool,
    last_data: Instant,
}

/// What the capture thread needs.
pub struct Capture {
    /// The child's stdout pipe.
    pub stdout: ChildStdout,
    /// The child's stderr pipe.
    pub stderr: ChildStderr,
    /// Where records go.
    pub log: Arc<Mutex<ProcessLog>>,
    /// Pid written in every record.
    pub pid: u32,
    /// Dropped when the thread ends (both pipes at end of stream).
    pub done: mpsc::Sender<()>,
    /// Counts and exports the records, when metrics or export are on.
    pub tap: Option<Tap>,
}

/// Reports capture write failures (to the daemon log).
pub type ErrorHook = Box<dyn Fn(&io::Error) + Send>;

impl Capture {
    /// Reads until both pipes are closed. Write errors are passed to
    /// `on_error` (once per kind of trouble) and reading goes on.
    pub fn run(self, classifier: &Classifier, on_error: ErrorHook) {
        let Capture {
            stdout,
            stderr,
            log,
            pid,
            done,
            tap,
        } = self;
        let now = Instant::now();
        let mut streams = [
            Stream {
                file: File::from(OwnedFd::from(stdout)),
                src: Src::Stdout,
                pending: Vec::new(),
                cont_next: false,
                open: true,
                last_data: now,
            },
            Stream {
                file: File::from(OwnedFd::from(stderr)),
                src: Src::Stderr,
                pending: Vec::new(),
                cont_next: false,
                open: true,
                last_data: now,
            },
        ];
        let raw = log.lock().map(|log| log.is_raw()).unwrap_or(false);
        let mut writer = Writer {
            log: &log,
            classifier,
            pid,
            raw,
            failed: false,
            on_error,
            tap,
        };
        let mut buf = vec![0u8; READ_SIZE];
        while streams.iter().any(|s| s.open) {
            let now = Instant::now();
            let timeout = streams
                .iter()
                .filter(|s| s.open && !s.pending.is_empty())
                .map(|s| (s.last_data + SILENCE).saturating_duration_since(now))
                .min();
            let mut ready = [false; 2];
            {
                let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(2);
                let mut index = Vec::with_capacity(2);
                for (i, stream) in streams.iter().enumerate() {
                    if stream.open {
                        fds.push(PollFd::new(&stream.file, PollFlags::IN));
                        index.push(i);
                    }
                }
                let timeout = timeout.map(|d| rustix::event::Timespec {
                    tv_sec: d.as_secs() as i64,
                    tv_nsec: d.subsec_nanos().into(),
                });
                match poll(&mut fds, timeout.as_ref()) {
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(err) => {
                        writer.report(&io::Error::from(err));
                        // Fall back to blocking reads on every open stream.
                        for i in &index {
                            ready[*i] = true;
                        }
                    }
                }
                for (fd, i) in fds.iter().zip(&index) {
                    if !fd.revents().is_empty() {
                        ready[*i] = true;
                    }
                }
            }
            let mut drained = true;
            for (i, stream) in streams.iter_mut().enumerate() {
                if !ready[i] {
                    continue;
                }
                match stream.file.read(&mut buf) {
                    Ok(0) => {
                        stream.open = false;
                        writer.finish_pending(stream);
                    }
                    Ok(n) => {
                        stream.last_data = Instant::now();
                        if n == buf.len() {
                            drained = false;
                        }
                        writer.chunk(stream, &buf[..n]);
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => {
                        writer.report(&err);
                        stream.open = false;
                        writer.finish_pending(stream);
                    }
                }
            }
            let now = Instant::now();
            for stream in streams.iter_mut() {
                if stream.open
                    && !stream.pending.is_empty()
                    && now.duration_since(stream.last_data) >= SILENCE
                {
                    writer.finish_pending(stream);
                    stream.cont_next = true;
                }
            }
            if drained {
                writer.flush();
            }
        }
        writer.flush();
        drop(done);
    }
}

struct Writer<'a> {
    log: &'a Mutex<ProcessLog>,
    classifier: &'a Classifier,
    pid: u32,
    raw: bool,
    failed: bool,
    on_error: ErrorHook,
    tap: Option<Tap>,
}

impl Writer<'_> {
    fn report(&mut self, err: &io::Error) {
        if !self.failed {
            (self.on_error)(err);
            self.failed = true;
        }
    }

    fn with_log(&mut self, f: impl FnOnce(&mut ProcessLog) -> io::Result<()>) {
        let result = match self.log.lock() {
            Ok(mut log) => f(&mut log),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        };
        match result {
            Ok(()) => self.failed = false,
            Err(err) => self.report(&err),
        }
    }

    /// Writes output records, after handing them to the tap.
    fn write_records(&mut self, records: &[Record<'_>]) {
        if let Some(tap) = &self.tap {
            tap.records(records);
        }
        self.with_log(|log| log.write(records));
    }

    fn flush(&mut self) {
        self.with_log(|log| log.flush());
    }

    fn record<'b>(&self, src: Src, ts: u64, msg: &'b [u8], cont: bool) -> Record<'b> {
        Record {
            ts,
            lvl: self.classifier.classify_line(msg),
            pid: self.pid,
            msg,
            src,
            cont,
            event: None,
        }
    }

    /// Handles bytes just read from `stream`.
    fn chunk(&mut self, stream: &mut Stream, bytes: &[u8]) {
        if self.raw {
            let src = stream.src;
            if let Some(tap) = &self.tap {
                tap.raw_bytes(bytes.len());
            }
            self.with_log(|log| log.write_raw(src, bytes));
            return;
        }
        let ts = now_ms();
        let src = stream.src;
        let mut records: Vec<Record<'_>> = Vec::new();
        // The pending bytes complete with the first line of the chunk; that
        // record is written first, on its own, as it borrows `pending`.
        let mut rest = bytes;
        if !stream.pending.is_empty() {
            match memchr::memchr(b'\n', rest) {
                Some(end) => {
                    stream.pending.extend_from_slice(&rest[..end]);
                    rest = &rest[end + 1..];
                    let line = std::mem::take(&mut stream.pending);
                    let cont = std::mem::take(&mut stream.cont_next);
                    let mut first = Vec::new();
                    self.split_line(src, ts, &line, cont, &mut first);
                    self.write_records(&first);
                    stream.pending = line;
                    stream.pending.clear();
                }
                None => {
                    stream.pending.extend_from_slice(rest);
                    self.spill_long_pending(stream, ts);
                    return;
                }
            }
        }
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', rest) {
            let cont = std::mem::take(&mut stream.cont_next);
            self.split_line(src, ts, &rest[start..end], cont, &mut records);
            start = end + 1;
        }
        self.write_records(&records);
        if start < rest.len() {
            stream.pending.extend_from_slice(&rest[start..]);
            self.spill_long_pending(stream, ts);
        }
    }

    /// Pushes the records for one complete line, split if too long.
    fn split_line<'b>(
        &self,
        src: Src,
        ts: u64,
        mut line: &'b [u8],
        mut cont: bool,
        out: &mut Vec<Record<'b>>,
    ) {
        while line.len() > MAX_LINE {
            let cut = char_boundary(line, MAX_LINE);
            out.push(self.record(src, ts, &line[..cut], cont));
            line = &line[cut..];
            cont = true;
        }
        out.push(self.record(src, ts, line, cont));
    }

    /// Writes full pieces of an over-long pending line, keeping the rest.
    fn spill_long_pending(&mut self, stream: &mut Stream, ts: u64) {
        if stream.pending.len() < MAX_LINE {
            return;
        }
        let pending = std::mem::take(&mut stream.pending);
        let mut rest = &pending[..];
        let mut records = Vec::new();
        while rest.len() >= MAX_LINE {
            let cut = char_boundary(rest, MAX_LINE);
            let cont = std::mem::replace(&mut stream.cont_next, true);
            records.push(self.record(stream.src, ts, &rest[..cut], cont));
            rest = &rest[cut..];
        }
        self.write_records(&records);
        stream.pending = rest.to_vec();
    }

    /// Writes the partial line of `stream`, if any.
    fn finish_pending(&mut self, stream: &mut Stream) {
        if stream.pending.is_empty() {
            return;
        }
        let line = std::mem::take(&mut stream.pending);
        let cont = std::mem::take(&mut stream.cont_next);
        let mut records = Vec::new();
        self.split_line(stream.src, now_ms(), &line, cont, &mut records);
        self.write_records(&records);
    }
}

/// A cut point at most `max` bytes into `bytes`, moved back (by at most 3
/// bytes) so as not to split a UTF-8 sequence.
fn char_boundary(bytes: &[u8], max: usize) -> usize {
    let mut cut = max.min(bytes.len());
    let floor = cut.saturating_sub(3);
    while cut > floor && cut < bytes.len() && (bytes[cut] & 0xC0) == 0x80 {
        cut -= 1;
    }
    if cut == floor && cut < bytes.len() && (bytes[cut] & 0xC0) == 0x80 {
        // Not UTF-8 text: cut anywhere.
        return max.min(bytes.len());
    }
    if cut == 0 { max.min(bytes.len()) } else { cut }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        assert_eq!(char_boundary(b"abcdef", 4), 4);
        assert_eq!(char_boundary("aé".as_bytes(), 2), 1);
        assert_eq!(char_boundary(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80], 5), 5);
    }
}

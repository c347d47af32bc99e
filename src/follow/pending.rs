//! The incremental framing core: bytes of a growing source go in as they
//! are read, whole records come out as soon as they are known to be whole.
//!
//! A line is whole once its line end is written. A record is whole once the
//! next record begins, or when no line can continue it (untimed layouts,
//! JSON lines), or after [`SETTLE`] without new bytes — a stack trace is
//! written in pieces, and its lines belong to the record above them. A JSON
//! object written over several lines is not whole before it closes (or
//! [`SETTLE`] passes), whatever layout its first lines suggested.

use std::time::{Duration, Instant};

use memchr::memrchr;

use crate::frame::{self, Layout, SNIFF_BYTES};
use crate::timestamp::{self, TimeContext, Zone};

/// A record that later lines could still continue is taken as complete
/// after this long without new bytes.
pub const SETTLE: Duration = Duration::from_secs(1);

/// Bytes without any line end are handed out as one record past this size,
/// so a writer that never ends its line cannot grow memory without bound.
pub const MAX_PARTIAL: usize = 1 << 20;

/// Longest JSON object written over several lines that is waited for: an
/// object still open after this many bytes is taken as lines of text.
pub const MAX_OPEN_OBJECT: usize = 64 << 10;

/// Lines of the file's head after which the layout is no longer re-learned.
const SNIFF_LINES: usize = 1000;

/// How much of the pending bytes to hand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Whole records only (the source may still grow).
    Records,
    /// Every whole line: the last record too, even if it could go on
    /// (leaving early, on Ctrl-C).
    Lines,
    /// Everything, an unfinished last line included: the source has ended
    /// (rotated away, truncated, end of a stream).
    All,
}

/// Whole records of one source, ready for the query and the printer.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// The records' bytes: the first record starts at 0, the last ends at
    /// the end.
    pub data: &'a [u8],
    /// The source's layout.
    pub layout: &'a Layout,
    /// Time zone and reference date for the records' times.
    pub ctx: &'a TimeContext,
    /// 1-based line number of the first byte of `data` in its file.
    pub first_line: u64,
    /// Time of the last timed record before `data`, for records at its
    /// start that have none of their own.
    pub time_floor: Option<i64>,
    /// How many bytes at the start of `data` were already shown (see
    /// [`Pending::mark_shown`]): the first record's beginning, printed
    /// before it was known to be whole.
    pub shown: usize,
}

/// Bytes read from a source but not yet handed out as records.
#[derive(Debug)]
pub struct Pending {
    buf: Vec<u8>,
    line: u64,
    layout: Option<Layout>,
    /// The first bytes of the source, kept until the layout has been
    /// learned from enough lines.
    head: Vec<u8>,
    head_lines: usize,
    sniffed_lines: usize,
    head_done: bool,
    zone: Zone,
    ctx: TimeContext,
    ctx_at: Instant,
    last_bytes: Instant,
    held: bool,
    shown: usize,
    time_floor: Option<i64>,
    /// Whether a JSON object was held until it closed: the layout is then
    /// learned again, so the object is read as one record.
    open_object_seen: bool,
}

impl Pending {
    /// An empty source in `zone`; its layout is learned from its first
    /// lines.
    pub fn new(zone: Zone) -> Pending {
        let now = Instant::now();
        Pending {
            buf: Vec::new(),
            line: 1,
            layout: None,
            head: Vec::new(),
            head_lines: 0,
            sniffed_lines: 0,
            head_done: false,
            ctx: TimeContext::new(zone.clone(), timestamp::now_ms()),
            zone,
            ctx_at: now,
            last_bytes: now,
            held: false,
            shown: 0,
            time_floor: None,
            open_object_seen: false,
        }
    }

    /// A source whose earlier bytes were read elsewhere: `head` is its
    /// beginning (for the layout), `line` the line number where reading
    /// goes on, `last_bytes` when it last grew.
    pub fn resume(zone: Zone, head: &[u8], line: u64, last_bytes: Instant) -> Pending {
        let mut pending = Pending::new(zone);
        pending.line = line;
        pending.last_bytes = last_bytes;
        pending.add_head(head);
        pending.learn_layout();
        pending
    }

    /// The layout learned so far.
    pub fn layout(&self) -> Option<&Layout> {
        self.layout.as_ref()
    }

    /// Adds bytes read at `now`.
    pub fn push(&mut self, bytes: &[u8], now: Instant) {
        if bytes.is_empty() {
            return;
        }
        self.add_head(bytes);
        self.buf.extend_from_slice(bytes);
        self.last_bytes = now;
    }

    /// Whether bytes are waiting.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// A new file takes over at its first byte (after a rotation or a
    /// truncation). Hand out everything first ([`Release::All`]).
    pub fn restart(&mut self) {
        debug_assert!(self.buf.is_empty());
        self.buf.clear();
        self.line = 1;
        self.time_floor = None;
        self.held = false;
        self.shown = 0;
    }

    /// The record held back because more lines could still join it (its
    /// whole lines), if one is held after the last [`Pending::take`].
    pub fn held(&self) -> Option<Batch<'_>> {
        if !self.held {
            return None;
        }
        let layout = self.layout.as_ref()?;
        let complete = memrchr(b'\n', &self.buf).map_or(0, |i| i + 1);
        if complete == 0 || layout.record_start(&self.buf, complete - 1, 0) != 0 {
            return None;
        }
        Some(Batch {
            data: &self.buf[..complete],
            layout,
            ctx: &self.ctx,
            first_line: self.line,
            time_floor: self.time_floor,
            shown: self.shown,
        })
    }

    /// Records that the first `upto` bytes of the held record were shown
    /// already; later batches say so in [`Batch::shown`].
    pub fn mark_shown(&mut self, upto: usize) {
        self.shown = upto.min(self.buf.len());
    }

    /// When a held-back record becomes complete by silence, if one is held.
    pub fn deadline(&self) -> Option<Instant> {
        self.held.then(|| self.last_bytes + SETTLE)
    }

    /// Hands the releasable records to `out`, at most once per call.
    /// Returns whether anything was handed out.
    pub fn take(&mut self, now: Instant, release: Release, out: &mut dyn FnMut(Batch<'_>)) -> bool {
        if self.buf.is_empty() {
            self.held = false;
            return false;
        }
        let complete = memrchr(b'\n', &self.buf).map_or(0, |i| i + 1);
        self.learn_layout();
        let end = match release {
            Release::All => self.buf.len(),
            _ if complete == 0 => {
                self.held = false;
                if self.buf.len() >= MAX_PARTIAL {
                    self.buf.len()
                } else {
                    return false;
                }
            }
            Release::Lines => complete,
            Release::Records => {
                let layout = self.layout.get_or_insert_with(Layout::default);
                let settled = now.saturating_duration_since(self.last_bytes) >= SETTLE;
                let end = if settled || !layout.may_continue(&self.buf, complete) {
                    complete
                } else {
                    layout.record_start(&self.buf, complete - 1, 0)
                };
                match open_object(&self.buf[..complete], end) {
                    Some(start) if !settled => {
                        self.open_object_seen = true;
                        start
                    }
                    _ => end,
                }
            }
        };
        self.held = end < complete;
        if end == 0 {
            return false;
        }
        if now.saturating_duration_since(self.ctx_at) >= Duration::from_secs(60) {
            self.ctx = TimeContext::new(self.zone.clone(), timestamp::now_ms());
            self.ctx_at = now;
        }
        let layout = self.layout.get_or_insert_with(Layout::default);
        let data = &self.buf[..end];
        out(Batch {
            data,
            layout,
            ctx: &self.ctx,
            first_line: self.line,
            time_floor: self.time_floor,
            shown: self.shown.min(end),
        });
        self.shown = 0;
        self.line += bytecount::count(data, b'\n') as u64;
        if layout.timed {
            self.time_floor = layout.time_before(data, end, &self.ctx).or(self.time_floor);
        }
        self.buf.drain(..end);
        true
    }

    fn add_head(&mut self, bytes: &[u8]) {
        if self.head_done {
            return;
        }
        let room = SNIFF_BYTES - self.head.len();
        let bytes = &bytes[..bytes.len().min(room)];
        self.head.extend_from_slice(bytes);
        self.head_lines += bytecount::count(bytes, b'\n');
    }

    /// Learns the layout again each time the head has doubled in lines,
    /// until it holds enough of them.
    fn learn_layout(&mut self) {
        if self.head_done {
            return;
        }
        let enough = self.head_lines >= SNIFF_LINES || self.head.len() >= SNIFF_BYTES;
        let unlearned_object =
            self.open_object_seen && self.layout.as_ref().is_some_and(|l| !l.pretty_json);
        if unlearned_object && self.head_lines > self.sniffed_lines {
            self.sniffed_lines = 0;
        }
        if enough {
            self.layout = Some(Layout::sniff(&self.head, &self.ctx));
        } else if self.head_lines > 0 && self.head_lines >= 2 * self.sniffed_lines {
            let whole = memrchr(b'\n', &self.head).map_or(0, |i| i + 1);
            self.layout = Some(Layout::sniff(&self.head[..whole], &self.ctx));
            self.sniffed_lines = self.head_lines;
        }
        if enough {
            self.head_done = true;
            self.head = Vec::new();
        }
    }
}

/// The start of the first JSON object in `data` (whole lines) that begins
/// on a line before `end` and is still open at the end of `data`; objects
/// that close, or are open past [`MAX_OPEN_OBJECT`], are passed over.
fn open_object(data: &[u8], end: usize) -> Option<usize> {
    let mut at = 0;
    while at < end {
        let next = frame::next_line(data, at);
        let line = frame::trim_newline(&data[at..next]);
        let opens = line.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
            && line.trim_ascii_end().last() != Some(&b'}');
        if !opens {
            at = next;
            continue;
        }
        let window = &data[at..data.len().min(at + MAX_OPEN_OBJECT)];
        match frame::json::parse_prefix(window) {
            Some((_, len)) => at = frame::next_line(data, at + len).max(next),
            None if data.len() - at < MAX_OPEN_OBJECT && is_open_object(window) => {
                return Some(at);
            }
            None => at = next,
        }
    }
    None
}

/// Whether `text` starts with a JSON object that is not closed yet: it is
/// valid JSON as far as it goes, and ends before its closing brace.
pub fn is_open_object(text: &[u8]) -> bool {
    if text.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return false;
    }
    let mut values =
        serde_json::Deserializer::from_slice(text).into_iter::<serde::de::IgnoredAny>();
    matches!(values.next(), Some(Err(e)) if e.is_eof())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(p: &mut Pending, now: Instant, release: Release) -> Vec<String> {
        let mut got = Vec::new();
        p.take(now, release, &mut |b| {
            got.push(String::from_utf8_lossy(b.data).into_owned());
        });
        got
    }

    #[test]
    fn partial_lines_wait_for_their_end() {
        let mut p = Pending::new(Zone::utc());
        let t = Instant::now();
        p.push(b"plain one\nplain t", t);
        assert_eq!(collect(&mut p, t, Release::Records), ["plain one\n"]);
        assert!(collect(&mut p, t + SETTLE * 5, Release::Records).is_empty());
        p.push(b"wo\n", t);
        assert_eq!(collect(&mut p, t, Release::Records), ["plain two\n"]);
        p.push(b"tail", t);
        assert_eq!(collect(&mut p, t, Release::All), ["tail"]);
    }

    #[test]
    fn a_timed_record_waits_for_the_next_or_for_silence() {
        let mut p = Pending::new(Zone::utc());
        let t = Instant::now();
        p.push(b"2026-01-10T00:00:01Z ERROR boom\n", t);
        assert!(collect(&mut p, t, Release::Records).is_empty());
        assert_eq!(p.deadline(), Some(t + SETTLE));
        p.push(b"\tat a.b(C.java:1)\n", t);
        p.push(b"2026-01-10T00:00:02Z INFO next\n", t);
        assert_eq!(
            collect(&mut p, t, Release::Records),
            ["2026-01-10T00:00:01Z ERROR boom\n\tat a.b(C.java:1)\n"]
        );
        assert_eq!(
            collect(&mut p, t + SETTLE, Release::Records),
            ["2026-01-10T00:00:02Z INFO next\n"]
        );
        assert_eq!(p.deadline(), None);
    }

    #[test]
    fn json_lines_are_whole_at_once() {
        let mut p = Pending::new(Zone::utc());
        let t = Instant::now();
        p.push(
            b"{\"ts\":1768003200000,\"lvl\":\"info\",\"msg\":\"a\"}\n",
            t,
        );
        assert_eq!(collect(&mut p, t, Release::Records).len(), 1);
        assert_eq!(p.deadline(), None);
    }
}

//! The framer: turns a buffer of log bytes into [`Record`]s without copying.
//!
//! A record is an entry as a person reads it: in a file whose entries
//! carry timestamps, a line with a timestamp where the file puts it starts
//! an entry and every line without one belongs to the entry above — a
//! stack trace of any language, a Go goroutine dump, an XML or JSON body, a
//! MySQL slow-log entry. A file with no timestamps is one record per line;
//! one with a few (under one line in fifty, and not on its first line)
//! joins only lines shaped like a continuation (indented, `at …`,
//! `Caused by:`, `Traceback`, an exception line). Structured records are
//! JSON objects — one per line, or pretty-printed over several lines — and
//! logfmt lines; their fields are read by [`json`] and [`logfmt`].
//!
//! The rules that decide where records start are functions of the line,
//! the line before it and the file's [`Layout`] only, so any position in a
//! file can be aligned to a record boundary on its own — which is what lets
//! the engine cut a file into chunks and frame them in parallel with
//! results identical to a single sequential pass.
//!
//! The [`Layout`] is sniffed once per file from its first lines: the
//! timestamp format and position, whether levels are written as letters
//! (logcat), whether JSON lines use numeric levels (pino, bunyan), whether
//! records are JSON objects or logfmt lines.

pub mod json;
pub mod logfmt;

use memchr::{memchr, memrchr};

use crate::classify::{HeaderStyle, explicit_level, http_request_len};
use crate::level::Level;
use crate::normalize::HeaderLayout;
use crate::sgr;
use crate::timestamp::{self, Anchor, TimeContext, TsFormat, TsLayout, parse_iso_exact};

use json::{JsonRecord, LevelKind, Scalar};

/// How many lines, at most, the layout is learned from.
const SNIFF_LINES: usize = 1000;
/// Longest pretty-printed JSON object the layout is learned from.
const MAX_SNIFFED_OBJECT: usize = 64 << 10;
/// How many bytes, at most, the layout is learned from.
pub const SNIFF_BYTES: usize = 1 << 20;

/// What the framer learned about a file from its first lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layout {
    /// Timestamp format and position of plain-text lines.
    pub ts: Option<TsLayout>,
    /// Whether plain-text levels may be single letters.
    pub header: HeaderStyle,
    /// Whether JSON lines use numeric levels (`"level":30`).
    pub numeric_levels: bool,
    /// Whether most sampled lines are JSON objects.
    pub json: bool,
    /// Whether records carry times (plain or JSON); only then do lines
    /// without a timestamp continue the record above them.
    pub timed: bool,
    /// Where the message starts in a plain line, after the header columns.
    pub header_columns: HeaderLayout,
    /// Whether entries are told apart by their timestamps: a line without
    /// one where the file puts it continues the entry above.
    pub entries: bool,
    /// The shape of the file's timestamps, when they have a fixed one: the
    /// cheap test of whether a line starts an entry.
    pub ts_shape: Option<TsShape>,
    /// Whether records are JSON objects written over several lines.
    pub pretty_json: bool,
    /// Whether most sampled lines are logfmt.
    pub logfmt: bool,
    /// The header an application writes inside the message field of
    /// structured records (captured output: its own time, level, logger),
    /// learned like a plain file's header columns. Boxed, so that a layout
    /// and the opened inputs that carry one stay small.
    pub msg_header: Box<HeaderLayout>,
}

impl Layout {
    /// Learns the layout of a file from the start of its bytes.
    pub fn sniff(data: &[u8], ctx: &TimeContext) -> Layout {
        let head = &data[..data.len().min(SNIFF_BYTES)];
        let mut records = 0;
        let mut json_records = 0;
        let mut multi_line_json = 0;
        let mut logfmt_lines = 0;
        let mut structured_timed = false;
        let mut numeric_levels = false;
        let mut plain: Vec<std::borrow::Cow<'_, [u8]>> = Vec::new();
        let mut messages: Vec<&[u8]> = Vec::new();
        let mut pos = 0;
        while pos < head.len() && records < SNIFF_LINES {
            let end = next_line(head, pos);
            let line = trim_newline(&head[pos..end]);
            let at = pos;
            pos = end;
            if line.is_empty() {
                continue;
            }
            records += 1;
            let structured = match json_line(line) {
                Some(rec) => Some(rec),
                None if is_json_start(line) => {
                    // An object spread over several lines (looked for in
                    // a bounded window, so sniffing stays linear).
                    let window = &head[at..head.len().min(at + MAX_SNIFFED_OBJECT)];
                    json::parse_prefix(window).map(|(rec, len)| {
                        multi_line_json += 1;
                        pos = next_line(head, at + len);
                        rec
                    })
                }
                None => None,
            };
            if let Some(rec) = structured {
                if let Some(Scalar::Str { raw, .. }) = rec.msg {
                    messages.push(raw);
                }
                json_records += 1;
                structured_timed |= rec.ts.is_some();
                numeric_levels |= matches!(rec.level, Some(Scalar::Num(_)));
                continue;
            }
            if let Some(rec) = logfmt::parse(line) {
                logfmt_lines += 1;
                structured_timed |= rec.ts.is_some();
                continue;
            }
            // Lines are learned from without their colour codes, as
            // they are read.
            plain.push(sgr::strip(line));
        }
        let plain: Vec<&[u8]> = plain.iter().map(|line| &**line).collect();
        let ts = TsLayout::sniff(plain.iter().copied(), ctx);
        let header_columns = HeaderLayout::learn(plain.iter().copied());
        let header = match ts {
            Some(ts) => HeaderStyle::sniff(
                plain
                    .iter()
                    .filter_map(|line| ts.parse(line, ctx).map(|found| &line[found.end..])),
            ),
            None => HeaderStyle::Words,
        };
        // Entries are told apart by their timestamps when the file is a log
        // that writes them: on its first line, or on a fair share of lines.
        let ts_shape = ts.and_then(|ts| TsShape::learn(&plain, ts, ctx));
        let entries = ts.is_some_and(|ts| {
            let timed = plain.iter().filter(|l| ts.parse(l, ctx).is_some()).count();
            let first = plain.first().is_some_and(|l| ts.parse(l, ctx).is_some());
            timed > 0 && (first || timed * 50 >= plain.len())
        });
        let json = json_records * 2 > records;
        Layout {
            ts,
            header,
            numeric_levels,
            json,
            timed: ts.is_some() || structured_timed,
            header_columns,
            entries,
            ts_shape,
            pretty_json: json && multi_line_json > 0,
            logfmt: !json && logfmt_lines * 2 > records,
            msg_header: Box::new(HeaderLayout::learn(messages)),
        }
    }

    /// Whether a line that begins at `start` in `data` begins a record.
    #[inline]
    pub fn starts_record(&self, data: &[u8], start: usize) -> bool {
        if start == 0 || !(self.timed || self.pretty_json) {
            return true;
        }
        let line = &data[start..];
        // The common case first: a line that opens with the file's
        // timestamp, digit first (so it is no continuation line).
        if self.entries
            && let Some(shape) = self.ts_shape
            && shape.anchor == Anchor::Start
            && shape.classes[0] == b'0'
            && shape.matches(line)
        {
            return true;
        }
        self.starts_record_slow(data, start)
    }

    /// [`Layout::starts_record`] for a line that does not open with the
    /// file's timestamp.
    #[inline(never)]
    fn starts_record_slow(&self, data: &[u8], start: usize) -> bool {
        let line = &data[start..];
        if is_continuation(line) {
            // A JSON line is complete in itself: nothing continues it.
            return is_complete_json_line(prev_line(data, start));
        }
        match self.ts {
            Some(ts) if self.entries => {
                if self.ts_shape.is_some_and(|shape| shape.matches(line)) {
                    return true;
                }
                let line = &line[..memchr(b'\n', line).unwrap_or(line.len())];
                starts_entry(line, ts)
                    || (is_directive(line) && !is_directive(prev_line(data, start)))
            }
            _ => true,
        }
    }

    /// Whether a line written after `data[..end]` (where `end` is a line
    /// start) could still continue the record above it. Only then is the
    /// last record of a growing file unfinished until the next one begins.
    #[inline]
    pub fn may_continue(&self, data: &[u8], end: usize) -> bool {
        if !(self.timed || self.pretty_json) || end == 0 {
            return false;
        }
        !is_complete_json_line(prev_line(data, end))
    }

    /// The first record start at or after `pos` (a byte offset, not
    /// necessarily a line start), or `data.len()`.
    pub fn align(&self, data: &[u8], pos: usize) -> usize {
        if pos == 0 {
            return 0;
        }
        let mut start = match memchr(b'\n', &data[pos - 1..]) {
            Some(i) => pos + i,
            None => return data.len(),
        };
        while start < data.len() && !self.starts_record(data, start) {
            start = next_line(data, start);
        }
        start
    }

    /// The start of the record that holds byte `pos`, not before `floor`
    /// (which must be a record start).
    pub fn record_start(&self, data: &[u8], pos: usize, floor: usize) -> usize {
        let mut start = memrchr(b'\n', &data[floor..pos]).map_or(floor, |i| floor + i + 1);
        while start > floor && !self.starts_record(data, start) {
            start = memrchr(b'\n', &data[floor..start - 1]).map_or(floor, |i| floor + i + 1);
        }
        start
    }

    /// The end of the record that starts at `start` (just after its last
    /// newline, or `limit`), not after `limit` (a record boundary).
    #[inline]
    pub fn record_end(&self, data: &[u8], start: usize, limit: usize) -> usize {
        self.record_extent(data, start, limit).0
    }

    /// [`Layout::record_end`], and whether the record is a single line.
    #[inline]
    pub fn record_extent(&self, data: &[u8], start: usize, limit: usize) -> (usize, bool) {
        let mut end = next_line(data, start).min(limit);
        let mut single = true;
        while end < limit && !self.starts_record(data, end) {
            end = next_line(data, end).min(limit);
            single = false;
        }
        (end, single)
    }

    /// Reads the record spanning `data[start..end]`.
    #[inline]
    pub fn read<'a>(
        &self,
        data: &'a [u8],
        start: usize,
        end: usize,
        ctx: &TimeContext,
    ) -> Record<'a> {
        self.read_extent(data, start, end, false, ctx)
    }

    /// [`Layout::read`] for a record whose extent is known: `single_line`
    /// says it holds no newline before its last byte, which spares a search.
    pub fn read_extent<'a>(
        &self,
        data: &'a [u8],
        start: usize,
        end: usize,
        single_line: bool,
        ctx: &TimeContext,
    ) -> Record<'a> {
        let raw = &data[start..end];
        let text = trim_newline(raw);
        let first_end = if single_line {
            text.len()
        } else {
            memchr(b'\n', text).unwrap_or(text.len())
        };
        let first = trim_cr(&text[..first_end]);
        let first_len = first.len();
        let structured = match json_line(first) {
            Some(rec) => Some(rec),
            // A JSON object spread over the record's lines.
            None if first_end < text.len() && is_json_start(first) => json::parse(text),
            None if self.logfmt => logfmt::parse(first),
            None => None,
        };
        if let Some(rec) = structured {
            let ts = record_time(&rec, ctx);
            // The application's own level, written in its message header,
            // wins over the level the record was stored with.
            let explicit = self
                .msg_header
                .level(rec.msg.map_or(&[][..], |m| m.raw()))
                .or_else(|| rec.level.and_then(|v| self.json_level(v, rec.level_kind)));
            return Record {
                offset: start,
                len: raw.len(),
                text,
                ts,
                explicit,
                json: Some(rec),
                head_end: 0,
                first_len,
                message_start: 0,
            };
        }
        let header = if sgr::has_escape(first) {
            // Colour codes around or inside the header (`ESC[2m2026-…`):
            // read it without them, then point back into the line.
            let clean = sgr::strip(first);
            let header = self.header_of(&clean, ctx);
            let raw_at = |k: usize| if k == 0 { 0 } else { sgr::raw_offset(first, k) };
            Header {
                ts: header.ts,
                head_end: raw_at(header.head_end),
                message_start: raw_at(header.message_start),
                explicit: header.explicit,
            }
        } else {
            self.header_of(first, ctx)
        };
        Record {
            offset: start,
            len: raw.len(),
            text,
            ts: header.ts,
            explicit: header.explicit,
            json: None,
            head_end: header.head_end,
            first_len,
            message_start: header.message_start,
        }
    }

    /// The header of a plain-text line: its time, where the header and the
    /// message start, and its explicit level.
    #[inline]
    fn header_of(&self, first: &[u8], ctx: &TimeContext) -> Header {
        let found = match self.ts {
            Some(layout) => layout.find(first, ctx),
            None => timestamp::detect(first, ctx),
        };
        let head_end = found.map_or(0, |f| f.end);
        // One pass over the learned header columns gives where the message
        // starts and, usually, the level; the general token scan is the
        // fallback for lines the columns do not describe.
        let time_end = found.filter(|f| f.start == 0).map_or(0, |f| f.end);
        let (message_start, column_level) = self.header_columns.scan(first, time_end);
        let message_start = if message_start >= first.len() {
            0
        } else {
            message_start
        };
        let explicit = match found {
            // glog writes the level as the timestamp's first letter.
            Some(f) if f.format == TsFormat::Glog && f.start == 0 => Level::from_letter(first[0]),
            _ => column_level
                .or_else(|| explicit_level(&first[head_end..], self.header))
                .or_else(|| found.and_then(|f| level_before_time(&first[..f.start]))),
        };
        Header {
            ts: found.map(|f| f.ms),
            head_end,
            message_start,
            explicit,
        }
    }

    /// Whether a record is a block of format header lines (W3C directives
    /// such as `#Fields:`) rather than an entry: such blocks are not
    /// records of the log, and are neither printed nor counted.
    #[inline]
    pub fn is_header(&self, rec: &Record<'_>) -> bool {
        self.entries
            && rec.ts.is_none()
            && rec.json.is_none()
            && is_directive(&rec.text[..rec.first_len])
    }

    /// The timestamp of the nearest record at or before `pos` that has one
    /// (records without their own time take it from there).
    pub fn time_before(&self, data: &[u8], pos: usize, ctx: &TimeContext) -> Option<i64> {
        if !self.timed {
            return None;
        }
        let mut end = pos;
        while end > 0 {
            let start = memrchr(b'\n', &data[..end - 1]).map_or(0, |i| i + 1);
            if self.starts_record(data, start) {
                let rec = self.read(data, start, end, ctx);
                if rec.ts.is_some() {
                    return rec.ts;
                }
            }
            end = start;
        }
        None
    }

    /// Where the message of a plain record starts in its text: after the
    /// header columns (timestamp, level, pid, host, component…) of its
    /// first line. The message runs to the end of the record, continuation
    /// lines included.
    pub fn message_start(&self, rec: &Record<'_>) -> usize {
        rec.message_start
    }

    /// The message of a plain record: from [`Layout::message_start`] to the
    /// end of the record, except in an access log, where it is the request
    /// line, status and size (the referrer and user agent are not).
    pub fn message<'r>(&self, rec: &Record<'r>) -> &'r [u8] {
        let msg = &rec.text[rec.message_start..];
        match self.header {
            HeaderStyle::Access => &msg[..http_request_len(msg).unwrap_or(msg.len())],
            _ => msg,
        }
    }

    /// The first line of a record's message, for grouping and samples: the
    /// JSON message field (unescaped into `buf` when needed), or the first
    /// line of a plain record after its header columns.
    pub fn first_message_line<'r>(&self, rec: &Record<'r>, buf: &'r mut Vec<u8>) -> &'r [u8] {
        let msg: &[u8] = match rec.json.as_ref().and_then(|j| j.msg) {
            Some(Scalar::Str {
                raw,
                escaped: false,
            }) => raw,
            Some(other) => {
                buf.clear();
                if other.text(buf).is_some() {
                    &buf[..]
                } else {
                    rec.text
                }
            }
            None if rec.json.is_some() => rec.text,
            None => {
                let first = &rec.text[self.message_start(rec)..rec.first_len];
                return match self.header {
                    HeaderStyle::Access => &first[..http_request_len(first).unwrap_or(first.len())],
                    _ => first,
                };
            }
        };
        self.msg_header.message_or_all(first_line(msg))
    }

    fn json_level(&self, value: Scalar<'_>, kind: LevelKind) -> Option<Level> {
        match (kind, value) {
            (LevelKind::Priority, _) => match value.as_i64()? {
                0..=2 => Some(Level::Fatal),
                3 => Some(Level::Error),
                4 => Some(Level::Warn),
                5 | 6 => Some(Level::Info),
                7 => Some(Level::Debug),
                _ => None,
            },
            (LevelKind::Letter, Scalar::Str { raw, .. }) => match raw {
                b"F" => Some(Level::Fatal),
                b"E" => Some(Level::Error),
                b"W" => Some(Level::Warn),
                b"I" => Some(Level::Info),
                b"D" | [b'D', b'1'..=b'5'] => Some(Level::Debug),
                _ => None,
            },
            (LevelKind::Letter, _) => None,
            (LevelKind::Name, Scalar::Num(_)) if self.numeric_levels => {
                Level::from_number(value.as_i64()?)
            }
            (
                LevelKind::Name,
                Scalar::Str {
                    raw,
                    escaped: false,
                },
            ) => Level::from_word(raw),
            _ => None,
        }
    }
}

/// One record, borrowed from the source bytes.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Byte offset of the record in its buffer.
    pub offset: usize,
    /// Length in bytes, newlines included.
    pub len: usize,
    /// The record's text: all its lines, without the final line end.
    pub text: &'a [u8],
    /// Its own time (Unix ms), if its first line has one.
    pub ts: Option<i64>,
    /// Level stated by the record itself (JSON field or header token).
    pub explicit: Option<Level>,
    /// The JSON fields, for JSON-lines records.
    pub json: Option<JsonRecord<'a>>,
    /// For plain records: where the timestamp ends in the first line (0 when
    /// it has none).
    pub head_end: usize,
    /// Length of the first line, without its line end.
    pub first_len: usize,
    /// For plain records: where the message starts in the first line,
    /// after the header columns (0 when the columns do not fit the line).
    pub message_start: usize,
}

impl Record<'_> {
    /// Number of lines in the record.
    pub fn line_count(&self) -> usize {
        if self.first_len + 1 >= self.text.len() {
            // One line (a CR at its end at most).
            return 1;
        }
        1 + bytecount::count(self.text, b'\n')
    }
}

impl<'a> Record<'a> {
    /// A record of bare text, `raw` with its line end: no time, level,
    /// header or fields; its message is all of it.
    pub fn bare(raw: &'a [u8]) -> Record<'a> {
        let text = trim_newline(raw);
        Record {
            offset: 0,
            len: raw.len(),
            text,
            ts: None,
            explicit: None,
            json: None,
            head_end: 0,
            first_len: first_line(text).len(),
            message_start: 0,
        }
    }
}

/// Whether a line, without a timestamp of its own, reads as the
/// continuation of the record above: indented, empty, a stack frame
/// (`at …`, `... 3 more`), `Caused by:`, `Suppressed:`, `Traceback`,
/// `goroutine N [running]:`, the closing brace of a JSON body, or an
/// exception line (`java.io.IOException: x`, `ValueError: bad`).
///
/// `line` may run past the line's end: only the bytes before the first
/// `\n` count, so a caller need not find the end first.
#[inline]
pub fn is_continuation(line: &[u8]) -> bool {
    match line.first() {
        None | Some(b'\n') => true,
        Some(b'\r') => matches!(line.get(1), None | Some(b'\n')),
        Some(b' ' | b'\t' | b'}' | b']') => true,
        Some(b'a') => line.starts_with(b"at "),
        Some(b'.') => line.starts_with(b"..."),
        Some(b'C') if line.starts_with(b"Caused by") => true,
        Some(b'T') if line.starts_with(b"Traceback") => true,
        Some(b'S') if line.starts_with(b"Suppressed:") => true,
        Some(b'g') if line.starts_with(b"goroutine ") => true,
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => is_exception_line(line),
        _ => false,
    }
}

fn is_exception_line(line: &[u8]) -> bool {
    let ident = line
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'$'))
        .count();
    let ends_line = matches!(
        &line[ident..],
        [] | [b'\n', ..] | [b'\r'] | [b'\r', b'\n', ..] | [b':', ..]
    );
    if !ends_line {
        return false;
    }
    let name = &line[..ident];
    [
        &b"Exception"[..],
        b"Error",
        b"Throwable",
        b"Exit",
        b"Interrupt",
    ]
    .iter()
    .any(|suffix| name.len() > suffix.len() && name.ends_with(suffix))
}

/// The time context boundary checks parse with: whether a line has a
/// timestamp does not depend on the zone or the reference date.
static BOUNDARY_CTX: std::sync::LazyLock<TimeContext> =
    std::sync::LazyLock::new(|| TimeContext::new(timestamp::Zone::utc(), 0));

/// What [`Layout::header_of`] reads from a plain line's header.
struct Header {
    ts: Option<i64>,
    head_end: usize,
    message_start: usize,
    explicit: Option<Level>,
}

/// Whether a line (without its line end), in a file whose entries carry
/// timestamps and whose timestamp shape it does not have, starts an entry:
/// it has a timestamp where the file puts it, or it is a JSON object with
/// a time of its own.
///
/// "Where the file puts it" allows another count of the same opener
/// (`[ INFO 2015-05-20 …]` among `[DEBUG 2015-05-20 …]` lines, where a
/// padded level adds a space): the same format after the same kind of
/// byte. A time after another kind of byte (`<created>2026-…` in an XML
/// body) does not start an entry.
#[inline]
fn starts_entry(line: &[u8], ts: TsLayout) -> bool {
    if ts.parse(line, &BOUNDARY_CTX).is_some() {
        return true;
    }
    if sgr::has_escape(line) {
        let clean = sgr::strip(line);
        if clean.len() < line.len() {
            return starts_entry(&clean, ts);
        }
    }
    if line.first() == Some(&b'{') {
        return json::parse(line).is_some_and(|rec| rec.ts.is_some());
    }
    let Anchor::After { byte, .. } = ts.anchor else {
        return false;
    };
    timestamp::detect(line, &BOUNDARY_CTX).is_some_and(|found| {
        found.format == ts.format
            && matches!(found.anchor, Anchor::After { byte: b, .. } if b == byte)
    })
}

/// The level written before a line's timestamp (`[DEBUG 2015-05-20 …]`,
/// `Thread-1::INFO::2011-12-07 …`, `INFO | app | 2025-…`), or a single
/// level letter alone before it (`E [08/Jun/2013:11:28:58 -0700] …`).
fn level_before_time(prefix: &[u8]) -> Option<Level> {
    if prefix.is_empty() {
        return None;
    }
    // In `::`-separated headers the level is a field of its own.
    let words = prefix
        .split(|&b| b == b':')
        .find_map(|field| explicit_level(field, HeaderStyle::Words));
    if words.is_some() {
        return words;
    }
    match prefix.trim_ascii_end() {
        [letter] | [letter, b' ', b'[' | b'('] => Level::from_letter(*letter),
        _ => None,
    }
}

/// The shape of a file's timestamps: the classes of their first bytes
/// (digits, letters, each other byte as itself) where the file puts them,
/// as far as all sampled timestamps agree. Testing it costs a few
/// comparisons where parsing costs a date conversion; a line that does not
/// fit it may still hold a timestamp of another width, so it is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TsShape {
    anchor: Anchor,
    len: u8,
    classes: [u8; TsShape::MAX],
}

impl TsShape {
    /// Longest shape kept.
    const MAX: usize = 16;
    /// Shorter shapes say too little: lines are parsed instead.
    const MIN: usize = 8;

    /// Each byte's class: digits are `0`, letters `a`, other bytes
    /// themselves.
    const CLASSES: [u8; 256] = {
        let mut table = [0u8; 256];
        let mut b = 0;
        while b < 256 {
            let byte = b as u8;
            table[b] = match byte {
                b'0'..=b'9' => b'0',
                b'a'..=b'z' | b'A'..=b'Z' => b'a',
                other => other,
            };
            b += 1;
        }
        table
    };

    #[inline]
    fn class(b: u8) -> u8 {
        Self::CLASSES[usize::from(b)]
    }

    /// The shape shared by the timestamps of `lines` under `ts`, if it is
    /// long enough to tell timestamps from other text.
    fn learn(lines: &[&[u8]], ts: TsLayout, ctx: &TimeContext) -> Option<TsShape> {
        let mut shape: Option<TsShape> = None;
        for line in lines {
            let Some(found) = ts.parse(line, ctx) else {
                continue;
            };
            let text = &line[found.start..found.end.min(found.start + Self::MAX)];
            match &mut shape {
                None => {
                    let mut classes = [0; Self::MAX];
                    for (c, &b) in classes.iter_mut().zip(text) {
                        *c = Self::class(b);
                    }
                    shape = Some(TsShape {
                        anchor: ts.anchor,
                        len: text.len() as u8,
                        classes,
                    });
                }
                Some(shape) => {
                    let common = shape.classes[..usize::from(shape.len)]
                        .iter()
                        .zip(text)
                        .take_while(|(c, b)| **c == Self::class(**b))
                        .count();
                    shape.len = common as u8;
                }
            }
        }
        shape.filter(|s| usize::from(s.len) >= Self::MIN)
    }

    /// Whether `line` has a timestamp of this shape where the file puts it.
    /// `line` may run past the line's end: no timestamp holds a newline, and
    /// an anchor is looked for in the line only.
    #[inline(always)]
    pub fn matches(&self, line: &[u8]) -> bool {
        let start = match self.anchor {
            Anchor::Start => 0,
            anchor => {
                let head = &line[..line.len().min(128)];
                let head = &head[..memchr(b'\n', head).unwrap_or(head.len())];
                match anchor.locate(head) {
                    Some(start) => start,
                    None => return false,
                }
            }
        };
        #[cfg(target_arch = "x86_64")]
        if let Some(Ok(head)) = line
            .get(start..start + Self::MAX)
            .map(<&[u8; 16]>::try_from)
        {
            let want = (1u32 << self.len) - 1;
            // SAFETY: SSE2 is part of the x86_64 baseline, so every x86_64
            // processor has it.
            let same = unsafe { shape_sse2::same_classes(head, &self.classes) };
            return same & want == want;
        }
        self.fits_by_table(line, start)
    }

    /// Whether the bytes of `line` from `start` have the shape, one byte at
    /// a time.
    fn fits_by_table(&self, line: &[u8], start: usize) -> bool {
        let len = usize::from(self.len);
        match line.get(start..start + len) {
            Some(head) => head
                .iter()
                .zip(&self.classes[..len])
                .all(|(&b, &c)| Self::class(b) == c),
            None => false,
        }
    }
}

/// [`TsShape::matches`] on 16 bytes at once.
#[cfg(target_arch = "x86_64")]
mod shape_sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cmplt_epi8,
        _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };

    /// Lanes of `x` from `first` to `last`, both ASCII: a signed compare
    /// leaves bytes from 0x80 up out, as negative.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn ascii_between(x: __m128i, first: u8, last: u8) -> __m128i {
        _mm_and_si128(
            _mm_cmpgt_epi8(x, _mm_set1_epi8(first as i8 - 1)),
            _mm_cmplt_epi8(x, _mm_set1_epi8(last as i8 + 1)),
        )
    }

    /// A bit per byte of `bytes` whose class ([`super::TsShape::CLASSES`])
    /// is the one in `classes`.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn same_classes(bytes: &[u8; 16], classes: &[u8; 16]) -> u32 {
        // SAFETY: both are 16 readable bytes and `loadu` has no alignment
        // requirement.
        let (x, want) = unsafe {
            (
                _mm_loadu_si128(bytes.as_ptr().cast()),
                _mm_loadu_si128(classes.as_ptr().cast()),
            )
        };
        let digit = ascii_between(x, b'0', b'9');
        let letter = ascii_between(_mm_or_si128(x, _mm_set1_epi8(0x20)), b'a', b'z');
        let class = _mm_or_si128(
            _mm_andnot_si128(_mm_or_si128(digit, letter), x),
            _mm_or_si128(
                _mm_and_si128(digit, _mm_set1_epi8(b'0' as i8)),
                _mm_and_si128(letter, _mm_set1_epi8(b'a' as i8)),
            ),
        );
        _mm_movemask_epi8(_mm_cmpeq_epi8(class, want)) as u32
    }
}

/// Whether a line is a directive of the W3C extended log format
/// (`#Version:`, `#Fields:`, `#Software:`, `#Date:`, `#Remark:`…): a
/// header, not part of the entry above it.
#[inline]
pub fn is_directive(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"#") else {
        return false;
    };
    let name = rest
        .iter()
        .take_while(|b| b.is_ascii_alphabetic() || **b == b'-')
        .count();
    name > 0 && rest.get(name) == Some(&b':')
}

/// The line that ends just before `start` (a line start after the first),
/// without its line end.
#[inline]
fn prev_line(data: &[u8], start: usize) -> &[u8] {
    let prev_start = memrchr(b'\n', &data[..start - 1]).map_or(0, |i| i + 1);
    trim_newline(&data[prev_start..start])
}

/// Whether a line is a whole JSON object by its shape: it starts with `{`
/// and ends with `}`. A pretty-printed object's first line does not.
#[inline]
fn is_complete_json_line(line: &[u8]) -> bool {
    is_json_start(line) && line.trim_ascii_end().last() == Some(&b'}')
}

#[inline]
fn is_json_start(line: &[u8]) -> bool {
    line.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Parses a line as a JSON record when it looks like one.
#[inline]
fn json_line(line: &[u8]) -> Option<JsonRecord<'_>> {
    if is_json_start(line) {
        json::parse(line)
    } else {
        None
    }
}

/// Unix ms of a structured record's time: its time field, plus the
/// nanoseconds of a split time (log4j2's `instant`).
pub fn record_time(rec: &JsonRecord<'_>, ctx: &TimeContext) -> Option<i64> {
    let ms = rec.ts.and_then(|v| json_time(v, ctx))?;
    match rec.ts_nanos.and_then(|n| n.as_i64()) {
        Some(nanos) if (0..1_000_000_000).contains(&nanos) => {
            // Whole seconds plus the nanoseconds, to the millisecond.
            Some(ms.div_euclid(1000) * 1000 + nanos / 1_000_000)
        }
        _ => Some(ms),
    }
}

/// Unix ms of a JSON time value: epoch seconds, ms, µs or ns by magnitude
/// (number or digit string), or an RFC 3339 string.
pub fn json_time(value: Scalar<'_>, ctx: &TimeContext) -> Option<i64> {
    match value {
        Scalar::Num(n) => json::epoch_number(n),
        Scalar::Str {
            raw,
            escaped: false,
        } => {
            if raw.first().is_some_and(u8::is_ascii_digit)
                && raw.iter().all(|b| b.is_ascii_digit() || *b == b'.')
                && let Some(ms) = json::epoch_number(raw)
            {
                return Some(ms);
            }
            parse_iso_exact(raw, ctx).or_else(|| {
                let found = timestamp::detect(raw, ctx)?;
                (found.start == 0).then_some(found.ms)
            })
        }
        _ => None,
    }
}

/// Offset just after the line that starts at `start`.
#[inline]
pub fn next_line(data: &[u8], start: usize) -> usize {
    memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i + 1)
}

#[inline]
fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The first line of a message without its `\r`: what the message's
/// template (and its id) is made of.
#[inline]
pub fn first_line(msg: &[u8]) -> &[u8] {
    trim_cr(&msg[..memchr(b'\n', msg).unwrap_or(msg.len())])
}

/// Drops one trailing `\n` or `\r\n`.
#[inline]
pub fn trim_newline(raw: &[u8]) -> &[u8] {
    trim_cr(raw.strip_suffix(b"\n").unwrap_or(raw))
}

#[cfg(test)]
mod tests;

/// Iterates the record spans `(start, end)` of `data[from..to]`, where
/// `from` and `to` are record boundaries.
pub fn spans<'a>(layout: &'a Layout, data: &'a [u8], from: usize, to: usize) -> Spans<'a> {
    Spans {
        layout,
        data,
        pos: from,
        to,
    }
}

/// Iterator of record spans; see [`spans`].
#[derive(Debug, Clone)]
pub struct Spans<'a> {
    layout: &'a Layout,
    data: &'a [u8],
    pos: usize,
    to: usize,
}

impl Iterator for Spans<'_> {
    type Item = (usize, usize);

    #[inline]
    fn next(&mut self) -> Option<(usize, usize)> {
        if self.pos >= self.to {
            return None;
        }
        let start = self.pos;
        self.pos = self.layout.record_end(self.data, start, self.to);
        Some((start, self.pos))
    }
}

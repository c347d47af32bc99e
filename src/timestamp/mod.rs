//! Timestamp detection: finds and parses the time in the header of a log
//! line — at its start, inside brackets or quotes (`[…]`, `time="…"`),
//! after `=` (`ts=…`, `t=…`), `>` (`<30>May  4 …`) or one of the first
//! spaces and pipes (after a host, a pid or a level).
//!
//! A file's timestamp layout — which [`TsFormat`] and where in the line it
//! starts ([`Anchor`]) — is sniffed once from a sample of its lines
//! ([`TsLayout::sniff`]); every line is then parsed on that fast path, and
//! only lines that do not fit it go through the full detector
//! ([`detect`]), which tries every format at every plausible start.
//!
//! Times without a zone are read in the [`TimeContext`]'s zone (local time
//! by default); times without a year (syslog, logcat) get the year that puts
//! them at or before the context's reference date (the file's modification
//! time), the way `syslog` readers do.

mod formats;
mod names;
pub mod zone;

pub use formats::{TsFormat, parse_iso_exact};
pub use zone::Zone;

/// Everything a parser needs besides the bytes: the zone for wall-clock
/// times and the reference date for times without a year.
#[derive(Debug)]
pub struct TimeContext {
    /// Zone of times written without an offset.
    pub zone: Zone,
    /// Reference date (year, month, day): yearless times are placed in the
    /// latest year that does not put them after this date.
    pub reference: (i32, u32, u32),
    /// The last valid date converted and its day number (see [`DayCache`]).
    days: DayCache,
}

impl Clone for TimeContext {
    fn clone(&self) -> Self {
        TimeContext {
            zone: self.zone.clone(),
            reference: self.reference,
            days: DayCache::default(),
        }
    }
}

/// A one-entry cache of (year, month, day) → days since 1970-01-01 for
/// valid dates, shared by the threads reading one source: consecutive
/// records nearly always fall on the same day.
#[derive(Debug, Default)]
struct DayCache(std::sync::atomic::AtomicU64);

impl DayCache {
    /// The packed date (years in `i16` range only), with a set bit so that
    /// an empty cache matches nothing.
    #[inline]
    fn key(year: i32, month: u32, day: u32) -> Option<u64> {
        let year = i16::try_from(year).ok()?;
        if month > 15 || day > 31 {
            return None;
        }
        Some(1 << 25 | u64::from(year as u16) << 9 | u64::from(month) << 5 | u64::from(day))
    }

    /// Days since 1970-01-01 of a date, or `None` if the date is invalid.
    #[inline]
    fn days(&self, year: i32, month: u32, day: u32) -> Option<i64> {
        use std::sync::atomic::Ordering::Relaxed;
        let key = Self::key(year, month, day);
        let cached = self.0.load(Relaxed);
        if let Some(key) = key
            && cached >> 32 == key
        {
            return Some(i64::from(cached as u32 as i32));
        }
        if !zone::valid_date(year, month, day) {
            return None;
        }
        let days = zone::days_from_civil(year, month, day);
        if let (Some(key), Ok(small)) = (key, i32::try_from(days)) {
            self.0.store(key << 32 | u64::from(small as u32), Relaxed);
        }
        Some(days)
    }
}

impl TimeContext {
    /// A context in `zone` whose yearless times are placed at or before the
    /// instant `reference_ms` (Unix ms).
    pub fn new(zone: Zone, reference_ms: i64) -> TimeContext {
        let local = zone.utc_to_local(reference_ms);
        let reference = zone::civil_from_days(local.div_euclid(86_400_000));
        TimeContext {
            zone,
            reference,
            days: DayCache::default(),
        }
    }

    /// Local time, reference now.
    pub fn local_now() -> TimeContext {
        TimeContext::new(Zone::local(), now_ms())
    }

    /// Days since 1970-01-01 of a civil date, or `None` if it is not a
    /// valid date.
    #[inline]
    pub fn days(&self, year: i32, month: u32, day: u32) -> Option<i64> {
        self.days.days(year, month, day)
    }

    /// The year of a yearless (month, day): the reference year, or the one
    /// before when the date would otherwise lie more than a day in the future.
    #[inline]
    pub fn infer_year(&self, month: u32, day: u32) -> i32 {
        let (year, ref_month, ref_day) = self.reference;
        if (month, day) > (ref_month, ref_day + 1) {
            year - 1
        } else {
            year
        }
    }
}

/// The current time in Unix ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Where in a line a timestamp starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anchor {
    /// At the first byte.
    Start,
    /// Just after the `nth` (1-based) occurrence of `byte`, as in
    /// `host - user [10/Oct/2000:…]` (after the first `[`) or
    /// `[INFO] 2024-…` (after the first space).
    After { byte: u8, nth: u8 },
}

/// How far into a line the detector looks for a timestamp (uwsgi's
/// `[pid: 1|app: 0|req: 1/1] 10.0.0.1 () {38 vars in 650 bytes} [Mon …]`
/// puts it past 64 bytes).
const HEAD: usize = 128;
/// Bytes after which a timestamp may start (besides the line start).
const OPENERS: [u8; 8] = [b'[', b' ', b'|', b'(', b'=', b'"', b'>', b':'];
/// Only the first few columns (runs of spaces, tabs and pipes), quotes and
/// `>` count: a date deep in a message is data.
const MAX_SEPARATOR_RANK: u8 = 3;
/// `key=` pairs before the time's (`level=info ts=…`).
const MAX_KEY_RANK: u8 = 6;

impl Anchor {
    /// The start offset of the anchor in `line`, if the line has it.
    #[inline]
    pub fn locate(self, line: &[u8]) -> Option<usize> {
        match self {
            Anchor::Start => Some(0),
            Anchor::After { byte, nth } => {
                let head = &line[..line.len().min(HEAD)];
                memchr::memchr_iter(byte, head)
                    .nth(usize::from(nth) - 1)
                    .map(|i| i + 1)
            }
        }
    }
}

/// A timestamp found in a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Unix milliseconds.
    pub ms: i64,
    /// Byte span of the timestamp text in the line.
    pub start: usize,
    /// End of the timestamp text (exclusive).
    pub end: usize,
    /// The format that parsed it.
    pub format: TsFormat,
    /// Where it was found.
    pub anchor: Anchor,
}

/// The full detector: tries every format at the start of the line, then
/// after each `[` and `(`, the first few `key=` and `word:`, and the first
/// few spaces, pipes, quotes and `>` of its head.
pub fn detect(line: &[u8], ctx: &TimeContext) -> Option<Found> {
    let try_at = |start: usize, anchor: Anchor, rank: u8, floating: bool| {
        let opener = match anchor {
            Anchor::Start => 0,
            Anchor::After { byte, .. } => byte,
        };
        // A time of day after a date that did not parse (`2026-13-01
        // 10:00:00`, `X0317 16:13:38`) is not a stamp of its own.
        // An epoch after a space follows a pid or a bracketed field, not a
        // word (`took 1700000000 ms`).
        let prev = if opener == b' ' {
            previous_token(&line[..start - 1])
        } else {
            &[]
        };
        let after_date =
            prev.last().is_some_and(u8::is_ascii_digit) && !prev.iter().all(u8::is_ascii_digit);
        let after_pid = !prev.is_empty()
            && (prev.iter().all(u8::is_ascii_digit) || matches!(prev.last(), Some(b']' | b')')));
        TsFormat::ALL
            .into_iter()
            .filter(|f| !floating || f.floats_after(opener, rank))
            .filter(|f| match f {
                TsFormat::TimeOnly => !after_date,
                TsFormat::Epoch if opener == b' ' => after_pid,
                _ => true,
            })
            .find_map(|format| parse_at(line, start, format, anchor, ctx))
    };
    // Every shape holds a digit: a line without one has no time, and
    // nothing can start after the last one.
    line.iter().position(u8::is_ascii_digit)?;
    if let Some(found) = try_at(0, Anchor::Start, 0, false) {
        return Some(found);
    }
    let last_digit = line.iter().rposition(u8::is_ascii_digit)?;
    let head = &line[..line.len().min(HEAD).min(last_digit + 1)];
    let mut seen = [0u8; OPENERS.len()];
    // Columns passed: runs of spaces, tabs and pipes (`INFO   | jvm 1 | …`
    // has three before the time).
    let mut columns = 0u8;
    for (i, &b) in head.iter().enumerate() {
        if crate::normalize::is_binary_byte(b) {
            // Text holds no such byte: the rest of the head is junk.
            break;
        }
        let separator = matches!(b, b' ' | b'\t' | b'|');
        let next = head.get(i + 1).copied();
        if separator && !next.is_some_and(|n| matches!(n, b' ' | b'\t' | b'|')) {
            columns = columns.saturating_add(1);
        }
        let Some(k) = OPENERS.iter().position(|&o| o == b) else {
            continue;
        };
        seen[k] = seen[k].saturating_add(1);
        let (rank, limit) = match b {
            b'[' | b'(' => (seen[k], u8::MAX),
            b'=' => (seen[k], MAX_KEY_RANK),
            // A colon counts only after a word or another colon
            // (`HsmService:2021-…`, `Thread-1::INFO::2011-…`), never
            // inside a time or a port.
            b':' if i == 0 || !(head[i - 1].is_ascii_alphabetic() || head[i - 1] == b':') => {
                continue;
            }
            b':' => (seen[k], MAX_KEY_RANK),
            b' ' | b'|' => (columns, MAX_SEPARATOR_RANK),
            _ => (seen[k], MAX_SEPARATOR_RANK),
        };
        if rank > limit || next.is_none_or(|n| n.is_ascii_whitespace()) {
            continue;
        }
        let anchor = Anchor::After {
            byte: b,
            nth: seen[k],
        };
        if let Some(found) = try_at(i + 1, anchor, rank, true) {
            return Some(found);
        }
    }
    None
}

/// A ctime stamp deep in a line's head, past the columns [`detect`] looks
/// in (`===== Start of state dump at Thu Jun  2 08:00:01 UTC 2022 =====`,
/// `/dev/disk0s2: fsck_hfs run at Wed Jul 25 23:01:18 2012`). Weekday,
/// month, day, time and year together are too particular to be data, so
/// the layout may learn them anywhere in the head; per line only the
/// learned anchor is parsed.
fn detect_deep_ctime(line: &[u8], ctx: &TimeContext) -> Option<Found> {
    let head = &line[..line.len().min(HEAD)];
    memchr::memchr_iter(b' ', head)
        .enumerate()
        .find_map(|(k, i)| {
            let anchor = Anchor::After {
                byte: b' ',
                nth: u8::try_from(k + 1).ok()?,
            };
            parse_at(line, i + 1, TsFormat::Ctime, anchor, ctx)
        })
}

/// A timestamp of `format` starting at `start` in `line`, found at
/// `anchor`: it must end at a word end, not inside a longer token.
#[inline]
fn parse_at(
    line: &[u8],
    start: usize,
    format: TsFormat,
    anchor: Anchor,
    ctx: &TimeContext,
) -> Option<Found> {
    let (ms, len) = format.parse(&line[start..], ctx)?;
    let end = start + len;
    let boundary = line.get(end).is_none_or(|b| !b.is_ascii_alphanumeric());
    boundary.then_some(Found {
        ms,
        start,
        end,
        format,
        anchor,
    })
}

/// The last token of `before` (the line up to a space).
fn previous_token(before: &[u8]) -> &[u8] {
    let before = before.trim_ascii_end();
    let token_start = before
        .iter()
        .rposition(|b| b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &before[token_start..]
}

/// Lines [`TsLayout::sniff`] learns from, at most.
const SNIFF_SAMPLE: usize = 1000;
/// Space-separated columns searched for an epoch by [`epoch_column`].
const EPOCH_COLUMNS: u8 = 8;
/// Share of sampled lines that must hold an epoch in the same column.
const EPOCH_SHARE: f64 = 0.9;

/// The column (after the `nth` space, 1 to [`EPOCH_COLUMNS`]) holding an
/// epoch on at least [`EPOCH_SHARE`] of the lines, as in tables whose time
/// is a later field (`134681 node-246 unix.hw state_change 1077804742 1 …`,
/// `- 1117838570 2005.06.03 R02-M1 …`), and on how many lines.
fn epoch_column(lines: &[&[u8]], ctx: &TimeContext) -> Option<(TsLayout, usize)> {
    let mut counts = [0usize; EPOCH_COLUMNS as usize];
    for line in lines {
        for nth in 1..=EPOCH_COLUMNS {
            let layout = TsLayout {
                format: TsFormat::Epoch,
                anchor: Anchor::After { byte: b' ', nth },
            };
            if layout.parse(line, ctx).is_some() {
                counts[usize::from(nth) - 1] += 1;
            }
        }
    }
    let (k, &n) = counts
        .iter()
        .enumerate()
        .max_by_key(|&(k, n)| (*n, std::cmp::Reverse(k)))?;
    let enough = (EPOCH_SHARE * lines.len() as f64).ceil() as usize;
    (n > 0 && n >= enough).then_some((
        TsLayout {
            format: TsFormat::Epoch,
            anchor: Anchor::After {
                byte: b' ',
                nth: k as u8 + 1,
            },
        },
        n,
    ))
}

/// A file's timestamp layout: the format and where it sits, learned once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TsLayout {
    /// The format most lines use.
    pub format: TsFormat,
    /// Where it starts.
    pub anchor: Anchor,
}

impl TsLayout {
    /// Learns the layout from sample lines: the (format, anchor) pair found
    /// on the most lines, or an epoch column that nearly every line has
    /// (see [`epoch_column`]). `None` when no line has a timestamp.
    pub fn sniff<'a>(
        lines: impl IntoIterator<Item = &'a [u8]>,
        ctx: &TimeContext,
    ) -> Option<TsLayout> {
        let mut tally: Vec<(TsLayout, usize)> = Vec::new();
        let sample: Vec<&[u8]> = lines.into_iter().take(SNIFF_SAMPLE).collect();
        for &line in &sample {
            let Some(found) = detect(line, ctx).or_else(|| detect_deep_ctime(line, ctx)) else {
                continue;
            };
            let layout = TsLayout {
                format: found.format,
                anchor: found.anchor,
            };
            match tally.iter_mut().find(|(l, _)| *l == layout) {
                Some((_, n)) => *n += 1,
                None => tally.push((layout, 1)),
            }
        }
        // Most lines wins; ties go to the layout seen first.
        let best = tally.iter().map(|(_, n)| *n).max().unwrap_or(0);
        let detected = tally.into_iter().find(|(_, n)| *n == best).map(|(l, _)| l);
        // An epoch in a later column, on (nearly) every line, wins over
        // stamps the detector found on fewer lines.
        match epoch_column(&sample, ctx) {
            Some((layout, n)) if n > best => Some(layout),
            _ => detected,
        }
    }

    /// Fast path: parses the timestamp where this layout puts it.
    #[inline(always)]
    pub fn parse(&self, line: &[u8], ctx: &TimeContext) -> Option<Found> {
        let start = self.anchor.locate(line)?;
        let (ms, len) = self.format.parse(&line[start..], ctx)?;
        let end = start + len;
        if line.get(end).is_some_and(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        Some(Found {
            ms,
            start,
            end,
            format: self.format,
            anchor: self.anchor,
        })
    }

    /// The fast path, then the full detector for lines that do not fit.
    #[inline]
    pub fn find(&self, line: &[u8], ctx: &TimeContext) -> Option<Found> {
        self.parse(line, ctx).or_else(|| detect(line, ctx))
    }
}

#[cfg(test)]
mod tests;

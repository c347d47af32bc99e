//! Hand-written parsers, one per timestamp shape. Each reads from the first
//! byte of its input and returns the Unix ms and the number of bytes used;
//! none allocates or panics on any input.

use super::TimeContext;
use super::zone::day_ms;

/// A timestamp shape that can start a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TsFormat {
    /// RFC 3339 / ISO 8601: `2026-02-12T10:00:00.123Z`, `2015-07-29 17:41:44,747`,
    /// `2024/01/15 10:00:00` (nginx), offsets `+02:00`/`+0200`, or none = local.
    Iso,
    /// `20171223-22:15:29:606`, `20240115 10:00:00`.
    Compact,
    /// ctime, as Apache writes it: `Sun Dec 04 04:47:44 2005`.
    Ctime,
    /// Common log format: `10/Oct/2000:13:55:36 -0700`.
    Clf,
    /// Day, month name, year: Redis `15 Jan 2024 10:00:00.123`, RFC 2822
    /// `Mon, 15 Jan 2024 10:00:00 +0000`.
    DayMonth,
    /// BSD syslog, no year: `Jun 14 15:16:01`, `Jun  4 15:16:01.123`.
    Syslog,
    /// Log4j / Spark short date: `17/06/09 20:10:40`.
    ShortSlash,
    /// Android logcat, no year: `03-17 16:13:38.811`.
    Logcat,
    /// HDFS: `081109 203615`.
    Hdfs,
    /// glog / klog (Kubernetes components), level letter first, no year:
    /// `I0115 10:00:00.123456`.
    Glog,
    /// Unix epoch in seconds (`1700000000`, `1700000000.123`) or
    /// milliseconds (`1700000000123`).
    Epoch,
}

impl TsFormat {
    /// Every format, in the order the detector tries them.
    pub const ALL: [TsFormat; 11] = [
        TsFormat::Iso,
        TsFormat::Compact,
        TsFormat::Ctime,
        TsFormat::Clf,
        TsFormat::DayMonth,
        TsFormat::Syslog,
        TsFormat::ShortSlash,
        TsFormat::Logcat,
        TsFormat::Hdfs,
        TsFormat::Glog,
        TsFormat::Epoch,
    ];

    /// Whether the format may start anywhere in the header, not only at the
    /// start of the line. Bare digit runs are too easily confused with
    /// numbers in a message.
    pub fn floats(self) -> bool {
        !matches!(self, TsFormat::Hdfs | TsFormat::Epoch | TsFormat::Glog)
    }

    /// Parses `s` from its first byte: (Unix ms, bytes used).
    #[inline]
    pub fn parse(self, s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
        match self {
            TsFormat::Iso => iso(s, ctx),
            TsFormat::Compact => compact(s, ctx),
            TsFormat::Ctime => ctime(s, ctx),
            TsFormat::Clf => clf(s, ctx),
            TsFormat::DayMonth => day_month(s, ctx),
            TsFormat::Syslog => syslog(s, ctx),
            TsFormat::ShortSlash => short_slash(s, ctx),
            TsFormat::Logcat => logcat(s, ctx),
            TsFormat::Hdfs => hdfs(s, ctx),
            TsFormat::Glog => glog(s, ctx),
            TsFormat::Epoch => epoch(s),
        }
    }

    /// A short name for diagnostics.
    pub fn name(self) -> &'static str {
        match self {
            TsFormat::Iso => "ISO 8601",
            TsFormat::Compact => "compact date",
            TsFormat::Ctime => "ctime",
            TsFormat::Clf => "common log format",
            TsFormat::DayMonth => "day month year",
            TsFormat::Syslog => "syslog",
            TsFormat::ShortSlash => "yy/MM/dd",
            TsFormat::Logcat => "logcat",
            TsFormat::Hdfs => "yyMMdd HHmmss",
            TsFormat::Glog => "glog",
            TsFormat::Epoch => "epoch",
        }
    }
}

#[inline]
fn digit(s: &[u8], i: usize) -> Option<u32> {
    match s.get(i) {
        Some(b @ b'0'..=b'9') => Some(u32::from(b - b'0')),
        _ => None,
    }
}

#[inline]
fn d2(s: &[u8], i: usize) -> Option<u32> {
    Some(digit(s, i)? * 10 + digit(s, i + 1)?)
}

#[inline]
fn d4(s: &[u8], i: usize) -> Option<u32> {
    Some(d2(s, i)? * 100 + d2(s, i + 2)?)
}

#[inline]
fn is(s: &[u8], i: usize, b: u8) -> bool {
    s.get(i) == Some(&b)
}

#[inline]
fn is_digit_at(s: &[u8], i: usize) -> bool {
    digit(s, i).is_some()
}

/// `Jan`…`Dec`, any case.
#[inline]
fn month3(s: &[u8], i: usize) -> Option<u32> {
    let m = s.get(i..i + 3)?;
    let key = [m[0] | 0x20, m[1] | 0x20, m[2] | 0x20];
    Some(match &key {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

#[inline]
fn weekday3(s: &[u8], i: usize) -> bool {
    let Some(w) = s.get(i..i + 3) else {
        return false;
    };
    let key = [w[0] | 0x20, w[1] | 0x20, w[2] | 0x20];
    matches!(
        &key,
        b"mon" | b"tue" | b"wed" | b"thu" | b"fri" | b"sat" | b"sun"
    )
}

/// `hh:mm[:ss]` at `i`, with a separator `sep` (usually `:`); returns
/// (h, m, s, next index). Seconds are required unless `secs_optional`.
#[inline]
fn hms(s: &[u8], i: usize, secs_optional: bool) -> Option<(u32, u32, u32, usize)> {
    let h = d2(s, i)?;
    if !is(s, i + 2, b':') {
        return None;
    }
    let m = d2(s, i + 3)?;
    let (sec, next) = if is(s, i + 5, b':') && is_digit_at(s, i + 6) {
        (d2(s, i + 6)?, i + 8)
    } else if secs_optional {
        (0, i + 5)
    } else {
        return None;
    };
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some((h, m, sec.min(59), next))
}

/// An optional decimal fraction after `.` or `,`: returns (milliseconds,
/// next index). Up to 9 digits are read.
#[inline]
fn fraction(s: &[u8], i: usize) -> (u32, usize) {
    let sep = s.get(i).copied();
    if !matches!(sep, Some(b'.') | Some(b',')) || !is_digit_at(s, i + 1) {
        return (0, i);
    }
    let mut j = i + 1;
    let mut ms = 0;
    let mut digits = 0;
    while let Some(d) = digit(s, j) {
        if digits < 3 {
            ms = ms * 10 + d;
        }
        digits += 1;
        j += 1;
        if digits == 9 {
            break;
        }
    }
    while digits < 3 {
        ms *= 10;
        digits += 1;
    }
    (ms, j)
}

/// A zone suffix at `i`: `Z`, `UTC`/`GMT`, `±hh:mm`, `±hhmm`, `±hh`,
/// optionally after one space (only for `±hhmm`, `UTC`, `GMT`). Returns
/// (offset seconds, next index), or `None` when there is no zone.
#[inline]
fn zone_suffix(s: &[u8], i: usize) -> Option<(i32, usize)> {
    match s.get(i) {
        Some(b'Z') | Some(b'z') => return Some((0, i + 1)),
        Some(b'+') | Some(b'-') => return signed_offset(s, i, true),
        Some(b'U') | Some(b'G') if matches!(s.get(i..i + 3), Some(b"UTC") | Some(b"GMT")) => {
            return Some((0, i + 3));
        }
        Some(b' ') => {}
        _ => return None,
    }
    match s.get(i + 1) {
        Some(b'+') | Some(b'-') => {
            let (off, next) = signed_offset(s, i + 1, false)?;
            // Only the four-digit form after a space, followed by a word end.
            (next == i + 6 && !is_digit_at(s, next)).then_some((off, next))
        }
        Some(b'U') | Some(b'G') if matches!(s.get(i + 1..i + 4), Some(b"UTC") | Some(b"GMT")) => {
            Some((0, i + 4))
        }
        _ => None,
    }
}

#[inline]
fn signed_offset(s: &[u8], i: usize, short_ok: bool) -> Option<(i32, usize)> {
    let sign = if s.get(i) == Some(&b'-') { -1 } else { 1 };
    let h = d2(s, i + 1)?;
    let (m, next) = if is(s, i + 3, b':') {
        (d2(s, i + 4)?, i + 6)
    } else if let Some(m) = d2(s, i + 3) {
        (m, i + 5)
    } else if short_ok && !is_digit_at(s, i + 3) {
        (0, i + 3)
    } else {
        return None;
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some((sign * (h as i32 * 3600 + m as i32 * 60), next))
}

/// Converts a civil time to Unix ms: with an explicit offset, or in the
/// context's zone.
#[inline]
#[allow(clippy::too_many_arguments)]
fn finish(
    ctx: &TimeContext,
    year: i32,
    month: u32,
    day: u32,
    clock: (u32, u32, u32),
    ms: u32,
    offset: Option<i32>,
) -> Option<i64> {
    let local = day_ms(ctx.days(year, month, day)?, clock, ms);
    Some(match offset {
        Some(off) => local - i64::from(off) * 1000,
        None => ctx.zone.local_to_utc(local),
    })
}

/// Date followed by `T` or space and a time, fraction and optional zone.
#[inline]
fn time_after_date(
    s: &[u8],
    i: usize,
    ctx: &TimeContext,
    (year, month, day): (i32, u32, u32),
) -> Option<(i64, usize)> {
    if !matches!(s.get(i), Some(b'T') | Some(b' ') | Some(b't')) {
        return None;
    }
    let (h, m, sec, next) = hms(s, i + 1, true)?;
    fraction_zone(s, next, ctx, (year, month, day), (h, m, sec))
}

/// The end shared by formats that may carry a zone: an optional fraction,
/// an optional zone suffix, then the conversion.
#[inline]
fn fraction_zone(
    s: &[u8],
    next: usize,
    ctx: &TimeContext,
    (year, month, day): (i32, u32, u32),
    clock: (u32, u32, u32),
) -> Option<(i64, usize)> {
    let (ms, next) = fraction(s, next);
    let (offset, next) = match zone_suffix(s, next) {
        Some((off, n)) => (Some(off), n),
        None => (None, next),
    };
    Some((finish(ctx, year, month, day, clock, ms, offset)?, next))
}

fn iso(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
    let year = d4(s, 0)? as i32;
    let sep = *s.get(4)?;
    if !(sep == b'-' || sep == b'/' || sep == b'.') || !is(s, 7, sep) {
        return None;
    }
    let month = d2(s, 5)?;
    let day = d2(s, 8)?;
    time_after_date(s, 10, ctx, (year, month, day))
}

fn compact(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
    let year = d4(s, 0)? as i32;
    let month = d2(s, 4)?;
    let day = d2(s, 6)?;
    if !matches!(s.get(8), Some(b'-') | Some(b' ') | Some(b'T')) {
        return None;
    }
    let (h, m, sec, next) = hms_unpadded(s, 9)?;
    // After a colon the milliseconds are a count, not a decimal fraction:
    // `…:29:606`, and `…:35:11` is 11 ms.
    let (ms, next) = if is(s, next, b':') {
        millis_count(s, next + 1).unwrap_or((0, next))
    } else {
        fraction(s, next)
    };
    Some((finish(ctx, year, month, day, (h, m, sec), ms, None)?, next))
}

/// `h:m:s` where each field has one or two digits (`22:16:0`).
fn hms_unpadded(s: &[u8], i: usize) -> Option<(u32, u32, u32, usize)> {
    let (h, i) = one_or_two(s, i)?;
    if !is(s, i, b':') {
        return None;
    }
    let (m, i) = one_or_two(s, i + 1)?;
    if !is(s, i, b':') {
        return None;
    }
    let (sec, i) = one_or_two(s, i + 1)?;
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some((h, m, sec.min(59), i))
}

fn one_or_two(s: &[u8], i: usize) -> Option<(u32, usize)> {
    let first = digit(s, i)?;
    match digit(s, i + 1) {
        Some(second) => Some((first * 10 + second, i + 2)),
        None => Some((first, i + 1)),
    }
}

/// Up to three digits of milliseconds, written as a plain count.
fn millis_count(s: &[u8], i: usize) -> Option<(u32, usize)> {
    let mut ms = digit(s, i)?;
    let mut j = i + 1;
    while j < i + 3 {
        let Some(d) = digit(s, j) else { break };
        ms = ms * 10 + d;
        j += 1;
    }
    Some((ms, j))
}

fn ctime(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
    if !weekday3(s, 0) || !is(s, 3, b' ') {
        return None;
    }
    let month = month3(s, 4)?;
    if !is(s, 7, b' ') {
        return None;
    }
    let (day, i) = day_of_month(s, 8)?;
    if !is(s, i, b' ') {
        return None;
    }
    let (h, m, sec, next) = hms(s, i + 1, false)?;
    let (ms, next) = fraction(s, next);
    if !is(s, next, b' ') {
        return None;
    }
    let year = d4(s, next + 1)? as i32;
    Some((
        finish(ctx, year, month, day, (h, m, sec), ms, None)?,
        next + 5,
    ))
}

/// `dd`, ` d` or `d` followed by a non-digit: (day, next index).
#[inline]
fn day_of_month(s: &[u8], i: usize) -> Option<(u32, usize)> {
    if is(s, i, b' ') {
        return Some((digit(s, i + 1)?, i + 2));
    }
    if let Some(d) = d2(s, i) {
        return Some((d, i + 2));
    }
    Some((digit(s, i)?, i + 1))
}

fn clf(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
    let day = d2(s, 0)?;
    if !is(s, 2, b'/') || !is(s, 6, b'/') || !is(s, 11, b':') {
        return None;
    }
    let month = month3(s, 3)?;
    let year = d4(s, 7)? as i32;
    let (h, m, sec, next) = hms(s, 12, false)?;
    fraction_zone(s, next, ctx, (year, month, day), (h, m, sec))
}

fn day_month(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
    // An optional weekday: `Mon, `.
    let i = if weekday3(s, 0) && is(s, 3, b',') && is(s, 4, b' ') {
        5
    } else {
        0
    };
    let (day, i) = match (digit(s, i), digit(s, i + 1)) {
        (Some(a), Some(b)) => (a * 10 + b, i + 2),
        (Some(a), None) => (a, i + 1),
        _ => return None,
    };
    if !is(s, i, b' ') || !is(s, i + 4, b' ') || !is(s, i + 9, b' ') {
        return None;
    }
    let month = month3(s, i + 1)?;
    let year = d4(s, i + 5)? as i32;
    let (h, m, sec, next) = hms(s, i + 10, false)?;
    fraction_zone(s, next, ctx, (year, month, day), (h, m, sec))
}

fn syslog(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
    let month = month3(s, 0)?;
    if !is(s, 3, b' ') {
        return None;
    }
    let (day, i) = day_of_month(s, 4)?;
    if !is(s, i, b' ') {
        return None;
    }
    let (h, m, sec, next) = hms(s, i + 1, false)?;
    let (ms, next) = fraction(s, next);
    let year = ctx.infer_year(month, day);
    Some((finish(ctx, year, month, day, (h, m, sec), ms, None)?, next))
}

fn short_slash(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
    let yy = d2(s, 0)?;
    if !is(s, 2, b'/') || !is(s, 5, b'/') {
        return None;
    }
    let month = d2(s, 3)?;
    let day = d2(s, 6)?;
    if !is(s, 8, b' ') {
        return None;
    }
    let (h, m, sec, next) = hms(s, 9, false)?;
    let (ms, next) = fraction(s, next);
    Some((
        finish(ctx, century(yy), month, day, (h, m, sec), ms, None)?,
        next,
    ))
}

#[inline]
fn century(yy: u32) -> i32 {
    if yy < 70 {
        2000 + yy as i32
    } else {
        1900 + yy as i32
    }
}

fn logcat(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
    let month = d2(s, 0)?;
    if !is(s, 2, b'-') || !is(s, 5, b' ') {
        return None;
    }
    let day = d2(s, 3)?;
    let (h, m, sec, next) = hms(s, 6, false)?;
    let (ms, next) = fraction(s, next);
    let year = ctx.infer_year(month, day);
    Some((finish(ctx, year, month, day, (h, m, sec), ms, None)?, next))
}

fn hdfs(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
    let yy = d2(s, 0)?;
    let month = d2(s, 2)?;
    let day = d2(s, 4)?;
    if !is(s, 6, b' ') || is_digit_at(s, 13) {
        return None;
    }
    let h = d2(s, 7)?;
    let m = d2(s, 9)?;
    let sec = d2(s, 11)?;
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some((
        finish(ctx, century(yy), month, day, (h, m, sec.min(59)), 0, None)?,
        13,
    ))
}

fn glog(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
    if !matches!(s.first(), Some(b'I' | b'W' | b'E' | b'F')) || !is(s, 5, b' ') {
        return None;
    }
    let month = d2(s, 1)?;
    let day = d2(s, 3)?;
    let (h, m, sec, next) = hms(s, 6, false)?;
    let (ms, next) = fraction(s, next);
    let year = ctx.infer_year(month, day);
    Some((finish(ctx, year, month, day, (h, m, sec), ms, None)?, next))
}

/// Unix seconds within 2000..2100, or milliseconds in the same range.
const EPOCH_SECS: std::ops::Range<i64> = 946_684_800..4_102_444_800;

fn epoch(s: &[u8]) -> Option<(i64, usize)> {
    let mut n: i64 = 0;
    let mut len = 0;
    while let Some(d) = digit(s, len) {
        n = n * 10 + i64::from(d);
        len += 1;
        if len > 13 {
            return None;
        }
    }
    match len {
        10 if EPOCH_SECS.contains(&n) => {
            let (ms, next) = fraction(s, len);
            if next == len && is(s, len, b'.') {
                return None;
            }
            (!is_digit_at(s, next)).then_some((n * 1000 + i64::from(ms), next))
        }
        13 if EPOCH_SECS.contains(&(n / 1000)) && !is(s, 13, b'.') => Some((n, 13)),
        _ => None,
    }
}

/// Unix ms of an RFC 3339 / ISO 8601 string as found in a JSON field
/// (`"2026-02-12T10:00:00Z"`); the whole string must be a timestamp.
pub fn parse_iso_exact(s: &[u8], ctx: &TimeContext) -> Option<i64> {
    let (ms, used) = iso(s, ctx)?;
    (used == s.len()).then_some(ms)
}

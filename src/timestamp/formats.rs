//! Hand-written parsers, one per timestamp shape. Each reads from the first
//! byte of its input and returns the Unix ms and the number of bytes used;
//! none allocates or panics on any input.

use super::TimeContext;
use super::names::{ZoneName, month_name, report_unknown_zone, weekday_name, zone_name};
use super::zone::day_ms;

/// A timestamp shape that can start a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TsFormat {
    /// RFC 3339 / ISO 8601: `2026-02-12T10:00:00.123Z`, `2015-07-29 17:41:44,747`,
    /// `2024/01/15 10:00:00` (nginx), offsets `+02:00`/`+0200`, zone names
    /// (`2026-05-04 10:00:00.123 PDT`), or none = local.
    Iso,
    /// `20171223-22:15:29:606`, `20240115 10:00:00`.
    Compact,
    /// ctime, as Apache writes it: `Sun Dec 04 04:47:44 2005`, also with a
    /// zone (`Tue May  4 10:00:00 PDT 2026`) and in other languages.
    Ctime,
    /// Common log format: `10/Oct/2000:13:55:36 -0700`.
    Clf,
    /// Day, month name, year: Redis `15 Jan 2024 10:00:00.123` (old
    /// versions: `13 Apr 12:52:30.731`, no year), RFC 2822
    /// `Mon, 15 Jan 2024 10:00:00 +0000`, Tomcat `04-May-2026 10:00:00.123`,
    /// `lun. 04 mai 2026 10:00:00 CEST`, `4. Mai 2026 10:00:00`.
    DayMonth,
    /// BSD syslog, no year: `Jun 14 15:16:01`, `Jun  4 15:16:01.123`,
    /// `mai 04 10:00:00`, `May-04 10:00:00.123`.
    Syslog,
    /// Log4j / Spark short date: `17/06/09 20:10:40`.
    ShortSlash,
    /// Android logcat, no year: `03-17 16:13:38.811`; Proxifier's
    /// `10.30 16:49:06`.
    Logcat,
    /// HDFS: `081109 203615`; old MySQL: `160504 10:00:00`, `160504  9:00:00`.
    Hdfs,
    /// glog / klog (Kubernetes components), level letter first, no year:
    /// `I0115 10:00:00.123456`, or with one: `I20260115 10:00:00.123456`.
    Glog,
    /// Unix epoch in seconds (`1700000000`, `1700000000.123`),
    /// milliseconds (`1700000000123`), microseconds or nanoseconds.
    Epoch,
    /// Day, month and year with dots: `04.05.2026 10:00:00`.
    DotDate,
    /// Month, day and year with slashes, as US locales write them, with an
    /// optional 12-hour clock: `06/09/2014 02:49:59:447 PM`,
    /// `1/2/2026, 10:00:00 AM`, `12/31/2025 23:59:59.5`; read as day first
    /// when the first field cannot be a month (`31/12/2025 …`).
    SlashDate,
    /// TAI64N, as daemontools, runit and s6 write it:
    /// `@4000000069f86f1a0b71b000`.
    Tai64n,
    /// A time of day alone (`12:34:56.789012`, strace's `-tt`): the date is
    /// the reference date (the file's modification time).
    TimeOnly,
}

impl TsFormat {
    /// Every format, in the order the detector tries them.
    pub const ALL: [TsFormat; 15] = [
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
        TsFormat::DotDate,
        TsFormat::SlashDate,
        TsFormat::Tai64n,
        TsFormat::TimeOnly,
    ];

    /// Whether the format may start after `opener` (the `rank`-th bracket,
    /// quote or `=`, or the end of the `rank`-th column for a space or
    /// pipe), rather than only at the start of the line. Bare
    /// digit runs are too easily confused with numbers in a message: an
    /// epoch floats only after a bracket, quote or `=`, or after the first
    /// spaces (where the detector also wants a pid or a bracket before it).
    pub fn floats_after(self, opener: u8, rank: u8) -> bool {
        match self {
            TsFormat::Hdfs | TsFormat::Glog | TsFormat::Tai64n => false,
            // After a word's colon (`amLog:06/09/2014 …`,
            // `Thread-1::INFO::2011-12-07 …`) only a full date floats.
            TsFormat::Compact | TsFormat::Logcat | TsFormat::TimeOnly | TsFormat::Epoch
                if opener == b':' =>
            {
                false
            }
            TsFormat::Epoch => matches!(opener, b'[' | b'(' | b'"' | b'=') || rank <= 2,
            _ => true,
        }
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
            TsFormat::DotDate => dot_date(s, ctx),
            TsFormat::SlashDate => slash_date(s, ctx),
            TsFormat::Tai64n => tai64n(s),
            TsFormat::TimeOnly => time_only(s, ctx),
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
            TsFormat::DotDate => "dd.MM.yyyy",
            TsFormat::SlashDate => "MM/dd/yyyy",
            TsFormat::Tai64n => "TAI64N",
            TsFormat::TimeOnly => "time of day",
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

/// A zone suffix at `i`: `Z`, `±hh:mm`, `±hhmm`, `±hh`, `UTC`/`GMT`
/// (optionally followed by an offset, `GMT+02:00`), or, after one space,
/// `±hhmm` or a zone abbreviation (`PDT`, `CEST`). Returns (offset seconds,
/// next index), the offset `None` for an unknown abbreviation (read as
/// local time, and named once on stderr); `None` when there is no zone.
#[inline]
fn zone_suffix(s: &[u8], i: usize) -> Option<(Option<i32>, usize)> {
    match s.get(i) {
        Some(b'Z') | Some(b'z') if !s.get(i + 1).is_some_and(u8::is_ascii_alphanumeric) => {
            return Some((Some(0), i + 1));
        }
        Some(b'+') | Some(b'-') => {
            return signed_offset(s, i, true).map(|(off, next)| (Some(off), next));
        }
        Some(b'U') | Some(b'G') if matches!(s.get(i..i + 3), Some(b"UTC") | Some(b"GMT")) => {
            return Some(utc_plus(s, i + 3));
        }
        Some(b' ') => {}
        _ => return None,
    }
    match s.get(i + 1) {
        Some(b'+') | Some(b'-') => {
            let (off, next) = signed_offset(s, i + 1, false)?;
            // Only `±hhmm` or `±hh:mm` after a space, followed by a word end.
            let full = next == i + 6 || (next == i + 7 && is(s, i + 4, b':'));
            (full && !is_digit_at(s, next)).then_some((Some(off), next))
        }
        Some(b'U') | Some(b'G') if matches!(s.get(i + 1..i + 4), Some(b"UTC") | Some(b"GMT")) => {
            Some(utc_plus(s, i + 4))
        }
        Some(b'A'..=b'Z') => match zone_name(s, i + 1)? {
            (ZoneName::Known(off), next) => Some((Some(off), next)),
            (ZoneName::Unknown, next) => {
                report_unknown_zone(&s[i + 1..next]);
                Some((None, next))
            }
        },
        _ => None,
    }
}

/// `UTC`/`GMT` ended at `i`, with an optional offset after it.
#[inline]
fn utc_plus(s: &[u8], i: usize) -> (Option<i32>, usize) {
    match s.get(i) {
        Some(b'+' | b'-') => match signed_offset(s, i, true) {
            Some((off, next)) => (Some(off), next),
            None => (Some(0), i),
        },
        _ => (Some(0), i),
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
    let i = match s.get(i) {
        Some(b'T' | b't') => i + 1,
        // One space, or two (apt's `Start-Date: 2026-05-04  10:00:00`).
        Some(b' ') if is(s, i + 1, b' ') => i + 2,
        Some(b' ') => i + 1,
        _ => return None,
    };
    // An hour padded with a space rather than a zero (sssd's
    // `2022-06-08  8:52:40`).
    let (h, m, sec, next) = if is(s, i - 1, b' ') && is(s, i + 1, b':') {
        hms_unpadded(s, i)?
    } else {
        hms(s, i, true)?
    };
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
    zone_finish(s, next, ctx, (year, month, day), clock, ms)
}

fn iso(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
    match iso_common(s) {
        Some((date, clock)) => fraction_zone(s, 19, ctx, date, clock),
        None => iso_general(s, ctx),
    }
}

/// A calendar date: (year, month, day).
type Date = (i32, u32, u32);
/// A time of day: (hours, minutes, seconds).
type Clock = (u32, u32, u32);

/// The shape nearly every ISO stamp has, `YYYY-MM-DDTHH:MM:SS` (`T` or a
/// space), checked and read without a branch per byte: the date and the
/// clock, which [`iso_general`] would read the same way. `None` when `s`
/// does not start with that shape or the clock is out of range (the
/// general reading then decides).
#[inline]
fn iso_common(s: &[u8]) -> Option<(Date, Clock)> {
    const DIGITS: [usize; 14] = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    let b: &[u8; 19] = s.get(..19)?.try_into().ok()?;
    let d = |k: usize| u32::from(b[k].wrapping_sub(b'0'));
    let digits = DIGITS.iter().fold(true, |ok, &k| ok & (d(k) < 10));
    let shape = digits
        & (b[4] == b'-')
        & (b[7] == b'-')
        & ((b[10] == b'T') | (b[10] == b' '))
        & (b[13] == b':')
        & (b[16] == b':');
    if !shape {
        return None;
    }
    let year = (d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3)) as i32;
    let (h, m, sec) = (d(11) * 10 + d(12), d(14) * 10 + d(15), d(17) * 10 + d(18));
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some((
        (year, d(5) * 10 + d(6), d(8) * 10 + d(9)),
        (h, m, sec.min(59)),
    ))
}

/// Every ISO-like stamp: `-`, `/` or `.` between the date's parts, `T`,
/// `t`, one or two spaces before the clock, seconds optional.
fn iso_general(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
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
    // Weekday, month, day, time, optional zone, year — in English
    // (`Sun Dec 04 04:47:44 2005`) or another language.
    let i = weekday_name(s, 0)?;
    if !is(s, i, b' ') {
        return None;
    }
    let (month, i) = month_name(s, i + 1)?;
    if !is(s, i, b' ') {
        return None;
    }
    let (day, i) = day_of_month(s, i + 1)?;
    if !is(s, i, b' ') {
        return None;
    }
    let (h, m, sec, next) = hms(s, i + 1, false)?;
    let (ms, next) = fraction(s, next);
    let (offset, next) = zone_suffix(s, next).unwrap_or((None, next));
    if !is(s, next, b' ') {
        return None;
    }
    let year = d4(s, next + 1)? as i32;
    Some((
        finish(ctx, year, month, day, (h, m, sec), ms, offset)?,
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
    // An optional weekday: `Mon, `, `lun. `, `Mo, `.
    let i = match weekday_name(s, 0) {
        Some(next) if is(s, next, b' ') => next + 1,
        Some(_) => return None,
        None => 0,
    };
    let (day, i) = match (digit(s, i), digit(s, i + 1)) {
        (Some(a), Some(b)) => (a * 10 + b, i + 2),
        (Some(a), None) => (a, i + 1),
        _ => return None,
    };
    // German writes the day with a dot: `4. Mai 2026`.
    let i = if is(s, i, b'.') { i + 1 } else { i };
    let sep = *s.get(i)?;
    if !matches!(sep, b' ' | b'-' | b'/') {
        return None;
    }
    let (month, i) = month_name(s, i + 1)?;
    if !is(s, i, sep) {
        return None;
    }
    // Old Redis writes no year: `13 Apr 12:52:30.731`.
    if sep == b' ' && is(s, i + 3, b':') {
        let (h, m, sec, next) = hms(s, i + 1, false)?;
        let year = ctx.infer_year(month, day);
        return fraction_zone(s, next, ctx, (year, month, day), (h, m, sec));
    }
    let year = d4(s, i + 1)? as i32;
    let i = i + 5;
    let i = if is(s, i, b',') { i + 1 } else { i };
    if !is(s, i, b' ') {
        return None;
    }
    let (h, m, sec, next) = hms(s, i + 1, false)?;
    fraction_zone(s, next, ctx, (year, month, day), (h, m, sec))
}

fn syslog(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
    let (month, i) = month_name(s, 0)?;
    // `Jun 14`, or nextflow's `May-04`.
    if !matches!(s.get(i), Some(b' ' | b'-')) {
        return None;
    }
    let (day, i) = day_of_month(s, i + 1)?;
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
    if !matches!(s.get(2), Some(b'-' | b'.')) || !is(s, 5, b' ') {
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
    if !is(s, 6, b' ') {
        return None;
    }
    let (h, m, sec, next) = if is_digit_at(s, 9) {
        // HDFS: `081109 203615`.
        if is_digit_at(s, 13) {
            return None;
        }
        (d2(s, 7)?, d2(s, 9)?, d2(s, 11)?, 13)
    } else {
        // Old MySQL: `160504 10:00:00`, `160504  9:00:00`.
        let at = if is(s, 7, b' ') { 8 } else { 7 };
        hms_unpadded(s, at)?
    };
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some((
        finish(ctx, century(yy), month, day, (h, m, sec.min(59)), 0, None)?,
        next,
    ))
}

fn glog(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
    if !matches!(s.first(), Some(b'I' | b'W' | b'E' | b'F')) {
        return None;
    }
    let (year, month, day, i) = if is(s, 5, b' ') {
        let (month, day) = (d2(s, 1)?, d2(s, 3)?);
        (ctx.infer_year(month, day), month, day, 6)
    } else if is(s, 9, b' ') {
        (d4(s, 1)? as i32, d2(s, 5)?, d2(s, 7)?, 10)
    } else {
        return None;
    };
    let (h, m, sec, next) = hms(s, i, false)?;
    let (ms, next) = fraction(s, next);
    Some((finish(ctx, year, month, day, (h, m, sec), ms, None)?, next))
}

/// Unix seconds within 2000..2100; ms, µs and ns in the same range.
const EPOCH_SECS: std::ops::Range<i64> = 946_684_800..4_102_444_800;

fn epoch(s: &[u8]) -> Option<(i64, usize)> {
    let mut n: i64 = 0;
    let mut len = 0;
    while let Some(d) = digit(s, len) {
        // Twenty digits overflow; nineteen may too, and are no epoch then.
        n = n.checked_mul(10)?.checked_add(i64::from(d))?;
        len += 1;
        if len > 19 {
            return None;
        }
    }
    let scale = match len {
        10 => {
            if !EPOCH_SECS.contains(&n) {
                return None;
            }
            let (ms, next) = fraction(s, len);
            if next == len && is(s, len, b'.') {
                return None;
            }
            return (!is_digit_at(s, next)).then_some((n * 1000 + i64::from(ms), next));
        }
        13 => 1,
        16 => 1_000,
        19 => 1_000_000,
        _ => return None,
    };
    let ms = n / scale;
    (EPOCH_SECS.contains(&(ms / 1000)) && !is(s, len, b'.')).then_some((ms, len))
}

/// `dd.mm.yyyy hh:mm:ss`, as German and Russian locales write dates.
fn dot_date(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
    let day = d2(s, 0)?;
    if !is(s, 2, b'.') || !is(s, 5, b'.') {
        return None;
    }
    let month = d2(s, 3)?;
    let year = d4(s, 6)? as i32;
    let i = if is(s, 10, b',') { 11 } else { 10 };
    if !is(s, i, b' ') {
        return None;
    }
    let (h, m, sec, next) = hms(s, i + 1, false)?;
    fraction_zone(s, next, ctx, (year, month, day), (h, m, sec))
}

/// `MM/dd/yyyy hh:mm:ss` (see [`TsFormat::SlashDate`]): one- or two-digit
/// month, day and hour, a comma allowed after the date, milliseconds after
/// `.`, `,` or `:`, and `AM`/`PM` after the time.
fn slash_date(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
    let (first, i) = one_or_two(s, 0)?;
    if !is(s, i, b'/') {
        return None;
    }
    let (second, i) = one_or_two(s, i + 1)?;
    if !is(s, i, b'/') {
        return None;
    }
    let year = d4(s, i + 1)? as i32;
    let mut i = i + 5;
    if is(s, i, b',') {
        i += 1;
    }
    if !is(s, i, b' ') {
        return None;
    }
    let (month, day) = if first > 12 {
        (second, first)
    } else {
        (first, second)
    };
    let (h, m, sec, next) = hms_unpadded(s, i + 1)?;
    let (ms, next) = if is(s, next, b':') && is_digit_at(s, next + 1) {
        millis_count(s, next + 1)?
    } else {
        fraction(s, next)
    };
    let (h, next) = match meridiem(s, next) {
        Some((pm, after)) if (1..=12).contains(&h) => (h % 12 + if pm { 12 } else { 0 }, after),
        Some(_) => return None,
        None => (h, next),
    };
    zone_finish(s, next, ctx, (year, month, day), (h, m, sec), ms)
}

/// ` AM` / ` PM` (any case) after a time: (whether PM, next index).
fn meridiem(s: &[u8], i: usize) -> Option<(bool, usize)> {
    let i = if is(s, i, b' ') { i + 1 } else { i };
    let pm = match s.get(i)?.to_ascii_uppercase() {
        b'A' => false,
        b'P' => true,
        _ => return None,
    };
    let m = s.get(i + 1)?.eq_ignore_ascii_case(&b'M');
    let ends = s.get(i + 2).is_none_or(|b| !b.is_ascii_alphanumeric());
    (m && ends).then_some((pm, i + 2))
}

/// An optional zone suffix after a time whose fraction is already read,
/// then the conversion.
#[inline]
fn zone_finish(
    s: &[u8],
    next: usize,
    ctx: &TimeContext,
    (year, month, day): (i32, u32, u32),
    clock: (u32, u32, u32),
    ms: u32,
) -> Option<(i64, usize)> {
    let (offset, next) = zone_suffix(s, next).unwrap_or((None, next));
    Some((finish(ctx, year, month, day, clock, ms, offset)?, next))
}

/// TAI64N: `@`, 16 hex digits of seconds (2^62 + 10 + Unix seconds, the
/// daemontools convention) and 8 of nanoseconds.
fn tai64n(s: &[u8]) -> Option<(i64, usize)> {
    if !is(s, 0, b'@') {
        return None;
    }
    let hex = s.get(1..25)?;
    let mut label: u64 = 0;
    let mut nanos: u64 = 0;
    for (k, &b) in hex.iter().enumerate() {
        let v = u64::from(char::from(b).to_digit(16)?);
        if k < 16 {
            label = label << 4 | v;
        } else {
            nanos = nanos << 4 | v;
        }
    }
    if s.get(25).is_some_and(u8::is_ascii_hexdigit) || nanos >= 1_000_000_000 {
        return None;
    }
    let secs = i64::try_from(label.checked_sub((1 << 62) + 10)?).ok()?;
    if !EPOCH_SECS.contains(&secs) {
        return None;
    }
    Some((secs * 1000 + (nanos / 1_000_000) as i64, 25))
}

/// A time of day alone, `hh:mm:ss[.frac]` with an optional zone, on the
/// reference date.
fn time_only(s: &[u8], ctx: &TimeContext) -> Option<(i64, usize)> {
    let (h, m, sec, next) = hms(s, 0, false)?;
    if is(s, next, b':') {
        return None;
    }
    fraction_zone(s, next, ctx, ctx.reference, (h, m, sec))
}

/// Unix ms of an RFC 3339 / ISO 8601 string as found in a JSON field
/// (`"2026-02-12T10:00:00Z"`); the whole string must be a timestamp.
pub fn parse_iso_exact(s: &[u8], ctx: &TimeContext) -> Option<i64> {
    let (ms, used) = iso(s, ctx)?;
    (used == s.len()).then_some(ms)
}

#[cfg(test)]
mod iso_tests {
    use super::*;
    use crate::timestamp::Zone;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn common_shape_reads_like_the_general_reading(
            stamp in "[0-9]{4}[-/.][0-9]{2}[-/.][0-9]{2}[Tt ]{1,2}[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?([.,][0-9]{1,9})?(Z| ?[+-][0-9]{2}:?[0-9]{2}| [A-Z]{3,4})?",
            noise in proptest::collection::vec(any::<u8>(), 0..3),
            at in 0usize..24,
        ) {
            let ctx = TimeContext::new(Zone::utc(), 0);
            let mut s = stamp.into_bytes();
            if at < s.len() && !noise.is_empty() {
                s[at] = noise[0];
            }
            s.extend_from_slice(b" message");
            prop_assert_eq!(iso(&s, &ctx), iso_general(&s, &ctx));
        }
    }
}

#[cfg(test)]
mod epoch_tests {
    use super::*;

    #[test]
    fn nineteen_digits_past_the_range_are_no_epoch_and_no_overflow() {
        assert_eq!(epoch(b"7777777777777777777=x"), None);
        assert_eq!(epoch(b"9999999999999999999"), None);
        assert_eq!(epoch(b"99999999999999999999"), None);
    }

    #[test]
    fn nanoseconds_in_range_are_read() {
        let (ms, used) = epoch(b"1700000000123456789 rest").expect("ns epoch");
        assert_eq!((ms, used), (1_700_000_000_123, 19));
    }
}

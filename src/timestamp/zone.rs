//! Civil time ↔ Unix milliseconds, with the zone offsets cached.
//!
//! Log lines mostly carry wall-clock times without a zone; they are read in
//! local time (or a zone given by the user). Converting through `jiff` for
//! every line would cost more than parsing the line, so offsets are looked up
//! once per 15-minute bucket and cached in a single atomic word (key and
//! offset packed together), which keeps [`Zone`] `Sync` and lock-free.

use std::sync::atomic::{AtomicU64, Ordering};

use jiff::tz::TimeZone;

const MS_PER_DAY: i64 = 86_400_000;
/// Cache granularity: zone transitions fall on quarter hours.
const BUCKET_MS: i64 = 15 * 60 * 1000;
const EMPTY: u64 = u64::MAX;

/// Days since 1970-01-01 of a proleptic Gregorian date.
#[inline]
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01: (year, month, day).
#[inline]
pub fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

/// Number of days in a month.
#[inline]
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Whether (year, month, day) is a date of the proleptic Gregorian calendar.
#[inline]
pub fn valid_date(year: i32, month: u32, day: u32) -> bool {
    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

/// A time zone with cached offsets, for reading and printing wall-clock times.
#[derive(Debug)]
pub struct Zone {
    tz: TimeZone,
    /// Local bucket → offset (for local → UTC).
    to_utc: AtomicU64,
    /// UTC bucket → offset (for UTC → local).
    to_local: AtomicU64,
}

impl Clone for Zone {
    fn clone(&self) -> Self {
        Zone::new(self.tz.clone())
    }
}

impl Zone {
    /// Wraps a `jiff` time zone.
    pub fn new(tz: TimeZone) -> Zone {
        Zone {
            tz,
            to_utc: AtomicU64::new(EMPTY),
            to_local: AtomicU64::new(EMPTY),
        }
    }

    /// The system's local zone (`TZ`, `/etc/localtime`), UTC if unknown.
    pub fn local() -> Zone {
        Zone::new(TimeZone::try_system().unwrap_or(TimeZone::UTC))
    }

    /// UTC.
    pub fn utc() -> Zone {
        Zone::new(TimeZone::UTC)
    }

    /// The wrapped zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Unix ms of a wall-clock time in this zone (`local_ms` counts ms since
    /// 1970-01-01T00:00 local). Ambiguous or skipped times resolve as
    /// `jiff`'s "compatible" rule does.
    #[inline]
    pub fn local_to_utc(&self, local_ms: i64) -> i64 {
        let bucket = local_ms.div_euclid(BUCKET_MS);
        let offset_ms = cached(&self.to_utc, bucket, || {
            let secs = bucket * BUCKET_MS / 1000;
            let Ok(ts) = jiff::Timestamp::from_second(secs) else {
                return 0;
            };
            let civil = TimeZone::UTC.to_datetime(ts);
            match self.tz.to_ambiguous_timestamp(civil).compatible() {
                Ok(utc) => (secs - utc.as_second()) as i32,
                Err(_) => 0,
            }
        });
        local_ms - offset_ms
    }

    /// Wall-clock ms (since 1970-01-01T00:00 local) of a Unix ms.
    #[inline]
    pub fn utc_to_local(&self, utc_ms: i64) -> i64 {
        let bucket = utc_ms.div_euclid(BUCKET_MS);
        let offset_ms = cached(
            &self.to_local,
            bucket,
            || match jiff::Timestamp::from_second(bucket * BUCKET_MS / 1000) {
                Ok(ts) => self.tz.to_offset(ts).seconds(),
                Err(_) => 0,
            },
        );
        utc_ms + offset_ms
    }
}

/// Looks `bucket` up in a one-entry cache packed as (bucket: i32, offset
/// seconds: i32), computing and storing it on a miss. Returns the offset in ms.
#[inline]
fn cached(cell: &AtomicU64, bucket: i64, compute: impl FnOnce() -> i32) -> i64 {
    let word = cell.load(Ordering::Relaxed);
    let key = bucket as i32 as u32;
    if word != EMPTY && (word >> 32) as u32 == key && i64::from(key as i32) == bucket {
        return i64::from(word as u32 as i32) * 1000;
    }
    let offset = compute();
    if i64::from(key as i32) == bucket {
        cell.store(
            (u64::from(key) << 32) | u64::from(offset as u32),
            Ordering::Relaxed,
        );
    }
    i64::from(offset) * 1000
}

/// Local ms since the epoch of a civil date and time.
#[inline]
pub fn civil_ms(year: i32, month: u32, day: u32, hour: u32, min: u32, sec: u32, ms: u32) -> i64 {
    day_ms(days_from_civil(year, month, day), (hour, min, sec), ms)
}

/// Local ms since the epoch of a day number (days since 1970-01-01) and a
/// time of day.
#[inline]
pub fn day_ms(days: i64, (hour, min, sec): (u32, u32, u32), ms: u32) -> i64 {
    days * MS_PER_DAY
        + i64::from(hour) * 3_600_000
        + i64::from(min) * 60_000
        + i64::from(sec) * 1000
        + i64::from(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips() {
        for days in [-800_000i64, -1, 0, 1, 10_957, 19_000, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn zones_convert_both_ways() {
        let zone = Zone::new(TimeZone::get("Europe/Berlin").unwrap());
        // 2024-07-01 12:00 in Berlin is 10:00 UTC (summer time).
        let local = civil_ms(2024, 7, 1, 12, 0, 0, 0);
        assert_eq!(zone.local_to_utc(local), civil_ms(2024, 7, 1, 10, 0, 0, 0));
        assert_eq!(
            zone.utc_to_local(civil_ms(2024, 1, 1, 10, 0, 0, 0)),
            civil_ms(2024, 1, 1, 11, 0, 0, 0)
        );
        assert_eq!(Zone::utc().local_to_utc(local), local);
    }
}

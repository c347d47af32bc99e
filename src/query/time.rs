//! `--since` / `--until` expressions: relative (`30s`, `15m`, `1h`, `2d`,
//! `1h30m`), `now`, `today`, `yesterday`, and absolute times
//! (`2026-02-12 10:00`, `2026-02-12T10:00:00Z`, `2026-02-12`, `10:00`, epoch
//! seconds). Times without a zone are local.

use crate::timestamp::zone::{civil_from_days, civil_ms};
use crate::timestamp::{TimeContext, parse_iso_exact};

/// A time expression that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot read the time `{0}`: use a duration ago (30s, 15m, 1h, 2d, 1h30m), now, today, yesterday, a date and time (2026-02-12 10:00, 2026-02-12T10:00:00Z, 2026-02-12) or a time today (10:00)"
)]
pub struct BadTime(pub String);

const MS_PER_DAY: i64 = 86_400_000;

/// Parses a time expression relative to `now_ms` in `ctx`'s zone.
pub fn parse_time(expr: &str, now_ms: i64, ctx: &TimeContext) -> Result<i64, BadTime> {
    let bad = || BadTime(expr.to_string());
    let s = expr.trim();
    let today_start = || {
        let local = ctx.zone.utc_to_local(now_ms);
        ctx.zone
            .local_to_utc(local.div_euclid(MS_PER_DAY) * MS_PER_DAY)
    };
    match s.to_ascii_lowercase().as_str() {
        "" => return Err(bad()),
        "now" => return Ok(now_ms),
        "today" => return Ok(today_start()),
        "yesterday" => {
            let local = ctx.zone.utc_to_local(now_ms);
            let day = local.div_euclid(MS_PER_DAY) - 1;
            return Ok(ctx.zone.local_to_utc(day * MS_PER_DAY));
        }
        _ => {}
    }
    if let Some(ago) = parse_duration(s.strip_suffix(" ago").unwrap_or(s)) {
        return Ok(now_ms - ago);
    }
    if let Some(ms) = parse_iso_exact(s.as_bytes(), ctx) {
        return Ok(ms);
    }
    if let Some(ms) = date_only(s, ctx) {
        return Ok(ms);
    }
    if let Some(ms) = time_today(s, now_ms, ctx) {
        return Ok(ms);
    }
    if s.len() == 10 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().map(|secs| secs * 1000).map_err(|_| bad());
    }
    Err(bad())
}

/// `30s`, `15m`, `1h30m`, `2d`, `1w`, `500ms`, `1.5s` → milliseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        // A number, with an optional fraction (`1.5s`).
        let int = rest.bytes().take_while(u8::is_ascii_digit).count();
        let frac = match rest.as_bytes().get(int) {
            Some(b'.') => {
                1 + rest[int + 1..]
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .count()
            }
            _ => 0,
        };
        let digits = int + frac;
        if int == 0 || frac == 1 {
            return None;
        }
        let n: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale = match unit {
            "ms" => 1,
            "s" | "sec" | "secs" => 1000,
            "m" | "min" | "mins" => 60_000,
            "h" | "hr" | "hour" | "hours" => 3_600_000,
            "d" | "day" | "days" => MS_PER_DAY,
            "w" | "week" | "weeks" => 7 * MS_PER_DAY,
            _ => return None,
        };
        let ms = (n * scale as f64).round();
        if !ms.is_finite() || ms >= i64::MAX as f64 {
            return None;
        }
        total = total.checked_add(ms as i64)?;
    }
    Some(total)
}

fn date_only(s: &str, ctx: &TimeContext) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i32 = s[..4].parse().ok()?;
    let month: u32 = s[5..7].parse().ok()?;
    let day: u32 = s[8..10].parse().ok()?;
    if !crate::timestamp::zone::valid_date(year, month, day) {
        return None;
    }
    Some(
        ctx.zone
            .local_to_utc(civil_ms(year, month, day, 0, 0, 0, 0)),
    )
}

fn time_today(s: &str, now_ms: i64, ctx: &TimeContext) -> Option<i64> {
    let mut parts = s.split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let sec: u32 = match parts.next() {
        Some(p) => p.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() || h > 23 || m > 59 || sec > 59 || !s.contains(':') {
        return None;
    }
    let local = ctx.zone.utc_to_local(now_ms);
    let (y, mo, d) = civil_from_days(local.div_euclid(MS_PER_DAY));
    Some(ctx.zone.local_to_utc(civil_ms(y, mo, d, h, m, sec, 0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::Zone;

    #[test]
    fn parses_every_documented_form() {
        let now = civil_ms(2026, 2, 12, 15, 30, 0, 0);
        let ctx = TimeContext::new(Zone::utc(), now);
        let t = |s: &str| parse_time(s, now, &ctx).unwrap();
        assert_eq!(t("30s"), now - 30_000);
        assert_eq!(t("15m"), now - 900_000);
        assert_eq!(t("1h"), now - 3_600_000);
        assert_eq!(t("2d"), now - 2 * MS_PER_DAY);
        assert_eq!(t("1h30m"), now - 5_400_000);
        assert_eq!(t("1.5s"), now - 1_500);
        assert_eq!(t("now"), now);
        assert_eq!(t("today"), civil_ms(2026, 2, 12, 0, 0, 0, 0));
        assert_eq!(t("yesterday"), civil_ms(2026, 2, 11, 0, 0, 0, 0));
        assert_eq!(t("2026-02-12 10:00"), civil_ms(2026, 2, 12, 10, 0, 0, 0));
        assert_eq!(
            t("2026-02-12T10:00:00Z"),
            civil_ms(2026, 2, 12, 10, 0, 0, 0)
        );
        assert_eq!(
            t("2026-02-12T10:00:00+01:00"),
            civil_ms(2026, 2, 12, 9, 0, 0, 0)
        );
        assert_eq!(t("2026-02-10"), civil_ms(2026, 2, 10, 0, 0, 0, 0));
        assert_eq!(t("10:00"), civil_ms(2026, 2, 12, 10, 0, 0, 0));
        assert_eq!(t("1700000000"), 1_700_000_000_000);
    }

    #[test]
    fn rejects_nonsense_with_the_accepted_forms() {
        let ctx = TimeContext::new(Zone::utc(), 0);
        for s in [
            "",
            "soon",
            "1x",
            "h1",
            "2026-13-01",
            "25:00",
            "-5m",
            "1h 30m",
        ] {
            let err = parse_time(s, 0, &ctx).unwrap_err();
            assert!(err.to_string().contains("30s, 15m"), "{s}");
        }
    }
}

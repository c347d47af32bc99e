//! Restart schedules: standard five-field cron expressions
//! (`minute hour day-of-month month day-of-week`, as in crontab(5)),
//! evaluated in local time by the `croner` crate.
//!
//! As in cron, when both the day of the month and the day of the week are
//! restricted, a day matching either one fires (`0 0 13 * FRI` fires on
//! every 13th and on every Friday). Names (`JAN`, `MON`), ranges, lists,
//! steps and the nicknames `@hourly`, `@daily`, `@weekly`, `@monthly` and
//! `@yearly` are accepted; a seconds or year field is not.

use chrono::{DateTime, Local, TimeZone};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// A parsed restart schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
}

impl Schedule {
    /// Parses a five-field expression; the error names the problem.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let trimmed = text.trim();
        let fields = trimmed.split_whitespace().count();
        if !trimmed.starts_with('@') && fields != 5 {
            return Err(format!(
                "invalid cron expression '{text}': expected five fields (minute hour day-of-month month day-of-week), e.g. \"0 3 * * *\", found {fields}"
            ));
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build();
        let cron = parser
            .parse(trimmed)
            .map_err(|err| format!("invalid cron expression '{text}': {err}"))?;
        Ok(Schedule { cron })
    }

    /// The first time strictly after `after` that the schedule fires, in
    /// `after`'s time zone; `None` if it never fires again.
    pub fn next_after<Tz: TimeZone>(&self, after: &DateTime<Tz>) -> Option<DateTime<Tz>> {
        self.cron.find_next_occurrence(after, false).ok()
    }

    /// The next firing after `now_ms` (Unix milliseconds), in local time,
    /// as Unix milliseconds.
    pub fn next_after_ms(&self, now_ms: u64) -> Option<u64> {
        let now = Local.timestamp_millis_opt(now_ms as i64).single()?;
        let next = self.next_after(&now)?;
        u64::try_from(next.timestamp_millis()).ok()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn next(expr: &str, after: &str) -> String {
        let after: DateTime<Utc> = after.parse().unwrap();
        Schedule::parse(expr)
            .unwrap()
            .next_after(&after)
            .unwrap()
            .format("%Y-%m-%d %H:%M:%S %a")
            .to_string()
    }

    #[test]
    fn next_firings() {
        assert_eq!(
            next("0 3 * * *", "2026-03-01T02:59:59Z"),
            "2026-03-01 03:00:00 Sun"
        );
        // Strictly after: at the firing time itself, the next one is a day later.
        assert_eq!(
            next("0 3 * * *", "2026-03-01T03:00:00Z"),
            "2026-03-02 03:00:00 Mon"
        );
        assert_eq!(
            next("*/15 * * * *", "2026-03-01T10:07:30Z"),
            "2026-03-01 10:15:00 Sun"
        );
        assert_eq!(
            next("* * * * *", "2026-03-01T10:07:30Z"),
            "2026-03-01 10:08:00 Sun"
        );
        assert_eq!(
            next("30 9 * * MON-FRI", "2026-03-06T10:00:00Z"),
            "2026-03-09 09:30:00 Mon"
        );
        assert_eq!(
            next("0 0 1 JAN *", "2026-03-01T00:00:00Z"),
            "2027-01-01 00:00:00 Fri"
        );
        assert_eq!(
            next("@hourly", "2026-03-01T10:07:30Z"),
            "2026-03-01 11:00:00 Sun"
        );
        // Day of month or day of week, as cron does: the 13th or a Friday.
        assert_eq!(
            next("0 0 13 * FRI", "2026-03-01T00:00:00Z"),
            "2026-03-06 00:00:00 Fri"
        );
        assert_eq!(
            next("0 0 13 * FRI", "2026-03-12T00:00:00Z"),
            "2026-03-13 00:00:00 Fri"
        );
        assert_eq!(
            next("0 12 29 2 *", "2026-03-01T00:00:00Z"),
            "2028-02-29 12:00:00 Tue"
        );
    }

    #[test]
    fn local_time_in_milliseconds() {
        let schedule = Schedule::parse("* * * * *").unwrap();
        let now = 1_772_359_650_000; // 2026-03-01 10:07:30 UTC
        let at = schedule.next_after_ms(now).unwrap();
        assert!(at > now && at - now <= 60_000, "{at}");
        assert_eq!(at % 1000, 0);
    }

    #[test]
    fn refusals() {
        for bad in [
            "",
            "* * * *",
            "0 * * * * *",
            "0 0 * * * 2026",
            "61 * * * *",
            "* 24 * * *",
            "* * 32 * *",
            "* * * 13 *",
            "* * * * 8",
            "x * * * *",
            "*/0 * * * *",
            "5-1x * * * *",
        ] {
            let err = Schedule::parse(bad).expect_err(bad);
            assert!(err.contains("invalid cron expression"), "{bad}: {err}");
        }
    }
}

//! The query: which records `velos logs` keeps — `--grep`, `--level`,
//! `--since`, `--until` — all applied in one pass, cheapest test first.

pub mod time;

use regex::bytes::{Regex, RegexBuilder};

use crate::level::{Level, LevelSet, UnknownLevel};
use crate::timestamp::TimeContext;

pub use time::{BadTime, parse_duration, parse_time};

/// A filter that could not be built from its flag.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// `--grep` is not a valid regex.
    #[error("invalid --grep pattern: {0}")]
    BadRegex(String),
    /// `--level` names no level.
    #[error(transparent)]
    UnknownLevel(#[from] UnknownLevel),
    /// `--since`/`--until` could not be read.
    #[error("{flag}: {reason}")]
    BadTime {
        /// `--since` or `--until`.
        flag: &'static str,
        /// What was wrong.
        reason: BadTime,
    },
    /// `--since` later than `--until`.
    #[error("--since is after --until: nothing can match; swap them")]
    EmptyRange,
}

/// The record filters of one run.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Records whose text matches (`^`/`$` match at line ends).
    pub grep: Option<Regex>,
    /// Records whose level is in the set.
    pub levels: Option<LevelSet>,
    /// Records at or after this time (Unix ms).
    pub since: Option<i64>,
    /// Records at or before this time (Unix ms).
    pub until: Option<i64>,
}

/// The query flags as typed.
#[derive(Debug, Clone, Default)]
pub struct QuerySpec<'a> {
    /// `--grep`.
    pub grep: Option<&'a str>,
    /// `-i`.
    pub ignore_case: bool,
    /// `--level`.
    pub level: Option<&'a str>,
    /// `--since`.
    pub since: Option<&'a str>,
    /// `--until`.
    pub until: Option<&'a str>,
}

impl Query {
    /// Builds the query from its flags; times relative to `now_ms`.
    pub fn build(
        spec: &QuerySpec<'_>,
        now_ms: i64,
        ctx: &TimeContext,
    ) -> Result<Query, QueryError> {
        let grep = spec
            .grep
            .map(|pattern| {
                RegexBuilder::new(pattern)
                    .case_insensitive(spec.ignore_case)
                    .multi_line(true)
                    .crlf(true)
                    .size_limit(64 << 20)
                    .build()
                    .map_err(|e| QueryError::BadRegex(one_line(&e.to_string())))
            })
            .transpose()?;
        let levels = spec.level.map(LevelSet::parse).transpose()?;
        let time = |flag: &'static str, expr: Option<&str>| {
            expr.map(|e| {
                parse_time(e, now_ms, ctx).map_err(|reason| QueryError::BadTime { flag, reason })
            })
            .transpose()
        };
        let since = time("--since", spec.since)?;
        let until = time("--until", spec.until)?;
        if let (Some(s), Some(u)) = (since, until)
            && s > u
        {
            return Err(QueryError::EmptyRange);
        }
        Ok(Query {
            grep,
            levels: levels.filter(|l| !l.is_all()),
            since,
            until,
        })
    }

    /// Whether the query filters nothing.
    pub fn is_empty(&self) -> bool {
        self.grep.is_none() && self.levels.is_none() && !self.has_time()
    }

    /// Whether a time bound is set.
    pub fn has_time(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }

    /// Whether a record's time passes the bounds. A record without a time
    /// fails any bound.
    #[inline]
    pub fn time_ok(&self, ts: Option<i64>) -> bool {
        if !self.has_time() {
            return true;
        }
        let Some(ts) = ts else { return false };
        self.since.is_none_or(|s| ts >= s) && self.until.is_none_or(|u| ts <= u)
    }

    /// Whether a level passes.
    #[inline]
    pub fn level_ok(&self, level: Level) -> bool {
        self.levels.is_none_or(|set| set.contains(level))
    }
}

/// Regex errors span lines with a caret diagram; keep the message on one.
fn one_line(msg: &str) -> String {
    let last = msg
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(msg);
    let last = last.trim().trim_start_matches("error: ");
    let pattern = msg.lines().nth(1).map(str::trim).unwrap_or("");
    if pattern.is_empty() {
        format!("{last} (see https://docs.rs/regex/#syntax)")
    } else {
        format!("{last} in `{pattern}` (see https://docs.rs/regex/#syntax)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::Zone;

    #[test]
    fn bad_flags_give_one_line_errors() {
        let ctx = TimeContext::new(Zone::utc(), 0);
        let err = Query::build(
            &QuerySpec {
                grep: Some("a(b"),
                ..Default::default()
            },
            0,
            &ctx,
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("invalid --grep pattern: "), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
        let err = Query::build(
            &QuerySpec {
                level: Some("loud"),
                ..Default::default()
            },
            0,
            &ctx,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown level `loud`"));
        let err = Query::build(
            &QuerySpec {
                since: Some("soon"),
                ..Default::default()
            },
            0,
            &ctx,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("--since: cannot read the time `soon`")
        );
        let spec = QuerySpec {
            since: Some("1h"),
            until: Some("2h"),
            ..Default::default()
        };
        assert!(matches!(
            Query::build(&spec, 10_000_000, &ctx),
            Err(QueryError::EmptyRange)
        ));
    }

    #[test]
    fn every_level_is_no_filter() {
        let ctx = TimeContext::new(Zone::utc(), 0);
        let q = Query::build(
            &QuerySpec {
                level: Some("debug+"),
                ..Default::default()
            },
            0,
            &ctx,
        )
        .unwrap();
        assert!(q.is_empty());
    }
}

//! The finished report: what the stages found (counts, patterns and
//! trends, anomalies, dedup groups) and the health score. It is rendered
//! by [`crate::output::summary`]; it says what it could not compute and
//! why ([`Report::anomalies_unavailable`], [`Report::trends_unavailable`]).
//!
//! **Health score** = 100 − errors × 5 − anomalies × 10 − restarts × 3,
//! clamped to 0..100, where *errors* is the share of error and fatal
//! records in percent (a busy healthy service is not scored 0 for a handful
//! of errors), *anomalies* counts anomaly events (consecutive anomalous
//! minutes of one metric count once), and *restarts* the supervisor's
//! restarts after a crash in the period.

use super::anomaly::{self, Anomaly, Timeline};
use super::counts::Counts;
use super::dedup::Group;
use super::trends::PatternTrend;

/// Everything the stages found.
#[derive(Debug, Clone)]
pub struct Report {
    /// Totals.
    pub counts: Counts,
    /// Dedup groups (when the stage is on).
    pub dedup: Option<Vec<Group>>,
    /// Patterns with trends, most frequent first (when the stage is on).
    pub trends: Option<Vec<PatternTrend>>,
    /// Anomalous minutes (when the stage is on).
    pub anomalies: Option<Vec<Anomaly>>,
    /// Records and errors per minute (with the anomaly stage).
    pub timeline: Option<Timeline>,
    /// Minutes of history anomaly detection needs.
    pub warmup_minutes: usize,
    /// Records whose templates were beyond the sample of distinct
    /// templates kept (see `TemplateCounts`).
    pub beyond_sample: u64,
    /// Distinct patterns.
    pub pattern_count: usize,
    /// Distinct exact templates.
    pub template_count: usize,
    /// First and last record time.
    pub period: Option<(i64, i64)>,
}

/// The health score and its parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Health {
    /// 0..100.
    pub score: u8,
    /// Error and fatal records, percent of all records.
    pub error_percent: f64,
    /// Anomaly events.
    pub anomalies: usize,
    /// Restarts after a crash.
    pub restarts: u64,
}

impl Health {
    /// Points taken off for errors.
    pub fn error_penalty(&self) -> f64 {
        self.error_percent * 5.0
    }

    /// Points taken off for anomalies.
    pub fn anomaly_penalty(&self) -> f64 {
        self.anomalies as f64 * 10.0
    }

    /// Points taken off for restarts.
    pub fn restart_penalty(&self) -> f64 {
        self.restarts as f64 * 3.0
    }
}

impl Report {
    /// Why anomalies could not be looked for, if they could not.
    pub fn anomalies_unavailable(&self) -> Option<String> {
        self.anomalies.as_ref()?;
        match self.period {
            None => Some("no record has a timestamp".into()),
            Some((a, b)) => {
                let minutes = (b.div_euclid(60_000) - a.div_euclid(60_000) + 1) as usize;
                (minutes <= self.warmup_minutes).then(|| {
                    format!(
                        "the period covers {minutes} minute{}; detection needs more than {} minutes of history",
                        if minutes == 1 { "" } else { "s" },
                        self.warmup_minutes
                    )
                })
            }
        }
    }

    /// Why trends could not be computed, if they could not.
    pub fn trends_unavailable(&self) -> Option<String> {
        match self.period {
            None => Some("no record has a timestamp".into()),
            Some((a, b)) => {
                let minutes = b.div_euclid(60_000) - a.div_euclid(60_000) + 1;
                (minutes < super::trends::MIN_TREND_MINUTES).then(|| {
                    format!(
                        "the period covers {minutes} minute{}; a trend needs {} or more",
                        if minutes == 1 { "" } else { "s" },
                        super::trends::MIN_TREND_MINUTES
                    )
                })
            }
        }
    }

    /// The health score of the period.
    pub fn health(&self) -> Health {
        let error_percent = if self.counts.records == 0 {
            0.0
        } else {
            self.counts.errors() as f64 * 100.0 / self.counts.records as f64
        };
        let anomalies = self.anomalies.as_deref().map_or(0, anomaly::events);
        let restarts = self.counts.restarts;
        let raw = 100.0 - error_percent * 5.0 - anomalies as f64 * 10.0 - restarts as f64 * 3.0;
        Health {
            score: raw.round().clamp(0.0, 100.0) as u8,
            error_percent,
            anomalies,
            restarts,
        }
    }
}

//! Anomalies: minutes whose error rate (error and fatal records per
//! minute) or log volume (records per minute) stands out from the hour
//! before.
//!
//! For every minute of the period, the mean and standard deviation of the
//! previous `history` minutes (60 by default; silent minutes count as
//! zero) are computed; a value above mean + 2σ is a warning, above
//! mean + 3σ critical. Nothing is reported before `warmup` minutes (10) of
//! history exist.
//!
//! **Flat or sparse history.** A count that never moved has σ = 0, and any
//! change would be infinitely many deviations away; a rare event (a few
//! errors an hour) has a sample σ that makes ordinary Poisson noise look
//! anomalous. So σ is floored at `√(mean + 1)` — the spread of a Poisson
//! count with that mean, plus one event of slack: after an hour of zero
//! errors, 3 errors in a minute are a warning and 4 critical; at 0.8 errors a
//! minute it takes 4 and 5; after a steady 100 records a minute, 121 are a
//! warning and 131 critical.

use super::idmap::IdMap;
use serde::Serialize;

use super::stage::{Finish, LogProcessor, Observed, minute_of};
use crate::level::Level;

/// The metric an anomaly is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Error and fatal records per minute.
    ErrorRate,
    /// Records per minute.
    LogVolume,
}

impl Metric {
    /// Display name.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::ErrorRate => "error_rate",
            Metric::LogVolume => "log_volume",
        }
    }
}

/// How far out a minute is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Above mean + warning σ.
    Warning,
    /// Above mean + critical σ.
    Critical,
}

impl Severity {
    /// Display name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// One anomalous minute.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    /// Start of the minute, Unix ms.
    pub minute: i64,
    /// What stood out.
    pub metric: Metric,
    /// The minute's value.
    pub value: u64,
    /// Mean over the history.
    pub mean: f64,
    /// Deviation used (floored, see the module docs).
    pub sigma: f64,
    /// (value − mean) / σ.
    pub distance: f64,
    /// Warning or critical.
    pub severity: Severity,
}

/// The anomaly stage: counts per minute.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Anomalies {
    minutes: IdMap<i64, (u64, u64)>,
    /// The minute being counted (records mostly come in time order), not
    /// yet in `minutes`.
    current: Option<(i64, u64, u64)>,
}

impl Anomalies {
    fn flush(&mut self) {
        if let Some((minute, total, errors)) = self.current.take() {
            let slot = self.minutes.entry(minute).or_default();
            slot.0 += total;
            slot.1 += errors;
        }
    }
}

impl LogProcessor for Anomalies {
    type Part = Vec<Anomaly>;

    #[inline]
    fn observe(&mut self, rec: &Observed<'_>) {
        let Some(minute) = rec.minute else { return };
        let error = u64::from(rec.level >= Level::Error);
        match &mut self.current {
            Some((m, total, errors)) if *m == minute => {
                *total += 1;
                *errors += error;
            }
            _ => {
                self.flush();
                self.current = Some((minute, 1, error));
            }
        }
    }

    fn merge(&mut self, mut next: Anomalies) {
        self.flush();
        next.flush();
        for (minute, (total, errors)) in next.minutes {
            let slot = self.minutes.entry(minute).or_default();
            slot.0 += total;
            slot.1 += errors;
        }
    }

    fn finish(mut self, ctx: &Finish<'_>) -> Vec<Anomaly> {
        self.flush();
        let Some((first, last)) = ctx.period else {
            return Vec::new();
        };
        let cfg = ctx.config;
        let (start, end) = (minute_of(first), minute_of(last));
        let len = (end - start + 1) as usize;
        let mut volume = vec![0u64; len];
        let mut errors = vec![0u64; len];
        for (minute, (total, errs)) in self.minutes {
            if (start..=end).contains(&minute) {
                volume[(minute - start) as usize] = total;
                errors[(minute - start) as usize] = errs;
            }
        }
        let mut found = Vec::new();
        for (metric, series) in [(Metric::ErrorRate, &errors), (Metric::LogVolume, &volume)] {
            detect(series, start, metric, cfg, &mut found);
        }
        found.sort_by(|a, b| {
            a.minute
                .cmp(&b.minute)
                .then((a.metric as u8).cmp(&(b.metric as u8)))
        });
        found
    }
}

fn detect(
    series: &[u64],
    start_minute: i64,
    metric: Metric,
    cfg: &super::PipelineConfig,
    out: &mut Vec<Anomaly>,
) {
    let history = cfg.history_minutes.max(1);
    // Rolling sums over the previous `history` minutes.
    let (mut sum, mut sum_sq) = (0f64, 0f64);
    for (i, &value) in series.iter().enumerate() {
        let n = i.min(history);
        if i >= cfg.warmup_minutes.max(1) && n > 0 {
            let mean = sum / n as f64;
            let var = (sum_sq / n as f64 - mean * mean).max(0.0);
            let sigma = var.sqrt().max((mean + 1.0).sqrt());
            let v = value as f64;
            let severity = if v > mean + cfg.critical_sigma * sigma {
                Some(Severity::Critical)
            } else if v > mean + cfg.warning_sigma * sigma {
                Some(Severity::Warning)
            } else {
                None
            };
            if let Some(severity) = severity {
                out.push(Anomaly {
                    minute: (start_minute + i as i64) * 60_000,
                    metric,
                    value,
                    mean,
                    sigma,
                    distance: (v - mean) / sigma,
                    severity,
                });
            }
        }
        let v = value as f64;
        sum += v;
        sum_sq += v * v;
        if i >= history {
            let old = series[i - history] as f64;
            sum -= old;
            sum_sq -= old * old;
        }
    }
}

/// Anomaly *events*: runs of consecutive anomalous minutes of one metric
/// count once (a five-minute burst is one event, not five).
pub fn events(anomalies: &[Anomaly]) -> usize {
    let mut count = 0;
    let mut last: [Option<i64>; 2] = [None, None];
    for a in anomalies {
        let slot = &mut last[a.metric as usize];
        if slot.is_none_or(|prev| a.minute - prev > 60_000) {
            count += 1;
        }
        *slot = Some(a.minute);
    }
    count
}

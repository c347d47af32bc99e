//! Anomalies: minutes whose error rate (error and fatal records per
//! minute) or log volume (records per minute) stands out from the hour
//! before, with a false-alarm budget.
//!
//! **Expected count.** For every minute, a straight line is fitted through
//! the previous `history` minutes (60 by default; silent minutes count as
//! zero) and extended to the minute — when the history shows a slope at
//! all (twice its standard error), else its mean is used: that is the
//! expected count `m` (a daily swing is followed, not mistaken for an
//! anomaly). Nothing is reported before
//! `warmup` minutes (10) of history exist.
//!
//! **Spread from a count model.** Counts of independent events are
//! Poisson: their variance is their mean. Logs are often over-dispersed
//! (bursts, batches): the dispersion index (variance over mean, measured
//! on minute-to-minute differences so a slow swing does not count) of the
//! last hour and of the last `burst_history` (30 days), and the spread around
//! the fitted line, scale the variance up when they exceed one. For the
//! volume a count must also be rare against the mean and dispersion of the
//! whole burst history: a log that comes in a few batches a day (cron,
//! package installs) learns from its first bursts that they are normal,
//! and the volume of a log that is not a stream (records in fewer than
//! half of the minutes of the hour before) is not judged at all: a batch
//! after silence is how such a log is written. The uncertainty of the
//! fitted line is added too. The count is then tested against a negative
//! binomial distribution with that mean and variance (the Poisson when the
//! dispersion is one): its chance of a count at least as high.
//!
//! **Corrected for the minutes tested.** `warning_sigma` and
//! `critical_sigma` (2 and 3) name how rare a count must be in the normal
//! scale, *per `span`* (6 h) rather than per minute: every minute is tested
//! four times (two metrics, alone and summed over the last five minutes, so
//! a sustained storm is caught even when each of its minutes alone is
//! not), so a minute is a warning when its chance is below
//! Φ̄(warning_sigma) / (4 × span in minutes). The chance that any minute of
//! a 6-hour span is a false warning is then at most that of one 2σ
//! excursion, 2.3 %: at most 0.09 false events a day, whatever the rate.

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
    /// Minutes the count covers, ending with this one (1 or 5).
    pub window: u32,
    /// The count over the window.
    pub value: u64,
    /// Expected count over the window.
    pub mean: f64,
    /// Spread of the count model (standard deviation).
    pub sigma: f64,
    /// (value − mean) / σ.
    pub distance: f64,
    /// Chance of a count at least this high in a normal window.
    pub chance: f64,
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

/// Records and error records per minute over the period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    /// The first minute, Unix ms.
    pub start: i64,
    /// Records per minute.
    pub records: Vec<u64>,
    /// Error and fatal records per minute.
    pub errors: Vec<u64>,
}

/// What the anomaly stage finds: the anomalous minutes and the per-minute
/// counts they were found in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    /// Anomalous minutes, in time order.
    pub anomalies: Vec<Anomaly>,
    /// The counts per minute.
    pub timeline: Timeline,
}

impl LogProcessor for Anomalies {
    type Part = Found;

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

    fn finish(mut self, ctx: &Finish<'_>) -> Found {
        self.flush();
        let Some((first, last)) = ctx.period else {
            return Found::default();
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
        let detector = Detector::of(cfg);
        let mut found = Vec::new();
        for (metric, series) in [(Metric::ErrorRate, &errors), (Metric::LogVolume, &volume)] {
            found.extend(detector.scan(series, start, metric));
        }
        found.sort_by(|a, b| {
            a.minute
                .cmp(&b.minute)
                .then((a.metric as u8).cmp(&(b.metric as u8)))
        });
        Found {
            anomalies: found,
            timeline: Timeline {
                start: start * 60_000,
                records: volume,
                errors,
            },
        }
    }
}

/// Settings of the detector (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detector {
    /// Minutes behind each minute's expected count.
    pub history: usize,
    /// Minutes of history before anything is reported.
    pub warmup: usize,
    /// Minutes behind the burstiness of the log.
    pub burst_history: usize,
    /// Minutes sharing one σ-level's false-alarm chance.
    pub span: usize,
    /// Normal-scale level of a warning.
    pub warning_sigma: f64,
    /// Normal-scale level of a critical anomaly.
    pub critical_sigma: f64,
}

/// Minutes summed by the sustained-storm test.
pub const STORM_WINDOW: usize = 5;
/// Tests per minute: two metrics, each alone and over [`STORM_WINDOW`].
const TESTS_PER_MINUTE: f64 = 4.0;

impl Detector {
    /// The detector `cfg` describes.
    pub fn of(cfg: &super::PipelineConfig) -> Detector {
        Detector {
            history: cfg.history_minutes.max(2),
            warmup: cfg.warmup_minutes.max(2),
            burst_history: cfg.burst_history_minutes.max(1),
            span: cfg.span_minutes.max(1),
            warning_sigma: cfg.warning_sigma,
            critical_sigma: cfg.critical_sigma,
        }
    }

    /// Chance per test below which a count is a warning, and critical.
    fn levels(&self) -> (f64, f64) {
        let tests = TESTS_PER_MINUTE * self.span as f64;
        (
            normal_tail(self.warning_sigma) / tests,
            normal_tail(self.critical_sigma) / tests,
        )
    }

    /// The anomalous minutes of one per-minute series starting at minute
    /// `start_minute` (minute index, not ms).
    pub fn scan(&self, series: &[u64], start_minute: i64, metric: Metric) -> Vec<Anomaly> {
        let (p_warn, p_crit) = self.levels();
        let n = series.len();
        // Prefix sums for the burst history: counts and squared
        // minute-to-minute differences.
        let mut sum = vec![0f64; n + 1];
        let mut diff2 = vec![0f64; n + 1];
        // Minutes with at least one record, for the stream test below.
        let mut active = vec![0usize; n + 1];
        for i in 0..n {
            sum[i + 1] = sum[i] + series[i] as f64;
            active[i + 1] = active[i] + usize::from(series[i] > 0);
            let d = if i == 0 {
                0.0
            } else {
                series[i] as f64 - series[i - 1] as f64
            };
            diff2[i + 1] = diff2[i] + d * d;
        }
        let mut fits: Vec<Option<Fit>> = Vec::with_capacity(n);
        let mut out = Vec::new();
        for t in 0..n {
            let fit = (t >= self.warmup).then(|| self.fit(series, &sum, &diff2, t));
            fits.push(fit);
            let Some(fit) = fit else { continue };
            // Volume is only judged in a log that is a stream: records in
            // at least half of the minutes of the hour before. A log that
            // is silent most of the time (installs, cron jobs, batches)
            // comes in bursts by nature.
            let from = t.saturating_sub(self.history);
            if metric == Metric::LogVolume && (active[t] - active[from]) * 2 < t - from {
                continue;
            }
            let x = series[t];
            let mut best = test(x, fit.mean_at(t), fit.var_at(t, 1), 1);
            // The last five minutes together, against the line fitted
            // before they began.
            if t + 1 >= STORM_WINDOW
                && let Some(early) = fits[t + 1 - STORM_WINDOW]
            {
                let from = t + 1 - STORM_WINDOW;
                let value: u64 = series[from..=t].iter().sum();
                let mean: f64 = (from..=t).map(|k| early.mean_at(k)).sum();
                let var = early.var_at(t, STORM_WINDOW) * mean / early.mean_at(t).max(1e-9);
                let sustained = test(value, mean, var.max(mean), STORM_WINDOW as u32);
                if sustained.chance < best.chance {
                    best = sustained;
                }
            }
            // Volume comes in batches in many logs (cron jobs, installs,
            // reports): a count is a volume anomaly only if it is rare
            // under the burst history's model too.
            if metric == Metric::LogVolume {
                let (m, v) = fit.long_model(best.window as usize);
                let value = best.value;
                let long = test(value, m, v, best.window);
                best.chance = best.chance.max(long.chance);
            }
            let severity = if best.chance <= p_crit {
                Severity::Critical
            } else if best.chance <= p_warn {
                Severity::Warning
            } else {
                continue;
            };
            out.push(Anomaly {
                minute: (start_minute + t as i64) * 60_000,
                metric,
                window: best.window,
                value: best.value,
                mean: best.mean,
                sigma: best.var.sqrt(),
                distance: (best.value as f64 - best.mean) / best.var.sqrt(),
                chance: best.chance,
                severity,
            });
        }
        out
    }

    /// The line through the history of minute `t`, and the spread around it.
    fn fit(&self, series: &[u64], sum: &[f64], diff2: &[f64], t: usize) -> Fit {
        let from = t.saturating_sub(self.history);
        let points = || from..t;
        let n = points().count() as f64;
        let (mut sx, mut sy) = (0.0, 0.0);
        for k in points() {
            sx += k as f64;
            sy += series[k] as f64;
        }
        let (mx, my) = (sx / n, sy / n);
        let (mut sxx, mut sxy) = (0.0, 0.0);
        let (mut d2, mut pairs, mut prev): (f64, f64, Option<usize>) = (0.0, 0.0, None);
        for k in points() {
            let dx = k as f64 - mx;
            sxx += dx * dx;
            sxy += dx * (series[k] as f64 - my);
            if let Some(p) = prev
                && p + 1 == k
            {
                let d = series[k] as f64 - series[p] as f64;
                d2 += d * d;
                pairs += 1.0;
            }
            prev = Some(k);
        }
        // Dispersion: half the mean squared difference over the mean, in
        // the last hour and over the burst history.
        let prior = 0.5 / n;
        let short = if pairs > 0.0 {
            d2 / (2.0 * pairs) / (my + prior)
        } else {
            1.0
        };
        // The line's slope only where the history shows one (twice its
        // standard error): a flat history is better told by its mean.
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        let slope_se = (short.max(1.0) * (my + prior) / sxx).sqrt();
        let (slope, sxx) = if slope.abs() > 2.0 * slope_se {
            (slope, sxx)
        } else {
            (0.0, 0.0)
        };
        // Lack of fit: the spread around the line (or mean) used, which
        // a swing the line does not follow widens.
        let mut resid = 0.0;
        for k in points() {
            let e = series[k] as f64 - (my + slope * (k as f64 - mx));
            resid += e * e;
        }
        let lack = resid / (n - 1.0).max(1.0) / (my + prior);
        let long_from = t.saturating_sub(self.burst_history);
        let long_sum = sum[t] - sum[long_from];
        let long_d2 = diff2[t] - diff2[(long_from + 1).min(t)];
        let long = if long_sum > 0.0 {
            long_d2 / (2.0 * long_sum)
        } else {
            1.0
        };
        let minutes = (t - long_from) as f64;
        Fit {
            n,
            mean_x: mx,
            mean_y: my,
            slope,
            sxx,
            prior,
            dispersion: short.max(long).max(lack).max(1.0),
            long_mean: long_sum / minutes + 0.5 / minutes,
        }
    }
}

/// A line fitted through a history, with its count model.
#[derive(Debug, Clone, Copy)]
struct Fit {
    n: f64,
    mean_x: f64,
    mean_y: f64,
    slope: f64,
    sxx: f64,
    /// Half an event over the history: the expectation never drops to
    /// zero, so one event after an hour of silence is not infinitely rare.
    prior: f64,
    dispersion: f64,
    /// Mean count over the burst history.
    long_mean: f64,
}

impl Fit {
    /// Expected count at minute `t`.
    fn mean_at(&self, t: usize) -> f64 {
        (self.mean_y + self.slope * (t as f64 - self.mean_x)).max(0.0) + self.prior
    }

    /// The burst history's view: the count expected from the mean of the
    /// whole burst history, with its dispersion. Under it, a burst of a
    /// size and frequency the log has shown before is not rare.
    fn long_model(&self, minutes: usize) -> (f64, f64) {
        let mean = self.long_mean * minutes as f64;
        (mean, self.dispersion * mean)
    }

    /// Variance of a count of `minutes` minutes ending at minute `t`:
    /// dispersion × mean, widened by the uncertainty of the fitted line.
    fn var_at(&self, t: usize, minutes: usize) -> f64 {
        let d = t as f64 - self.mean_x;
        let lever = if self.sxx > 0.0 {
            d * d / self.sxx
        } else {
            0.0
        };
        let widen = 1.0 + minutes as f64 * (1.0 / self.n + lever);
        self.dispersion * self.mean_at(t) * widen
    }
}

/// One test's result.
#[derive(Debug, Clone, Copy)]
struct Tested {
    window: u32,
    value: u64,
    mean: f64,
    var: f64,
    chance: f64,
}

fn test(value: u64, mean: f64, var: f64, window: u32) -> Tested {
    let var = var.max(mean * (1.0 + 1e-9));
    // Counts within two deviations are never rare enough to matter:
    // skip the tail sum.
    let chance = if (value as f64) <= mean + 2.0 * var.sqrt() {
        1.0
    } else {
        count_tail(value, mean, var)
    };
    Tested {
        window,
        value,
        mean,
        var,
        chance,
    }
}

/// P(X ≥ x) for a negative binomial count with mean `m` and variance
/// `v` > `m` (a Poisson count when `v` is within a hair of `m`).
pub fn count_tail(x: u64, m: f64, v: f64) -> f64 {
    if x == 0 {
        return 1.0;
    }
    let xf = x as f64;
    let r = m * m / (v - m);
    // log pmf(x) and the ratio pmf(k+1)/pmf(k).
    let (log_pmf, ratio): (f64, Box<dyn Fn(f64) -> f64>) = if !r.is_finite() || r > 1e8 {
        (
            -m + xf * m.ln() - ln_gamma(xf + 1.0),
            Box::new(move |k: f64| m / (k + 1.0)),
        )
    } else {
        let p = m / v;
        (
            ln_gamma(xf + r) - ln_gamma(r) - ln_gamma(xf + 1.0) + r * p.ln() + xf * (1.0 - p).ln(),
            Box::new(move |k: f64| (k + r) * (1.0 - p) / (k + 1.0)),
        )
    };
    let mut term = log_pmf.exp();
    let mut total = term;
    let mut k = xf;
    for _ in 0..100_000 {
        term *= ratio(k);
        k += 1.0;
        total += term;
        if term <= total * 1e-12 {
            break;
        }
    }
    total.min(1.0)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Φ̄(z): the chance a standard normal variable exceeds `z`.
pub fn normal_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// The complementary error function (Numerical Recipes' Chebyshev fit,
/// relative error below 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
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

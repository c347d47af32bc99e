//! Pattern trends: how often each pattern occurs over the period, and
//! whether that is rising, stable or declining.
//!
//! Chunks keep, per exact template, its counts per minute (a sparse,
//! sorted list: memory grows with templates × minutes, not lines). At the
//! end the templates of each pattern are summed into buckets spanning the
//! period, and a least-squares line is fitted through the bucket counts:
//! its rise over the whole period, relative to the mean count per bucket,
//! is the trend — Rising at +50 % or more, Declining at −50 % or less,
//! Stable otherwise and for any pattern seen fewer than
//! [`MIN_TREND_COUNT`] times.

use std::collections::HashMap;

use serde::Serialize;

use super::patterns::{PatternId, TemplateCounts};
use super::stage::{Finish, minute_of};
use crate::level::Level;

/// Fewer occurrences than this are always Stable.
pub const MIN_TREND_COUNT: u64 = 10;
/// A period shorter than this many minutes shows no trend.
pub const MIN_TREND_MINUTES: i64 = 10;
/// Buckets the period is divided into (fewer for short periods).
pub const BUCKETS: i64 = 24;
/// Relative rise over the period that counts as a trend.
pub const TREND_THRESHOLD: f64 = 0.5;

/// Direction of a pattern over the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Trend {
    /// Occurring more and more.
    Rising,
    /// Neither.
    Stable,
    /// Occurring less and less.
    Declining,
}

impl Trend {
    /// Display name.
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Rising => "Rising",
            Trend::Stable => "Stable",
            Trend::Declining => "Declining",
        }
    }
}

/// A pattern's numbers over the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatternTrend {
    /// The pattern.
    #[serde(serialize_with = "hex_id")]
    pub id: PatternId,
    /// Its template text (lossy UTF-8); filled for the first `top`
    /// patterns (the ones listed), empty for the others.
    pub template: String,
    /// Records.
    pub count: u64,
    /// Records per minute over the period.
    pub per_minute: f64,
    /// Counts per bucket, oldest first.
    pub buckets: Vec<u64>,
    /// Bucket width in ms.
    pub bucket_ms: i64,
    /// Direction.
    pub trend: Trend,
    /// Its dominant level: the one most of its records have (ties: the
    /// more severe).
    pub level: Level,
    /// Records per level, least severe first (debug, info, warn, error,
    /// fatal).
    pub levels: [u64; 5],
}

impl PatternTrend {
    /// The levels its records have, most frequent first, with their share
    /// in percent: one entry when the pattern has a single level.
    pub fn level_mix(&self) -> Vec<(Level, f64)> {
        let total: u64 = self.levels.iter().sum();
        let mut mix: Vec<(Level, f64)> = Level::ALL
            .iter()
            .filter(|l| self.levels[**l as usize] > 0)
            .map(|&l| {
                (
                    l,
                    self.levels[l as usize] as f64 * 100.0 / total.max(1) as f64,
                )
            })
            .collect();
        mix.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
        mix
    }
}

fn hex_id<S: serde::Serializer>(id: &PatternId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_string())
}

/// The patterns' trends over the period, most frequent first, from the
/// per-template series of the pattern stage.
pub fn trends(templates: &TemplateCounts, ctx: &Finish<'_>) -> Vec<PatternTrend> {
    let (start, end) = ctx
        .period
        .map_or((0, 0), |(a, b)| (minute_of(a), minute_of(b)));
    let span_minutes = (end - start + 1).max(1);
    // The period divided into equal buckets (whole minutes land in the
    // bucket their start falls in), so no bucket is cut short.
    let buckets = BUCKETS.min(span_minutes);
    let bucket_of =
        |minute: i64| ((minute - start) * buckets / span_minutes).clamp(0, buckets - 1) as usize;
    let bucket_ms = span_minutes * 60_000 / buckets;
    // Pattern → (one of its templates, its numbers).
    let mut out: HashMap<PatternId, (u64, PatternTrend)> = HashMap::new();
    for (template, stat) in templates.iter() {
        let series = &stat.series;
        let id = ctx.patterns.id_of(template).unwrap_or(PatternId(template));
        let (_, entry) = out.entry(id).or_insert_with(|| {
            (
                template,
                PatternTrend {
                    id,
                    template: String::new(),
                    count: 0,
                    per_minute: 0.0,
                    buckets: vec![0; buckets as usize],
                    bucket_ms,
                    trend: Trend::Stable,
                    level: Level::Info,
                    levels: [0; 5],
                },
            )
        });
        for (a, b) in entry.levels.iter_mut().zip(series.levels) {
            *a += b;
        }
        entry.count += series.untimed;
        for &(minute, n) in &series.minutes {
            entry.count += n;
            entry.buckets[bucket_of(minute)] += n;
        }
    }
    let mut trends: Vec<(u64, PatternTrend)> = out
        .into_values()
        .map(|(member, mut t)| {
            t.per_minute = t.count as f64 / span_minutes as f64;
            t.level = Level::ALL
                .iter()
                .copied()
                .max_by_key(|&l| (t.levels[l as usize], l))
                .unwrap_or(Level::Info);
            t.trend = if ctx.period.is_some() {
                trend_of(&t.buckets, t.count)
            } else {
                Trend::Stable
            };
            (member, t)
        })
        .collect();
    // Ids are distinct, so the order is total and an unstable sort gives
    // the same result.
    trends.sort_unstable_by(|(_, a), (_, b)| b.count.cmp(&a.count).then(a.id.cmp(&b.id)));
    // Only the listed patterns need their text (with many distinct
    // templates, writing them all out would cost more than counting).
    for (member, t) in trends.iter_mut().take(ctx.config.top) {
        if let Some(p) = ctx.patterns.pattern_of(*member) {
            t.template = String::from_utf8_lossy(&p.text).into_owned();
        }
    }
    trends.into_iter().map(|(_, t)| t).collect()
}

/// The direction of a series of bucket counts (see the module docs).
pub fn trend_of(buckets: &[u64], count: u64) -> Trend {
    let n = buckets.len();
    if count < MIN_TREND_COUNT || n < 2 {
        return Trend::Stable;
    }
    let nf = n as f64;
    let ys: Vec<f64> = buckets.iter().map(|&y| y as f64).collect();
    let mean_x = (nf - 1.0) / 2.0;
    let mean_y = ys.iter().sum::<f64>() / nf;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, &y) in ys.iter().enumerate() {
        let dx = i as f64 - mean_x;
        sxy += dx * (y - mean_y);
        sxx += dx * dx;
    }
    let slope = sxy / sxx;
    let rise = slope * (nf - 1.0) / mean_y.max(f64::MIN_POSITIVE);
    if rise >= TREND_THRESHOLD {
        Trend::Rising
    } else if rise <= -TREND_THRESHOLD {
        Trend::Declining
    } else {
        Trend::Stable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_follows_the_slope() {
        assert_eq!(trend_of(&[1, 2, 4, 8, 16, 32], 63), Trend::Rising);
        assert_eq!(trend_of(&[32, 16, 8, 4, 2, 1], 63), Trend::Declining);
        assert_eq!(trend_of(&[10, 11, 9, 10, 10, 11], 61), Trend::Stable);
        assert_eq!(
            trend_of(&[0, 0, 0, 0, 1, 5], 6),
            Trend::Stable,
            "a handful is Stable"
        );
    }
}

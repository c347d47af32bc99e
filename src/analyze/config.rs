//! The `[pipeline]` section of the configuration: which analysis stages
//! run and their parameters.
//!
//! ```toml
//! [pipeline]
//! stages = ["classifier", "dedup", "pattern", "anomaly", "output"]
//!
//! [pipeline.dedup]
//! window = "60s"          # repeats closer than this collapse
//!
//! [pipeline.pattern]
//! similarity = 0.85       # token similarity at which templates merge, 0..1
//! top = 5                 # patterns listed in the summary
//!
//! [pipeline.anomaly]
//! history = "60m"         # minutes the expected count looks back
//! warmup = "10m"          # no anomaly before this much history
//! burst_history = "30d"   # how far back the log's burstiness is measured
//! span = "6h"             # minutes sharing one σ-level's false-alarm chance
//! warning_sigma = 2.0     # rarity of a warning, in the normal scale, per span
//! critical_sigma = 3.0
//! ```

use serde::Deserialize;
use toml::Spanned;

use crate::analyze::patterns::DEFAULT_SIMILARITY;
use crate::query::parse_duration;

/// The stage names `stages` accepts.
pub const STAGES: [&str; 5] = ["classifier", "dedup", "pattern", "anomaly", "output"];

/// Settings of the analysis stages.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineConfig {
    /// Collapse repeats (`--dedupe`).
    pub dedup: bool,
    /// Merge similar templates into patterns.
    pub pattern: bool,
    /// Per-pattern trends (with `pattern`; off when nothing shows them).
    pub trends: bool,
    /// Per-minute anomaly detection.
    pub anomaly: bool,
    /// Dedup window, ms.
    pub window_ms: i64,
    /// Token similarity for merging templates.
    pub similarity: f64,
    /// Patterns shown in the summary.
    pub top: usize,
    /// Minutes of history behind each minute's mean and deviation.
    pub history_minutes: usize,
    /// Minutes of history needed before anything is reported.
    pub warmup_minutes: usize,
    /// Minutes behind the burstiness (dispersion) of the log.
    pub burst_history_minutes: usize,
    /// Minutes whose tests share one σ-level's false-alarm chance.
    pub span_minutes: usize,
    /// Deviations above the mean for a warning.
    pub warning_sigma: f64,
    /// Deviations above the mean for a critical anomaly.
    pub critical_sigma: f64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            dedup: true,
            pattern: true,
            trends: true,
            anomaly: true,
            window_ms: 60_000,
            similarity: DEFAULT_SIMILARITY,
            top: 5,
            history_minutes: 60,
            warmup_minutes: 10,
            burst_history_minutes: 30 * 24 * 60,
            span_minutes: 6 * 60,
            warning_sigma: 2.0,
            critical_sigma: 3.0,
        }
    }
}

/// `[pipeline]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineToml {
    stages: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    dedup: DedupToml,
    #[serde(default)]
    pattern: PatternToml,
    #[serde(default)]
    anomaly: AnomalyToml,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DedupToml {
    window: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternToml {
    similarity: Option<Spanned<f64>>,
    top: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnomalyToml {
    history: Option<Spanned<String>>,
    warmup: Option<Spanned<String>>,
    burst_history: Option<Spanned<String>>,
    span: Option<Spanned<String>>,
    warning_sigma: Option<Spanned<f64>>,
    critical_sigma: Option<Spanned<f64>>,
}

/// A `[pipeline]` value out of its domain: (key, byte offset, message).
pub type PipelineError = (String, usize, String);

impl PipelineToml {
    /// Checks the values and builds the settings.
    pub fn build(&self) -> Result<PipelineConfig, PipelineError> {
        let mut cfg = PipelineConfig::default();
        if let Some(stages) = &self.stages {
            cfg.dedup = false;
            cfg.pattern = false;
            cfg.anomaly = false;
            for stage in stages {
                match stage.get_ref().as_str() {
                    "classifier" | "output" => {}
                    "dedup" => cfg.dedup = true,
                    "pattern" => cfg.pattern = true,
                    "anomaly" => cfg.anomaly = true,
                    other => {
                        return Err((
                            "pipeline.stages".into(),
                            stage.span().start,
                            format!("unknown stage `{other}`: use {}", STAGES.join(", ")),
                        ));
                    }
                }
            }
        }
        if let Some(window) = &self.dedup.window {
            cfg.window_ms = positive_duration(window, "pipeline.dedup.window")?;
        }
        if let Some(sim) = &self.pattern.similarity {
            let v = *sim.get_ref();
            if !(0.0..=1.0).contains(&v) || v.is_nan() {
                return Err((
                    "pipeline.pattern.similarity".into(),
                    sim.span().start,
                    format!("{v} is outside 0..1: use a share of equal tokens such as 0.85"),
                ));
            }
            cfg.similarity = v;
        }
        if let Some(top) = &self.pattern.top {
            let v = *top.get_ref();
            if v < 1 {
                return Err((
                    "pipeline.pattern.top".into(),
                    top.span().start,
                    format!("{v}: use 1 or more"),
                ));
            }
            cfg.top = v as usize;
        }
        if let Some(h) = &self.anomaly.history {
            cfg.history_minutes = minutes(h, "pipeline.anomaly.history")?;
        }
        if let Some(w) = &self.anomaly.warmup {
            cfg.warmup_minutes = minutes(w, "pipeline.anomaly.warmup")?;
        }
        if let Some(b) = &self.anomaly.burst_history {
            cfg.burst_history_minutes = minutes(b, "pipeline.anomaly.burst_history")?;
        }
        if let Some(s) = &self.anomaly.span {
            cfg.span_minutes = minutes(s, "pipeline.anomaly.span")?;
        }
        for (value, key, slot) in [
            (
                &self.anomaly.warning_sigma,
                "pipeline.anomaly.warning_sigma",
                &mut cfg.warning_sigma,
            ),
            (
                &self.anomaly.critical_sigma,
                "pipeline.anomaly.critical_sigma",
                &mut cfg.critical_sigma,
            ),
        ] {
            if let Some(v) = value {
                if v.get_ref().partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                    return Err((
                        key.into(),
                        v.span().start,
                        format!("{}: use a positive number of deviations", v.get_ref()),
                    ));
                }
                *slot = *v.get_ref();
            }
        }
        if cfg.critical_sigma < cfg.warning_sigma {
            return Err((
                "pipeline.anomaly.critical_sigma".into(),
                self.anomaly
                    .critical_sigma
                    .as_ref()
                    .map_or(0, |v| v.span().start),
                "must not be below warning_sigma".into(),
            ));
        }
        Ok(cfg)
    }
}

fn positive_duration(value: &Spanned<String>, key: &str) -> Result<i64, PipelineError> {
    match parse_duration(value.get_ref()) {
        Some(ms) if ms > 0 => Ok(ms),
        _ => Err((
            key.into(),
            value.span().start,
            format!(
                "`{}`: use a positive duration such as 30s, 5m or 1h",
                value.get_ref()
            ),
        )),
    }
}

fn minutes(value: &Spanned<String>, key: &str) -> Result<usize, PipelineError> {
    let ms = positive_duration(value, key)?;
    Ok(((ms + 59_999) / 60_000) as usize)
}

//! The analysis settings: which stages run and their parameters, with
//! their defaults. [`crate::config`] reads and checks them from the
//! `[pipeline]` section of the configuration file:
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

use crate::analyze::patterns::DEFAULT_SIMILARITY;

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

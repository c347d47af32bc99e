//! `[pipeline]`: which analysis stages run and their parameters, checked
//! into [`PipelineConfig`].

use serde::Deserialize;
use toml::Spanned;

use super::SettingError;
use crate::analyze::config::{PipelineConfig, STAGES};
use crate::query::parse_duration;

/// `[pipeline]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSection {
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

impl PipelineSection {
    /// Checks the values and builds the settings.
    pub fn build(&self) -> Result<PipelineConfig, SettingError> {
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
                        return Err(SettingError::new(
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
                return Err(SettingError::new(
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
                return Err(SettingError::new(
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
                    return Err(SettingError::new(
                        key.into(),
                        v.span().start,
                        format!("{}: use a positive number of deviations", v.get_ref()),
                    ));
                }
                *slot = *v.get_ref();
            }
        }
        if cfg.critical_sigma < cfg.warning_sigma {
            return Err(SettingError::new(
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

fn positive_duration(value: &Spanned<String>, key: &str) -> Result<i64, SettingError> {
    match parse_duration(value.get_ref()) {
        Some(ms) if ms > 0 => Ok(ms),
        _ => Err(SettingError::new(
            key.into(),
            value.span().start,
            format!(
                "`{}`: use a positive duration such as 30s, 5m or 1h",
                value.get_ref()
            ),
        )),
    }
}

fn minutes(value: &Spanned<String>, key: &str) -> Result<usize, SettingError> {
    let ms = positive_duration(value, key)?;
    Ok(((ms + 59_999) / 60_000) as usize)
}

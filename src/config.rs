//! The TOML configuration: `$VELOS_HOME/config.toml`, or `--config FILE`.
//!
//! ```toml
//! [classify]
//! default_rules = true          # the spec's keyword rules, after custom ones
//!
//! [[classify.rules]]            # checked before the defaults, highest priority first
//! pattern = "(?i)out of memory"
//! level = "fatal"
//! priority = 10
//!
//! [monit]
//! interval = "2s"               # how often `velos monit` polls the daemon
//! ```
//!
//! Unknown keys are errors (a typo should not silently do nothing), and
//! every error names the file, the line and the key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::analyze::config::{PipelineConfig, PipelineToml};
use crate::classify::{Classifier, CustomRule};
use crate::level::Level;
use crate::query::parse_duration;

/// A configuration that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The TOML is malformed or has unknown keys.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where and what.
        message: String,
    },
    /// A value is out of its domain.
    #[error("{path}: {key}: {message}")]
    Value {
        /// The file.
        path: PathBuf,
        /// The key, dotted.
        key: String,
        /// What is wrong and what is accepted.
        message: String,
    },
}

/// The whole configuration file. Sections it does not know belong to
/// other parts of velos (the daemon's `[logs]`) and are kept in `other`;
/// unknown keys inside the sections it owns are errors.
#[derive(Debug, Default, Deserialize)]
pub struct Config {
    /// Level classification.
    #[serde(default)]
    pub classify: ClassifyConfig,
    /// Analysis stages.
    #[serde(default)]
    pub pipeline: PipelineToml,
    /// `velos monit`.
    #[serde(default)]
    pub monit: MonitConfig,
    /// Sections owned by other parts of velos, kept as read.
    #[serde(flatten)]
    pub other: toml::Table,
    /// The text the configuration was read from (for line numbers).
    #[serde(skip)]
    text: String,
}

/// `[classify]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifyConfig {
    /// Apply the default keyword rules after the custom ones.
    #[serde(default = "yes")]
    pub default_rules: bool,
    /// Custom rules.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
}

impl Default for ClassifyConfig {
    fn default() -> Self {
        ClassifyConfig {
            default_rules: true,
            rules: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// `[monit]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitConfig {
    /// Refresh interval, e.g. `"2s"` or `"500ms"`.
    pub interval: Option<Spanned<String>>,
}

/// Shortest refresh interval `velos monit` accepts.
pub const MIN_MONIT_INTERVAL: Duration = Duration::from_millis(100);

/// Parses a `velos monit` refresh interval: a duration such as `2s` or
/// `500ms`, at least [`MIN_MONIT_INTERVAL`].
pub fn parse_monit_interval(text: &str) -> Result<Duration, String> {
    let ms = parse_duration(text)
        .ok_or_else(|| format!("invalid interval `{text}`: use e.g. 2s, 500ms or 1m"))?;
    let interval = Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    if interval < MIN_MONIT_INTERVAL {
        return Err(format!("interval `{text}` is too short: use 100ms or more"));
    }
    Ok(interval)
}

/// `[[classify.rules]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Regex searched in the record's text.
    pub pattern: String,
    /// Level name.
    pub level: String,
    /// Higher first.
    #[serde(default)]
    pub priority: i64,
}

impl Config {
    /// The analysis settings, checked. A value out of its domain names its
    /// key and line.
    pub fn pipeline(&self, path: &Path) -> Result<PipelineConfig, ConfigError> {
        self.pipeline
            .build()
            .map_err(|(key, offset, message)| ConfigError::Value {
                path: path.to_path_buf(),
                key: format!("line {}: {key}", line_of(&self.text, offset)),
                message,
            })
    }

    /// The `[monit] interval`, checked, when set.
    pub fn monit_interval(&self, path: &Path) -> Result<Option<Duration>, ConfigError> {
        let Some(interval) = &self.monit.interval else {
            return Ok(None);
        };
        parse_monit_interval(interval.get_ref())
            .map(Some)
            .map_err(|message| ConfigError::Value {
                path: path.to_path_buf(),
                key: format!(
                    "line {}: monit.interval",
                    line_of(&self.text, interval.span().start)
                ),
                message,
            })
    }

    /// Loads `path`; a missing default file (not named by the user) is an
    /// empty configuration.
    pub fn load(path: &Path, required: bool) -> Result<(Config, PathBuf), ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                return Ok((Config::default(), path.to_path_buf()));
            }
            Err(cause) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    cause,
                });
            }
        };
        Config::parse(&text, path).map(|c| (c, path.to_path_buf()))
    }

    /// Parses configuration text.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: describe_toml_error(&e, text),
        })?;
        config.text = text.to_string();
        Ok(config)
    }

    /// Builds the classifier the configuration describes.
    pub fn classifier(&self, path: &Path) -> Result<Classifier, ConfigError> {
        let mut rules = Vec::new();
        for (i, rule) in self.classify.rules.iter().enumerate() {
            let key = |field: &str| format!("classify.rules[{i}].{field}");
            let level =
                Level::from_word(rule.level.as_bytes()).ok_or_else(|| ConfigError::Value {
                    path: path.to_path_buf(),
                    key: key("level"),
                    message: format!(
                        "unknown level `{}`: use fatal, error, warn, info or debug",
                        rule.level
                    ),
                })?;
            let pattern =
                regex::bytes::Regex::new(&rule.pattern).map_err(|e| ConfigError::Value {
                    path: path.to_path_buf(),
                    key: key("pattern"),
                    message: format!(
                        "invalid regex: {}",
                        e.to_string().lines().last().unwrap_or("")
                    ),
                })?;
            rules.push(CustomRule {
                pattern,
                level,
                priority: rule.priority,
            });
        }
        Ok(Classifier::new(rules, self.classify.default_rules))
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// `line N, column M: message` from a TOML error.
fn describe_toml_error(err: &toml::de::Error, text: &str) -> String {
    let message = err.message().trim().to_string();
    match err.span() {
        Some(span) => format!("line {}: {message}", line_of(text, span.start)),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_of_the_daemon_are_kept_not_refused() {
        let path = Path::new("config.toml");
        let cfg = Config::parse(
            "[logs]\nmax_size = \"8KiB\"\nkeep = 2\n[classify]\ndefault_rules = true\n",
            path,
        )
        .unwrap();
        assert!(cfg.other.contains_key("logs"));
    }

    #[test]
    fn rules_load_and_errors_name_line_and_key() {
        let path = Path::new("config.toml");
        let cfg = Config::parse(
            "[classify]\n[[classify.rules]]\npattern = \"OOM\"\nlevel = \"fatal\"\npriority = 3\n",
            path,
        )
        .unwrap();
        let c = cfg.classifier(path).unwrap();
        assert_eq!(c.classify_text(b"OOM killer"), Level::Fatal);

        let err = Config::parse("[classify]\nrulez = 1\n", path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("rulez"), "{err}");

        let cfg = Config::parse(
            "[[classify.rules]]\npattern = \"x\"\nlevel = \"loud\"\n",
            path,
        )
        .unwrap();
        let err = cfg.classifier(path).unwrap_err().to_string();
        assert!(err.contains("classify.rules[0].level"), "{err}");

        let cfg = Config::parse("[pipeline]\nstages = [\"dedup\", \"magic\"]\n", path).unwrap();
        let err = cfg.pipeline(path).unwrap_err().to_string();
        assert!(
            err.contains("line 2: pipeline.stages") && err.contains("unknown stage `magic`"),
            "{err}"
        );
        for (text, key) in [
            (
                "[pipeline.dedup]\nwindow = \"0s\"\n",
                "line 2: pipeline.dedup.window",
            ),
            (
                "[pipeline.dedup]\nwindow = \"-5m\"\n",
                "line 2: pipeline.dedup.window",
            ),
            (
                "[pipeline.pattern]\n\nsimilarity = 1.5\n",
                "line 3: pipeline.pattern.similarity",
            ),
        ] {
            let err = Config::parse(text, path)
                .unwrap()
                .pipeline(path)
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{err}");
        }
        let cfg = Config::parse("[pipeline]\nstages = [\"classifier\", \"pattern\"]\n[pipeline.dedup]\nwindow = \"5m\"\n", path).unwrap();
        let p = cfg.pipeline(path).unwrap();
        assert!(p.pattern && !p.dedup && !p.anomaly);
        assert_eq!(p.window_ms, 300_000);
    }

    #[test]
    fn monit_interval_is_typed_and_checked() {
        let path = Path::new("config.toml");
        let cfg = Config::parse("", path).unwrap();
        assert_eq!(cfg.monit_interval(path).unwrap(), None);
        let cfg = Config::parse("[monit]\ninterval = \"500ms\"\n", path).unwrap();
        assert_eq!(
            cfg.monit_interval(path).unwrap(),
            Some(Duration::from_millis(500))
        );
        let cfg = Config::parse("[monit]\n\ninterval = \"10ms\"\n", path).unwrap();
        let err = cfg.monit_interval(path).unwrap_err().to_string();
        assert!(err.contains("line 3: monit.interval"), "{err}");
        let cfg = Config::parse("[monit]\ninterval = \"soon\"\n", path).unwrap();
        assert!(cfg.monit_interval(path).is_err());
        let err = Config::parse("[monit]\nrefresh = \"2s\"\n", path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("refresh"), "{err}");
    }
}

//! The configuration file: `$VELOS_HOME/config.toml`, or `--config FILE`,
//! read once into typed sections.
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
//! [pipeline]                    # analysis stages, see `pipeline`
//! stages = ["classifier", "dedup", "pattern", "anomaly", "output"]
//!
//! [monit]
//! interval = "2s"               # how often `velos monit` polls the daemon
//!
//! [logs]                        # the daemon's log files, see crate::daemon::config
//! max_size = "10MiB"
//!
//! [metrics]                     # Prometheus metrics, see crate::daemon::fleet
//! listen = "127.0.0.1:9615"
//!
//! [export.otlp]                 # OpenTelemetry log export, see crate::daemon::fleet
//! endpoint = "http://127.0.0.1:4318"
//! ```
//!
//! One rule everywhere: an unknown section or key is an error (a typo
//! should not silently do nothing), named with its line and the keys that
//! are known there. Every error is a [`ConfigError`] naming the file, the
//! line and the dotted key. This module checks the sections velos logs
//! reads; the daemon's sections are checked by the modules that use them
//! ([`crate::daemon::config`], [`crate::daemon::fleet`]), from the same
//! [`Config`], reporting a [`SettingError`].
//!
//! A new section is a field of [`Config`] with its raw (as written) type,
//! and a method or function that checks it into its settings.

mod pipeline;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::analyze::config::PipelineConfig;
use crate::classify::{Classifier, CustomRule};
use crate::level::Level;
use crate::query::parse_duration;

pub use pipeline::PipelineSection;

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
    /// The TOML is malformed, has an unknown key, or a value is out of its
    /// domain.
    #[error("{}: {}{key}: {message}", path.display(), line.map_or_else(String::new, |n| format!("line {n}: ")))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line, when known.
        line: Option<usize>,
        /// The key, dotted (`pipeline.dedup.window`).
        key: String,
        /// What is wrong and what is accepted.
        message: String,
    },
}

/// A value out of its domain, found by the code that checks its section:
/// the dotted key, the byte offset of the value in the file, and what is
/// wrong. [`Config::invalid`] turns it into a [`ConfigError`] with the line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct SettingError {
    /// The key, dotted.
    pub key: String,
    /// Byte offset of the value (or its section) in the file.
    pub at: usize,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl SettingError {
    /// The error of `key`, whose value starts at byte `at`.
    pub fn new(key: String, at: usize, message: String) -> SettingError {
        SettingError { key, at, message }
    }
}

/// The whole configuration file, every section as written. Unknown
/// sections and keys are refused when it is read.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Level classification.
    #[serde(default)]
    pub classify: ClassifyConfig,
    /// Analysis stages.
    #[serde(default)]
    pub pipeline: PipelineSection,
    /// `velos monit`.
    #[serde(default)]
    pub monit: MonitConfig,
    /// The daemon's log files.
    #[serde(default)]
    pub logs: LogsSection,
    /// Prometheus metrics, when present.
    pub metrics: Option<Spanned<MetricsSection>>,
    /// Exporters.
    #[serde(default)]
    pub export: ExportSection,
    /// The text the configuration was read from (for line numbers).
    #[serde(skip)]
    text: String,
}

/// `[logs]`: rotation and retention of the daemon's log files.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsSection {
    /// Rotate a file before it exceeds this size.
    pub max_size: Option<Spanned<SizeValue>>,
    /// Rotated files kept.
    pub keep: Option<u32>,
    /// Gzip rotated files.
    pub compress: Option<bool>,
    /// Delete rotated files older than this.
    pub max_age: Option<Spanned<String>>,
}

/// A size: a number of bytes, or text such as `"10MiB"`
/// ([`crate::text::parse_size`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum SizeValue {
    /// A number of bytes.
    Bytes(u64),
    /// A number with a unit.
    Text(String),
}

impl SizeValue {
    /// The number of bytes.
    pub fn bytes(&self) -> Result<u64, String> {
        match self {
            SizeValue::Bytes(bytes) => Ok(*bytes),
            SizeValue::Text(text) => crate::text::parse_size(text),
        }
    }
}

/// `[metrics]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// Where `GET /metrics` is served.
    pub listen: Option<Spanned<String>>,
    /// Allow an address reachable from other hosts.
    #[serde(default)]
    pub allow_remote: bool,
}

/// `[export]`: one table per exporter.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSection {
    /// `[export.otlp]`, when present.
    pub otlp: Option<Spanned<OtlpSection>>,
}

/// `[export.otlp]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpSection {
    /// Base URL of the receiver.
    pub endpoint: Option<Spanned<String>>,
    /// `http/protobuf` or `http/json`.
    pub protocol: Option<Spanned<String>>,
    /// Extra request headers.
    pub headers: Option<Spanned<std::collections::BTreeMap<String, String>>>,
    /// `gzip` or `none`.
    pub compression: Option<Spanned<String>>,
    /// Bytes held while the receiver is slow or away.
    pub queue_size: Option<Spanned<SizeValue>>,
    /// Time one request may take.
    pub timeout: Option<Spanned<String>>,
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
        self.pipeline.build().map_err(|err| self.invalid(path, err))
    }

    /// The error of a value out of its domain, with its line.
    pub fn invalid(&self, path: &Path, err: SettingError) -> ConfigError {
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line: Some(line_of(&self.text, err.at)),
            key: err.key,
            message: err.message,
        }
    }

    /// The `[monit] interval`, checked, when set.
    pub fn monit_interval(&self, path: &Path) -> Result<Option<Duration>, ConfigError> {
        let Some(interval) = &self.monit.interval else {
            return Ok(None);
        };
        parse_monit_interval(interval.get_ref())
            .map(Some)
            .map_err(|message| {
                self.invalid(
                    path,
                    SettingError::new("monit.interval".into(), interval.span().start, message),
                )
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
        let mut config: Config = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|span| span.start);
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line: at.map(|at| line_of(text, at)),
                key: key_at(text, at.unwrap_or(0)),
                message: with_nearest_key(e.message().trim()),
            }
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
                Level::from_word(rule.level.as_bytes()).ok_or_else(|| ConfigError::Invalid {
                    path: path.to_path_buf(),
                    line: None,
                    key: key("level"),
                    message: format!(
                        "unknown level `{}`: use fatal, error, warn, info or debug",
                        rule.level
                    ),
                })?;
            let pattern =
                regex::bytes::Regex::new(&rule.pattern).map_err(|e| ConfigError::Invalid {
                    path: path.to_path_buf(),
                    line: None,
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

/// The line (from 1) of byte `offset` of `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    1 + memchr::memchr_iter(b'\n', &text.as_bytes()[..offset]).count()
}

/// A TOML error message, with the known key nearest to an unknown one
/// when the message names both (`unknown field `kepe`, expected one of
/// …; did you mean `keep`?`).
pub fn with_nearest_key(message: &str) -> String {
    let quoted = |text: &str| -> Vec<String> {
        text.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    let Some(rest) = message.strip_prefix("unknown field ") else {
        return message.to_string();
    };
    let Some((unknown, known)) = rest.split_once(", expected") else {
        return message.to_string();
    };
    let Some(unknown) = quoted(unknown).into_iter().next() else {
        return message.to_string();
    };
    let nearest = quoted(known)
        .into_iter()
        .map(|key| (edit_distance(&unknown, &key), key))
        .min();
    match nearest {
        Some((distance, key)) if distance <= 2.max(unknown.len() / 3) => {
            format!("{message}; did you mean `{key}`?")
        }
        _ => message.to_string(),
    }
}

/// Levenshtein distance between two short keys.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// The dotted key a parse error at `at` is about: the table header above
/// it, and the key its line assigns, if any.
pub fn key_at(text: &str, at: usize) -> String {
    let at = at.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = &text[line_start..line_end];
    let header = text[..line_start]
        .lines()
        .chain(std::iter::once(line))
        .filter_map(|l| {
            let l = l.trim();
            l.strip_prefix('[')
                .and_then(|l| l.split(']').next())
                .map(|h| h.trim().trim_start_matches('[').trim().to_string())
        })
        .next_back();
    let assigned = line
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| {
            !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.\"'".contains(&b))
        })
        .map(|k| k.replace(['"', '\''], ""));
    let header = header.filter(|h| !h.is_empty());
    let assigned = assigned.filter(|k| !k.is_empty());
    match (header, assigned) {
        (Some(h), Some(k)) if !line.trim_start().starts_with('[') => format!("{h}.{k}"),
        (Some(h), _) => h,
        (None, Some(k)) => k,
        (None, None) => "(top level)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_is_read_and_unknown_ones_are_refused() {
        let path = Path::new("config.toml");
        let cfg = Config::parse(
            "[logs]\nmax_size = \"8KiB\"\nkeep = 2\n[classify]\ndefault_rules = true\n\
             [metrics]\nlisten = \"127.0.0.1:9615\"\n[export.otlp]\ntimeout = \"1s\"\n",
            path,
        )
        .unwrap();
        assert_eq!(cfg.logs.keep, Some(2));
        assert!(cfg.metrics.is_some() && cfg.export.otlp.is_some());
        for (text, key, known) in [
            ("[tui]\nrefresh = 2\n", "line 1: tui", "classify"),
            (
                "[logs]\nkeep = 2\nkepe = 3\n",
                "line 3: logs.kepe",
                "did you mean `keep`?",
            ),
            (
                "[metrics]\nlisen = 1\n",
                "line 2: metrics.lisen",
                "did you mean `listen`?",
            ),
            (
                "[export.otlp]\n\nendpont = \"x\"\n",
                "line 3: export.otlp.endpont",
                "endpoint",
            ),
        ] {
            let err = Config::parse(text, path).unwrap_err().to_string();
            assert!(
                err.starts_with("config.toml: ") && err.contains(key),
                "{err}"
            );
            assert!(err.contains(known), "{err}");
        }
    }

    #[test]
    fn the_nearest_known_key_is_offered_only_when_near() {
        let known = ", expected one of `max_size`, `keep`, `compress`, `max_age`";
        assert!(
            with_nearest_key(&format!("unknown field `max-size`{known}"))
                .ends_with("did you mean `max_size`?")
        );
        let far = format!("unknown field `retention`{known}");
        assert_eq!(with_nearest_key(&far), far);
        assert_eq!(
            with_nearest_key("invalid type: string"),
            "invalid type: string"
        );
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

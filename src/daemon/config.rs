//! The daemon's `[logs]` settings, checked from the one read of
//! `config.toml` ([`crate::config::Config`]).
//!
//! ```toml
//! [logs]
//! max_size = "10MiB"   # rotate a log file before it exceeds this (≥ 1KiB)
//! keep = 5             # rotated files kept: <file>.1 … <file>.5
//! compress = true      # gzip rotated files: <file>.1.gz … (default false)
//! max_age = "14d"      # delete rotated files older than this (default: never)
//! ```
//!
//! Sizes are a number of bytes or a number with a unit
//! ([`crate::text::parse_size`]). Like every section, unknown keys are
//! refused; a malformed value is an error naming its line and key.

use std::path::Path;

use super::logfile::Rotation;
use crate::config::{self as file, ConfigError, LogsSection, SettingError};

/// The daemon's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Config {
    /// Log rotation.
    pub rotation: Rotation,
}

/// Smallest accepted `max_size`.
pub const MIN_MAX_SIZE: u64 = 1024;

impl Config {
    /// The daemon's settings from the configuration file read from `path`.
    pub fn from_file(config: &file::Config, path: &Path) -> Result<Config, ConfigError> {
        let rotation = rotation(&config.logs).map_err(|err| config.invalid(path, err))?;
        Ok(Config { rotation })
    }

    /// Parses the text of a config file.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let path = Path::new("config.toml");
        Config::from_file(&file::Config::parse(text, path)?, path)
    }
}

/// `[logs]`, checked.
fn rotation(logs: &LogsSection) -> Result<Rotation, SettingError> {
    let mut rotation = Rotation::default();
    if let Some(size) = &logs.max_size {
        let at = size.span().start;
        let bad = |message: String| SettingError::new("logs.max_size".into(), at, message);
        let bytes = size.get_ref().bytes().map_err(bad)?;
        if bytes < MIN_MAX_SIZE {
            return Err(bad(format!(
                "must be at least {MIN_MAX_SIZE} bytes, not {bytes}"
            )));
        }
        rotation.max_size = bytes;
    }
    if let Some(keep) = logs.keep {
        rotation.keep = keep;
    }
    if let Some(compress) = logs.compress {
        rotation.compress = compress;
    }
    if let Some(age) = &logs.max_age {
        let bad =
            |message: String| SettingError::new("logs.max_age".into(), age.span().start, message);
        let max_age = crate::text::parse_duration(age.get_ref()).map_err(bad)?;
        if max_age.is_zero() {
            return Err(bad("must be longer than 0, e.g. \"14d\"".into()));
        }
        rotation.max_age = Some(max_age);
    }
    Ok(rotation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_sections() {
        let config = Config::parse("[logs]\nmax_size = \"64KiB\"\nkeep = 2\n").unwrap();
        assert_eq!(
            config.rotation,
            Rotation {
                max_size: 64 << 10,
                keep: 2,
                ..Rotation::default()
            }
        );
        let config = Config::parse("[logs]\ncompress = true\nmax_age = \"14d\"\n").unwrap();
        assert!(config.rotation.compress);
        assert_eq!(
            config.rotation.max_age,
            Some(std::time::Duration::from_secs(14 * 86_400))
        );
        assert!(Config::parse("[logs]\nmax_age = \"a fortnight\"\n").is_err());
        assert!(Config::parse("[logs]\nmax_age = \"0s\"\n").is_err());
        assert!(Config::parse("[logs]\ncompress = \"yes\"\n").is_err());
        assert_eq!(Config::parse("").unwrap(), Config::default());
        assert!(Config::parse("[logs]\nmax_size = 10\n").is_err());
        assert!(Config::parse("[logs]\nkeep = \"x\"\n").is_err());
        // One rule for every section: unknown ones are refused.
        assert!(Config::parse("[logs]\nkeep = 2\n[tui]\nrefresh = 2\n").is_err());
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let err = Config::parse("[logs]\nkeep = 2\n\nmax_size = \"lots\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("config.toml: line 4: logs.max_size: invalid size"),
            "{err}"
        );
        let err = Config::parse("[logs]\nmax_age = \"0s\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2: logs.max_age: must be longer than 0"),
            "{err}"
        );
    }
}

//! The daemon's settings from `$VELOS_HOME/config.toml`.
//!
//! ```toml
//! [logs]
//! max_size = "10MiB"   # rotate a log file before it exceeds this (≥ 1KiB)
//! keep = 5             # rotated files kept: <file>.1 … <file>.5
//! compress = true      # gzip rotated files: <file>.1.gz … (default false)
//! max_age = "14d"      # delete rotated files older than this (default: never)
//! ```
//!
//! Sizes are a number of bytes or a number with a unit: `B`, `K`/`KiB`,
//! `M`/`MiB`, `G`/`GiB` (powers of 1024) or `KB`, `MB`, `GB` (powers of
//! 1000). Unknown sections and keys are ignored (other parts of velos read
//! the same file); a malformed value is an error.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::logfile::Rotation;

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has wrong types.
    #[error("invalid {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The daemon's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Config {
    /// Log rotation.
    pub rotation: Rotation,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    logs: Logs,
}

#[derive(Deserialize, Default)]
struct Logs {
    max_size: Option<SizeValue>,
    keep: Option<u32>,
    compress: Option<bool>,
    max_age: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SizeValue {
    Bytes(u64),
    Text(String),
}

/// Smallest accepted `max_size`.
pub const MIN_MAX_SIZE: u64 = 1024;

impl Config {
    /// Reads `path`; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Config::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses the text of a config file.
    pub fn parse(text: &str) -> Result<Config, String> {
        let file: File = toml::from_str(text).map_err(|err| err.message().to_string())?;
        let mut config = Config::default();
        if let Some(size) = file.logs.max_size {
            let bytes = match size {
                SizeValue::Bytes(bytes) => bytes,
                SizeValue::Text(text) => parse_size(&text)?,
            };
            if bytes < MIN_MAX_SIZE {
                return Err(format!(
                    "[logs] max_size must be at least {MIN_MAX_SIZE} bytes, not {bytes}"
                ));
            }
            config.rotation.max_size = bytes;
        }
        if let Some(keep) = file.logs.keep {
            config.rotation.keep = keep;
        }
        if let Some(compress) = file.logs.compress {
            config.rotation.compress = compress;
        }
        if let Some(age) = file.logs.max_age {
            let age =
                super::cli::parse_duration(&age).map_err(|err| format!("[logs] max_age: {err}"))?;
            if age.is_zero() {
                return Err("[logs] max_age must be longer than 0, e.g. \"14d\"".into());
            }
            config.rotation.max_age = Some(age);
        }
        Ok(config)
    }
}

/// Parses `10MiB`, `512 KB`, `1048576`…
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("invalid size {text:?}: expected e.g. \"10MiB\""))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        other => {
            return Err(format!(
                "invalid size unit {other:?} in {text:?}: use B, KiB, MiB or GiB"
            ));
        }
    };
    Ok((number * factor as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size("512 KB"), Ok(512_000));
        assert_eq!(parse_size("1.5k"), Ok(1536));
        assert_eq!(parse_size("42"), Ok(42));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("3 parsecs").is_err());
    }

    #[test]
    fn config_sections() {
        let config =
            Config::parse("[logs]\nmax_size = \"64KiB\"\nkeep = 2\n[tui]\nrefresh = 2\n").unwrap();
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
    }
}

//! The runtime home: the one directory where the daemon keeps its socket,
//! pid file, configuration, process table and logs.
//!
//! `$VELOS_HOME` when set (made absolute), otherwise `~/.velos/`:
//!
//! ```text
//! velos.sock    the daemon's Unix socket (0600)
//! velos.pid     the daemon's pid, locked while it runs
//! config.toml   optional settings ([logs] max_size, keep)
//! state.json    the process table, rewritten atomically on every change
//! logs/         <name>.log (JSON lines), <name>-out.log / <name>-err.log (--raw),
//!               rotated files <file>.1 … <file>.N, daemon.log
//! ```

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Environment variable naming the runtime home.
pub const HOME_ENV: &str = "VELOS_HOME";

/// Why the runtime home cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// Neither `$VELOS_HOME` nor `$HOME` is set.
    #[error("cannot locate the runtime home: set VELOS_HOME (or HOME)")]
    Unset,
    /// The directory could not be made absolute, created or secured.
    #[error("cannot prepare the runtime home {path}: {source}")]
    Io {
        /// The directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

/// Paths inside the runtime home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// The home named by `$VELOS_HOME`, else `$HOME/.velos`.
    pub fn from_env() -> Result<Home, HomeError> {
        let root = match std::env::var_os(HOME_ENV) {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => match std::env::var_os("HOME") {
                Some(home) if !home.is_empty() => PathBuf::from(home).join(".velos"),
                _ => return Err(HomeError::Unset),
            },
        };
        Home::new(root)
    }

    /// A home rooted at `root` (made absolute against the current directory).
    pub fn new(root: impl AsRef<Path>) -> Result<Home, HomeError> {
        let root = root.as_ref();
        let root = std::path::absolute(root).map_err(|source| HomeError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        Ok(Home { root })
    }

    /// Creates the home and its `logs/` directory (mode 0700) if missing, and
    /// tightens the home's mode to 0700.
    pub fn ensure(&self) -> Result<(), HomeError> {
        for dir in [self.root.clone(), self.logs_dir()] {
            let io_err = |source| HomeError::Io {
                path: dir.clone(),
                source,
            };
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(io_err)?;
        }
        fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700)).map_err(|source| {
            HomeError::Io {
                path: self.root.clone(),
                source,
            }
        })
    }

    /// The home directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `velos.sock`.
    pub fn socket(&self) -> PathBuf {
        self.root.join("velos.sock")
    }

    /// `velos.pid`.
    pub fn pid_file(&self) -> PathBuf {
        self.root.join("velos.pid")
    }

    /// `config.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    /// `state.json`.
    pub fn state_file(&self) -> PathBuf {
        self.root.join("state.json")
    }

    /// `logs/`.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// `logs/daemon.log`: the daemon's own events, as JSON lines.
    pub fn daemon_log(&self) -> PathBuf {
        self.logs_dir().join("daemon.log")
    }

    /// `logs/<name>.log`: a process's structured log (JSON lines).
    pub fn process_log(&self, name: &str) -> PathBuf {
        self.logs_dir().join(format!("{name}.log"))
    }

    /// `logs/<name>-out.log`: a `--raw` process's stdout, bytes as printed.
    pub fn raw_out_log(&self, name: &str) -> PathBuf {
        self.logs_dir().join(format!("{name}-out.log"))
    }

    /// `logs/<name>-err.log`: a `--raw` process's stderr, bytes as printed.
    pub fn raw_err_log(&self, name: &str) -> PathBuf {
        self.logs_dir().join(format!("{name}-err.log"))
    }

    /// The daemon's pid as written in `velos.pid`, if the file holds one.
    pub fn read_pid(&self) -> Option<u32> {
        fs::read_to_string(self.pid_file())
            .ok()
            .and_then(|text| text.trim().parse().ok())
    }
}

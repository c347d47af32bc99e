//! The persisted process table, `$VELOS_HOME/state.json`.
//!
//! Written on every change, atomically: the new content goes to
//! `state.json.tmp`, is synced, then renamed over `state.json`, so a crash
//! leaves either the old table or the new one. A new daemon reads it to
//! restore the table and start again the processes that should run.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::supervisor::validate_name;
use crate::home::{create_private, open_private};
use crate::ipc::{StartSpec, Status};

/// Format version of `state.json`.
pub const STATE_VERSION: u32 = 1;

/// Why the state file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading or writing failed.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The content is not a process table.
    #[error("invalid {path}: {source}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
}

/// The whole table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Format version.
    pub version: u32,
    /// Next id to give.
    pub next_id: u32,
    /// The processes, by id.
    pub processes: Vec<SavedProcess>,
}

/// One process as persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedProcess {
    /// Id.
    pub id: u32,
    /// How it is run (includes the name).
    pub spec: StartSpec,
    /// Whether it should run: a new daemon starts it again.
    pub should_run: bool,
    /// Status when saved.
    pub status: Status,
    /// Restarts so far.
    pub restarts: u32,
    /// Pid when saved, if running.
    pub pid: Option<u32>,
    /// Start time of that pid (seconds since the epoch, as the kernel
    /// reports it), to recognise it if it outlived a crashed daemon.
    pub pid_start: Option<u64>,
}

impl State {
    /// Reads the table; a missing file is an empty table.
    pub fn load(path: &Path) -> Result<State, StateError> {
        let read = open_private(path, OpenOptions::new().read(true)).and_then(|mut file| {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).map(|_| bytes)
        });
        let bytes = match read {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(State::default()),
            Err(source) => {
                return Err(StateError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        State::parse(&bytes).map_err(|source| StateError::Invalid {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Parses the content of a state file.
    pub fn parse(bytes: &[u8]) -> Result<State, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Keeps the entries a daemon may act on: a valid name (the same rules
    /// as `velos start --name`, so no entry can name a file outside
    /// `logs/`), and an id and name not taken by an earlier entry. Returns
    /// the table and one message per entry left out.
    pub fn sanitize(self) -> (State, Vec<String>) {
        let mut kept: Vec<SavedProcess> = Vec::with_capacity(self.processes.len());
        let mut skipped = Vec::new();
        for saved in self.processes {
            let problem = if let Err(message) = validate_name(&saved.spec.name) {
                Some(message)
            } else if kept.iter().any(|p| p.id == saved.id) {
                Some(format!("id {} is used twice", saved.id))
            } else if kept.iter().any(|p| p.spec.name == saved.spec.name) {
                Some(format!("the name '{}' is used twice", saved.spec.name))
            } else {
                None
            };
            match problem {
                Some(problem) => skipped.push(format!(
                    "skipped entry {} of the process table ({}): {problem}",
                    saved.id,
                    saved.spec.name.escape_debug()
                )),
                None => kept.push(saved),
            }
        }
        let state = State {
            processes: kept,
            ..self
        };
        (state, skipped)
    }

    /// Writes the table atomically (temporary file, sync, rename).
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let io_err = |source| StateError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let bytes = serde_json::to_vec_pretty(self).map_err(|source| StateError::Invalid {
            path: path.to_path_buf(),
            source,
        })?;
        let mut file = create_private(&tmp, OpenOptions::new().write(true)).map_err(io_err)?;
        file.write_all(&bytes).map_err(io_err)?;
        file.write_all(b"\n").map_err(io_err)?;
        file.sync_data().map_err(io_err)?;
        drop(file);
        fs::rename(&tmp, path).map_err(io_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert_eq!(State::load(&path).unwrap(), State::default());
        let state = State {
            version: STATE_VERSION,
            next_id: 3,
            processes: vec![SavedProcess {
                id: 2,
                spec: StartSpec {
                    name: "web".into(),
                    cmd: "sleep".into(),
                    args: vec!["1".into()],
                    cwd: "/".into(),
                    env: vec![("A".into(), "b".into())],
                    autorestart: true,
                    max_restarts: 15,
                    kill_timeout_ms: 5000,
                    raw: false,
                },
                should_run: true,
                status: Status::Online,
                restarts: 1,
                pid: Some(42),
                pid_start: Some(1_700_000_000),
            }],
        };
        state.save(&path).unwrap();
        assert_eq!(State::load(&path).unwrap(), state);
        fs::write(&path, b"{").unwrap();
        assert!(matches!(
            State::load(&path),
            Err(StateError::Invalid { .. })
        ));
    }

    #[test]
    fn tampered_entries_are_skipped() {
        let entry = |id: u32, name: &str| SavedProcess {
            id,
            spec: StartSpec {
                name: name.into(),
                cmd: "true".into(),
                args: Vec::new(),
                cwd: "/".into(),
                env: Vec::new(),
                autorestart: true,
                max_restarts: 15,
                kill_timeout_ms: 5000,
                raw: false,
            },
            should_run: true,
            status: Status::Online,
            restarts: 0,
            pid: None,
            pid_start: None,
        };
        let state = State {
            version: STATE_VERSION,
            next_id: 9,
            processes: vec![
                entry(0, "../../x"),
                entry(1, "web"),
                entry(2, "web"),
                entry(1, "api"),
                entry(3, "x-out"),
                entry(4, "db"),
            ],
        };
        let (state, skipped) = state.sanitize();
        let names: Vec<&str> = state
            .processes
            .iter()
            .map(|p| p.spec.name.as_str())
            .collect();
        assert_eq!(names, ["web", "db"]);
        assert_eq!(skipped.len(), 4, "{skipped:?}");
        assert!(skipped[0].contains("../../x"), "{}", skipped[0]);
    }
}

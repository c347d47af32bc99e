//! The daemon's own log, `daemon.log` in the home (beside `logs/`, so no
//! process name leads to it): its life (start, stop, restore,
//! errors), as JSON lines in the same format as process logs, with
//! `src:"velos"` and the daemon's pid.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::logfile::{Record, RotatingFile, Rotation, Src, encode};
use super::now_ms;
use crate::level::Level;

/// Appends events to `daemon.log`; write failures are ignored (there is no
/// better place to report them).
pub struct DaemonLog {
    file: Mutex<Option<RotatingFile>>,
    pid: u32,
}

impl DaemonLog {
    /// Opens (creating) the log; if that fails, events are discarded.
    pub fn open(path: PathBuf, rotation: Rotation) -> DaemonLog {
        DaemonLog {
            file: Mutex::new(RotatingFile::open(path, rotation).ok()),
            pid: std::process::id(),
        }
    }

    /// Records an event.
    pub fn write(&self, lvl: Level, msg: &str) {
        let mut line = Vec::with_capacity(msg.len() + 96);
        encode(
            &mut line,
            &Record {
                ts: now_ms(),
                lvl,
                pid: self.pid,
                msg: msg.as_bytes(),
                src: Src::Velos,
                cont: false,
                event: None,
            },
        );
        let mut guard = match self.file.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(file) = guard.as_mut() {
            let _ = file.write_records(&line);
            let _ = file.flush();
        }
    }

    /// An informational event.
    pub fn info(&self, msg: &str) {
        self.write(Level::Info, msg);
    }

    /// Something went wrong but the daemon carries on.
    pub fn warn(&self, msg: &str) {
        self.write(Level::Warn, msg);
    }

    /// A failure.
    pub fn error(&self, msg: &str) {
        self.write(Level::Error, msg);
    }

    /// A failure that may repeat many times a second (a full disk): written
    /// at most once per [`Throttle::INTERVAL`] for `throttle`, with the
    /// number of failures not written since the previous message.
    pub fn error_throttled(&self, throttle: &Throttle, msg: &str) {
        let mut state = match throttle.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        let now = Instant::now();
        if state
            .last
            .is_some_and(|at| now.duration_since(at) < Throttle::INTERVAL)
        {
            state.suppressed += 1;
            return;
        }
        let suppressed = std::mem::take(&mut state.suppressed);
        state.last = Some(now);
        drop(state);
        if suppressed == 0 {
            self.error(msg);
        } else {
            self.error(&format!(
                "{msg} ({suppressed} more failures since the previous message)"
            ));
        }
    }
}

/// The memory of one kind of repeated failure, for
/// [`DaemonLog::error_throttled`].
#[derive(Debug, Default)]
pub struct Throttle {
    state: Mutex<ThrottleState>,
}

#[derive(Debug, Default)]
struct ThrottleState {
    last: Option<Instant>,
    suppressed: u64,
}

impl Throttle {
    /// Least time between two messages.
    pub const INTERVAL: Duration = Duration::from_secs(5);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_failures_are_written_once_per_interval() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("daemon.log");
        let log = DaemonLog::open(path.clone(), Rotation::default());
        let throttle = Throttle::default();
        for _ in 0..1000 {
            log.error_throttled(&throttle, "cannot write the log of 'x': disk full");
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert_eq!(throttle.state.lock().unwrap().suppressed, 999);
        // Once the interval has passed, the next message carries the count.
        throttle.state.lock().unwrap().last = Some(Instant::now() - Throttle::INTERVAL);
        log.error_throttled(&throttle, "cannot write the log of 'x': disk full");
        let text = std::fs::read_to_string(&path).unwrap();
        let last = text.lines().last().unwrap();
        assert!(
            last.contains("(999 more failures since the previous message)"),
            "{last}"
        );
    }
}

//! The process table as plain state: each process's settings, status,
//! pid, restart counts and intent, what an exit nobody asked for leads to
//! (a restart after the backoff, or `errored`), which processes a target
//! names, and which names are allowed. Nothing here starts or signals a
//! process, so it is tested without any.
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::super::events::Throttle;
use super::super::logfile::ProcessLog;
use super::super::now_ms;
use super::{BACKOFF_MAX, BACKOFF_START, STABLE_UPTIME, error};
use crate::ipc::{
    ErrorCode, ExitInfo, METRICS_HISTORY, ProcessInfo, Reply, Sample, StartSpec, Status,
};
use crate::level::Level;
use crate::schema::Event;

/// Delay before restart number `failures` (1-based) of a run of quick failures.
pub fn backoff(failures: u32) -> Duration {
    let shift = failures.saturating_sub(1).min(20);
    BACKOFF_START.saturating_mul(1u32 << shift).min(BACKOFF_MAX)
}

/// What a stop in progress leads to once the process has exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Intent {
    Restart,
    Stop,
    Delete,
    Shutdown,
}

impl Intent {
    /// When a second request arrives while stopping, the stronger wins;
    /// between stop and restart, the later one.
    pub(super) fn rank(self) -> u8 {
        match self {
            Intent::Restart | Intent::Stop => 0,
            Intent::Shutdown => 1,
            Intent::Delete => 2,
        }
    }
}

/// One process of the table.
pub(super) struct Proc {
    pub(super) id: u32,
    pub(super) spec: StartSpec,
    pub(super) status: Status,
    pub(super) should_run: bool,
    pub(super) pid: Option<u32>,
    pub(super) pid_start: Option<u64>,
    pub(super) generation: u64,
    pub(super) restarts: u32,
    pub(super) quick_failures: u32,
    pub(super) started_at: Option<Instant>,
    pub(super) restart_at: Option<Instant>,
    pub(super) kill_at: Option<Instant>,
    pub(super) intent: Option<Intent>,
    pub(super) last_exit: Option<ExitInfo>,
    pub(super) log: Arc<Mutex<ProcessLog>>,
    pub(super) log_files: Vec<String>,
    pub(super) samples: VecDeque<Sample>,
    /// Failures to write its logs, reported to the daemon log sparingly.
    pub(super) write_failures: Arc<Throttle>,
    /// The `restart` record of the restart under way is written already
    /// (it says why), so the exit does not write another.
    pub(super) restart_logged: bool,
    /// Next `cron_restart` firing, Unix milliseconds.
    pub(super) cron_next_ms: Option<u64>,
}

impl Proc {
    /// A stopped process of the table, writing to `log`.
    pub(super) fn new(
        id: u32,
        spec: StartSpec,
        log: ProcessLog,
        cron_next_ms: Option<u64>,
    ) -> Proc {
        let log_files = log
            .paths()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        Proc {
            id,
            spec,
            status: Status::Stopped,
            should_run: false,
            pid: None,
            pid_start: None,
            generation: 0,
            restarts: 0,
            quick_failures: 0,
            started_at: None,
            restart_at: None,
            kill_at: None,
            intent: None,
            last_exit: None,
            log: Arc::new(Mutex::new(log)),
            log_files,
            samples: VecDeque::with_capacity(METRICS_HISTORY),
            write_failures: Arc::default(),
            restart_logged: false,
            cron_next_ms,
        }
    }

    pub(super) fn info(&self, history: bool) -> ProcessInfo {
        let running = self.pid.is_some();
        let last = self.samples.back().filter(|_| running);
        ProcessInfo {
            id: self.id,
            name: self.spec.name.clone(),
            status: self.status,
            pid: self.pid,
            cpu: last.map(|s| s.cpu),
            memory: last.map(|s| s.memory),
            uptime_ms: self
                .started_at
                .filter(|_| running)
                .map(|at| at.elapsed().as_millis() as u64),
            restarts: self.restarts,
            quick_failures: self.quick_failures,
            last_exit: self.last_exit,
            spec: self.spec.clone(),
            log_files: self.log_files.clone(),
            samples: if history {
                self.samples.iter().copied().collect()
            } else {
                Vec::new()
            },
        }
    }

    pub(super) fn lifecycle(&self, lvl: Level, pid: u32, event: Event, msg: &str) {
        let mut log = match self.log.lock() {
            Ok(log) => log,
            Err(poisoned) => poisoned.into_inner(),
        };
        let _ = log.lifecycle(now_ms(), lvl, pid, event, msg);
    }

    pub(super) fn last_pid(&self) -> u32 {
        self.pid.unwrap_or(0)
    }

    pub(super) fn kill_timeout(&self) -> Duration {
        Duration::from_millis(self.spec.kill_timeout_ms)
    }

    /// Decides what follows an exit nobody asked for: a restart after the
    /// backoff, or `errored` (autorestart off, or too many quick failures).
    pub(super) fn exited_unexpectedly(
        &mut self,
        pid: u32,
        uptime: Duration,
        exit: &ExitInfo,
        now: Instant,
    ) {
        if !self.spec.autorestart {
            self.should_run = false;
            if exit.code == Some(0) {
                self.status = Status::Stopped;
                self.lifecycle(
                    Level::Info,
                    pid,
                    Event::Stop,
                    "stopped (exited, autorestart off)",
                );
            } else {
                self.status = Status::Errored;
                self.lifecycle(
                    Level::Error,
                    pid,
                    Event::Errored,
                    "errored (failed, autorestart off)",
                );
            }
            return;
        }
        if uptime >= STABLE_UPTIME {
            self.quick_failures = 0;
        }
        self.quick_failures += 1;
        if self.quick_failures > self.spec.max_restarts {
            self.status = Status::Errored;
            self.should_run = false;
            self.lifecycle(
                Level::Error,
                pid,
                Event::Errored,
                &format!(
                    "errored: {} quick failures in a row (max restarts {}); fix it, then `velos restart {}`",
                    self.quick_failures, self.spec.max_restarts, self.spec.name
                ),
            );
            return;
        }
        let delay = backoff(self.quick_failures);
        self.status = Status::WaitingRestart;
        self.restart_at = Some(now + delay);
        self.lifecycle(
            Level::Warn,
            pid,
            Event::Restart,
            &format!(
                "restarting in {} ms (restart {}, quick failure {} of {})",
                delay.as_millis(),
                self.restarts + 1,
                self.quick_failures,
                self.spec.max_restarts
            ),
        );
    }
}

/// The process table.
#[derive(Default)]
pub(super) struct Table {
    pub(super) next_id: u32,
    pub(super) procs: BTreeMap<u32, Proc>,
    pub(super) shutting_down: bool,
    pub(super) exit: bool,
}

/// The ids a target names: `all`, an id, or a name.
pub(super) fn resolve(table: &Table, target: &str) -> Result<Vec<u32>, Reply> {
    if target == "all" {
        return Ok(table.procs.keys().copied().collect());
    }
    if let Some(proc) = table.procs.values().find(|p| p.spec.name == target) {
        return Ok(vec![proc.id]);
    }
    if let Ok(id) = target.parse::<u32>()
        && table.procs.contains_key(&id)
    {
        return Ok(vec![id]);
    }
    // The name of an app with instances names all of them.
    let instances: Vec<u32> = table
        .procs
        .values()
        .filter(|p| p.spec.options.app.as_deref() == Some(target))
        .map(|p| p.id)
        .collect();
    if !instances.is_empty() {
        return Ok(instances);
    }
    Err(error(
        ErrorCode::NotFound,
        format!("no process named '{target}'; `velos list` shows names and ids"),
    ))
}

/// Names are what log files are called after: keep them plain.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a process name cannot be empty; give one with --name".into());
    }
    if name.len() > 64 {
        return Err(format!(
            "the name '{name}' is longer than 64 bytes; choose a shorter --name"
        ));
    }
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !plain || name.starts_with(['.', '-']) {
        return Err(format!(
            "invalid name '{name}': use letters, digits, '.', '_' and '-' (not first); choose another --name"
        ));
    }
    if name.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "the name '{name}' is a number and would read as an id; choose a --name with a letter"
        ));
    }
    if name == "all" {
        return Err("the name 'all' means every process; choose another --name".into());
    }
    // `x --raw` writes x-out.log and x-err.log: no other name may end so.
    if let Some(base) = name
        .strip_suffix("-out")
        .or_else(|| name.strip_suffix("-err"))
    {
        return Err(format!(
            "the name '{name}' is reserved: '{base}' started with --raw writes {name}.log; choose another --name"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(200));
        assert_eq!(backoff(8), Duration::from_millis(12_800));
        assert_eq!(backoff(9), BACKOFF_MAX);
        assert_eq!(backoff(500), BACKOFF_MAX);
    }

    #[test]
    fn names() {
        assert!(validate_name("web-1.api_x").is_ok());
        for bad in [
            "", "all", "123", "-x", ".x", "a b", "a/b", "é", "x-out", "x-err", "../../x",
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    fn spec(name: &str, app: Option<&str>) -> StartSpec {
        let mut spec: StartSpec = serde_json::from_str(&format!(
            r#"{{"name":"{name}","cmd":"true","cwd":"/","raw":false}}"#
        ))
        .unwrap();
        spec.options.app = app.map(str::to_string);
        spec
    }

    fn table(dir: &std::path::Path, procs: &[(u32, &str, Option<&str>)]) -> Table {
        let mut table = Table::default();
        for &(id, name, app) in procs {
            let log = ProcessLog::open(
                dir.join(format!("{name}.log")),
                None,
                super::super::super::logfile::Rotation::default(),
            )
            .unwrap();
            table
                .procs
                .insert(id, Proc::new(id, spec(name, app), log, None));
            table.next_id = id + 1;
        }
        table
    }

    #[test]
    fn targets_name_processes_ids_apps_or_all() {
        let dir = tempfile::tempdir().unwrap();
        let table = table(
            dir.path(),
            &[
                (0, "api", None),
                (1, "web-0", Some("web")),
                (2, "web-1", Some("web")),
                (3, "7", None),
            ],
        );
        assert_eq!(resolve(&table, "api").unwrap(), [0]);
        assert_eq!(resolve(&table, "2").unwrap(), [2]);
        assert_eq!(resolve(&table, "web").unwrap(), [1, 2]);
        assert_eq!(resolve(&table, "all").unwrap(), [0, 1, 2, 3]);
        // A name wins over an id.
        assert_eq!(resolve(&table, "7").unwrap(), [3]);
        match resolve(&table, "nope") {
            Err(Reply::Error { code, message }) => {
                assert_eq!(code, ErrorCode::NotFound);
                assert!(message.contains("velos list"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn quick_failures_back_off_then_give_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut table = table(dir.path(), &[(0, "api", None)]);
        let proc = table.procs.get_mut(&0).unwrap();
        proc.spec.max_restarts = 2;
        let exit = ExitInfo {
            code: Some(1),
            signal: None,
            at: 0,
        };
        let now = Instant::now();
        proc.exited_unexpectedly(9, Duration::from_millis(10), &exit, now);
        assert_eq!(proc.status, Status::WaitingRestart);
        assert_eq!(proc.restart_at, Some(now + backoff(1)));
        proc.exited_unexpectedly(9, Duration::from_millis(10), &exit, now);
        assert_eq!(proc.restart_at, Some(now + backoff(2)));
        proc.exited_unexpectedly(9, Duration::from_millis(10), &exit, now);
        assert_eq!(proc.status, Status::Errored);
        assert!(!proc.should_run);
        // A long run forgets earlier failures.
        proc.quick_failures = 2;
        proc.exited_unexpectedly(9, STABLE_UPTIME, &exit, now);
        assert_eq!(
            (proc.status, proc.quick_failures),
            (Status::WaitingRestart, 1)
        );
        // Without autorestart, a clean exit stops and a failure is errored.
        proc.spec.autorestart = false;
        proc.exited_unexpectedly(
            9,
            Duration::ZERO,
            &ExitInfo {
                code: Some(0),
                ..exit
            },
            now,
        );
        assert_eq!(proc.status, Status::Stopped);
        proc.exited_unexpectedly(9, Duration::ZERO, &exit, now);
        assert_eq!(proc.status, Status::Errored);
        let log = std::fs::read_to_string(dir.path().join("api.log")).unwrap();
        assert_eq!(log.matches(r#""event":"restart""#).count(), 3, "{log}");
        assert_eq!(log.matches(r#""event":"errored""#).count(), 2, "{log}");
    }
}

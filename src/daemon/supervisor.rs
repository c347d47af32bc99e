//! The process table and its supervision: spawning, stopping, restarting
//! with backoff, reaping, metrics, persistence.
//!
//! One mutex guards the table; a condition variable announces every change.
//! Threads that act on it:
//!
//! - connection threads run requests ([`Shared::handle`]); a request that
//!   stops processes sends the signals, then waits on the condition variable
//!   until they are gone, holding no lock, so other clients go on;
//! - per running process, a *waiter* thread receives its exit status from
//!   the [`Reaper`] and reports the exit, and a *capture* thread writes its
//!   output ([`super::capture`]);
//! - the *timer* thread ([`Shared::timer_loop`]) starts delayed restarts,
//!   sends SIGKILL when a kill timeout passes, marks processes online after
//!   [`ONLINE_AFTER`], forgets quick failures after [`STABLE_UPTIME`], and
//!   samples metrics every second while processes run.
//!   It sleeps when nothing is due.
//!
//! Each child is the leader of its own process group; signals go to the
//! group. When the leader exits, what remains of its group gets SIGTERM,
//! then SIGKILL a second later.

use std::collections::{BTreeMap, VecDeque};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use rustix::pipe::PipeFlags;
use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};

use super::capture::Capture;
use super::config::Config;
use super::events::{DaemonLog, Throttle};
use super::fleet::Fleet;
use super::logfile::ProcessLog;
use super::metrics::{self, Sampler};
use super::now_ms;
use super::reaper::Reaper;
use super::state::{STATE_VERSION, SavedProcess, State};
use crate::classify::Classifier;
use crate::home::Home;
use crate::ipc::{
    ErrorCode, ExitInfo, METRICS_HISTORY, ProcessInfo, Reply, Request, Sample, StartSpec, Status,
};
use crate::level::Level;
use crate::schema::Event;
use crate::text::shell_words;

mod apply;
mod triggers;

/// First restart delay; it doubles with each quick failure.
pub const BACKOFF_START: Duration = Duration::from_millis(100);
/// Longest restart delay.
pub const BACKOFF_MAX: Duration = Duration::from_secs(15);
/// A run that lasted this long resets the backoff and the quick-failure count.
pub const STABLE_UPTIME: Duration = Duration::from_secs(30);
/// A process is `starting` for this long, then `online`.
pub const ONLINE_AFTER: Duration = Duration::from_secs(1);
/// Extra time a stop request waits beyond the largest kill timeout.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// Time the rest of a group has to exit after its leader, before SIGKILL.
const LEFTOVER_GRACE: Duration = Duration::from_secs(1);

/// Delay before restart number `failures` (1-based) of a run of quick failures.
pub fn backoff(failures: u32) -> Duration {
    let shift = failures.saturating_sub(1).min(20);
    BACKOFF_START.saturating_mul(1u32 << shift).min(BACKOFF_MAX)
}

/// What a stop in progress leads to once the process has exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intent {
    Restart,
    Stop,
    Delete,
    Shutdown,
}

impl Intent {
    /// When a second request arrives while stopping, the stronger wins;
    /// between stop and restart, the later one.
    fn rank(self) -> u8 {
        match self {
            Intent::Restart | Intent::Stop => 0,
            Intent::Shutdown => 1,
            Intent::Delete => 2,
        }
    }
}

struct Proc {
    id: u32,
    spec: StartSpec,
    status: Status,
    should_run: bool,
    pid: Option<u32>,
    pid_start: Option<u64>,
    generation: u64,
    restarts: u32,
    quick_failures: u32,
    started_at: Option<Instant>,
    restart_at: Option<Instant>,
    kill_at: Option<Instant>,
    intent: Option<Intent>,
    last_exit: Option<ExitInfo>,
    log: Arc<Mutex<ProcessLog>>,
    log_files: Vec<String>,
    samples: VecDeque<Sample>,
    /// Failures to write its logs, reported to the daemon log sparingly.
    write_failures: Arc<Throttle>,
    /// The `restart` record of the restart under way is written already
    /// (it says why), so the exit does not write another.
    restart_logged: bool,
    /// Next `cron_restart` firing, Unix milliseconds.
    cron_next_ms: Option<u64>,
}

impl Proc {
    fn info(&self, history: bool) -> ProcessInfo {
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

    fn lifecycle(&self, lvl: Level, pid: u32, event: Event, msg: &str) {
        let mut log = match self.log.lock() {
            Ok(log) => log,
            Err(poisoned) => poisoned.into_inner(),
        };
        let _ = log.lifecycle(now_ms(), lvl, pid, event, msg);
    }

    fn last_pid(&self) -> u32 {
        self.pid.unwrap_or(0)
    }

    fn kill_timeout(&self) -> Duration {
        Duration::from_millis(self.spec.kill_timeout_ms)
    }
}

#[derive(Default)]
struct Table {
    next_id: u32,
    procs: BTreeMap<u32, Proc>,
    shutting_down: bool,
    exit: bool,
}

/// State shared by every thread of the daemon.
pub struct Shared {
    home: Home,
    config: Config,
    classifier: Classifier,
    log: Arc<DaemonLog>,
    table: Mutex<Table>,
    changed: Condvar,
    exiting: AtomicBool,
    /// Written to by [`Shared::begin_exit`] to wake the server (read end,
    /// write end); `None` if no pipe could be made, and the server then
    /// notices within [`super::server::SOCKET_CHECK`].
    exit_pipe: Option<(OwnedFd, OwnedFd)>,
    reaper: Reaper,
    fleet: Option<Arc<Fleet>>,
}

fn error(code: ErrorCode, message: impl Into<String>) -> Reply {
    Reply::Error {
        code,
        message: message.into(),
    }
}

impl Shared {
    /// A daemon core with an empty table; captured lines get their level
    /// from `classifier` (the same rules as `velos logs`).
    pub fn new(home: Home, config: Config, classifier: Classifier, log: Arc<DaemonLog>) -> Shared {
        Shared {
            home,
            config,
            classifier,
            log,
            table: Mutex::new(Table::default()),
            changed: Condvar::new(),
            exiting: AtomicBool::new(false),
            exit_pipe: rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK).ok(),
            reaper: Reaper::default(),
            fleet: None,
        }
    }

    /// Hands every capture thread a tap of `fleet` (metrics and export).
    pub fn with_fleet(mut self, fleet: Option<Arc<Fleet>>) -> Shared {
        self.fleet = fleet;
        self
    }

    /// The process table, as `velos list` shows it.
    pub fn processes(&self) -> Vec<ProcessInfo> {
        self.lock().procs.values().map(|p| p.info(false)).collect()
    }

    /// The daemon's own log.
    pub fn daemon_log(&self) -> &DaemonLog {
        &self.log
    }

    /// The reaper of the daemon's children.
    pub fn reaper(&self) -> &Reaper {
        &self.reaper
    }

    /// The runtime home.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// Locks the table and resolves `target` (name, id or `all`), unless
    /// the daemon is shutting down.
    fn lock_targets(&self, target: &str) -> Result<(MutexGuard<'_, Table>, Vec<u32>), Reply> {
        let table = self.lock();
        if table.shutting_down {
            return Err(shutting_down());
        }
        let ids = resolve(&table, target)?;
        Ok((table, ids))
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        match self.table.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Whether the daemon is on its way out (the server stops accepting).
    pub fn is_exiting(&self) -> bool {
        self.exiting.load(Ordering::SeqCst)
    }

    /// Tells the server loop to stop accepting connections.
    pub fn begin_exit(&self) {
        self.exiting.store(true, Ordering::SeqCst);
        // Wake the server's poll (it does not depend on the socket file,
        // which may be gone).
        if let Some((_, write)) = &self.exit_pipe {
            let _ = rustix::io::write(write, b"x");
        }
    }

    /// Readable once [`begin_exit`](Self::begin_exit) was called.
    pub fn exit_fd(&self) -> Option<BorrowedFd<'_>> {
        self.exit_pipe.as_ref().map(|(read, _)| read.as_fd())
    }

    /// Runs one request.
    pub fn handle(self: &Arc<Self>, request: Request) -> Reply {
        match request {
            Request::Ping => Reply::Pong {
                version: env!("CARGO_PKG_VERSION").to_string(),
                pid: std::process::id(),
                home: self.home.root().display().to_string(),
            },
            Request::Start { spec } => self.start(spec),
            Request::Stop { target } => self.stop(&target, Intent::Stop),
            Request::Delete { target } => self.stop(&target, Intent::Delete),
            Request::Restart { target } => self.restart(&target),
            Request::List { history } => {
                let table = self.lock();
                Reply::Processes {
                    processes: table.procs.values().map(|p| p.info(history)).collect(),
                }
            }
            Request::Info { target } => {
                let table = self.lock();
                match resolve(&table, &target) {
                    Ok(ids) if ids.len() == 1 => Reply::Process {
                        process: Box::new(table.procs[&ids[0]].info(true)),
                    },
                    Ok(_) if target != "all" => error(
                        ErrorCode::BadRequest,
                        format!(
                            "'{target}' is an app with several instances; give one of their names (`velos list` shows them)"
                        ),
                    ),
                    Ok(_) => error(
                        ErrorCode::BadRequest,
                        "info takes one process name or id, not 'all'",
                    ),
                    Err(reply) => reply,
                }
            }
            Request::Flush { target } => self.flush(&target),
            Request::Kill => {
                self.shutdown();
                Reply::ShuttingDown
            }
            Request::Apply {
                file,
                specs,
                reload,
            } => self.apply(&file, specs, reload),
        }
    }

    fn start(self: &Arc<Self>, mut spec: StartSpec) -> Reply {
        if let Err(reply) = check_spec(&mut spec) {
            return reply;
        }
        let mut table = self.lock();
        if table.shutting_down {
            return shutting_down();
        }
        if let Some(other) = table.procs.values().find(|p| p.spec.name == spec.name) {
            return error(
                ErrorCode::AlreadyExists,
                format!(
                    "a process named '{name}' already exists (id {id}); choose another --name, or run `velos restart {name}`",
                    name = spec.name,
                    id = other.id
                ),
            );
        }
        let id = table.next_id;
        let mut proc = match self.new_proc(id, spec) {
            Ok(proc) => proc,
            Err(message) => return error(ErrorCode::Internal, message),
        };
        if let Err(message) = self.spawn(&mut proc) {
            return error(ErrorCode::SpawnFailed, message);
        }
        proc.should_run = true;
        let info = proc.info(false);
        table.next_id = id + 1;
        table.procs.insert(id, proc);
        self.commit(&table);
        Reply::Processes {
            processes: vec![info],
        }
    }

    fn new_proc(&self, id: u32, spec: StartSpec) -> Result<Proc, String> {
        let cron_next_ms = self.cron_next(&spec, now_ms());
        let json = self.home.process_log(&spec.name);
        let raw = spec.raw.then(|| {
            (
                self.home.raw_out_log(&spec.name),
                self.home.raw_err_log(&spec.name),
            )
        });
        let log = ProcessLog::open(json.clone(), raw, self.config.rotation)
            .map_err(|err| format!("cannot open the log files of '{}': {err}", spec.name))?;
        let log_files = log
            .paths()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        Ok(Proc {
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
        })
    }

    /// Starts the process; on success it is `starting`, with its capture and
    /// waiter threads running.
    fn spawn(self: &Arc<Self>, proc: &mut Proc) -> Result<(), String> {
        let spec = &proc.spec;
        let mut command = Command::new(&spec.cmd);
        command
            .args(&spec.args)
            .current_dir(&spec.cwd)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        // SAFETY: between fork and exec only async-signal-safe calls are
        // made: sigemptyset and sigprocmask on a local set.
        unsafe {
            command.pre_exec(|| {
                // The daemon blocks its signals to receive them in one thread;
                // the child must start with none blocked.
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                if libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let (mut child, exit_rx) = self
            .reaper
            .spawn(&mut command)
            .map_err(|err| spawn_error(spec, &err))?;
        let pid = child.id();
        // The reaper collects the status; the handle only gives the pipes.
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            kill_group(pid);
            return Err("internal error: the child's pipes are missing".into());
        };
        drop(child);
        let mut line = shell_words(
            std::iter::once(&proc.spec.cmd)
                .chain(&proc.spec.args)
                .map(String::as_str),
        );
        line.insert_str(0, "started: ");
        line.push_str(&format!(" (pid {pid})"));
        proc.lifecycle(Level::Info, pid, Event::Start, &line);
        proc.generation += 1;
        let generation = proc.generation;
        let id = proc.id;
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let capture = Capture {
            stdout,
            stderr,
            log: proc.log.clone(),
            pid,
            done: done_tx,
            tap: self.fleet.as_ref().map(|f| f.tap(id, &proc.spec.name, pid)),
        };
        let shared = self.clone();
        let name = proc.spec.name.clone();
        let write_failures = proc.write_failures.clone();
        let capture_thread = thread::Builder::new()
            .name(format!("capture-{id}"))
            .stack_size(256 * 1024)
            .spawn(move || {
                let log_shared = shared.clone();
                capture.run(
                    &shared.classifier,
                    Box::new(move |err| {
                        log_shared.log.error_throttled(
                            &write_failures,
                            &format!("cannot write the log of '{name}': {err}"),
                        );
                    }),
                );
            });
        if let Err(err) = capture_thread {
            kill_group(pid);
            return Err(format!("cannot start a capture thread: {err}"));
        }
        let shared = self.clone();
        let waiter = thread::Builder::new()
            .name(format!("wait-{id}"))
            .stack_size(256 * 1024)
            .spawn(move || {
                let status = exit_rx.recv().ok();
                shared.after_exit(id, generation, pid, status, done_rx);
            });
        if let Err(err) = waiter {
            kill_group(pid);
            return Err(format!("cannot start a waiter thread: {err}"));
        }
        proc.pid = Some(pid);
        proc.pid_start = metrics::start_time(pid);
        proc.status = Status::Starting;
        proc.started_at = Some(Instant::now());
        proc.restart_at = None;
        proc.kill_at = None;
        proc.restart_logged = false;
        Ok(())
    }

    /// Spawns, or marks the process errored with the reason.
    fn spawn_or_error(self: &Arc<Self>, proc: &mut Proc) {
        if let Err(message) = self.spawn(proc) {
            proc.status = Status::Errored;
            proc.should_run = false;
            proc.pid = None;
            proc.lifecycle(Level::Error, 0, Event::SpawnFailed, &message);
            self.log.error(&format!("'{}': {message}", proc.spec.name));
        }
    }

    /// Runs in the waiter thread once the child is reaped.
    fn after_exit(
        self: &Arc<Self>,
        id: u32,
        generation: u64,
        pid: u32,
        status: Option<ExitStatus>,
        capture_done: mpsc::Receiver<()>,
    ) {
        if let Some(pgid) = Pid::from_raw(pid as i32)
            && test_kill_process_group(pgid).is_ok()
        {
            let _ = kill_process_group(pgid, Signal::TERM);
            let deadline = Instant::now() + LEFTOVER_GRACE;
            while test_kill_process_group(pgid).is_ok() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(20));
            }
            let _ = kill_process_group(pgid, Signal::KILL);
        }
        // Let the capture write the last lines before the exit record.
        let _ = capture_done.recv_timeout(Duration::from_secs(2));
        self.child_exited(id, generation, pid, status);
    }

    fn child_exited(
        self: &Arc<Self>,
        id: u32,
        generation: u64,
        pid: u32,
        status: Option<ExitStatus>,
    ) {
        let mut table = self.lock();
        let shutting_down = table.shutting_down;
        let Some(proc) = table.procs.get_mut(&id) else {
            return;
        };
        if proc.generation != generation {
            return;
        }
        let now = Instant::now();
        let uptime = proc
            .started_at
            .map(|at| now.duration_since(at))
            .unwrap_or_default();
        let exit = ExitInfo {
            code: status.and_then(|s| s.code()),
            signal: status.and_then(|s| s.signal()),
            at: now_ms(),
        };
        proc.pid = None;
        proc.pid_start = None;
        proc.kill_at = None;
        proc.started_at = None;
        proc.last_exit = Some(exit);
        let intent = proc.intent.take();
        let clean = exit.code == Some(0);
        let lvl = if intent.is_some() || clean {
            Level::Info
        } else {
            Level::Warn
        };
        proc.lifecycle(
            lvl,
            pid,
            Event::Exit,
            &format!(
                "{} after {}",
                describe_exit(&exit),
                crate::text::duration(uptime)
            ),
        );
        let mut remove = false;
        match intent {
            Some(Intent::Stop) | Some(Intent::Shutdown) => {
                proc.status = Status::Stopped;
                proc.lifecycle(Level::Info, pid, Event::Stop, "stopped");
            }
            Some(Intent::Delete) => {
                proc.status = Status::Stopped;
                proc.lifecycle(Level::Info, pid, Event::Stop, "stopped and deleted");
                remove = true;
            }
            Some(Intent::Restart) if !shutting_down => {
                proc.restarts += 1;
                proc.quick_failures = 0;
                if !std::mem::take(&mut proc.restart_logged) {
                    proc.lifecycle(Level::Info, pid, Event::Restart, "restarting (requested)");
                }
                self.spawn_or_error(proc);
            }
            Some(Intent::Restart) => proc.status = Status::Stopped,
            None if shutting_down => proc.status = Status::Stopped,
            None => self.unexpected_exit(proc, pid, uptime, &exit, now),
        }
        if remove {
            table.procs.remove(&id);
        }
        self.commit(&table);
    }

    fn unexpected_exit(
        &self,
        proc: &mut Proc,
        pid: u32,
        uptime: Duration,
        exit: &ExitInfo,
        now: Instant,
    ) {
        if !proc.spec.autorestart {
            proc.should_run = false;
            if exit.code == Some(0) {
                proc.status = Status::Stopped;
                proc.lifecycle(
                    Level::Info,
                    pid,
                    Event::Stop,
                    "stopped (exited, autorestart off)",
                );
            } else {
                proc.status = Status::Errored;
                proc.lifecycle(
                    Level::Error,
                    pid,
                    Event::Errored,
                    "errored (failed, autorestart off)",
                );
            }
            return;
        }
        if uptime >= STABLE_UPTIME {
            proc.quick_failures = 0;
        }
        proc.quick_failures += 1;
        if proc.quick_failures > proc.spec.max_restarts {
            proc.status = Status::Errored;
            proc.should_run = false;
            proc.lifecycle(
                Level::Error,
                pid,
                Event::Errored,
                &format!(
                    "errored: {} quick failures in a row (max restarts {}); fix it, then `velos restart {}`",
                    proc.quick_failures, proc.spec.max_restarts, proc.spec.name
                ),
            );
            return;
        }
        let delay = backoff(proc.quick_failures);
        proc.status = Status::WaitingRestart;
        proc.restart_at = Some(now + delay);
        proc.lifecycle(
            Level::Warn,
            pid,
            Event::Restart,
            &format!(
                "restarting in {} ms (restart {}, quick failure {} of {})",
                delay.as_millis(),
                proc.restarts + 1,
                proc.quick_failures,
                proc.spec.max_restarts
            ),
        );
    }

    /// Sends SIGTERM to a running process's group and records the intent.
    fn begin_stop(proc: &mut Proc, intent: Intent, now: Instant) {
        match proc.status {
            Status::Starting | Status::Online => {
                if let Some(pid) = proc.pid {
                    if let Some(pgid) = Pid::from_raw(pid as i32) {
                        let _ = kill_process_group(pgid, Signal::TERM);
                    }
                    proc.lifecycle(Level::Info, pid, Event::Stop, "stopping: sent SIGTERM");
                }
                proc.status = Status::Stopping;
                proc.intent = Some(intent);
                proc.kill_at = Some(now + proc.kill_timeout());
            }
            Status::Stopping => {
                let stronger = match proc.intent {
                    Some(current) if current.rank() > intent.rank() => current,
                    _ => intent,
                };
                proc.intent = Some(stronger);
            }
            Status::WaitingRestart | Status::Stopped | Status::Errored => {
                proc.restart_at = None;
                if intent != Intent::Shutdown || proc.status == Status::WaitingRestart {
                    proc.status = Status::Stopped;
                }
            }
        }
    }

    fn stop(self: &Arc<Self>, target: &str, intent: Intent) -> Reply {
        let (mut table, ids) = match self.lock_targets(target) {
            Ok(found) => found,
            Err(reply) => return reply,
        };
        let now = Instant::now();
        let mut wait = Duration::ZERO;
        let mut before = Vec::new();
        for id in &ids {
            let Some(proc) = table.procs.get_mut(id) else {
                continue;
            };
            before.push(proc.info(false));
            proc.should_run = false;
            Self::begin_stop(proc, intent, now);
            wait = wait.max(proc.kill_timeout());
        }
        if intent == Intent::Delete {
            table
                .procs
                .retain(|id, proc| !(ids.contains(id) && proc.status != Status::Stopping));
        }
        self.commit(&table);
        let table = self.wait_stopped(table, &ids, wait + STOP_GRACE);
        let processes = if intent == Intent::Delete {
            for info in &mut before {
                info.status = Status::Stopped;
                info.pid = None;
            }
            before
        } else {
            ids.iter()
                .filter_map(|id| table.procs.get(id).map(|p| p.info(false)))
                .collect()
        };
        Reply::Processes { processes }
    }

    fn restart(self: &Arc<Self>, target: &str) -> Reply {
        let (mut table, ids) = match self.lock_targets(target) {
            Ok(found) => found,
            Err(reply) => return reply,
        };
        let now = Instant::now();
        let mut wait = Duration::ZERO;
        for id in &ids {
            let Some(proc) = table.procs.get_mut(id) else {
                continue;
            };
            proc.should_run = true;
            match proc.status {
                Status::Starting | Status::Online | Status::Stopping => {
                    Self::begin_stop(proc, Intent::Restart, now);
                    wait = wait.max(proc.kill_timeout());
                }
                Status::WaitingRestart | Status::Stopped | Status::Errored => {
                    proc.restart_at = None;
                    proc.quick_failures = 0;
                    proc.restarts += 1;
                    proc.lifecycle(
                        Level::Info,
                        proc.last_pid(),
                        Event::Restart,
                        "restarting (requested)",
                    );
                    self.spawn_or_error(proc);
                }
            }
        }
        self.commit(&table);
        let table = self.wait_stopped(table, &ids, wait + STOP_GRACE);
        Reply::Processes {
            processes: ids
                .iter()
                .filter_map(|id| table.procs.get(id).map(|p| p.info(false)))
                .collect(),
        }
    }

    fn flush(self: &Arc<Self>, target: &str) -> Reply {
        let table = self.lock();
        let ids = match resolve(&table, target) {
            Ok(ids) => ids,
            Err(reply) => return reply,
        };
        let mut processes = Vec::new();
        for id in &ids {
            let proc = &table.procs[id];
            let mut log = match proc.log.lock() {
                Ok(log) => log,
                Err(poisoned) => poisoned.into_inner(),
            };
            if let Err(err) = log.truncate() {
                return error(
                    ErrorCode::Internal,
                    format!("cannot empty the logs of '{}': {err}", proc.spec.name),
                );
            }
            processes.push(proc.info(false));
        }
        Reply::Processes { processes }
    }

    /// Waits (releasing the lock) until none of `ids` is stopping.
    fn wait_stopped<'a>(
        &'a self,
        table: MutexGuard<'a, Table>,
        ids: &[u32],
        timeout: Duration,
    ) -> MutexGuard<'a, Table> {
        let result = self.changed.wait_timeout_while(table, timeout, |table| {
            ids.iter().any(|id| {
                table
                    .procs
                    .get(id)
                    .is_some_and(|p| p.status == Status::Stopping)
            })
        });
        match result {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        }
    }

    /// Stops every process (they keep `should_run`, so the next daemon
    /// starts them again) and marks the table for exit.
    pub fn shutdown(self: &Arc<Self>) {
        let mut table = self.lock();
        table.shutting_down = true;
        let now = Instant::now();
        let mut wait = Duration::ZERO;
        let ids: Vec<u32> = table.procs.keys().copied().collect();
        for proc in table.procs.values_mut() {
            Self::begin_stop(proc, Intent::Shutdown, now);
            wait = wait.max(proc.kill_timeout());
        }
        self.commit(&table);
        let mut table = self.wait_stopped(table, &ids, wait + STOP_GRACE);
        table.exit = true;
        self.commit(&table);
    }

    /// Saves the table and wakes every waiter.
    fn commit(&self, table: &Table) {
        let state = State {
            version: STATE_VERSION,
            next_id: table.next_id,
            processes: table
                .procs
                .values()
                .map(|p| SavedProcess {
                    id: p.id,
                    spec: p.spec.clone(),
                    should_run: p.should_run,
                    status: p.status,
                    restarts: p.restarts,
                    pid: p.pid,
                    pid_start: p.pid_start,
                })
                .collect(),
        };
        if let Err(err) = state.save(&self.home.state_file()) {
            self.log
                .error(&format!("cannot save the process table: {err}"));
        }
        self.changed.notify_all();
    }

    /// Loads a saved table: processes that outlived a crashed daemon are
    /// stopped, those that should run are started again.
    pub fn restore(self: &Arc<Self>, state: State) {
        let (state, skipped) = state.sanitize();
        for message in &skipped {
            self.log.error(message);
        }
        for (name, pid) in stop_leftovers(&state.processes) {
            self.log.warn(&format!(
                "'{name}' (pid {pid}) outlived the previous daemon; stopped it"
            ));
        }
        let mut table = self.lock();
        table.next_id = state.next_id;
        for saved in state.processes {
            let name = saved.spec.name.clone();
            match self.new_proc(saved.id, saved.spec) {
                Ok(mut proc) => {
                    proc.restarts = saved.restarts;
                    proc.should_run = saved.should_run;
                    proc.status = if saved.status == Status::Errored {
                        Status::Errored
                    } else {
                        Status::Stopped
                    };
                    table.next_id = table.next_id.max(saved.id + 1);
                    table.procs.insert(saved.id, proc);
                }
                Err(message) => self
                    .log
                    .error(&format!("cannot restore '{name}': {message}")),
            }
        }
        let mut started = 0;
        for proc in table.procs.values_mut() {
            if proc.should_run {
                proc.lifecycle(
                    Level::Info,
                    0,
                    Event::Restore,
                    "restoring after a daemon restart",
                );
                self.spawn_or_error(proc);
                started += 1;
            }
        }
        if !table.procs.is_empty() {
            self.log.info(&format!(
                "restored {} processes, started {started}",
                table.procs.len()
            ));
        }
        self.commit(&table);
    }

    /// The timer thread: delayed restarts, kill timeouts, `online`
    /// promotion and metrics. Returns when the daemon exits.
    pub fn timer_loop(self: &Arc<Self>) {
        self.start_watching();
        let mut sampler = Sampler::new();
        let mut next_sample = Instant::now();
        let mut table = self.lock();
        loop {
            if table.exit {
                return;
            }
            let now = Instant::now();
            let mut changed = false;
            for proc in table.procs.values_mut() {
                if proc.restart_at.is_some_and(|at| at <= now) {
                    proc.restart_at = None;
                    proc.restarts += 1;
                    self.spawn_or_error(proc);
                    changed = true;
                }
                if proc.kill_at.is_some_and(|at| at <= now) {
                    proc.kill_at = None;
                    if let Some(pid) = proc.pid
                        && let Some(pgid) = Pid::from_raw(pid as i32)
                    {
                        let _ = kill_process_group(pgid, Signal::KILL);
                        proc.lifecycle(
                            Level::Warn,
                            pid,
                            Event::Kill,
                            &format!(
                                "did not stop within {}; sent SIGKILL",
                                crate::text::duration(proc.kill_timeout())
                            ),
                        );
                    }
                }
                if proc.status == Status::Starting
                    && proc
                        .started_at
                        .is_some_and(|at| now.duration_since(at) >= ONLINE_AFTER)
                {
                    proc.status = Status::Online;
                    changed = true;
                }
                if proc.quick_failures > 0
                    && proc.status == Status::Online
                    && proc
                        .started_at
                        .is_some_and(|at| now.duration_since(at) >= STABLE_UPTIME)
                {
                    proc.quick_failures = 0;
                    changed = true;
                }
                changed |= self.cron_due(proc, now);
            }
            if changed {
                self.commit(&table);
            }
            let live: Vec<(u32, u32)> = table
                .procs
                .values()
                .filter_map(|p| p.pid.map(|pid| (p.id, pid)))
                .collect();
            if !live.is_empty() && now >= next_sample {
                next_sample = now + Duration::from_secs(1);
                drop(table);
                let pids: Vec<u32> = live.iter().map(|&(_, pid)| pid).collect();
                let samples = sampler.sample(&pids);
                let ts = now_ms();
                table = self.lock();
                let mut restarted = false;
                for (&(id, pid), sample) in live.iter().zip(samples) {
                    if let Some(proc) = table.procs.get_mut(&id)
                        && proc.pid == Some(pid)
                        && let Some((cpu, memory)) = sample
                    {
                        if proc.samples.len() == METRICS_HISTORY {
                            proc.samples.pop_front();
                        }
                        proc.samples.push_back(Sample { ts, cpu, memory });
                        restarted |= Self::check_memory(proc, memory, now);
                    }
                }
                if restarted {
                    self.commit(&table);
                }
                continue;
            }
            let mut next = if live.is_empty() {
                None
            } else {
                Some(next_sample)
            };
            for proc in table.procs.values() {
                let online_at = proc
                    .started_at
                    .filter(|_| proc.status == Status::Starting)
                    .map(|at| at + ONLINE_AFTER);
                let stable_at = proc
                    .started_at
                    .filter(|_| proc.quick_failures > 0 && proc.status == Status::Online)
                    .map(|at| at + STABLE_UPTIME);
                let cron_at = Self::cron_deadline(proc, now);
                for at in [proc.restart_at, proc.kill_at, online_at, stable_at, cron_at]
                    .into_iter()
                    .flatten()
                {
                    next = Some(next.map_or(at, |n: Instant| n.min(at)));
                }
            }
            table = match next {
                Some(at) => {
                    let wait = at.saturating_duration_since(Instant::now());
                    match self.changed.wait_timeout(table, wait) {
                        Ok((guard, _)) => guard,
                        Err(poisoned) => poisoned.into_inner().0,
                    }
                }
                None => match self.changed.wait(table) {
                    Ok(guard) => guard,
                    Err(poisoned) => poisoned.into_inner(),
                },
            };
        }
    }
}

/// Stops the processes of a saved table that outlived their daemon (it was
/// killed with SIGKILL or crashed): each whose pid still runs with the
/// recorded start time gets SIGTERM to its group, then SIGKILL after its
/// kill timeout (at most 10 s). Returns their names and pids.
pub fn stop_leftovers(saved: &[SavedProcess]) -> Vec<(String, u32)> {
    let mut stopped = Vec::new();
    let mut groups = Vec::new();
    let mut wait = Duration::ZERO;
    for process in saved {
        if let (Some(pid), Some(start)) = (process.pid, process.pid_start)
            && metrics::is_live(pid)
            && metrics::start_time(pid) == Some(start)
            && let Some(pgid) = Pid::from_raw(pid as i32)
        {
            let _ = kill_process_group(pgid, Signal::TERM);
            groups.push(pgid);
            stopped.push((process.spec.name.clone(), pid));
            wait = wait.max(Duration::from_millis(process.spec.kill_timeout_ms));
        }
    }
    let deadline = Instant::now() + wait.min(Duration::from_secs(10));
    // Leftovers are init's children: zombies until it reaps them.
    while groups
        .iter()
        .any(|g| metrics::is_live(g.as_raw_nonzero().get() as u32))
        && Instant::now() < deadline
    {
        thread::sleep(Duration::from_millis(20));
    }
    for pgid in groups {
        let _ = kill_process_group(pgid, Signal::KILL);
    }
    stopped
}

fn shutting_down() -> Reply {
    error(
        ErrorCode::ShuttingDown,
        "the daemon is shutting down; try again in a moment",
    )
}

/// The ids a target names: `all`, an id, or a name.
fn resolve(table: &Table, target: &str) -> Result<Vec<u32>, Reply> {
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

/// Checks a spec before it is started; a relative program path becomes
/// relative to the working directory.
fn check_spec(spec: &mut StartSpec) -> Result<(), Reply> {
    if let Err(message) = validate_name(&spec.name) {
        return Err(error(ErrorCode::InvalidName, message));
    }
    if spec.cmd.is_empty() {
        return Err(error(ErrorCode::BadRequest, "no command given"));
    }
    let cwd = Path::new(&spec.cwd);
    if !cwd.is_absolute() {
        return Err(error(
            ErrorCode::BadRequest,
            format!("working directory '{}' must be absolute", spec.cwd),
        ));
    }
    if !cwd.is_dir() {
        return Err(error(
            ErrorCode::SpawnFailed,
            format!("working directory '{}' does not exist; fix --cwd", spec.cwd),
        ));
    }
    if spec.cmd.contains('/') && !spec.cmd.starts_with('/') {
        spec.cmd = cwd.join(&spec.cmd).display().to_string();
    }
    triggers::check_options(&spec.options).map_err(|message| error(ErrorCode::BadRequest, message))
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

fn spawn_error(spec: &StartSpec, err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => format!(
            "cannot execute '{}': command not found; check the name and PATH, or give a full path",
            spec.cmd
        ),
        std::io::ErrorKind::PermissionDenied => format!(
            "cannot execute '{}': permission denied; make it executable (chmod +x) or run it through its interpreter",
            spec.cmd
        ),
        _ => format!("cannot execute '{}': {err}", spec.cmd),
    }
}

/// Kills a child that cannot be supervised (the reaper collects it).
fn kill_group(pid: u32) {
    if let Some(pgid) = Pid::from_raw(pid as i32) {
        let _ = kill_process_group(pgid, Signal::KILL);
    }
}

fn describe_exit(exit: &ExitInfo) -> String {
    match (exit.code, exit.signal) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal} ({})", signal_name(signal)),
        (None, None) => "exited (status unknown)".to_string(),
    }
}

/// Conventional name of a signal number.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => "signal",
    }
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
}

//! Starting a process (its group, its capture and waiter threads) and
//! handling its exit once the reaper has it.
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};

use super::super::capture::Capture;
use super::super::logfile::ProcessLog;
use super::super::metrics;
use super::super::now_ms;
use super::{Intent, LEFTOVER_GRACE, Proc, Shared, error, triggers, validate_name};
use crate::ipc::{ErrorCode, ExitInfo, Reply, StartSpec, Status};
use crate::level::Level;
use crate::schema::Event;
use crate::text::shell_words;

impl Shared {
    pub(super) fn new_proc(&self, id: u32, spec: StartSpec) -> Result<Proc, String> {
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
        Ok(Proc::new(id, spec, log, cron_next_ms))
    }

    /// Starts the process; on success it is `starting`, with its capture and
    /// waiter threads running.
    pub(super) fn spawn(self: &Arc<Self>, proc: &mut Proc) -> Result<(), String> {
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
    pub(super) fn spawn_or_error(self: &Arc<Self>, proc: &mut Proc) {
        if let Err(message) = self.spawn(proc) {
            proc.status = Status::Errored;
            proc.should_run = false;
            proc.pid = None;
            proc.lifecycle(Level::Error, 0, Event::SpawnFailed, &message);
            self.log.error(&format!("'{}': {message}", proc.spec.name));
        }
    }

    /// Runs in the waiter thread once the child is reaped.
    pub(super) fn after_exit(
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

    pub(super) fn child_exited(
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
            None => proc.exited_unexpectedly(pid, uptime, &exit, now),
        }
        if remove {
            table.procs.remove(&id);
        }
        self.commit(&table);
    }
}

/// Checks a spec before it is started; a relative program path becomes
/// relative to the working directory.
pub(super) fn check_spec(spec: &mut StartSpec) -> Result<(), Reply> {
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
        (None, Some(signal)) => format!(
            "killed by signal {signal} ({})",
            crate::ipc::signal_name(signal)
        ),
        (None, None) => "exited (status unknown)".to_string(),
    }
}

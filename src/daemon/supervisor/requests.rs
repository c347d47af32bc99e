//! The protocol's requests on the table: start, stop, restart, delete,
//! list, info, flush and kill ([`Shared::handle`]).
use std::sync::{Arc, MutexGuard};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};

use super::{Intent, Proc, STOP_GRACE, Shared, Table, check_spec, error, resolve, shutting_down};
use crate::ipc::{ErrorCode, Reply, Request, StartSpec, Status};
use crate::level::Level;
use crate::schema::Event;

impl Shared {
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

    pub(super) fn start(self: &Arc<Self>, mut spec: StartSpec) -> Reply {
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

    /// Sends SIGTERM to a running process's group and records the intent.
    pub(super) fn begin_stop(proc: &mut Proc, intent: Intent, now: Instant) {
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

    pub(super) fn stop(self: &Arc<Self>, target: &str, intent: Intent) -> Reply {
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

    pub(super) fn restart(self: &Arc<Self>, target: &str) -> Reply {
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

    pub(super) fn flush(self: &Arc<Self>, target: &str) -> Reply {
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
    pub(super) fn wait_stopped<'a>(
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
}

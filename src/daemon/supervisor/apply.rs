//! Applying an app file ([`Request::Apply`](crate::ipc::Request::Apply)):
//! `velos start apps.toml` and `velos reload apps.toml`.
//!
//! Processes are matched to the file's by name. `start` starts those that
//! do not run and leaves running ones alone; `reload` also restarts running
//! processes whose settings changed (with the new settings, keeping their
//! id and restart count) and deletes the processes of this file that it no
//! longer describes. Every spec is checked, and names taken by processes
//! not from this file refused, before anything is changed.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::triggers::Trigger;
use super::{Intent, STOP_GRACE, Shared, check_spec, error, shutting_down};
use crate::ipc::{AppAction, AppChange, ErrorCode, ProcessInfo, Reply, StartSpec, Status};

impl Shared {
    pub(super) fn apply(
        self: &Arc<Self>,
        file: &str,
        mut specs: Vec<StartSpec>,
        reload: bool,
    ) -> Reply {
        for spec in &mut specs {
            if let Err(reply) = check_spec(spec) {
                return reply;
            }
            spec.options.app_file = Some(file.to_string());
        }
        let mut table = self.lock();
        if table.shutting_down {
            return shutting_down();
        }
        let mut seen = HashSet::new();
        for spec in &specs {
            if !seen.insert(spec.name.as_str()) {
                return error(
                    ErrorCode::AlreadyExists,
                    format!("{file} gives two processes the name '{}'", spec.name),
                );
            }
            if let Some(other) = table.procs.values().find(|p| p.spec.name == spec.name)
                && other.spec.options.app_file.as_deref() != Some(file)
            {
                return error(
                    ErrorCode::AlreadyExists,
                    format!(
                        "a process named '{name}' (id {id}) exists and was not started from {file}; delete it with `velos delete {name}` or rename the app",
                        name = spec.name,
                        id = other.id
                    ),
                );
            }
        }
        let now = Instant::now();
        let mut wait = Duration::ZERO;
        let mut waiting = Vec::new();
        let mut done: Vec<(AppAction, u32)> = Vec::new();
        for spec in specs {
            let existing = table
                .procs
                .values()
                .find(|p| p.spec.name == spec.name)
                .map(|p| p.id);
            let Some(id) = existing else {
                let id = table.next_id;
                let mut proc = match self.new_proc(id, spec) {
                    Ok(proc) => proc,
                    Err(message) => {
                        self.commit(&table);
                        return error(ErrorCode::Internal, message);
                    }
                };
                proc.should_run = true;
                self.spawn_or_error(&mut proc);
                table.next_id = id + 1;
                table.procs.insert(id, proc);
                done.push((AppAction::Started, id));
                continue;
            };
            let Some(proc) = table.procs.get_mut(&id) else {
                continue;
            };
            let same = proc.spec == spec;
            let running = proc.status.is_running();
            if running && (same || !reload) {
                let action = if same {
                    AppAction::Unchanged
                } else {
                    AppAction::Differs
                };
                done.push((action, id));
                continue;
            }
            if !same {
                match self.new_proc(id, spec) {
                    Ok(fresh) => {
                        // The log stays open unless its kind changes.
                        if fresh.spec.raw != proc.spec.raw {
                            proc.log = fresh.log;
                            proc.log_files = fresh.log_files;
                        }
                        proc.spec = fresh.spec;
                        proc.cron_next_ms = fresh.cron_next_ms;
                    }
                    Err(message) => {
                        self.commit(&table);
                        return error(ErrorCode::Internal, message);
                    }
                }
            }
            proc.should_run = true;
            if running {
                if !Self::restart_for(proc, Trigger::Reload, now) {
                    // Already stopping: make it come back.
                    Self::begin_stop(proc, Intent::Restart, now);
                }
                wait = wait.max(proc.kill_timeout());
                waiting.push(id);
                done.push((AppAction::Restarted, id));
            } else {
                proc.restart_at = None;
                proc.quick_failures = 0;
                if proc.status == Status::WaitingRestart || proc.last_exit.is_some() {
                    proc.restarts += 1;
                }
                self.spawn_or_error(proc);
                done.push((AppAction::Started, id));
            }
        }
        let mut deleted: Vec<ProcessInfo> = Vec::new();
        if reload {
            let kept: HashSet<u32> = done.iter().map(|&(_, id)| id).collect();
            let gone: Vec<u32> = table
                .procs
                .values()
                .filter(|p| {
                    p.spec.options.app_file.as_deref() == Some(file) && !kept.contains(&p.id)
                })
                .map(|p| p.id)
                .collect();
            for id in &gone {
                let Some(proc) = table.procs.get_mut(id) else {
                    continue;
                };
                let mut info = proc.info(false);
                info.status = Status::Stopped;
                info.pid = None;
                deleted.push(info);
                proc.should_run = false;
                Self::begin_stop(proc, Intent::Delete, now);
                wait = wait.max(proc.kill_timeout());
                waiting.push(*id);
            }
            table
                .procs
                .retain(|id, proc| !(gone.contains(id) && proc.status != Status::Stopping));
        }
        self.commit(&table);
        let table = self.wait_stopped(table, &waiting, wait + STOP_GRACE);
        let mut changes: Vec<AppChange> = done
            .into_iter()
            .filter_map(|(action, id)| {
                table.procs.get(&id).map(|p| AppChange {
                    action,
                    process: p.info(false),
                })
            })
            .collect();
        changes.extend(deleted.into_iter().map(|process| AppChange {
            action: AppAction::Deleted,
            process,
        }));
        Reply::Applied { changes }
    }
}

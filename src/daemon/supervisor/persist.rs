//! The table on disk: saved to `state.json` after every change, restored
//! when the daemon starts (stopping what outlived a crashed daemon).
use std::sync::Arc;

use super::super::state::{STATE_VERSION, SavedProcess, State};
use super::{Shared, Table};
use crate::ipc::Status;
use crate::level::Level;
use crate::schema::Event;

impl Shared {
    /// Saves the table and wakes every waiter.
    pub(super) fn commit(&self, table: &Table) {
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
        for (name, pid) in crate::leftovers::stop(&state.processes) {
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
}

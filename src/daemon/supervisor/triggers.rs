//! Restarts the daemon decides on its own, each written as a lifecycle
//! record `event:"restart"` with a `reason`:
//!
//! - `memory`: a sample finds resident memory over `max_memory_restart`
//!   (warn level, so `velos logs --summary` counts it as a restart);
//! - `cron`: the `cron_restart` schedule fires (local time);
//! - `watch`: a watched file changed ([`crate::daemon::watch`]), with the
//!   changed file in `path`;
//! - `reload`: `velos reload` found the app's settings changed.
//!
//! The restart is graceful, like `velos restart`: SIGTERM, SIGKILL after the
//! kill timeout, then a new start. Only a running process is restarted.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Intent, Proc, Shared};
use crate::daemon::cron::Schedule;
use crate::daemon::now_ms;
use crate::ipc::{StartSpec, Status};
use crate::level::Level;
use crate::schema::{Event, PATH, REASON, Reason};
use crate::text::bytes as human_bytes;

/// Why the daemon restarts a process.
pub(crate) enum Trigger<'a> {
    /// Resident memory over the limit.
    Memory {
        /// Resident bytes sampled.
        rss: u64,
        /// `max_memory_restart`.
        limit: u64,
    },
    /// The `cron_restart` schedule fired.
    Cron,
    /// A watched file changed.
    Watch {
        /// The file.
        path: &'a Path,
    },
    /// `velos reload` applied new settings.
    Reload,
}

impl Proc {
    fn lifecycle_with(&self, lvl: Level, event: Event, msg: &str, fields: &[(&str, &str)]) {
        let mut log = match self.log.lock() {
            Ok(log) => log,
            Err(poisoned) => poisoned.into_inner(),
        };
        let _ = log.lifecycle_with(now_ms(), lvl, self.last_pid(), event, msg, fields);
    }
}

impl Shared {
    /// Begins a graceful restart of a running process for `trigger`,
    /// writing the `restart` record; false if it is not running.
    pub(super) fn restart_for(proc: &mut Proc, trigger: Trigger<'_>, now: Instant) -> bool {
        if !matches!(proc.status, Status::Starting | Status::Online) {
            return false;
        }
        let path_text;
        let (lvl, msg, fields): (Level, String, Vec<(&str, &str)>) = match trigger {
            Trigger::Memory { rss, limit } => (
                Level::Warn,
                format!(
                    "restarting: resident memory {} is over max_memory_restart {}",
                    human_bytes(rss),
                    human_bytes(limit)
                ),
                vec![(REASON, Reason::Memory.as_str())],
            ),
            Trigger::Cron => (
                Level::Info,
                format!(
                    "restarting: cron_restart \"{}\" fired",
                    proc.spec.options.cron_restart.as_deref().unwrap_or("")
                ),
                vec![(REASON, Reason::Cron.as_str())],
            ),
            Trigger::Watch { path } => {
                path_text = path.display().to_string();
                (
                    Level::Info,
                    format!("restarting: {path_text} changed"),
                    vec![(REASON, Reason::Watch.as_str()), (PATH, path_text.as_str())],
                )
            }
            Trigger::Reload => (
                Level::Info,
                "restarting: the app file changed its settings".to_string(),
                vec![(REASON, Reason::Reload.as_str())],
            ),
        };
        proc.lifecycle_with(lvl, Event::Restart, &msg, &fields);
        proc.restart_logged = true;
        Self::begin_stop(proc, Intent::Restart, now);
        true
    }

    /// Restarts process `id` because `path` changed (from the watch thread).
    pub(crate) fn restart_on_change(self: &Arc<Self>, id: u32, path: &Path) {
        let mut table = self.lock();
        if table.shutting_down {
            return;
        }
        let Some(proc) = table.procs.get_mut(&id) else {
            return;
        };
        if Self::restart_for(proc, Trigger::Watch { path }, Instant::now()) {
            self.commit(&table);
        }
    }

    /// After a sample: restarts the process if it is over its memory limit.
    pub(super) fn check_memory(proc: &mut Proc, rss: u64, now: Instant) -> bool {
        match proc.spec.options.max_memory_restart {
            Some(limit) if rss > limit => {
                Self::restart_for(proc, Trigger::Memory { rss, limit }, now)
            }
            _ => false,
        }
    }

    /// The next firing of the spec's `cron_restart` after `after_ms`; an
    /// expression that no longer parses (from an older state file) is
    /// reported and ignored.
    pub(super) fn cron_next(&self, spec: &StartSpec, after_ms: u64) -> Option<u64> {
        let expr = spec.options.cron_restart.as_deref()?;
        match Schedule::parse(expr) {
            Ok(schedule) => schedule.next_after_ms(after_ms),
            Err(message) => {
                self.log.error(&format!("'{}': {message}", spec.name));
                None
            }
        }
    }

    /// Fires the cron restart when due and schedules the next; whether the
    /// table changed.
    pub(super) fn cron_due(&self, proc: &mut Proc, now: Instant) -> bool {
        let Some(at) = proc.cron_next_ms else {
            return false;
        };
        let wall = now_ms();
        if at > wall {
            return false;
        }
        proc.cron_next_ms = self.cron_next(&proc.spec, wall.max(at));
        Self::restart_for(proc, Trigger::Cron, now)
    }

    /// When the timer must wake for the process's cron restart.
    pub(super) fn cron_deadline(proc: &Proc, now: Instant) -> Option<Instant> {
        let at = proc.cron_next_ms?;
        Some(now + Duration::from_millis(at.saturating_sub(now_ms())))
    }
}

/// Checks the restart settings of a spec from a client.
pub(super) fn check_options(options: &crate::ipc::AppOptions) -> Result<(), String> {
    if let Some(expr) = &options.cron_restart {
        Schedule::parse(expr)?;
    }
    if options.max_memory_restart == Some(0) {
        return Err("max_memory_restart must be more than 0 bytes".into());
    }
    crate::daemon::watch::IgnoreSet::new(&options.watch_ignore)?;
    Ok(())
}

impl Shared {
    /// Starts the thread restarting processes on file changes.
    pub(super) fn start_watching(self: &Arc<Self>) {
        let shared = self.clone();
        let spawned = std::thread::Builder::new()
            .name("watch".into())
            .stack_size(256 * 1024)
            .spawn(move || crate::daemon::watch::run(&shared));
        if let Err(err) = spawned {
            self.log.error(&format!(
                "cannot start the watch thread: {err}; `watch` restarts are off"
            ));
        }
    }

    /// The processes that should run and watch files, with their watched
    /// paths made absolute.
    pub(crate) fn watch_specs(&self) -> Vec<crate::daemon::watch::WatchSpec> {
        let table = self.lock();
        table
            .procs
            .values()
            .filter(|p| p.should_run && !p.spec.options.watch.is_empty())
            .map(|p| crate::daemon::watch::WatchSpec {
                id: p.id,
                roots: p
                    .spec
                    .options
                    .watch
                    .iter()
                    .map(|w| Path::new(&p.spec.cwd).join(w))
                    .collect(),
                ignore: p.spec.options.watch_ignore.clone(),
            })
            .collect()
    }
}

//! The process table and its supervision: spawning, stopping, restarting
//! with backoff, reaping, metrics, persistence. Its rooms:
//!
//! - [`table`] — the table as plain state: processes, their intents and
//!   what an exit leads to, target resolution, names (tested without
//!   processes);
//! - [`spawn`] — starting a process with its capture and waiter threads,
//!   and handling its exit;
//! - [`requests`] — the protocol's requests: start, stop, restart, delete,
//!   list, info, flush, kill;
//! - [`timers`] — the timer thread;
//! - [`persist`] — saving the table to `state.json` and restoring it;
//! - [`apply`] — app files; [`triggers`] — memory, cron and watch restarts.
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

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rustix::pipe::PipeFlags;

use super::config::Config;
use super::events::DaemonLog;
use super::fleet::Fleet;
use super::reaper::Reaper;
use crate::classify::Classifier;
use crate::home::Home;
use crate::ipc::{ErrorCode, ProcessInfo, Reply};

use spawn::check_spec;
use table::{Intent, Proc, Table, resolve};
pub use table::{backoff, validate_name};

mod apply;
mod persist;
mod requests;
mod spawn;
mod table;
mod timers;
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
}

fn shutting_down() -> Reply {
    error(
        ErrorCode::ShuttingDown,
        "the daemon is shutting down; try again in a moment",
    )
}

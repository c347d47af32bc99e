//! Processes that outlived their daemon (it was killed with SIGKILL or
//! crashed), found from the saved process table and stopped: by a new
//! daemon when it restores the table, and by `velos kill` when no daemon
//! runs. A process counts as left over only while its pid still runs with
//! the start time recorded for it, so a pid reused by another program is
//! never signalled.

use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};

use crate::daemon::metrics;
use crate::daemon::state::SavedProcess;

/// Stops the processes of a saved table that outlived their daemon (it was
/// killed with SIGKILL or crashed): each whose pid still runs with the
/// recorded start time gets SIGTERM to its group, then SIGKILL after its
/// kill timeout (at most 10 s). Returns their names and pids.
pub fn stop(saved: &[SavedProcess]) -> Vec<(String, u32)> {
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

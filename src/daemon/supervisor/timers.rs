//! The timer thread: delayed restarts, kill timeouts, `online` promotion,
//! forgetting quick failures, cron restarts and metrics sampling. It
//! sleeps until the next of these is due.
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};

use super::super::metrics::Sampler;
use super::super::now_ms;
use super::{ONLINE_AFTER, STABLE_UPTIME, Shared};
use crate::ipc::{METRICS_HISTORY, Sample, Status};
use crate::level::Level;
use crate::schema::Event;

impl Shared {
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

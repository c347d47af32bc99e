//! CPU and memory sampling of supervised processes, through `sysinfo`.
//!
//! The daemon samples once per second while processes run and keeps the
//! last [`METRICS_HISTORY`](crate::ipc::METRICS_HISTORY) samples of each.
//! Figures are those of the process itself (the group leader), not of its
//! descendants. CPU is in percent of one core, relative to the previous
//! sample (the first sample of a run reads 0).

use sysinfo::{Pid, ProcessRefreshKind, ProcessStatus, ProcessesToUpdate, System};

/// Reads CPU and resident memory of given pids.
pub struct Sampler {
    system: Option<System>,
}

impl Default for Sampler {
    fn default() -> Self {
        Sampler::new()
    }
}

impl Sampler {
    /// A sampler; without `/proc` it samples nothing.
    pub fn new() -> Sampler {
        Sampler {
            system: System::new().ok(),
        }
    }

    /// `(cpu %, resident bytes)` of each pid, `None` for pids gone.
    pub fn sample(&mut self, pids: &[u32]) -> Vec<Option<(f32, u64)>> {
        let Some(system) = &mut self.system else {
            return vec![None; pids.len()];
        };
        let list: Vec<Pid> = pids.iter().map(|&pid| Pid::from_u32(pid)).collect();
        system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&list),
            true,
            ProcessRefreshKind::nothing().with_cpu().with_memory(),
        );
        list.iter()
            .map(|pid| {
                system
                    .process(*pid)
                    .map(|process| (process.cpu_usage(), process.memory()))
            })
            .collect()
    }
}

/// Start time (seconds since the epoch) of a running pid, to recognise it
/// later.
pub fn start_time(pid: u32) -> Option<u64> {
    let mut system = System::new().ok()?;
    let pid = Pid::from_u32(pid);
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        true,
        ProcessRefreshKind::nothing(),
    );
    system.process(pid).map(|process| process.start_time())
}

/// Whether a pid is a live process (not gone, not a zombie).
pub fn is_live(pid: u32) -> bool {
    let Ok(mut system) = System::new() else {
        return false;
    };
    let pid = Pid::from_u32(pid);
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        true,
        ProcessRefreshKind::nothing(),
    );
    system
        .process(pid)
        .is_some_and(|process| process.status() != ProcessStatus::Zombie)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_self() {
        let me = std::process::id();
        let mut sampler = Sampler::new();
        let first = sampler.sample(&[me, u32::MAX - 1]);
        assert!(first[0].is_some_and(|(_, memory)| memory > 0));
        assert!(first[1].is_none());
        assert!(start_time(me).is_some_and(|t| t > 1_000_000_000));
    }
}

//! Reaping: every process that ends under the daemon is waited for, so none
//! stays a zombie.
//!
//! The daemon is a *child subreaper*: descendants orphaned by a supervised
//! process (a daemonising child, leftovers of a killed group) are re-parented
//! to it rather than to init. One place reaps everything: on `SIGCHLD`,
//! [`Reaper::reap`] collects every exited child with `waitpid(-1, WNOHANG)`,
//! hands the status of a supervised process to its waiter, and simply
//! discards orphans. Spawning goes through [`Reaper::spawn`], which registers
//! the pid under the same lock, so a status is never collected before its
//! waiter is known.

use std::collections::HashMap;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus};
use std::sync::{Mutex, MutexGuard, mpsc};

use rustix::process::{WaitOptions, wait};

/// Collects exited children and routes their statuses.
#[derive(Default)]
pub struct Reaper {
    waiting: Mutex<HashMap<u32, mpsc::Sender<ExitStatus>>>,
}

impl Reaper {
    /// Makes this process the subreaper of its descendants.
    pub fn become_subreaper() -> io::Result<()> {
        rustix::process::set_child_subreaper(Some(rustix::process::getpid()))?;
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u32, mpsc::Sender<ExitStatus>>> {
        match self.waiting.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Spawns `command`; its exit status will arrive on the receiver.
    pub fn spawn(&self, command: &mut Command) -> io::Result<(Child, mpsc::Receiver<ExitStatus>)> {
        let mut waiting = self.lock();
        let child = command.spawn()?;
        let (tx, rx) = mpsc::channel();
        waiting.insert(child.id(), tx);
        Ok((child, rx))
    }

    /// Reaps every child that has exited. Call on `SIGCHLD`.
    pub fn reap(&self) {
        let mut waiting = self.lock();
        loop {
            match wait(WaitOptions::NOHANG) {
                Ok(Some((pid, status))) => {
                    let pid = pid.as_raw_nonzero().get() as u32;
                    if let Some(tx) = waiting.remove(&pid) {
                        let _ = tx.send(ExitStatus::from_raw(status.as_raw()));
                    }
                }
                Ok(None) => return,
                Err(rustix::io::Errno::INTR) => continue,
                // ECHILD: no children at all.
                Err(_) => return,
            }
        }
    }
}

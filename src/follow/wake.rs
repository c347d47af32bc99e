//! Waiting for something to do, without spinning: file notifications for
//! the followed files' directories (inotify through the `notify` crate),
//! with a polling fallback; Ctrl-C and SIGTERM; the reader of our output
//! going away; and bytes from streamed inputs (stdin, pipes), read on
//! threads of their own.
//!
//! Every source of wake-ups sends a [`Wake`] into one channel; the follow
//! loop blocks on it with a timeout, so an idle follow sleeps.

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Once};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};

/// Poll interval when notifications are missing for some directory.
pub const FALLBACK_POLL: Duration = Duration::from_millis(250);
/// Poll interval for safety when notifications work.
pub const SAFETY_POLL: Duration = Duration::from_secs(1);

/// Why the follow loop woke up.
#[derive(Debug)]
pub enum Wake {
    /// Something changed in a watched directory.
    Changed,
    /// SIGINT or SIGTERM: leave cleanly.
    Interrupted,
    /// The reader of standard output went away.
    OutputClosed,
    /// Bytes from streamed input `id`.
    Input(usize, Vec<u8>),
    /// Streamed input `id` ended (with the error that ended it, if any).
    InputEnd(usize, Option<std::io::Error>),
}

struct Dir {
    path: PathBuf,
    /// Device and inode of the directory when it was watched.
    watched: Option<(u64, u64)>,
}

/// The one place the follow loop waits.
pub struct Waker {
    tx: Sender<Wake>,
    rx: Receiver<Wake>,
    watcher: Option<RecommendedWatcher>,
    dirs: Vec<Dir>,
}

impl Waker {
    /// Prepares to watch the directories of `files` for changes to them
    /// (or to their rotated copies, `<name>.1`…). Without notifications,
    /// [`Waker::interval`] falls back to polling.
    pub fn new(files: &[PathBuf]) -> Waker {
        let (tx, rx) = channel();
        let mut names: Vec<OsString> = Vec::new();
        let mut dirs: Vec<PathBuf> = Vec::new();
        for file in files {
            if let Some(name) = file.file_name() {
                names.push(name.to_os_string());
            }
            let dir = crate::source::dir_of(file).to_path_buf();
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        let names = Arc::new(names);
        let dir_set: Arc<HashSet<PathBuf>> = Arc::new(dirs.iter().cloned().collect());
        let sender = tx.clone();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let wanted = match &res {
                Ok(event) => relevant(event, &names, &dir_set),
                Err(_) => true,
            };
            if wanted {
                let _ = sender.send(Wake::Changed);
            }
        })
        .ok();
        Waker {
            tx,
            rx,
            watcher,
            dirs: dirs
                .into_iter()
                .map(|path| Dir {
                    path,
                    watched: None,
                })
                .collect(),
        }
        .refreshed()
    }

    fn refreshed(mut self) -> Waker {
        self.refresh();
        self
    }

    /// Watches directories that appeared or were replaced since last time.
    /// Cheap: one `stat` per directory.
    pub fn refresh(&mut self) {
        let Some(watcher) = self.watcher.as_mut() else {
            return;
        };
        for dir in &mut self.dirs {
            let now = std::fs::metadata(&dir.path)
                .ok()
                .map(|m| (m.dev(), m.ino()));
            if now == dir.watched {
                continue;
            }
            if dir.watched.is_some() {
                let _ = watcher.unwatch(&dir.path);
            }
            dir.watched = match now {
                Some(id)
                    if watcher
                        .watch(&dir.path, RecursiveMode::NonRecursive)
                        .is_ok() =>
                {
                    Some(id)
                }
                _ => None,
            };
        }
    }

    /// How long to sleep at most when nothing wakes us: short while some
    /// directory is not watched, longer (a safety net) otherwise.
    pub fn interval(&self) -> Duration {
        if self.watcher.is_some() && self.dirs.iter().all(|d| d.watched.is_some()) {
            SAFETY_POLL
        } else {
            FALLBACK_POLL
        }
    }

    /// Whether notifications cover every directory.
    pub fn notifying(&self) -> bool {
        self.interval() == SAFETY_POLL
    }

    /// A sender for wake-ups from elsewhere.
    pub fn sender(&self) -> Sender<Wake> {
        self.tx.clone()
    }

    /// Blocks until a wake-up or `timeout`; returns every wake-up pending
    /// by then (repeated `Changed` folded into one).
    pub fn wait(&self, timeout: Duration) -> Vec<Wake> {
        let mut wakes = Vec::new();
        match self.rx.recv_timeout(timeout) {
            Ok(wake) => wakes.push(wake),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return wakes,
        }
        while let Ok(wake) = self.rx.try_recv() {
            if matches!(wake, Wake::Changed) && wakes.iter().any(|w| matches!(w, Wake::Changed)) {
                continue;
            }
            wakes.push(wake);
        }
        wakes
    }

    /// Turns SIGINT and SIGTERM into [`Wake::Interrupted`]. A second signal
    /// kills the process as usual.
    pub fn on_signals(&self) -> std::io::Result<()> {
        let read_end = signal_pipe()?;
        let tx = self.tx.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                let mut pipe = read_end;
                let mut byte = [0u8; 1];
                loop {
                    match pipe.read(&mut byte) {
                        Ok(1) => {
                            if tx.send(Wake::Interrupted).is_err() {
                                return;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        _ => return,
                    }
                }
            })?;
        Ok(())
    }

    /// Sends [`Wake::OutputClosed`] when standard output is a pipe or a
    /// socket and its reader goes away, so a follow whose output nobody
    /// reads ends without waiting for the next record.
    pub fn on_output_closed(&self) -> std::io::Result<()> {
        // SAFETY: fstat on fd 1 into a zeroed, local stat buffer.
        let kind = unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            if libc::fstat(1, &mut st) != 0 {
                return Ok(());
            }
            st.st_mode & libc::S_IFMT
        };
        if kind != libc::S_IFIFO && kind != libc::S_IFSOCK {
            return Ok(());
        }
        let tx = self.tx.clone();
        std::thread::Builder::new()
            .name("output".into())
            .spawn(move || {
                loop {
                    let mut fd = libc::pollfd {
                        fd: 1,
                        events: 0,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd; waits without a timeout.
                    let rc = unsafe { libc::poll(&mut fd, 1, -1) };
                    if rc < 0 {
                        if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
                        {
                            continue;
                        }
                        return;
                    }
                    if fd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
                        let _ = tx.send(Wake::OutputClosed);
                        return;
                    }
                }
            })?;
        Ok(())
    }

    /// Reads `input` on a thread of its own, sending what arrives as
    /// [`Wake::Input`] as soon as it is read.
    pub fn read_input(&self, id: usize, mut input: Box<dyn Read + Send>) -> std::io::Result<()> {
        let tx = self.tx.clone();
        std::thread::Builder::new()
            .name(format!("input-{id}"))
            .spawn(move || {
                let mut buf = vec![0u8; 64 << 10];
                loop {
                    match input.read(&mut buf) {
                        Ok(0) => {
                            let _ = tx.send(Wake::InputEnd(id, None));
                            return;
                        }
                        Ok(n) => {
                            if tx.send(Wake::Input(id, buf[..n].to_vec())).is_err() {
                                return;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            let _ = tx.send(Wake::InputEnd(id, Some(e)));
                            return;
                        }
                    }
                }
            })?;
        Ok(())
    }
}

/// Whether a notification may concern a followed file: its name, a
/// rotated copy of it, or the directory itself. Plain opens and reads
/// (ours included) are not changes.
fn relevant(event: &notify::Event, names: &[OsString], dirs: &HashSet<PathBuf>) -> bool {
    if matches!(
        event.kind,
        EventKind::Access(AccessKind::Open(_) | AccessKind::Read)
            | EventKind::Access(AccessKind::Close(AccessMode::Read))
    ) {
        return false;
    }
    if event.paths.is_empty() {
        return true;
    }
    event.paths.iter().any(|path| {
        dirs.contains(path)
            || path.file_name().is_some_and(|name| {
                names
                    .iter()
                    .any(|want| name.as_bytes().starts_with(want.as_bytes()))
            })
    })
}

static SIGNAL_FD: AtomicI32 = AtomicI32::new(-1);
static SIGNALS: Once = Once::new();

extern "C" fn on_signal(_: libc::c_int) {
    let fd = SIGNAL_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: write(2) is async-signal-safe; the buffer is a local byte.
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
    }
}

/// Installs the SIGINT/SIGTERM handler once; returns the pipe's read end.
fn signal_pipe() -> std::io::Result<std::fs::File> {
    use std::os::fd::FromRawFd;
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 fills two valid descriptors on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fds[0] is a fresh descriptor we own.
    let read_end = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    SIGNAL_FD.store(fds[1], Ordering::Relaxed);
    SIGNALS.call_once(|| {
        // SAFETY: a handler that only writes one byte to a pipe; reset to
        // the default after the first signal, so a second one kills.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as usize;
            action.sa_flags = libc::SA_RESTART | libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
            libc::sigaction(libc::SIGTERM, &action, std::ptr::null_mut());
        }
    });
    Ok(read_end)
}

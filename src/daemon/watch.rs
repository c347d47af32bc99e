//! Restarts on file changes (`watch` and `watch_ignore` in app files).
//!
//! One thread, started with the daemon, keeps an inotify watcher (through
//! `notify`) for each process that has watched paths and should run: every
//! directory under a watched path is watched on its own, skipping ignored
//! ones (so `node_modules` costs no watches), and directories created later
//! are added as they appear. The table is looked at again every
//! [`RESYNC`], so started, reloaded and deleted processes are followed.
//!
//! Changes are debounced: the process is restarted once no change has come
//! for [`DEBOUNCE`] (or [`MAX_DELAY`] after the first change of a burst),
//! and the `restart` record names the first changed path. Reads are not
//! changes; ignored paths are not either, nor the files the daemon writes in
//! its home (when the home is under a watched path).
//!
//! An ignore pattern is a glob: one without `/` is matched against each
//! component of the path below the watched path (`*.log`, `node_modules`,
//! `.git`); one with `/` against the path below the watched path and its
//! parents (`build/tmp`, `src/**/*.gen.rs`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use globset::{Glob, GlobSet, GlobSetBuilder};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use super::supervisor::Shared;

/// Quiet time after the last change before restarting.
pub const DEBOUNCE: Duration = Duration::from_millis(500);
/// Longest wait after the first change of a burst of changes.
pub const MAX_DELAY: Duration = Duration::from_secs(5);
/// How often the set of watched processes is compared with the table.
pub const RESYNC: Duration = Duration::from_secs(1);
/// Most directories watched for one process.
pub const MAX_DIRS: usize = 8192;

/// Compiled `watch_ignore` patterns.
#[derive(Debug, Clone)]
pub struct IgnoreSet {
    names: GlobSet,
    paths: GlobSet,
}

impl IgnoreSet {
    /// Compiles patterns; the error names the bad one.
    pub fn new(patterns: &[String]) -> Result<IgnoreSet, String> {
        let mut names = GlobSetBuilder::new();
        let mut paths = GlobSetBuilder::new();
        for pattern in patterns {
            let trimmed = pattern.trim_end_matches('/');
            let glob = Glob::new(trimmed)
                .map_err(|err| format!("invalid pattern '{pattern}': {}", err.kind()))?;
            if trimmed.contains('/') {
                paths.add(glob);
            } else {
                names.add(glob);
            }
        }
        let build = |builder: GlobSetBuilder| {
            builder
                .build()
                .map_err(|err| format!("invalid pattern: {}", err.kind()))
        };
        Ok(IgnoreSet {
            names: build(names)?,
            paths: build(paths)?,
        })
    }

    /// Whether `path`, below the watched `root`, is ignored.
    pub fn is_ignored(&self, root: &Path, path: &Path) -> bool {
        let Ok(below) = path.strip_prefix(root) else {
            return false;
        };
        if below
            .components()
            .any(|part| self.names.is_match(part.as_os_str()))
        {
            return true;
        }
        if self.paths.is_empty() {
            return false;
        }
        below
            .ancestors()
            .filter(|p| !p.as_os_str().is_empty())
            .any(|p| self.paths.is_match(p))
    }
}

/// What the watch thread needs of one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchSpec {
    /// The process id.
    pub id: u32,
    /// Watched paths, absolute.
    pub roots: Vec<PathBuf>,
    /// `watch_ignore` patterns.
    pub ignore: Vec<String>,
}

struct Active {
    spec: WatchSpec,
    ignore: IgnoreSet,
    /// The daemon's own files (log directory, table, pid file, socket):
    /// what it writes there is no change of the app's, even under a
    /// watched path.
    own: Vec<PathBuf>,
    watcher: RecommendedWatcher,
    dirs: usize,
    /// First changed path of the burst, when it began, and the last change.
    pending: Option<(PathBuf, Instant, Instant)>,
}

type Message = (u32, notify::Result<notify::Event>);

/// The watch thread: runs until the daemon exits.
pub fn run(shared: &Arc<Shared>) {
    let (tx, rx) = mpsc::channel::<Message>();
    let mut active: HashMap<u32, Active> = HashMap::new();
    let mut next_sync = Instant::now();
    loop {
        if shared.is_exiting() {
            return;
        }
        let now = Instant::now();
        if now >= next_sync {
            sync(shared, &mut active, &tx);
            next_sync = now + RESYNC;
        }
        for (&id, process) in active.iter_mut() {
            if let Some((path, first, last)) = &process.pending
                && (now.duration_since(*last) >= DEBOUNCE
                    || now.duration_since(*first) >= MAX_DELAY)
            {
                let path = path.clone();
                process.pending = None;
                shared.restart_on_change(id, &path);
            }
        }
        let mut wake = next_sync;
        for process in active.values() {
            if let Some((_, first, last)) = &process.pending {
                wake = wake.min((*last + DEBOUNCE).min(*first + MAX_DELAY));
            }
        }
        match rx.recv_timeout(wake.saturating_duration_since(Instant::now())) {
            Ok((id, Ok(event))) => {
                if let Some(process) = active.get_mut(&id) {
                    process.observe(shared, &event);
                }
            }
            Ok((id, Err(err))) => shared
                .daemon_log()
                .warn(&format!("watching the files of process {id}: {err}")),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// What the daemon writes in its home.
fn own_files(home: &crate::home::Home) -> Vec<PathBuf> {
    let state = home.state_file();
    let mut tmp = state.clone().into_os_string();
    tmp.push(".tmp");
    vec![
        home.logs_dir(),
        state,
        PathBuf::from(tmp),
        home.pid_file(),
        home.socket(),
    ]
}

/// Starts, replaces and drops watchers to match the table.
fn sync(shared: &Arc<Shared>, active: &mut HashMap<u32, Active>, tx: &mpsc::Sender<Message>) {
    let wanted = shared.watch_specs();
    active.retain(|id, process| wanted.iter().any(|w| w.id == *id && *w == process.spec));
    for spec in wanted {
        if active.contains_key(&spec.id) {
            continue;
        }
        let id = spec.id;
        let ignore = match IgnoreSet::new(&spec.ignore) {
            Ok(ignore) => ignore,
            Err(err) => {
                shared
                    .daemon_log()
                    .error(&format!("process {id}: watch_ignore: {err}"));
                IgnoreSet::new(&[]).unwrap_or_else(|_| unreachable!("no patterns"))
            }
        };
        let tx = tx.clone();
        let watcher = match notify::recommended_watcher(move |res| {
            let _ = tx.send((id, res));
        }) {
            Ok(watcher) => watcher,
            Err(err) => {
                shared
                    .daemon_log()
                    .error(&format!("cannot watch the files of process {id}: {err}"));
                continue;
            }
        };
        let mut process = Active {
            spec,
            ignore,
            own: own_files(shared.home()),
            watcher,
            dirs: 0,
            pending: None,
        };
        for root in process.spec.roots.clone() {
            process.add(shared, &root, &root);
        }
        active.insert(id, process);
    }
}

impl Active {
    /// Watches `path` (below `root`) and, for a directory, every directory
    /// under it that is not ignored.
    fn add(&mut self, shared: &Shared, root: &Path, path: &Path) {
        if self.ignore.is_ignored(root, path) || self.is_own(path) {
            return;
        }
        if self.dirs >= MAX_DIRS {
            return;
        }
        if let Err(err) = self.watcher.watch(path, RecursiveMode::NonRecursive) {
            shared.daemon_log().warn(&format!(
                "process {}: cannot watch {}: {err}",
                self.spec.id,
                path.display()
            ));
            return;
        }
        self.dirs += 1;
        if self.dirs == MAX_DIRS {
            shared.daemon_log().warn(&format!(
                "process {}: watching the first {MAX_DIRS} directories only; add watch_ignore patterns",
                self.spec.id
            ));
        }
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                self.add(shared, root, &entry.path());
            }
        }
    }

    fn is_own(&self, path: &Path) -> bool {
        self.own.iter().any(|own| path.starts_with(own))
    }

    fn root_of(&self, path: &Path) -> Option<PathBuf> {
        self.spec
            .roots
            .iter()
            .find(|root| path.starts_with(root))
            .cloned()
    }

    fn observe(&mut self, shared: &Shared, event: &notify::Event) {
        if matches!(event.kind, EventKind::Access(_) | EventKind::Other) {
            return;
        }
        for path in &event.paths {
            let Some(root) = self.root_of(path) else {
                continue;
            };
            if self.ignore.is_ignored(&root, path) || self.is_own(path) {
                continue;
            }
            if matches!(event.kind, EventKind::Create(_)) && path.is_dir() {
                self.add(shared, &root, path);
            }
            let now = Instant::now();
            match &mut self.pending {
                Some((_, _, last)) => *last = now,
                None => self.pending = Some((path.clone(), now, now)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignored(patterns: &[&str], path: &str) -> bool {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        IgnoreSet::new(&patterns)
            .unwrap()
            .is_ignored(Path::new("/app"), Path::new(path))
    }

    #[test]
    fn ignore_patterns() {
        let set = ["*.log", "node_modules", "build/tmp", ".git/"];
        assert!(ignored(&set, "/app/out.log"));
        assert!(ignored(&set, "/app/src/deep/x.log"));
        assert!(ignored(&set, "/app/node_modules"));
        assert!(ignored(&set, "/app/node_modules/a/index.js"));
        assert!(ignored(&set, "/app/build/tmp/x.o"));
        assert!(ignored(&set, "/app/.git/HEAD"));
        assert!(!ignored(&set, "/app/src/main.js"));
        assert!(!ignored(&set, "/app/build/out.js"));
        assert!(!ignored(&set, "/app/log.txt"));
        // The watched path itself is never ignored by its own name.
        assert!(!ignored(&["app"], "/app"));
        assert!(!ignored(&set, "/elsewhere/out.log"));
        assert!(ignored(&["src/**/*.gen.rs"], "/app/src/a/b/x.gen.rs"));
    }

    #[test]
    fn bad_patterns_are_named() {
        let err = IgnoreSet::new(&["ok".into(), "a[".into()]).unwrap_err();
        assert!(err.starts_with("invalid pattern 'a['"), "{err}");
    }
}

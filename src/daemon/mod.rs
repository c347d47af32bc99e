//! The supervisor daemon (the server side only; its subcommands are in
//! [`crate::cli`]): owns the runtime home while it runs, serves the
//! [`ipc`](crate::ipc) protocol on `velos.sock`, supervises processes and
//! captures their output.
//!
//! - [`run_foreground`] — the daemon's life: lock, restore, serve, shut down.
//! - [`supervisor`] — the process table, spawning, backoff, reaping, metrics.
//! - [`server`] — the socket server.
//! - [`capture`] — reading children's output into log records.
//! - [`logfile`] — the JSON record format and rotating files.
//! - [`compress`] — gzipped rotated files and their retention.
//! - [`state`] — `state.json`.
//! - [`config`] — `config.toml`.
//! - [`metrics`] — CPU and memory sampling.
//! - [`reaper`] — reaping children and orphans.
//! - [`events`] — `daemon.log`.
//! - [`fleet`] — Prometheus metrics and OpenTelemetry log export.
//! - [`appfile`] — app files (`velos start apps.toml`).
//! - [`cron`] — `cron_restart` schedules.
//! - [`watch`] — restarts on file changes.
//!
//! One daemon per home: it holds an exclusive `flock` on `velos.pid` for
//! its whole life, so a second one refuses to start, a socket left by a
//! crashed daemon is known to be stale and replaced, and clients can tell a
//! running daemon whose socket was removed (which it creates again) from
//! none at all. Shutdown never depends on the socket file.

pub mod appfile;
pub mod capture;
pub mod compress;
pub mod config;
pub mod cron;
pub mod events;
pub mod fleet;
pub mod logfile;
pub mod metrics;
pub mod reaper;
pub mod server;
pub mod state;
pub mod supervisor;
pub mod watch;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::sync::Arc;
use std::thread;

use rustix::fs::{FlockOperation, flock};

use crate::config::ConfigError;
use crate::home::{Home, HomeError, open_private};
use config::Config;
use events::DaemonLog;
use logfile::Rotation;
use state::{State, StateError};
use supervisor::Shared;

/// Why the daemon cannot run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The home is unusable.
    #[error(transparent)]
    Home(#[from] HomeError),
    /// Another daemon holds the home.
    #[error("a daemon is already running for {home} (pid {pid}); stop it with `velos kill`")]
    AlreadyRunning {
        /// The home.
        home: String,
        /// Its pid, as written in `velos.pid` (`?` if unreadable).
        pid: String,
    },
    /// The pid file cannot be used.
    #[error("cannot use the pid file {path}: {source}")]
    PidFile {
        /// The file.
        path: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The process table cannot be read.
    #[error(transparent)]
    State(#[from] StateError),
    /// The socket cannot be created.
    #[error("cannot listen on {path}: {source}")]
    Socket {
        /// The socket path.
        path: String,
        /// The underlying error.
        source: io::Error,
    },
    /// `[metrics]` or `[export.otlp]` cannot be used.
    #[error(transparent)]
    Fleet(#[from] fleet::FleetError),
    /// Threads or signals could not be set up.
    #[error("cannot set up the daemon: {0}")]
    Setup(io::Error),
}

/// Now, in Unix milliseconds ([`crate::timestamp::now_ms`], unsigned as
/// the records and the protocol carry it).
pub fn now_ms() -> u64 {
    u64::try_from(crate::timestamp::now_ms()).unwrap_or(0)
}

/// Runs the daemon in this process until `velos kill` or SIGTERM/SIGINT/
/// SIGHUP: stops the children, removes the socket and pid file, returns.
/// Failures to start are also written to `daemon.log`.
pub fn run_foreground(home: &Home) -> Result<(), DaemonError> {
    home.ensure()?;
    let log = Arc::new(DaemonLog::open(home.daemon_log(), Rotation::default()));
    run_locked(home, &log).inspect_err(|err| log.error(&err.to_string()))
}

/// The level rules of `config.toml` (`[classify]`), so captured lines are
/// classified as `velos logs` would; a rule that cannot be used is logged
/// and the default rules used, rather than refusing to supervise.
fn level_rules(
    file: &crate::config::Config,
    path: &std::path::Path,
    log: &DaemonLog,
) -> crate::classify::Classifier {
    file.classifier(path).unwrap_or_else(|err| {
        log.warn(&format!(
            "{err}; captured lines use the default level rules"
        ));
        crate::classify::Classifier::default()
    })
}

fn run_locked(home: &Home, log: &Arc<DaemonLog>) -> Result<(), DaemonError> {
    let signals = block_signals().map_err(DaemonError::Setup)?;
    if let Err(err) = reaper::Reaper::become_subreaper() {
        log.warn(&format!(
            "cannot become the subreaper of the processes' descendants: {err}"
        ));
    }
    let pid_file = lock_pid_file(home)?;
    let (file, path) = crate::config::Config::load(&home.config_file(), false)?;
    let config = Config::from_file(&file, &path)?;
    let fleet_config = fleet::FleetConfig::from_file(&file, &path, &fleet::OtelEnv::from_process())
        .map_err(fleet::FleetError::from)?;
    let fleet = fleet::Fleet::start(fleet_config, log.clone())?;
    let state = match State::load(&home.state_file()) {
        Ok(state) => state,
        Err(StateError::Invalid { path, source }) => {
            let mut aside = path.as_os_str().to_owned();
            aside.push(format!(".invalid-{}", now_ms()));
            let _ = fs::rename(&path, &aside);
            log.error(&format!(
                "{} is invalid ({source}); moved it to {} and started with an empty table",
                path.display(),
                std::path::Path::new(&aside).display()
            ));
            State::default()
        }
        Err(err) => return Err(err.into()),
    };
    let socket = home.socket();
    let socket_err = |source| DaemonError::Socket {
        path: socket.display().to_string(),
        source,
    };
    // We hold the lock, so any socket here was left by a dead daemon.
    match fs::remove_file(&socket) {
        Ok(()) => log.warn("removed a stale socket left by a previous daemon"),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(source) => return Err(socket_err(source)),
    }
    let classifier = level_rules(&file, &path, log);
    let shared = Arc::new(
        Shared::new(home.clone(), config, classifier, log.clone()).with_fleet(fleet.clone()),
    );
    if let Some(fleet) = &fleet {
        let table = shared.clone();
        fleet.serve_metrics(move || table.processes())?;
    }
    shared.restore(state);
    let listener = match server::bind(&socket) {
        Ok(listener) => listener,
        Err(source) => {
            shared.shutdown();
            return Err(socket_err(source));
        }
    };
    let timer = shared.clone();
    let spawned = thread::Builder::new()
        .name("timer".into())
        .spawn(move || timer.timer_loop())
        .and_then(|_| {
            let on_signal = shared.clone();
            thread::Builder::new()
                .name("signals".into())
                .stack_size(128 * 1024)
                .spawn(move || wait_signals(&on_signal, signals))
        });
    if let Err(err) = spawned {
        shared.shutdown();
        let _ = fs::remove_file(&socket);
        return Err(DaemonError::Setup(err));
    }
    log.info(&format!(
        "daemon started (pid {}, home {})",
        std::process::id(),
        home.root().display()
    ));
    server::serve(&shared, listener);
    if let Some(fleet) = &fleet {
        fleet.shutdown(std::time::Duration::from_secs(2));
    }
    let _ = fs::remove_file(&socket);
    let _ = fs::remove_file(home.pid_file());
    log.info("daemon stopped");
    drop(pid_file);
    Ok(())
}

/// Takes the exclusive lock on `velos.pid` and writes our pid in it.
fn lock_pid_file(home: &Home) -> Result<File, DaemonError> {
    let path = home.pid_file();
    let io_err = |source| DaemonError::PidFile {
        path: path.display().to_string(),
        source,
    };
    let mut file = open_private(
        &path,
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false),
    )
    .map_err(io_err)?;
    if let Err(err) = flock(&file, FlockOperation::NonBlockingLockExclusive) {
        if err == rustix::io::Errno::WOULDBLOCK {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let pid = match text.trim() {
                "" => "?".to_string(),
                pid => pid.to_string(),
            };
            return Err(DaemonError::AlreadyRunning {
                home: home.root().display().to_string(),
                pid,
            });
        }
        return Err(io_err(err.into()));
    }
    file.set_len(0).map_err(io_err)?;
    file.rewind().map_err(io_err)?;
    writeln!(file, "{}", std::process::id()).map_err(io_err)?;
    file.flush().map_err(io_err)?;
    Ok(file)
}

/// Blocks the shutdown signals and SIGCHLD in this thread (and so in every thread
/// started after), to be received by [`wait_signals`] alone. Children are
/// given an empty mask again before they exec.
fn block_signals() -> io::Result<libc::sigset_t> {
    // SAFETY: plain libc calls on a local, zero-initialised sigset_t.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGHUP);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(set)
    }
}

/// The signal thread: reaps on SIGCHLD (for the daemon's whole life, as
/// stopping processes needs it), and on a shutdown signal stops everything
/// from another thread.
fn wait_signals(shared: &Arc<Shared>, set: libc::sigset_t) {
    let mut shutting_down = false;
    loop {
        let mut signal: libc::c_int = 0;
        // SAFETY: `set` is a valid signal set; `signal` a valid out pointer.
        let rc = unsafe { libc::sigwait(&set, &mut signal) };
        if rc != 0 {
            continue;
        }
        if signal == libc::SIGCHLD {
            shared.reaper().reap();
            continue;
        }
        if shutting_down {
            continue;
        }
        shutting_down = true;
        shared.daemon_log().info(&format!(
            "received {}; stopping the processes and the daemon",
            crate::ipc::signal_name(signal)
        ));
        let stopper = shared.clone();
        let spawned = thread::Builder::new()
            .name("shutdown".into())
            .spawn(move || {
                stopper.shutdown();
                stopper.begin_exit();
            });
        if spawned.is_err() {
            // No thread to spare: leave without stopping the children.
            shared.begin_exit();
        }
    }
}

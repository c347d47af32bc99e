//! `velos monit`: the live terminal monitor.
//!
//! - [`app`] — the state: process table, selection, log pane, overlays.
//! - [`event`] — keys → state changes and requests to the daemon.
//! - [`ui`] — drawing, a pure function of the state.
//! - [`logs`] — where the log pane's lines come from.
//! - [`health`] — health scores of the last hour, on a background thread.
//!
//! The run loop ([`run`]) owns the terminal and the clock. A poller thread
//! lists the processes every interval over IPC; requests (stop, restart,
//! delete) run on threads of their own, since they wait for processes to
//! stop; health scores come from [`health::HealthWorker`]. Their results
//! arrive over channels, so drawing never waits on the daemon or the disk.
//! The terminal is restored on every way out: quit, error, panic (a panic
//! hook), SIGINT, SIGTERM and SIGHUP.

pub mod app;
pub mod event;
pub mod health;
pub mod logs;
pub mod ui;

use std::io::{self, IsTerminal, Stdout, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant, UNIX_EPOCH};

use clap::Args;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self as term_event, Event};
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{cursor, execute};
use rustix::event::{PollFd, PollFlags, Timespec, poll};

use crate::classify::Classifier;
use crate::config::{Config, ConfigError, parse_monit_interval};
use crate::home::{Home, HomeError};
use crate::ipc::{Client, ClientError, ProcessInfo, Reply, Request};
use crate::timestamp::{Zone, now_ms};
use app::{App, DaemonInfo};
use event::{Effect, on_key};
use health::{Analysis, HealthWorker};
use logs::LogFeed;

/// Default refresh interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);

/// How often the loop wakes without input: log pane, signals, clocks.
const TICK: Duration = Duration::from_millis(250);

/// Options of `velos monit`.
#[derive(Debug, Args)]
#[command(after_help = "\
Keys: ↑↓ or j/k select · l log pane full screen · r restart · s stop · d delete (asks y/n) · ? help · q or Esc quit")]
pub struct MonitArgs {
    /// How often to poll the daemon, e.g. 2s or 500ms (default: `[monit] interval` in config.toml, else 2s).
    #[arg(long, value_name = "DURATION", value_parser = parse_monit_interval)]
    pub interval: Option<Duration>,

    /// Configuration file (default $VELOS_HOME/config.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Why `velos monit` could not run.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    /// The runtime home is unusable.
    #[error(transparent)]
    Home(#[from] HomeError),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The daemon cannot be reached or started.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The daemon refused the first request.
    #[error("the daemon answered: {0}")]
    Daemon(String),
    /// Standard output is not a terminal.
    #[error("velos monit needs a terminal; use `velos list --json` from scripts")]
    NotATerminal,
    /// The terminal failed.
    #[error("terminal: {0}")]
    Terminal(#[from] io::Error),
    /// A thread of the monitor panicked (its message is printed above).
    #[error("velos monit stopped after an internal error")]
    Panicked,
}

/// Runs `velos monit` until the user quits or a signal arrives; returns the
/// exit code.
pub fn run(args: MonitArgs) -> Result<i32, TuiError> {
    let home = Home::from_env()?;
    let (config, config_path) = match &args.config {
        Some(path) => Config::load(path, true)?,
        None => Config::load(&home.config_file(), false)?,
    };
    let interval = match args.interval {
        Some(interval) => interval,
        None => config
            .monit_interval(&config_path)?
            .unwrap_or(DEFAULT_INTERVAL),
    };
    let zone = Zone::local();
    let analysis = Analysis {
        classifier: config.classifier(&config_path)?,
        pipeline: config.pipeline(&config_path)?,
        zone: zone.clone(),
    };
    if !io::stdout().is_terminal() {
        return Err(TuiError::NotATerminal);
    }
    let mut client = Client::connect_or_start(&home)?;
    let daemon = ping(&mut client, &home)?;

    let (updates_tx, updates) = mpsc::channel();
    let poke = spawn_poller(client, home.clone(), interval, updates_tx.clone())?;
    let classifier = analysis.classifier.clone();
    let health = HealthWorker::spawn(home.logs_dir(), analysis)?;
    install_signal_handlers();

    let mut app = App::new(zone, interval.as_millis() as u64, now_ms());
    app.daemon = Some(daemon);
    let input = TermInput::open()?;
    let mut screen = Screen::enter()?;
    let result = event_loop(
        &mut screen.terminal,
        &mut app,
        &input,
        &Channels {
            home: &home,
            updates: &updates,
            updates_tx: &updates_tx,
            poke: &poke,
            health: &health,
            classifier: &classifier,
        },
    );
    drop(screen);
    match result {
        Ok(()) => Ok(0),
        // The terminal is gone or failing: say so if stderr still works
        // (printing must not fail in turn), and leave.
        Err(TuiError::Terminal(err)) => {
            let _ = writeln!(io::stderr(), "velos: error: terminal: {err}");
            Ok(1)
        }
        Err(err) => Err(err),
    }
}

/// The terminal's input side, watched before crossterm reads it: crossterm
/// loops without end on a terminal that hung up (its poll reports the
/// hangup, which it does not look at), so a hangup, an error or an end of
/// input is caught here first.
struct TermInput {
    fd: std::os::fd::OwnedFd,
}

impl TermInput {
    /// The file crossterm reads: standard input when it is a terminal,
    /// else `/dev/tty`.
    fn open() -> io::Result<TermInput> {
        let fd = if io::stdin().is_terminal() {
            io::stdin().as_fd().try_clone_to_owned()?
        } else {
            std::fs::File::open("/dev/tty")?.into()
        };
        Ok(TermInput { fd })
    }

    /// Waits at most `timeout` for input; whether some is there. A signal
    /// ends the wait early.
    fn wait(&self, timeout: Duration) -> io::Result<bool> {
        let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
        let timeout = Timespec {
            tv_sec: timeout.as_secs() as i64,
            tv_nsec: timeout.subsec_nanos().into(),
        };
        match poll(&mut fds, Some(&timeout)) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return Ok(false),
            Err(err) => return Err(err.into()),
        }
        let revents = fds[0].revents();
        if revents.intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL) {
            return Err(terminal_gone("the terminal hung up"));
        }
        if !revents.contains(PollFlags::IN) {
            return Ok(false);
        }
        // Readable with nothing to read: the end of the input.
        let mut pending: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int through a valid pointer.
        let rc = unsafe { libc::ioctl(self.fd.as_raw_fd(), libc::FIONREAD, &mut pending) };
        if rc == 0 && pending == 0 {
            return Err(terminal_gone("the terminal's input ended"));
        }
        Ok(true)
    }
}

fn terminal_gone(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, what.to_string())
}

/// The terminal in raw mode on the alternate screen; put back on drop and
/// on panic.
struct Screen {
    terminal: ManuallyDrop<Terminal<CrosstermBackend<Stdout>>>,
}

impl Screen {
    fn enter() -> io::Result<Screen> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Whichever thread panics, the screen is given back before the
            // message is printed, and the loop stops drawing.
            PANICKED.store(true, Ordering::SeqCst);
            restore_terminal();
            previous(info);
        }));
        RESTORED.store(false, Ordering::SeqCst);
        enable_raw_mode()?;
        let entered = execute!(io::stdout(), EnterAlternateScreen, cursor::Hide)
            .and_then(|()| Terminal::new(CrosstermBackend::new(io::stdout())));
        match entered {
            Ok(terminal) => Ok(Screen {
                terminal: ManuallyDrop::new(terminal),
            }),
            Err(err) => {
                restore_terminal();
                Err(err)
            }
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore_terminal();
        // Ratatui's terminal prints to stderr when it cannot show the cursor
        // as it is dropped, which panics when the terminal is gone: it is
        // dropped only once the cursor is shown.
        if self.terminal.show_cursor().is_ok() {
            // SAFETY: dropped once, here, and never used after.
            unsafe { ManuallyDrop::drop(&mut self.terminal) };
        }
    }
}

/// Set once the terminal is put back, so it is put back only once (leaving
/// the alternate screen twice would move the cursor over what was printed).
static RESTORED: AtomicBool = AtomicBool::new(true);

/// Set by the panic hook.
static PANICKED: AtomicBool = AtomicBool::new(false);

fn restore_terminal() {
    if RESTORED.swap(true, Ordering::SeqCst) {
        return;
    }
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    let _ = execute!(out, LeaveAlternateScreen, cursor::Show);
    let _ = out.flush();
}

/// Set by SIGINT, SIGTERM or SIGHUP.
static SIGNALLED: AtomicBool = AtomicBool::new(false);

/// Time the loop has to leave after a signal before the process ends
/// anyway (a write to a terminal nobody reads can block).
const SIGNAL_GRACE_SECS: libc::c_uint = 2;

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALLED.store(true, Ordering::SeqCst);
    // SAFETY: alarm is async-signal-safe.
    unsafe { libc::alarm(SIGNAL_GRACE_SECS) };
}

extern "C" fn on_alarm(_: libc::c_int) {
    // SAFETY: _exit is async-signal-safe. The loop did not leave in time
    // after a signal: end without putting the terminal back.
    unsafe { libc::_exit(1) };
}

fn install_signal_handlers() {
    // SAFETY: the handlers only store to an atomic and call alarm or _exit;
    // the sigaction struct is zeroed and then filled with valid values.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as *const () as usize;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
        action.sa_sigaction = on_alarm as *const () as usize;
        libc::sigaction(libc::SIGALRM, &action, std::ptr::null_mut());
    }
}

/// Results from the worker threads.
enum Update {
    /// A poll of the process table.
    Processes(Result<Vec<ProcessInfo>, String>),
    /// The daemon after a reconnection.
    Daemon(DaemonInfo),
    /// A request finished.
    Done {
        /// What was asked: (`stop`, `stopped`).
        verb: (&'static str, &'static str),
        /// The process.
        name: String,
        /// Why it failed.
        error: Option<String>,
    },
}

fn ping(client: &mut Client, home: &Home) -> Result<DaemonInfo, TuiError> {
    match client.request(&Request::Ping)? {
        Reply::Pong { version, pid, .. } => Ok(DaemonInfo {
            version,
            pid,
            started_ms: daemon_started_ms(home),
        }),
        Reply::Error { message, .. } => Err(TuiError::Daemon(message)),
        other => Err(TuiError::Daemon(format!("unexpected reply {other:?}"))),
    }
}

/// When the daemon started: it writes its pid file once, at start.
fn daemon_started_ms(home: &Home) -> Option<i64> {
    let modified = std::fs::metadata(home.pid_file()).ok()?.modified().ok()?;
    let ms = modified.duration_since(UNIX_EPOCH).ok()?.as_millis();
    i64::try_from(ms).ok()
}

/// Lists the processes every `interval`, and at once when poked. After a
/// failure it reconnects to a running daemon but never starts one: a
/// daemon stopped with `velos kill` stays stopped.
fn spawn_poller(
    client: Client,
    home: Home,
    interval: Duration,
    updates: Sender<Update>,
) -> io::Result<Sender<()>> {
    let (poke_tx, poke_rx) = mpsc::channel::<()>();
    thread::Builder::new()
        .name("poller".into())
        .spawn(move || {
            let mut client = Some(client);
            loop {
                if client.is_none()
                    && let Ok(mut fresh) = Client::connect(&home)
                    && let Ok(info) = ping(&mut fresh, &home)
                {
                    if updates.send(Update::Daemon(info)).is_err() {
                        return;
                    }
                    client = Some(fresh);
                }
                let mut result = client.as_mut().map(list);
                if matches!(result, Some(Err(_))) {
                    // The daemon closes connections idle for a few seconds
                    // (a long --interval): connect again once.
                    client = Client::connect(&home).ok();
                    result = client.as_mut().map(list);
                }
                let result = result.unwrap_or_else(|| {
                    Err("the daemon is not running (start it with `velos daemon`)".into())
                });
                if result.is_err() {
                    client = None;
                }
                if updates.send(Update::Processes(result)).is_err() {
                    return;
                }
                match poke_rx.recv_timeout(interval) {
                    Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
                while poke_rx.try_recv().is_ok() {}
            }
        })?;
    Ok(poke_tx)
}

fn list(client: &mut Client) -> Result<Vec<ProcessInfo>, String> {
    match client.request(&Request::List { history: true }) {
        Ok(Reply::Processes { processes }) => Ok(processes),
        Ok(Reply::Error { message, .. }) => Err(message),
        Ok(other) => Err(format!("unexpected reply {other:?}")),
        Err(err) => Err(err.to_string()),
    }
}

/// Sends a request on a thread of its own (stopping may take the kill
/// timeout) and reports back.
fn spawn_request(home: &Home, request: Request, name: String, updates: &Sender<Update>) {
    let verb = match request {
        Request::Stop { .. } => ("stop", "stopped"),
        Request::Restart { .. } => ("restart", "restarted"),
        Request::Delete { .. } => ("delete", "deleted"),
        _ => ("do", "done"),
    };
    let home = home.clone();
    let to_loop = updates.clone();
    let spawned = thread::Builder::new()
        .name("request".into())
        .spawn(move || {
            let error = match Client::connect(&home).and_then(|mut c| c.request(&request)) {
                Ok(Reply::Error { message, .. }) => Some(message),
                Ok(_) => None,
                Err(err) => Some(err.to_string()),
            };
            let _ = to_loop.send(Update::Done { verb, name, error });
        });
    if let Err(err) = spawned {
        let _ = updates.send(Update::Done {
            verb,
            name: String::new(),
            error: Some(format!("cannot start a thread: {err}")),
        });
    }
}

struct Channels<'a> {
    home: &'a Home,
    updates: &'a Receiver<Update>,
    updates_tx: &'a Sender<Update>,
    poke: &'a Sender<()>,
    health: &'a HealthWorker,
    classifier: &'a Classifier,
}

/// Applies worker results to the state; returns whether anything changed.
fn apply_updates(app: &mut App, ch: &Channels<'_>) -> bool {
    let mut changed = false;
    for update in ch.updates.try_iter() {
        changed = true;
        match update {
            Update::Processes(Ok(processes)) => {
                ch.health
                    .set_names(processes.iter().map(|p| p.name.clone()).collect());
                app.set_processes(processes);
            }
            Update::Processes(Err(err)) => app.poll_error = Some(err),
            Update::Daemon(info) => app.daemon = Some(info),
            Update::Done { verb, name, error } => {
                match error {
                    None => app.set_status(format!("{} {name}", verb.1), false),
                    Some(err) => app.set_status(format!("cannot {} {name}: {err}", verb.0), true),
                }
                let _ = ch.poke.send(());
            }
        }
    }
    let mut scored = false;
    for (name, assessment) in ch.health.results() {
        scored = true;
        match assessment {
            Some(a) => {
                app.health.insert(name.clone(), a.health.score);
                app.summaries.insert(name, a.summary);
            }
            None => {
                app.health.remove(&name);
                app.summaries.remove(&name);
            }
        };
    }
    if scored {
        app.resort();
    }
    changed || scored
}

fn event_loop(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    app: &mut App,
    input: &TermInput,
    ch: &Channels<'_>,
) -> Result<(), TuiError> {
    let logs_dir = ch.home.logs_dir();
    let mut feed: Option<Box<dyn LogFeed>> = None;
    let mut dirty = true;
    let mut drawn_second = 0;
    loop {
        app.now_ms = now_ms();
        dirty |= apply_updates(app, ch);
        let selected = app.selected().map(|p| p.name.clone());
        if selected != app.logs.name {
            app.logs.switch(selected.clone());
            feed = selected
                .as_deref()
                .map(|name| logs::open(&logs_dir, name, ch.classifier));
            dirty = true;
        }
        if let Some(feed) = feed.as_mut() {
            let lines = feed.poll();
            if !lines.is_empty() {
                app.logs.push(lines);
                dirty = true;
            }
        }
        // Clocks and status messages move once a second.
        let second = app.now_ms / 1000;
        if (dirty || second != drawn_second) && !PANICKED.load(Ordering::SeqCst) {
            terminal.draw(|frame| ui::draw(frame, app))?;
            dirty = false;
            drawn_second = second;
        }
        if PANICKED.load(Ordering::SeqCst) {
            return Err(TuiError::Panicked);
        }
        if app.quit || SIGNALLED.load(Ordering::SeqCst) {
            return Ok(());
        }
        let deadline = Instant::now() + TICK;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let typed = input.wait(left)?;
            if SIGNALLED.load(Ordering::SeqCst) {
                return Ok(());
            }
            // Keys, or a resize crossterm learnt through its own signal pipe
            // (looked at once per wake-up).
            if !term_event::poll(Duration::from_millis(1))? {
                if typed {
                    continue;
                }
                break;
            }
            match term_event::read()? {
                Event::Key(key) => {
                    app.now_ms = now_ms();
                    if let Effect::Send(request, name) = on_key(app, key) {
                        spawn_request(ch.home, request, name, ch.updates_tx);
                    }
                    dirty = true;
                }
                Event::Resize(..) => dirty = true,
                _ => {}
            }
            if app.quit {
                return Ok(());
            }
            if dirty {
                break;
            }
        }
    }
}

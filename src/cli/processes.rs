//! The `velos` subcommands that talk to the daemon: `daemon`, `start`,
//! `stop`, `restart`, `delete`, `list`, `info`, `flush`, `kill`.
//!
//! Results go to stdout, errors to stderr as one line naming the problem and
//! the fix; [`run_daemon_command`] returns the exit code (0 or 1).

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use crate::daemon::state::State;
use crate::home::Home;
use crate::ipc::client::locked_daemon;
use crate::ipc::{
    Client, ClientError, ErrorCode, Launch, NOTICE_PREFIX, ProcessInfo, Reply, Request, StartSpec,
    Status, launch_daemon,
};
use crate::text;

/// Subcommands of the supervisor.
#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Run the supervisor daemon (started automatically by other commands).
    Daemon(DaemonArgs),
    /// Start a program under supervision, or the apps of an app file (velos start apps.toml).
    Start(StartArgs),
    /// Stop processes: SIGTERM to the process group, SIGKILL after the kill timeout.
    Stop(TargetArgs),
    /// Restart processes (stop, then start).
    Restart(TargetArgs),
    /// Apply an app file: start new apps, restart changed ones, delete removed ones.
    Reload(ReloadArgs),
    /// Stop processes and remove them from the table (their logs stay).
    Delete(TargetArgs),
    /// Show the process table.
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Show one process in detail.
    Info(InfoArgs),
    /// Empty the logs of processes (current and rotated files).
    Flush(TargetArgs),
    /// Stop every process, then the daemon.
    Kill,
}

/// Options of `velos daemon`.
#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Stay attached to the terminal instead of detaching.
    #[arg(long)]
    pub foreground: bool,
}

/// Options of `velos start`.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// Program to run, then its arguments; or one app file (apps.toml).
    /// Options of `start` may follow them (`velos start node app.js --name
    /// web`); words after a `--` are always the program's (`velos start
    /// --name w -- prog --name x`).
    #[arg(
        required = true,
        value_name = "CMD [ARGS]...",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
    /// Unique name (default: the program's file name).
    #[arg(long, short)]
    pub name: Option<String>,
    /// Working directory (default: the current one).
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Environment variable for the process, repeatable.
    #[arg(long = "env", short = 'e', value_name = "K=V", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// Do not restart when the process exits.
    #[arg(long)]
    pub no_autorestart: bool,
    /// Quick failures in a row (each within 30 s of its start) before giving up.
    #[arg(long, value_name = "N", default_value_t = crate::ipc::proto::DEFAULT_MAX_RESTARTS)]
    pub max_restarts: u32,
    /// Time between SIGTERM and SIGKILL when stopping (e.g. 5s, 500ms, 1m).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = text::parse_duration)]
    pub kill_timeout: Duration,
    /// Write output exactly as printed to <name>-out.log / <name>-err.log.
    #[arg(long)]
    pub raw: bool,
}

/// A process name, id, or `all`.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Process name, id, `all`, an app's name (all its instances), or an app
    /// file (all its apps).
    pub target: String,
}

/// Options of `velos reload`.
#[derive(Debug, Args)]
pub struct ReloadArgs {
    /// The app file (apps.toml).
    pub file: PathBuf,
}

/// Options of `velos list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON (an array of processes) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Options of `velos info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Process name or id.
    pub target: String,
    /// Print JSON, with the metrics history.
    #[arg(long)]
    pub json: bool,
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("expected K=V, got '{text}'")),
    }
}

/// Runs a supervisor subcommand; returns the process exit code.
pub fn run_daemon_command(command: DaemonCommand) -> Result<i32> {
    let home = Home::from_env()?;
    if let Some(code) = super::apps::act_on_file(&home, &command)? {
        return Ok(code);
    }
    match command {
        DaemonCommand::Daemon(args) => daemon(&home, args.foreground),
        DaemonCommand::Start(args) => match super::apps::app_file_arg(&args.command) {
            Some(file) => super::apps::apply(&home, &file, false),
            None => start(&home, args),
        },
        DaemonCommand::Reload(args) => super::apps::apply(&home, &args.file, true),
        DaemonCommand::Stop(args) => act(
            &home,
            Request::Stop {
                target: args.target,
            },
            "stopped",
        ),
        DaemonCommand::Restart(args) => act(
            &home,
            Request::Restart {
                target: args.target,
            },
            "restarted",
        ),
        DaemonCommand::Delete(args) => act(
            &home,
            Request::Delete {
                target: args.target,
            },
            "deleted",
        ),
        DaemonCommand::Flush(args) => act(
            &home,
            Request::Flush {
                target: args.target,
            },
            "flushed the logs of",
        ),
        DaemonCommand::List(args) => list(&home, args.json),
        DaemonCommand::Info(args) => info(&home, &args.target, args.json),
        DaemonCommand::Kill => kill(&home),
    }
}

fn daemon(home: &Home, foreground: bool) -> Result<i32> {
    if foreground {
        crate::daemon::run_foreground(home)?;
        return Ok(0);
    }
    let exe = std::env::current_exe().context("cannot find the velos executable")?;
    match launch_daemon(home, &exe)? {
        Launch::Started { pid, notices } => {
            for notice in notices {
                eprintln!("{NOTICE_PREFIX}{}", text::visible(&notice));
            }
            println!("daemon started (pid {pid}, home {})", home.root().display());
            Ok(0)
        }
        Launch::AlreadyRunning => {
            let pid = home
                .read_pid()
                .map_or_else(|| "?".to_string(), |pid| pid.to_string());
            bail!(
                "a daemon is already running for {} (pid {pid}); stop it with `velos kill`",
                home.root().display()
            )
        }
    }
}

/// How long a command keeps trying while the daemon is serving its most
/// clients (idle ones are dropped after
/// [`REQUEST_TIMEOUT`](crate::daemon::server::REQUEST_TIMEOUT)).
const BUSY_RETRY: Duration = Duration::from_secs(15);

pub(super) fn request(home: &Home, request: &Request) -> Result<Reply> {
    let deadline = Instant::now() + BUSY_RETRY;
    loop {
        let mut client = Client::connect_or_start(home)?;
        for notice in client.take_notices() {
            eprintln!("{NOTICE_PREFIX}{}", text::visible(&notice));
        }
        match client.request(request)? {
            Reply::Error {
                code: ErrorCode::Busy,
                ..
            } if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            reply => return Ok(reply),
        }
    }
}

/// Prints a reply's error and returns exit code 1, or hands the reply on.
pub(super) fn expect_ok(reply: Reply) -> Result<Reply, i32> {
    match reply {
        Reply::Error { message, .. } => {
            eprintln!("error: {}", text::visible(&message));
            Err(1)
        }
        other => Ok(other),
    }
}

fn start(home: &Home, mut args: StartArgs) -> Result<i32> {
    // Clap keeps a `--` that follows the program, and swallows one before it.
    let separated = std::env::args().any(|a| a == "--") && !args.command.iter().any(|a| a == "--");
    take_trailing_options(&mut args, separated)?;
    let mut words = args.command.into_iter();
    let Some(cmd) = words.next() else {
        bail!("no command given; usage: velos start <cmd> [args…] --name <name>");
    };
    let cwd = match args.cwd {
        Some(dir) => {
            std::path::absolute(&dir).with_context(|| format!("invalid --cwd {}", dir.display()))?
        }
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let name = match args.name {
        Some(name) => name,
        None => default_name(&cmd),
    };
    let spec = StartSpec {
        name,
        cmd,
        args: words.collect(),
        cwd: cwd.display().to_string(),
        env: args.env,
        autorestart: !args.no_autorestart,
        max_restarts: args.max_restarts,
        kill_timeout_ms: args.kill_timeout.as_millis() as u64,
        raw: args.raw,
        options: Default::default(),
    };
    let reply = match expect_ok(request(home, &Request::Start { spec })?) {
        Ok(reply) => reply,
        Err(code) => return Ok(code),
    };
    for process in processes(reply)? {
        println!(
            "started {} (id {}, pid {})",
            process.name,
            process.id,
            opt(process.pid)
        );
    }
    Ok(0)
}

/// Applies the options written after the program
/// (`velos start node app.js --name web`): the long options of `start` are
/// recognised up to a `--`; after it — or everywhere, when the program
/// itself came after a `--` (`verbatim`) — words belong to the program.
pub fn take_trailing_options(args: &mut StartArgs, verbatim: bool) -> Result<()> {
    if verbatim {
        return Ok(());
    }
    let mut words = std::mem::take(&mut args.command).into_iter();
    let mut kept: Vec<String> = words.next().into_iter().collect();
    while let Some(word) = words.next() {
        if word == "--" {
            kept.extend(words.by_ref());
            break;
        }
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (word.clone(), None),
        };
        let mut value = || -> Result<String> {
            match inline.clone() {
                Some(value) => Ok(value),
                None => words
                    .next()
                    .with_context(|| format!("{flag} needs a value")),
            }
        };
        match flag.as_str() {
            "--name" => args.name = Some(value()?),
            "--cwd" => args.cwd = Some(PathBuf::from(value()?)),
            "--env" => args
                .env
                .push(parse_env(&value()?).map_err(anyhow::Error::msg)?),
            "--max-restarts" => {
                let text = value()?;
                args.max_restarts = text.parse().with_context(|| {
                    format!("invalid --max-restarts '{text}': expected a number")
                })?;
            }
            "--kill-timeout" => {
                args.kill_timeout = text::parse_duration(&value()?).map_err(anyhow::Error::msg)?;
            }
            "--no-autorestart" if inline.is_none() => args.no_autorestart = true,
            "--raw" if inline.is_none() => args.raw = true,
            _ => kept.push(word),
        }
    }
    args.command = kept;
    Ok(())
}

/// The program's file name without extension: `./bin/api.js` → `api`.
fn default_name(cmd: &str) -> String {
    let path = std::path::Path::new(cmd);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cleaned: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches(['.', '-']).to_string();
    if cleaned.is_empty() {
        "process".to_string()
    } else {
        cleaned
    }
}

fn processes(reply: Reply) -> Result<Vec<ProcessInfo>> {
    match reply {
        Reply::Processes { processes } => Ok(processes),
        other => bail!("unexpected reply from the daemon: {other:?}"),
    }
}

pub(super) fn act(home: &Home, req: Request, verb: &str) -> Result<i32> {
    let reply = match expect_ok(request(home, &req)?) {
        Ok(reply) => reply,
        Err(code) => return Ok(code),
    };
    let list = processes(reply)?;
    if list.is_empty() {
        println!("no processes");
    }
    let mut code = 0;
    for process in &list {
        match (&req, process.status) {
            (Request::Restart { .. }, Status::Errored) => {
                eprintln!(
                    "error: {} (id {}) could not be restarted; see `velos logs {}`",
                    process.name, process.id, process.name
                );
                code = 1;
            }
            (Request::Stop { .. }, Status::Stopping) => {
                eprintln!(
                    "error: {} (id {}, pid {}) is still stopping",
                    process.name,
                    process.id,
                    opt(process.pid)
                );
                code = 1;
            }
            (Request::Restart { .. }, _) => println!(
                "{verb} {} (id {}, pid {})",
                process.name,
                process.id,
                opt(process.pid)
            ),
            _ => println!("{verb} {} (id {})", process.name, process.id),
        }
    }
    Ok(code)
}

fn list(home: &Home, json: bool) -> Result<i32> {
    let reply = match expect_ok(request(home, &Request::List { history: false })?) {
        Ok(reply) => reply,
        Err(code) => return Ok(code),
    };
    let list = processes(reply)?;
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &list)?;
        writeln!(out)?;
        return Ok(0);
    }
    if list.is_empty() {
        writeln!(
            out,
            "no processes; start one with `velos start <cmd> --name <name>`"
        )?;
        return Ok(0);
    }
    write!(out, "{}", render_table(&list))?;
    Ok(0)
}

/// The process table as aligned columns for people.
pub fn render_table(list: &[ProcessInfo]) -> String {
    let header = [
        "id", "name", "pid", "status", "cpu", "memory", "uptime", "restarts",
    ];
    let rows: Vec<[String; 8]> = list
        .iter()
        .map(|p| {
            [
                p.id.to_string(),
                p.name.clone(),
                opt(p.pid),
                p.status.to_string(),
                p.cpu.map_or_else(|| "-".into(), |c| format!("{c:.1}%")),
                p.memory.map_or_else(|| "-".into(), text::bytes),
                p.uptime_ms.map_or_else(
                    || "-".into(),
                    |ms| text::duration(Duration::from_millis(ms)),
                ),
                p.restarts.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    // Numbers align right, words left.
    let right = [true, false, true, false, true, true, true, true];
    let mut text = String::new();
    let mut push_row = |cells: &[String]| {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = widths[i].saturating_sub(cell.chars().count());
            if right[i] {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if i + 1 < cells.len() {
                    line.push_str(&" ".repeat(pad));
                }
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    };
    push_row(&header.map(String::from));
    for row in &rows {
        push_row(row);
    }
    text
}

fn info(home: &Home, target: &str, json: bool) -> Result<i32> {
    let reply = match expect_ok(request(
        home,
        &Request::Info {
            target: target.to_string(),
        },
    )?) {
        Ok(reply) => reply,
        Err(code) => return Ok(code),
    };
    let Reply::Process { process: p } = reply else {
        bail!("unexpected reply from the daemon: {reply:?}");
    };
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &p)?;
        writeln!(out)?;
        return Ok(0);
    }
    let mut command = p.spec.cmd.clone();
    for arg in &p.spec.args {
        command.push(' ');
        command.push_str(arg);
    }
    let fields: Vec<(&str, String)> = vec![
        ("id", p.id.to_string()),
        ("name", p.name.clone()),
        ("status", p.status.to_string()),
        ("pid", opt(p.pid)),
        ("command", command),
        ("cwd", p.spec.cwd.clone()),
        (
            "uptime",
            p.uptime_ms.map_or_else(
                || "-".into(),
                |ms| text::duration(Duration::from_millis(ms)),
            ),
        ),
        ("restarts", p.restarts.to_string()),
        (
            "quick failures",
            format!("{} of {}", p.quick_failures, p.spec.max_restarts),
        ),
        ("autorestart", p.spec.autorestart.to_string()),
        (
            "kill timeout",
            text::duration(Duration::from_millis(p.spec.kill_timeout_ms)),
        ),
        (
            "cpu",
            p.cpu.map_or_else(|| "-".into(), |c| format!("{c:.1}%")),
        ),
        ("memory", p.memory.map_or_else(|| "-".into(), text::bytes)),
        (
            "last exit",
            p.last_exit.map_or_else(
                || "-".into(),
                |e| match (e.code, e.signal) {
                    (Some(code), _) => format!("code {code}"),
                    (None, Some(signal)) => {
                        format!("signal {signal} ({})", crate::ipc::signal_name(signal))
                    }
                    _ => "unknown".into(),
                },
            ),
        ),
        ("logs", p.log_files.join(", ")),
        (
            "env",
            p.spec
                .env
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        ("app", p.spec.options.app.clone().unwrap_or_default()),
        (
            "app file",
            p.spec.options.app_file.clone().unwrap_or_default(),
        ),
        (
            "max memory",
            p.spec
                .options
                .max_memory_restart
                .map(text::bytes)
                .unwrap_or_default(),
        ),
        (
            "cron restart",
            p.spec.options.cron_restart.clone().unwrap_or_default(),
        ),
        ("watch", p.spec.options.watch.join(", ")),
        ("watch ignore", p.spec.options.watch_ignore.join(", ")),
    ];
    let width = fields
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, _)| k.len())
        .max()
        .unwrap_or(0);
    for (key, value) in fields {
        let value = text::visible(&value);
        // Settings not given are not shown.
        if value.is_empty() {
            continue;
        }
        writeln!(out, "{key:<width$}  {value}")?;
    }
    Ok(0)
}

fn kill(home: &Home) -> Result<i32> {
    let mut client = match Client::connect(home) {
        Ok(client) => client,
        Err(ClientError::NotRunning { .. }) => return stop_leftovers(home),
        Err(ClientError::Unreachable { pid, .. }) => return terminate(home, pid),
        Err(err) => return Err(err.into()),
    };
    let reply = match expect_ok(client.request(&Request::Kill)?) {
        Ok(reply) => reply,
        Err(code) => return Ok(code),
    };
    if reply != Reply::ShuttingDown {
        bail!("unexpected reply from the daemon: {reply:?}");
    }
    // Wait until the daemon has let go of the home.
    let deadline = Instant::now() + Duration::from_secs(5);
    while locked_daemon(home).is_some() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("daemon stopped");
    Ok(0)
}

/// `velos kill` when no daemon runs: stops the processes a killed daemon
/// left running, as a new daemon's restore would.
fn stop_leftovers(home: &Home) -> Result<i32> {
    let state = match State::load(&home.state_file()) {
        Ok(state) => state,
        Err(err) => {
            println!("no daemon running for {}", home.root().display());
            eprintln!("{NOTICE_PREFIX}{err}; processes it names were not looked for");
            return Ok(0);
        }
    };
    let (state, _) = state.sanitize();
    let stopped = crate::leftovers::stop(&state.processes);
    println!("no daemon running for {}", home.root().display());
    for (name, pid) in stopped {
        println!("stopped {name} (pid {pid}), left running by a daemon that did not exit cleanly");
    }
    Ok(0)
}

/// `velos kill` when the daemon runs but its socket does not answer:
/// SIGTERM, which makes it stop its processes and exit.
fn terminate(home: &Home, pid: u32) -> Result<i32> {
    let Some(target) = rustix::process::Pid::from_raw(pid as i32) else {
        bail!(
            "the pid file of {} names no valid pid",
            home.root().display()
        );
    };
    rustix::process::kill_process(target, rustix::process::Signal::TERM)
        .with_context(|| format!("cannot signal the daemon (pid {pid})"))?;
    let wait = State::load(&home.state_file())
        .map(|state| {
            state
                .processes
                .iter()
                .map(|p| p.spec.kill_timeout_ms)
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    let deadline = Instant::now() + Duration::from_millis(wait) + Duration::from_secs(10);
    while locked_daemon(home).is_some() {
        if Instant::now() >= deadline {
            bail!(
                "the daemon (pid {pid}) did not stop after SIGTERM; end it with `kill -9 {pid}`, then run `velos kill` again"
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("daemon stopped (pid {pid}; it did not answer on its socket, so it was sent SIGTERM)");
    Ok(0)
}

pub(super) fn opt(value: Option<u32>) -> String {
    value.map_or_else(|| "-".to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_commands() {
        assert_eq!(default_name("./bin/api.js"), "api");
        assert_eq!(default_name("sleep"), "sleep");
        assert_eq!(default_name("/"), "process");
    }

    fn start_args(command: &[&str]) -> StartArgs {
        StartArgs {
            command: command.iter().map(|s| s.to_string()).collect(),
            name: None,
            cwd: None,
            env: Vec::new(),
            no_autorestart: false,
            max_restarts: 15,
            kill_timeout: Duration::from_secs(5),
            raw: false,
        }
    }

    #[test]
    fn options_after_the_program() {
        let mut args = start_args(&[
            "sh",
            "-c",
            "x",
            "--name",
            "web",
            "--env=A=1",
            "--raw",
            "--kill-timeout",
            "1s",
            "--",
            "--name",
            "y",
        ]);
        take_trailing_options(&mut args, false).unwrap();
        assert_eq!(args.command, ["sh", "-c", "x", "--name", "y"]);
        assert_eq!(args.name.as_deref(), Some("web"));
        assert_eq!(args.env, [("A".to_string(), "1".to_string())]);
        assert!(args.raw);
        assert_eq!(args.kill_timeout, Duration::from_secs(1));

        let mut args = start_args(&["prog", "--name", "y"]);
        take_trailing_options(&mut args, true).unwrap();
        assert_eq!(args.command, ["prog", "--name", "y"]);
        assert!(args.name.is_none());

        let mut args = start_args(&["prog", "--name"]);
        assert!(take_trailing_options(&mut args, false).is_err());
    }
}

//! The command line: argument definitions and dispatch of every
//! subcommand. Errors are reported here, once, as `velos: error: …` on one
//! line.
//!
//! - [`logs`](LogsArgs) — `velos logs`, and `follow` for `--follow`;
//! - `processes` — `daemon`, `start`, `stop`, `restart`, `delete`, `list`,
//!   `info`, `flush`, `kill`: the client side of the daemon's protocol;
//! - `apps` — the same subcommands given an app file, and `reload`;
//! - `setup` — `startup`, `completions`, `man`.

mod apps;
mod follow;
mod logs;
mod processes;
mod setup;

use clap::{Parser, Subcommand};

use processes::{DaemonCommand, run_daemon_command};

pub use logs::LogsArgs;

/// velos — process manager and log analyzer.
#[derive(Debug, Parser)]
#[command(name = "velos", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read, filter and analyze logs of a managed process, files or stdin.
    Logs(LogsArgs),
    /// Live monitor: processes, CPU and memory, logs; restart, stop, delete.
    Monit(crate::tui::MonitArgs),
    #[command(flatten)]
    Daemon(DaemonCommand),
    /// Print a systemd unit that starts the daemon (and its saved processes) at boot; --install writes and enables it.
    Startup(setup::StartupArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions(setup::CompletionsArgs),
    /// Print the man page (roff), or write one page per subcommand with --dir.
    Man(setup::ManArgs),
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Logs(args) => logs::run(args),
        Command::Monit(args) => crate::tui::run(args).map_err(Into::into),
        Command::Daemon(cmd) => run_daemon_command(cmd),
        Command::Startup(args) => setup::startup(args),
        Command::Completions(args) => setup::completions(args),
        Command::Man(args) => setup::man(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("velos: error: {}", one_line(&describe(&err)));
            1
        }
    }
}

/// The error and its causes, each cause added only when the message does
/// not already say it (typed errors often print their source themselves).
fn describe(err: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if msg.contains(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    msg
}

fn one_line(msg: &str) -> String {
    msg.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

use std::process::ExitCode;

use clap::Parser;
use velos::daemon::cli::{DaemonCommand, run_daemon_command};

/// velos: a process manager with smart logs.
#[derive(Parser)]
#[command(name = "velos", version)]
struct Cli {
    #[command(subcommand)]
    command: DaemonCommand,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run_daemon_command(cli.command) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

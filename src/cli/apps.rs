//! The `velos` subcommands given an app file: `start apps.toml`,
//! `reload apps.toml`, and `stop|restart|delete apps.toml`.
//!
//! The file is read and checked here, whole, before the daemon is asked
//! anything ([`AppFile::load`]), so a mistake starts nothing.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::processes::{DaemonCommand, act, expect_ok, opt, request};
use crate::daemon::appfile::AppFile;
use crate::home::Home;
use crate::ipc::{AppAction, Reply, Request, Status};

/// Whether a target names an app file: a `.toml` file that exists.
pub fn is_app_file(target: &str) -> bool {
    target.ends_with(".toml") && Path::new(target).is_file()
}

/// The app file of `velos start apps.toml`, if that is what was given: a
/// lone `.toml` word (one that does not exist is reported as such, not run).
pub fn app_file_arg(command: &[String]) -> Option<PathBuf> {
    match command {
        [only] if only.ends_with(".toml") => Some(PathBuf::from(only)),
        _ => None,
    }
}

fn load(file: &Path) -> Result<Option<AppFile>> {
    match AppFile::load(file) {
        Ok(apps) => Ok(Some(apps)),
        Err(err) => {
            eprintln!("error: {err}");
            Ok(None)
        }
    }
}

/// `velos start apps.toml` (`reload` false) or `velos reload apps.toml`.
pub fn apply(home: &Home, file: &Path, reload: bool) -> Result<i32> {
    if reload && !file.is_file() {
        eprintln!(
            "error: {} is not a file; `velos reload` takes an app file (to restart a process, use `velos restart <name>`)",
            file.display()
        );
        return Ok(1);
    }
    let Some(apps) = load(file)? else {
        return Ok(1);
    };
    let request_ = Request::Apply {
        file: apps.path.display().to_string(),
        specs: apps.specs(),
        reload,
    };
    let reply = match expect_ok(request(home, &request_)?) {
        Ok(reply) => reply,
        Err(code) => return Ok(code),
    };
    let Reply::Applied { changes } = reply else {
        anyhow::bail!("unexpected reply from the daemon: {reply:?}");
    };
    let mut code = 0;
    for change in &changes {
        let p = &change.process;
        match change.action {
            AppAction::Started | AppAction::Restarted if p.status == Status::Errored => {
                eprintln!(
                    "error: {} (id {}) could not be started; see `velos logs {}`",
                    p.name, p.id, p.name
                );
                code = 1;
            }
            AppAction::Deleted => println!("deleted {} (id {})", p.name, p.id),
            AppAction::Differs => println!(
                "running {} (id {}, pid {}) with other settings; `velos reload {}` applies them",
                p.name,
                p.id,
                opt(p.pid),
                file.display()
            ),
            action => println!(
                "{} {} (id {}, pid {})",
                action.as_str(),
                p.name,
                p.id,
                opt(p.pid)
            ),
        }
    }
    Ok(code)
}

/// `velos stop|restart|delete apps.toml`: the command on each app of the
/// file (an app with instances names them all). `None` when the command
/// is not one of these on an app file.
pub fn act_on_file(home: &Home, command: &DaemonCommand) -> Result<Option<i32>> {
    let (target, verb) = match command {
        DaemonCommand::Stop(args) => (&args.target, "stopped"),
        DaemonCommand::Restart(args) => (&args.target, "restarted"),
        DaemonCommand::Delete(args) => (&args.target, "deleted"),
        _ => return Ok(None),
    };
    if !is_app_file(target) {
        return Ok(None);
    }
    let Some(apps) = load(Path::new(target))? else {
        return Ok(Some(1));
    };
    let mut code = 0;
    for app in &apps.apps {
        let target = app.name.clone();
        let request = match command {
            DaemonCommand::Stop(_) => Request::Stop { target },
            DaemonCommand::Restart(_) => Request::Restart { target },
            _ => Request::Delete { target },
        };
        code = code.max(act(home, request, verb)?);
    }
    Ok(Some(code))
}

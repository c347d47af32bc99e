//! The runtime home against other users: a home, `logs/` or parent another
//! user can change is refused with a one-line error, links in the home are
//! never followed, a tampered `state.json` cannot lead outside `logs/`, and
//! no process name can reach another process's or the daemon's log.
//!
//! The cases with a second user need root (CI runs them as root); they
//! create files as `nobody` with `setpriv`.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::{Run, TestHome, alive, run_in, secs, start_sh, wait_until};

/// Whether the test can act as a second user (it runs as root); says
/// that it is skipped when not.
fn can_act_as_other_user() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() == 0 };
    if !root {
        eprintln!("skipped: needs root to act as a second user");
    }
    root
}

/// Runs `script` with `sh` as `nobody`.
fn as_nobody(script: &str) {
    let status = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "sh",
            "-c",
            script,
        ])
        .status()
        .expect("run setpriv");
    assert!(status.success(), "as nobody: {script}");
}

/// A path in `/tmp` (where `nobody` may create files), removed on drop
/// after stopping any daemon that used it as its home.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        Scratch(PathBuf::from(format!(
            "/tmp/velos-sec-{}-{n}-{what}",
            std::process::id()
        )))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let home = self.0.join("h");
        for dir in [&self.0, &home] {
            if dir.join("velos.pid").exists() {
                run_in(dir, &["kill"]);
            }
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Asserts a one-line refusal naming `path` and containing `words`.
fn assert_refused(run: &Run, path: &Path, words: &[&str]) {
    let path = path.display().to_string();
    run.assert_one_line(1, &[&[path.as_str()], words].concat());
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// A file only root can read, that an attacker would like written.
fn secret(dir: &TestHome) -> PathBuf {
    let path = dir.path().join("secret");
    std::fs::write(&path, "secret\n").unwrap();
    path
}

#[test]
fn a_home_made_by_another_user_is_refused() {
    if !can_act_as_other_user() {
        return;
    }
    let private = TestHome::new();
    let secret = secret(&private);
    let scratch = Scratch::new("other");
    let home = scratch.path();
    as_nobody(&format!(
        "mkdir -m 777 {h} {h}/logs && ln -s {s} {h}/logs/app.log",
        h = home.display(),
        s = secret.display()
    ));
    let run = run_in(home, &start_sh("app", &[], "echo hi; sleep 9"));
    assert_refused(&run, home, &["owned by uid 65534", "VELOS_HOME"]);
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "secret\n");
    assert!(!home.join("velos.pid").exists() && !home.join("velos.sock").exists());

    // Only looking (a client that finds no daemon) is refused the same way.
    let run = run_in(home, &["kill"]);
    assert_refused(&run, home, &["owned by uid 65534"]);
}

#[test]
fn a_home_or_parent_others_can_write_is_refused() {
    if !can_act_as_other_user() {
        return;
    }
    let private = TestHome::new();
    let secret = secret(&private);
    let scratch = Scratch::new("loose");
    let home = scratch.path();
    std::fs::create_dir(home).unwrap();
    std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o777)).unwrap();
    as_nobody(&format!(
        "mkdir -m 777 {h}/logs && ln -s {s} {h}/logs/app.log",
        h = home.display(),
        s = secret.display()
    ));
    let run = run_in(home, &start_sh("app", &[], "echo hi"));
    assert_refused(&run, home, &["writable by other users", "chmod 700"]);
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "secret\n");

    // Tightening the home is not enough: logs/ belongs to nobody.
    std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o700)).unwrap();
    let run = run_in(home, &start_sh("app", &[], "echo hi"));
    assert_refused(&run, &home.join("logs"), &["owned by uid 65534"]);
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "secret\n");

    // A parent others can write (and not sticky) could swap the home.
    std::fs::remove_dir_all(home.join("logs")).unwrap();
    std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o777)).unwrap();
    let inner = home.join("h");
    let run = run_in(&inner, &["list"]);
    assert_refused(&run, home, &["writable by other users", "not sticky"]);
    assert!(!inner.exists() || !inner.join("velos.pid").exists());
    // Fixed as the message says, the same home works.
    std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = run_in(&inner, &["list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run_in(&inner, &["kill"]);
}

#[test]
fn links_in_the_home_are_not_followed() {
    let home = TestHome::new();
    let outside = TestHome::new();
    let secret = secret(&outside);
    std::fs::create_dir(home.logs()).unwrap();
    std::os::unix::fs::symlink(&secret, home.logs().join("app.log")).unwrap();
    let run = home.run(&start_sh("app", &[], "echo hi; sleep 9"));
    run.assert_one_line(1, &["app.log", "symbolic link"]);

    // The process table's temporary file as a link: replaced, not followed.
    let other = outside.path().join("other");
    std::fs::write(&other, "other\n").unwrap();
    std::os::unix::fs::symlink(&other, home.path().join("state.json.tmp")).unwrap();
    home.ok(&["start", "--name", "b", "--", "sleep", "30"]);
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "other\n");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "secret\n");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.path().join("state.json")).unwrap()).unwrap();
    assert_eq!(state["processes"][0]["spec"]["name"], "b");
    assert_eq!(
        std::fs::metadata(home.path().join("state.json"))
            .unwrap()
            .uid(),
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() }
    );
}

#[test]
fn loose_logs_directory_is_tightened_and_writable_one_refused() {
    let home = TestHome::new();
    std::fs::create_dir(home.logs()).unwrap();
    std::fs::set_permissions(home.logs(), std::fs::Permissions::from_mode(0o755)).unwrap();
    home.ok(&["start", "--name", "a", "--", "sleep", "30"]);
    assert_eq!(mode(&home.logs()), 0o700);
    home.ok(&["kill"]);

    std::fs::set_permissions(home.logs(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let run = home.run(&["list"]);
    assert_refused(
        &run,
        &home.logs(),
        &["writable by other users", "chmod 700"],
    );
    assert_eq!(mode(&home.logs()), 0o777, "refused, so left as it was");
}

#[test]
fn a_tampered_state_file_cannot_lead_outside_the_logs() {
    let home = TestHome::new();
    let escape = format!("velos-escape-{}", std::process::id());
    let outside = Path::new("/tmp").join(format!("{escape}.log"));
    let _ = std::fs::remove_file(&outside);
    let entry = |id: u32, name: &str, script: &str| {
        serde_json::json!({
            "id": id,
            "spec": {
                "name": name, "cmd": "sh", "args": ["-c", script], "cwd": "/",
                "env": [], "autorestart": true, "max_restarts": 15,
                "kill_timeout_ms": 1000, "raw": false
            },
            "should_run": true, "status": "online", "restarts": 0,
            "pid": null, "pid_start": null
        })
    };
    // The home is one level below /tmp: logs/../../<escape>.log is in /tmp.
    assert_eq!(home.path().parent(), Some(Path::new("/tmp")));
    let state = serde_json::json!({
        "version": 1,
        "next_id": 2,
        "processes": [
            entry(0, &format!("../../{escape}"), "echo escaped; sleep 30"),
            entry(1, "good", "echo fine; sleep 30"),
        ]
    });
    std::fs::write(home.path().join("state.json"), state.to_string()).unwrap();

    let run = home.run(&["list", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let list: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["good"]);
    assert!(
        run.stderr.contains("skipped entry 0") && run.stderr.contains(&escape),
        "{}",
        run.stderr
    );
    home.wait_record("good.log", secs(5), |r| r["msg"] == "fine");
    std::thread::sleep(Duration::from_millis(300));
    let escaped = outside.exists();
    let _ = std::fs::remove_file(&outside);
    assert!(!escaped, "{} was written", outside.display());
}

#[test]
fn no_name_reaches_another_log_or_the_daemons_own() {
    let home = TestHome::new();
    home.ok(&start_sh("x", &["--raw"], "echo raw; sleep 30"));
    let run = home.run(&start_sh("x-out", &[], "echo json; sleep 30"));
    run.assert_one_line(1, &["reserved", "--name"]);
    let run = home.run(&["start", "--name", "y-err", "--", "true"]);
    assert_eq!(run.code, 1, "{}", run.stdout);

    // A process called `daemon` has a log of its own; the daemon's log is
    // beside logs/, and flushing the process leaves it alone.
    home.ok(&start_sh("daemon", &[], "echo from-the-process; sleep 30"));
    home.wait_record("daemon.log", secs(5), |r| r["msg"] == "from-the-process");
    let own = home.path().join("daemon.log");
    let before = std::fs::read_to_string(&own).unwrap();
    assert!(before.contains("daemon started"), "{before}");
    assert!(!before.contains("from-the-process"));
    home.ok(&["flush", "daemon"]);
    let after = std::fs::read_to_string(&own).unwrap();
    assert!(after.starts_with(&before), "flush touched the daemon's log");

    // `velos logs <name>` reads each process's own files.
    wait_until(secs(5), || {
        std::fs::read_to_string(home.logs().join("x-out.log"))
            .unwrap_or_default()
            .contains("raw")
    });
    let out = home.ok(&["logs", "x", "--no-color"]);
    assert!(out.contains("raw"), "{out}");
    let daemon = home.daemon_pid().unwrap();
    assert!(alive(daemon));
}

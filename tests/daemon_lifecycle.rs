//! Supervision through the real `velos` binary and daemon: start, list,
//! stop, restart, delete, crash restarts with backoff, errored after too
//! many failures, SIGKILL after the kill timeout, restore after a daemon
//! crash, and the one-line errors.

mod common;

use std::time::{Duration, Instant};

use common::{TestHome, alive, secs, zombie, zombie_children};

const LOOP: &str = "while true; do echo tick; sleep 0.2; done";

#[test]
fn start_list_stop_restart_delete() {
    let home = TestHome::new();
    let out = home.ok(&["start", "--name", "web", "--", "sh", "-c", LOOP]);
    assert!(out.starts_with("started web (id 0, pid "), "{out}");

    // Home, socket and pid file as documented.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(home.path()), 0o700);
    assert_eq!(mode(&home.path().join("velos.sock")), 0o600);
    let daemon = home.daemon_pid().expect("velos.pid");
    assert!(alive(daemon));

    let p = home.wait_status("web", "online", secs(5));
    let pid = p["pid"].as_i64().unwrap() as i32;
    assert_eq!(p["restarts"], 0);
    // Each child leads its own process group.
    // SAFETY: getpgid on a live pid.
    assert_eq!(unsafe { libc::getpgid(pid) }, pid);

    let table = home.ok(&["list"]);
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    for column in [
        "id", "name", "pid", "status", "cpu", "memory", "uptime", "restarts",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let row = lines.next().unwrap();
    assert!(row.contains("web") && row.contains("online"), "{row}");

    // Metrics arrive within a couple of seconds, with a history for `info`.
    let p = home.wait_process("web", secs(5), |p| {
        p["memory"].as_u64().is_some_and(|m| m > 0)
    });
    assert!(p["cpu"].is_number());
    let info: serde_json::Value =
        serde_json::from_str(&home.ok(&["info", "web", "--json"])).unwrap();
    assert!(!info["samples"].as_array().unwrap().is_empty());
    assert!(home.ok(&["info", "0"]).contains("status"));

    let out = home.ok(&["stop", "web"]);
    assert_eq!(out.trim(), "stopped web (id 0)");
    let p = home.process("web").unwrap();
    assert_eq!(p["status"], "stopped");
    assert!(p["pid"].is_null());
    assert!(!alive(pid), "old pid still there (zombie: {})", zombie(pid));

    let out = home.ok(&["restart", "web"]);
    assert!(out.starts_with("restarted web (id 0, pid "), "{out}");
    let p = home.wait_status("web", "online", secs(5));
    let new_pid = p["pid"].as_i64().unwrap() as i32;
    assert_ne!(new_pid, pid);
    assert_eq!(p["restarts"], 1);

    // Restart of a running process replaces it.
    home.ok(&["restart", "all"]);
    let p = home.wait_status("web", "online", secs(5));
    assert_ne!(p["pid"].as_i64().unwrap() as i32, new_pid);
    assert!(!alive(new_pid));
    assert_eq!(p["restarts"], 2);

    let out = home.ok(&["delete", "web"]);
    assert_eq!(out.trim(), "deleted web (id 0)");
    assert!(home.list().is_empty());
    // Logs stay after delete; lifecycle records are there.
    let records = home.records("web.log");
    let events: Vec<&str> = records.iter().filter_map(|r| r["event"].as_str()).collect();
    assert!(events.contains(&"start") && events.contains(&"stop") && events.contains(&"restart"));
    assert!(
        records
            .iter()
            .any(|r| r["msg"] == "tick" && r["src"] == "stdout")
    );

    home.ok(&["kill"]);
    let deadline = Instant::now() + secs(5);
    while alive(daemon) && !zombie(daemon) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!home.path().join("velos.sock").exists());
    assert!(!home.path().join("velos.pid").exists());
}

#[test]
fn clear_errors() {
    let home = TestHome::new();
    // Options may follow the program.
    home.ok(&["start", "sleep", "30", "--name", "a"]);
    assert_eq!(
        home.process("a").unwrap()["spec"]["args"],
        serde_json::json!(["30"])
    );

    let run = home.run(&["start", "--name", "a", "sleep", "30"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("already exists") && run.stderr.contains("--name"),
        "{}",
        run.stderr
    );

    let run = home.run(&["start", "--name", "b", "/no/such/program"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot execute '/no/such/program'"),
        "{}",
        run.stderr
    );
    assert!(home.process("b").is_none());

    for command in [
        &["stop", "ghost"][..],
        &["restart", "ghost"],
        &["delete", "ghost"],
        &["info", "ghost"],
    ] {
        let run = home.run(command);
        assert_eq!(run.code, 1, "{command:?}");
        assert!(
            run.stderr.contains("no process named 'ghost'"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("velos list"), "{}", run.stderr);
    }

    let run = home.run(&["start", "--name", "all", "sleep", "1"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("'all'"), "{}", run.stderr);

    let run = home.run(&[
        "start",
        "--name",
        "c",
        "--cwd",
        "/no/such/dir",
        "sleep",
        "1",
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--cwd"), "{}", run.stderr);

    // A second daemon on the same home is refused.
    let run = home.run(&["daemon", "--foreground"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("already running"), "{}", run.stderr);
    let run = home.run(&["daemon"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("already running"), "{}", run.stderr);
    // …and the first one still serves.
    assert_eq!(home.list().len(), 1);
}

#[test]
fn crash_restarts_with_backoff_then_errored() {
    let home = TestHome::new();
    home.ok(&[
        "start",
        "--name",
        "crash",
        "--max-restarts",
        "3",
        "--",
        "sh",
        "-c",
        "echo boom; exit 3",
    ]);
    let p = home.wait_status("crash", "errored", secs(10));
    assert_eq!(p["restarts"], 3);
    assert_eq!(p["last_exit"]["code"], 3);

    let records = home.records("crash.log");
    let starts: Vec<u64> = records
        .iter()
        .filter(|r| r["event"] == "start")
        .map(|r| r["ts"].as_u64().unwrap())
        .collect();
    assert_eq!(starts.len(), 4, "{records:#?}");
    // Delays double: 100, 200, 400 ms (with some slack for scheduling).
    let gaps: Vec<u64> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    for (gap, expected) in gaps.iter().zip([100u64, 200, 400]) {
        assert!(*gap >= expected && *gap < expected + 400, "gaps {gaps:?}");
    }
    let restarts = records.iter().filter(|r| r["event"] == "restart").count();
    assert_eq!(restarts, 3);
    let errored = records.iter().find(|r| r["event"] == "errored").unwrap();
    assert_eq!(errored["lvl"], "error");
    assert_eq!(errored["src"], "velos");
    assert!(records.iter().filter(|r| r["msg"] == "boom").count() == 4);

    // The restart count shows in the table, and restart revives it.
    assert!(home.ok(&["list"]).contains("errored"));
    home.ok(&["restart", "crash"]);
    home.wait_process("crash", secs(5), |p| p["restarts"].as_u64() >= Some(4));
}

#[test]
fn no_autorestart_and_clean_exit() {
    let home = TestHome::new();
    home.ok(&[
        "start",
        "--name",
        "once",
        "--no-autorestart",
        "--",
        "sh",
        "-c",
        "echo done",
    ]);
    let p = home.wait_status("once", "stopped", secs(5));
    assert_eq!(p["restarts"], 0);
    home.ok(&[
        "start",
        "--name",
        "fail",
        "--no-autorestart",
        "--",
        "sh",
        "-c",
        "exit 2",
    ]);
    let p = home.wait_status("fail", "errored", secs(5));
    assert_eq!(p["restarts"], 0);

    // Environment and working directory.
    let dir = home.path().join("work");
    std::fs::create_dir(&dir).unwrap();
    home.ok(&[
        "start",
        "sh",
        "-c",
        "echo \"$GREETING from $(pwd)\"",
        "--name",
        "env",
        "--env",
        "GREETING=hello",
        "--cwd",
        dir.to_str().unwrap(),
        "--no-autorestart",
    ]);
    home.wait_status("env", "stopped", secs(5));
    let expected = format!("hello from {}", dir.display());
    assert!(
        home.records("env.log")
            .iter()
            .any(|r| r["msg"] == expected.as_str()),
        "{:?}",
        home.records("env.log")
    );
}

#[test]
fn sigterm_ignored_gets_sigkill_after_timeout() {
    let home = TestHome::new();
    home.ok(&[
        "start",
        "--name",
        "stubborn",
        "--kill-timeout",
        "700ms",
        "--",
        "sh",
        "-c",
        "trap '' TERM; echo ready; while true; do sleep 0.1; done",
    ]);
    home.wait_record("stubborn.log", secs(5), |r| r["msg"] == "ready");
    let pid = home.process("stubborn").unwrap()["pid"].as_i64().unwrap() as i32;
    let started = Instant::now();
    let out = home.ok(&["stop", "stubborn"]);
    let took = started.elapsed();
    assert_eq!(out.trim(), "stopped stubborn (id 0)");
    assert!(
        took >= Duration::from_millis(600),
        "stopped too soon: {took:?}"
    );
    assert!(took < secs(4), "took {took:?}");
    assert!(
        !alive(pid),
        "pid {pid} left behind (zombie: {})",
        zombie(pid)
    );
    // SAFETY: kill(2) with signal 0 on the old process group.
    assert_ne!(
        unsafe { libc::kill(-pid, 0) },
        0,
        "group members left behind"
    );
    let records = home.records("stubborn.log");
    let kill = records
        .iter()
        .find(|r| r["event"] == "kill")
        .expect("kill record");
    assert_eq!(kill["lvl"], "warn");
    let exit = records.iter().find(|r| r["event"] == "exit").unwrap();
    assert!(exit["msg"].as_str().unwrap().contains("SIGKILL"), "{exit}");
}

#[test]
fn daemon_crash_then_restore() {
    let home = TestHome::new();
    home.ok(&["start", "--name", "keep", "--", "sh", "-c", LOOP]);
    home.ok(&["start", "--name", "quiet", "sleep", "300"]);
    home.ok(&["start", "--name", "off", "sleep", "300"]);
    // Children start with no signal blocked: SIGTERM ends `sleep` at once.
    let started = Instant::now();
    home.ok(&["stop", "off"]);
    assert!(
        started.elapsed() < secs(2),
        "stop took {:?}",
        started.elapsed()
    );
    let before = home.wait_status("quiet", "online", secs(5));
    let quiet_pid = before["pid"].as_i64().unwrap() as i32;
    let daemon = home.daemon_pid().unwrap();

    // SAFETY: SIGKILL to the daemon this test started.
    unsafe { libc::kill(daemon, libc::SIGKILL) };
    let deadline = Instant::now() + secs(5);
    while alive(daemon) && !zombie(daemon) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // The socket is stale now; the next command starts a new daemon.
    assert!(home.path().join("velos.sock").exists());

    let list = home.list();
    assert_eq!(list.len(), 3);
    let new_daemon = home.daemon_pid().unwrap();
    assert_ne!(new_daemon, daemon);
    let keep = home.wait_status("keep", "online", secs(5));
    assert!(keep["pid"].is_number());
    let quiet = home.wait_status("quiet", "online", secs(5));
    assert_ne!(quiet["pid"].as_i64().unwrap() as i32, quiet_pid);
    // The copy that outlived the old daemon was stopped.
    let deadline = Instant::now() + secs(5);
    while alive(quiet_pid) && !zombie(quiet_pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(quiet_pid) || zombie(quiet_pid));
    assert_eq!(home.process("off").unwrap()["status"], "stopped");

    // `velos kill` keeps the table: the next daemon starts them again.
    home.ok(&["kill"]);
    assert_eq!(home.list().len(), 3);
    home.wait_status("keep", "online", secs(5));
    assert_eq!(home.process("off").unwrap()["status"], "stopped");
}

#[test]
fn no_zombies_from_children_or_their_orphans() {
    let home = TestHome::new();
    // A child that leaves a background process in its group, one that
    // escapes to its own session, and one that crashes in a loop.
    home.ok(&[
        "start",
        "--name",
        "bg",
        "--no-autorestart",
        "--",
        "sh",
        "-c",
        "sleep 5 & echo left",
    ]);
    home.ok(&[
        "start",
        "--name",
        "escape",
        "--no-autorestart",
        "--",
        "sh",
        "-c",
        "setsid sleep 0.5 & echo gone",
    ]);
    home.ok(&[
        "start",
        "--name",
        "loop",
        "--max-restarts",
        "4",
        "--",
        "sh",
        "-c",
        "exit 1",
    ]);
    home.wait_status("bg", "stopped", secs(5));
    home.wait_status("escape", "stopped", secs(5));
    home.wait_status("loop", "errored", secs(10));
    std::thread::sleep(Duration::from_millis(800));
    let daemon = home.daemon_pid().unwrap();
    assert_eq!(zombie_children(daemon), Vec::<i32>::new());
    // Nothing is left of the group whose leader exited.
    let bg_pid = home.records("bg.log")[0]["pid"].as_i64().unwrap() as i32;
    // SAFETY: kill(2) with signal 0 on a process group.
    assert_ne!(
        unsafe { libc::kill(-bg_pid, 0) },
        0,
        "the background sleep survived"
    );
}

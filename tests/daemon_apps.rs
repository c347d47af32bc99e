//! App files through the real `velos` binary and daemon: two apps with
//! instances, acting on an app and on a file, reload adding, removing and
//! changing apps, the refusals (file, line and key named, nothing
//! started), and the restarts an app file asks for: memory and watch.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{TestHome, secs};
use serde_json::Value;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

fn project(home: &TestHome) -> PathBuf {
    let dir = home.path().join("project");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    dir
}

fn names(home: &TestHome) -> Vec<String> {
    home.list()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

fn pid(p: &Value) -> i64 {
    p["pid"].as_i64().expect("a pid")
}

const TWO_APPS: &str = r#"
[apps.web]
cmd = "echo \"instance=$VELOS_INSTANCE port=$PORT cwd=$(pwd)\"; exec sleep 60"
env = { PORT = 8080 }
instances = 2
kill_timeout = "2s"

[apps.worker]
cmd = ["sh", "-c", "echo \"worker in $(pwd)\"; exec sleep 60"]
cwd = "sub"
"#;

#[test]
fn two_apps_with_instances() {
    let home = TestHome::new();
    let dir = project(&home);
    let file = write(&dir, "apps.toml", TWO_APPS);
    let file = file.to_str().unwrap();

    let out = home.ok(&["start", file]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("started web-0 (id 0, pid "), "{out}");
    assert!(lines[1].starts_with("started web-1 (id 1, pid "), "{out}");
    assert!(lines[2].starts_with("started worker (id 2, pid "), "{out}");
    assert_eq!(names(&home), ["web-0", "web-1", "worker"]);

    // Each instance has its number and the app's environment; cwd is
    // relative to the file.
    for n in 0..2 {
        home.wait_record(&format!("web-{n}.log"), secs(5), |r| {
            r["msg"]
                == format!(
                    "instance={n} port=8080 cwd={}",
                    dir.canonicalize().unwrap().display()
                )
        });
    }
    home.wait_record("worker.log", secs(5), |r| {
        r["msg"]
            == format!(
                "worker in {}",
                dir.join("sub").canonicalize().unwrap().display()
            )
    });
    let web0 = home.wait_status("web-0", "online", secs(5));
    assert_eq!(web0["spec"]["kill_timeout_ms"], 2000);
    assert_eq!(web0["spec"]["options"]["app"], "web");

    // A second start leaves running apps alone.
    let out = home.ok(&["start", file]);
    assert!(out.contains("unchanged web-0"), "{out}");
    assert_eq!(home.list().len(), 3);

    // The app's name acts on all its instances.
    let before: Vec<i64> = ["web-0", "web-1"]
        .iter()
        .map(|n| pid(&home.process(n).unwrap()))
        .collect();
    let out = home.ok(&["restart", "web"]);
    assert!(
        out.contains("restarted web-0") && out.contains("restarted web-1"),
        "{out}"
    );
    for (n, old) in before.iter().enumerate() {
        let p = home.process(&format!("web-{n}")).unwrap();
        assert_eq!(p["restarts"], 1);
        assert_ne!(pid(&p), *old);
    }
    assert_eq!(home.process("worker").unwrap()["restarts"], 0);
    let run = home.run(&["info", "web"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("'web' is an app with several instances; give one of their names"),
        "{}",
        run.stderr
    );

    // The file acts on all its apps.
    let out = home.ok(&["stop", file]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "stopped web-0 (id 0)",
            "stopped web-1 (id 1)",
            "stopped worker (id 2)"
        ]
    );
    assert!(home.list().iter().all(|p| p["status"] == "stopped"));
    let out = home.ok(&["start", file]);
    assert!(out.contains("started worker (id 2, pid "), "{out}");
    assert!(home.list().iter().all(|p| p["pid"].is_i64()));
    let out = home.ok(&["delete", file]);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(home.list().is_empty());
}

#[test]
fn reload_adds_removes_and_changes_apps() {
    let home = TestHome::new();
    let dir = project(&home);
    let app = |name: &str, extra: &str| {
        format!(
            "[apps.{name}]\ncmd = \"echo \\\"$NAME $COLOR\\\"; exec sleep 60\"\nenv = {{ NAME = \"{name}\"{extra} }}\n"
        )
    };
    let first = format!("{}{}{}", app("a", ""), app("b", ""), app("c", ""));
    let file = write(&dir, "apps.toml", &first);
    let file = file.to_str().unwrap();
    home.ok(&["start", file]);
    let pids: Vec<i64> = ["a", "b", "c"]
        .iter()
        .map(|n| pid(&home.wait_status(n, "online", secs(5))))
        .collect();

    // A process started by hand is not the file's to delete.
    home.ok(&["start", "--name", "other", "--", "sleep", "60"]);

    // c removed, b changed, d added, a untouched.
    let second = format!(
        "{}{}{}",
        app("a", ""),
        app("b", ", COLOR = \"blue\""),
        app("d", "")
    );
    write(&dir, "apps.toml", &second);
    let out = home.ok(&["reload", file]);
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].starts_with("deleted c (id 2)"), "{out}");
    assert!(lines[1].starts_with("restarted b (id 1, pid "), "{out}");
    assert!(lines[2].starts_with("started d (id 4, pid "), "{out}");
    assert!(
        lines[3].starts_with(&format!("unchanged a (id 0, pid {})", pids[0])),
        "{out}"
    );

    assert_eq!(names(&home), ["a", "b", "other", "d"]);
    let b = home.process("b").unwrap();
    assert_ne!(pid(&b), pids[1]);
    assert_eq!(b["restarts"], 1);
    assert_eq!(b["id"], 1);
    home.wait_record("b.log", secs(5), |r| r["msg"] == "b blue");
    let records = home.records("b.log");
    let restart = records
        .iter()
        .find(|r| r["event"] == "restart")
        .expect("a restart record");
    assert_eq!(restart["reason"], "reload");
    assert_eq!(pid(&home.process("a").unwrap()), pids[0]);
    assert!(!common::alive(pids[2] as i32) || common::zombie(pids[2] as i32));

    // Nothing changed: nothing restarts.
    let out = home.ok(&["reload", file]);
    assert!(out.lines().all(|l| l.starts_with("unchanged")), "{out}");

    // A name taken by a process not from the file is refused.
    write(
        &dir,
        "apps.toml",
        &format!("{}[apps.other]\ncmd = \"sleep 60\"\n", app("a", "")),
    );
    let run = home.run(&["reload", file]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("a process named 'other' (id 3) exists and was not started from"),
        "{}",
        run.stderr
    );
    assert_eq!(names(&home), ["a", "b", "other", "d"]);
}

#[test]
fn refusals_name_the_file_line_and_key_and_start_nothing() {
    let home = TestHome::new();
    let dir = project(&home);
    let cases = [
        (
            "[apps.web]\ncmd = \"sleep 60\"\nwatchh = [\"src\"]\n",
            ":3: apps.web.watchh: unknown field `watchh`",
        ),
        (
            "[apps.web]\ncmd = \"sleep 60\"\n\nkill_timeout = \"soon\"\n",
            ":4: apps.web.kill_timeout: invalid duration 'soon'",
        ),
        (
            "[apps.web]\ncmd = \"sleep 60\"\nmax_memory_restart = \"300 MB of RAM\"\n",
            ":3: apps.web.max_memory_restart: invalid size",
        ),
        (
            "[apps.web]\ncmd = \"sleep 60\"\ncron_restart = \"0 3 * *\"\n",
            ":3: apps.web.cron_restart: invalid cron expression '0 3 * *'",
        ),
        (
            "[apps.web]\ncmd = \"sleep 60\"\ncwd = \"nowhere\"\n",
            ":3: apps.web.cwd: the directory",
        ),
        (
            "[apps.ok]\ncmd = \"sleep 60\"\n\n[apps.web]\ncmd = \"sleep 60\"\n[apps.web]\ncmd = \"sleep 1\"\n",
            ":6: apps.web: duplicate key",
        ),
        (
            "[apps.web]\ncmd = \"sleep 60\"\ninstances = 2\n\n[apps.web-0]\ncmd = \"sleep 60\"\n",
            ":5: apps.web-0: the process name 'web-0' is also given by apps.web (line 1)",
        ),
    ];
    for (n, (text, expected)) in cases.iter().enumerate() {
        let name = format!("bad{n}.toml");
        let file = write(&dir, &name, text);
        for verb in ["start", "reload"] {
            let run = home.run(&[verb, file.to_str().unwrap()]);
            assert_eq!(run.code, 1, "{verb} {text:?}");
            let want = format!("error: {}{expected}", file.display());
            assert!(
                run.stderr.starts_with(&want),
                "{verb} {text:?}\n  got: {}\n want: {want}",
                run.stderr
            );
            assert_eq!(run.stdout, "");
        }
    }
    let run = home.run(&["start", "missing.toml"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with("error: cannot read the app file ")
            && run.stderr.contains("missing.toml"),
        "{}",
        run.stderr
    );
    // Nothing started, not even the daemon.
    assert!(!home.path().join("velos.sock").exists());
}

#[test]
fn a_process_over_its_memory_limit_is_restarted_with_reason_memory() {
    let home = TestHome::new();
    let dir = project(&home);
    // The shell holds 48 MB in a variable, well over the 24 MiB limit.
    let file = write(
        &dir,
        "apps.toml",
        "[apps.hog]\ncmd = \"x=$(head -c 48000000 /dev/zero | tr '\\\\0' x); echo allocated; sleep 60\"\nmax_memory_restart = \"24MiB\"\n",
    );
    let out = home.ok(&["start", file.to_str().unwrap()]);
    assert!(out.starts_with("started hog"), "{out}");
    let records = home.wait_record("hog.log", secs(20), |r| r["event"] == "restart");
    let restart = records.iter().find(|r| r["event"] == "restart").unwrap();
    assert_eq!(restart["reason"], "memory", "{restart}");
    assert_eq!(restart["lvl"], "warn");
    assert_eq!(restart["src"], "velos");
    assert!(
        restart["msg"]
            .as_str()
            .unwrap()
            .contains("is over max_memory_restart 24.0 MiB"),
        "{restart}"
    );
    // Graceful: SIGTERM first, then a new start.
    home.wait_record("hog.log", secs(10), |r| {
        r["event"] == "start" && r["ts"].as_u64() > restart["ts"].as_u64()
    });
    let records = home.records("hog.log");
    let after: Vec<&str> = records
        .iter()
        .skip_while(|r| r["event"] != "restart")
        .filter_map(|r| r["event"].as_str())
        .take(4)
        .collect();
    assert_eq!(after, ["restart", "stop", "exit", "start"], "{records:?}");
    home.wait_process("hog", secs(5), |p| p["restarts"].as_u64() >= Some(1));

    // The summary counts each as a restart (it keeps allocating, so it
    // keeps being restarted until stopped).
    home.ok(&["stop", "hog"]);
    let restarts = home
        .records("hog.log")
        .iter()
        .filter(|r| r["event"] == "restart")
        .inspect(|r| assert_eq!(r["reason"], "memory"))
        .count();
    let summary = home.run(&["logs", "hog", "--summary", "--json"]);
    assert_eq!(summary.code, 0, "{}", summary.stderr);
    let summary: Value = serde_json::from_str(&summary.stdout).expect("summary JSON");
    assert_eq!(summary["restarts"], restarts as u64, "{summary}");
}

#[test]
fn touching_a_watched_file_restarts_within_the_debounce_and_a_second() {
    let home = TestHome::new();
    let dir = project(&home);
    std::fs::create_dir_all(dir.join("src/node_modules")).unwrap();
    write(&dir, "src/app.js", "1");
    let file = write(
        &dir,
        "apps.toml",
        "[apps.w]\ncmd = \"exec sleep 60\"\nwatch = [\"src\"]\nwatch_ignore = [\"*.log\", \"node_modules\"]\n",
    );
    home.ok(&["start", file.to_str().unwrap()]);
    home.wait_status("w", "online", secs(5));
    // The watch thread looks at the table every second.
    std::thread::sleep(Duration::from_millis(1500));

    // Ignored paths do not restart it.
    write(&dir, "src/out.log", "x");
    write(&dir, "src/node_modules/dep.js", "x");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !home
            .records("w.log")
            .iter()
            .any(|r| r["event"] == "restart")
    );

    let touched = Instant::now();
    write(&dir, "src/app.js", "2");
    let records = home.wait_record("w.log", secs(5), |r| r["event"] == "restart");
    let elapsed = touched.elapsed();
    assert!(
        elapsed < Duration::from_millis(1500),
        "restart after {elapsed:?}"
    );
    let restart = records.iter().find(|r| r["event"] == "restart").unwrap();
    assert_eq!(restart["reason"], "watch");
    assert_eq!(
        restart["path"],
        dir.join("src/app.js").display().to_string(),
        "{restart}"
    );
    assert_eq!(restart["lvl"], "info");
    home.wait_process("w", secs(5), |p| {
        p["restarts"] == 1 && p["status"] == "online"
    });

    // A directory created later is watched too (creating it is a change).
    std::fs::create_dir(dir.join("src/new")).unwrap();
    home.wait_process("w", secs(5), |p| {
        p["restarts"] == 2 && p["status"] == "online"
    });
    write(&dir, "src/new/mod.js", "x");
    home.wait_record("w.log", secs(5), |r| {
        r["event"] == "restart" && r["path"] == dir.join("src/new/mod.js").display().to_string()
    });
}

#[test]
fn a_cron_restart_fires_on_the_minute() {
    let home = TestHome::new();
    let dir = project(&home);
    let file = write(
        &dir,
        "apps.toml",
        "[apps.nightly]\ncmd = \"exec sleep 120\"\ncron_restart = \"* * * * *\"\n",
    );
    home.ok(&["start", file.to_str().unwrap()]);
    let first = pid(&home.wait_status("nightly", "online", secs(5)));
    let info = home.ok(&["info", "nightly"]);
    assert!(
        info.lines()
            .any(|l| l.starts_with("cron restart ") && l.ends_with(" * * * * *")),
        "{info}"
    );
    // At most a minute away.
    let records = home.wait_record("nightly.log", secs(65), |r| r["event"] == "restart");
    let restart = records.iter().find(|r| r["event"] == "restart").unwrap();
    assert_eq!(restart["reason"], "cron");
    assert_eq!(restart["lvl"], "info");
    let ts = restart["ts"].as_u64().unwrap();
    assert!(ts % 60_000 < 2_000, "restart at {ts}, not on the minute");
    let p = home.wait_process("nightly", secs(10), |p| {
        p["restarts"] == 1 && p["status"] == "online"
    });
    assert_ne!(pid(&p), first);
}

#[test]
fn the_daemons_own_files_are_no_change_to_a_watching_app() {
    let home = TestHome::new();
    let dir = project(&home);
    // Watching the whole home: logs, state.json and the socket change all
    // the time, and must not restart it.
    let file = write(
        &dir,
        "apps.toml",
        "[apps.chatty]\ncmd = \"while true; do echo tick; sleep 0.1; done\"\nwatch = [\"..\"]\n",
    );
    home.ok(&["start", file.to_str().unwrap()]);
    home.wait_status("chatty", "online", secs(5));
    std::thread::sleep(Duration::from_millis(2500));
    home.ok(&["list"]);
    assert!(
        !home
            .records("chatty.log")
            .iter()
            .any(|r| r["event"] == "restart")
    );
    write(home.path(), "notes.txt", "x");
    let records = home.wait_record("chatty.log", secs(5), |r| r["event"] == "restart");
    let restart = records.iter().find(|r| r["event"] == "restart").unwrap();
    assert_eq!(
        restart["path"],
        home.path().join("notes.txt").display().to_string()
    );
}

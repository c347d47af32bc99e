//! The daemon stays manageable: without its socket file, after SIGKILL,
//! with idle or slow clients holding every slot, with a log it cannot
//! write; and the CLI says what happened (a process table moved aside, a
//! daemon that cannot start) on one line, with control characters escaped.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::{Duration, Instant};

use common::{TestHome, alive, secs, signal, start_sh, wait_gone};

const LOOP: &str = "while true; do echo tick; sleep 0.2; done";

/// Starts `web`, a loop with a 1 s kill timeout; its pid and the daemon's.
fn start_web(home: &TestHome) -> (i32, i32) {
    home.ok(&start_sh("web", &["--kill-timeout", "1s"], LOOP));
    (home.online_pid("web"), home.daemon_pid().expect("a daemon"))
}

#[test]
fn a_removed_socket_comes_back_and_kill_still_works() {
    let home = TestHome::new();
    let (child, daemon) = start_web(&home);
    let socket = home.path().join("velos.sock");

    std::fs::remove_file(&socket).unwrap();
    // The CLI waits for the daemon, which creates its socket again.
    let list = home.list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["pid"], child);
    assert!(socket.exists());
    let log = std::fs::read_to_string(home.path().join("daemon.log")).unwrap();
    assert!(log.contains("listening on it again"), "{log}");

    // Removed again, and `velos kill` right away.
    std::fs::remove_file(&socket).unwrap();
    let out = home.ok(&["kill"]);
    assert!(out.contains("daemon stopped"), "{out}");
    assert!(wait_gone(daemon, secs(5)), "the daemon still runs");
    assert!(wait_gone(child, secs(5)), "its child still runs");
}

#[test]
fn sigterm_ends_a_daemon_whose_socket_is_gone() {
    let home = TestHome::new();
    let (child, daemon) = start_web(&home);
    std::fs::remove_file(home.path().join("velos.sock")).unwrap();
    signal(daemon, libc::SIGTERM);
    assert!(wait_gone(daemon, secs(4)), "the daemon ignored SIGTERM");
    assert!(wait_gone(child, secs(2)));
}

#[test]
fn kill_finds_a_daemon_that_cannot_recreate_its_socket() {
    let home = TestHome::new();
    let (child, daemon) = start_web(&home);
    let socket = home.path().join("velos.sock");
    std::fs::remove_file(&socket).unwrap();
    // A directory where the socket was: the daemon cannot listen there.
    std::fs::create_dir(&socket).unwrap();

    let run = home.run(&["list"]);
    run.assert_one_line(1, &[&format!("pid {daemon}"), "velos kill"]);

    let run = home.run(&["kill"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("SIGTERM"), "{}", run.stdout);
    assert!(wait_gone(daemon, secs(5)));
    assert!(wait_gone(child, secs(5)));
    std::fs::remove_dir(&socket).unwrap();
}

#[test]
fn kill_stops_what_a_killed_daemon_left_running() {
    let home = TestHome::new();
    // Silent children: one that prints dies of SIGPIPE once the daemon
    // holding its pipe is gone, and is no leftover.
    let silent = "while true; do sleep 0.2; done";
    home.ok(&start_sh("web", &[], silent));
    home.ok(&start_sh("api", &[], silent));
    let web = home.online_pid("web");
    let api = home.online_pid("api");
    let daemon = home.daemon_pid().unwrap();
    signal(daemon, libc::SIGKILL);
    assert!(wait_gone(daemon, secs(5)));
    assert!(alive(web) && alive(api));

    let out = home.ok(&["kill"]);
    assert!(out.contains("no daemon running"), "{out}");
    assert!(
        out.contains(&format!("stopped web (pid {web})"))
            && out.contains(&format!("stopped api (pid {api})")),
        "{out}"
    );
    assert!(wait_gone(web, secs(2)) && wait_gone(api, secs(2)));
    // A second kill finds nothing more to do.
    let out = home.ok(&["kill"]);
    assert!(!out.contains("stopped"), "{out}");
}

#[test]
fn idle_and_slow_clients_do_not_lock_anyone_out() {
    let home = TestHome::new();
    home.ok(&["start", "--name", "a", "--", "sleep", "60"]);
    let socket = home.path().join("velos.sock");
    let idle: Vec<UnixStream> = (0..64)
        .map(|_| UnixStream::connect(&socket).expect("connect"))
        .collect();
    // One more sends a request a byte at a time, never finishing.
    let mut slow = UnixStream::connect(&socket).unwrap();
    let started = Instant::now();
    let trickle = thread::spawn(move || {
        for byte in br#"{"v":1,"op":"list","history":false"#.iter().cycle() {
            if slow.write_all(&[*byte]).is_err() {
                return started.elapsed();
            }
            thread::sleep(Duration::from_millis(200));
            if started.elapsed() > secs(30) {
                break;
            }
        }
        started.elapsed()
    });

    let t = Instant::now();
    let list = home.list();
    assert_eq!(list.len(), 1);
    assert!(t.elapsed() < secs(12), "list took {:?}", t.elapsed());

    // The daemon closed the idle ones.
    for mut stream in idle {
        stream.set_read_timeout(Some(secs(10))).unwrap();
        let mut buf = [0u8; 256];
        let n = stream.read(&mut buf).unwrap_or(0);
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(n == 0 || text.contains("busy"), "{text}");
    }
    let cut_after = trickle.join().unwrap();
    assert!(
        cut_after < secs(10),
        "a trickling client kept its connection for {cut_after:?}"
    );
}

#[test]
fn a_corrupt_process_table_is_reported_on_the_next_command() {
    let home = TestHome::new();
    std::fs::write(home.path().join("state.json"), "{ not json").unwrap();
    let run = home.run(&["list"]);
    run.assert_one_line(0, &["state.json is invalid", "moved it to"]);
    assert!(run.stderr.starts_with("velos: warning: "), "{}", run.stderr);
    let aside: Vec<_> = std::fs::read_dir(home.path())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("state.json.invalid-")
        })
        .collect();
    assert_eq!(aside.len(), 1);
    // Said once.
    let run = home.run(&["list"]);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[test]
fn failing_log_writes_are_counted_not_repeated() {
    let home = TestHome::new();
    // Rotation cannot happen (a directory holds the place of the rotated
    // file), so once the file is full every write fails, as on a full disk.
    home.write_config("[logs]\nmax_size = \"1KiB\"\nkeep = 1\n");
    std::fs::create_dir_all(home.logs().join("spam.log.1").join("in-the-way")).unwrap();
    home.ok(&start_sh(
        "spam",
        &[],
        "while true; do echo some output that cannot be written; sleep 0.001; done",
    ));
    thread::sleep(Duration::from_millis(6500));
    home.ok(&["stop", "spam"]);
    let log = std::fs::read_to_string(home.path().join("daemon.log")).unwrap();
    let failures: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("cannot write the log of 'spam'"))
        .collect();
    assert!(
        (1..=3).contains(&failures.len()),
        "{} failure lines, the first: {:?}",
        failures.len(),
        failures.first()
    );
    assert!(
        failures
            .iter()
            .any(|l| l.contains("more failures since the previous message")),
        "{failures:?}"
    );
}

#[test]
fn info_escapes_control_characters() {
    let home = TestHome::new();
    home.ok(&start_sh("esc", &[], "sleep 30 # \x1b[31mred\x07\nnext"));
    let out = home.ok(&["info", "esc"]);
    assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out:?}");
    assert!(out.contains("\\x1b[31mred\\x07\\nnext"), "{out}");
}

#[test]
fn a_daemon_that_cannot_start_is_reported_once() {
    let home = TestHome::new();
    home.write_config("[logs]\nmax_size = \"lots\"\n");
    let run = home.run(&["list"]);
    run.assert_one_line(1, &["config.toml"]);
    assert_eq!(
        run.stderr.matches("cannot start the daemon").count(),
        1,
        "{}",
        run.stderr
    );
}

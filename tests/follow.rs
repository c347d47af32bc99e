//! `velos logs --follow` end to end (the real binary on real files, its
//! output read through a pipe with timeouts) and the library's `Tail`.

mod common;

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread;
use std::time::{Duration, Instant};

use common::{TestHome, temp_dir, velos_command, wait_output};
use velos::follow::{Line, Tail};
use velos::level::Level;

/// How long a line may take to show before a test fails.
const SHOW: Duration = Duration::from_secs(5);

/// A running `velos logs --follow`; killed when dropped, even on failure.
struct Follow {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Follow {
    fn start(home: &Path, args: &[&str]) -> Follow {
        Follow::start_with(home, args, Stdio::null())
    }

    fn start_with(home: &Path, args: &[&str], stdin: Stdio) -> Follow {
        let mut child = velos_command(home)
            .arg("logs")
            .args(args)
            .arg("--follow")
            .current_dir(home)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start velos");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Follow {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits until `n` lines in all have been printed; returns them all.
    fn until_count(&mut self, n: usize) -> &[String] {
        let deadline = Instant::now() + SHOW;
        while self.seen.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("expected {n} lines within {SHOW:?}, got {:?}", self.seen)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("velos ended after {:?}", self.seen)
                }
            }
        }
        &self.seen
    }

    /// Waits for a line containing `text`.
    fn until(&mut self, text: &str) -> &[String] {
        let deadline = Instant::now() + SHOW;
        while !self.seen.iter().any(|l| l.contains(text)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("expected {text:?} within {SHOW:?}, got {:?}", self.seen)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("velos ended before {text:?}, after {:?}", self.seen)
                }
            }
        }
        &self.seen
    }

    /// Collects what is printed during `quiet`.
    fn settle(&mut self, quiet: Duration) -> &[String] {
        let deadline = Instant::now() + quiet;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => break,
            }
        }
        &self.seen
    }

    fn signal(&self, signal: i32) {
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
    }

    /// Waits for the process to exit; its status code.
    fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + SHOW;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!("velos did not exit within {SHOW:?}");
    }
}

impl Drop for Follow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn home() -> tempfile::TempDir {
    temp_dir("vf")
}

fn append(path: &Path, text: &str) {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open for append");
    file.write_all(text.as_bytes()).expect("append");
}

fn plain(n: usize, level: &str, msg: &str) -> String {
    format!("2026-01-10T00:00:{:02}.000Z {level} {msg}\n", n % 60)
}

fn json(ts: u64, lvl: &str, msg: &str, src: &str) -> String {
    format!("{{\"ts\":{ts},\"lvl\":\"{lvl}\",\"pid\":7,\"msg\":\"{msg}\",\"src\":\"{src}\"}}\n")
}

#[test]
fn prints_the_last_records_then_appended_ones() {
    let dir = home();
    let log = dir.path().join("app.log");
    let text: String = (0..20)
        .map(|i| plain(i, "INFO", &format!("old {i}")))
        .collect();
    fs::write(&log, text).unwrap();
    let mut f = Follow::start(dir.path(), &["app.log"]);
    let seen = f.until_count(15).to_vec();
    assert!(
        seen[0].ends_with("old 5") && seen[14].ends_with("old 19"),
        "{seen:?}"
    );
    append(&log, "plain line without time\n");
    append(&log, &plain(30, "INFO", "new 1"));
    append(&log, &plain(31, "INFO", "new 2"));
    let seen = f.until("new 2").to_vec();
    assert_eq!(seen.len(), 18, "{seen:?}");
    assert!(seen[15].contains("plain line without time") || seen[14].contains("without"));
}

#[test]
fn rotation_loses_nothing_written_before_the_rename() {
    let dir = home();
    let log = dir.path().join("app.log");
    fs::write(&log, "first\n").unwrap();
    let mut f = Follow::start(dir.path(), &["app.log", "--lines", "1"]);
    f.until("first");
    // Written, renamed and replaced at once: the follower sees the rename
    // before it has read the last lines of the old file.
    append(&log, "old a\nold b\n");
    fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    fs::write(&log, "new a\n").unwrap();
    f.until("new a");
    append(&log, "new b\n");
    let seen = f.until("new b").to_vec();
    assert_eq!(seen, ["first", "old a", "old b", "new a", "new b"]);
    // Two rotations in a row, faster than a look: nothing is skipped.
    let rotated = |n: u32| dir.path().join(format!("app.log.{n}"));
    append(&log, "new c\n");
    fs::rename(rotated(1), rotated(2)).unwrap();
    fs::rename(&log, rotated(1)).unwrap();
    fs::write(&log, "mid\n").unwrap();
    fs::rename(rotated(2), rotated(3)).unwrap();
    fs::rename(rotated(1), rotated(2)).unwrap();
    fs::rename(&log, rotated(1)).unwrap();
    fs::write(&log, "newest\n").unwrap();
    let seen = f.until("newest").to_vec();
    assert_eq!(seen[5..], ["new c", "mid", "newest"]);
}

#[test]
fn truncation_starts_again_from_the_top() {
    let dir = home();
    let log = dir.path().join("app.log");
    fs::write(&log, "a fairly long first line of text\nand a second one\n").unwrap();
    let mut f = Follow::start(dir.path(), &["app.log"]);
    f.until_count(2);
    fs::write(&log, "short\n").unwrap();
    f.until("short");
    // Truncated and written past the old end between two looks.
    let file = OpenOptions::new().write(true).open(&log).unwrap();
    file.set_len(0).unwrap();
    append(
        &log,
        "rewritten with a line longer than everything before it\n",
    );
    let seen = f.until("rewritten").to_vec();
    assert_eq!(seen.len(), 4, "{seen:?}");
}

/// An empty `app.log` in `dir`, followed from the moment this returns.
fn follow_empty(dir: &Path) -> (PathBuf, Follow) {
    let log = dir.join("app.log");
    fs::write(&log, "").unwrap();
    let mut f = Follow::start(dir, &["app.log"]);
    f.settle(Duration::from_millis(300));
    (log, f)
}

#[test]
fn a_partial_line_waits_for_its_end() {
    let dir = home();
    let (log, mut f) = follow_empty(dir.path());
    append(&log, "hello wor");
    assert!(f.settle(Duration::from_millis(600)).is_empty());
    append(&log, "ld\n");
    assert_eq!(f.until("hello"), ["hello world"]);
}

#[test]
fn a_pretty_printed_json_object_waits_until_it_closes() {
    let dir = home();
    let (log, mut f) = follow_empty(dir.path());
    // The object's first lines alone: nothing of it is shown early.
    append(&log, "{\n  \"ts\": \"2026-01-10T00:00:01Z\",\n");
    thread::sleep(Duration::from_millis(200));
    append(&log, "  \"level\": \"info\",\n");
    assert!(f.settle(Duration::from_millis(400)).is_empty());
    append(&log, "  \"msg\": \"hello\"\n}\n");
    append(
        &log,
        "{\n  \"ts\": \"2026-01-10T00:00:02Z\",\n  \"level\": \"error\",\n  \"msg\": \"second\"\n}\n",
    );
    let seen = f.until("second").to_vec();
    assert_eq!(
        seen,
        [
            "2026-01-10 00:00:01.000 INFO  hello",
            "2026-01-10 00:00:02.000 ERROR second"
        ]
    );
    // An object left open is shown, as lines, once the file is quiet.
    append(&log, "{\n  \"msg\": \"never closed\",\n");
    let seen = f.until("never closed").to_vec();
    assert_eq!(seen[2..], ["{", "  \"msg\": \"never closed\","]);
}

#[test]
fn continuation_lines_join_their_record() {
    let dir = home();
    let log = dir.path().join("app.log");
    fs::write(&log, plain(1, "INFO", "start")).unwrap();
    let mut f = Follow::start(
        dir.path(),
        &["app.log", "--grep", "IOException|start", "--json"],
    );
    f.until("start");
    append(&log, &plain(2, "ERROR", "request failed"));
    thread::sleep(Duration::from_millis(200));
    append(&log, "java.io.IOException: reset\n\tat a.B.c(B.java:1)\n");
    // Complete once the next record begins.
    append(&log, &plain(3, "INFO", "next"));
    let seen = f.until_count(2).to_vec();
    let v: serde_json::Value = serde_json::from_str(&seen[1]).unwrap();
    assert_eq!(v["lvl"], "error");
    assert_eq!(v["line"], 2);
    let msg = v["msg"].as_str().unwrap();
    assert!(msg.contains("request failed\njava.io.IOException"), "{msg}");
    // Without a next record, complete after a second of silence.
    append(&log, &plain(4, "ERROR", "again"));
    append(&log, "java.io.IOException: again\n");
    let started = Instant::now();
    f.until_count(3);
    assert!(started.elapsed() >= Duration::from_millis(700));
}

#[test]
fn text_output_shows_a_record_at_once_and_its_later_lines_after_it() {
    let dir = home();
    let log = dir.path().join("app.log");
    fs::write(&log, plain(1, "ERROR", "ready")).unwrap();
    let mut f = Follow::start(dir.path(), &["app.log", "--level", "error"]);
    f.until("ready");
    let written = Instant::now();
    append(&log, &plain(2, "ERROR", "request failed"));
    f.until("request failed");
    // Its level is in its header: later lines cannot change it.
    assert!(written.elapsed() < Duration::from_millis(800));
    append(&log, "java.io.IOException: reset\n\tat a.B.c(B.java:1)\n");
    f.until("at a.B.c");
    append(&log, &plain(3, "INFO", "fine"));
    append(&log, &plain(4, "ERROR", "second"));
    let seen = f.until("second").to_vec();
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(seen[2], "java.io.IOException: reset");
    assert_eq!(seen[3], "\tat a.B.c(B.java:1)");
}

#[test]
fn a_level_decided_by_later_lines_waits_for_the_whole_record() {
    let dir = home();
    let log = dir.path().join("app.log");
    fs::write(&log, plain(1, "FATAL", "ready")).unwrap();
    let mut f = Follow::start(dir.path(), &["app.log", "--level", "fatal"]);
    f.until("ready");
    // No level in the header: the keyword rules read the whole record.
    append(&log, "2026-01-10T00:00:02.000Z request failed\n");
    thread::sleep(Duration::from_millis(100));
    append(&log, "\tpanic: worker crashed\n");
    let seen = f.until("panic").to_vec();
    assert_eq!(
        seen[1..],
        [
            "2026-01-10T00:00:02.000Z request failed",
            "\tpanic: worker crashed"
        ]
    );
}

#[test]
fn several_sources_at_once() {
    let dir = home();
    let a = dir.path().join("a.log");
    let b = dir.path().join("b.log");
    fs::write(&a, "a old\n").unwrap();
    fs::write(&b, "b old\n").unwrap();
    let mut f = Follow::start(dir.path(), &["a.log", "b.log"]);
    assert_eq!(f.until_count(2), ["a.log:a old", "b.log:b old"]);
    append(&b, "b new\n");
    f.until("b new");
    append(&a, "a new\n");
    assert_eq!(f.until("a new")[2..], ["b.log:b new", "a.log:a new"]);
}

#[test]
fn waits_for_a_file_created_later() {
    let dir = home();
    let mut f = Follow::start(dir.path(), &["./later.log"]);
    assert!(f.settle(Duration::from_millis(300)).is_empty());
    fs::write(dir.path().join("later.log"), "one\ntwo\n").unwrap();
    assert_eq!(f.until("two"), ["one", "two"]);
}

#[test]
fn filters_apply_to_new_records() {
    let dir = home();
    let log = dir.path().join("app.log");
    fs::write(
        &log,
        plain(1, "ERROR", "old error") + &plain(2, "INFO", "old info"),
    )
    .unwrap();
    let mut level = Follow::start(dir.path(), &["app.log", "--level", "error"]);
    let mut grep = Follow::start(dir.path(), &["app.log", "--grep", "disk", "-n", "0"]);
    let mut as_json = Follow::start(dir.path(), &["app.log", "--json", "-n", "1"]);
    level.until("old error");
    as_json.until("old info");
    append(&log, &plain(3, "INFO", "disk fine"));
    append(&log, &plain(4, "ERROR", "disk full"));
    append(&log, &plain(5, "WARN", "cpu hot"));
    append(&log, &plain(6, "INFO", "end"));
    let seen = level.until("disk full").to_vec();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let seen = grep.until("disk full").to_vec();
    assert!(
        seen[0].ends_with("disk fine") && seen.len() == 2,
        "{seen:?}"
    );
    let seen = as_json.until("end").to_vec();
    assert_eq!(seen.len(), 5, "{seen:?}");
    let v: serde_json::Value = serde_json::from_str(&seen[4]).unwrap();
    assert_eq!(v["msg"], "end", "the message follows the header columns");
    assert_eq!(v["lvl"], "info");
    assert_eq!(v["line"], 6);
    assert_eq!(v["ts"], 1_768_003_206_000i64);
    assert!(level.settle(Duration::from_millis(200)).len() == 2);
}

#[test]
fn follows_a_process_json_log_across_rotation_and_its_raw_files() {
    let dir = home();
    let logs = dir.path().join("logs");
    fs::create_dir_all(&logs).unwrap();
    let log = logs.join("api.log");
    fs::write(
        logs.join("api.log.1"),
        json(1_768_003_200_000, "info", "rotated", "stdout"),
    )
    .unwrap();
    fs::write(&log, json(1_768_003_201_000, "info", "current", "stdout")).unwrap();
    let mut f = Follow::start(dir.path(), &["api"]);
    let seen = f.until("current").to_vec();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[0].ends_with("rotated"), "{seen:?}");
    append(&log, &json(1_768_003_202_000, "error", "boom", "stderr"));
    let last = f.until("boom").last().unwrap().clone();
    assert!(last.ends_with("ERROR [stderr] boom"), "{last}");
    // The daemon's rotation: rename to .1 (after .1 → .2), new file.
    fs::rename(logs.join("api.log.1"), logs.join("api.log.2")).unwrap();
    append(
        &log,
        &json(1_768_003_203_000, "info", "last of old", "stdout"),
    );
    fs::rename(&log, logs.join("api.log.1")).unwrap();
    append(
        &log,
        &json(1_768_003_204_000, "info", "first of new", "stdout"),
    );
    let seen = f.until("first of new").to_vec();
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert!(seen[3].ends_with("last of old"));
    // Raw-mode files appear later.
    append(&logs.join("api-err.log"), "raw error output\n");
    f.until("raw error output");
}

#[test]
fn follows_a_process_run_by_the_daemon_across_rotations() {
    let dir = TestHome::new();
    dir.write_config("[logs]\nmax_size = \"8KiB\"\nkeep = 20\n");
    let mut f = Follow::start(dir.path(), &["ticker", "--json", "--grep", "tick"]);
    // The home's guard stops the daemon and its process whatever happens.
    dir.ok(&[
        "start",
        "--name",
        "ticker",
        "--no-autorestart",
        "--",
        "sh",
        "-c",
        "i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo \"tick $i\"; \
         [ $((i % 20)) -eq 0 ] && sleep 0.02; done",
    ]);
    let seen = f.until("tick 600\"").to_vec();
    let numbers: Vec<u64> = seen
        .iter()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|v| v["src"] == "stdout")
        .map(|v| v["msg"].as_str().unwrap()[5..].parse().unwrap())
        .collect();
    assert_eq!(numbers, (1..=600).collect::<Vec<u64>>());
    let rotated = fs::read_dir(dir.path().join("logs")).unwrap().count();
    assert!(
        dir.path().join("logs/ticker.log.2").exists(),
        "{rotated} files"
    );
}

#[test]
fn waits_for_a_process_that_has_no_logs_yet() {
    let dir = home();
    let mut f = Follow::start(dir.path(), &["worker", "--level", "warn+"]);
    assert!(f.settle(Duration::from_millis(300)).is_empty());
    let logs = dir.path().join("logs");
    fs::create_dir_all(&logs).unwrap();
    append(
        &logs.join("worker.log"),
        &json(1_768_003_200_000, "info", "hello", "stdout"),
    );
    append(
        &logs.join("worker.log"),
        &json(1_768_003_201_000, "warn", "careful", "stderr"),
    );
    assert_eq!(f.until("careful").len(), 1);
}

#[test]
fn ctrl_c_exits_zero_with_output_flushed() {
    let dir = home();
    let log = dir.path().join("app.log");
    fs::write(&log, "one\n").unwrap();
    let mut f = Follow::start(dir.path(), &["app.log"]);
    f.until("one");
    append(&log, "two\n");
    f.until("two");
    f.signal(libc::SIGINT);
    assert_eq!(f.wait_exit(), Some(0));
}

#[test]
fn stdin_is_read_to_its_end() {
    let dir = home();
    let mut f = Follow::start_with(dir.path(), &["-", "--level", "error"], Stdio::piped());
    let mut stdin = f.child.stdin.take().unwrap();
    stdin.write_all(b"an error here\nall good\n").unwrap();
    stdin.flush().unwrap();
    assert_eq!(f.until("error"), ["an error here"]);
    stdin.write_all(b"failed again\n").unwrap();
    drop(stdin);
    f.until("failed again");
    assert_eq!(f.wait_exit(), Some(0));
}

// The library's Tail, as the TUI uses it.

fn poll_until(tail: &mut Tail, n: usize) -> Vec<Line> {
    let deadline = Instant::now() + SHOW;
    let mut got = Vec::new();
    while got.len() < n {
        got.extend(tail.poll());
        assert!(Instant::now() < deadline, "expected {n} lines, got {got:?}");
        thread::sleep(Duration::from_millis(10));
    }
    got
}

fn texts(lines: &[Line]) -> Vec<&str> {
    lines.iter().map(|l| l.text.as_str()).collect()
}

#[test]
fn tail_returns_the_backlog_then_new_lines() {
    let dir = home();
    let log = dir.path().join("app.log");
    let mut text: String = (0..5).map(|i| plain(i, "INFO", &format!("l{i}"))).collect();
    text.push_str("2026-01-10T00:00:09.000Z ERROR failed\n\tat x.Y(Y.java:1)\n");
    fs::write(&log, text).unwrap();
    let mut tail = Tail::file(&log, 3);
    let first = tail.poll();
    assert_eq!(first.len(), 3, "{first:?}");
    assert!(first[0].text.ends_with("l3"));
    assert_eq!(first[2].level, Level::Error);
    assert!(first[2].text.ends_with("failed\n\tat x.Y(Y.java:1)"));
    assert_eq!(first[2].ts, Some(1_768_003_209_000));
    assert_eq!(first[2].src, None);
    assert!(tail.poll().is_empty());

    append(&log, &plain(10, "WARN", "appended"));
    append(&log, &plain(11, "INFO", "more"));
    let got = poll_until(&mut tail, 1);
    assert!(got[0].text.ends_with("appended") && got[0].level == Level::Warn);

    // Rotation: the rest of the old file, then the new one.
    fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    fs::write(&log, "plain new file\n").unwrap();
    let got = poll_until(&mut tail, 2);
    assert_eq!(texts(&got)[1], "plain new file");
    assert!(got[0].text.ends_with("more"));

    // Truncation.
    fs::write(&log, "").unwrap();
    assert!(tail.poll().is_empty());
    append(&log, "after truncation\n");
    let got = poll_until(&mut tail, 1);
    assert_eq!(texts(&got), ["after truncation"]);
}

#[test]
fn tail_of_a_process_merges_its_streams() {
    let dir = home();
    let logs: PathBuf = dir.path().join("logs");
    fs::create_dir_all(&logs).unwrap();
    fs::write(
        logs.join("api.log.1"),
        json(1_768_003_200_000, "info", "a rotated", "stdout"),
    )
    .unwrap();
    fs::write(
        logs.join("api.log"),
        json(1_768_003_202_000, "error", "c current", "stderr"),
    )
    .unwrap();
    fs::write(logs.join("api-out.log"), "2026-01-10T00:00:01.000Z b raw\n").unwrap();
    let mut tail = Tail::process(&logs, "api", 10);
    let first = tail.poll();
    assert_eq!(
        texts(&first),
        ["a rotated", "2026-01-10T00:00:01.000Z b raw", "c current"]
    );
    assert_eq!(first[0].src.as_deref(), Some("stdout"));
    assert_eq!(first[1].src.as_deref(), Some("stdout"));
    assert_eq!(first[2].src.as_deref(), Some("stderr"));
    assert_eq!(first[2].level, Level::Error);

    append(&logs.join("api-err.log"), "raw failure\n");
    let got = poll_until(&mut tail, 1);
    assert_eq!(got[0].src.as_deref(), Some("stderr"));
    assert_eq!(got[0].level, Level::Error);

    // A process with no logs yet.
    let mut later = Tail::process(&logs, "later", 5);
    assert!(later.poll().is_empty());
    append(
        &logs.join("later.log"),
        &json(1_768_003_203_000, "info", "hi", "stdout"),
    );
    assert_eq!(texts(&poll_until(&mut later, 1)), ["hi"]);
}

/// The case, smaller: a real daemon rotating a 1 MiB log through
/// many files while `velos logs <name> -f` falls behind; every line still
/// on disk is printed, once, in order.
#[test]
fn follow_behind_many_rotations_loses_nothing() {
    let dir = TestHome::new();
    dir.write_config("[logs]\nmax_size = \"1MiB\"\nkeep = 1000\n");
    let ready = dir.path().join("go");
    // 10 bursts of 40,000 numbered lines, started once the follower runs.
    let script = format!(
        "while [ ! -e {go} ]; do sleep 0.05; done; \
         seq 0 399999 | awk '{{ print \"line n=\" $1 \" padding padding padding\"; \
         if ($1 % 40000 == 39999) {{ fflush(); system(\"sleep 0.2\") }} }}'; sleep 60",
        go = ready.display()
    );
    dir.ok(&[
        "start",
        "--name",
        "burst",
        "--no-autorestart",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    let follow = Follow::start(dir.path(), &["burst", "--no-color", "-n", "0"]);
    thread::sleep(Duration::from_millis(500));
    fs::write(&ready, "").unwrap();

    let deadline = Instant::now() + Duration::from_secs(240);
    let mut next = 0u64;
    while next < 400_000 {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = match follow.lines.recv_timeout(left) {
            Ok(line) => line,
            Err(_) => panic!("stopped at line {next}"),
        };
        let Some(at) = line.find("line n=") else {
            continue;
        };
        // The lifecycle record quotes the script, without a number.
        let Some(n) = line[at + 7..]
            .split(' ')
            .next()
            .and_then(|d| d.parse::<u64>().ok())
        else {
            continue;
        };
        assert_eq!(n, next, "after line {} came {n}", next.wrapping_sub(1));
        next += 1;
    }
    let rotated = fs::read_dir(dir.path().join("logs"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("burst.log."))
        .count();
    assert!(rotated >= 20, "only {rotated} rotations");
}

/// Rotation by a writer that keeps many files (each rotation renames them
/// all, one by one) races the follower's listing of the rotated files; a
/// file renamed while it is listed must not be skipped.
#[test]
fn tail_across_long_rename_cascades_loses_nothing() {
    let dir = home();
    let log = dir.path().join("app.log");
    let rotated = |n: u32| dir.path().join(format!("app.log.{n}"));
    // Old rotated files, there before following began.
    for n in 1..=300 {
        fs::write(rotated(n), format!("old file {n}\n")).unwrap();
    }
    fs::write(&log, "").unwrap();
    let mut tail = Tail::file(&log, 0);
    assert!(tail.poll().is_empty());

    const LINES: u64 = 60_000;
    let writer = {
        let log = log.clone();
        let dir = dir.path().to_path_buf();
        thread::spawn(move || {
            let mut files = 300;
            let mut out = OpenOptions::new().append(true).open(&log).unwrap();
            for i in 0..LINES {
                writeln!(out, "line n={i}").unwrap();
                if i % 500 == 499 {
                    for n in (1..=files).rev() {
                        let from = dir.join(format!("app.log.{n}"));
                        fs::rename(&from, dir.join(format!("app.log.{}", n + 1))).unwrap();
                    }
                    files += 1;
                    fs::rename(&log, dir.join("app.log.1")).unwrap();
                    out = OpenOptions::new()
                        .create_new(true)
                        .append(true)
                        .open(&log)
                        .unwrap();
                }
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut next = 0u64;
    while next < LINES {
        assert!(Instant::now() < deadline, "stopped at line {next}");
        let lines = tail.poll();
        if lines.is_empty() {
            thread::sleep(Duration::from_millis(1));
        }
        for line in lines {
            let n: u64 = line
                .text
                .strip_prefix("line n=")
                .and_then(|d| d.parse().ok())
                .unwrap_or_else(|| panic!("unexpected line {:?}", line.text));
            assert_eq!(n, next, "after line {} came {n}", next.wrapping_sub(1));
            next += 1;
        }
    }
    writer.join().unwrap();
}

/// A follower stopped while its file rotates with `keep = 1`: a file it
/// never got to is deleted. It prints every line still on disk, in order,
/// and says on one line that some were deleted before it could read them.
#[test]
fn deleted_rotations_are_reported() {
    let dir = home();
    let log = dir.path().join("app.log");
    let old = dir.path().join("app.log.1");
    fs::write(&log, "a first\n").unwrap();
    let child = velos_command(dir.path())
        .args(["logs", "app.log", "--follow", "--no-color"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start velos");
    thread::sleep(Duration::from_millis(700));
    let pid = child.id() as i32;
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let rotate = |next: &str| {
        let _ = fs::remove_file(&old);
        fs::rename(&log, &old).unwrap();
        fs::write(&log, next).unwrap();
    };
    append(&log, "b kept\n");
    rotate("c deleted unread\n");
    rotate("d kept\n");
    rotate("e current\n");
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    thread::sleep(Duration::from_millis(1500));
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let output = wait_output(child, SHOW);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        ["a first", "b kept", "d kept", "e current"],
        "stderr: {stderr}"
    );
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("deleted")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].starts_with("velos: warning: app.log"),
        "{stderr}"
    );
    // How much, as far as file times tell: the lines written after the
    // file read last, and before the oldest one kept where the file system
    // records creation times.
    assert!(
        warnings[0].contains("lines written") && warnings[0].contains("missing"),
        "{stderr}"
    );
}

//! `velos logs` as users type it: every flag, their combinations, and bad
//! input.

mod common;

use common::{json_lines, lines, logs, velos, write};
use predicates::prelude::*;

const APP: &str = "\
2026-01-10T10:00:00.000Z INFO  [api] started on :8080
2026-01-10T10:01:00.000Z DEBUG [api] cache warm
2026-01-10T10:02:00.000Z WARN  [db] slow query took 2300ms
2026-01-10T10:03:00.000Z ERROR [api] request timeout after 30s
java.net.SocketTimeoutException: Read timed out
\tat java.net.SocketInputStream.read(SocketInputStream.java:150)
2026-01-10T10:04:00.000Z INFO  [api] parity error corrected
2026-01-10T10:05:00.000Z FATAL [db] out of disk
2026-01-10T10:06:00.000Z INFO  [api] Timeout budget ok
";

fn app() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "app.log", APP);
    (dir, path)
}

#[test]
fn without_filters_shows_the_last_15_records() {
    let dir = tempfile::tempdir().unwrap();
    let content: String = (0..40)
        .map(|i| format!("2026-01-10T10:00:{i:02}Z INFO line {i}\n"))
        .collect();
    let path = write(dir.path(), "a.log", content);
    let out = velos(dir.path())
        .args(["logs"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let got = lines(&out.stdout);
    assert_eq!(got.len(), 15);
    assert_eq!(got[0], "2026-01-10T10:00:25Z INFO line 25");
    assert_eq!(got[14], "2026-01-10T10:00:39Z INFO line 39");
}

#[test]
fn lines_counts_records_and_zero_means_all() {
    let (dir, path) = app();
    let out = logs(dir.path(), &path, &["--lines", "4"]);
    let got = lines(&out.stdout);
    assert_eq!(
        got[0],
        "2026-01-10T10:03:00.000Z ERROR [api] request timeout after 30s"
    );
    assert_eq!(got.len(), 6, "a record with its stack trace counts once");
    let out = logs(dir.path(), &path, &["-n", "0"]);
    assert_eq!(lines(&out.stdout).len(), 9);
}

#[test]
fn grep_keeps_whole_records_and_supports_ignore_case() {
    let (dir, path) = app();
    velos(dir.path())
        .arg("logs")
        .arg(&path)
        .args(["--grep", "timeout"])
        .assert()
        .success()
        .stdout(
            "2026-01-10T10:03:00.000Z ERROR [api] request timeout after 30s\n\
             java.net.SocketTimeoutException: Read timed out\n\
             \tat java.net.SocketInputStream.read(SocketInputStream.java:150)\n",
        );
    let out = logs(dir.path(), &path, &["-g", "timeout", "-i"]);
    assert_eq!(lines(&out.stdout).len(), 4);
    // A match inside a continuation line selects its record.
    let out = logs(dir.path(), &path, &["--grep", "SocketInputStream"]);
    assert_eq!(
        lines(&out.stdout)[0],
        "2026-01-10T10:03:00.000Z ERROR [api] request timeout after 30s"
    );
    // Anchors match at line starts.
    let out = logs(dir.path(), &path, &["--grep", "^java"]);
    assert_eq!(lines(&out.stdout).len(), 3);
}

#[test]
fn level_filter_accepts_lists_aliases_and_plus() {
    let (dir, path) = app();
    let levels = |spec: &str| {
        let out = logs(dir.path(), &path, &["--level", spec, "--json"]);
        assert!(out.status.success(), "{spec}");
        json_lines(&out.stdout)
            .iter()
            .map(|v| v["lvl"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(levels("error"), ["error"]);
    assert_eq!(levels("err,warning"), ["warn", "error"]);
    assert_eq!(levels("warn+"), ["warn", "error", "fatal"]);
    assert_eq!(levels("fatal"), ["fatal"]);
    assert_eq!(levels("debug"), ["debug"]);
    // An explicit INFO wins over the word "error" in the message.
    assert_eq!(levels("info").len(), 3);
}

#[test]
fn keyword_rules_classify_lines_without_a_level() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "plain.log",
        "connection failed\nall good\nWarning: disk at 91%\nFATAL crash\n",
    );
    let out = logs(dir.path(), &path, &["--level", "warn+", "--json"]);
    let got: Vec<_> = json_lines(&out.stdout)
        .iter()
        .map(|v| {
            (
                v["msg"].as_str().unwrap().to_string(),
                v["lvl"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("connection failed".to_string(), "error".to_string()),
            ("Warning: disk at 91%".to_string(), "warn".to_string()),
            ("FATAL crash".to_string(), "fatal".to_string()),
        ]
    );
}

#[test]
fn since_and_until_take_absolute_and_relative_times() {
    let (dir, path) = app();
    let out = logs(
        dir.path(),
        &path,
        &[
            "--since",
            "2026-01-10 10:02",
            "--until",
            "2026-01-10T10:04:00Z",
        ],
    );
    let got = lines(&out.stdout);
    assert_eq!(got.len(), 5);
    assert!(got[0].contains("slow query") && got[4].contains("parity"));
    // Relative times count back from now.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let recent: String = [7200u64, 1800, 60]
        .iter()
        .map(|ago| format!("{} INFO {ago}s ago\n", now - ago))
        .collect();
    let path = write(dir.path(), "recent.log", recent);
    let out = logs(dir.path(), &path, &["--since", "1h"]);
    assert_eq!(lines(&out.stdout).len(), 2);
    let out = logs(dir.path(), &path, &["--until", "30m"]);
    assert_eq!(lines(&out.stdout).len(), 2);
    let out = logs(dir.path(), &path, &["--since", "today", "--until", "now"]);
    assert!(out.status.success());
}

#[test]
fn filters_combine_in_one_pass() {
    let (dir, path) = app();
    let out = logs(
        dir.path(),
        &path,
        &[
            "--grep",
            "timeout",
            "-i",
            "--level",
            "error",
            "--since",
            "2026-01-10 10:03",
            "--json",
        ],
    );
    let got = json_lines(&out.stdout);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["line"], 4);
    assert_eq!(got[0]["ts"], 1_768_039_380_000i64);
}

#[test]
fn json_output_has_the_structured_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "s.log",
        "{\"ts\":1768039200000,\"lvl\":\"warn\",\"pid\":7,\"msg\":\"disk \\\"low\\\"\",\"src\":\"stderr\"}\nplain line\n",
    );
    let out = logs(dir.path(), &path, &["--json", "-n", "0"]);
    let got = json_lines(&out.stdout);
    assert_eq!(got[0]["ts"], 1_768_039_200_000i64);
    assert_eq!(got[0]["lvl"], "warn");
    assert_eq!(got[0]["pid"], 7);
    assert_eq!(got[0]["src"], "stderr");
    assert_eq!(got[0]["msg"], "disk \"low\"");
    assert_eq!(got[0]["line"], 1);
    assert!(got[0]["file"].as_str().unwrap().ends_with("s.log"));
    assert!(got[1]["ts"].is_null());
    assert_eq!(got[1]["line"], 2);
    // Text mode renders structured records for people.
    velos(dir.path())
        .arg("logs")
        .arg(&path)
        .args(["-n", "1", "--level", "warn"])
        .assert()
        .stdout("2026-01-10 10:00:00.000 WARN  [stderr] disk \"low\"\n");
}

#[test]
fn json_variants_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "v.log",
        "{\"@timestamp\":\"2026-01-10T10:00:00Z\",\"severity\":\"ERROR\",\"message\":\"a\"}\n\
         {\"time\":1768039201,\"level\":\"warning\",\"message\":\"b\"}\n\
         {\"timestamp\":\"2026-01-10T11:00:02+01:00\",\"level\":\"info\",\"msg\":\"c\"}\n",
    );
    let out = logs(dir.path(), &path, &["--json", "-n", "0"]);
    let got: Vec<_> = json_lines(&out.stdout)
        .iter()
        .map(|v| {
            (
                v["ts"].as_i64().unwrap(),
                v["lvl"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (1_768_039_200_000, "error".to_string()),
            (1_768_039_201_000, "warn".to_string()),
            (1_768_039_202_000, "info".to_string())
        ]
    );
}

#[test]
fn color_follows_the_flags_and_no_color() {
    let (dir, path) = app();
    let out = logs(
        dir.path(),
        &path,
        &["--level", "error", "--color", "always"],
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("\x1b[31m"));
    let out = logs(
        dir.path(),
        &path,
        &["--level", "error", "--color", "always", "--no-color"],
    );
    assert!(!out.stdout.contains(&0x1b));
    let out = logs(dir.path(), &path, &["--level", "error"]);
    assert!(
        !out.stdout.contains(&0x1b),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn several_files_are_merged_by_time_and_named_or_concatenated_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.log", "2026-01-10T10:00:05Z ERROR a1\n");
    let b = write(dir.path(), "b.log", "2026-01-10T10:00:01Z ERROR b1\n");
    let out = velos(dir.path())
        .current_dir(dir.path())
        .args(["logs", "a.log", "b.log", "--level", "error"])
        .output()
        .unwrap();
    assert_eq!(
        lines(&out.stdout),
        [
            "b.log:2026-01-10T10:00:01Z ERROR b1",
            "a.log:2026-01-10T10:00:05Z ERROR a1"
        ]
    );
    let out = velos(dir.path())
        .current_dir(dir.path())
        .args(["logs", "a.log", "b.log", "--level", "error", "--concat"])
        .output()
        .unwrap();
    assert_eq!(
        lines(&out.stdout),
        [
            "a.log:2026-01-10T10:00:05Z ERROR a1",
            "b.log:2026-01-10T10:00:01Z ERROR b1"
        ]
    );
    let _ = (a, b);
}

#[test]
fn stdin_is_read_with_dash() {
    let (dir, _) = app();
    velos(dir.path())
        .args(["logs", "-", "--level", "fatal"])
        .write_stdin(APP)
        .assert()
        .success()
        .stdout("2026-01-10T10:05:00.000Z FATAL [db] out of disk\n");
    let out = velos(dir.path())
        .args(["logs", "-", "-n", "2"])
        .write_stdin(APP)
        .output()
        .unwrap();
    assert_eq!(lines(&out.stdout).len(), 2);
}

#[test]
fn a_process_name_reads_its_rotated_files_in_order() {
    let home = tempfile::tempdir().unwrap();
    let rec = |ts: i64, msg: &str| {
        format!("{{\"ts\":{ts},\"lvl\":\"info\",\"pid\":1,\"msg\":\"{msg}\",\"src\":\"stdout\"}}\n")
    };
    write(
        home.path(),
        "logs/api.log.2",
        rec(1_000_000_000_000, "oldest"),
    );
    write(
        home.path(),
        "logs/api.log.1",
        rec(1_000_000_001_000, "older"),
    );
    write(
        home.path(),
        "logs/api.log",
        rec(1_000_000_002_000, "newest"),
    );
    let out = velos(home.path())
        .args(["logs", "api", "--json"])
        .output()
        .unwrap();
    let msgs: Vec<_> = json_lines(&out.stdout)
        .iter()
        .map(|v| v["msg"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(msgs, ["oldest", "older", "newest"]);
}

#[test]
fn raw_stdout_and_stderr_files_are_merged_by_time() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        "logs/web-out.log",
        "2026-01-10T10:00:01Z out one\n2026-01-10T10:00:03Z out two\n",
    );
    write(
        home.path(),
        "logs/web-err.log",
        "2026-01-10T10:00:02Z err one\n2026-01-10T10:00:04Z err two\n",
    );
    let out = velos(home.path())
        .args(["logs", "web", "-n", "0"])
        .output()
        .unwrap();
    assert_eq!(
        lines(&out.stdout),
        [
            "2026-01-10T10:00:01Z out one",
            "2026-01-10T10:00:02Z err one",
            "2026-01-10T10:00:03Z out two",
            "2026-01-10T10:00:04Z err two"
        ]
    );
    let out = velos(home.path())
        .args(["logs", "web", "-n", "1"])
        .output()
        .unwrap();
    assert_eq!(lines(&out.stdout), ["2026-01-10T10:00:04Z err two"]);
}

#[test]
fn custom_rules_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(
        dir.path(),
        "a.log",
        "OOM killer invoked\nretry failed once\n",
    );
    let cfg = write(
        dir.path(),
        "velos.toml",
        "[[classify.rules]]\npattern = \"OOM\"\nlevel = \"fatal\"\npriority = 5\n\n[[classify.rules]]\npattern = \"retry\"\nlevel = \"debug\"\n",
    );
    let out = velos(dir.path())
        .arg("logs")
        .arg(&log)
        .arg("--config")
        .arg(&cfg)
        .args(["--level", "fatal,debug", "--json"])
        .output()
        .unwrap();
    let got: Vec<_> = json_lines(&out.stdout)
        .iter()
        .map(|v| v["lvl"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, ["fatal", "debug"]);
    // The home's config.toml is read by default.
    write(
        dir.path(),
        "config.toml",
        "[[classify.rules]]\npattern = \"OOM\"\nlevel = \"warn\"\n",
    );
    let out = logs(dir.path(), &log, &["--level", "warn", "--json"]);
    assert_eq!(json_lines(&out.stdout).len(), 1);
    // A bad config names the line and the key.
    let bad = write(dir.path(), "bad.toml", "[classify]\nrulez = 1\n");
    velos(dir.path())
        .arg("logs")
        .arg(&log)
        .arg("--config")
        .arg(&bad)
        .assert()
        .failure()
        .stderr(predicate::str::contains("line 2").and(predicate::str::contains("rulez")));
}

fn assert_one_line_error(cmd: &mut assert_cmd::Command, needle: &str) {
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("velos: error: ") && err.contains(needle),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_input_gets_a_one_line_error_and_a_failure_code() {
    let (dir, path) = app();
    let run = || {
        let mut cmd = velos(dir.path());
        cmd.arg("logs").arg(&path);
        cmd
    };
    assert_one_line_error(run().args(["--grep", "a(b"]), "invalid --grep pattern");
    assert_one_line_error(run().args(["--level", "loud"]), "unknown level `loud`");
    assert_one_line_error(
        run().args(["--since", "yesterdayish"]),
        "--since: cannot read the time",
    );
    assert_one_line_error(
        run().args(["--until", "25:99"]),
        "--until: cannot read the time",
    );
    assert_one_line_error(
        run().args(["--since", "1h", "--until", "2h"]),
        "--since is after --until",
    );
    assert_one_line_error(
        velos(dir.path()).args(["logs", "no-such-process"]),
        "no such file or managed process",
    );
    assert_one_line_error(
        velos(dir.path()).args(["logs", "./missing.log"]),
        "no such file",
    );
    assert_one_line_error(
        velos(dir.path()).arg("logs").arg(dir.path()),
        "is a directory",
    );
    let untimed = write(dir.path(), "untimed.log", "no times here\nnor here\n");
    assert_one_line_error(
        velos(dir.path())
            .arg("logs")
            .arg(&untimed)
            .args(["--since", "1h"]),
        "has no timestamps",
    );
}

#[test]
fn permission_denied_is_reported() {
    if unsafe { libc::geteuid() } == 0 {
        return; // root reads everything
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "secret.log", "x\n");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    assert_one_line_error(
        velos(dir.path()).arg("logs").arg(&path),
        "permission denied",
    );
}

#[test]
fn hostile_bytes_never_crash() {
    let dir = tempfile::tempdir().unwrap();
    // Binary and invalid UTF-8, CRLF, NULs, no final newline.
    let mut bytes =
        b"2026-01-10T10:00:00Z ERROR bad \xff\xfe bytes\r\n\x00\x01\x02 binary\r\n".to_vec();
    bytes.extend((0..=255u8).cycle().take(5000));
    bytes.extend_from_slice(b"\n2026-01-10T10:00:01Z INFO last line without newline");
    let path = write(dir.path(), "bin.log", &bytes);
    let out = logs(dir.path(), &path, &["-n", "0"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("output is valid UTF-8");
    assert!(text.contains("bad \u{FFFD}"));
    assert!(text.ends_with("last line without newline\n"));
    let out = logs(dir.path(), &path, &["--json", "--level", "error"]);
    assert_eq!(json_lines(&out.stdout).len(), 1);
}

#[test]
fn empty_file_and_huge_line() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.log", "");
    velos(dir.path())
        .arg("logs")
        .arg(&empty)
        .assert()
        .success()
        .stdout("");
    velos(dir.path())
        .arg("logs")
        .arg(&empty)
        .args(["--since", "1h"])
        .assert()
        .success()
        .stdout("");
    let mut big = b"2026-01-10T10:00:00Z ERROR ".to_vec();
    big.extend(std::iter::repeat_n(b'x', 10 << 20));
    big.extend_from_slice(b" timeout\n2026-01-10T10:00:01Z INFO small\n");
    let path = write(dir.path(), "big.log", &big);
    let out = logs(
        dir.path(),
        &path,
        &["--grep", "timeout", "--chunk-size", "4096"],
    );
    assert!(out.status.success());
    assert_eq!(
        out.stdout.len(),
        big.len() - "2026-01-10T10:00:01Z INFO small\n".len()
    );
    let out = velos(dir.path())
        .args(["logs", "-", "--level", "error"])
        .write_stdin(big.clone())
        .output()
        .unwrap();
    assert_eq!(
        out.stdout.len(),
        big.len() - "2026-01-10T10:00:01Z INFO small\n".len()
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let content: String = (0..200_000)
        .map(|i| format!("2026-01-10T10:00:00Z INFO line {i}\n"))
        .collect();
    let path = write(dir.path(), "a.log", content);
    let mut child = std::process::Command::new(common::VELOS)
        .args(["logs", "-n", "0"])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 100];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn help_documents_the_default_of_15() {
    let dir = tempfile::tempdir().unwrap();
    let out = velos(dir.path()).args(["logs", "--help"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("Without any filter, the last 15 are shown"),
        "{text}"
    );
}

#[test]
fn time_bounds_on_a_large_file_match_a_full_scan() {
    // Over 1 MiB, so the binary search narrows the file; times jitter by
    // up to two minutes, as interleaved writers do.
    let dir = tempfile::tempdir().unwrap();
    let mut content = String::new();
    for i in 0..60_000u64 {
        let jitter = (i * 7919) % 240;
        let t = 1_768_003_200 + i * 2 + jitter - 120;
        let level = if i % 97 == 0 { "ERROR" } else { "INFO " };
        content.push_str(&format!("{t} {level} event {i} with some padding text\n"));
        if i % 500 == 0 {
            content.push_str("\tat continuation line\n");
        }
    }
    let path = write(dir.path(), "big.log", &content);
    for args in [
        vec!["--since", "2026-01-10T00:30:00Z"],
        vec!["--until", "2026-01-10T01:00:00Z"],
        vec![
            "--since",
            "2026-01-10T00:20:00Z",
            "--until",
            "2026-01-10T00:40:00Z",
            "--level",
            "error",
        ],
    ] {
        let from_file = logs(dir.path(), &path, &args);
        let from_stdin = velos(dir.path())
            .args(["logs", "-"])
            .args(&args)
            .write_stdin(content.clone())
            .output()
            .unwrap();
        assert!(from_file.status.success());
        assert!(!from_file.stdout.is_empty(), "{args:?}");
        assert_eq!(from_file.stdout, from_stdin.stdout, "{args:?}");
    }
}

#[test]
fn structured_records_show_their_level_in_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "api.log",
        "{\"ts\":1768039200000,\"lvl\":\"error\",\"pid\":7,\"msg\":\"db down\",\"src\":\"stderr\"}\n\
         {\"ts\":1768039201000,\"lvl\":\"warn\",\"pid\":0,\"msg\":\"restarting in 100 ms\",\"src\":\"velos\",\"event\":\"restart\"}\n",
    );
    let out = velos(dir.path()).arg("logs").arg(&path).output().unwrap();
    assert_eq!(
        lines(&out.stdout),
        [
            "2026-01-10 10:00:00.000 ERROR [stderr] db down",
            "2026-01-10 10:00:01.000 WARN  [velos] restarting in 100 ms",
        ]
    );
}

#[test]
fn common_formats_seen_in_the_wild() {
    let dir = tempfile::tempdir().unwrap();
    // klog / glog, as Kubernetes components write it: the level is the first letter.
    let klog = write(
        dir.path(),
        "kubelet.log",
        "I0110 10:00:00.123456    1234 server.go:42] Started kubelet\n\
         E0110 10:00:01.000001    1234 pod_workers.go:9] Error syncing pod\n\
         W0110 10:00:02.5    1234 eviction.go:1] low memory\n",
    );
    let out = logs(dir.path(), &klog, &["--level", "warn+", "--json"]);
    let got: Vec<_> = json_lines(&out.stdout)
        .iter()
        .map(|v| v["lvl"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, ["error", "warn"]);
    // Docker's json-file driver: `log` with its newline, `stream`, `time`.
    let docker = write(
        dir.path(),
        "container.log",
        "{\"log\":\"listening on :80\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-10T10:00:00.5Z\"}\n\
         {\"log\":\"panic: nil map\\n\",\"stream\":\"stderr\",\"time\":\"2026-01-10T10:00:01Z\"}\n",
    );
    let out = logs(dir.path(), &docker, &["-n", "0"]);
    assert_eq!(
        lines(&out.stdout),
        [
            "2026-01-10 10:00:00.500 INFO  listening on :80",
            "2026-01-10 10:00:01.000 FATAL [stderr] panic: nil map"
        ]
    );
    // Apache 2.4 error log: `[module:level]`.
    let apache = write(
        dir.path(),
        "error_log",
        "[Sun Jan 10 10:00:00.123456 2026] [mpm_event:notice] [pid 1:tid 2] AH00489: resuming normal operations\n\
         [Sun Jan 10 10:00:01.000000 2026] [core:error] [pid 3:tid 4] [client 10.0.0.1:5] AH00037: Symbolic link not allowed\n",
    );
    let out = logs(dir.path(), &apache, &["--level", "error", "--json"]);
    let got = json_lines(&out.stdout);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["ts"], 1_768_039_201_000i64);
}

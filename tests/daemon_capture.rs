//! Output capture through the real daemon: JSON records from stdout and
//! stderr with levels, partial lines, over-long lines, invalid UTF-8; raw
//! mode; a burst of a million lines with none lost; rotation; flush.

mod common;

use std::time::Duration;

use common::{TestHome, secs};

const SCRIPT: &str = r#"
printf 'hello\nerror: bad thing\n'
printf 'warn on stderr\n' >&2
printf 'bad \377\376 bytes\n'
printf 'partial-start'
sleep 1.6
printf ' rest\n'
head -c 150000 /dev/zero | tr '\0' 'x'
echo
printf 'tail-no-newline'
"#;

#[test]
fn json_capture() {
    let home = TestHome::new();
    home.ok(&[
        "start",
        "--name",
        "app",
        "--no-autorestart",
        "--",
        "sh",
        "-c",
        SCRIPT,
    ]);
    home.wait_status("app", "stopped", secs(10));
    let records = home.records("app.log");
    let pid = records[0]["pid"].as_u64().unwrap();
    let output: Vec<&serde_json::Value> = records.iter().filter(|r| r["src"] != "velos").collect();
    for r in &output {
        assert_eq!(r["pid"].as_u64(), Some(pid));
        assert!(r["ts"].as_u64().unwrap() > 1_600_000_000_000);
    }
    let find = |msg: &str| {
        output
            .iter()
            .find(|r| r["msg"] == msg)
            .unwrap_or_else(|| panic!("no record {msg:?} in {output:#?}"))
    };
    assert_eq!(find("hello")["lvl"], "info");
    assert_eq!(find("hello")["src"], "stdout");
    assert_eq!(find("error: bad thing")["lvl"], "error");
    let warn = find("warn on stderr");
    assert_eq!(warn["src"], "stderr");
    assert_eq!(warn["lvl"], "warn");

    // Invalid UTF-8: lossy text plus the exact bytes.
    let bad = find("bad \u{fffd}\u{fffd} bytes");
    assert_eq!(bad["raw_b64"], "YmFkIP/+IGJ5dGVz");

    // A partial line is written after 1 s of silence; the rest continues it.
    let start = find("partial-start");
    assert!(start.get("cont").is_none());
    let rest = find(" rest");
    assert_eq!(rest["cont"], true);
    assert!(rest["ts"].as_u64().unwrap() >= start["ts"].as_u64().unwrap() + 500);

    // A 150,000-byte line comes in pieces of 64 KiB, later ones marked.
    let pieces: Vec<&&serde_json::Value> = output
        .iter()
        .filter(|r| r["msg"].as_str().is_some_and(|m| m.starts_with("xxx")))
        .collect();
    let lengths: Vec<usize> = pieces
        .iter()
        .map(|r| r["msg"].as_str().unwrap().len())
        .collect();
    assert_eq!(lengths, vec![65536, 65536, 150000 - 2 * 65536]);
    assert!(pieces[0].get("cont").is_none());
    assert_eq!(pieces[1]["cont"], true);
    assert_eq!(pieces[2]["cont"], true);

    // The last line, without newline, is written when the process exits,
    // before the exit record.
    let tail = records
        .iter()
        .position(|r| r["msg"] == "tail-no-newline")
        .unwrap();
    let exit = records.iter().position(|r| r["event"] == "exit").unwrap();
    assert!(tail < exit);
    assert_eq!(records[exit]["src"], "velos");
    assert_eq!(records[exit]["lvl"], "info");
}

#[test]
fn raw_capture() {
    let home = TestHome::new();
    home.ok(&[
        "start",
        "--name",
        "raw",
        "--raw",
        "--no-autorestart",
        "--",
        "sh",
        "-c",
        SCRIPT,
    ]);
    home.wait_status("raw", "stopped", secs(10));
    let out = std::fs::read(home.logs().join("raw-out.log")).unwrap();
    let mut expected: Vec<u8> =
        b"hello\nerror: bad thing\nbad \xff\xfe bytes\npartial-start rest\n".to_vec();
    expected.extend(std::iter::repeat_n(b'x', 150_000));
    expected.extend_from_slice(b"\ntail-no-newline");
    assert_eq!(out.len(), expected.len());
    assert!(out == expected, "raw stdout differs");
    assert_eq!(
        std::fs::read(home.logs().join("raw-err.log")).unwrap(),
        b"warn on stderr\n"
    );
    // Lifecycle records still go to the JSON log, and only they.
    let records = home.records("raw.log");
    assert!(records.iter().all(|r| r["src"] == "velos"));
    assert!(records.iter().any(|r| r["event"] == "exit"));
    let info = home.ok(&["info", "raw"]);
    assert!(
        info.contains("raw-out.log") && info.contains("raw-err.log"),
        "{info}"
    );
}

#[test]
fn burst_of_a_million_lines_loses_none() {
    let home = TestHome::new();
    home.write_config("[logs]\nmax_size = \"1GiB\"\n");
    home.ok(&[
        "start",
        "--name",
        "burst",
        "--no-autorestart",
        "seq",
        "1",
        "1000000",
    ]);
    home.wait_status("burst", "stopped", secs(60));
    let text = std::fs::read(home.logs().join("burst.log")).unwrap();
    let mut expected = 1u64;
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let record: serde_json::Value = serde_json::from_slice(line).unwrap();
        if record["src"] == "velos" {
            continue;
        }
        assert_eq!(record["src"], "stdout");
        let msg = record["msg"].as_str().unwrap();
        assert_eq!(
            msg,
            expected.to_string(),
            "line {expected} lost or out of order"
        );
        expected += 1;
    }
    assert_eq!(expected - 1, 1_000_000);
}

#[test]
fn rotation_and_flush() {
    let home = TestHome::new();
    home.write_config("[logs]\nmax_size = \"16KiB\"\nkeep = 2\n");
    home.ok(&[
        "start",
        "--name",
        "rot",
        "--no-autorestart",
        "--",
        "sh",
        "-c",
        "i=0; while [ $i -lt 2000 ]; do i=$((i+1)); echo \"line $i of the rotation test\"; done",
    ]);
    home.wait_status("rot", "stopped", secs(20));
    let logs = home.logs();
    let names = ["rot.log.2", "rot.log.1", "rot.log"];
    for name in names {
        let size = std::fs::metadata(logs.join(name)).unwrap().len();
        assert!(size > 0 && size <= 16 * 1024, "{name}: {size}");
    }
    assert!(!logs.join("rot.log.3").exists());
    // The kept files hold the newest lines, contiguous and in order.
    let numbers: Vec<u64> = names
        .iter()
        .flat_map(|name| home.records(name))
        .filter(|r| r["src"] == "stdout")
        .map(|r| {
            r["msg"]
                .as_str()
                .unwrap()
                .split(' ')
                .nth(1)
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(*numbers.last().unwrap(), 2000);
    assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1));
    assert!(numbers.len() > 200);

    home.ok(&["flush", "rot"]);
    assert_eq!(std::fs::metadata(logs.join("rot.log")).unwrap().len(), 0);
    assert!(!logs.join("rot.log.1").exists());
    assert!(!logs.join("rot.log.2").exists());
    std::thread::sleep(Duration::from_millis(10));
}

#[test]
fn custom_level_rules_from_the_config_apply_to_captured_lines() {
    let home = TestHome::new();
    home.write_config(
        "[logs]\nkeep = 3\n\n[[classify.rules]]\npattern = \"OOM\"\nlevel = \"fatal\"\npriority = 1\n",
    );
    home.ok(&[
        "start",
        "--name",
        "oom",
        "--no-autorestart",
        "--",
        "sh",
        "-c",
        "echo 'OOM killer woke up'; echo fine",
    ]);
    home.wait_status("oom", "stopped", secs(10));
    let records = home.records("oom.log");
    let lvl = |msg: &str| {
        records
            .iter()
            .find(|r| r["msg"] == msg)
            .map(|r| r["lvl"].clone())
    };
    assert_eq!(lvl("OOM killer woke up"), Some(serde_json::json!("fatal")));
    assert_eq!(lvl("fine"), Some(serde_json::json!("info")));
}

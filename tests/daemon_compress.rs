//! Compressed rotation and retention with the real daemon: `[logs]
//! compress = true` gzips rotated files off the capture path and nothing is
//! lost; `max_age` deletes rotated files older than it.

mod common;

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use common::{TestHome, secs};
use flate2::read::GzDecoder;
use serde_json::Value;

fn records_of(bytes: &[u8]) -> Vec<Value> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).expect("a JSON record"))
        .collect()
}

/// `(number, is_gz)` of each rotated part of `logs/<base>`.
fn parts(logs: &Path, base: &str) -> Vec<(u32, bool)> {
    let mut found = Vec::new();
    for entry in fs::read_dir(logs).unwrap().flatten() {
        let name = entry.file_name().into_string().unwrap();
        let Some(rest) = name.strip_prefix(base).and_then(|r| r.strip_prefix('.')) else {
            continue;
        };
        let (number, gz) = match rest.strip_suffix(".gz") {
            Some(number) => (number, true),
            None => (rest, false),
        };
        if let Ok(n) = number.parse() {
            found.push((n, gz));
        }
    }
    found.sort();
    found
}

fn set_age(path: &Path, days: u64) {
    File::options()
        .append(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(days * 86_400))
        .unwrap();
}

#[test]
fn compressed_rotation_loses_nothing() {
    let home = TestHome::new();
    home.write_config("[logs]\nmax_size = \"4KiB\"\nkeep = 100\ncompress = true\n");
    const LINES: u32 = 3000;
    let script = format!(
        "i=1; while [ $i -le {LINES} ]; do echo \"line $i of the compressed rotation test\"; i=$((i+1)); done; echo done; exec sleep 60"
    );
    home.ok(&["start", "--name", "gz", "--", "sh", "-c", &script]);
    home.wait_record("gz.log", secs(20), |r| r["msg"] == "done");

    // The worker gzips every rotated part, then no plain part is left.
    let logs = home.logs();
    let deadline = Instant::now() + secs(20);
    loop {
        let found = parts(&logs, "gz.log");
        if found.len() > 10 && found.iter().all(|&(_, gz)| gz) {
            break;
        }
        assert!(Instant::now() < deadline, "parts left plain: {found:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!logs.join("gz.log.gz.tmp").exists());

    // The worker runs at a lower priority than capture.
    let daemon = home.daemon_pid().expect("daemon pid");
    let nice: Vec<i64> = fs::read_dir(format!("/proc/{daemon}/task"))
        .unwrap()
        .flatten()
        .filter(|task| {
            fs::read_to_string(task.path().join("comm")).is_ok_and(|c| c.trim() == "compress")
        })
        .map(|task| {
            let stat = fs::read_to_string(task.path().join("stat")).unwrap();
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .unwrap()
                .1
                .split_whitespace()
                .collect();
            fields[16].parse().unwrap()
        })
        .collect();
    assert_eq!(nice, [10]);

    // Oldest part first, then the current file: every line once, in order.
    let mut all = Vec::new();
    for (n, _) in parts(&logs, "gz.log").into_iter().rev() {
        let mut bytes = Vec::new();
        GzDecoder::new(File::open(logs.join(format!("gz.log.{n}.gz"))).unwrap())
            .read_to_end(&mut bytes)
            .unwrap();
        assert!(bytes.len() <= 4096, "part {n} holds {} bytes", bytes.len());
        all.extend(records_of(&bytes));
    }
    all.extend(records_of(&fs::read(logs.join("gz.log")).unwrap()));
    let lines: Vec<String> = all
        .iter()
        .filter(|r| r["src"] == "stdout")
        .map(|r| r["msg"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (1..=LINES)
        .map(|i| format!("line {i} of the compressed rotation test"))
        .chain(std::iter::once("done".to_string()))
        .collect();
    assert_eq!(lines, expected);

    // `velos logs` reads the set without tripping on the compressed parts.
    let run = home.run(&["logs", "gz", "--no-color"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("done"), "{}", run.stdout);

    // Flushing removes compressed parts too.
    home.ok(&["flush", "gz"]);
    assert_eq!(parts(&logs, "gz.log"), []);
}

#[test]
fn rotated_files_older_than_max_age_are_deleted() {
    let home = TestHome::new();
    home.write_config("[logs]\ncompress = true\nmax_age = \"14d\"\n");
    let logs = home.logs();
    fs::create_dir_all(&logs).unwrap();
    // Left by an earlier run: two old parts, one recent plain part.
    fs::write(logs.join("old.log.1"), "{\"msg\":\"recent\"}\n").unwrap();
    fs::write(logs.join("old.log.2"), "{\"msg\":\"old plain\"}\n").unwrap();
    fs::write(logs.join("old.log.3.gz"), b"not really gzip").unwrap();
    set_age(&logs.join("old.log.2"), 20);
    set_age(&logs.join("old.log.3.gz"), 30);
    set_age(&logs.join("old.log.1"), 2);

    home.ok(&["start", "--name", "old", "--", "sleep", "60"]);
    let deadline = Instant::now() + secs(10);
    while parts(&logs, "old.log") != [(1, true)] {
        assert!(
            Instant::now() < deadline,
            "parts: {:?}",
            parts(&logs, "old.log")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut text = String::new();
    GzDecoder::new(File::open(logs.join("old.log.1.gz")).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "{\"msg\":\"recent\"}\n");
    // The compressed part keeps the plain part's age.
    let age = SystemTime::now()
        .duration_since(
            fs::metadata(logs.join("old.log.1.gz"))
                .unwrap()
                .modified()
                .unwrap(),
        )
        .unwrap();
    assert!(age > Duration::from_secs(86_400), "{age:?}");
}

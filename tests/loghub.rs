//! The eight loghub systems (in ../shared/loghub, when present): every raw
//! line is one record, gets the time its structured CSV gives, and, where
//! the CSV has a level column, that level. Skips cleanly without the data.

mod common;

use common::{grouping_accuracy, json_lines, logs, shared};
use velos::timestamp::zone::civil_from_days;

/// The eight loghub systems.
const SYSTEMS: [&str; 8] = [
    "Apache",
    "HDFS",
    "Hadoop",
    "HealthApp",
    "Linux",
    "OpenSSH",
    "Spark",
    "Zookeeper",
];

/// A system's structured CSV: its header and rows.
fn structured(dir: &std::path::Path, system: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let csv = std::fs::read_to_string(dir.join(format!("{system}_2k.log_structured.csv"))).unwrap();
    let mut rows = csv.lines().map(csv_row);
    let header = rows.next().unwrap();
    (header, rows.collect())
}

/// Splits one CSV row, honouring quotes.
fn csv_row(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

fn month(name: &str) -> u32 {
    [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == name)
    .map(|i| i as u32 + 1)
    .unwrap_or_else(|| panic!("month {name}"))
}

fn num(s: &str) -> u32 {
    s.trim().parse().unwrap_or_else(|_| panic!("number {s:?}"))
}

/// `hh:mm:ss` with an optional `,mmm` or `:mmm` fraction.
fn clock(s: &str) -> (u32, u32, u32, u32) {
    let (hms, frac) = match s.split_once(',') {
        Some((a, b)) => (a, num(b)),
        None => (s, 0),
    };
    let parts: Vec<u32> = hms.split(':').map(num).collect();
    (
        parts[0],
        parts[1],
        parts[2],
        parts.get(3).copied().unwrap_or(frac),
    )
}

/// (year if the log has one, month, day, h, m, s, ms) the CSV gives.
type Civil = (Option<i32>, u32, u32, u32, u32, u32, u32);

fn expected(system: &str, header: &[String], row: &[String]) -> Civil {
    let col = |name: &str| -> &str {
        let i = header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{system}: no column {name}"));
        &row[i]
    };
    match system {
        "Apache" => {
            let t: Vec<&str> = col("Time").split_whitespace().collect();
            let (h, m, s, ms) = clock(t[3]);
            (Some(num(t[4]) as i32), month(t[1]), num(t[2]), h, m, s, ms)
        }
        "HDFS" => {
            let d = format!("{:06}", num(col("Date")));
            let t = format!("{:06}", num(col("Time")));
            (
                Some(2000 + num(&d[..2]) as i32),
                num(&d[2..4]),
                num(&d[4..]),
                num(&t[..2]),
                num(&t[2..4]),
                num(&t[4..]),
                0,
            )
        }
        "Hadoop" | "Zookeeper" => {
            let d: Vec<u32> = col("Date").split('-').map(num).collect();
            let (h, m, s, ms) = clock(col("Time"));
            (Some(d[0] as i32), d[1], d[2], h, m, s, ms)
        }
        "HealthApp" => {
            let (d, t) = col("Time").split_once('-').unwrap();
            let (h, m, s, ms) = clock(t);
            (
                Some(num(&d[..4]) as i32),
                num(&d[4..6]),
                num(&d[6..]),
                h,
                m,
                s,
                ms,
            )
        }
        "Linux" => {
            let (h, m, s, ms) = clock(col("Time"));
            (None, month(col("Month")), num(col("Date")), h, m, s, ms)
        }
        "OpenSSH" => {
            let (h, m, s, ms) = clock(col("Time"));
            (None, month(col("Date")), num(col("Day")), h, m, s, ms)
        }
        "Spark" => {
            let d: Vec<u32> = col("Date").split('/').map(num).collect();
            let (h, m, s, ms) = clock(col("Time"));
            (Some(2000 + d[0] as i32), d[1], d[2], h, m, s, ms)
        }
        other => panic!("unknown system {other}"),
    }
}

fn civil(ms: i64) -> Civil {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, mo, d) = civil_from_days(days);
    let rem = rem as u32;
    (
        Some(y),
        mo,
        d,
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    )
}

fn level_of(csv: &str) -> Option<&'static str> {
    Some(match csv.to_ascii_lowercase().as_str() {
        "info" | "notice" => "info",
        "warn" | "warning" => "warn",
        "error" => "error",
        "fatal" => "fatal",
        "debug" => "debug",
        _ => return None,
    })
}

#[test]
fn every_loghub_line_is_a_record_with_the_csv_time_and_level() {
    let Some(shared) = shared() else {
        eprintln!("../shared/loghub not found: skipping");
        return;
    };
    let home = tempfile::tempdir().unwrap();
    for system in SYSTEMS {
        let dir = shared.join("loghub").join(system);
        let log = dir.join(format!("{system}_2k.log"));
        let (header, rows) = structured(&dir, system);
        let out = logs(home.path(), &log, &["--json", "-n", "0"]);
        assert!(out.status.success(), "{system}");
        let records = json_lines(&out.stdout);
        assert_eq!(records.len(), rows.len(), "{system}: one record per line");
        let has_level = header.iter().any(|h| h == "Level") && system != "Linux";
        for (i, (rec, row)) in records.iter().zip(&rows).enumerate() {
            assert_eq!(rec["line"], i as u64 + 1, "{system}");
            let ts = rec["ts"]
                .as_i64()
                .unwrap_or_else(|| panic!("{system} line {}: no time", i + 1));
            let want = expected(system, &header, row);
            let mut got = civil(ts);
            if want.0.is_none() {
                got.0 = None;
            }
            assert_eq!(got, want, "{system} line {}", i + 1);
            if has_level {
                let level_col = header.iter().position(|h| h == "Level").unwrap();
                if let Some(want) = level_of(&row[level_col]) {
                    assert_eq!(rec["lvl"], want, "{system} line {}", i + 1);
                }
            }
        }
    }
}

#[test]
fn pattern_ids_group_loghub_lines_like_the_ground_truth() {
    let Some(shared) = shared() else {
        eprintln!("../shared/loghub not found: skipping");
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let mut scores = Vec::new();
    for system in SYSTEMS {
        let dir = shared.join("loghub").join(system);
        let (header, rows) = structured(&dir, system);
        let event = header.iter().position(|h| h == "EventId").unwrap();
        let truth: Vec<String> = rows.iter().map(|r| r[event].clone()).collect();
        let out = logs(
            home.path(),
            &dir.join(format!("{system}_2k.log")),
            &["--json", "-n", "0"],
        );
        let predicted: Vec<String> = json_lines(&out.stdout)
            .iter()
            .map(|r| r["pattern"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(predicted.len(), truth.len(), "{system}");
        let ga = grouping_accuracy(&predicted, &truth);
        eprintln!("{system:<10} GA {ga:.3}");
        scores.push((system, ga));
    }
    let mean = scores.iter().map(|s| s.1).sum::<f64>() / scores.len() as f64;
    eprintln!("mean GA {mean:.3}");
    assert!(mean >= 0.90, "mean GA {mean:.3}: {scores:?}");
    assert!(scores.iter().all(|s| s.1 >= 0.75), "{scores:?}");
}

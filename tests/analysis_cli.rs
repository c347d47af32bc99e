//! `velos logs --summary`, `--dedupe` and `--pattern` on crafted logs with
//! known answers.

mod common;

use common::{json_lines, lines, logs, velos, write};
use serde_json::Value;

const T0: i64 = 1_768_003_200_000; // 2026-01-10T00:00:00Z
const MIN: i64 = 60_000;

fn iso(ms: i64) -> String {
    let secs = ms / 1000;
    let (h, m, s) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
    format!("2026-01-10T{h:02}:{m:02}:{s:02}.{:03}Z", ms % 1000)
}

fn summary(dir: &std::path::Path, path: &std::path::Path, extra: &[&str]) -> Value {
    let out = velos(dir)
        .arg("logs")
        .arg(path)
        .args(["--summary", "--json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_burst_is_flagged_in_its_minute_with_its_severity() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for minute in 0..30 {
        for k in 0..10 {
            log.push_str(&format!(
                "{} INFO  request served in {k}ms\n",
                iso(T0 + minute * MIN + k * 1000)
            ));
        }
        let errors = match minute {
            3 => 5,   // before 10 minutes of history: not reported
            20 => 60, // twelve times the one burst before: critical
            _ => 0,
        };
        for k in 0..errors {
            log.push_str(&format!(
                "{} ERROR database timeout after {k}s\n",
                iso(T0 + minute * MIN + 30_000 + k)
            ));
        }
    }
    let path = write(dir.path(), "burst.log", log);
    let report = summary(dir.path(), &path, &[]);
    let anomalies: Vec<(i64, String, String, u64)> = report["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                (a["minute"].as_i64().unwrap() - T0) / MIN,
                a["metric"].as_str().unwrap().to_string(),
                a["severity"].as_str().unwrap().to_string(),
                a["value"].as_u64().unwrap(),
            )
        })
        .collect();
    // The burst's minute is critical; the five-minute sums that still hold
    // it may follow as part of the same event. Minute 3 is not reported,
    // and its burst of 5 taught the detector that errors come in bursts.
    assert_eq!(
        anomalies.first(),
        Some(&(20, "error_rate".to_string(), "critical".to_string(), 60)),
        "{anomalies:?}"
    );
    assert!(
        anomalies.iter().all(|a| (20..25).contains(&a.0)),
        "{anomalies:?}"
    );
    // One event per metric: the errors and the volume they added.
    assert_eq!(report["health"]["anomalies"], 2);
    // Text form names the minute, the count and the severity, with a
    // timeline that marks the minute, within the width asked for.
    let out = velos(dir.path())
        .env("COLUMNS", "80")
        .arg("logs")
        .arg(&path)
        .arg("--summary")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text
        .lines()
        .find(|l| l.contains("2026-01-10 00:20 error_rate"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains(" 60 ") && row.ends_with("critical"), "{row}");
    assert!(text.contains("MINUTE") && text.contains("EXPECTED") && text.contains("DISTANCE"));
    let marks = text
        .lines()
        .find(|l| l.trim_start().starts_with("anomalies "))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(marks.find('!'), Some(12 + 20), "{text}");
    assert!(
        text.contains("Stable"),
        "a steady pattern is Stable:\n{text}"
    );
    assert!(
        text.lines().all(|l| l.chars().count() <= 80),
        "fits 80 columns:\n{text}"
    );
}

#[test]
fn trends_follow_the_counts_over_the_period() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for hour in 0..12 {
        for k in 0..(hour + 1) * 5 {
            log.push_str(&format!(
                "{} INFO  cache rebuilt for shard {k}\n",
                iso(T0 + hour * 60 * MIN + k * 10_000)
            ));
        }
        for k in 0..(12 - hour) * 5 {
            log.push_str(&format!(
                "{} INFO  legacy endpoint called by client {k}\n",
                iso(T0 + hour * 60 * MIN + 30 * MIN + k * 10_000)
            ));
        }
        for k in 0..20 {
            log.push_str(&format!(
                "{} INFO  heartbeat ok seq {k}\n",
                iso(T0 + hour * 60 * MIN + 45 * MIN + k * 1000)
            ));
        }
    }
    let path = write(dir.path(), "trend.log", log);
    let report = summary(dir.path(), &path, &["--top", "10"]);
    let trend = |needle: &str| {
        report["top_patterns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["template"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("{needle} in {report}"))["trend"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(trend("cache rebuilt"), "Rising");
    assert_eq!(trend("legacy endpoint"), "Declining");
    assert_eq!(trend("heartbeat"), "Stable");
    let rising = report["top_patterns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["trend"] == "Rising")
        .unwrap();
    assert_eq!(rising["count"], 390);
    assert_eq!(
        rising["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap())
            .sum::<u64>(),
        390
    );
}

#[test]
fn dedupe_window_edges() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        (0, "disk almost full on /dev/sda1"),
        (60_000, "disk almost full on /dev/sda2"), // gap = window: same group
        (120_001, "disk almost full on /dev/sda3"), // gap = window + 1 ms: new group
        (120_500, "user alice logged in"),
        (121_000, "disk almost full on /dev/sda4"),
    ];
    let log: String = rows
        .iter()
        .map(|(t, m)| format!("{} WARN  {m}\n", iso(T0 + t)))
        .collect();
    let path = write(dir.path(), "dup.log", log);
    let out = logs(dir.path(), &path, &["--dedupe"]);
    assert_eq!(
        lines(&out.stdout),
        [
            "disk almost full on /dev/sda1 (x2, first: 2026-01-10 00:00:00, last: 2026-01-10 00:01:00)",
            "disk almost full on /dev/sda3 (x2, first: 2026-01-10 00:02:00, last: 2026-01-10 00:02:01)",
            "user alice logged in (x1, first: 2026-01-10 00:02:00, last: 2026-01-10 00:02:00)",
        ]
    );
    // --template prints the template; --window widens the window.
    let out = logs(
        dir.path(),
        &path,
        &["--dedupe", "--template", "--window", "5m"],
    );
    let got = lines(&out.stdout);
    assert_eq!(got.len(), 2);
    assert!(
        got[0].starts_with("disk almost full on /dev/<ID> (x4, first: 2026-01-10 00:00:00"),
        "{got:?}"
    );
    let out = logs(dir.path(), &path, &["--dedupe", "--json"]);
    let groups = json_lines(&out.stdout);
    assert_eq!(groups.len(), 3);
    for key in [
        "pattern", "template", "sample", "level", "count", "first", "last",
    ] {
        assert!(groups[0].get(key).is_some(), "{key}");
    }
    assert_eq!(groups[0]["count"], 2);
    assert_eq!(groups[0]["first"], T0);
    assert_eq!(groups[0]["last"], T0 + 60_000);
    assert_eq!(groups[0]["pattern"].as_str().unwrap().len(), 16);
}

#[test]
fn health_score_parts() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    // 15 quiet minutes of 10 records, then a minute with 6 errors.
    for minute in 0..15 {
        for k in 0..10 {
            log.push_str(&format!("{{\"ts\":{},\"lvl\":\"info\",\"pid\":7,\"msg\":\"served {k}\",\"src\":\"stdout\"}}\n", T0 + minute * MIN + k * 1000));
        }
    }
    for k in 0..6 {
        log.push_str(&format!("{{\"ts\":{},\"lvl\":\"error\",\"pid\":7,\"msg\":\"db down {k}\",\"src\":\"stderr\"}}\n", T0 + 15 * MIN + k));
    }
    log.push_str(&format!(
        "{{\"ts\":{},\"lvl\":\"warn\",\"pid\":0,\"msg\":\"restarting in 100 ms\",\"src\":\"velos\",\"event\":\"restart\"}}\n",
        T0 + 15 * MIN + 10_000
    ));
    log.push_str(&format!(
        "{{\"ts\":{},\"lvl\":\"info\",\"pid\":0,\"msg\":\"restarting (requested)\",\"src\":\"velos\",\"event\":\"restart\"}}\n",
        T0 + 15 * MIN + 20_000
    ));
    let path = write(dir.path(), "health.log", log);
    let report = summary(dir.path(), &path, &[]);
    let health = &report["health"];
    // 158 records, 6 errors: 3.797…% × 5 = 18.99; one anomaly event; one crash restart.
    assert_eq!(report["records"], 158);
    assert_eq!(health["anomalies"], 1);
    assert_eq!(health["restarts"], 1);
    assert_eq!(report["restarts"], 1);
    let error_penalty = health["error_penalty"].as_f64().unwrap();
    assert!(
        (error_penalty - 600.0 / 158.0 * 5.0).abs() < 1e-9,
        "{error_penalty}"
    );
    assert_eq!(
        health["score"],
        (100.0 - 600.0 / 158.0 * 5.0 - 10.0 - 3.0_f64).round() as u64
    );
    assert_eq!(
        report["last_error"]["text"].as_str().unwrap(),
        "{\"ts\":1768004100005,\"lvl\":\"error\",\"pid\":7,\"msg\":\"db down 5\",\"src\":\"stderr\"}"
    );
}

#[test]
fn pattern_ids_drill_down_from_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for k in 0..40 {
        log.push_str(&format!(
            "{} INFO  GET /users/{k} 200 {k}ms\n",
            iso(T0 + k * 1000)
        ));
        if k % 4 == 0 {
            log.push_str(&format!(
                "{} ERROR payment {k} declined by bank\n",
                iso(T0 + k * 1000 + 500)
            ));
        }
    }
    let path = write(dir.path(), "drill.log", log);
    let report = summary(dir.path(), &path, &[]);
    let top = report["top_patterns"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(report["top_patterns"][0]["count"], 40);
    let out = logs(dir.path(), &path, &["--pattern", &top, "--json"]);
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), 40);
    assert!(records.iter().all(|r| r["pattern"] == top.as_str()));
    // Every --json record carries its pattern.
    let out = logs(dir.path(), &path, &["--json", "-n", "0"]);
    let all = json_lines(&out.stdout);
    assert_eq!(all.len(), 50);
    assert_eq!(
        all.iter().filter(|r| r["pattern"] == top.as_str()).count(),
        40
    );
    // The text summary shows the drill-down command.
    let out = logs(dir.path(), &path, &["--summary"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("--pattern {top}")));
}

#[test]
fn without_timestamps_dedupe_works_in_file_order_and_the_summary_says_what_needs_times() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "plain.log",
        "job 1 failed\njob 2 failed\nall done\njob 3 failed\n",
    );
    let out = logs(dir.path(), &path, &["--dedupe"]);
    assert_eq!(lines(&out.stdout), ["job 1 failed (x3)", "all done (x1)"]);
    let out = logs(dir.path(), &path, &["--summary"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("no record has a timestamp (trends and anomalies need them)"),
        "{text}"
    );
    assert!(
        text.contains("Anomalies\n  not looked for: no record has a timestamp"),
        "{text}"
    );
    assert!(text.contains("anomalies n/a × 10"), "{text}");
}

#[test]
fn bad_analysis_flags_and_config_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "a.log", "2026-01-10T00:00:00Z INFO x\n");
    let fails = |args: &[&str], needle: &str| {
        let out = logs(dir.path(), &path, args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    };
    fails(&["--dedupe", "--window", "0s"], "invalid --window `0s`");
    fails(&["--dedupe", "--window=-5m"], "invalid --window");
    fails(&["--summary", "--top", "0"], "invalid --top 0");
    fails(&["--pattern", "xyz"], "invalid pattern id `xyz`");
    let cfg = write(
        dir.path(),
        "c.toml",
        "[pipeline]\nstages = [\"dedup\", \"sorcery\"]\n",
    );
    fails(
        &["--summary", "--config", cfg.to_str().unwrap()],
        "unknown stage `sorcery`",
    );
    let cfg = write(
        dir.path(),
        "d.toml",
        "[pipeline.pattern]\nsimilarity = 1.2\n",
    );
    fails(
        &["--summary", "--config", cfg.to_str().unwrap()],
        "line 2: pipeline.pattern.similarity",
    );
}

#[test]
fn bad_input_summaries_say_what_could_not_be_computed_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let text_of = |name: &str, content: String| {
        let path = write(dir.path(), name, content);
        let out = logs(dir.path(), &path, &["--summary"]);
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // A single minute: no trend, no anomaly detection, and the health says so.
    let one_minute: String = (0..50)
        .map(|k| format!("{} INFO  same line here\n", iso(T0 + k * 1000)))
        .collect();
    let text = text_of("minute.log", one_minute);
    assert!(
        text.contains("not looked for: the period covers 1 minute; detection needs more than 10 minutes of history"),
        "{text}"
    );
    assert!(
        text.contains("trends not computed: the period covers 1 minute"),
        "{text}"
    );
    assert!(
        text.contains("(without anomalies: they could not be looked for)"),
        "{text}"
    );
    assert!(!text.contains("Stable"), "{text}");
    // A period too short for anomaly detection.
    let short: String = (0..8)
        .map(|m| format!("{} INFO  tick\n", iso(T0 + m * MIN)))
        .collect();
    let text = text_of("short.log", short);
    assert!(text.contains("the period covers 8 minutes"), "{text}");
    // One repeated line without timestamps.
    let text = text_of("repeated.log", "hello world\n".repeat(40));
    assert!(
        text.contains("Records   40 (40 lines, 1 patterns)"),
        "{text}"
    );
    assert!(
        text.contains("trends not computed: no record has a timestamp"),
        "{text}"
    );
    // Every line unique: nothing to group, and it says so.
    let word = |mut n: u64| -> String {
        n = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20;
        (0..7)
            .map(|k| (b'a' + (n >> (k * 5) & 31) as u8 % 26) as char)
            .collect()
    };
    let unique: String = (0..40u64)
        .map(|i| format!("{} {} {}\n", word(i), word(i + 100), word(i + 200)))
        .collect();
    let text = text_of("unique.log", unique);
    assert!(
        text.contains("every record is its own pattern: no two messages share a template"),
        "{text}"
    );
}

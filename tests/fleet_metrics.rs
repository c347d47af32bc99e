//! `GET /metrics` from the real daemon, parsed with a Prometheus text-format
//! parser, and checked with `promtool check metrics` where it is installed.

mod common;
mod fleet;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{TestHome, secs};
use fleet::{free_port, sample, scrape};

fn metrics_home() -> (TestHome, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let home = TestHome::new();
    home.write_config(&format!("[metrics]\nlisten = \"{addr}\"\n"));
    (home, addr)
}

#[test]
fn scrape_shows_every_process_and_the_daemon() {
    let (home, addr) = metrics_home();
    home.ok(&[
        "start",
        "--name",
        "web",
        "--",
        "sh",
        "-c",
        "for i in 1 2 3; do echo \"GET /a $i 200\"; echo \"db error $i\" >&2; done; echo 'slow query warning'; exec sleep 60",
    ]);
    home.ok(&[
        "start",
        "--name",
        "crashy",
        "--max-restarts",
        "2",
        "--",
        "sh",
        "-c",
        "echo boom; exit 1",
    ]);
    home.wait_status("crashy", "errored", secs(30));
    home.wait_status("web", "online", secs(30));
    home.wait_record("web.log", secs(30), |r| r["msg"] == "slow query warning");
    // CPU and memory are sampled each second.
    home.wait_process("web", secs(30), |p| {
        p["memory"].as_u64().is_some_and(|m| m > 0)
    });

    let (kind, text) = scrape(&addr, None);
    assert_eq!(kind, "text/plain; version=0.0.4; charset=utf-8");
    let web = [("name", "web"), ("id", "0")];
    let crashy = [("name", "crashy"), ("id", "1")];
    let with = |base: &[(&'static str, &'static str)], extra: (&'static str, &'static str)| {
        let mut labels = base.to_vec();
        labels.push(extra);
        labels
    };
    assert_eq!(sample(&text, "velos_processes", &[]), Some(2.0));
    assert_eq!(
        sample(
            &text,
            "velos_process_status",
            &with(&web, ("status", "online"))
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "velos_process_status",
            &with(&web, ("status", "errored"))
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &text,
            "velos_process_status",
            &with(&crashy, ("status", "errored"))
        ),
        Some(1.0)
    );
    let listed = home.process("crashy").unwrap();
    assert_eq!(
        sample(&text, "velos_process_restarts_total", &crashy),
        Some(listed["restarts"].as_f64().unwrap())
    );
    assert!(listed["restarts"].as_u64().unwrap() >= 2);
    assert!(sample(&text, "velos_process_resident_memory_bytes", &web).unwrap() > 0.0);
    assert!(sample(&text, "velos_process_cpu_percent", &web).is_some());
    assert!(sample(&text, "velos_process_uptime_seconds", &web).unwrap() > 0.0);
    assert_eq!(
        sample(&text, "velos_process_resident_memory_bytes", &crashy),
        None,
        "no figures for a process that is not running"
    );

    // Records by level, as written in the process's log.
    let records = home.records("web.log");
    for level in ["debug", "info", "warn", "error", "fatal"] {
        let written = records
            .iter()
            .filter(|r| r["src"] != "velos" && r["lvl"] == level)
            .count();
        assert_eq!(
            sample(
                &text,
                "velos_captured_records_total",
                &with(&web, ("level", level))
            ),
            Some(written as f64),
            "{level}"
        );
    }
    assert_eq!(
        sample(
            &text,
            "velos_captured_records_total",
            &with(&web, ("level", "error"))
        ),
        Some(3.0)
    );
    let bytes: usize = ["web.log", "crashy.log"]
        .iter()
        .flat_map(|f| home.records(f))
        .filter(|r| r["src"] != "velos")
        .map(|r| r["msg"].as_str().unwrap().len())
        .sum();
    assert_eq!(
        sample(&text, "velos_captured_bytes_total", &[]),
        Some(bytes as f64)
    );
    assert!(sample(&text, "velos_daemon_resident_memory_bytes", &[]).unwrap() > 1e6);
    assert_eq!(sample(&text, "velos_export_queue_records", &[]), Some(0.0));
    assert_eq!(
        sample(
            &text,
            "velos_export_dropped_records_total",
            &[("reason", "queue_full")]
        ),
        Some(0.0)
    );

    // OpenMetrics when asked for.
    let (kind, open) = scrape(
        &addr,
        Some("application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4"),
    );
    assert_eq!(
        kind,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(open.ends_with("# EOF\n"));
    assert!(open.contains("# TYPE velos_process_restarts counter"));

    // Other paths, and the daemon goes on answering.
    let missing = ureq::get(format!("http://{addr}/nope")).call();
    assert!(
        matches!(missing, Err(ureq::Error::StatusCode(404))),
        "{missing:?}"
    );
    assert_eq!(home.list().len(), 2);

    promtool_check(&text);
}

/// `promtool check metrics` on the exposition, when promtool is installed
/// (Debian's `prometheus` package); skipped otherwise.
fn promtool_check(text: &str) {
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!("promtool is not installed; skipping `promtool check metrics`");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = common::wait_output(child, secs(30));
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn metrics_off_by_default() {
    let home = TestHome::new();
    home.ok(&["start", "--name", "quiet", "--", "sleep", "30"]);
    let log = home.records("../daemon.log");
    assert!(
        !log.iter()
            .any(|r| r["msg"].as_str().unwrap_or("").contains("metrics")),
        "{log:?}"
    );
}

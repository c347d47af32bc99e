//! Health of generated 24-hour logs read with `velos logs --summary`:
//! a healthy service at 60 and 600 records a minute, with and without a
//! ±50 % daily swing, has at most one anomaly event and scores 85 or more;
//! the same service with a five-minute error storm at eight times its
//! error rate gets a critical error-rate anomaly and a lower score.

mod common;
mod traffic;

use common::{velos, write};
use serde_json::Value;

fn summary(dir: &std::path::Path, name: &str, log: String) -> Value {
    let path = write(dir, name, log);
    let out = velos(dir)
        .arg("logs")
        .arg(&path)
        .args(["--summary", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn check(rate: f64, swing: f64, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let healthy = summary(
        dir.path(),
        "healthy.log",
        traffic::day_log(rate, swing, None, seed),
    );
    let health = &healthy["health"];
    println!("rate {rate} swing {swing}: healthy {health}");
    assert!(health["anomalies"].as_u64().unwrap() <= 1, "{healthy:#}");
    let score = health["score"].as_u64().unwrap();
    assert!(score >= 85, "{health}");

    let storm = 13 * 60 + 7;
    let incident = summary(
        dir.path(),
        "incident.log",
        traffic::day_log(rate, swing, Some(storm), seed),
    );
    println!("rate {rate} swing {swing}: incident {}", incident["health"]);
    let caught = incident["anomalies"].as_array().unwrap().iter().any(|a| {
        let minute = (a["minute"].as_i64().unwrap() - 1_768_003_200_000) / 60_000;
        a["metric"] == "error_rate"
            && a["severity"] == "critical"
            && (storm as i64..storm as i64 + 10).contains(&minute)
    });
    assert!(caught, "{:#}", incident["anomalies"]);
    assert!(incident["health"]["score"].as_u64().unwrap() < score);
}

#[test]
fn a_healthy_day_at_60_a_minute_scores_85_or_more_and_a_storm_is_critical() {
    check(60.0, 0.0, 1);
    check(60.0, 0.5, 2);
}

#[test]
fn a_healthy_day_at_600_a_minute_scores_85_or_more_and_a_storm_is_critical() {
    check(600.0, 0.0, 3);
    check(600.0, 0.5, 4);
}

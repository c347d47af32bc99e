//! The anomaly detector's false-alarm budget on generated stationary
//! Poisson series (several rates, with and without a ±50 % daily swing),
//! and storms it must call critical.
//!
//! Run with `--nocapture` to see the measured rates.

mod traffic;

use traffic::{DAY, Rng, series};
use velos::analyze::PipelineConfig;
use velos::analyze::anomaly::{Anomaly, Detector, Metric, Severity, events};

fn detect(volume: &[u64], errors: &[u64]) -> Vec<Anomaly> {
    let detector = Detector::of(&PipelineConfig::default());
    let mut found = detector.scan(errors, 0, Metric::ErrorRate);
    found.extend(detector.scan(volume, 0, Metric::LogVolume));
    found.sort_by(|a, b| {
        a.minute
            .cmp(&b.minute)
            .then((a.metric as u8).cmp(&(b.metric as u8)))
    });
    found
}

#[test]
fn stationary_logs_stay_within_one_false_event_a_day() {
    const DAYS: usize = 6;
    let mut total_events = 0;
    let mut total_days = 0;
    for (i, rate) in [1.0, 10.0, 60.0, 600.0, 10_000.0].into_iter().enumerate() {
        for swing in [0.0, 0.5] {
            let mut rng = Rng(0xA11CE + i as u64 * 7919 + (swing * 10.0) as u64);
            let (volume, errors) = series(&mut rng, rate, 0.02, swing, DAYS);
            let found = detect(&volume, &errors);
            let n = events(&found);
            println!(
                "rate {rate:>6}/min swing ±{:>2.0}%: {n} events in {DAYS} days ({} minutes flagged)",
                swing * 100.0,
                found.len()
            );
            assert!(
                n <= DAYS,
                "rate {rate} swing {swing}: {n} events in {DAYS} days: {found:#?}"
            );
            total_events += n;
            total_days += DAYS;
        }
    }
    println!("overall: {total_events} events in {total_days} days");
    assert!(
        total_events * 4 <= total_days,
        "{total_events} events in {total_days} days"
    );
}

/// A 5-minute storm at 8× the usual error rate, at `minute` of the day.
fn storm_at(rate: f64, swing: f64, minute: usize, seed: u64) -> Vec<Anomaly> {
    let mut rng = Rng(seed);
    let (mut volume, mut errors) = series(&mut rng, rate, 0.02, swing, 1);
    for t in minute..minute + 5 {
        let phase = 2.0 * std::f64::consts::PI * t as f64 / DAY as f64;
        let usual = rate * 0.02 * (1.0 + swing * phase.sin());
        let extra = rng.poisson(usual * 7.0);
        errors[t] += extra;
        volume[t] += extra;
    }
    detect(&volume, &errors)
}

#[test]
fn an_error_storm_at_eight_times_the_usual_rate_is_critical() {
    for rate in [60.0, 600.0] {
        for swing in [0.0, 0.5] {
            // At the day's busiest, quietest and steepest times.
            for minute in [360, 700, 1080] {
                for seed in 0..5 {
                    let found = storm_at(rate, swing, minute, seed);
                    let caught = found.iter().any(|a| {
                        a.metric == Metric::ErrorRate
                            && a.severity == Severity::Critical
                            && (minute as i64..minute as i64 + 10).contains(&(a.minute / 60_000))
                    });
                    assert!(
                        caught,
                        "rate {rate} swing {swing} minute {minute} seed {seed}: {found:#?}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_batch_log_does_not_report_every_burst() {
    // Silent except for three bursts of 200-400 records a day (like
    // package installs or cron jobs), over a week.
    let mut rng = Rng(42);
    let mut volume = vec![0u64; 7 * DAY];
    for day in 0..7 {
        for hour in [2, 9, 17] {
            let at = day * DAY + hour * 60 + (rng.next() % 30) as usize;
            let len = 1 + (rng.next() % 3) as usize;
            for slot in &mut volume[at..at + len] {
                *slot = 200 + rng.next() % 200;
            }
        }
    }
    let errors = vec![0u64; volume.len()];
    let found = detect(&volume, &errors);
    let n = events(&found);
    println!("batch log: {n} volume events for 21 bursts");
    assert!(n <= 3, "{n} events: {found:#?}");
}

#[test]
fn nothing_is_reported_before_the_warmup() {
    let mut volume = vec![10u64; 30];
    volume[20] = 1000;
    let found = detect(&volume, &[0; 30]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].minute, 20 * 60_000);
    assert_eq!(found[0].severity, Severity::Critical);
    volume[5] = 1000;
    let found = detect(&volume, &[0; 30]);
    assert!(found.iter().all(|a| a.minute >= 10 * 60_000), "{found:#?}");
}

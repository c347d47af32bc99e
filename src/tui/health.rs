//! Health scores and summaries for the process table: the summary
//! engine's [`Report::health`](crate::analyze::report::Report::health) and
//! `--summary` text over each process's logs of the last hour, computed on a
//! background thread.
//!
//! [`assess`] is `velos logs <name> --since 1h --summary`: the engine's analysis run over `<name>.log` (or the raw
//! `-out`/`-err` pair merged by time) and their rotations. Records without
//! a time cannot be placed in the window and are left out; files last
//! written before the window are not opened.
//!
//! [`HealthWorker`] runs it off the draw path, at most every
//! [`MIN_PERIOD`] per process, and only when the logs changed or
//! [`MAX_PERIOD`] passed (the window moves even when nothing is written).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use crate::analyze::PipelineConfig;
use crate::analyze::report::Health;
use crate::classify::Classifier;
use crate::engine::{Engine, Input};
use crate::output::summary::{DEFAULT_WIDTH, SummaryContext};
use crate::output::{PrintSink, Printer, ReportStyle};
use crate::query::{Query, QuerySpec};
use crate::timestamp::{TimeContext, Zone};

/// The window scored, as `--since` spells it.
pub const WINDOW: &str = "1h";
/// The window scored, ms.
pub const WINDOW_MS: i64 = 3_600_000;
/// Shortest time between two scorings of one process.
pub const MIN_PERIOD: Duration = Duration::from_secs(10);
/// Longest time between two scorings of one process.
pub const MAX_PERIOD: Duration = Duration::from_secs(60);

/// The settings the analysis runs with.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Level rules for records without an explicit level.
    pub classifier: Classifier,
    /// Stage settings.
    pub pipeline: PipelineConfig,
    /// Zone for plain-text timestamps.
    pub zone: Zone,
}

/// Size and modification time of the current files: changes when
/// anything is written, rotated or flushed.
fn fingerprint(logs_dir: &Path, name: &str) -> Vec<(u64, Option<std::time::SystemTime>)> {
    crate::home::process_log_files(logs_dir, name)
        .iter()
        .map(|file| {
            std::fs::metadata(file)
                .map(|m| (m.len(), m.modified().ok()))
                .unwrap_or((0, None))
        })
        .collect()
}

/// What monit shows of a process's last hour.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Its health score and parts.
    pub health: Health,
    /// The `velos logs <name> --since 1h --summary` text.
    pub summary: String,
}

/// The health of process `name` over the hour before `now_ms`, from its
/// logs under `logs_dir`; `None` when no record falls in the window or the
/// files cannot be read.
pub fn score(logs_dir: &Path, name: &str, now_ms: i64, analysis: &Analysis) -> Option<Health> {
    assess(logs_dir, name, now_ms, analysis).map(|a| a.health)
}

/// The health and the summary text of process `name` over the hour before
/// `now_ms`; `None` when no record falls in the window or the files cannot
/// be read.
pub fn assess(logs_dir: &Path, name: &str, now_ms: i64, analysis: &Analysis) -> Option<Assessment> {
    let zone = &analysis.zone;
    let since = Query::build(
        &QuerySpec {
            since: Some(WINDOW),
            ..QuerySpec::default()
        },
        now_ms,
        &TimeContext::new(zone.clone(), now_ms),
    )
    .ok()?;
    let engine = Engine::builder()
        .classifier(analysis.classifier.clone())
        .query(since)
        .pipeline(analysis.pipeline.clone())
        .zone(zone.clone())
        .build();
    let input = Input::process(logs_dir, name, |f| written_since(f, now_ms - WINDOW_MS));
    if input.is_empty() {
        return None;
    }
    let sources = [name.to_string()];
    let printer = Printer::plain(zone.clone());
    let mut sink =
        PrintSink::new(&printer, Vec::new()).with_report(ReportStyle::Summary(SummaryContext {
            sources: &sources,
            now_ms,
            zone,
            top: analysis.pipeline.top,
            drill_down: format!("velos logs {name} --since {WINDOW}"),
            width: DEFAULT_WIDTH,
        }));
    let report = engine.analyze(input, &mut sink).ok()?;
    (report.counts.records > 0).then(|| Assessment {
        health: report.health(),
        summary: String::from_utf8_lossy(&sink.into_inner()).into_owned(),
    })
}

/// Whether `path` was modified at or after `since_ms` (Unix ms): older
/// files hold nothing of the window.
fn written_since(path: &Path, since_ms: i64) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .is_none_or(|d| d.as_millis() as i64 >= since_ms)
}

/// Scores processes on a background thread.
pub struct HealthWorker {
    names: Sender<Vec<String>>,
    scores: Receiver<(String, Option<Assessment>)>,
}

impl HealthWorker {
    /// Starts the thread; it ends when the worker is dropped.
    pub fn spawn(logs_dir: PathBuf, analysis: Analysis) -> std::io::Result<HealthWorker> {
        let (names_tx, names_rx) = mpsc::channel();
        let (scores_tx, scores_rx) = mpsc::channel();
        thread::Builder::new()
            .name("health".into())
            .spawn(move || work(&logs_dir, &analysis, &names_rx, &scores_tx))?;
        Ok(HealthWorker {
            names: names_tx,
            scores: scores_rx,
        })
    }

    /// Tells the thread which processes exist now.
    pub fn set_names(&self, names: Vec<String>) {
        let _ = self.names.send(names);
    }

    /// Assessments made since the last call: (name, assessment or `None`).
    pub fn results(&self) -> Vec<(String, Option<Assessment>)> {
        self.scores.try_iter().collect()
    }
}

struct Scored {
    at: Instant,
    fingerprint: Vec<(u64, Option<std::time::SystemTime>)>,
}

fn work(
    logs_dir: &Path,
    analysis: &Analysis,
    names_rx: &Receiver<Vec<String>>,
    scores: &Sender<(String, Option<Assessment>)>,
) {
    lower_priority();
    // The engine's analysis runs on rayon: give it one low-priority thread
    // of its own rather than the global pool.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .thread_name(|_| "health-scan".into())
        .start_handler(|_| lower_priority())
        .build()
        .ok();
    let mut names: Vec<String> = Vec::new();
    let mut done: HashMap<String, Scored> = HashMap::new();
    loop {
        match names_rx.recv_timeout(Duration::from_secs(1)) {
            Ok(latest) => names = latest,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if let Some(latest) = names_rx.try_iter().last() {
            names = latest;
        }
        done.retain(|name, _| names.contains(name));
        for name in &names {
            let print = fingerprint(logs_dir, name);
            let due = match done.get(name) {
                None => true,
                Some(s) => {
                    let age = s.at.elapsed();
                    age >= MAX_PERIOD || (age >= MIN_PERIOD && s.fingerprint != print)
                }
            };
            if !due {
                continue;
            }
            let now = crate::timestamp::now_ms();
            let assessment = match &pool {
                Some(pool) => pool.install(|| assess(logs_dir, name, now, analysis)),
                None => assess(logs_dir, name, now, analysis),
            };
            done.insert(
                name.clone(),
                Scored {
                    at: Instant::now(),
                    fingerprint: print,
                },
            );
            if scores.send((name.clone(), assessment)).is_err() {
                return;
            }
        }
    }
}

/// Scoring yields to everything else on the machine.
fn lower_priority() {
    // SAFETY: setpriority on this thread's own id; no memory is passed.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis() -> Analysis {
        Analysis {
            classifier: Classifier::new(Vec::new(), true),
            pipeline: PipelineConfig::default(),
            zone: Zone::utc(),
        }
    }

    fn record(ts: i64, lvl: &str, msg: &str, src: &str, event: Option<&str>) -> String {
        let event = event.map_or_else(String::new, |e| format!(r#","event":"{e}""#));
        format!(r#"{{"ts":{ts},"lvl":"{lvl}","pid":1,"msg":"{msg}","src":"{src}"{event}}}"#) + "\n"
    }

    #[test]
    fn scores_the_last_hour_only() {
        let dir = tempfile::tempdir().unwrap();
        let now = crate::timestamp::now_ms();
        let mut text = String::new();
        // Two hours ago: all errors, outside the window.
        for i in 0..50 {
            text += &record(now - 2 * WINDOW_MS + i, "error", "boom", "stderr", None);
        }
        // In the window: 99 fine, 1 error (1 % → −5), one crash restart
        // (−3) and one requested restart (not counted).
        for i in 0..99 {
            text += &record(now - 1000 + i, "info", &format!("tick {i}"), "stdout", None);
        }
        text += &record(now - 500, "error", "boom", "stderr", None);
        text += &record(
            now - 400,
            "warn",
            "restarting in 100 ms",
            "velos",
            Some("restart"),
        );
        text += &record(
            now - 300,
            "info",
            "restarting (requested)",
            "velos",
            Some("restart"),
        );
        std::fs::write(dir.path().join("web.log"), text).unwrap();
        let health = score(dir.path(), "web", now, &analysis()).unwrap();
        assert_eq!(health.restarts, 1);
        assert!(
            (health.error_percent - 100.0 / 102.0).abs() < 1e-9,
            "{health:?}"
        );
        assert_eq!(health.score, 92);
        assert!(score(dir.path(), "other", now, &analysis()).is_none());
        // The summary is the one `velos logs web --since 1h --summary` prints.
        let summary = assess(dir.path(), "web", now, &analysis()).unwrap().summary;
        assert!(summary.contains("tick <NUM>"), "{summary}");
        assert!(summary.contains("92"), "{summary}");
        assert!(summary.contains("velos logs web --since 1h"), "{summary}");
    }

    #[test]
    fn rotated_and_raw_files_count_and_old_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let now = crate::timestamp::now_ms();
        std::fs::write(
            dir.path().join("api.log.1"),
            record(now - 2000, "fatal", "down", "stderr", None),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("api.log"),
            record(now - 1000, "info", "up", "stdout", None),
        )
        .unwrap();
        let health = score(dir.path(), "api", now, &analysis()).unwrap();
        assert_eq!(health.error_percent, 50.0);
        assert_eq!(health.score, 0);
        // Raw output with its own timestamps.
        std::fs::write(
            dir.path().join("raw-out.log"),
            "2020-01-01T00:00:00Z ERROR long ago\n",
        )
        .unwrap();
        assert!(score(dir.path(), "raw", now, &analysis()).is_none());
        // Raw stdout and stderr, merged by time: 1 error of 4 records.
        let at = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap().to_string();
        std::fs::write(
            dir.path().join("raw-out.log"),
            format!(
                "{} started\n{} ready\n{} serving\n",
                at(now - 3000),
                at(now - 2000),
                at(now - 1000)
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("raw-err.log"),
            format!("{} ERROR disk full\n", at(now - 1500)),
        )
        .unwrap();
        let health = score(dir.path(), "raw", now, &analysis()).unwrap();
        assert_eq!(health.error_percent, 25.0);
    }

    #[test]
    fn compressed_rotations_count() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let now = crate::timestamp::now_ms();
        // The rotated copy compressed by the supervisor: one fatal record.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(record(now - 2000, "fatal", "down", "stderr", None).as_bytes())
            .unwrap();
        std::fs::write(dir.path().join("api.log.1.gz"), gz.finish().unwrap()).unwrap();
        std::fs::write(
            dir.path().join("api.log"),
            record(now - 1000, "info", "up", "stdout", None),
        )
        .unwrap();
        let health = score(dir.path(), "api", now, &analysis()).unwrap();
        assert_eq!(health.error_percent, 50.0, "{health:?}");
        let summary = assess(dir.path(), "api", now, &analysis()).unwrap().summary;
        assert!(summary.contains("down"), "{summary}");
    }
}

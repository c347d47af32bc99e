//! Health scores for the process table: the summary engine's
//! [`Report::health`](crate::analyze::report::Report::health) over each
//! process's logs of the last hour, computed on a background thread.
//!
//! [`score`] reads `<name>.log`, `<name>-out.log`, `<name>-err.log` and
//! their rotations, keeps the records of the window, and folds them
//! through a [`Pipeline`]. Records without a time cannot be placed in the
//! window and are left out; files last written before the window are not
//! opened. A restart counts when the supervisor recorded it after a crash
//! (an `event:"restart"` record from `velos` at warn level; restarts people
//! ask for are info).
//!
//! [`HealthWorker`] runs it off the draw path, at most every
//! [`MIN_PERIOD`] per process, and only when the logs changed or
//! [`MAX_PERIOD`] passed (the window moves even when nothing is written).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use crate::analyze::report::Health;
use crate::analyze::{Observed, Pipeline, PipelineConfig};
use crate::classify::Classifier;
use crate::engine::open_with_context;
use crate::frame::{self, Layout, json::Scalar};
use crate::level::Level;
use crate::normalize::Normalizer;
use crate::source::rotated_set;
use crate::timestamp::Zone;

/// The window scored.
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

/// The log files of process `name`, one list per stream, oldest first.
fn streams(logs_dir: &Path, name: &str) -> Vec<Vec<PathBuf>> {
    [
        format!("{name}.log"),
        format!("{name}-out.log"),
        format!("{name}-err.log"),
    ]
    .iter()
    .map(|base| rotated_set(logs_dir, base))
    .filter(|files| !files.is_empty())
    .collect()
}

/// Size and modification time of the current files: changes when
/// anything is written, rotated or flushed.
fn fingerprint(logs_dir: &Path, name: &str) -> Vec<(u64, Option<std::time::SystemTime>)> {
    ["", "-out", "-err"]
        .iter()
        .map(|suffix| {
            std::fs::metadata(logs_dir.join(format!("{name}{suffix}.log")))
                .map(|m| (m.len(), m.modified().ok()))
                .unwrap_or((0, None))
        })
        .collect()
}

fn is_crash_restart(rec: &frame::Record<'_>, level: Level) -> bool {
    let Some(json) = &rec.json else {
        return false;
    };
    let is = |value: Option<Scalar<'_>>, want: &[u8]| matches!(value, Some(Scalar::Str { raw, .. }) if raw == want);
    level >= Level::Warn && is(json.event, b"restart") && is(json.src, b"velos")
}

/// The health of process `name` over `[now_ms - WINDOW_MS, now_ms]`, from
/// its logs under `logs_dir`; `None` when no record falls in the window.
pub fn score(logs_dir: &Path, name: &str, now_ms: i64, analysis: &Analysis) -> Option<Health> {
    let since = now_ms - WINDOW_MS;
    let mut total: Option<Pipeline> = None;
    let mut order = 0u64;
    let mut normalizer = Normalizer::new();
    let mut msg_buf = Vec::new();
    for files in streams(logs_dir, name) {
        let mut pipeline = Pipeline::new(&analysis.pipeline);
        for path in files {
            let Ok((file, ctx)) = open_with_context(&path, &analysis.zone) else {
                continue;
            };
            if file.modified_ms.is_some_and(|m| m < since) {
                continue;
            }
            let data = file.data.bytes();
            let layout = Layout::sniff(data, &ctx);
            let mut last_ts = None;
            for (start, end) in frame::spans(&layout, data, 0, data.len()) {
                order += 1;
                let rec = layout.read(data, start, end, &ctx);
                let ts = rec.ts.or(last_ts);
                last_ts = ts;
                if ts.is_none_or(|ts| ts < since) {
                    continue;
                }
                let level = analysis.classifier.classify(rec.explicit, rec.text);
                let message = layout.first_message_line(&rec, &mut msg_buf);
                let (template, template_text) = normalizer.template(message);
                pipeline.observe(&Observed {
                    order,
                    ts,
                    level,
                    template,
                    template_text,
                    message,
                    text: rec.text,
                    lines: rec.line_count() as u32,
                    restart: is_crash_restart(&rec, level),
                });
            }
        }
        match &mut total {
            Some(total) => total.merge(pipeline),
            None => total = Some(pipeline),
        }
    }
    let report = total?.finish(&analysis.pipeline);
    (report.counts.records > 0).then(|| report.health())
}

/// Scores processes on a background thread.
pub struct HealthWorker {
    names: Sender<Vec<String>>,
    scores: Receiver<(String, Option<u8>)>,
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

    /// Scores computed since the last call: (name, score or `None`).
    pub fn results(&self) -> Vec<(String, Option<u8>)> {
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
    scores: &Sender<(String, Option<u8>)>,
) {
    lower_priority();
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
            let health = score(logs_dir, name, crate::timestamp::now_ms(), analysis);
            done.insert(
                name.clone(),
                Scored {
                    at: Instant::now(),
                    fingerprint: print,
                },
            );
            if scores
                .send((name.clone(), health.map(|h| h.score)))
                .is_err()
            {
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
    }
}

//! [`Tail`]: a follower of one log source for programs (the TUI's log
//! pane), handing out plain [`Line`]s: the last records first, then each
//! new record as it is written. The backlog from rotated copies (compressed
//! ones included) is read by the engine's tail entry point into a
//! [`RecordSink`] of lines.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::file::{Event, Follower, Snapshot};
use super::pending::Batch;
use crate::classify::Classifier;
use crate::engine::{self, Engine, EngineError, Input, RecordSink, Visit, Visitor};
use crate::frame::Record;
use crate::frame::json::Scalar;
use crate::frame::{self, Layout};
use crate::level::Level;
use crate::schema::Src;
use crate::timestamp::{TimeContext, Zone};

/// One record, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Its time, Unix ms, when it has one.
    pub ts: Option<i64>,
    /// Its level.
    pub level: Level,
    /// Where it came from: the `src` field of a JSON record (`stdout`,
    /// `stderr`, `velos`), the stream of a raw-mode file; `None` for plain
    /// files.
    pub src: Option<String>,
    /// The message of a JSON record, or the whole text of a plain one;
    /// continuation lines included, without the final line end.
    pub text: String,
}

struct Stream {
    follower: Follower,
    /// Rotated copies (`<file>.1`…) join the backlog when the file alone
    /// holds too few records.
    rotated: bool,
    src: Option<&'static str>,
}

/// Follows one source incrementally. [`Tail::poll`] never blocks.
pub struct Tail {
    streams: Vec<Stream>,
    backlog: usize,
    started: bool,
    zone: Zone,
    classifier: Classifier,
}

impl Tail {
    /// Follows a managed process: its JSON log `<name>.log` and the
    /// raw-mode `<name>-out.log` / `<name>-err.log` in `logs_dir`, merged
    /// as records arrive. Files that do not exist yet are waited for.
    pub fn process(logs_dir: &Path, name: &str, backlog: usize) -> Tail {
        let srcs = [None, Some(Src::Stdout.as_str()), Some(Src::Stderr.as_str())];
        let streams = crate::home::process_log_files(logs_dir, name)
            .into_iter()
            .zip(srcs)
            .map(|(file, src)| (file, true, src))
            .collect();
        Tail::new(streams, backlog)
    }

    /// Follows one file (waited for when it does not exist yet).
    pub fn file(path: &Path, backlog: usize) -> Tail {
        Tail::new(vec![(path.to_path_buf(), false, None)], backlog)
    }

    fn new(paths: Vec<(PathBuf, bool, Option<&'static str>)>, backlog: usize) -> Tail {
        let zone = Zone::local();
        Tail {
            streams: paths
                .into_iter()
                .map(|(path, rotated, src)| Stream {
                    follower: Follower::new(&path, zone.clone()),
                    rotated,
                    src,
                })
                .collect(),
            backlog,
            started: false,
            zone,
            classifier: Classifier::default(),
        }
    }

    /// Uses `classifier` (custom level rules) instead of the default rules.
    pub fn with_classifier(mut self, classifier: Classifier) -> Tail {
        self.classifier = classifier;
        self
    }

    /// The followed paths (to watch them for changes, say).
    pub fn paths(&self) -> Vec<&Path> {
        self.streams.iter().map(|s| s.follower.path()).collect()
    }

    /// The records written since the last call. The first call returns the
    /// last `backlog` records (by time across the streams of a process),
    /// then what is new.
    pub fn poll(&mut self) -> Vec<Line> {
        let mut lines = Vec::new();
        if !self.started {
            self.started = true;
            lines = self.start();
        }
        let now = Instant::now();
        let classifier = &self.classifier;
        for stream in &mut self.streams {
            let src = stream.src;
            // An unreadable file is tried again at the next poll.
            let _ = stream.follower.poll(now, &mut |event| {
                if let Event::Records(batch) = event {
                    push_batch(&batch, classifier, src, &mut lines);
                }
            });
        }
        lines
    }

    /// Starts every stream at its end and collects the backlog.
    fn start(&mut self) -> Vec<Line> {
        let mut merged: Vec<(i64, usize, Line)> = Vec::new();
        for (index, stream) in self.streams.iter_mut().enumerate() {
            let Ok((follower, snapshot)) =
                Follower::at_end(stream.follower.path(), &self.zone, false)
            else {
                continue;
            };
            stream.follower = follower;
            let mut lines = Vec::new();
            if let Some(snapshot) = &snapshot {
                last_lines(
                    snapshot,
                    &self.classifier,
                    stream.src,
                    self.backlog,
                    &mut lines,
                );
            }
            if stream.rotated && lines.len() < self.backlog {
                let current = snapshot.as_ref().map(|s| s.id);
                let older = engine::rotated_copies(stream.follower.path(), current, &self.zone);
                let engine = Engine::builder()
                    .classifier(self.classifier.clone())
                    .zone(self.zone.clone())
                    .build();
                let mut pane = Pane {
                    src: stream.src,
                    lines: Vec::new(),
                };
                let want = self.backlog - lines.len();
                if engine
                    .tail(Input::lanes(vec![older]), want, &mut pane)
                    .is_ok()
                {
                    pane.lines.append(&mut lines);
                    lines = pane.lines;
                }
            }
            // Records without a time sort with the record before them.
            let mut last = i64::MIN;
            for line in lines {
                last = line.ts.unwrap_or(last);
                merged.push((last, index, line));
            }
        }
        merged.sort_by_key(|(ts, index, _)| (*ts, *index));
        let skip = merged.len().saturating_sub(self.backlog);
        merged
            .into_iter()
            .skip(skip)
            .map(|(_, _, line)| line)
            .collect()
    }
}

fn last_lines(
    snapshot: &Snapshot,
    classifier: &Classifier,
    src: Option<&str>,
    want: usize,
    out: &mut Vec<Line>,
) {
    if snapshot.file.data.truncated() {
        return;
    }
    let data = snapshot.file.data.bytes();
    collect_last(
        data,
        &snapshot.layout,
        &snapshot.ctx,
        classifier,
        src,
        want,
        out,
    );
}

/// Appends the last `want` records of `data`, in order.
fn collect_last(
    data: &[u8],
    layout: &Layout,
    ctx: &TimeContext,
    classifier: &Classifier,
    src: Option<&str>,
    want: usize,
    out: &mut Vec<Line>,
) {
    let mut spans = Vec::new();
    let mut end = data.len();
    while end > 0 && spans.len() < want {
        let start = layout.record_start(data, end - 1, 0);
        spans.push((start, end));
        end = start;
    }
    for &(start, end) in spans.iter().rev() {
        out.push(line_of(data, start, end, layout, ctx, classifier, src));
    }
}

fn push_batch(batch: &Batch<'_>, classifier: &Classifier, src: Option<&str>, out: &mut Vec<Line>) {
    for (start, end) in frame::spans(batch.layout, batch.data, 0, batch.data.len()) {
        out.push(line_of(
            batch.data,
            start,
            end,
            batch.layout,
            batch.ctx,
            classifier,
            src,
        ));
    }
}

fn line_of(
    data: &[u8],
    start: usize,
    end: usize,
    layout: &Layout,
    ctx: &TimeContext,
    classifier: &Classifier,
    src: Option<&str>,
) -> Line {
    let rec = layout.read(data, start, end, ctx);
    let level = classifier.classify(rec.explicit, rec.text);
    line_from(&rec, level, src)
}

/// The line shown for a record of `level`.
fn line_from(rec: &Record<'_>, level: Level, src: Option<&str>) -> Line {
    let mut buf = Vec::new();
    let (text, src) = match &rec.json {
        Some(json) => {
            let text = match json.msg.as_ref().and_then(|m| m.text(&mut buf)) {
                Some(msg) => String::from_utf8_lossy(msg).into_owned(),
                None => String::from_utf8_lossy(rec.text).into_owned(),
            };
            let from = match json.src {
                Some(s @ Scalar::Str { .. }) => {
                    let mut b = Vec::new();
                    s.text(&mut b)
                        .map(|t| String::from_utf8_lossy(t).into_owned())
                }
                _ => None,
            };
            (text, from.or_else(|| src.map(str::to_string)))
        }
        None => (
            String::from_utf8_lossy(rec.text).into_owned(),
            src.map(str::to_string),
        ),
    };
    Line {
        ts: rec.ts,
        level,
        src,
        text,
    }
}

/// The pane's lines as a sink: each kept record becomes a [`Line`].
struct Pane {
    /// The stream's name, for records that do not say it.
    src: Option<&'static str>,
    lines: Vec<Line>,
}

impl Visitor for Pane {
    fn needs_level(&self) -> bool {
        true
    }

    fn kept(&mut self, v: &Visit<'_, '_>) {
        self.lines.push(line_from(v.record, v.level, self.src));
    }
}

impl engine::Batch for Pane {
    fn len(&self) -> usize {
        self.lines.len()
    }

    fn keep_last(&mut self, n: usize) {
        let drop = self.lines.len().saturating_sub(n);
        self.lines.drain(..drop);
    }
}

impl RecordSink for Pane {
    type Batch = Pane;

    fn batch(&self) -> Pane {
        Pane {
            src: self.src,
            lines: Vec::new(),
        }
    }

    fn take(&mut self, batch: &mut Pane) -> Result<(), EngineError> {
        self.lines.append(&mut batch.lines);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backlog_reads_compressed_rotations() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let line = |ts: i64, msg: &str| {
            format!(r#"{{"ts":{ts},"lvl":"info","pid":1,"msg":"{msg}","src":"stdout"}}"#) + "\n"
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all((line(1_000, "oldest") + &line(2_000, "older")).as_bytes())
            .unwrap();
        std::fs::write(dir.path().join("api.log.2.gz"), gz.finish().unwrap()).unwrap();
        std::fs::write(dir.path().join("api.log.1"), line(3_000, "rotated")).unwrap();
        std::fs::write(dir.path().join("api.log"), line(4_000, "current")).unwrap();
        let texts = |lines: Vec<Line>| lines.into_iter().map(|l| l.text).collect::<Vec<_>>();
        let mut tail = Tail::process(dir.path(), "api", 10);
        assert_eq!(
            texts(tail.poll()),
            ["oldest", "older", "rotated", "current"]
        );
        // Only as many as asked for, the latest.
        let mut tail = Tail::process(dir.path(), "api", 3);
        assert_eq!(texts(tail.poll()), ["older", "rotated", "current"]);
    }
}

//! The per-chunk scanner: finds the records of one chunk that pass the
//! query and renders them.
//!
//! Three drivers pick the records to look at:
//! - `--grep` runs the regex over the raw bytes (its literal prefilter runs
//!   at memory speed) and looks only at the records that hold a match;
//! - a level filter without `--grep` uses the [`LevelPrefilter`] to jump to
//!   records that contain a level word;
//! - otherwise every record is read.
//!
//! Either way each candidate record is framed and checked in full, so the
//! drivers change the speed, never the answer.

use regex::bytes::Regex;

use crate::classify::{Classifier, HeaderStyle, LevelPrefilter};
use crate::frame::{self, Layout};
use crate::output::{Kept, Printer};
use crate::query::Query;
use crate::timestamp::TimeContext;

/// The kept records of one chunk, rendered.
#[derive(Debug, Default)]
pub struct ChunkOut {
    /// Rendered records, in file order.
    pub buf: Vec<u8>,
    /// End offset in `buf` of each record (for keeping the last N).
    pub ends: Vec<usize>,
}

impl ChunkOut {
    /// Number of kept records.
    pub fn kept(&self) -> usize {
        self.ends.len()
    }

    /// The rendered bytes of the last `n` records.
    pub fn last(&self, n: usize) -> &[u8] {
        let n = n.min(self.ends.len());
        if n == 0 {
            return &[];
        }
        let first = self.ends.len() - n;
        let start = if first == 0 { 0 } else { self.ends[first - 1] };
        &self.buf[start..]
    }
}

/// Everything needed to scan the chunks of one buffer.
pub struct Scanner<'a> {
    /// The buffer's layout.
    pub layout: Layout,
    /// Time zone and reference date.
    pub ctx: &'a TimeContext,
    /// Level rules.
    pub classifier: &'a Classifier,
    /// Filters.
    pub query: &'a Query,
    /// Renderer.
    pub printer: &'a Printer,
    /// File name for display.
    pub file: &'a str,
    /// Time of the last timestamped record before the buffer, for records
    /// at its start that have none (streamed input).
    pub time_floor: Option<i64>,
    prefilter: Option<LevelPrefilter>,
    need_level: bool,
}

enum Driver<'s> {
    Grep(&'s Regex),
    Level(&'s LevelPrefilter),
    Every,
}

impl<'a> Scanner<'a> {
    /// Prepares a scanner for a buffer with `layout`.
    pub fn new(
        layout: Layout,
        ctx: &'a TimeContext,
        classifier: &'a Classifier,
        query: &'a Query,
        printer: &'a Printer,
        file: &'a str,
    ) -> Scanner<'a> {
        // Letters and numbers name levels without a level word: no prefilter.
        let words_only = layout.header == HeaderStyle::Words && !layout.numeric_levels;
        let prefilter = match query.levels {
            Some(levels) if words_only => LevelPrefilter::new(levels, classifier),
            _ => None,
        };
        Scanner {
            layout,
            ctx,
            classifier,
            query,
            printer,
            file,
            time_floor: None,
            prefilter,
            need_level: query.levels.is_some() || printer.needs_level(),
        }
    }

    fn driver(&self) -> Driver<'_> {
        if let Some(re) = &self.query.grep {
            Driver::Grep(re)
        } else if let Some(pf) = &self.prefilter {
            Driver::Level(pf)
        } else {
            Driver::Every
        }
    }

    /// Scans `data[from..to]` (both record boundaries); `first_line` is the
    /// 1-based line number at `from` when line numbers are wanted.
    pub fn scan(
        &self,
        data: &[u8],
        from: usize,
        to: usize,
        first_line: Option<u64>,
        out: &mut ChunkOut,
    ) {
        let mut lines = LineCounter {
            pos: from,
            line: first_line,
        };
        match self.driver() {
            Driver::Every => {
                for (start, end) in frame::spans(&self.layout, data, from, to) {
                    let line = lines.at(data, start);
                    self.emit(data, start, end, line, false, out);
                }
            }
            Driver::Grep(re) => {
                let hay = &data[..to];
                let mut pos = from;
                while pos < to {
                    let Some(m) = re.find_at(hay, pos) else { break };
                    if m.start() >= to {
                        break;
                    }
                    let start = self.layout.record_start(data, m.start(), pos);
                    let end = self.layout.record_end(data, start, to);
                    let text_end = start + frame::trim_newline(&data[start..end]).len();
                    let line = lines.at(data, start);
                    self.emit(data, start, end, line, m.end() <= text_end, out);
                    pos = end.max(start + 1);
                }
            }
            Driver::Level(pf) => {
                let mut candidates = pf.scan(&data[..to]);
                let mut pos = from;
                while pos < to {
                    let Some(at) = candidates.next_candidate(pos) else {
                        break;
                    };
                    if at >= to {
                        break;
                    }
                    let start = self.layout.record_start(data, at, pos);
                    let end = self.layout.record_end(data, start, to);
                    let line = lines.at(data, start);
                    self.emit(data, start, end, line, false, out);
                    pos = end.max(start + 1);
                }
            }
        }
    }

    /// Checks the record `data[start..end]` against the query and renders
    /// it when it passes. `grep_confirmed` says the driver already saw the
    /// regex match inside the record.
    pub fn emit(
        &self,
        data: &[u8],
        start: usize,
        end: usize,
        line: Option<u64>,
        grep_confirmed: bool,
        out: &mut ChunkOut,
    ) -> bool {
        let rec = self.layout.read(data, start, end, self.ctx);
        if !grep_confirmed
            && let Some(re) = &self.query.grep
            && !re.is_match(rec.text)
        {
            return false;
        }
        if self.query.has_time() {
            let ts = rec
                .ts
                .or_else(|| self.layout.time_before(data, start, self.ctx))
                .or(self.time_floor);
            if !self.query.time_ok(ts) {
                return false;
            }
        }
        // Text output shows the level of JSON records.
        let level = if self.need_level || rec.json.is_some() {
            self.classifier.classify(rec.explicit, rec.text)
        } else {
            crate::level::Level::Info
        };
        if !self.query.level_ok(level) {
            return false;
        }
        self.printer.write(
            &Kept {
                record: &rec,
                level,
                file: self.file,
                line,
            },
            &mut out.buf,
        );
        out.ends.push(out.buf.len());
        true
    }
}

/// Tracks line numbers as a scan moves forward.
struct LineCounter {
    pos: usize,
    line: Option<u64>,
}

impl LineCounter {
    #[inline]
    fn at(&mut self, data: &[u8], pos: usize) -> Option<u64> {
        let line = self.line?;
        let line = line + bytecount::count(&data[self.pos..pos], b'\n') as u64;
        self.pos = pos;
        self.line = Some(line);
        Some(line)
    }
}

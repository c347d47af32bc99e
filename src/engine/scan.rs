//! The per-chunk scanner: finds the records of one chunk that pass the
//! query and hands them to a [`Visitor`] (a sink's batch, an analyzer).
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

use crate::analyze::patterns::{PatternId, Patterns};
use crate::classify::{Classifier, LevelPrefilter};
use crate::frame::{self, Layout, Record};
use crate::level::Level;
use crate::query::Query;
use crate::timestamp::TimeContext;

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
    /// File name for display.
    pub file: &'a str,
    /// Time of the last timestamped record before the buffer, for records
    /// at its start that have none (streamed input).
    pub(crate) time_floor: Option<i64>,
    /// Added to byte offsets to order records across files.
    order_base: u64,
    /// Patterns known in advance (`--pattern`, pattern ids in `--json`).
    patterns: Option<&'a PatternFilter>,
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
        file: &'a str,
    ) -> Scanner<'a> {
        // Letters and numbers name levels without a level word: no prefilter.
        let words_only = layout.levels_are_words();
        let prefilter = match query.levels {
            Some(levels) if words_only => LevelPrefilter::new(levels, classifier),
            _ => None,
        };
        Scanner {
            layout,
            ctx,
            classifier,
            query,
            file,
            time_floor: None,
            order_base: 0,
            patterns: None,
            prefilter,
            need_level: query.levels.is_some(),
        }
    }

    /// A scanner with the run's rules, filters and patterns; record
    /// positions start at `order_base`.
    pub(crate) fn for_run(
        run: &super::Run<'a>,
        layout: Layout,
        ctx: &'a TimeContext,
        file: &'a str,
        order_base: u64,
    ) -> Scanner<'a> {
        Scanner {
            patterns: run.patterns,
            order_base,
            ..Scanner::new(layout, ctx, run.classifier, run.query, file)
        }
    }

    /// The same scanner, with the time of the last timestamped record
    /// before its buffer (for records at its start that have none).
    pub fn with_time_floor(self, time_floor: Option<i64>) -> Scanner<'a> {
        Scanner { time_floor, ..self }
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

    /// Scans `data[from..to]`, handing every kept record to `visitor`.
    pub fn visit_range<V: Visitor>(
        &self,
        data: &[u8],
        from: usize,
        to: usize,
        first_line: Option<u64>,
        visitor: &mut V,
    ) {
        let mut lines = LineCounter {
            pos: from,
            line: first_line,
        };
        match self.driver() {
            Driver::Every => {
                let mut start = from;
                while start < to {
                    let (end, single_line) = self.layout.record_extent(data, start, to);
                    let line = lines.at(data, start);
                    let rec = self
                        .layout
                        .read_extent(data, start, end, single_line, self.ctx);
                    self.visit_record(data, &rec, line, false, visitor);
                    start = end;
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
                    self.visit(data, start, end, line, m.end() <= text_end, visitor);
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
                    self.visit(data, start, end, line, false, visitor);
                    pos = end.max(start + 1);
                }
            }
        }
    }

    /// Checks the record `data[start..end]` against the query and hands it
    /// to `visitor` when it passes. `grep_confirmed` says the driver already
    /// saw the regex match inside the record.
    pub fn visit<V: Visitor>(
        &self,
        data: &[u8],
        start: usize,
        end: usize,
        line: Option<u64>,
        grep_confirmed: bool,
        visitor: &mut V,
    ) -> bool {
        let rec = self.layout.read(data, start, end, self.ctx);
        self.visit_record(data, &rec, line, grep_confirmed, visitor)
    }

    /// [`Scanner::visit`] for a record already read from `data`.
    #[inline]
    fn visit_record<V: Visitor>(
        &self,
        data: &[u8],
        rec: &Record<'_>,
        line: Option<u64>,
        grep_confirmed: bool,
        visitor: &mut V,
    ) -> bool {
        let start = rec.offset;
        if self.layout.is_header(rec) {
            return false;
        }
        if !grep_confirmed
            && let Some(re) = &self.query.grep
            && !re.is_match(rec.text)
        {
            return false;
        }
        let needs_time = self.query.has_time() || visitor.needs_time();
        let ts = if needs_time {
            rec.ts
                .or_else(|| self.layout.time_before(data, start, self.ctx))
                .or(self.time_floor)
        } else {
            rec.ts
        };
        if !self.query.time_ok(ts) {
            return false;
        }
        // Structured records show their level even in plain text output.
        let level = if self.need_level || visitor.needs_level() || rec.json.is_some() {
            self.classifier.classify(rec.explicit, rec.text)
        } else {
            Level::Info
        };
        if !self.query.level_ok(level) {
            return false;
        }
        let template = (self.patterns.is_some() || visitor.needs_template())
            .then(|| template_of(&self.layout, rec));
        let pattern = match (&self.patterns, template) {
            (Some(p), Some(t)) => {
                let id = p.patterns.id_of(t).map_or(t, |id| id.0);
                if p.keep.as_ref().is_some_and(|keep| !keep.contains(&id)) {
                    return false;
                }
                Some(PatternId(id))
            }
            _ => None,
        };
        visitor.kept(&Visit {
            scanner: self,
            record: rec,
            level,
            ts,
            line,
            template,
            pattern,
            order: self.order_base + start as u64,
        });
        true
    }
}

/// Everything known about one kept record.
pub struct Visit<'v, 'a> {
    /// The scanner (layout, time context, file name).
    pub scanner: &'v Scanner<'v>,
    /// The record.
    pub record: &'v Record<'a>,
    /// Its level.
    pub level: Level,
    /// Its time, own or inherited (when time was needed).
    pub ts: Option<i64>,
    /// Its first line number, when wanted.
    pub line: Option<u64>,
    /// Its exact template id, when wanted.
    pub template: Option<u64>,
    /// Its pattern, when patterns are known.
    pub pattern: Option<PatternId>,
    /// Its position in the input (increasing across files).
    pub order: u64,
}

/// Receives the records a scan keeps.
pub trait Visitor {
    /// Whether each record's level is needed.
    fn needs_level(&self) -> bool {
        false
    }
    /// Whether each record's time is needed (own or inherited).
    fn needs_time(&self) -> bool {
        false
    }
    /// Whether each record's template id is needed.
    fn needs_template(&self) -> bool {
        false
    }
    /// Takes one kept record.
    fn kept(&mut self, visit: &Visit<'_, '_>);
}

thread_local! {
    static TEMPLATE_BUF: std::cell::RefCell<(Vec<u8>, Vec<u8>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// The exact template id of a record's message.
pub fn template_of(layout: &Layout, rec: &Record<'_>) -> u64 {
    TEMPLATE_BUF.with(|cell| {
        let mut bufs = cell.borrow_mut();
        let (msg_buf, out) = &mut *bufs;
        let msg = layout.first_message_line(rec, msg_buf);
        crate::normalize::normalize(msg, out)
    })
}

/// Patterns known before the scan: template → pattern, and the patterns
/// to keep (`--pattern`).
#[derive(Debug, Clone)]
pub struct PatternFilter {
    /// The grouping of templates.
    pub patterns: Patterns,
    /// Keep only records of these patterns.
    pub keep: Option<std::collections::HashSet<u64>>,
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

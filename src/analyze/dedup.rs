//! Deduplication: repeats of a pattern whose gap to the previous
//! occurrence is within the window collapse into one group; a repeat after
//! a longer gap starts a new group.
//!
//! Chunks keep, per exact template, its runs in input order (each run: first
//! and last time, count, first sample). Consecutive chunks join a template's
//! last run to its next run when the gap allows, so the result does not
//! depend on where chunks were cut. At the end the runs of the templates of
//! one pattern are coalesced: sorted by start, a run joins the group before
//! it when it starts within the window of that group's last occurrence —
//! the same groups as running the window over the pattern's occurrences
//! directly, since no run can straddle a gap longer than the window.
//! Without times, every repeat of a pattern joins its one group (file
//! order).

use std::collections::HashMap;

use super::idmap::IdMap;

use super::patterns::PatternId;
use super::stage::{Finish, LogProcessor, Observed};
use crate::level::Level;

/// Longest sample kept, in bytes.
const MAX_SAMPLE: usize = 4096;

/// A run of one template's repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    first_order: u64,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    count: u64,
    level: Level,
    sample: Box<[u8]>,
}

/// The dedup stage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dedup {
    window_ms: i64,
    runs: IdMap<u64, Vec<Run>>,
}

/// One collapsed group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The pattern.
    pub pattern: PatternId,
    /// Its template text.
    pub template: Vec<u8>,
    /// The first record's message.
    pub sample: Vec<u8>,
    /// The most severe level among the group's runs.
    pub level: Level,
    /// Records collapsed.
    pub count: u64,
    /// First occurrence time.
    pub first: Option<i64>,
    /// Last occurrence time.
    pub last: Option<i64>,
    /// Position of the first occurrence.
    pub first_order: u64,
}

impl Dedup {
    /// A dedup stage with a window in ms (> 0).
    pub fn new(window_ms: i64) -> Dedup {
        Dedup {
            window_ms,
            runs: IdMap::default(),
        }
    }

    fn joins(&self, last: Option<i64>, next: Option<i64>) -> bool {
        match (last, next) {
            (Some(a), Some(b)) => b - a <= self.window_ms,
            // Without times the window cannot apply: repeats join.
            _ => true,
        }
    }
}

fn latest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

impl LogProcessor for Dedup {
    type Part = Vec<Group>;

    #[inline]
    fn observe(&mut self, rec: &Observed<'_>) {
        let window = self.window_ms;
        let runs = self.runs.entry(rec.template).or_default();
        if let Some(run) = runs.last_mut() {
            let joins = match (run.last_ts, rec.ts) {
                (Some(a), Some(b)) => b - a <= window,
                _ => true,
            };
            if joins {
                run.count += 1;
                run.last_ts = latest(run.last_ts, rec.ts);
                run.level = run.level.max(rec.level);
                return;
            }
        }
        runs.push(Run {
            first_order: rec.order,
            first_ts: rec.ts,
            last_ts: rec.ts,
            count: 1,
            level: rec.level,
            sample: rec.message[..rec.message.len().min(MAX_SAMPLE)].into(),
        });
    }

    fn merge(&mut self, next: Dedup) {
        for (template, next_runs) in next.runs {
            let joins_first = self
                .runs
                .get(&template)
                .and_then(|runs| runs.last())
                .zip(next_runs.first())
                .is_some_and(|(last, first)| self.joins(last.last_ts, first.first_ts));
            let mine = self.runs.entry(template).or_default();
            let mut rest = next_runs.into_iter();
            if joins_first && let (Some(last), Some(first)) = (mine.last_mut(), rest.next()) {
                last.count += first.count;
                last.last_ts = latest(last.last_ts, first.last_ts);
                last.level = last.level.max(first.level);
            }
            mine.extend(rest);
        }
    }

    fn finish(self, ctx: &Finish<'_>) -> Vec<Group> {
        let window = self.window_ms;
        let mut by_pattern: HashMap<PatternId, (Vec<u8>, Vec<Run>)> = HashMap::new();
        for (template, runs) in self.runs {
            let (id, text) = match ctx.patterns.pattern_of(template) {
                Some(p) => (p.id, p.text.clone()),
                None => (PatternId(template), Vec::new()),
            };
            by_pattern
                .entry(id)
                .or_insert_with(|| (text, Vec::new()))
                .1
                .extend(runs);
        }
        let mut groups = Vec::new();
        for (pattern, (template, mut runs)) in by_pattern {
            // Runs with times by start time; runs without keep input order.
            runs.sort_by_key(|r| (r.first_ts.unwrap_or(i64::MIN), r.first_order));
            let mut current: Option<Group> = None;
            for run in runs {
                if let Some(g) = current.as_mut() {
                    let joins = match (g.last, run.first_ts) {
                        (Some(a), Some(b)) => b - a <= window,
                        _ => true,
                    };
                    if joins {
                        g.count += run.count;
                        g.last = latest(g.last, run.last_ts);
                        g.level = g.level.max(run.level);
                        if run.first_order < g.first_order {
                            g.first_order = run.first_order;
                            g.sample = run.sample.to_vec();
                        }
                        continue;
                    }
                    groups.push(current.take().expect("group in progress"));
                }
                current = Some(Group {
                    pattern,
                    template: template.clone(),
                    sample: run.sample.to_vec(),
                    level: run.level,
                    count: run.count,
                    first: run.first_ts,
                    last: run.last_ts,
                    first_order: run.first_order,
                });
            }
            groups.extend(current);
        }
        // Time order of first occurrence; input order breaks ties.
        groups.sort_by_key(|g| (g.first.unwrap_or(i64::MIN), g.first_order));
        groups
    }
}

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
/// A run without a time.
const NO_TIME: i64 = i64::MIN;

/// A run of one template's repeats (kept small: there can be many).
///
/// Whether the next occurrence joins the run depends only on its time and
/// the time of the occurrence just before it in input order (`last_seen`),
/// never on earlier ones — so runs split the same way however the input
/// was cut into chunks, even when times go backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    first_order: u64,
    /// Time of the first occurrence (input order).
    first_seen: i64,
    /// Time of the last occurrence (input order).
    last_seen: i64,
    /// Earliest and latest time of the run's occurrences.
    earliest: i64,
    latest: i64,
    count: u32,
    level: Level,
}

/// The earlier of two times, either of which may be missing.
fn earlier(a: i64, b: i64) -> i64 {
    match (a == NO_TIME, b == NO_TIME) {
        (true, _) => b,
        (_, true) => a,
        _ => a.min(b),
    }
}

fn time(ts: i64) -> Option<i64> {
    (ts != NO_TIME).then_some(ts)
}

/// The dedup stage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dedup {
    window_ms: i64,
    runs: IdMap<u64, Vec<Run>>,
    /// First messages of runs, by position, when samples are kept here
    /// (streams); for files they are read again at the end.
    samples: Option<IdMap<u64, Box<[u8]>>>,
}

/// One collapsed group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The pattern.
    pub pattern: PatternId,
    /// Its template text.
    pub template: Vec<u8>,
    /// The first record's message (empty until resolved when samples were
    /// not kept; see [`Dedup::new`]).
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
    /// A dedup stage with a window in ms (> 0). With `keep_samples`, the
    /// first message of every run is kept; without, groups come back with
    /// an empty sample and their first record's position, for the caller
    /// to read again from its (mapped) file — which keeps memory to a few
    /// words per run.
    pub fn new(window_ms: i64, keep_samples: bool) -> Dedup {
        Dedup {
            window_ms,
            runs: IdMap::default(),
            samples: keep_samples.then(IdMap::default),
        }
    }

    /// Whether an occurrence at `next` joins the run whose previous
    /// occurrence was at `last`. Without times the window cannot apply:
    /// repeats join; a time going backwards is no gap.
    #[inline]
    fn joins(&self, last: i64, next: i64) -> bool {
        last == NO_TIME || next == NO_TIME || next - last <= self.window_ms
    }
}

impl LogProcessor for Dedup {
    type Part = Vec<Group>;

    #[inline]
    fn observe(&mut self, rec: &Observed<'_>) {
        let ts = rec.ts.unwrap_or(NO_TIME);
        let window = self.window_ms;
        let runs = self.runs.entry(rec.template).or_default();
        if let Some(run) = runs.last_mut()
            && (run.last_seen == NO_TIME || ts == NO_TIME || ts - run.last_seen <= window)
        {
            run.count += 1;
            if ts != NO_TIME {
                run.last_seen = ts;
                run.earliest = earlier(run.earliest, ts);
                run.latest = run.latest.max(ts);
            }
            run.level = run.level.max(rec.level);
            return;
        }
        runs.push(Run {
            first_order: rec.order,
            first_seen: ts,
            last_seen: ts,
            earliest: ts,
            latest: ts,
            count: 1,
            level: rec.level,
        });
        if let Some(samples) = &mut self.samples {
            samples.insert(
                rec.order,
                rec.message[..rec.message.len().min(MAX_SAMPLE)].into(),
            );
        }
    }

    fn merge(&mut self, next: Dedup) {
        if let (Some(mine), Some(theirs)) = (&mut self.samples, next.samples) {
            mine.extend(theirs);
        }
        for (template, next_runs) in next.runs {
            let joins_first = self
                .runs
                .get(&template)
                .and_then(|runs| runs.last())
                .zip(next_runs.first())
                .is_some_and(|(last, first)| self.joins(last.last_seen, first.first_seen));
            let mine = self.runs.entry(template).or_default();
            let mut rest = next_runs.into_iter();
            if joins_first && let (Some(last), Some(first)) = (mine.last_mut(), rest.next()) {
                last.count += first.count;
                if first.last_seen != NO_TIME {
                    last.last_seen = first.last_seen;
                }
                last.earliest = earlier(last.earliest, first.earliest);
                last.latest = last.latest.max(first.latest);
                last.level = last.level.max(first.level);
                if let Some(samples) = &mut self.samples {
                    samples.remove(&first.first_order);
                }
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
        let sample_of = |order: u64| {
            self.samples
                .as_ref()
                .and_then(|s| s.get(&order))
                .map(|b| b.to_vec())
                .unwrap_or_default()
        };
        let mut groups = Vec::new();
        for (pattern, (template, mut runs)) in by_pattern {
            // Runs with times by start time; runs without keep input order.
            runs.sort_by_key(|r| (r.earliest, r.first_order));
            let mut current: Option<Group> = None;
            for run in runs {
                if let Some(g) = current.as_mut() {
                    let last = g.last.unwrap_or(NO_TIME);
                    if last == NO_TIME || run.earliest == NO_TIME || run.earliest - last <= window {
                        g.count += u64::from(run.count);
                        g.last = time(last.max(run.latest));
                        g.level = g.level.max(run.level);
                        g.first_order = g.first_order.min(run.first_order);
                        continue;
                    }
                    groups.push(current.take().expect("group in progress"));
                }
                current = Some(Group {
                    pattern,
                    template: template.clone(),
                    sample: Vec::new(),
                    level: run.level,
                    count: u64::from(run.count),
                    first: time(run.earliest),
                    last: time(run.latest),
                    first_order: run.first_order,
                });
            }
            groups.extend(current);
        }
        for g in &mut groups {
            g.sample = sample_of(g.first_order);
        }
        // Time order of first occurrence; input order breaks ties.
        groups.sort_by_key(|g| (g.first.unwrap_or(i64::MIN), g.first_order));
        groups
    }
}

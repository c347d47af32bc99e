//! A template's counts over time: the per-minute series the pattern
//! stage keeps for each exact template, read by [`super::trends`] when
//! the report is finished.

use crate::level::Level;

/// One template's counts over time: per minute (sorted), records without a
/// time, records per level. It lives in the template's entry of the pattern
/// stage ([`TemplateCounts`](super::patterns::TemplateCounts)), so a record costs one lookup for both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Series {
    /// Records per minute, sorted by minute.
    pub(super) minutes: Vec<(i64, u64)>,
    /// Records without a time.
    pub(super) untimed: u64,
    /// Records per level.
    pub(super) levels: [u64; 5],
}

impl Series {
    /// Counts one record of `minute` (none: without a time) at `level`.
    #[inline]
    pub fn observe(&mut self, minute: Option<i64>, level: Level) {
        let s = self;
        s.levels[level as usize] += 1;
        let Some(minute) = minute else {
            s.untimed += 1;
            return;
        };
        match s.minutes.last_mut() {
            Some((m, n)) if *m == minute => *n += 1,
            Some((m, _)) if *m < minute => s.minutes.push((minute, 1)),
            None => s.minutes.push((minute, 1)),
            // Out of order: keep the list sorted.
            Some(_) => match s.minutes.binary_search_by_key(&minute, |e| e.0) {
                Ok(i) => s.minutes[i].1 += 1,
                Err(i) => s.minutes.insert(i, (minute, 1)),
            },
        }
    }

    /// Adds another chunk's counts of the same template (any order).
    pub fn merge(&mut self, theirs: Series) {
        let mine = self;
        mine.untimed += theirs.untimed;
        for (a, b) in mine.levels.iter_mut().zip(theirs.levels) {
            *a += b;
        }
        // Chunks mostly follow each other in time: append in place.
        match (
            mine.minutes.last().copied(),
            theirs.minutes.first().copied(),
        ) {
            (Some(last), Some(first)) if last.0 < first.0 => mine.minutes.extend(theirs.minutes),
            (Some(last), Some(first)) if last.0 == first.0 => {
                if let Some(end) = mine.minutes.last_mut() {
                    end.1 += first.1;
                }
                mine.minutes.extend_from_slice(&theirs.minutes[1..]);
            }
            (None, _) => mine.minutes = theirs.minutes,
            (_, None) => {}
            _ => mine.minutes = merge_sorted(std::mem::take(&mut mine.minutes), theirs.minutes),
        }
    }
}

fn merge_sorted(a: Vec<(i64, u64)>, b: Vec<(i64, u64)>) -> Vec<(i64, u64)> {
    if a.is_empty() {
        return b;
    }
    if b.is_empty() {
        return a;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.0 == y.0 => {
                out.push((x.0, x.1 + y.1));
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x.0 < y.0 => {
                out.push(*x);
                i += 1;
            }
            (Some(_), Some(y)) => {
                out.push(*y);
                j += 1;
            }
            (Some(x), None) => {
                out.push(*x);
                i += 1;
            }
            (None, Some(y)) => {
                out.push(*y);
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

//! Totals: records and lines, counts by level, the period covered, the last
//! error and the supervisor's restarts.

use super::stage::{Finish, LogProcessor, Observed};
use crate::level::Level;

/// Longest last-error text kept, in bytes.
const MAX_ERROR_TEXT: usize = 64 * 1024;

/// An error record kept as a sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorSample {
    /// Its position in the input.
    pub order: u64,
    /// Its time.
    pub ts: Option<i64>,
    /// Its level (error or fatal).
    pub level: Level,
    /// Its full text (cut at 64 KiB).
    pub text: Vec<u8>,
}

/// The totals stage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Records seen.
    pub records: u64,
    /// Lines in them.
    pub lines: u64,
    /// Records per level, least severe first.
    pub by_level: [u64; 5],
    /// Earliest record time.
    pub first_ts: Option<i64>,
    /// Latest record time.
    pub last_ts: Option<i64>,
    /// Restarts after a crash recorded by the supervisor.
    pub restarts: u64,
    /// The last error or fatal record in input order.
    pub last_error: Option<ErrorSample>,
}

impl Counts {
    /// Error and fatal records.
    pub fn errors(&self) -> u64 {
        self.by_level[Level::Error as usize] + self.by_level[Level::Fatal as usize]
    }
}

impl LogProcessor for Counts {
    type Part = Counts;

    #[inline]
    fn observe(&mut self, rec: &Observed<'_>) {
        self.records += 1;
        self.lines += u64::from(rec.lines);
        self.by_level[rec.level as usize] += 1;
        if let Some(ts) = rec.ts {
            self.first_ts = Some(self.first_ts.map_or(ts, |f| f.min(ts)));
            self.last_ts = Some(self.last_ts.map_or(ts, |l| l.max(ts)));
        }
        self.restarts += u64::from(rec.restart);
        if rec.level >= Level::Error {
            self.last_error = Some(ErrorSample {
                order: rec.order,
                ts: rec.ts,
                level: rec.level,
                text: rec.text[..rec.text.len().min(MAX_ERROR_TEXT)].to_vec(),
            });
        }
    }

    fn merge(&mut self, next: Counts) {
        self.records += next.records;
        self.lines += next.lines;
        for (a, b) in self.by_level.iter_mut().zip(next.by_level) {
            *a += b;
        }
        self.first_ts = match (self.first_ts, next.first_ts) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_ts = match (self.last_ts, next.last_ts) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.restarts += next.restarts;
        if next.last_error.is_some() {
            self.last_error = next.last_error;
        }
    }

    fn finish(self, _ctx: &Finish<'_>) -> Counts {
        self
    }
}

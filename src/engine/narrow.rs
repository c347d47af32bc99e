//! Time-range narrowing: on a file whose times increase, find by binary
//! search the byte range that can hold records inside `--since`/`--until`,
//! so the scan skips the rest.
//!
//! Logs are not strictly sorted (threads interleave, clocks step), so the
//! search keeps a slack of [`SLACK_MS`] on both sides and records inside
//! the range are still checked one by one. Before trusting the search, the
//! file is probed at evenly spaced points: if any probe is earlier than the
//! one before it by more than the slack, or has no time, the whole file is
//! scanned.

use super::Scanner;
use crate::frame;

/// Disorder tolerated between records, in ms.
pub const SLACK_MS: i64 = 5 * 60 * 1000;
/// Probes taken to check that times increase.
const PROBES: usize = 32;
/// Below this size the search is not worth it.
const MIN_BYTES: usize = 1 << 20;
/// Records looked at after a probe point to find one with a time.
const PROBE_RECORDS: usize = 64;

/// The byte range of `data` that can hold records inside the query's time
/// bounds: the whole buffer unless narrowing is safe.
pub fn range(data: &[u8], scanner: &Scanner<'_>) -> (usize, usize) {
    let whole = (0, data.len());
    let query = scanner.query;
    if !query.has_time() || data.len() < MIN_BYTES || !scanner.layout.timed {
        return whole;
    }
    let probe = |pos: usize| probe(data, scanner, pos);
    let mut last = i64::MIN;
    for i in 0..PROBES {
        let Some((_, _, ts)) = probe(data.len() / PROBES * i) else {
            return whole;
        };
        if ts < last.saturating_sub(SLACK_MS) {
            return whole;
        }
        last = last.max(ts);
    }
    let from = match query.since {
        Some(since) => {
            let (lo, _) = bracket(data, &probe, since.saturating_sub(SLACK_MS));
            if lo == 0 {
                0
            } else {
                probe(lo).map_or(0, |p| p.0)
            }
        }
        None => 0,
    };
    let to = match query.until {
        Some(until) => {
            let (_, hi) = bracket(data, &probe, until.saturating_add(SLACK_MS + 1));
            if hi >= data.len() {
                data.len()
            } else {
                probe(hi).map_or(data.len(), |p| p.1)
            }
        }
        None => data.len(),
    };
    (from, to.max(from))
}

/// Binary search for the point where probed times reach `bound`: returns
/// (lo, hi) with the probe at `lo` below `bound` (or lo = 0) and the probe
/// at `hi` at or above it (or hi = the end).
fn bracket(data: &[u8], probe: &impl Fn(usize) -> Option<Probe>, bound: i64) -> (usize, usize) {
    let (mut lo, mut hi) = (0usize, data.len());
    while hi - lo > 64 * 1024 {
        let mid = lo + (hi - lo) / 2;
        match probe(mid) {
            Some((_, _, ts)) if ts < bound => lo = mid,
            Some(_) => hi = mid,
            None => return (0, data.len()),
        }
    }
    (lo, hi)
}

/// (record boundary at or after the point, start of the first record
/// from there that has its own time, that time).
type Probe = (usize, usize, i64);

/// Probes the first record at or after `pos` that has its own time.
fn probe(data: &[u8], scanner: &Scanner<'_>, pos: usize) -> Option<Probe> {
    let layout = &scanner.layout;
    let start = layout.align(data, pos.min(data.len()));
    frame::spans(layout, data, start, data.len())
        .take(PROBE_RECORDS)
        .find_map(|(s, e)| {
            layout
                .read(data, s, e, scanner.ctx)
                .ts
                .map(|ts| (start, s, ts))
        })
}

//! The engine: runs a query over inputs in parallel and hands the kept
//! records, in input order, to a sink.
//!
//! - [`front`](Engine): the front door, an [`Engine`] built once from a
//!   checked configuration, with the entry points [`Engine::print`],
//!   [`Engine::tail`] and [`Engine::analyze`].
//! - [`Input`]: what a run reads, opened in one place (`input`).
//! - [`RecordSink`]: where kept records and reports go (`sink`).
//! - [`Scanner`] (`scan`): the per-chunk scan that hands each kept record
//!   to a [`Visitor`]; `narrow`: time narrowing; [`merge`]: several inputs
//!   merged by time; [`analyze`]: the analysis visitor.
//!
//! A mapped file is cut into chunks of about [`Settings::chunk_size`]
//! bytes, each cut moved forward to a record boundary
//! ([`Layout::align`]); rayon workers scan the chunks of a *wave* (a few per
//! thread) into the sink's batches, and the sink takes them in chunk order,
//! so output is ordered without sorting and memory stays bounded by the
//! wave, whatever the file size. `--lines N` walks the waves from the end
//! of the input instead and stops as soon as N records are kept. Streams
//! (stdin, pipes) are read in blocks cut at the last record boundary and go
//! through the same scanner. With `--since`/`--until` on a file whose times
//! increase, a binary search skips the part of the file outside the range
//! first.

pub mod analyze;
mod front;
mod input;
pub mod merge;
mod narrow;
mod scan;
mod sink;

use std::io::Read;

use rayon::prelude::*;

use crate::classify::Classifier;
use crate::frame::Layout;
use crate::query::Query;
use crate::source::{self, FileBytes, OpenFile, SourceError};
use crate::timestamp::TimeContext;

pub use front::{Engine, EngineBuilder, Live};
pub use input::{Input, rotated_copies};
pub use merge::{LanePart, Opened};
pub use scan::{PatternFilter, Scanner, Visit, Visitor, template_of};
pub use sink::{Batch, RecordSink, TailBuffer};

/// Tuning knobs of a run. Results never depend on them.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Target chunk size in bytes.
    pub chunk_size: usize,
    /// Target chunk size of analysis runs (larger: per-chunk state costs
    /// more than a rendered chunk).
    pub analysis_chunk_size: usize,
    /// Show a progress bar on stderr for long runs.
    pub progress: bool,
    /// Bytes read from a stream at a time.
    pub stream_block: usize,
    /// Longest record kept whole in a stream: when a stream's whole buffer
    /// holds no record boundary (a line that never ends, `/dev/zero`), it
    /// is cut into records of this size, so memory stays bounded.
    pub max_record: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            chunk_size: 1 << 20,
            analysis_chunk_size: 16 << 20,
            progress: false,
            stream_block: 4 << 20,
            max_record: 16 << 20,
        }
    }
}

/// A failure while running: an unreadable source or a failed write.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A source could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// --since/--until on input without times.
    #[error(
        "{0} has no timestamps, so --since/--until cannot apply; drop them or use --grep/--level"
    )]
    NoTimestamps(String),
    /// Writing the output failed.
    #[error("writing output: {0}")]
    Write(#[source] std::io::Error),
}

/// The shared, read-only parts of one pass over an input, borrowed from
/// the [`Engine`].
#[derive(Clone, Copy)]
pub(crate) struct Run<'a> {
    /// Level rules.
    pub(crate) classifier: &'a Classifier,
    /// Filters.
    pub(crate) query: &'a Query,
    /// Knobs.
    pub(crate) settings: &'a Settings,
    /// Patterns known in advance (`--pattern`, pattern ids in `--json`).
    pub(crate) patterns: Option<&'a PatternFilter>,
}

/// Chunks processed per thread in one wave.
const CHUNKS_PER_THREAD: usize = 4;

impl Run<'_> {
    fn wave_len(&self) -> usize {
        rayon::current_num_threads().max(1) * CHUNKS_PER_THREAD
    }

    /// Chunk size for analysing a stream: a block shared out between the
    /// threads, since each chunk's state costs more to start and merge
    /// than its records cost to read.
    pub(crate) fn stream_analysis_chunk(&self) -> usize {
        let share = self.settings.stream_block / rayon::current_num_threads().max(1);
        share.clamp(
            self.settings.chunk_size,
            self.settings
                .analysis_chunk_size
                .max(self.settings.chunk_size),
        )
    }

    /// Runs the query over one buffer forward, writing kept records in
    /// order. Returns `Err(offset)` when the source was truncated under its
    /// mapping: output up to `offset` is written, the rest is not.
    pub(crate) fn forward<S: RecordSink>(
        &self,
        scanner: &Scanner<'_>,
        data: &FileBytes,
        sink: &mut S,
        progress: Option<&indicatif::ProgressBar>,
    ) -> Result<Result<(), usize>, EngineError> {
        let bytes = data.bytes();
        let (from, to) = narrow::range(bytes, scanner);
        let chunks = plan(&scanner.layout, bytes, from, to, self.settings.chunk_size);
        let first_lines = first_lines(sink.needs_line_numbers(), bytes, &chunks);
        for wave in (0..chunks.len())
            .collect::<Vec<_>>()
            .chunks(self.wave_len())
        {
            let mut outs: Vec<S::Batch> = wave.iter().map(|_| sink.batch()).collect();
            wave.par_iter()
                .zip(outs.par_iter_mut())
                .for_each(|(&i, out)| {
                    let (s, e) = chunks[i];
                    data.populate(s, e);
                    scanner.visit_range(bytes, s, e, first_lines.as_ref().map(|l| l[i]), out);
                });
            if data.truncated() {
                return Ok(Err(chunks[wave[0]].0));
            }
            for out in &mut outs {
                sink.take(out)?;
            }
            if let Some(bar) = progress {
                let done: usize = wave.iter().map(|&i| chunks[i].1 - chunks[i].0).sum();
                bar.inc(done as u64);
            }
            if sink.closed() {
                break;
            }
        }
        Ok(Ok(()))
    }

    /// Runs the query over one buffer from its end, collecting the last
    /// `want` kept records: (the batches holding them, in file order; how
    /// many). `Err` when the source was truncated under its mapping.
    pub(crate) fn tail<S: RecordSink>(
        &self,
        scanner: &Scanner<'_>,
        data: &FileBytes,
        want: usize,
        sink: &S,
    ) -> Result<(Vec<S::Batch>, usize), usize> {
        let bytes = data.bytes();
        let (from, to) = narrow::range(bytes, scanner);
        let chunks = plan(&scanner.layout, bytes, from, to, self.settings.chunk_size);
        let first_lines = first_lines(sink.needs_line_numbers(), bytes, &chunks);
        let mut pieces: Vec<S::Batch> = Vec::new();
        let mut have = 0;
        let order: Vec<usize> = (0..chunks.len()).rev().collect();
        for wave in order.chunks(self.wave_len()) {
            if have >= want {
                break;
            }
            let mut outs: Vec<S::Batch> = wave.iter().map(|_| sink.batch()).collect();
            wave.par_iter()
                .zip(outs.par_iter_mut())
                .for_each(|(&i, out)| {
                    let (s, e) = chunks[i];
                    scanner.visit_range(bytes, s, e, first_lines.as_ref().map(|l| l[i]), out);
                });
            if data.truncated() {
                return Err(chunks[*wave.last().unwrap_or(&0)].0);
            }
            for mut out in outs {
                if have >= want {
                    break;
                }
                let take = (want - have).min(out.len());
                out.keep_last(take);
                pieces.push(out);
                have += take;
            }
        }
        pieces.reverse();
        Ok((pieces, have))
    }
}

/// Computes `scan(i)` for every chunk `i` in `0..count` on the rayon
/// threads and folds the results into `start` in chunk order while the
/// scans go on: workers take chunks in order, the worker that finishes the
/// next chunk due merges it (and any later ones already done), others park
/// their result. A worker with a parked result waits before starting
/// another chunk once as many results are parked as there are threads, so
/// at most about twice as many states as threads are alive at once however
/// many chunks there are, and the last merge follows the last scan
/// instead of a tree of merges at the end.
pub(crate) fn fold_in_order<S: Send>(
    count: usize,
    start: S,
    scan: impl Fn(usize) -> S + Sync,
    merge: impl Fn(&mut S, S) + Sync,
) -> S {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Condvar, Mutex, PoisonError};

    struct Fold<S> {
        total: S,
        next: usize,
        parked: std::collections::BTreeMap<usize, S>,
    }
    let threads = rayon::current_num_threads().clamp(1, count.max(1));
    let taken = AtomicUsize::new(0);
    let fold = Mutex::new(Fold {
        total: start,
        next: 0,
        parked: std::collections::BTreeMap::new(),
    });
    let room = Condvar::new();
    (0..threads).into_par_iter().for_each(|_| {
        loop {
            {
                let mut f = fold.lock().unwrap_or_else(PoisonError::into_inner);
                while f.parked.len() >= threads {
                    f = room.wait(f).unwrap_or_else(PoisonError::into_inner);
                }
            }
            let i = taken.fetch_add(1, Ordering::Relaxed);
            if i >= count {
                return;
            }
            let state = scan(i);
            let mut f = fold.lock().unwrap_or_else(PoisonError::into_inner);
            f.parked.insert(i, state);
            let mut merged = false;
            loop {
                let due = f.next;
                let Some(state) = f.parked.remove(&due) else {
                    break;
                };
                merge(&mut f.total, state);
                f.next += 1;
                merged = true;
            }
            if merged {
                room.notify_all();
            }
        }
    });
    fold.into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .total
}

/// 1-based line number at the start of each chunk, when wanted.
fn first_lines(wanted: bool, bytes: &[u8], chunks: &[(usize, usize)]) -> Option<Vec<u64>> {
    if !wanted {
        return None;
    }
    let before = chunks.first().map_or(0, |c| c.0);
    let counts: Vec<u64> = chunks
        .par_iter()
        .map(|&(s, e)| bytecount::count(&bytes[s..e], b'\n') as u64)
        .collect();
    let mut line = 1 + bytecount::count(&bytes[..before], b'\n') as u64;
    Some(
        counts
            .iter()
            .map(|c| {
                let first = line;
                line += c;
                first
            })
            .collect(),
    )
}

/// Cuts `data[from..to]` into chunks of about `size` bytes at record
/// boundaries.
pub fn plan(
    layout: &Layout,
    data: &[u8],
    from: usize,
    to: usize,
    size: usize,
) -> Vec<(usize, usize)> {
    let size = size.max(1);
    let mut chunks = Vec::with_capacity((to - from) / size + 1);
    let mut start = from;
    while start < to {
        let cut = if to - start <= size {
            to
        } else {
            layout.align(data, start + size).min(to)
        };
        let cut = if cut <= start { to } else { cut };
        chunks.push((start, cut));
        start = cut;
    }
    chunks
}

/// Runs the query over a stream (stdin, a pipe): read in blocks, each cut
/// at its last record boundary and scanned like a file. With `tail`, the
/// batches are kept there (only the last N records) instead of handed to
/// the sink.
pub(crate) fn stream<R: Read, S: RecordSink>(
    run: &Run<'_>,
    ctx: &TimeContext,
    name: &str,
    input: R,
    sink: &mut S,
    tail: &mut Option<TailBuffer<S::Batch>>,
) -> Result<(), EngineError> {
    let want_lines = sink.needs_line_numbers();
    stream_visit(
        run,
        ctx,
        name,
        input,
        StreamScan {
            order_base: 0,
            want_lines,
            chunk_size: run.settings.chunk_size,
        },
        sink,
        |sink| sink.batch(),
        |sink, mut out: S::Batch| {
            match tail {
                Some(t) => t.push(out),
                None => sink.take(&mut out)?,
            }
            Ok(!sink.closed())
        },
    )
}

/// How [`stream_visit`] scans: where record positions start, whether line
/// numbers are wanted, and the size of the chunks a block is cut into.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamScan {
    /// Added to record positions.
    pub(crate) order_base: u64,
    /// Whether line numbers are wanted (they cost a count of every block).
    pub(crate) want_lines: bool,
    /// Target size of the chunks scanned in parallel.
    pub(crate) chunk_size: usize,
}

/// Reads a stream in blocks and scans each block's chunks in parallel,
/// each with a fresh visitor from `make(state)`; `take(state, visitor)`
/// receives the visitors in input order and returns whether to go on.
/// A read error (a damaged compressed stream) ends the stream: every
/// record before it is handed to `take` first, then the error is returned.
///
/// The block buffer is allocated once: bytes are read into its free tail
/// and the unfinished last record is moved to its front, so a long stream
/// costs no allocation nor zeroing per block.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stream_visit<R: Read, V: Visitor + Send, T>(
    run: &Run<'_>,
    ctx: &TimeContext,
    name: &str,
    mut input: R,
    how: StreamScan,
    state: &mut T,
    make: impl Fn(&T) -> V,
    mut take: impl FnMut(&mut T, V) -> Result<bool, EngineError>,
) -> Result<(), EngineError> {
    let mut consumed: u64 = 0;
    let block = run.settings.stream_block.max(1);
    // buf[..filled] holds the bytes read and not yet scanned; the rest of
    // buf is room to read into (zeroed once, when the buffer grows).
    let mut buf: Vec<u8> = Vec::new();
    let mut filled = 0;
    let mut layout: Option<Layout> = None;
    let mut line = 1u64;
    let mut time_floor = None;
    let mut eof = false;
    let mut failure = None;
    let max_record = run.settings.max_record.max(1);
    while !eof {
        // Fill up to a block.
        // The first read is long enough to sniff the layout as a file would.
        let target = if layout.is_none() {
            block.max(crate::frame::SNIFF_BYTES)
        } else {
            filled + block
        };
        if buf.len() < target {
            buf.resize(target, 0);
        }
        while filled < target {
            match input.read(&mut buf[filled..target]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(EngineError::Source(SourceError::Io {
                        path: name.into(),
                        cause: e,
                    }));
                    eof = true;
                    break;
                }
            }
        }
        let data = &buf[..filled];
        let layout = layout
            .get_or_insert_with(|| Layout::sniff(data, ctx))
            .clone();
        if run.query.has_time() && !layout.timed && !data.is_empty() {
            return Err(EngineError::NoTimestamps(name.to_string()));
        }
        // Keep the last record back: more of it may follow.
        let mut cut = if eof {
            data.len()
        } else {
            layout.record_start(data, data.len().saturating_sub(1), 0)
        };
        // One record fills the whole buffer: read more of it first, unless
        // it is already too long; then it is cut into pieces.
        let pieces = cut == 0 && !eof && data.len() >= max_record;
        if pieces {
            cut = data.len() - data.len() % max_record;
        } else if cut == 0 && !eof {
            continue;
        }
        let scanner = Scanner::for_run(run, layout.clone(), ctx, name, how.order_base + consumed)
            .with_time_floor(time_floor);
        let chunks = if pieces {
            (0..cut)
                .step_by(max_record)
                .map(|s| (s, s + max_record))
                .collect()
        } else {
            plan(&layout, data, 0, cut, how.chunk_size)
        };
        let lines: Vec<Option<u64>> = if how.want_lines {
            chunks
                .iter()
                .scan(line, |l, &(s, e)| {
                    let first = *l;
                    *l += bytecount::count(&data[s..e], b'\n') as u64;
                    Some(Some(first))
                })
                .collect()
        } else {
            vec![None; chunks.len()]
        };
        let mut outs: Vec<V> = chunks.iter().map(|_| make(state)).collect();
        chunks
            .par_iter()
            .zip(lines.par_iter())
            .zip(outs.par_iter_mut())
            .for_each(|((&(s, e), &l), out)| {
                scanner.visit_range(data, s, e, l, out);
            });
        for out in outs {
            if !take(state, out)? {
                return Ok(());
            }
        }
        if let Some(&Some(first)) = lines.last()
            && let Some(&(s, _)) = chunks.last()
        {
            line = first + bytecount::count(&data[s..cut], b'\n') as u64;
        }
        consumed += cut as u64;
        if layout.timed {
            time_floor = layout.time_before(data, cut, ctx).or(time_floor);
        }
        buf.copy_within(cut..filled, 0);
        filled -= cut;
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Opens a file and builds its time context: local time, yearless dates
/// placed at or before the file's modification time.
pub fn open_with_context(
    path: &std::path::Path,
    zone: &crate::timestamp::Zone,
) -> Result<(OpenFile, TimeContext), SourceError> {
    let file = source::open_file(path)?;
    let reference = file.modified_ms.unwrap_or_else(crate::timestamp::now_ms);
    let ctx = TimeContext::new(zone.clone(), reference);
    Ok((file, ctx))
}

#[cfg(test)]
mod tests {
    use super::fold_in_order;

    #[test]
    fn folds_in_chunk_order_whatever_order_the_scans_end_in() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        use std::sync::atomic::{AtomicUsize, Ordering};
        // States scanned and not yet merged, and the most at once.
        let (alive, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let folded = pool.install(|| {
            fold_in_order(
                40,
                Vec::new(),
                |i| {
                    let now = alive.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Chunk 0 is slow: the others finish first and wait.
                    let ms = if i == 0 { 60 } else { ((40 - i) % 7) as u64 };
                    std::thread::sleep(std::time::Duration::from_millis(ms));
                    vec![i]
                },
                |total: &mut Vec<usize>, later| {
                    alive.fetch_sub(1, Ordering::SeqCst);
                    total.extend(later)
                },
            )
        });
        assert_eq!(folded, (0..40).collect::<Vec<_>>());
        let most = most.load(Ordering::SeqCst);
        assert!((2..=6).contains(&most), "{most} states alive at once");
        assert_eq!(
            fold_in_order(0, vec![7], |i| vec![i], |t: &mut Vec<usize>, l| t.extend(l)),
            [7]
        );
    }
}

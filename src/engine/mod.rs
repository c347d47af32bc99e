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
        0,
        want_lines,
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

/// Reads a stream in blocks and scans each block's chunks in parallel,
/// each with a fresh visitor from `make(state)`; `take(state, visitor)`
/// receives the visitors in input order and returns whether to go on. `order_base` is added to record positions; `want_lines` asks
/// for line numbers.
/// A read error (a damaged compressed stream) ends the stream: every
/// record before it is handed to `take` first, then the error is returned.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stream_visit<R: Read, V: Visitor + Send, T>(
    run: &Run<'_>,
    ctx: &TimeContext,
    name: &str,
    mut input: R,
    order_base: u64,
    want_lines: bool,
    state: &mut T,
    make: impl Fn(&T) -> V,
    mut take: impl FnMut(&mut T, V) -> Result<bool, EngineError>,
) -> Result<(), EngineError> {
    let mut consumed: u64 = 0;
    let block = run.settings.stream_block.max(1);
    let mut buf: Vec<u8> = Vec::with_capacity(block);
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
            buf.len() + block
        };
        while buf.len() < target {
            let old = buf.len();
            buf.resize(target, 0);
            match input.read(&mut buf[old..]) {
                Ok(0) => {
                    buf.truncate(old);
                    eof = true;
                    break;
                }
                Ok(n) => buf.truncate(old + n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(old),
                Err(e) => {
                    buf.truncate(old);
                    failure = Some(EngineError::Source(SourceError::Io {
                        path: name.into(),
                        cause: e,
                    }));
                    eof = true;
                    break;
                }
            }
        }
        let layout = layout
            .get_or_insert_with(|| Layout::sniff(&buf, ctx))
            .clone();
        if run.query.has_time() && !layout.timed && !buf.is_empty() {
            return Err(EngineError::NoTimestamps(name.to_string()));
        }
        // Keep the last record back: more of it may follow.
        let mut cut = if eof {
            buf.len()
        } else {
            layout.record_start(&buf, buf.len().saturating_sub(1), 0)
        };
        // One record fills the whole buffer: read more of it first, unless
        // it is already too long; then it is cut into pieces.
        let pieces = cut == 0 && !eof && buf.len() >= max_record;
        if pieces {
            cut = buf.len() - buf.len() % max_record;
        } else if cut == 0 && !eof {
            continue;
        }
        let scanner = Scanner::for_run(run, layout.clone(), ctx, name, order_base + consumed)
            .with_time_floor(time_floor);
        let chunks = if pieces {
            (0..cut)
                .step_by(max_record)
                .map(|s| (s, s + max_record))
                .collect()
        } else {
            plan(&layout, &buf, 0, cut, run.settings.chunk_size)
        };
        let lines: Vec<u64> = chunks
            .iter()
            .scan(line, |l, &(s, e)| {
                let first = *l;
                *l += bytecount::count(&buf[s..e], b'\n') as u64;
                Some(first)
            })
            .collect();
        let mut outs: Vec<V> = chunks.iter().map(|_| make(state)).collect();
        chunks
            .par_iter()
            .zip(lines.par_iter())
            .zip(outs.par_iter_mut())
            .for_each(|((&(s, e), &l), out)| {
                scanner.visit_range(&buf, s, e, want_lines.then_some(l), out);
            });
        for out in outs {
            if !take(state, out)? {
                return Ok(());
            }
        }
        line += bytecount::count(&buf[..cut], b'\n') as u64;
        consumed += cut as u64;
        if layout.timed {
            time_floor = layout.time_before(&buf, cut, ctx).or(time_floor);
        }
        buf.drain(..cut);
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

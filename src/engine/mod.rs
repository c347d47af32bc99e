//! The engine: runs a query over sources in parallel and writes the kept
//! records in file order.
//!
//! A mapped file is cut into chunks of about [`Settings::chunk_size`]
//! bytes, each cut moved forward to a record boundary
//! ([`Layout::align`]); rayon workers scan the chunks of a *wave* (a few per
//! thread) and the writer emits their outputs in chunk order, so output is
//! ordered without sorting and memory stays bounded by the wave, whatever
//! the file size. `--lines N` walks the waves from the end of the input
//! instead and stops as soon as N records are kept. Streams (stdin, pipes)
//! are read in blocks cut at the last record boundary and go through the
//! same scanner. With `--since`/`--until` on a file whose times increase, a
//! binary search skips the part of the file outside the range first.

pub mod analyze;
pub mod merge;
mod narrow;
mod scan;

use std::collections::VecDeque;
use std::io::{Read, Write};

use rayon::prelude::*;

use crate::classify::Classifier;
use crate::frame::Layout;
use crate::output::Printer;
use crate::query::Query;
use crate::source::{self, FileBytes, OpenFile, SourceError};
use crate::timestamp::TimeContext;

pub use scan::{ChunkOut, PatternFilter, Scanner, Visit, Visitor, template_of};

/// Tuning knobs of a run. Results never depend on them.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Target chunk size in bytes.
    pub chunk_size: usize,
    /// Target chunk size of analysis runs (larger: per-chunk state costs
    /// more than a rendered chunk).
    pub analysis_chunk_size: usize,
    /// Keep only the last N kept records.
    pub tail: Option<usize>,
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
            tail: None,
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

/// Where kept records go: stdout (buffered), stopping quietly when the
/// reader goes away (`velos logs … | head`).
pub struct Sink<W: Write> {
    out: W,
    closed: bool,
}

impl<W: Write> Sink<W> {
    /// Wraps a writer.
    pub fn new(out: W) -> Sink<W> {
        Sink { out, closed: false }
    }

    /// Writes bytes; a closed pipe ends output without an error.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), EngineError> {
        if self.closed || bytes.is_empty() {
            return Ok(());
        }
        match self.out.write_all(bytes) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(EngineError::Write(e)),
        }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Whether the reader went away.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Flushes buffered output.
    pub fn flush(&mut self) -> Result<(), EngineError> {
        if self.closed {
            return Ok(());
        }
        match self.out.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other.map_err(EngineError::Write),
        }
    }
}

/// The shared, read-only parts of a run.
pub struct Run<'a> {
    /// Level rules.
    pub classifier: &'a Classifier,
    /// Filters.
    pub query: &'a Query,
    /// Renderer.
    pub printer: &'a Printer,
    /// Knobs.
    pub settings: Settings,
    /// Patterns known in advance (`--pattern`, pattern ids in `--json`).
    pub patterns: Option<&'a PatternFilter>,
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
    pub fn forward<W: Write>(
        &self,
        scanner: &Scanner<'_>,
        data: &FileBytes,
        sink: &mut Sink<W>,
        progress: Option<&indicatif::ProgressBar>,
    ) -> Result<Result<(), usize>, EngineError> {
        let bytes = data.bytes();
        let (from, to) = narrow::range(bytes, scanner);
        let chunks = plan(&scanner.layout, bytes, from, to, self.settings.chunk_size);
        let first_lines = self.first_lines(scanner, bytes, &chunks);
        for wave in (0..chunks.len())
            .collect::<Vec<_>>()
            .chunks(self.wave_len())
        {
            let outs: Vec<ChunkOut> = wave
                .par_iter()
                .map(|&i| {
                    let mut out = ChunkOut::default();
                    let (s, e) = chunks[i];
                    data.populate(s, e);
                    scanner.scan(bytes, s, e, first_lines.as_ref().map(|l| l[i]), &mut out);
                    out
                })
                .collect();
            if data.truncated() {
                return Ok(Err(chunks[wave[0]].0));
            }
            for out in &outs {
                sink.write(&out.buf)?;
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
    /// `want` kept records: (rendered, in file order; how many). `Err` when
    /// the source was truncated under its mapping.
    pub fn tail(
        &self,
        scanner: &Scanner<'_>,
        data: &FileBytes,
        want: usize,
    ) -> Result<(Vec<u8>, usize), usize> {
        let bytes = data.bytes();
        let (from, to) = narrow::range(bytes, scanner);
        let chunks = plan(&scanner.layout, bytes, from, to, self.settings.chunk_size);
        let first_lines = self.first_lines(scanner, bytes, &chunks);
        let mut pieces: Vec<Vec<u8>> = Vec::new();
        let mut have = 0;
        let order: Vec<usize> = (0..chunks.len()).rev().collect();
        for wave in order.chunks(self.wave_len()) {
            if have >= want {
                break;
            }
            let outs: Vec<ChunkOut> = wave
                .par_iter()
                .map(|&i| {
                    let mut out = ChunkOut::default();
                    let (s, e) = chunks[i];
                    scanner.scan(bytes, s, e, first_lines.as_ref().map(|l| l[i]), &mut out);
                    out
                })
                .collect();
            if data.truncated() {
                return Err(chunks[*wave.last().unwrap_or(&0)].0);
            }
            for out in outs {
                if have >= want {
                    break;
                }
                let take = (want - have).min(out.kept());
                pieces.push(out.last(take).to_vec());
                have += take;
            }
        }
        pieces.reverse();
        Ok((pieces.concat(), have))
    }

    /// 1-based line number at the start of each chunk, when the printer
    /// shows line numbers.
    fn first_lines(
        &self,
        scanner: &Scanner<'_>,
        bytes: &[u8],
        chunks: &[(usize, usize)],
    ) -> Option<Vec<u64>> {
        if !scanner.printer.needs_line_numbers() {
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
/// at its last record boundary and scanned like a file. With `tail`, only
/// the last N kept records are written, at the end.
pub fn stream<R: Read, W: Write>(
    run: &Run<'_>,
    ctx: &TimeContext,
    name: &str,
    input: R,
    sink: &mut Sink<W>,
    tail: &mut Option<TailBuffer>,
) -> Result<(), EngineError> {
    stream_visit(
        run,
        ctx,
        name,
        input,
        0,
        ChunkOut::default,
        |out: ChunkOut| {
            match tail {
                Some(t) => t.push_chunk(&out),
                None => sink.write(&out.buf)?,
            }
            Ok(!sink.closed())
        },
    )
}

/// Reads a stream in blocks and scans each block's chunks in parallel with
/// a fresh visitor from `make`; `take` receives the visitors in input order
/// and returns whether to go on. `order_base` is added to record positions.
/// A read error (a damaged compressed stream) ends the stream: every
/// record before it is handed to `take` first, then the error is returned.
pub fn stream_visit<R: Read, V: Visitor + Send>(
    run: &Run<'_>,
    ctx: &TimeContext,
    name: &str,
    mut input: R,
    order_base: u64,
    make: impl Fn() -> V + Sync,
    mut take: impl FnMut(V) -> Result<bool, EngineError>,
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
        let mut scanner = Scanner::new(
            layout.clone(),
            ctx,
            run.classifier,
            run.query,
            run.printer,
            name,
        );
        scanner.time_floor = time_floor;
        scanner.patterns = run.patterns;
        scanner.order_base = order_base + consumed;
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
        let want_lines = run.printer.needs_line_numbers();
        let outs: Vec<V> = chunks
            .par_iter()
            .zip(lines.par_iter())
            .map(|(&(s, e), &l)| {
                let mut out = make();
                scanner.visit_range(&buf, s, e, want_lines.then_some(l), &mut out);
                out
            })
            .collect();
        for out in outs {
            if !take(out)? {
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

/// The last N rendered records of a stream.
#[derive(Debug)]
pub struct TailBuffer {
    want: usize,
    records: VecDeque<Vec<u8>>,
}

impl TailBuffer {
    /// Keeps the last `want` records.
    pub fn new(want: usize) -> TailBuffer {
        TailBuffer {
            want,
            records: VecDeque::with_capacity(want.min(1 << 16)),
        }
    }

    /// Adds the records of a chunk.
    pub fn push_chunk(&mut self, out: &ChunkOut) {
        let skip = out.kept().saturating_sub(self.want);
        let mut start = if skip == 0 { 0 } else { out.ends[skip - 1] };
        for &end in &out.ends[skip..] {
            self.push(out.buf[start..end].to_vec());
            start = end;
        }
    }

    /// Adds one rendered record.
    pub fn push(&mut self, record: Vec<u8>) {
        if self.want == 0 {
            return;
        }
        if self.records.len() == self.want {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }

    /// The kept records, rendered in order, and how many there are.
    pub fn into_parts(self) -> (Vec<u8>, usize) {
        let count = self.records.len();
        (self.records.into_iter().flatten().collect(), count)
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

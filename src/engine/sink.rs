//! Where a run's results go: the [`RecordSink`] trait.
//!
//! The engine hands every kept record to a sink, and the finished
//! [`Report`] of an analysis run. A sink says how one chunk's records are
//! collected ([`RecordSink::Batch`], filled on a worker thread) and what
//! happens to the batches, which it receives in input order
//! ([`RecordSink::take`]). The text/JSON printer
//! ([`crate::output::PrintSink`]) renders records into its batches and
//! writes them to stdout; a sink that keeps records in memory (the TUI's
//! pane, an exporter) collects them into batches of its own. The engine is
//! generic over the sink, so the per-record call is inlined: no dynamic
//! dispatch on the hot path. A followed input hands its new records to the
//! same sink ([`crate::engine::Engine::live`]).

use std::collections::VecDeque;

use super::EngineError;
use super::scan::Visitor;
use crate::analyze::report::Report;
use crate::level::Level;

/// The kept records of one chunk, collected on a worker thread.
pub trait Batch: Visitor + Send {
    /// Number of records in it.
    fn len(&self) -> usize;
    /// Whether it holds no record.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Keeps only its last `n` records.
    fn keep_last(&mut self, n: usize);
}

/// Receives what a run keeps: records in batches, in input order, and the
/// report of an analysis run.
pub trait RecordSink {
    /// One chunk's records.
    type Batch: Batch;
    /// An empty batch.
    fn batch(&self) -> Self::Batch;
    /// Whether records need their 1-based line numbers.
    fn needs_line_numbers(&self) -> bool {
        false
    }
    /// Whether records need their pattern id (the engine then groups the
    /// templates of the whole input in a first pass).
    fn needs_patterns(&self) -> bool {
        false
    }
    /// Takes the records of `batch` (the next ones in input order) and
    /// leaves it empty.
    fn take(&mut self, batch: &mut Self::Batch) -> Result<(), EngineError>;
    /// Whether the receiver went away: the run stops reading.
    fn closed(&self) -> bool {
        false
    }
    /// Takes the report of an analysis run.
    fn report(&mut self, report: &Report) -> Result<(), EngineError> {
        let _ = report;
        Ok(())
    }
    /// Whether a record of a followed input may be shown before it is
    /// known to be whole (lines may still join it), when that cannot change
    /// what is shown: its later lines then come through
    /// [`RecordSink::rest_of_shown`]. A printer of text does; a sink that
    /// keeps whole records does not.
    fn shows_early(&self) -> bool {
        false
    }
    /// The later lines of a record shown early, `level` being the level it
    /// was shown at (see [`RecordSink::shows_early`]).
    fn rest_of_shown(&mut self, name: &str, lines: &[u8], level: Level) -> Result<(), EngineError> {
        let _ = (name, lines, level);
        Ok(())
    }
    /// Hands on whatever is buffered.
    fn flush(&mut self) -> Result<(), EngineError> {
        Ok(())
    }
}

/// The last N records of a run, kept as the batches that hold them.
#[derive(Debug)]
pub struct TailBuffer<B> {
    want: usize,
    batches: VecDeque<B>,
    count: usize,
}

impl<B: Batch> TailBuffer<B> {
    /// Keeps the last `want` records.
    pub fn new(want: usize) -> TailBuffer<B> {
        TailBuffer {
            want,
            batches: VecDeque::new(),
            count: 0,
        }
    }

    /// Adds the records of a batch (later than those before).
    pub fn push(&mut self, batch: B) {
        if batch.is_empty() || self.want == 0 {
            return;
        }
        self.count += batch.len();
        self.batches.push_back(batch);
        while let Some(front) = self.batches.front()
            && self.count - front.len() >= self.want
        {
            self.count -= front.len();
            self.batches.pop_front();
        }
    }

    /// The batches holding the last records, in order, and how many
    /// records they hold.
    pub fn into_batches(mut self) -> (Vec<B>, usize) {
        if self.count > self.want
            && let Some(front) = self.batches.front_mut()
        {
            let excess = self.count - self.want;
            front.keep_last(front.len() - excess);
            self.count = self.want;
        }
        (self.batches.into(), self.count)
    }
}

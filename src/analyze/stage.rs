//! The stage interface: what every analysis stage does with records.
//!
//! A stage is a mergeable accumulator (a monoid): each chunk of a file
//! gets its own state, which [`LogProcessor::observe`]s the chunk's
//! records in order; the states of consecutive chunks are combined with
//! [`LogProcessor::merge`] (earlier chunk first), and the merged state
//! [`LogProcessor::finish`]es into its part of the report. Merging is
//! associative, so the result does not depend on where chunks were cut or
//! how many threads folded them.

use crate::analyze::config::PipelineConfig;
use crate::analyze::patterns::Patterns;
use crate::level::Level;

/// What a stage sees of one kept record.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// Position in the input, increasing in file order (across files too).
    pub order: u64,
    /// Time: the record's own, or the one of the timestamped record before.
    pub ts: Option<i64>,
    /// The minute of `ts` ([`minute_of`]), computed once for all stages.
    pub minute: Option<i64>,
    /// Level.
    pub level: Level,
    /// Id of the record's exact template.
    pub template: u64,
    /// The template text.
    pub template_text: &'a [u8],
    /// The first line of the message, as a sample.
    pub message: &'a [u8],
    /// The whole record text.
    pub text: &'a [u8],
    /// Lines in the record.
    pub lines: u32,
    /// Whether it is a supervisor record of a restart after a crash.
    pub restart: bool,
}

/// Context for finishing stages: the patterns found over all templates,
/// the pipeline's settings, and the period covered.
#[derive(Debug, Clone, Copy)]
pub struct Finish<'a> {
    /// Template → pattern.
    pub patterns: &'a Patterns,
    /// Settings.
    pub config: &'a PipelineConfig,
    /// First and last record time, if the input has times.
    pub period: Option<(i64, i64)>,
}

/// A mergeable analysis stage.
pub trait LogProcessor: Sized {
    /// The stage's part of the report.
    type Part;

    /// Takes one record into account (records come in file order).
    fn observe(&mut self, rec: &Observed<'_>);

    /// Appends the state of the chunk that follows this one.
    fn merge(&mut self, next: Self);

    /// Turns the merged state into the report part.
    fn finish(self, ctx: &Finish<'_>) -> Self::Part;
}

/// Minute index of a Unix-ms time.
#[inline]
pub fn minute_of(ts: i64) -> i64 {
    ts.div_euclid(60_000)
}

//! Analysis runs: the same chunked parallel scan as printing, but each
//! chunk folds its kept records into a [`Pipeline`] state instead of
//! rendering them; the states are merged in chunk order as they are done
//! ([`fold_in_order`](super::fold_in_order)).

use super::{Run, Scanner, Visit, Visitor, fold_in_order, narrow, plan};
use crate::analyze::dedup::Group;
use crate::analyze::stage::minute_of;
use crate::analyze::{Observed, Pipeline, PipelineConfig};
use crate::frame::Layout;
use crate::frame::json::Scalar;
use crate::level::Level;
use crate::schema::{Event, Src};
use crate::source::FileBytes;
use crate::timestamp::TimeContext;

/// A visitor that feeds kept records to the analysis stages.
pub struct Analyzer {
    /// The chunk's state.
    pub pipeline: Pipeline,
    message: Vec<u8>,
    template: Vec<u8>,
    /// The last minute seen: (its start in ms, its index), so records of
    /// the same minute skip the division.
    minute: (i64, i64),
}

impl Analyzer {
    /// A fresh state for one chunk of a stream: dedup samples are kept.
    pub fn new(config: &PipelineConfig) -> Analyzer {
        Analyzer::with_samples(config, true)
    }

    /// A fresh state; see [`Pipeline::with_samples`].
    pub fn with_samples(config: &PipelineConfig, keep_samples: bool) -> Analyzer {
        Analyzer {
            pipeline: Pipeline::with_samples(config, keep_samples),
            message: Vec::new(),
            template: Vec::new(),
            minute: (i64::MIN, 0),
        }
    }
}

impl Visitor for Analyzer {
    fn needs_level(&self) -> bool {
        true
    }

    fn needs_time(&self) -> bool {
        true
    }

    #[inline]
    fn kept(&mut self, v: &Visit<'_, '_>) {
        let rec = v.record;
        let Analyzer {
            pipeline,
            message,
            template,
            minute: last_minute,
        } = self;
        let minute = v.ts.map(|ts| {
            if ts
                .checked_sub(last_minute.0)
                .is_some_and(|d| (0..60_000).contains(&d))
            {
                last_minute.1
            } else {
                let m = minute_of(ts);
                *last_minute = (m.checked_mul(60_000).unwrap_or(i64::MIN), m);
                m
            }
        });
        let msg = v.scanner.layout.first_message_line(rec, message);
        let template_id = crate::normalize::normalize(msg, template);
        pipeline.observe(&Observed {
            order: v.order,
            ts: v.ts,
            minute,
            level: v.level,
            template: template_id,
            template_text: template,
            message: msg,
            text: rec.text,
            lines: rec.line_count() as u32,
            restart: is_crash_restart(v),
        });
    }
}

/// A supervisor lifecycle record of a restart after a crash: `src:"velos"`,
/// `event:"restart"`, at warn level or above (requested restarts are info).
fn is_crash_restart(v: &Visit<'_, '_>) -> bool {
    let Some(json) = &v.record.json else {
        return false;
    };
    let is = |value: Option<Scalar<'_>>, want: &[u8]| matches!(value, Some(Scalar::Str { raw, .. }) if raw == want);
    is(json.src, Src::Velos.as_str().as_bytes())
        && is(json.event, Event::Restart.as_str().as_bytes())
        && v.level >= Level::Warn
}

/// Fills the empty samples of the dedup groups whose first record lies in
/// `data` (positions `base..base + span`): the first line of each such
/// record's message, read again from the bytes.
pub fn read_samples(
    groups: &mut [Group],
    base: u64,
    span: u64,
    data: &[u8],
    layout: &Layout,
    ctx: &TimeContext,
) {
    let mut buf = Vec::new();
    for g in groups.iter_mut() {
        if !g.sample.is_empty() || g.first_order < base || g.first_order - base >= span {
            continue;
        }
        let offset = (g.first_order - base) as usize;
        if offset >= data.len() {
            continue; // the file shrank since it was analyzed
        }
        let end = layout.record_end(data, offset, data.len());
        let rec = layout.read(data, offset, end, ctx);
        let msg = layout.first_message_line(&rec, &mut buf);
        g.sample = msg[..msg.len().min(MAX_SAMPLE)].to_vec();
    }
}

/// Longest dedup sample, in bytes.
const MAX_SAMPLE: usize = 4096;

impl Run<'_> {
    /// Folds the kept records of one buffer into a pipeline state. `Err`
    /// carries the offset at which the source was found truncated.
    pub fn analyze(
        &self,
        scanner: &Scanner<'_>,
        data: &FileBytes,
        config: &PipelineConfig,
    ) -> Result<Pipeline, usize> {
        let bytes = data.bytes();
        let (from, to) = narrow::range(bytes, scanner);
        let chunks = plan(
            &scanner.layout,
            bytes,
            from,
            to,
            self.settings.analysis_chunk_size,
        );
        // Chunk states are merged in chunk order as soon as they are done,
        // so only a few are alive at once. Dedup samples are read back from
        // the file at the end.
        let total = fold_in_order(
            chunks.len(),
            Pipeline::with_samples(config, false),
            |i| {
                let (s, e) = chunks[i];
                data.populate(s, e);
                let mut analyzer = Analyzer::with_samples(config, false);
                scanner.visit_range(bytes, s, e, None, &mut analyzer);
                analyzer.pipeline
            },
            |total, later| total.merge(later),
        );
        if data.truncated() {
            return Err(from);
        }
        Ok(total)
    }
}

//! Analysis runs: the same chunked parallel scan as printing, but each
//! chunk folds its kept records into a [`Pipeline`] state instead of
//! rendering them; the states are merged in chunk order.

use rayon::prelude::*;

use super::{Run, Scanner, Visit, Visitor, narrow, plan};
use crate::analyze::{Observed, Pipeline, PipelineConfig};
use crate::frame::json::Scalar;
use crate::level::Level;
use crate::source::FileBytes;

/// A visitor that feeds kept records to the analysis stages.
pub struct Analyzer {
    /// The chunk's state.
    pub pipeline: Pipeline,
    message: Vec<u8>,
    template: Vec<u8>,
}

impl Analyzer {
    /// A fresh state for one chunk.
    pub fn new(config: &PipelineConfig) -> Analyzer {
        Analyzer {
            pipeline: Pipeline::new(config),
            message: Vec::new(),
            template: Vec::new(),
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
        } = self;
        let msg = v.scanner.layout.first_message_line(rec, message);
        let template_id = crate::normalize::normalize(msg, template);
        pipeline.observe(&Observed {
            order: v.order,
            ts: v.ts,
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
    is(json.src, b"velos") && is(json.event, b"restart") && v.level >= Level::Warn
}

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
        let mut total = Pipeline::new(config);
        for wave in chunks.chunks(self.wave_len()) {
            let states: Vec<Pipeline> = wave
                .par_iter()
                .map(|&(s, e)| {
                    let mut analyzer = Analyzer::new(config);
                    scanner.visit_range(bytes, s, e, None, &mut analyzer);
                    analyzer.pipeline
                })
                .collect();
            if data.truncated() {
                return Err(wave[0].0);
            }
            for state in states {
                total.merge(state);
            }
        }
        Ok(total)
    }
}

//! The pipeline: the enabled stages together, as one chunk's state —
//! classifier counts → dedup → patterns and trends → anomalies. Merging two
//! pipelines merges each stage; finishing groups the templates into
//! patterns first, then finishes every stage against them.

use super::anomaly::Anomalies;
use super::config::PipelineConfig;
use super::counts::Counts;
use super::dedup::Dedup;
use super::patterns::{PatternConfig, Patterns, TemplateCounts};
use super::report::Report;
use super::stage::{Finish, LogProcessor, Observed};
use super::trends::trends;

/// One chunk's analysis state.
#[derive(Debug, Clone)]
pub struct Pipeline {
    counts: Counts,
    templates: TemplateCounts,
    dedup: Option<Dedup>,
    /// Whether template entries keep their series (the trends).
    trends: bool,
    anomalies: Option<Anomalies>,
}

impl Pipeline {
    /// An empty state with the stages `config` enables, keeping dedup
    /// samples (see [`Pipeline::with_samples`]).
    pub fn new(config: &PipelineConfig) -> Pipeline {
        Pipeline::with_samples(config, true)
    }

    /// An empty state; without `keep_samples` the dedup stage keeps only
    /// the position of each group's first record, for the caller to read
    /// it again from its file.
    pub fn with_samples(config: &PipelineConfig, keep_samples: bool) -> Pipeline {
        Pipeline {
            counts: Counts::default(),
            templates: TemplateCounts::new(),
            dedup: config
                .dedup
                .then(|| Dedup::new(config.window_ms, keep_samples)),
            trends: config.pattern && config.trends,
            anomalies: config.anomaly.then(Anomalies::default),
        }
    }

    /// Takes one record into account.
    #[inline]
    pub fn observe(&mut self, rec: &Observed<'_>) {
        self.counts.observe(rec);
        let stat = self
            .templates
            .observe_entry(rec.template, rec.template_text, rec.order);
        if self.trends {
            stat.series.observe(rec.minute, rec.level);
        }
        if let Some(d) = &mut self.dedup {
            d.observe(rec);
        }
        if let Some(a) = &mut self.anomalies {
            a.observe(rec);
        }
    }

    /// Appends the state of the following chunk.
    pub fn merge(&mut self, next: Pipeline) {
        self.counts.merge(next.counts);
        self.templates.merge(next.templates);
        merge_opt(&mut self.dedup, next.dedup);
        merge_opt(&mut self.anomalies, next.anomalies);
    }

    /// The patterns of the templates seen so far.
    pub fn patterns(&self, config: &PipelineConfig) -> Patterns {
        if config.pattern {
            self.templates.cluster(&PatternConfig {
                similarity: config.similarity,
            })
        } else {
            self.templates.exact()
        }
    }

    /// Finishes every stage into the report.
    pub fn finish(self, config: &PipelineConfig) -> Report {
        let patterns = self.patterns(config);
        let period = self.counts.first_ts.zip(self.counts.last_ts);
        let ctx = Finish {
            patterns: &patterns,
            config,
            period,
        };
        let counts = self.counts.finish(&ctx);
        let found = self.anomalies.map(|a| a.finish(&ctx));
        let (anomalies, timeline) = match found {
            Some(f) => (Some(f.anomalies), Some(f.timeline)),
            None => (None, None),
        };
        Report {
            dedup: self.dedup.map(|d| d.finish(&ctx)),
            trends: self.trends.then(|| trends(&self.templates, &ctx)),
            anomalies,
            timeline,
            warmup_minutes: config.warmup_minutes,
            beyond_sample: self.templates.beyond().count,
            pattern_count: patterns.len(),
            template_count: self.templates.len(),
            counts,
            period,
        }
    }
}

fn merge_opt<T: LogProcessor>(mine: &mut Option<T>, next: Option<T>) {
    match (mine.as_mut(), next) {
        (Some(a), Some(b)) => a.merge(b),
        (None, b) => *mine = b,
        _ => {}
    }
}

impl LogProcessor for TemplateCounts {
    type Part = Patterns;

    #[inline]
    fn observe(&mut self, rec: &Observed<'_>) {
        TemplateCounts::observe(self, rec.template, rec.template_text, rec.order);
    }

    fn merge(&mut self, next: TemplateCounts) {
        TemplateCounts::merge(self, next);
    }

    fn finish(self, ctx: &Finish<'_>) -> Patterns {
        self.cluster(&PatternConfig {
            similarity: ctx.config.similarity,
        })
    }
}

//! The front door: an [`Engine`] built once from a checked run
//! configuration ([`EngineBuilder`]), and its three entry points, each
//! taking an [`Input`] and a [`RecordSink`]:
//!
//! - [`Engine::print`]: every kept record, in input order (`velos logs`);
//! - [`Engine::tail`]: the last N kept records (`--lines N`), read from the
//!   end of the input;
//! - [`Engine::analyze`]: the analysis stages over the kept records, into a
//!   [`Report`] (`--summary`, `--dedupe`, monit's health scores);
//! - [`Engine::live`]: whole records of an input read as it is written
//!   (`--follow`), handed to the sink as they come.
//!
//! When the sink wants pattern ids (JSON output) or `--pattern` keeps only
//! some patterns, a first pass groups the templates of the whole input
//! (streams are spooled to be read twice). A source that fails part-way (a
//! damaged compressed file) keeps what was read before the damage; the
//! rest of the input is read, and the error is returned at the end.

use std::collections::HashSet;

use super::analyze::{Analyzer, read_samples};
use super::input::{self, Input, OpenedUnit, Single, Unit};
use super::merge::{self, InOrder, Opened};
use super::sink::{Batch as _, RecordSink, TailBuffer};
use super::{EngineError, PatternFilter, Run, Scanner, Settings, stream, stream_visit};
use crate::analyze::report::Report;
use crate::analyze::{Pipeline, PipelineConfig};
use crate::classify::Classifier;
use crate::frame::Layout;
use crate::query::Query;
use crate::source::Part;
use crate::timestamp::{TimeContext, Zone};

/// Inputs at least this large get a progress bar (when asked for).
const PROGRESS_BYTES: u64 = 256 << 20;
/// Position bits of a record inside its unit (the unit index is above).
const UNIT_SHIFT: u32 = 48;
/// How many analyzed files stay mapped for reading dedup samples; the
/// rest are opened again.
const MAX_KEPT_MAPPED: usize = 16;

/// A checked run configuration: level rules, filters, analysis stages,
/// knobs. Built with [`Engine::builder`]; read-only afterwards.
pub struct Engine {
    classifier: Classifier,
    query: Query,
    pipeline: PipelineConfig,
    settings: Settings,
    zone: Zone,
    keep: Option<HashSet<u64>>,
    now_ms: Option<i64>,
}

/// Builds an [`Engine`]; every part has a default.
pub struct EngineBuilder {
    engine: Engine,
}

/// The builder's setters: `fn name(Type) => field` sets one part of the
/// engine and returns the builder; `as Some` stores an optional part.
macro_rules! setters {
    ($($(#[$doc:meta])* fn $name:ident($ty:ty) => $field:ident $(as $wrap:ident)?;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: $ty) -> Self {
                self.engine.$field = $($wrap)?(value);
                self
            }
        )*
    };
}

impl EngineBuilder {
    setters! {
        /// Level rules (default: the built-in keyword rules).
        fn classifier(Classifier) => classifier;
        /// Filters (default: keep everything).
        fn query(Query) => query;
        /// The analysis stages and their settings.
        fn pipeline(PipelineConfig) => pipeline;
        /// Tuning knobs (results never depend on them).
        fn settings(Settings) => settings;
        /// Zone of times written without an offset (default: local time).
        fn zone(Zone) => zone;
        /// Keep only records of these patterns (`--pattern`).
        fn keep_patterns(HashSet<u64>) => keep as Some;
        /// The reference time of streams and in-memory input, Unix ms:
        /// yearless dates are placed at or before it (default: now).
        fn reference_ms(i64) => now_ms as Some;
    }

    /// The engine, its knobs brought into range.
    pub fn build(self) -> Engine {
        let mut engine = self.engine;
        let s = &mut engine.settings;
        s.chunk_size = s.chunk_size.max(1);
        s.analysis_chunk_size = s.analysis_chunk_size.max(1);
        s.stream_block = s.stream_block.max(1);
        s.max_record = s.max_record.max(1);
        engine
    }
}

impl Engine {
    /// A builder with every part at its default.
    pub fn builder() -> EngineBuilder {
        EngineBuilder {
            engine: Engine {
                classifier: Classifier::default(),
                query: Query::default(),
                pipeline: PipelineConfig::default(),
                settings: Settings::default(),
                zone: Zone::local(),
                keep: None,
                now_ms: None,
            },
        }
    }

    /// Level rules.
    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }

    /// Filters.
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// Knobs.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The analysis stages.
    pub fn pipeline(&self) -> &PipelineConfig {
        &self.pipeline
    }

    /// Zone of local times.
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    fn now(&self) -> i64 {
        self.now_ms.unwrap_or_else(crate::timestamp::now_ms)
    }

    fn run<'a>(&'a self, patterns: Option<&'a PatternFilter>) -> Run<'a> {
        Run {
            classifier: &self.classifier,
            query: &self.query,
            settings: &self.settings,
            patterns,
        }
    }

    /// Hands the kept records of `live`, whole records of an input read as
    /// it is written (`velos logs --follow`), to `sink`, in order. Returns
    /// how many were kept.
    pub fn live<S: RecordSink>(&self, live: Live<'_>, sink: &mut S) -> Result<usize, EngineError> {
        let scanner = Scanner::new(
            live.layout.clone(),
            live.ctx,
            &self.classifier,
            &self.query,
            live.name,
        )
        .with_time_floor(live.time_floor);
        let mut batch = sink.batch();
        scanner.visit_range(
            live.data,
            live.from,
            live.data.len(),
            live.first_line,
            &mut batch,
        );
        let kept = batch.len();
        sink.take(&mut batch)?;
        Ok(kept)
    }

    /// Writes every kept record of `input` to `sink`, in input order.
    pub fn print<S: RecordSink>(&self, mut input: Input, sink: &mut S) -> Result<(), EngineError> {
        let filter = self.patterns_for(&mut input, sink.needs_patterns())?;
        let run = self.run(filter.as_ref());
        self.check_opened(&run, &input)?;
        let total = input.file_bytes();
        let bar = (self.settings.progress && total >= PROGRESS_BYTES).then(|| progress_bar(total));
        let mut damage = None;
        for unit in input.units {
            if sink.closed() {
                break;
            }
            let read = match unit {
                Unit::Merged(lanes) => merge::run(&run, lanes, &self.zone, sink, &mut None),
                Unit::One(single) => match input::open(&run, single, &self.zone, self.now())? {
                    OpenedUnit::Stream { name, ctx, input } => {
                        stream(&run, &ctx, &name, input, sink, &mut None)
                    }
                    OpenedUnit::Mapped { opened, path } => {
                        let Opened {
                            file,
                            ctx,
                            layout,
                            name,
                        } = &opened;
                        let scanner = Scanner::for_run(&run, layout.clone(), ctx, name, 0);
                        if let Err(offset) =
                            run.forward(&scanner, &file.data, sink, bar.as_ref())?
                            && let Some(rest) =
                                input::truncated_fallback(name, path.as_deref(), offset)?
                        {
                            stream(&run, ctx, name, &rest[..], sink, &mut None)?;
                        }
                        Ok(())
                    }
                },
            };
            defer(read, &mut damage)?;
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        finish(sink, damage)
    }

    /// Writes the last `want` kept records of `input` to `sink`, reading
    /// from the end of the input.
    pub fn tail<S: RecordSink>(
        &self,
        mut input: Input,
        want: usize,
        sink: &mut S,
    ) -> Result<(), EngineError> {
        let filter = self.patterns_for(&mut input, sink.needs_patterns())?;
        let run = self.run(filter.as_ref());
        self.check_opened(&run, &input)?;
        let mut pieces: Vec<Vec<S::Batch>> = Vec::new();
        let mut have = 0usize;
        let mut damage = None;
        for unit in input.units.into_iter().rev() {
            if have >= want {
                break;
            }
            let mut buffer = Some(TailBuffer::new(want - have));
            let read = match unit {
                Unit::Merged(lanes) => merge::run(&run, lanes, &self.zone, sink, &mut buffer),
                Unit::One(single) => match input::open(&run, single, &self.zone, self.now())? {
                    OpenedUnit::Stream { name, ctx, input } => {
                        stream(&run, &ctx, &name, input, sink, &mut buffer)
                    }
                    OpenedUnit::Mapped { opened, path } => {
                        let Opened {
                            file,
                            ctx,
                            layout,
                            name,
                        } = &opened;
                        let scanner = Scanner::for_run(&run, layout.clone(), ctx, name, 0);
                        match run.tail(&scanner, &file.data, want - have, sink) {
                            Ok(piece) => {
                                buffer = None;
                                have += piece.1;
                                pieces.push(piece.0);
                            }
                            Err(offset) => {
                                let from = if path.is_some() { 0 } else { offset };
                                if let Some(rest) =
                                    input::truncated_fallback(name, path.as_deref(), from)?
                                {
                                    stream(&run, ctx, name, &rest[..], sink, &mut buffer)?;
                                }
                            }
                        }
                        Ok(())
                    }
                },
            };
            defer(read, &mut damage)?;
            if let Some(buffer) = buffer {
                let (batches, count) = buffer.into_batches();
                have += count;
                pieces.push(batches);
            }
        }
        for piece in pieces.iter_mut().rev() {
            for batch in piece {
                sink.take(batch)?;
            }
        }
        finish(sink, damage)
    }

    /// Runs the analysis stages over the kept records of `input`, hands
    /// the report to `sink` and returns it.
    pub fn analyze<S: RecordSink>(
        &self,
        mut input: Input,
        sink: &mut S,
    ) -> Result<Report, EngineError> {
        let filter = self.patterns_for(&mut input, false)?;
        let run = self.run(filter.as_ref());
        self.check_opened(&run, &input)?;
        let config = &self.pipeline;
        let mut damage = None;
        let mut kept = Kept {
            mapped: Vec::new(),
            parts: Vec::new(),
            wanted: config.dedup,
        };
        let state = self.analyze_units(&run, input, config, &mut kept, &mut damage)?;
        let mut report = state.finish(config);
        if let Some(groups) = &mut report.dedup {
            self.fill_samples(&run, groups, &kept)?;
        }
        sink.report(&report)?;
        finish(sink, damage)?;
        Ok(report)
    }

    /// The patterns known before a pass: needed for pattern ids in the
    /// output or to keep only some patterns. Streams are spooled first,
    /// so they can be read twice.
    fn patterns_for(
        &self,
        input: &mut Input,
        ids_shown: bool,
    ) -> Result<Option<PatternFilter>, EngineError> {
        if self.keep.is_none() && !ids_shown {
            return Ok(None);
        }
        input.spool()?;
        // Only the templates are needed here.
        let templates_only = PipelineConfig {
            dedup: false,
            trends: false,
            anomaly: false,
            ..self.pipeline.clone()
        };
        let mut damage = None;
        let mut kept = Kept {
            mapped: Vec::new(),
            parts: Vec::new(),
            wanted: false,
        };
        let first = Input {
            units: input.units.iter_mut().map(Unit::second_pass).collect(),
        };
        let state = self.analyze_units(
            &self.run(None),
            first,
            &templates_only,
            &mut kept,
            &mut damage,
        )?;
        if let Some(e) = damage {
            // The records cannot be numbered without every template.
            return Err(e);
        }
        Ok(Some(PatternFilter {
            patterns: state.patterns(&self.pipeline),
            keep: self.keep.clone(),
        }))
    }

    /// Every mapped file handed in already opened is checked for times
    /// before anything is written.
    fn check_opened(&self, run: &Run<'_>, input: &Input) -> Result<(), EngineError> {
        for unit in &input.units {
            let opened: Vec<&Opened> = match unit {
                Unit::One(Single::Opened(o)) => vec![o],
                Unit::Merged(lanes) => lanes
                    .iter()
                    .flatten()
                    .filter_map(|p| match p {
                        merge::LanePart::Opened(o) => Some(o),
                        merge::LanePart::Input(_) => None,
                    })
                    .collect(),
                Unit::One(_) => Vec::new(),
            };
            for o in opened {
                input::check_times(run, o)?;
            }
        }
        Ok(())
    }

    /// Runs the analysis stages over every unit, in order.
    fn analyze_units(
        &self,
        run: &Run<'_>,
        input: Input,
        config: &PipelineConfig,
        kept: &mut Kept,
        damage: &mut Option<EngineError>,
    ) -> Result<Pipeline, EngineError> {
        let mut total = Pipeline::new(config);
        for (i, unit) in input.units.into_iter().enumerate() {
            let base = (i as u64) << UNIT_SHIFT;
            if let Unit::One(Single::Part(part)) = &unit {
                kept.parts.push((i, part.clone()));
            }
            let read = match unit {
                Unit::Merged(lanes) => {
                    let mut analyzer = Analyzer::new(config);
                    let read = merge::for_each(
                        run,
                        lanes,
                        &self.zone,
                        base,
                        |scanner, data, start, end, _, seq| {
                            let mut visitor = InOrder {
                                order: seq,
                                inner: &mut analyzer,
                            };
                            scanner.visit(data, start, end, None, false, &mut visitor);
                            Ok(true)
                        },
                    );
                    total.merge(analyzer.pipeline);
                    read
                }
                Unit::One(single) => match input::open(run, single, &self.zone, self.now())? {
                    OpenedUnit::Stream { name, ctx, input } => {
                        analyze_stream(run, &ctx, &name, input, base, config, &mut total)
                    }
                    OpenedUnit::Mapped { opened, path } => {
                        let scanner = Scanner::for_run(
                            run,
                            opened.layout.clone(),
                            &opened.ctx,
                            &opened.name,
                            base,
                        );
                        match run.analyze(&scanner, &opened.file.data, config) {
                            Ok(state) => {
                                total.merge(state);
                                if kept.wanted && kept.mapped.len() < MAX_KEPT_MAPPED {
                                    kept.mapped.push((i, opened));
                                }
                            }
                            Err(offset) => {
                                let from = if path.is_some() { 0 } else { offset };
                                let (ctx, name) = (&opened.ctx, &opened.name);
                                if let Some(rest) =
                                    input::truncated_fallback(name, path.as_deref(), from)?
                                {
                                    analyze_stream(
                                        run,
                                        ctx,
                                        name,
                                        &rest[..],
                                        base,
                                        config,
                                        &mut total,
                                    )?;
                                }
                            }
                        }
                        Ok(())
                    }
                },
            };
            defer(read, damage)?;
        }
        Ok(total)
    }

    /// Reads the first message of dedup groups whose sample was not kept
    /// (the records of mapped files): from the mapping the analysis used,
    /// else from their file again.
    fn fill_samples(
        &self,
        run: &Run<'_>,
        groups: &mut [crate::analyze::dedup::Group],
        kept: &Kept,
    ) -> Result<(), EngineError> {
        let span = 1 << UNIT_SHIFT;
        for (i, o) in &kept.mapped {
            let base = (*i as u64) << UNIT_SHIFT;
            read_samples(groups, base, span, o.file.data.bytes(), &o.layout, &o.ctx);
        }
        for (i, part) in &kept.parts {
            let base = (*i as u64) << UNIT_SHIFT;
            let wanted = |g: &crate::analyze::dedup::Group| {
                g.sample.is_empty() && g.first_order >> UNIT_SHIFT == *i as u64
            };
            if kept.mapped.iter().any(|(unit, _)| unit == i) || !groups.iter().any(wanted) {
                continue;
            }
            if let Some(o) = input::reopen(run, part, &self.zone, self.now())? {
                read_samples(groups, base, span, o.file.data.bytes(), &o.layout, &o.ctx);
            }
        }
        for g in groups.iter_mut().filter(|g| g.sample.is_empty()) {
            g.sample = g.template.clone();
        }
        Ok(())
    }
}

/// Whole records of an input read as it is written, for [`Engine::live`].
#[derive(Debug, Clone, Copy)]
pub struct Live<'a> {
    /// The input's name, for display.
    pub name: &'a str,
    /// The bytes: whole records from `from` to the end.
    pub data: &'a [u8],
    /// Where the records start in `data`.
    pub from: usize,
    /// The input's layout.
    pub layout: &'a Layout,
    /// Time zone and reference date of the records' times.
    pub ctx: &'a TimeContext,
    /// Time of the last timed record before them, for records at the start
    /// that have none of their own.
    pub time_floor: Option<i64>,
    /// 1-based line number at `from`, when the sink wants line numbers.
    pub first_line: Option<u64>,
}

/// What an analysis keeps for reading dedup samples afterwards.
struct Kept {
    /// Files still mapped, by unit index.
    mapped: Vec<(usize, Opened)>,
    /// Parts that can be opened again, by unit index.
    parts: Vec<(usize, Part)>,
    /// Whether samples are wanted at all.
    wanted: bool,
}

impl Unit {
    /// A unit to read in a first pass, leaving one to read in the second
    /// (the input was spooled, so every part can be opened again).
    fn second_pass(&mut self) -> Unit {
        match self {
            Unit::One(single) => Unit::One(match single {
                Single::Part(part) => Single::Part(part.clone()),
                Single::Bytes { name, data } => Single::Bytes {
                    name: name.clone(),
                    data: data.clone(),
                },
                Single::Opened(o) => Single::Bytes {
                    name: o.name.clone(),
                    data: o.file.data.bytes().to_vec(),
                },
                // Spooled away by `Input::spool`.
                Single::Reader { name, .. } => Single::Bytes {
                    name: name.clone(),
                    data: Vec::new(),
                },
            }),
            Unit::Merged(lanes) => Unit::Merged(
                lanes
                    .iter()
                    .map(|parts| parts.iter().filter_map(merge::LanePart::reopen).collect())
                    .collect(),
            ),
        }
    }
}

/// Folds a stream's kept records into `total`.
fn analyze_stream(
    run: &Run<'_>,
    ctx: &TimeContext,
    name: &str,
    input: impl std::io::Read,
    base: u64,
    config: &PipelineConfig,
    total: &mut Pipeline,
) -> Result<(), EngineError> {
    stream_visit(
        run,
        ctx,
        name,
        input,
        base,
        false,
        total,
        |_| Analyzer::new(config),
        |total, a| {
            total.merge(a.pipeline);
            Ok(true)
        },
    )
}

/// Keeps a failure to read a source (it ends that source, the rest of the
/// run goes on); other errors stop the run.
fn defer(
    result: Result<(), EngineError>,
    damage: &mut Option<EngineError>,
) -> Result<(), EngineError> {
    match result {
        Err(e @ EngineError::Source(_)) => {
            damage.get_or_insert(e);
            Ok(())
        }
        other => other,
    }
}

/// Flushes the sink; then the first deferred failure, if any.
fn finish<S: RecordSink>(sink: &mut S, damage: Option<EngineError>) -> Result<(), EngineError> {
    sink.flush()?;
    match damage {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn progress_bar(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

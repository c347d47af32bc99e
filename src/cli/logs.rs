//! `velos logs`: flags, and the glue from sources to the engine.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use std::collections::HashSet;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use crate::analyze::dedup::Group;
use crate::analyze::report::{SummaryContext, dedup_json, dedup_line, summary_json, summary_text};
use crate::analyze::{Pipeline, PipelineConfig};
use crate::config::Config;
use crate::engine::analyze::{Analyzer, read_samples};
use crate::engine::merge::{InOrder, LanePart, Opened};
use crate::engine::{
    self, EngineError, PatternFilter, Run, Scanner, Settings, Sink, TailBuffer, merge,
};
use crate::frame::Layout;
use crate::output::{Format, Printer};
use crate::query::{Query, QuerySpec, parse_duration};
use crate::source::{self, Body, Input, Part, SourceError};
use crate::text::shell_quote;
use crate::timestamp::{self, TimeContext, Zone};

/// Default number of records shown when no filter is given, as PM2 does.
const DEFAULT_LINES: usize = 15;
/// Inputs at least this large get a progress bar on a terminal.
const PROGRESS_BYTES: u64 = 256 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Arguments of `velos logs`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  velos logs api                                 last 15 records of process `api`
  velos logs api --grep timeout --level error    errors mentioning timeout
  velos logs api -f --level warn+                warnings and errors as they are written
  velos logs /var/log/nginx/error.log --since 1h
  journalctl -o short-iso | velos logs - --level warn+
  velos logs app.log --since '2026-02-12 10:00' --until '2026-02-12 11:00' --json
  velos logs /var/log/syslog.2.gz --summary       gzip, zstd, xz and bzip2 are read as they are
  velos logs a.log b.log                         both files, records interleaved by time
  velos logs a.log b.log --concat                a, then b (no merging)")]
pub struct LogsArgs {
    /// A process name (its files under $VELOS_HOME/logs), a log file (plain or compressed: gzip, zstd, xz, bzip2, told by content), or `-` for stdin. Several may be given: their records are merged by time, each line prefixed by its source.
    #[arg(value_name = "NAME|FILE|-", required = true)]
    sources: Vec<String>,

    /// Keep records matching this regex (`^`/`$` match at line ends).
    #[arg(short = 'g', long, value_name = "RE")]
    grep: Option<String>,

    /// Make --grep case-insensitive.
    #[arg(short = 'i', long)]
    ignore_case: bool,

    /// Keep records of these levels: fatal, error (err), warn (warning), info, debug; comma-separated; `warn+` means warn and above.
    #[arg(short = 'l', long, value_name = "LEVELS")]
    level: Option<String>,

    /// Keep records at or after this time: 30s, 15m, 1h, 2d, today, yesterday, '2026-02-12 10:00', 2026-02-12T10:00:00Z (local time unless a zone is given).
    #[arg(short = 's', long, value_name = "TIME")]
    since: Option<String>,

    /// Keep records at or before this time (same forms as --since).
    #[arg(short = 'u', long, value_name = "TIME")]
    until: Option<String>,

    /// Show only the last N records that pass the filters. Without any filter, the last 15 are shown (as PM2 does); pass --lines 0 for all.
    #[arg(short = 'n', long, value_name = "N")]
    lines: Option<usize>,

    /// Keep running and print new records as they are written (after the last --lines, 15 by default without filters). Follows rotation and truncation, waits for files and processes whose logs do not exist yet, and merges a process's JSON and raw logs as they arrive. Stdin is read to its end. Ctrl-C stops.
    #[arg(short = 'f', long, conflicts_with_all = ["summary", "dedupe", "patterns"])]
    follow: bool,

    /// One JSON object per record: ts (unix ms or null), lvl, pid, src, msg, file, line.
    #[arg(long)]
    json: bool,

    /// Colour records by level: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    color: ColorChoice,

    /// Same as --color never.
    #[arg(long)]
    no_color: bool,

    /// Print a summary instead of records: period, counts by level, top patterns with trends, anomalies, last error, restarts and a 0-100 health score.
    #[arg(long, conflicts_with = "dedupe")]
    summary: bool,

    /// Collapse repeats of a pattern closer than --window into one line: `<message> (x<count>, first: <time>, last: <time>)`, in order of first occurrence.
    #[arg(long)]
    dedupe: bool,

    /// With --dedupe, print each group's template instead of its first message.
    #[arg(long, requires = "dedupe")]
    template: bool,

    /// Dedup window: repeats closer than this collapse (default 60s; 30s, 5m, 1h).
    #[arg(long, value_name = "DURATION")]
    window: Option<String>,

    /// Patterns listed in the summary (default 5).
    #[arg(long, value_name = "N")]
    top: Option<usize>,

    /// Keep only records of this pattern (16 hex digits, as shown by --summary and --json); repeatable.
    #[arg(long = "pattern", value_name = "ID")]
    patterns: Vec<String>,

    /// With several sources, read them one after the other in the order given instead of merging their records by time.
    #[arg(long)]
    concat: bool,

    /// Configuration file (default $VELOS_HOME/config.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N")]
    threads: Option<usize>,

    /// Chunk size in bytes for parallel reading (results never depend on it).
    #[arg(long, hide = true, default_value_t = 1 << 20)]
    chunk_size: usize,

    /// Longest record kept whole in a stream; longer runs without a record boundary are cut into pieces of this size.
    #[arg(long, hide = true, default_value_t = Settings::default().max_record)]
    max_record: usize,
}

/// Runs `velos logs`.
pub fn run(args: LogsArgs) -> Result<i32> {
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build_global()
            .context("starting worker threads")?;
    }
    // Files and stdin need no home; process names and the default config
    // do, so a missing $HOME only matters when they are used.
    let home = crate::home::Home::from_env()
        .map(|h| h.root().to_path_buf())
        .unwrap_or_else(|_| PathBuf::from(".velos"));
    let (config, config_path) = match &args.config {
        Some(path) => Config::load(path, true)?,
        None => Config::load(&home.join("config.toml"), false)?,
    };
    let classifier = config.classifier(&config_path)?;
    let mut pipeline = config.pipeline(&config_path)?;
    if let Some(window) = &args.window {
        pipeline.window_ms = match parse_duration(window) {
            Some(ms) if ms > 0 => ms,
            _ => {
                bail!("invalid --window `{window}`: use a positive duration such as 30s, 5m or 1h")
            }
        };
    }
    if let Some(top) = args.top {
        if top == 0 {
            bail!("invalid --top 0: use 1 or more");
        }
        pipeline.top = top;
    }
    let keep = parse_pattern_ids(&args.patterns)?;
    let zone = Zone::local();
    let now = timestamp::now_ms();
    let query = Query::build(
        &QuerySpec {
            grep: args.grep.as_deref(),
            ignore_case: args.ignore_case,
            level: args.level.as_deref(),
            since: args.since.as_deref(),
            until: args.until.as_deref(),
        },
        now,
        &TimeContext::new(zone.clone(), now),
    )?;
    let color = match args.color {
        _ if args.no_color => false,
        ColorChoice::Never => false,
        ColorChoice::Always => true,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let printer = Printer {
        format: if args.json {
            Format::Json
        } else {
            Format::Text
        },
        color,
        show_file: args.sources.len() > 1 && !args.json,
        zone: zone.clone(),
    };
    let tail = match args.lines {
        Some(0) => None,
        Some(n) => Some(n),
        None if query.is_empty() && args.patterns.is_empty() => Some(DEFAULT_LINES),
        None => None,
    };
    let mut run = Run {
        classifier: &classifier,
        query: &query,
        printer: &printer,
        settings: Settings {
            chunk_size: args.chunk_size,
            analysis_chunk_size: args.chunk_size.saturating_mul(16),
            tail,
            progress: std::io::stderr().is_terminal(),
            max_record: args.max_record.max(1),
            ..Settings::default()
        },
        patterns: None,
    };
    if args.follow {
        return super::follow::run(&run, &args.sources, &home, &zone, args.concat);
    }
    let inputs = args
        .sources
        .iter()
        .map(|arg| source::resolve(arg, &home))
        .collect::<Result<Vec<_>, _>>()?;
    let mut units = units_of(&inputs, args.concat);
    let analysis = args.summary || args.dedupe;
    // Pattern ids need every template first: a first pass groups them.
    let two_passes = keep.is_some() || (args.json && !analysis);
    if two_passes {
        // Streams are read once: save them for the second pass.
        for unit in &mut units {
            unit.spool()?;
        }
    }
    // A stream that fails part-way (a damaged compressed file) keeps what
    // was read before the damage; its error ends the run with status 1.
    let mut damage = None;
    let filter = if two_passes {
        // Only the templates are needed here.
        let templates_only = PipelineConfig {
            dedup: false,
            trends: false,
            anomaly: false,
            ..pipeline.clone()
        };
        let state = analyze_units(&run, &units, &zone, &templates_only, None, &mut damage)?;
        if let Some(e) = damage {
            // The records cannot be numbered without every template.
            return Err(e.into());
        }
        Some(PatternFilter {
            patterns: state.patterns(&pipeline),
            keep,
        })
    } else {
        None
    };
    run.patterns = filter.as_ref();
    let stdout = std::io::stdout();
    let mut sink = Sink::new(std::io::BufWriter::with_capacity(1 << 20, stdout.lock()));
    if analysis {
        // Run only the stages the output shows.
        let shown = if args.summary {
            PipelineConfig {
                dedup: false,
                ..pipeline.clone()
            }
        } else {
            PipelineConfig {
                trends: false,
                anomaly: false,
                ..pipeline.clone()
            }
        };
        // Dedup samples are read back from the files the analysis mapped.
        let mut mapped = Vec::new();
        let keep_mapped = (!args.summary).then_some(&mut mapped);
        let report =
            analyze_units(&run, &units, &zone, &shown, keep_mapped, &mut damage)?.finish(&shown);
        if args.summary {
            let ctx = SummaryContext {
                sources: &args.sources,
                now_ms: now,
                zone: &zone,
                top: pipeline.top,
                drill_down: drill_down(&args),
                width: crate::analyze::report::summary_width(),
            };
            let text = if args.json {
                let mut json = summary_json(&report, &ctx).to_string();
                json.push('\n');
                json
            } else {
                summary_text(&report, &ctx)
            };
            sink.write(text.as_bytes())?;
        } else {
            let mut report = report;
            if let Some(groups) = &mut report.dedup {
                fill_samples(groups, &units, &run, &zone, &mapped)?;
            }
            write_dedup(&report, &args, &printer, tail_for_groups(&args), &mut sink)?;
        }
    } else {
        match tail {
            Some(n) => run_tail(&run, units, &zone, n, &mut sink, &mut damage)?,
            None => run_forward(&run, units, &zone, &mut sink, &mut damage)?,
        }
    }
    sink.flush()?;
    match damage {
        Some(e) => Err(e.into()),
        None => Ok(0),
    }
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

/// `--pattern` values as ids.
fn parse_pattern_ids(values: &[String]) -> Result<Option<HashSet<u64>>> {
    if values.is_empty() {
        return Ok(None);
    }
    values
        .iter()
        .map(|v| {
            let hex = v.trim();
            if hex.len() == 16
                && let Ok(id) = u64::from_str_radix(hex, 16)
            {
                return Ok(id);
            }
            bail!("invalid pattern id `{v}`: use the 16 hex digits shown by --summary or --json")
        })
        .collect::<Result<HashSet<u64>>>()
        .map(Some)
}

/// With --dedupe, `--lines N` keeps the last N groups.
fn tail_for_groups(args: &LogsArgs) -> Option<usize> {
    args.lines.filter(|&n| n > 0)
}

fn write_dedup<W: Write>(
    report: &crate::analyze::report::Report,
    args: &LogsArgs,
    printer: &Printer,
    last: Option<usize>,
    sink: &mut Sink<W>,
) -> Result<()> {
    let Some(groups) = &report.dedup else {
        bail!("--dedupe needs the dedup stage: add \"dedup\" to [pipeline] stages in the config");
    };
    let skip = last.map_or(0, |n| groups.len().saturating_sub(n));
    let mut out = Vec::new();
    for group in &groups[skip..] {
        out.clear();
        if args.json {
            out.extend_from_slice(dedup_json(group).to_string().as_bytes());
            out.push(b'\n');
        } else {
            let color = if printer.color {
                crate::output::color_of(group.level)
            } else {
                ""
            };
            out.extend_from_slice(color.as_bytes());
            dedup_line(group, args.template, &printer.zone, &mut out);
            if !color.is_empty() {
                out.pop();
                out.extend_from_slice(b"\x1b[0m\n");
            }
        }
        sink.write(&out)?;
    }
    Ok(())
}

/// The `velos logs` command that lists a pattern's records under the same
/// filters as this run.
fn drill_down(args: &LogsArgs) -> String {
    let mut parts = vec!["velos logs".to_string()];
    parts.extend(args.sources.iter().map(|s| shell_quote(s).into_owned()));
    for (flag, value) in [
        ("--since", &args.since),
        ("--until", &args.until),
        ("--level", &args.level),
        ("--grep", &args.grep),
    ] {
        if let Some(v) = value {
            parts.push(format!("{flag} {}", shell_quote(v)));
        }
    }
    if args.ignore_case {
        parts.push("-i".into());
    }
    parts.join(" ")
}

/// Position bits of a record inside its unit (the unit index is above).
const UNIT_SHIFT: u32 = 48;

/// How many analyzed files stay mapped for reading dedup samples; the
/// rest are opened again.
const MAX_KEPT_MAPPED: usize = 16;

/// Reads the first message of dedup groups whose sample was not kept (the
/// records of mapped files): from the mapping the analysis used (`mapped`,
/// by unit index), else from their file again.
fn fill_samples(
    groups: &mut [Group],
    units: &[Unit],
    run: &Run<'_>,
    zone: &Zone,
    mapped: &[(usize, Opened)],
) -> Result<()> {
    for (i, unit) in units.iter().enumerate() {
        let Unit::Part(part) = unit else { continue };
        let unit_base = (i as u64) << UNIT_SHIFT;
        let wanted = |g: &Group| g.sample.is_empty() && g.first_order >> UNIT_SHIFT == i as u64;
        if !groups.iter().any(wanted) {
            continue;
        }
        if let Some((_, o)) = mapped.iter().find(|(unit, _)| *unit == i) {
            let bytes = o.file.data.bytes();
            read_samples(groups, unit_base, 1 << UNIT_SHIFT, bytes, &o.layout, &o.ctx);
            continue;
        }
        if let OpenedPart::Mapped(o) = open_part(run, part, zone)? {
            read_samples(
                groups,
                unit_base,
                1 << UNIT_SHIFT,
                o.file.data.bytes(),
                &o.layout,
                &o.ctx,
            );
        }
    }
    for g in groups.iter_mut().filter(|g| g.sample.is_empty()) {
        g.sample = g.template.clone();
    }
    Ok(())
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
    engine::stream_visit(
        run,
        ctx,
        name,
        input,
        base,
        || Analyzer::new(config),
        |a| {
            total.merge(a.pipeline);
            Ok(true)
        },
    )
}

/// Runs the analysis stages over every unit, in order. With `keep_mapped`,
/// the first analyzed files are handed back still mapped, by unit index.
fn analyze_units(
    run: &Run<'_>,
    units: &[Unit],
    zone: &Zone,
    config: &PipelineConfig,
    mut keep_mapped: Option<&mut Vec<(usize, Opened)>>,
    damage: &mut Option<EngineError>,
) -> Result<Pipeline> {
    let mut total = Pipeline::new(config);
    for (i, unit) in units.iter().enumerate() {
        let base = (i as u64) << UNIT_SHIFT;
        match unit {
            Unit::Part(part) => match open_part(run, part, zone)? {
                OpenedPart::Stream { name, ctx, input } => {
                    let read = analyze_stream(run, &ctx, &name, input, base, config, &mut total);
                    defer(read, damage)?;
                }
                OpenedPart::Mapped(opened) => {
                    let mut scanner =
                        Scanner::for_run(run, opened.layout.clone(), &opened.ctx, &opened.name);
                    scanner.order_base = base;
                    match run.analyze(&scanner, &opened.file.data, config) {
                        Ok(state) => {
                            total.merge(state);
                            if let Some(kept) = keep_mapped.as_deref_mut()
                                && kept.len() < MAX_KEPT_MAPPED
                            {
                                kept.push((i, opened));
                            }
                        }
                        Err(_) => {
                            let rest = truncated_fallback(&opened.file.path, 0)?;
                            let (ctx, name) = (&opened.ctx, &opened.name);
                            analyze_stream(run, ctx, name, &rest[..], base, config, &mut total)?;
                        }
                    }
                }
            },
            Unit::Merged(lanes) => {
                let mut analyzer = Analyzer::new(config);
                let read = merge::for_each(
                    run,
                    lanes_of(lanes),
                    zone,
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
                defer(read, damage)?;
                total.merge(analyzer.pipeline);
            }
        }
    }
    Ok(total)
}

/// One thing to read in order: an input, or several inputs merged by time
/// (each a lane of parts read one after the other).
enum Unit {
    Part(Part),
    Merged(Vec<Vec<Part>>),
}

impl Unit {
    /// Saves the unit's streams (stdin, pipes) to temporary files, so the
    /// unit can be read twice.
    fn spool(&mut self) -> Result<(), SourceError> {
        let parts: Vec<&mut Part> = match self {
            Unit::Part(part) => vec![part],
            Unit::Merged(lanes) => lanes.iter_mut().flatten().collect(),
        };
        for part in parts {
            if !part.rereadable() {
                *part = source::spool(part)?;
            }
        }
        Ok(())
    }
}

/// The units of the inputs: one merge of every lane (a file, stdin, each
/// stream of a process), or with `concat` each input on its own (a
/// process's streams still merged).
fn units_of(inputs: &[Input], concat: bool) -> Vec<Unit> {
    let lanes_of_input = |input: &Input| -> Vec<Vec<Part>> {
        match input {
            Input::Stdin => vec![vec![Part::Stdin]],
            Input::File(path) => vec![vec![Part::File(path.clone())]],
            Input::Process { streams, .. } => streams
                .iter()
                .map(|files| files.iter().cloned().map(Part::File).collect())
                .collect(),
        }
    };
    let unit_of = |mut lanes: Vec<Vec<Part>>| -> Vec<Unit> {
        match lanes.len() {
            0 => Vec::new(),
            1 => lanes.swap_remove(0).into_iter().map(Unit::Part).collect(),
            _ => vec![Unit::Merged(lanes)],
        }
    };
    if concat {
        inputs
            .iter()
            .flat_map(|input| unit_of(lanes_of_input(input)))
            .collect()
    } else {
        unit_of(inputs.iter().flat_map(lanes_of_input).collect())
    }
}

fn lanes_of(lanes: &[Vec<Part>]) -> Vec<Vec<LanePart>> {
    lanes
        .iter()
        .map(|parts| parts.iter().cloned().map(LanePart::Input).collect())
        .collect()
}

fn run_forward<W: Write>(
    run: &Run<'_>,
    units: Vec<Unit>,
    zone: &Zone,
    sink: &mut Sink<W>,
    damage: &mut Option<EngineError>,
) -> Result<()> {
    let total: u64 = units
        .iter()
        .filter_map(|u| match u {
            Unit::Part(Part::File(p)) => std::fs::metadata(p).ok().map(|m| m.len()),
            _ => None,
        })
        .sum();
    let bar = (run.settings.progress && total >= PROGRESS_BYTES).then(|| progress_bar(total));
    for unit in units {
        if sink.closed() {
            break;
        }
        match unit {
            Unit::Part(part) => match open_part(run, &part, zone)? {
                OpenedPart::Stream { name, ctx, input } => {
                    let read = engine::stream(run, &ctx, &name, input, sink, &mut None);
                    defer(read, damage)?;
                }
                OpenedPart::Mapped(Opened {
                    file,
                    ctx,
                    layout,
                    name,
                }) => {
                    let scanner = Scanner::for_run(run, layout, &ctx, &name);
                    if let Err(offset) = run.forward(&scanner, &file.data, sink, bar.as_ref())? {
                        let rest = truncated_fallback(&file.path, offset)?;
                        let mut none = None;
                        engine::stream(run, &ctx, &name, &rest[..], sink, &mut none)?;
                    }
                }
            },
            Unit::Merged(lanes) => {
                let read = merge::run(run, lanes_of(&lanes), zone, sink, &mut None);
                defer(read, damage)?;
            }
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(())
}

fn run_tail<W: Write>(
    run: &Run<'_>,
    units: Vec<Unit>,
    zone: &Zone,
    want: usize,
    sink: &mut Sink<W>,
    damage: &mut Option<EngineError>,
) -> Result<()> {
    let mut pieces: Vec<Vec<u8>> = Vec::new();
    let mut have = 0usize;
    for unit in units.into_iter().rev() {
        if have >= want {
            break;
        }
        let mut buffer = Some(TailBuffer::new(want - have));
        let piece = match unit {
            Unit::Part(part) => match open_part(run, &part, zone)? {
                OpenedPart::Stream { name, ctx, input } => {
                    let read = engine::stream(run, &ctx, &name, input, sink, &mut buffer);
                    defer(read, damage)?;
                    drain(buffer)
                }
                OpenedPart::Mapped(Opened {
                    file,
                    ctx,
                    layout,
                    name,
                }) => {
                    let scanner = Scanner::for_run(run, layout, &ctx, &name);
                    match run.tail(&scanner, &file.data, want - have) {
                        Ok(piece) => piece,
                        Err(_) => {
                            let rest = truncated_fallback(&file.path, 0)?;
                            engine::stream(run, &ctx, &name, &rest[..], sink, &mut buffer)?;
                            drain(buffer)
                        }
                    }
                }
            },
            Unit::Merged(lanes) => {
                let read = merge::run(run, lanes_of(&lanes), zone, sink, &mut buffer);
                defer(read, damage)?;
                drain(buffer)
            }
        };
        have += piece.1;
        pieces.push(piece.0);
    }
    for piece in pieces.iter().rev() {
        sink.write(piece)?;
    }
    Ok(())
}

fn drain(buffer: Option<TailBuffer>) -> (Vec<u8>, usize) {
    buffer.map(TailBuffer::into_parts).unwrap_or_default()
}

/// An opened input: a mapped file (read in parallel chunks) or a stream.
enum OpenedPart {
    Mapped(Opened),
    Stream {
        name: String,
        ctx: TimeContext,
        input: Box<dyn std::io::Read + Send>,
    },
}

/// Opens an input; for a mapped file, learns its layout and checks that a
/// time filter can apply to it (a stream is checked as it is read).
fn open_part(run: &Run<'_>, part: &Part, zone: &Zone) -> Result<OpenedPart> {
    let opened = part.open()?;
    let reference = opened.modified_ms.unwrap_or_else(timestamp::now_ms);
    let ctx = TimeContext::new(zone.clone(), reference);
    Ok(match opened.body {
        Body::Stream(input) => OpenedPart::Stream {
            name: opened.name,
            ctx,
            input,
        },
        Body::Mapped(file) => {
            let layout = Layout::sniff(file.data.bytes(), &ctx);
            check_times(run, &layout, &file.data, &opened.name)?;
            OpenedPart::Mapped(Opened {
                file,
                ctx,
                layout,
                name: opened.name,
            })
        }
    })
}

fn check_times(
    run: &Run<'_>,
    layout: &Layout,
    data: &crate::source::FileBytes,
    name: &str,
) -> Result<(), EngineError> {
    if run.query.has_time() && !layout.timed && !data.bytes().is_empty() {
        return Err(EngineError::NoTimestamps(name.to_string()));
    }
    Ok(())
}

fn truncated_fallback(path: &std::path::Path, offset: usize) -> Result<Vec<u8>> {
    eprintln!(
        "velos: warning: {} shrank while it was being read; reading what is left from byte {offset}",
        path.display()
    );
    Ok(source::read_from(path, offset as u64)?)
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

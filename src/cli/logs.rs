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
use crate::engine::merge::Opened;
use crate::engine::{
    self, EngineError, PatternFilter, Run, Scanner, Settings, Sink, TailBuffer, merge,
};
use crate::frame::Layout;
use crate::output::{Format, Printer};
use crate::query::{Query, QuerySpec, parse_duration};
use crate::source::{self, Input};
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
  velos logs app.log --since '2026-02-12 10:00' --until '2026-02-12 11:00' --json")]
pub struct LogsArgs {
    /// A process name (its files under $VELOS_HOME/logs), a log file, or `-` for stdin. Several may be given.
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

    /// Configuration file (default $VELOS_HOME/config.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N")]
    threads: Option<usize>,

    /// Chunk size in bytes for parallel reading (results never depend on it).
    #[arg(long, hide = true, default_value_t = 1 << 20)]
    chunk_size: usize,
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
            ..Settings::default()
        },
        patterns: None,
    };
    if args.follow {
        return super::follow::run(&run, &args.sources, &home, &zone);
    }
    let inputs = args
        .sources
        .iter()
        .map(|arg| source::resolve(arg, &home))
        .collect::<Result<Vec<_>, _>>()?;
    let units = units_of(&inputs);
    let analysis = args.summary || args.dedupe;
    // Pattern ids need every template first: a first pass groups them.
    let filter = if keep.is_some() || (args.json && !analysis) {
        // Only the templates are needed here.
        let templates_only = PipelineConfig {
            dedup: false,
            trends: false,
            anomaly: false,
            ..pipeline.clone()
        };
        let state = analyze_units(&run, &units, &zone, &templates_only, None)?;
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
        let report = analyze_units(&run, &units, &zone, &shown, keep_mapped)?.finish(&shown);
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
                fill_samples(groups, &units, &zone, &mapped)?;
            }
            write_dedup(&report, &args, &printer, tail_for_groups(&args), &mut sink)?;
        }
    } else {
        match tail {
            Some(n) => run_tail(&run, &units, &zone, n, &mut sink)?,
            None => run_forward(&run, &units, &zone, &mut sink)?,
        }
    }
    sink.flush()?;
    Ok(0)
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
    parts.extend(args.sources.iter().map(|s| shell_quote(s)));
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

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:+=,@".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
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
    zone: &Zone,
    mapped: &[(usize, Opened)],
) -> Result<()> {
    for (i, unit) in units.iter().enumerate() {
        let Unit::File(path) = unit else { continue };
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
        let (file, ctx) = engine::open_with_context(path, zone)?;
        let layout = Layout::sniff(file.data.bytes(), &ctx);
        read_samples(
            groups,
            unit_base,
            1 << UNIT_SHIFT,
            file.data.bytes(),
            &layout,
            &ctx,
        );
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
) -> Result<Pipeline> {
    let mut total = Pipeline::new(config);
    for (i, unit) in units.iter().enumerate() {
        let base = (i as u64) << UNIT_SHIFT;
        match unit {
            Unit::Stdin => {
                let ctx = stdin_context(zone);
                analyze_stream(
                    run,
                    &ctx,
                    "<stdin>",
                    std::io::stdin().lock(),
                    base,
                    config,
                    &mut total,
                )?;
            }
            Unit::File(path) => {
                let opened = open_unit(run, path, zone)?;
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
                        let rest = truncated_fallback(path, 0)?;
                        let (ctx, name) = (&opened.ctx, &opened.name);
                        analyze_stream(run, ctx, name, &rest[..], base, config, &mut total)?;
                    }
                }
            }
            Unit::Merged(streams) => {
                let mut analyzer = Analyzer::new(config);
                merge::for_each_record(run, streams, zone, base, |scanner, data, start, end| {
                    scanner.visit(data, start, end, None, false, &mut analyzer);
                    Ok(true)
                })?;
                total.merge(analyzer.pipeline);
            }
        }
    }
    Ok(total)
}

/// One thing to read in order: a file, stdin, or a process's streams
/// merged by time.
enum Unit {
    File(PathBuf),
    Stdin,
    Merged(Vec<Vec<PathBuf>>),
}

fn units_of(inputs: &[Input]) -> Vec<Unit> {
    let mut units = Vec::new();
    for input in inputs {
        match input {
            Input::Stdin => units.push(Unit::Stdin),
            Input::File(path) => units.push(Unit::File(path.clone())),
            Input::Process { streams, .. } if streams.len() == 1 => {
                units.extend(streams[0].iter().cloned().map(Unit::File));
            }
            Input::Process { streams, .. } => units.push(Unit::Merged(streams.clone())),
        }
    }
    units
}

fn display(path: &std::path::Path) -> String {
    path.display().to_string()
}

fn run_forward<W: Write>(
    run: &Run<'_>,
    units: &[Unit],
    zone: &Zone,
    sink: &mut Sink<W>,
) -> Result<()> {
    let total: u64 = units
        .iter()
        .filter_map(|u| match u {
            Unit::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            _ => None,
        })
        .sum();
    let bar = (run.settings.progress && total >= PROGRESS_BYTES).then(|| progress_bar(total));
    for unit in units {
        if sink.closed() {
            break;
        }
        match unit {
            Unit::Stdin => {
                let ctx = stdin_context(zone);
                let mut none = None;
                engine::stream(
                    run,
                    &ctx,
                    "<stdin>",
                    std::io::stdin().lock(),
                    sink,
                    &mut none,
                )?;
            }
            Unit::File(path) => {
                let Opened {
                    file,
                    ctx,
                    layout,
                    name,
                } = open_unit(run, path, zone)?;
                let scanner = Scanner::for_run(run, layout, &ctx, &name);
                if let Err(offset) = run.forward(&scanner, &file.data, sink, bar.as_ref())? {
                    let rest = truncated_fallback(path, offset)?;
                    let mut none = None;
                    engine::stream(run, &ctx, &name, &rest[..], sink, &mut none)?;
                }
            }
            Unit::Merged(streams) => merge::run(run, streams, zone, sink, &mut None)?,
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(())
}

fn run_tail<W: Write>(
    run: &Run<'_>,
    units: &[Unit],
    zone: &Zone,
    want: usize,
    sink: &mut Sink<W>,
) -> Result<()> {
    let mut pieces: Vec<Vec<u8>> = Vec::new();
    let mut have = 0usize;
    for unit in units.iter().rev() {
        if have >= want {
            break;
        }
        let mut buffer = Some(TailBuffer::new(want - have));
        let piece = match unit {
            Unit::Stdin => {
                let ctx = stdin_context(zone);
                engine::stream(
                    run,
                    &ctx,
                    "<stdin>",
                    std::io::stdin().lock(),
                    sink,
                    &mut buffer,
                )?;
                drain(buffer)
            }
            Unit::File(path) => {
                let Opened {
                    file,
                    ctx,
                    layout,
                    name,
                } = open_unit(run, path, zone)?;
                let scanner = Scanner::for_run(run, layout, &ctx, &name);
                match run.tail(&scanner, &file.data, want - have) {
                    Ok(piece) => piece,
                    Err(_) => {
                        let rest = truncated_fallback(path, 0)?;
                        engine::stream(run, &ctx, &name, &rest[..], sink, &mut buffer)?;
                        drain(buffer)
                    }
                }
            }
            Unit::Merged(streams) => {
                merge::run(run, streams, zone, sink, &mut buffer)?;
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

/// Opens a file unit: maps it, learns its layout, and checks that a time
/// filter can apply to it.
fn open_unit(run: &Run<'_>, path: &std::path::Path, zone: &Zone) -> Result<Opened> {
    let (file, ctx) = engine::open_with_context(path, zone)?;
    let name = display(path);
    let layout = Layout::sniff(file.data.bytes(), &ctx);
    check_times(run, &layout, &file.data, &name)?;
    Ok(Opened {
        file,
        ctx,
        layout,
        name,
    })
}

/// Time context of stdin: yearless dates are placed at or before now.
fn stdin_context(zone: &Zone) -> TimeContext {
    TimeContext::new(zone.clone(), timestamp::now_ms())
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

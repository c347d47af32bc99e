//! `velos logs`: its flags, turned into a checked run configuration (an
//! [`Engine`] and a [`Printer`]) and one of the engine's entry points:
//! print, tail, analyze (summary or dedup list), or follow.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use crate::analyze::PipelineConfig;
use crate::config::Config;
use crate::engine::{Engine, Input, Settings};
use crate::output::summary::{SummaryContext, summary_width};
use crate::output::{Format, PrintSink, Printer, ReportStyle};
use crate::query::{Query, QuerySpec, parse_duration};
use crate::text::shell_quote;
use crate::timestamp::{self, TimeContext, Zone};

/// Default number of records shown when no filter is given, as PM2 does.
const DEFAULT_LINES: usize = 15;

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

/// What `velos logs` does, chosen from its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryPoint {
    /// Every kept record.
    Print,
    /// The last N kept records.
    Tail(usize),
    /// The summary of the kept records.
    Summary,
    /// The kept records collapsed into dedup groups.
    Dedupe,
    /// The last N kept records (or all), then new ones as they are written.
    Follow(Option<usize>),
}

/// A checked run: the engine, the printer and the entry point.
struct RunConfig {
    engine: Engine,
    printer: Printer,
    entry: EntryPoint,
    home: PathBuf,
    now_ms: i64,
}

impl RunConfig {
    /// Reads the configuration file and checks every flag.
    fn from_args(args: &LogsArgs) -> Result<RunConfig> {
        // Files and stdin need no home; process names and the default
        // config do, so a missing $HOME only matters when they are used.
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
                _ => bail!(
                    "invalid --window `{window}`: use a positive duration such as 30s, 5m or 1h"
                ),
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
        let now_ms = timestamp::now_ms();
        let query = Query::build(
            &QuerySpec {
                grep: args.grep.as_deref(),
                ignore_case: args.ignore_case,
                level: args.level.as_deref(),
                since: args.since.as_deref(),
                until: args.until.as_deref(),
            },
            now_ms,
            &TimeContext::new(zone.clone(), now_ms),
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
            None if query.is_empty() && keep.is_none() => Some(DEFAULT_LINES),
            None => None,
        };
        let entry = match tail {
            _ if args.follow => EntryPoint::Follow(tail),
            _ if args.summary => EntryPoint::Summary,
            _ if args.dedupe => EntryPoint::Dedupe,
            Some(n) => EntryPoint::Tail(n),
            None => EntryPoint::Print,
        };
        // Run only the stages the output shows.
        let pipeline = match entry {
            EntryPoint::Summary => PipelineConfig {
                dedup: false,
                ..pipeline
            },
            EntryPoint::Dedupe if !pipeline.dedup => bail!(
                "--dedupe needs the dedup stage: add \"dedup\" to [pipeline] stages in the config"
            ),
            EntryPoint::Dedupe => PipelineConfig {
                trends: false,
                anomaly: false,
                ..pipeline
            },
            _ => pipeline,
        };
        let mut engine = Engine::builder()
            .classifier(classifier)
            .query(query)
            .pipeline(pipeline)
            .zone(zone)
            .settings(Settings {
                chunk_size: args.chunk_size,
                analysis_chunk_size: args.chunk_size.saturating_mul(16),
                progress: std::io::stderr().is_terminal(),
                max_record: args.max_record,
                ..Settings::default()
            });
        if let Some(keep) = keep {
            engine = engine.keep_patterns(keep);
        }
        Ok(RunConfig {
            engine: engine.build(),
            printer,
            entry,
            home,
            now_ms,
        })
    }
}

/// Runs `velos logs`.
pub fn run(args: LogsArgs) -> Result<i32> {
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build_global()
            .context("starting worker threads")?;
    }
    let cfg = RunConfig::from_args(&args)?;
    let (engine, home) = (&cfg.engine, &cfg.home);
    if let EntryPoint::Follow(tail) = cfg.entry {
        return super::follow::run(engine, &cfg.printer, tail, &args.sources, home, args.concat);
    }
    let input = Input::resolve(&args.sources, home, args.concat)?;
    let stdout = std::io::stdout();
    let out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    let sink = PrintSink::new(&cfg.printer, out);
    match cfg.entry {
        EntryPoint::Print => engine.print(input, &mut { sink })?,
        EntryPoint::Tail(n) => engine.tail(input, n, &mut { sink })?,
        EntryPoint::Summary => {
            let style = ReportStyle::Summary(SummaryContext {
                sources: &args.sources,
                now_ms: cfg.now_ms,
                zone: engine.zone(),
                top: engine.pipeline().top,
                drill_down: drill_down(&args),
                width: summary_width(),
            });
            engine.analyze(input, &mut sink.with_report(style))?;
        }
        EntryPoint::Dedupe => {
            // With --dedupe, `--lines N` keeps the last N groups.
            let style = ReportStyle::Dedup {
                template: args.template,
                last: args.lines.filter(|&n| n > 0),
            };
            engine.analyze(input, &mut sink.with_report(style))?;
        }
        EntryPoint::Follow(_) => {}
    }
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

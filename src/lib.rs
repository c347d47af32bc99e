//! velos: a process manager's smart-log and monitoring core.
//!
//! # The engine
//!
//! `velos logs`, the health scores of `velos monit` and any other reader of
//! logs go through one front door, the [`engine::Engine`]: a checked run
//! configuration, built once, with three entry points that each take an
//! input and a sink, and a fourth that hands the records of a followed
//! input to the same sink as they are written.
//!
//! ```text
//!  Input ──bytes──▶ Framer ──Record──▶ Query ──kept──▶ Sink (batches, in order)
//!  files (mapped),  Layout: records,   grep, level,  │     text / JSON printer, …
//!  rotated sets,    times, levels      since/until,  │
//!  .gz .zst .xz,    (classify)         --pattern     └──▶ Stages ──▶ Report ──▶ Sink
//!  stdin, merged                                         (LogProcessor)
//! ```
//!
//! | Type | Role |
//! |---|---|
//! | [`engine::Input`] | What a run reads: files, a process's rotated set (compressed copies included), stdin, bytes, readers, several inputs merged by time. Opened in one place, truncation handled there. |
//! | [`frame::Layout`], [`frame::Record`] | Cut bytes into records without copying: continuation lines, JSON and logfmt fields, timestamps, the per-file header layout. |
//! | [`classify::Classifier`] | Gives every record a level. |
//! | [`query::Query`] | The filters of a run: `--grep`, `--level`, `--since`, `--until`. |
//! | [`engine::Engine`] | The run configuration; entry points [`print`](engine::Engine::print), [`tail`](engine::Engine::tail), [`analyze`](engine::Engine::analyze), and [`live`](engine::Engine::live) for `--follow`. |
//! | [`analyze::LogProcessor`], [`analyze::Pipeline`] | Mergeable analysis stages (counts, dedup, patterns and trends, anomalies), folded per chunk and merged in order. |
//! | [`analyze::report::Report`] | What the stages found, and the health score. |
//! | [`engine::RecordSink`] | Receives kept records in batches, in input order, and the report. [`output::PrintSink`] is the text/JSON printer; a TUI pane or an exporter is another implementation. |
//!
//! A new input kind goes into [`engine::Input`] (and [`source`] for how its
//! bytes are opened); a new consumer of records is a [`engine::RecordSink`];
//! a new analysis is a stage in [`analyze`].
//!
//! ```
//! use velos::engine::{Engine, Input};
//! use velos::output::{PrintSink, Printer};
//! use velos::query::{Query, QuerySpec};
//! use velos::timestamp::{TimeContext, Zone};
//!
//! let log = b"2026-01-10T10:00:00Z INFO started\n\
//!             2026-01-10T10:00:01Z ERROR connection timeout\n\
//!             2026-01-10T10:00:02Z ERROR connection timeout\n".to_vec();
//! let now = 1_800_000_000_000;
//! let spec = QuerySpec { level: Some("error"), ..QuerySpec::default() };
//! let query = Query::build(&spec, now, &TimeContext::new(Zone::utc(), now)).unwrap();
//! let engine = Engine::builder().query(query).zone(Zone::utc()).build();
//!
//! // Print the kept records.
//! let printer = Printer::plain(Zone::utc());
//! let mut sink = PrintSink::new(&printer, Vec::new());
//! engine.print(Input::bytes("app.log", log.clone()), &mut sink).unwrap();
//! let text = String::from_utf8(sink.into_inner()).unwrap();
//! assert_eq!(text.lines().count(), 2);
//!
//! // Analyze them.
//! let mut sink = PrintSink::new(&printer, Vec::new());
//! let report = engine.analyze(Input::bytes("app.log", log), &mut sink).unwrap();
//! assert_eq!(report.counts.records, 2);
//! assert_eq!(report.pattern_count, 1);
//! ```
//!
//! # Modules
//!
//! - [`source`] — where bytes come from: files (memory-mapped, guarded
//!   against truncation), compressed files, stdin, a managed process's
//!   rotated log set.
//! - [`frame`] — cuts bytes into [`frame::Record`]s: continuation lines,
//!   JSON-lines fields, the per-file [`frame::Layout`].
//! - [`timestamp`] — finds and parses the time at the head of a line.
//! - [`level`] and [`classify`] — the severity scale, and the rules that
//!   give every record a level; the level prefilter.
//! - [`query`] — the filters of one run.
//! - [`engine`] — the front door: inputs, the parallel ordered scan, merging
//!   by time, analysis runs, the sink trait.
//! - [`normalize`] — message templates and their ids, header layouts.
//! - [`analyze`] — mergeable analysis stages: patterns, dedup, trends,
//!   anomalies; the report and health score.
//! - [`output`] — the printer (a sink), and the summary and dedup list
//!   rendered for people and programs.
//! - [`follow`] — follows growing logs: `--follow` and the TUI's log pane.
//! - [`sgr`] — terminal colour codes, left out of messages and templates.
//! - [`config`] — the TOML configuration.
//! - [`cli`] — the command line: flags into a run configuration, then an
//!   entry point.
//!
//! The supervisor:
//!
//! - [`home`] — the runtime home (`$VELOS_HOME`) and its paths.
//! - [`ipc`] — the daemon's protocol and client, shared by CLI, daemon and TUI.
//! - [`daemon`] — the supervisor daemon (the server).
//! - [`leftovers`] — processes that outlived their daemon, stopped by a new
//!   daemon or by `velos kill`.
//! - [`schema`] — the fields and values of the records the daemon
//!   captures, shared by the daemon and the readers.
//! - [`text`] — sizes, durations, shell words and control characters as
//!   people read and write them.
//! - [`tui`] — `velos monit`, the live terminal monitor.

pub mod analyze;
pub mod classify;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod engine;
pub mod follow;
pub mod frame;
pub mod home;
pub mod ipc;
pub mod leftovers;
pub mod level;
pub mod normalize;
pub mod output;
pub mod query;
pub mod schema;
pub mod sgr;
pub mod source;
pub mod text;
pub mod timestamp;
pub mod tui;

//! velos: a process manager's smart-log and monitoring core.
//!
//! The library follows the data flow of `velos logs`:
//!
//! ```text
//! source ──bytes──▶ frame ──Record──▶ query ──▶ analyze / output
//!  mmap, stdin,      records, times,    grep, level,   summary, dedupe,
//!  process logs      levels (classify)  since/until    text / JSON
//! ```
//!
//! - [`source`] — where bytes come from: files (memory-mapped, guarded
//!   against truncation), stdin, a managed process's rotated log set.
//! - [`frame`] — cuts bytes into [`frame::Record`]s: continuation lines,
//!   JSON-lines fields, the per-file [`frame::Layout`].
//! - [`timestamp`] — finds and parses the time at the head of a line.
//! - [`level`] and [`classify`] — the severity scale, and the rules that
//!   give every record a level; the level prefilter.
//! - [`query`] — the filters of one run.
//! - [`engine`] — runs a query over sources in parallel, in file order.
//! - [`follow`] — follows growing logs: `--follow` and the TUI's log pane.
//! - [`output`] — renders kept records.
//! - [`normalize`] — message templates and their ids, header layouts.
//! - [`sgr`] — terminal colour codes, left out of messages and templates.
//! - [`analyze`] — mergeable analysis stages: patterns, dedup, trends,
//!   anomalies, the summary.
//! - [`config`] — the TOML configuration.
//! - [`cli`] — the command line.
//!
//! The supervisor:
//!
//! - [`home`] — the runtime home (`$VELOS_HOME`) and its paths.
//! - [`ipc`] — the daemon's protocol and client, shared by CLI, daemon and TUI.
//! - [`daemon`] — the supervisor daemon (the server).
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

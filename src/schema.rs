//! The schema of the records the daemon captures into `logs/<name>.log`,
//! defined once for the daemon that writes them
//! ([`crate::daemon::logfile`]) and the analysis, follower and monitor that
//! read them back.
//!
//! One JSON object per line, fields in this order:
//!
//! ```text
//! {"ts":1700000000123,"lvl":"info","pid":4242,"msg":"listening on :80","src":"stdout"}
//! ```
//!
//! - [`TS`]: Unix milliseconds when the daemon read the line;
//! - [`LVL`]: `debug` `info` `warn` `error` `fatal`;
//! - [`PID`]: the process's pid;
//! - [`MSG`]: the line without its newline;
//! - [`SRC`]: a [`Src`]: `stdout`, `stderr`, or `velos` for the daemon's
//!   lifecycle records;
//! - [`CONT`] (only when true): this record continues the previous record
//!   of the same `src`;
//! - [`RAW_B64`] (only when the line is not valid UTF-8): the exact bytes in
//!   standard base64;
//! - [`EVENT`] (lifecycle records only): an [`Event`];
//! - [`REASON`] (restarts the daemon decides on its own): a [`Reason`], and
//!   [`PATH`], the changed file, for `watch`.

/// Unix milliseconds.
pub const TS: &str = "ts";
/// Level.
pub const LVL: &str = "lvl";
/// Pid.
pub const PID: &str = "pid";
/// The message.
pub const MSG: &str = "msg";
/// Where the record came from: [`Src`].
pub const SRC: &str = "src";
/// Continues the previous record of the same `src`.
pub const CONT: &str = "cont";
/// The exact bytes of a line that is not UTF-8.
pub const RAW_B64: &str = "raw_b64";
/// A lifecycle record's [`Event`].
pub const EVENT: &str = "event";
/// Why the daemon restarted a process on its own: [`Reason`].
pub const REASON: &str = "reason";
/// The changed file of a `watch` restart.
pub const PATH: &str = "path";

/// Where a record came from: the `src` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Src {
    /// The process's standard output.
    Stdout,
    /// The process's standard error.
    Stderr,
    /// The daemon (lifecycle records).
    Velos,
}

impl Src {
    /// The `src` field's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Src::Stdout => "stdout",
            Src::Stderr => "stderr",
            Src::Velos => "velos",
        }
    }
}

/// What happened to a process: the `event` field of a lifecycle record.
/// Counting `restart` counts restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// It was started.
    Start,
    /// It exited.
    Exit,
    /// It is being restarted.
    Restart,
    /// It was stopped.
    Stop,
    /// It was killed after its kill timeout.
    Kill,
    /// It gave up restarting.
    Errored,
    /// It could not be started.
    SpawnFailed,
    /// It was restored after the daemon started.
    Restore,
}

impl Event {
    /// The `event` field's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Start => "start",
            Event::Exit => "exit",
            Event::Restart => "restart",
            Event::Stop => "stop",
            Event::Kill => "kill",
            Event::Errored => "errored",
            Event::SpawnFailed => "spawn-failed",
            Event::Restore => "restore",
        }
    }
}

/// Why the daemon restarted a process on its own: the `reason` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Over `max_memory_restart`.
    Memory,
    /// Its `cron_restart` schedule fired.
    Cron,
    /// A watched file changed.
    Watch,
    /// `velos reload` changed its settings.
    Reload,
}

impl Reason {
    /// The `reason` field's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Memory => "memory",
            Reason::Cron => "cron",
            Reason::Watch => "watch",
            Reason::Reload => "reload",
        }
    }
}

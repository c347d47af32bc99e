//! The messages exchanged with the daemon, version [`PROTOCOL_VERSION`].
//!
//! Every request is one JSON object on one line, carrying the protocol
//! version and an operation: `{"v":1,"op":"list"}`,
//! `{"v":1,"op":"stop","target":"web"}`. Every request gets exactly one
//! reply line, tagged by `type`: `{"v":1,"type":"processes","processes":[…]}`
//! or, on failure, `{"v":1,"type":"error","code":"not-found","message":"…"}`.
//! Fields added later are optional, so older peers keep working; a change
//! that breaks this raises the version.

use serde::{Deserialize, Serialize};

/// Version of this protocol; requests carrying another are refused with
/// [`ErrorCode::UnsupportedVersion`].
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest request line the daemon reads (1 MiB).
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// Largest reply line a client reads (16 MiB).
pub const MAX_REPLY_BYTES: usize = 16 << 20;

/// Samples of CPU and memory kept per process: one per second, two minutes.
pub const METRICS_HISTORY: usize = 120;

/// A request with its protocol version, as framed on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestFrame {
    /// Protocol version.
    pub v: u32,
    /// The request.
    #[serde(flatten)]
    pub request: Request,
}

/// A reply with its protocol version, as framed on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplyFrame {
    /// Protocol version.
    pub v: u32,
    /// The reply.
    #[serde(flatten)]
    pub reply: Reply,
}

/// What a client asks of the daemon. A `target` is a process name, its
/// numeric id, or `all`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    /// Is the daemon there? Replies [`Reply::Pong`].
    Ping,
    /// Start a new process. Replies [`Reply::Processes`] with the one started.
    Start {
        /// What to run and how.
        spec: StartSpec,
    },
    /// Stop processes (SIGTERM to the group, SIGKILL after the kill timeout);
    /// replies once they are stopped.
    Stop {
        /// Name, id or `all`.
        target: String,
    },
    /// Restart processes (stop, then start); replies once they run again.
    Restart {
        /// Name, id or `all`.
        target: String,
    },
    /// Stop processes and remove them from the table (their logs stay).
    Delete {
        /// Name, id or `all`.
        target: String,
    },
    /// The process table.
    List {
        /// Include the metrics history of each process ([`ProcessInfo::samples`]).
        #[serde(default)]
        history: bool,
    },
    /// One process, with its metrics history.
    Info {
        /// Name or id.
        target: String,
    },
    /// Empty the logs of processes (current and rotated files).
    Flush {
        /// Name, id or `all`.
        target: String,
    },
    /// Stop every process, then the daemon. Processes that were running are
    /// started again by the next daemon.
    Kill,
    /// Apply an app file: start its processes, or with `reload` also
    /// restart the changed ones and delete those the file no longer has.
    /// Replies [`Reply::Applied`].
    Apply {
        /// The app file (absolute path), recorded in each process's
        /// [`AppOptions::app_file`].
        file: String,
        /// Its processes, in file order.
        specs: Vec<StartSpec>,
        /// Reload rather than start.
        #[serde(default)]
        reload: bool,
    },
}

impl Request {
    /// The operation's name, as spelled on the wire.
    pub fn op(&self) -> &'static str {
        match self {
            Request::Ping => "ping",
            Request::Start { .. } => "start",
            Request::Stop { .. } => "stop",
            Request::Restart { .. } => "restart",
            Request::Delete { .. } => "delete",
            Request::List { .. } => "list",
            Request::Info { .. } => "info",
            Request::Flush { .. } => "flush",
            Request::Kill => "kill",
            Request::Apply { .. } => "apply",
        }
    }

    /// Every operation name this version understands.
    pub const OPS: [&'static str; 10] = [
        "ping", "start", "stop", "restart", "delete", "list", "info", "flush", "kill", "apply",
    ];

    /// Whether the reply may wait for processes to stop (up to their kill
    /// timeouts), so a client should wait longer for it.
    pub fn waits_for_processes(&self) -> bool {
        matches!(
            self,
            Request::Stop { .. }
                | Request::Restart { .. }
                | Request::Delete { .. }
                | Request::Kill
                | Request::Apply { .. }
        )
    }
}

/// How to run a new process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartSpec {
    /// Unique name: ASCII letters, digits, `.`, `_`, `-`; not only digits;
    /// not `all`.
    pub name: String,
    /// Program to execute (looked up in the daemon's `PATH` when it has no `/`).
    pub cmd: String,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Working directory (absolute).
    pub cwd: String,
    /// Extra environment variables, on top of the daemon's environment.
    #[serde(default)]
    pub env: Vec<(String, String)>,
    /// Restart on unexpected exit.
    #[serde(default = "default_true")]
    pub autorestart: bool,
    /// Quick failures in a row (each within 30 s of its start) after which
    /// the process goes to `errored`.
    #[serde(default = "default_max_restarts")]
    pub max_restarts: u32,
    /// Time between SIGTERM and SIGKILL when stopping, in milliseconds.
    #[serde(default = "default_kill_timeout_ms")]
    pub kill_timeout_ms: u64,
    /// Write output as printed to `<name>-out.log` / `<name>-err.log`
    /// instead of JSON lines to `<name>.log`.
    #[serde(default)]
    pub raw: bool,
    /// What app files add: the app a process belongs to, and the restarts
    /// on memory, schedule and file changes.
    #[serde(default, skip_serializing_if = "AppOptions::is_empty")]
    pub options: Box<AppOptions>,
}

/// Settings of a process started from an app file (all optional, so older
/// peers and `state.json` files without them keep working).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppOptions {
    /// The app it is an instance of (`web` for `web-0`, `web-1`): a target
    /// naming the app acts on all its instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// The app file it was started from (absolute path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_file: Option<String>,
    /// Restart gracefully when resident memory exceeds this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_memory_restart: Option<u64>,
    /// Restart on this five-field cron expression, in local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_restart: Option<String>,
    /// Restart when files under these paths change (absolute, or relative
    /// to the working directory).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watch: Vec<String>,
    /// Glob patterns of watched paths to ignore (`*.log`, `node_modules`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watch_ignore: Vec<String>,
}

impl AppOptions {
    /// Whether nothing is set (a process started on the command line).
    pub fn is_empty(&self) -> bool {
        *self == AppOptions::default()
    }
}

fn default_true() -> bool {
    true
}

/// Default for [`StartSpec::max_restarts`].
pub const DEFAULT_MAX_RESTARTS: u32 = 15;

fn default_max_restarts() -> u32 {
    DEFAULT_MAX_RESTARTS
}

/// Default for [`StartSpec::kill_timeout_ms`]: 5 s.
pub const DEFAULT_KILL_TIMEOUT_MS: u64 = 5_000;

fn default_kill_timeout_ms() -> u64 {
    DEFAULT_KILL_TIMEOUT_MS
}

/// The daemon's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Reply {
    /// Answer to [`Request::Ping`].
    Pong {
        /// The daemon's crate version.
        version: String,
        /// The daemon's pid.
        pid: u32,
        /// Its runtime home.
        home: String,
    },
    /// The processes concerned by a start, stop, restart, delete, list or
    /// flush, in id order (for delete: as they were before removal).
    Processes {
        /// The processes.
        processes: Vec<ProcessInfo>,
    },
    /// Answer to [`Request::Info`].
    Process {
        /// The process, with its metrics history.
        process: Box<ProcessInfo>,
    },
    /// Answer to [`Request::Kill`]: the processes are stopped and the daemon
    /// is exiting.
    ShuttingDown,
    /// Answer to [`Request::Apply`]: what was done to each process.
    Applied {
        /// One entry per process of the file, then per process deleted.
        changes: Vec<AppChange>,
    },
    /// The request failed; nothing else changed.
    Error {
        /// What kind of failure.
        code: ErrorCode,
        /// One line naming the problem and, when there is one, the fix.
        message: String,
    },
}

/// What applying an app file did to one process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppChange {
    /// What was done.
    pub action: AppAction,
    /// The process afterwards (for `deleted`: as it was before removal).
    pub process: ProcessInfo,
}

/// The action taken on one process of an app file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppAction {
    /// It was not running and was started.
    Started,
    /// Its settings changed and it was restarted with the new ones.
    Restarted,
    /// It was running with the same settings and left alone.
    Unchanged,
    /// It was running and left alone although its settings differ
    /// (`start` leaves running processes be; `reload` applies changes).
    Differs,
    /// The file no longer has it: stopped and removed.
    Deleted,
}

impl AppAction {
    /// The action as shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            AppAction::Started => "started",
            AppAction::Restarted => "restarted",
            AppAction::Unchanged => "unchanged",
            AppAction::Differs => "differs",
            AppAction::Deleted => "deleted",
        }
    }
}

/// Kinds of failure a reply can report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The request is not valid JSON or lacks fields.
    BadRequest,
    /// The request line exceeds [`MAX_REQUEST_BYTES`].
    TooLarge,
    /// The request's `v` is not [`PROTOCOL_VERSION`].
    UnsupportedVersion,
    /// The request's `op` is not one this daemon knows.
    UnknownOp,
    /// No process has that name or id.
    NotFound,
    /// A process with that name exists already.
    AlreadyExists,
    /// The name is not allowed.
    InvalidName,
    /// The command could not be executed.
    SpawnFailed,
    /// The daemon is stopping and takes no new work.
    ShuttingDown,
    /// Too many clients are connected.
    Busy,
    /// Anything else (an I/O error in the daemon).
    Internal,
}

/// State of a supervised process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Spawned less than a second ago.
    Starting,
    /// Running for a second or more.
    Online,
    /// Sent SIGTERM, waiting for it to exit.
    Stopping,
    /// Not running, by request (or exited cleanly without autorestart).
    Stopped,
    /// Not running: failed too often, failed without autorestart, or could
    /// not be executed.
    Errored,
    /// Exited unexpectedly; will be started again after a backoff delay.
    WaitingRestart,
}

impl Status {
    /// The status as shown to people and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Starting => "starting",
            Status::Online => "online",
            Status::Stopping => "stopping",
            Status::Stopped => "stopped",
            Status::Errored => "errored",
            Status::WaitingRestart => "waiting-restart",
        }
    }

    /// Whether a process in this status has a live pid.
    pub fn is_running(self) -> bool {
        matches!(self, Status::Starting | Status::Online | Status::Stopping)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a process last ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitInfo {
    /// Exit code, when it exited.
    pub code: Option<i32>,
    /// Signal number, when a signal ended it.
    pub signal: Option<i32>,
    /// When, in Unix milliseconds.
    pub at: u64,
}

/// Conventional name of a signal number ([`ExitInfo::signal`]).
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => "signal",
    }
}

/// One metrics sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// When, in Unix milliseconds.
    pub ts: u64,
    /// CPU use in percent of one core (may exceed 100 on several cores).
    pub cpu: f32,
    /// Resident memory in bytes.
    pub memory: u64,
}

/// A process as the daemon reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessInfo {
    /// Stable numeric id.
    pub id: u32,
    /// Unique name.
    pub name: String,
    /// Current status.
    pub status: Status,
    /// Pid of the running process (also its process group id).
    pub pid: Option<u32>,
    /// Last CPU sample, percent of one core.
    pub cpu: Option<f32>,
    /// Last resident memory sample, bytes.
    pub memory: Option<u64>,
    /// Time since the current run started, milliseconds.
    pub uptime_ms: Option<u64>,
    /// Restarts so far (automatic and requested).
    pub restarts: u32,
    /// Unexpected exits in a row, each within 30 s of its start.
    pub quick_failures: u32,
    /// How the process last ended.
    pub last_exit: Option<ExitInfo>,
    /// How it is run.
    pub spec: StartSpec,
    /// Its log files (current ones; rotated files add `.1`, `.2`, …).
    pub log_files: Vec<String>,
    /// Metrics history, oldest first (only when asked for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<Sample>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_wire_form() {
        let frame = RequestFrame {
            v: PROTOCOL_VERSION,
            request: Request::Stop {
                target: "web".into(),
            },
        };
        let text = serde_json::to_string(&frame).unwrap();
        assert_eq!(text, r#"{"v":1,"op":"stop","target":"web"}"#);
        let back: RequestFrame = serde_json::from_str(r#"{"v":1,"op":"list"}"#).unwrap();
        assert_eq!(back.request, Request::List { history: false });
    }

    #[test]
    fn reply_wire_form() {
        let frame = ReplyFrame {
            v: PROTOCOL_VERSION,
            reply: Reply::Error {
                code: ErrorCode::NotFound,
                message: "no process named 'x'".into(),
            },
        };
        let text = serde_json::to_string(&frame).unwrap();
        assert_eq!(
            text,
            r#"{"v":1,"type":"error","code":"not-found","message":"no process named 'x'"}"#
        );
        let back: ReplyFrame = serde_json::from_str(&text).unwrap();
        assert_eq!(back.reply, frame.reply);
    }

    #[test]
    fn ops_cover_every_request() {
        for op in Request::OPS {
            let text = format!(
                r#"{{"v":1,"op":"{op}","target":"x","spec":{{"name":"a","cmd":"b","cwd":"/"}},"file":"/f","specs":[]}}"#
            );
            let frame: RequestFrame = serde_json::from_str(&text).unwrap();
            assert_eq!(frame.request.op(), op);
        }
    }
}

//! A small typed client: connects to the daemon (starting it when none
//! answers) and turns a [`Request`] into its [`Reply`], with timeouts.
//!
//! Starting the daemon runs `velos daemon`, which starts
//! `velos daemon --foreground` in a new session and exits once the socket
//! answers; the long-lived daemon is thus never a child of the client.

use std::io::{self, BufReader};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::frame::{FrameError, read_frame, write_frame};
use super::proto::{MAX_REPLY_BYTES, PROTOCOL_VERSION, Reply, ReplyFrame, Request, RequestFrame};
use crate::home::{HOME_ENV, Home, HomeError, open_private};

/// Default time to wait for a reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// Time to wait for a reply that waits on processes to stop
/// ([`Request::waits_for_processes`]).
pub const LONG_REPLY_TIMEOUT: Duration = Duration::from_secs(600);

/// Time allowed for a new daemon to answer.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Time a client waits for the socket of a daemon that runs but has no
/// socket file (it is starting, or creating it again after it was removed).
pub const SOCKET_WAIT: Duration = Duration::from_secs(3);

/// Why a request could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No daemon listens on the home's socket.
    #[error("no daemon is running for {home}")]
    NotRunning {
        /// The runtime home.
        home: PathBuf,
    },
    /// A daemon holds the home but its socket does not answer.
    #[error(
        "a daemon (pid {pid}) runs for {home} but does not answer on its socket; stop it with `velos kill`"
    )]
    Unreachable {
        /// The runtime home.
        home: PathBuf,
        /// The daemon's pid.
        pid: u32,
    },
    /// The socket exists but cannot be used.
    #[error("cannot connect to the daemon at {socket}: {source}")]
    Connect {
        /// The socket path.
        socket: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A new daemon did not come up.
    #[error("cannot start the daemon: {0}")]
    Start(String),
    /// The runtime home is unusable.
    #[error(transparent)]
    Home(#[from] HomeError),
    /// No reply in time.
    #[error("the daemon did not answer within {0:?}")]
    Timeout(Duration),
    /// The connection failed or a message was malformed.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The daemon closed the connection without replying.
    #[error("the daemon closed the connection without answering")]
    Closed,
    /// The reply is not valid for this protocol.
    #[error("unreadable reply from the daemon: {0}")]
    Protocol(String),
    /// The daemon speaks another protocol version.
    #[error(
        "the daemon speaks protocol version {0}, this client {PROTOCOL_VERSION}: restart it with `velos kill`"
    )]
    Version(u32),
}

/// A connection to the daemon. Requests on one connection are answered in
/// order; open several connections to work concurrently.
#[derive(Debug)]
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    buf: Vec<u8>,
    notices: Vec<String>,
}

impl Client {
    /// Connects to a running daemon; [`ClientError::NotRunning`] when none
    /// runs. A daemon that holds the home but whose socket is missing (it
    /// creates it again within a second) is waited for a few seconds, then
    /// reported as [`ClientError::Unreachable`].
    pub fn connect(home: &Home) -> Result<Client, ClientError> {
        let deadline = Instant::now() + SOCKET_WAIT;
        loop {
            match Client::connect_once(home) {
                Err(ClientError::NotRunning { .. }) => {}
                other => return other,
            }
            let Some(pid) = locked_daemon(home) else {
                return Err(ClientError::NotRunning {
                    home: home.root().to_path_buf(),
                });
            };
            if Instant::now() >= deadline {
                return Err(ClientError::Unreachable {
                    home: home.root().to_path_buf(),
                    pid,
                });
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// One attempt to connect to the socket.
    fn connect_once(home: &Home) -> Result<Client, ClientError> {
        home.check()?;
        let socket = home.socket();
        match UnixStream::connect(&socket) {
            Ok(stream) => Client::from_stream(stream).map_err(|source| ClientError::Connect {
                socket: socket.clone(),
                source,
            }),
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
                ) =>
            {
                Err(ClientError::NotRunning {
                    home: home.root().to_path_buf(),
                })
            }
            Err(source) => Err(ClientError::Connect { socket, source }),
        }
    }

    /// Connects to the daemon, starting it with this executable when none
    /// answers.
    pub fn connect_or_start(home: &Home) -> Result<Client, ClientError> {
        let exe = std::env::current_exe().map_err(|err| {
            ClientError::Start(format!("cannot find the velos executable: {err}"))
        })?;
        Client::connect_or_start_with(home, &exe)
    }

    /// Connects to the daemon, starting it by running `<exe> daemon` when
    /// none answers.
    pub fn connect_or_start_with(home: &Home, exe: &Path) -> Result<Client, ClientError> {
        match Client::connect(home) {
            Err(ClientError::NotRunning { .. }) => {}
            other => return other,
        }
        home.ensure()?;
        let output = Command::new(exe)
            .arg("daemon")
            .env(HOME_ENV, home.root())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|err| ClientError::Start(format!("cannot run {}: {err}", exe.display())))?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        // Another client may have started it concurrently: what counts is
        // that a daemon answers now.
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match Client::connect(home) {
                Ok(mut client) => {
                    client.notices = stderr
                        .lines()
                        .filter_map(|line| line.strip_prefix(NOTICE_PREFIX))
                        .map(str::to_string)
                        .collect();
                    return Ok(client);
                }
                Err(ClientError::NotRunning { .. }) if Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(20));
                }
                Err(ClientError::NotRunning { .. }) => {
                    let reason = stderr
                        .lines()
                        .rev()
                        .find(|line| !line.trim().is_empty())
                        .map(|line| {
                            let line = line.trim_start_matches("velos: ");
                            let line = line.trim_start_matches("error: ");
                            line.trim_start_matches("cannot start the daemon: ")
                                .to_string()
                        })
                        .unwrap_or_else(|| format!("`velos daemon` exited with {}", output.status));
                    return Err(ClientError::Start(reason));
                }
                Err(other) => return Err(other),
            }
        }
    }

    fn from_stream(stream: UnixStream) -> io::Result<Client> {
        let writer = stream.try_clone()?;
        writer.set_write_timeout(Some(REPLY_TIMEOUT))?;
        Ok(Client {
            reader: BufReader::with_capacity(64 * 1024, stream),
            writer,
            buf: Vec::new(),
            notices: Vec::new(),
        })
    }

    /// Warnings and errors of a daemon this client just started (a process
    /// table moved aside, entries skipped…), for the user to see once.
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    /// Sends `request` and waits for its reply ([`REPLY_TIMEOUT`], or
    /// [`LONG_REPLY_TIMEOUT`] for requests that wait on processes).
    pub fn request(&mut self, request: &Request) -> Result<Reply, ClientError> {
        let timeout = if request.waits_for_processes() {
            LONG_REPLY_TIMEOUT
        } else {
            REPLY_TIMEOUT
        };
        self.request_with_timeout(request, timeout)
    }

    /// Sends `request` and waits at most about `timeout` for its reply.
    pub fn request_with_timeout(
        &mut self,
        request: &Request,
        timeout: Duration,
    ) -> Result<Reply, ClientError> {
        let frame = RequestFrame {
            v: PROTOCOL_VERSION,
            request: request.clone(),
        };
        let sent = write_frame(&mut self.writer, &frame);
        if let Err(err) = sent {
            // A daemon serving its most clients answers `busy` and closes at
            // once, maybe before the request is written: read that answer.
            let closed = matches!(&err, FrameError::Io(io) if matches!(
                io.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ));
            if !closed {
                return Err(timeout_or(err, timeout));
            }
        }
        self.reader
            .get_ref()
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
            .map_err(FrameError::Io)?;
        match read_frame(&mut self.reader, MAX_REPLY_BYTES, &mut self.buf) {
            Ok(true) => {}
            Ok(false) => return Err(ClientError::Closed),
            Err(err) => return Err(timeout_or(err, timeout)),
        }
        let value: serde_json::Value = serde_json::from_slice(&self.buf)
            .map_err(|err| ClientError::Protocol(err.to_string()))?;
        let version = value.get("v").and_then(|v| v.as_u64()).unwrap_or(0);
        if version != u64::from(PROTOCOL_VERSION) {
            return Err(ClientError::Version(version as u32));
        }
        let frame: ReplyFrame =
            serde_json::from_value(value).map_err(|err| ClientError::Protocol(err.to_string()))?;
        Ok(frame.reply)
    }
}

fn timeout_or(err: FrameError, timeout: Duration) -> ClientError {
    match &err {
        FrameError::Io(io)
            if matches!(
                io.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            ClientError::Timeout(timeout)
        }
        _ => ClientError::Frame(err),
    }
}

/// How `velos daemon` prints a notice of the daemon it started on stderr;
/// [`Client::connect_or_start`] passes such lines on.
pub const NOTICE_PREFIX: &str = "velos: warning: ";

/// What [`launch_daemon`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// A new daemon answers.
    Started {
        /// Its pid.
        pid: u32,
        /// The warnings and errors it logged while starting.
        notices: Vec<String>,
    },
    /// A daemon was already answering.
    AlreadyRunning,
}

/// Starts `<exe> daemon --foreground` for `home` in a new session with its
/// standard streams on `/dev/null`, and waits until it answers (at most
/// [`START_TIMEOUT`]). The caller should exit soon after, so that the daemon
/// is adopted by init and no client ever has it as a child.
pub fn launch_daemon(home: &Home, exe: &Path) -> Result<Launch, ClientError> {
    match Client::connect(home) {
        Ok(_) => return Ok(Launch::AlreadyRunning),
        Err(ClientError::NotRunning { .. }) => {}
        Err(err) => return Err(err),
    }
    home.ensure()?;
    let mut command = Command::new(exe);
    command
        .arg("daemon")
        .arg("--foreground")
        .env(HOME_ENV, home.root())
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: `setsid` is async-signal-safe and touches no memory of the
    // parent; it detaches the daemon from the caller's terminal and session.
    unsafe {
        command.pre_exec(|| {
            rustix::process::setsid().map_err(io::Error::from)?;
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .map_err(|err| ClientError::Start(format!("cannot run {}: {err}", exe.display())))?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if Client::connect_once(home).is_ok() {
            let pid = child.id();
            return Ok(Launch::Started {
                pid,
                notices: start_notices(home, pid),
            });
        }
        match child.try_wait() {
            Ok(Some(status)) => {
                if Client::connect_once(home).is_ok() {
                    return Ok(Launch::AlreadyRunning);
                }
                let detail = last_daemon_log_message(home)
                    .unwrap_or_else(|| format!("it exited with {status}"));
                return Err(ClientError::Start(detail));
            }
            Ok(None) => {}
            Err(err) => {
                return Err(ClientError::Start(format!(
                    "cannot watch the daemon: {err}"
                )));
            }
        }
        if Instant::now() >= deadline {
            return Err(ClientError::Start(format!(
                "the daemon did not answer within {START_TIMEOUT:?}; see {}",
                home.daemon_log().display()
            )));
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// The end of `daemon.log` (its last 256 KiB), as text.
fn daemon_log_tail(home: &Home) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = open_private(&home.daemon_log(), std::fs::OpenOptions::new().read(true)).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(256 * 1024)))
        .ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The `msg` of the last line of `daemon.log`, which tells why a daemon
/// refused to start.
fn last_daemon_log_message(home: &Home) -> Option<String> {
    let text = daemon_log_tail(home)?;
    let line = text.lines().rev().find(|line| !line.trim().is_empty())?;
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    value.get("msg")?.as_str().map(str::to_string)
}

/// The warnings and errors the daemon with this pid wrote in `daemon.log`.
fn start_notices(home: &Home, pid: u32) -> Vec<String> {
    let Some(text) = daemon_log_tail(home) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|record| {
            record.get("pid").and_then(|p| p.as_u64()) == Some(u64::from(pid))
                && matches!(
                    record.get("lvl").and_then(|l| l.as_str()),
                    Some("warn" | "error")
                )
        })
        .filter_map(|record| record.get("msg")?.as_str().map(str::to_string))
        .collect()
}

/// The pid of the daemon holding the home's pid-file lock, if one does,
/// whether or not its socket answers. Read from `/proc/locks`, so that
/// looking never takes the lock (which would make a daemon starting at that
/// moment believe another one runs).
pub fn locked_daemon(home: &Home) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(home.pid_file()).ok()?;
    // The kernel names the file `major:minor:inode`, the numbers of its
    // device in hexadecimal.
    let dev = meta.dev();
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let file = format!("{major:02x}:{minor:02x}:{}", meta.ino());
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        // `1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF`
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [_, "FLOCK", _, _, pid, held, ..] if *held == file => pid.parse().ok(),
            _ => None,
        }
    })
}

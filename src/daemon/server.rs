//! The socket server: accepts clients, one thread each, and answers every
//! request line with one reply line.
//!
//! A request that is not JSON, has no or another version, names an unknown
//! operation, or exceeds [`MAX_REQUEST_BYTES`] gets an error reply and the
//! connection stays usable (an oversized line is skipped up to its newline).
//! A client has [`REQUEST_TIMEOUT`] to send each complete request.

use std::fs;
use std::io::{self, BufReader, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};

use super::events::Throttle;
use super::supervisor::Shared;
use crate::ipc::frame::{FrameError, read_frame, skip_line, write_frame};
use crate::ipc::{
    ErrorCode, MAX_REQUEST_BYTES, PROTOCOL_VERSION, Reply, ReplyFrame, Request, RequestFrame,
};

/// Most clients served at once; more get a `busy` error.
pub const MAX_CLIENTS: usize = 64;

/// Time a client has to send a complete request, counted from when it
/// connected or got its previous reply; a connection idle or slow for
/// longer is closed, so idle clients cannot hold the [`MAX_CLIENTS`] slots.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the server checks that its socket file is still in place.
pub const SOCKET_CHECK: Duration = Duration::from_secs(1);

/// Most bytes skipped after an oversized request before giving up on the
/// connection.
const MAX_SKIP: usize = 64 << 20;

const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Creates the socket at `path`, readable and writable by its owner only.
pub fn bind(path: &Path) -> io::Result<UnixListener> {
    let listener = UnixListener::bind(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// The socket file's identity, to notice it was removed or replaced.
fn identity(path: &Path) -> Option<(u64, u64)> {
    fs::symlink_metadata(path)
        .ok()
        .filter(|meta| meta.file_type().is_socket())
        .map(|meta| (meta.dev(), meta.ino()))
}

/// Accepts connections until [`Shared::begin_exit`]. Every
/// [`SOCKET_CHECK`], makes sure the socket file is still the one listened
/// on, and creates it again if it was removed or replaced.
pub fn serve(shared: &Arc<Shared>, mut listener: UnixListener) {
    let socket = shared.home().socket();
    let mut bound = identity(&socket);
    let clients = Arc::new(AtomicUsize::new(0));
    let mut next_check = Instant::now() + SOCKET_CHECK;
    let rebind_failures = Throttle::default();
    while !shared.is_exiting() {
        let wait = next_check.saturating_duration_since(Instant::now());
        let readable = {
            let mut fds = vec![PollFd::new(&listener, PollFlags::IN)];
            if let Some(wake) = shared.exit_fd() {
                fds.push(PollFd::from_borrowed_fd(wake, PollFlags::IN));
            }
            let timeout = Timespec {
                tv_sec: wait.as_secs() as i64,
                tv_nsec: wait.subsec_nanos().into(),
            };
            match poll(&mut fds, Some(&timeout)) {
                Ok(_) => !fds[0].revents().is_empty(),
                Err(_) => false,
            }
        };
        if shared.is_exiting() {
            break;
        }
        if readable {
            accept_all(shared, &listener, &clients);
        }
        if Instant::now() >= next_check {
            next_check = Instant::now() + SOCKET_CHECK;
            if identity(&socket) != bound || bound.is_none() {
                match rebind(&socket) {
                    Ok(fresh) => {
                        listener = fresh;
                        bound = identity(&socket);
                        shared.daemon_log().warn(&format!(
                            "the socket {} was removed or replaced; listening on it again",
                            socket.display()
                        ));
                    }
                    Err(err) => shared.daemon_log().error_throttled(
                        &rebind_failures,
                        &format!(
                            "the socket {} was removed and cannot be created again: {err}; stop the daemon with `velos kill`",
                            socket.display()
                        ),
                    ),
                }
            }
        }
    }
}

fn rebind(socket: &Path) -> io::Result<UnixListener> {
    match fs::remove_file(socket) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    bind(socket)
}

/// Accepts every pending connection, each served on a thread of its own.
fn accept_all(shared: &Arc<Shared>, listener: &UnixListener, clients: &Arc<AtomicUsize>) {
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                shared
                    .daemon_log()
                    .warn(&format!("cannot accept a connection: {err}"));
                thread::sleep(Duration::from_millis(50));
                return;
            }
        };
        if stream.set_nonblocking(false).is_err() {
            continue;
        }
        if clients.fetch_add(1, Ordering::SeqCst) >= MAX_CLIENTS {
            clients.fetch_sub(1, Ordering::SeqCst);
            let mut stream = stream;
            let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
            let _ = write_frame(
                &mut stream,
                &ReplyFrame {
                    v: PROTOCOL_VERSION,
                    reply: Reply::Error {
                        code: ErrorCode::Busy,
                        message: format!("more than {MAX_CLIENTS} clients connected; try again"),
                    },
                },
            );
            continue;
        }
        let for_thread = shared.clone();
        let counter = clients.clone();
        let spawned = thread::Builder::new()
            .name("client".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                serve_client(&for_thread, stream);
                counter.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(err) = spawned {
            clients.fetch_sub(1, Ordering::SeqCst);
            shared
                .daemon_log()
                .error(&format!("cannot start a client thread: {err}"));
        }
    }
}

/// The read half of a connection, failing with `TimedOut` once its
/// deadline has passed, however the bytes trickle in.
struct Deadline {
    stream: UnixStream,
    until: Instant,
}

impl Read for Deadline {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no complete request in time",
            ));
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

fn serve_client(shared: &Arc<Shared>, stream: UnixStream) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut writer = stream;
    let _ = writer.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut reader = BufReader::with_capacity(
        16 * 1024,
        Deadline {
            stream: read_half,
            until: Instant::now() + REQUEST_TIMEOUT,
        },
    );
    let mut buf = Vec::new();
    loop {
        let (reply, keep_open) = match read_frame(&mut reader, MAX_REQUEST_BYTES, &mut buf) {
            Ok(false) => return,
            Ok(true) => match decode(&buf) {
                Ok(request) => (shared.handle(request), true),
                Err(reply) => (reply, true),
            },
            Err(FrameError::TooLarge { limit }) => {
                let keep_open = matches!(skip_line(&mut reader, MAX_SKIP), Ok(true));
                (
                    error(
                        ErrorCode::TooLarge,
                        format!("request larger than {limit} bytes"),
                    ),
                    keep_open,
                )
            }
            Err(_) => return,
        };
        let shutting_down = reply == Reply::ShuttingDown;
        let sent = write_frame(
            &mut writer,
            &ReplyFrame {
                v: PROTOCOL_VERSION,
                reply,
            },
        );
        if shutting_down {
            shared.begin_exit();
            return;
        }
        if sent.is_err() || !keep_open {
            return;
        }
        reader.get_mut().until = Instant::now() + REQUEST_TIMEOUT;
    }
}

fn error(code: ErrorCode, message: impl Into<String>) -> Reply {
    Reply::Error {
        code,
        message: message.into(),
    }
}

/// Checks version and operation, then decodes the request.
pub fn decode(bytes: &[u8]) -> Result<Request, Reply> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|err| error(ErrorCode::BadRequest, format!("malformed request: {err}")))?;
    let Some(object) = value.as_object() else {
        return Err(error(
            ErrorCode::BadRequest,
            "a request must be a JSON object",
        ));
    };
    match object.get("v").and_then(|v| v.as_u64()) {
        None => {
            return Err(error(
                ErrorCode::BadRequest,
                "missing protocol version field \"v\"",
            ));
        }
        Some(v) if v != u64::from(PROTOCOL_VERSION) => {
            return Err(error(
                ErrorCode::UnsupportedVersion,
                format!(
                    "protocol version {v} is not supported; this daemon speaks {PROTOCOL_VERSION}"
                ),
            ));
        }
        Some(_) => {}
    }
    let Some(op) = object.get("op").and_then(|op| op.as_str()) else {
        return Err(error(
            ErrorCode::BadRequest,
            "missing operation field \"op\"",
        ));
    };
    if !Request::OPS.contains(&op) {
        return Err(error(
            ErrorCode::UnknownOp,
            format!(
                "unknown operation '{op}'; known: {}",
                Request::OPS.join(", ")
            ),
        ));
    }
    let op = op.to_string();
    serde_json::from_value::<RequestFrame>(value)
        .map(|frame| frame.request)
        .map_err(|err| {
            error(
                ErrorCode::BadRequest,
                format!("invalid '{op}' request: {err}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(bytes: &[u8]) -> ErrorCode {
        match decode(bytes) {
            Err(Reply::Error { code, .. }) => code,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn decoding() {
        assert_eq!(decode(br#"{"v":1,"op":"ping"}"#), Ok(Request::Ping));
        assert_eq!(code(b"{nope"), ErrorCode::BadRequest);
        assert_eq!(code(b"[1]"), ErrorCode::BadRequest);
        assert_eq!(code(br#"{"op":"ping"}"#), ErrorCode::BadRequest);
        assert_eq!(
            code(br#"{"v":2,"op":"ping"}"#),
            ErrorCode::UnsupportedVersion
        );
        assert_eq!(code(br#"{"v":1,"op":"dance"}"#), ErrorCode::UnknownOp);
        assert_eq!(code(br#"{"v":1,"op":"stop"}"#), ErrorCode::BadRequest);
    }
}

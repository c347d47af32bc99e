//! The socket server: accepts clients, one thread each, and answers every
//! request line with one reply line.
//!
//! A request that is not JSON, has no or another version, names an unknown
//! operation, or exceeds [`MAX_REQUEST_BYTES`] gets an error reply and the
//! connection stays usable (an oversized line is skipped up to its newline).

use std::io::BufReader;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use super::supervisor::Shared;
use crate::ipc::frame::{FrameError, read_frame, skip_line, write_frame};
use crate::ipc::{
    ErrorCode, MAX_REQUEST_BYTES, PROTOCOL_VERSION, Reply, ReplyFrame, Request, RequestFrame,
};

/// Most clients served at once; more get a `busy` error.
pub const MAX_CLIENTS: usize = 64;

/// Most bytes skipped after an oversized request before giving up on the
/// connection.
const MAX_SKIP: usize = 64 << 20;

const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections until [`Shared::begin_exit`].
pub fn serve(shared: &Arc<Shared>, listener: &UnixListener) {
    let clients = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        if shared.is_exiting() {
            break;
        }
        let stream = match stream {
            Ok(stream) => stream,
            Err(err) => {
                shared
                    .daemon_log()
                    .warn(&format!("cannot accept a connection: {err}"));
                thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
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

fn serve_client(shared: &Arc<Shared>, stream: UnixStream) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut writer = stream;
    let _ = writer.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut reader = BufReader::with_capacity(16 * 1024, read_half);
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

//! The daemon's protocol, shared by the CLI, the daemon and the TUI.
//!
//! - [`proto`] — the messages: [`Request`], [`Reply`], [`ProcessInfo`]…
//! - [`frame`] — newline-delimited JSON with a size limit per message.
//! - [`client`] — [`Client`]: connect (or start the daemon), request → reply.

pub mod client;
pub mod frame;
pub mod proto;

pub use client::{Client, ClientError, Launch, NOTICE_PREFIX, launch_daemon};
pub use proto::{
    AppAction, AppChange, AppOptions, ErrorCode, ExitInfo, MAX_REPLY_BYTES, MAX_REQUEST_BYTES,
    METRICS_HISTORY, PROTOCOL_VERSION, ProcessInfo, Reply, ReplyFrame, Request, RequestFrame,
    Sample, StartSpec, Status, signal_name,
};

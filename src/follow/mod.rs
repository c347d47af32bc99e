//! Following logs as they are written: `velos logs --follow` and the TUI's
//! log pane.
//!
//! One incremental reading core serves both:
//!
//! - [`Pending`] turns bytes as they arrive into whole records (a line is
//!   whole at its line end; a record when the next one starts, when nothing
//!   can continue it, or after [`SETTLE`] of silence);
//! - [`Follower`] reads one path as it grows, across rotation, truncation
//!   and a file that does not exist yet, and hands out [`Batch`]es of whole
//!   records. `--follow` hands each batch to the engine's live entry point
//!   ([`Engine::live`](crate::engine::Engine::live)) and the same
//!   [`RecordSink`](crate::engine::RecordSink) as the rest of `velos logs`,
//!   so every filter applies unchanged;
//! - [`Tail`] wraps followers for programs and hands out [`Line`]s;
//! - [`Waker`] is where a follow loop sleeps: file notifications with a
//!   polling fallback, signals, streamed input.

mod file;
mod pending;
mod tail;
pub mod wake;

pub use file::{Change, Event, Follower, Snapshot};
pub use pending::{Batch, MAX_OPEN_OBJECT, MAX_PARTIAL, Pending, Release, SETTLE, is_open_object};
pub use tail::{Line, Tail};
pub use wake::{Wake, Waker};

/// The warning for [`Change::Deleted`]: which lines are missing, by when
/// they were written, as far as the file times tell.
pub fn describe_deleted(after_ms: Option<i64>, before_ms: Option<i64>) -> String {
    let time = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| format!("{t:.3}"))
            .unwrap_or_else(|_| format!("{ms} ms"))
    };
    let span = match (after_ms, before_ms) {
        (Some(after), Some(before)) if before >= after => format!(
            "the lines written between {} and {} ({:.1} s) are missing",
            time(after),
            time(before),
            (before - after) as f64 / 1000.0
        ),
        (Some(after), _) => format!("lines written after {} are missing", time(after)),
        _ => "some lines are missing".to_string(),
    };
    format!(
        "rotated files were deleted before they could be read: {span}; keep more rotated files to follow from further behind"
    )
}

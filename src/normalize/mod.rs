//! Message normalization: turning a log message into its *template* (the
//! constant text with variable parts replaced by placeholders such as
//! `<IP>`, `<UUID>`, `<NUM>`) and the template's 64-bit id, and finding
//! where the message starts in a line.
//!
//! - [`normalize`] / [`Normalizer`]: the masking scanner, one pass over the
//!   message that jumps between digits and separators found in per-byte
//!   class bitmaps (see [`mask`] for the exact grammar).
//! - [`looks_binary`] ([`binary`]): whether a message is binary data,
//!   which [`normalize`] gives the single template [`BINARY`].
//! - [`HeaderLayout`] ([`header`]): the per-file header layout learner,
//!   which tells where the message starts after the timestamp, level, pid,
//!   host and component columns.

pub mod binary;
mod classes;
pub mod header;
pub mod mask;

pub use binary::{BINARY, is_binary_byte, looks_binary};
pub use header::{ColumnKind, HeaderLayout};
pub use mask::{PLACEHOLDERS, is_placeholder, normalize, template_id};

/// A normalizer with its own output buffer, for loops over many messages.
#[derive(Debug, Default, Clone)]
pub struct Normalizer {
    buf: Vec<u8>,
}

impl Normalizer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Normalizes `msg`; returns the template id and the template bytes,
    /// valid until the next call.
    pub fn template(&mut self, msg: &[u8]) -> (u64, &[u8]) {
        let id = normalize(msg, &mut self.buf);
        (id, &self.buf)
    }
}

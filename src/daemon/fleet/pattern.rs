//! The stable pattern id of a captured line: the id of its own template.
//!
//! A line's template is its message with the variable parts masked
//! ([`crate::normalize`]); the id is the xxh3-64 of the template's bytes,
//! written as 16 hex digits. It depends on nothing but the line: not on the
//! host, the run, or the other lines. That is what the exporter sends as
//! `velos.pattern`.
//!
//! `velos logs --json` shows the same number for a record whose template is
//! its pattern's most frequent one (always so for a line analysed alone);
//! when `velos logs` merges several similar templates into one pattern, it
//! shows the id of the most frequent member for all of them, so that id
//! depends on the other lines analysed with it.

use crate::frame::{Layout, Record};

/// The template id of a captured message: the same as `velos logs` computes
/// ([`crate::engine::template_of`]) for the record the daemon wrote: the
/// message as written, invalid UTF-8 replaced, its first line normalized.
pub fn pattern_id(msg: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(msg);
    crate::engine::template_of(&Layout::default(), &Record::bare(text.as_bytes()))
}

/// An id as written in exports and by `velos logs`: 16 lower-case hex digits.
pub fn hex(id: u64) -> String {
    format!("{id:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_template_same_id() {
        let a = pattern_id(b"GET /users/42 took 23ms");
        let b = pattern_id(b"GET /users/7 took 1ms\r");
        let c = pattern_id(b"POST /users/7 took 1ms");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            a,
            crate::normalize::template_id(b"GET /users/<NUM> took <NUM>")
        );
        assert_eq!(hex(0xab), "00000000000000ab");
    }

    #[test]
    fn invalid_utf8_is_read_as_written() {
        assert_eq!(
            pattern_id(b"bad \xff byte 3"),
            pattern_id("bad \u{fffd} byte 9".as_bytes())
        );
    }
}

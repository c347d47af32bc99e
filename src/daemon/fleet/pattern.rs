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

use std::borrow::Cow;

/// The template id of a captured message: the same as `velos logs` computes
/// for the record the daemon wrote ([`crate::engine::template_of`]): the
/// message as written, invalid UTF-8 replaced, its
/// [`first_line`](crate::frame::first_line) normalized. `buf` is scratch
/// space.
pub fn pattern_id(msg: &[u8], buf: &mut Vec<u8>) -> u64 {
    let text = String::from_utf8_lossy(msg);
    let text: &[u8] = match &text {
        Cow::Borrowed(text) => text.as_bytes(),
        Cow::Owned(text) => text.as_bytes(),
    };
    crate::normalize::normalize(crate::frame::first_line(text), buf)
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
        let mut buf = Vec::new();
        let a = pattern_id(b"GET /users/42 took 23ms", &mut buf);
        let b = pattern_id(b"GET /users/7 took 1ms\r", &mut buf);
        let c = pattern_id(b"POST /users/7 took 1ms", &mut buf);
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
        let mut buf = Vec::new();
        assert_eq!(
            pattern_id(b"bad \xff byte 3", &mut buf),
            pattern_id("bad \u{fffd} byte 9".as_bytes(), &mut buf)
        );
    }
}

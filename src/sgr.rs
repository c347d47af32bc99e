//! Terminal colour codes in log bytes: SGR escape sequences
//! (`ESC [ 31 m`, `ESC [ 0 m`, `ESC [ 1 ; 38 ; 5 ; 208 m`), which programs
//! write when they believe they print to a terminal, and the erase-line
//! sequence (`ESC [ 2 K`) that docker compose and progress output put
//! before a line. They are no part of a message: the printer, the JSON
//! output and the normalizer leave them out. Every other control byte is
//! left alone (the printer shows it escaped).

use std::borrow::Cow;

/// The escape byte that opens every sequence.
pub const ESC: u8 = 0x1b;

/// The length of the SGR sequence at the start of `bytes`, or 0 when
/// `bytes` does not start with one.
#[inline]
pub fn sequence_len(bytes: &[u8]) -> usize {
    if bytes.len() < 3 || bytes[0] != ESC || bytes[1] != b'[' {
        return 0;
    }
    let params = bytes[2..]
        .iter()
        .take_while(|b| b.is_ascii_digit() || matches!(b, b';' | b':'))
        .count();
    match bytes.get(2 + params) {
        // `K` erases the rest of the line: docker compose and progress
        // bars put `ESC [ 2 K` before each line they print.
        Some(b'm' | b'K') => 3 + params,
        _ => 0,
    }
}

/// Whether `bytes` hold an escape byte, so may hold a colour code: the
/// check every message pays. Short texts are checked sixteen bytes at a
/// time without a call; long ones with `memchr`.
#[inline]
pub fn has_escape(bytes: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if (16..=256).contains(&bytes.len()) {
        // SAFETY: SSE2 is part of the x86_64 baseline, so every x86_64
        // processor has it.
        return unsafe { sse2::has_escape(bytes) };
    }
    if bytes.len() < 16 {
        return bytes.contains(&ESC);
    }
    memchr::memchr(ESC, bytes).is_some()
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_setzero_si128,
    };

    #[inline]
    #[target_feature(enable = "sse2")]
    fn eq_esc(chunk: &[u8; 16]) -> __m128i {
        // SAFETY: `chunk` is 16 readable bytes and `loadu` has no
        // alignment requirement.
        let x = unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) };
        _mm_cmpeq_epi8(x, _mm_set1_epi8(super::ESC as i8))
    }

    /// [`super::has_escape`] for at least 16 bytes: whole 16-byte lanes,
    /// then the last 16 bytes for the rest.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn has_escape(bytes: &[u8]) -> bool {
        let mut seen = _mm_setzero_si128();
        let lanes = bytes.chunks_exact(16);
        let rest = lanes.remainder().len();
        for lane in lanes {
            if let Ok(lane) = lane.try_into() {
                seen = _mm_or_si128(seen, eq_esc(lane));
            }
        }
        if rest > 0
            && let Some(Ok(last)) = bytes.get(bytes.len() - 16..).map(<&[u8; 16]>::try_from)
        {
            seen = _mm_or_si128(seen, eq_esc(last));
        }
        _mm_movemask_epi8(seen) != 0
    }
}

/// The offset in `bytes` of the byte at `stripped` in `bytes` without its
/// colour codes (or `bytes.len()` past its end): maps a position found in
/// the stripped text back into the original.
pub fn raw_offset(bytes: &[u8], stripped: usize) -> usize {
    let mut kept = Vec::with_capacity(bytes.len());
    strip_with(bytes, &mut kept, |i| i);
    kept.get(stripped).copied().unwrap_or(bytes.len())
}

/// Appends `bytes` to `out` without their colour codes.
pub fn strip_into(bytes: &[u8], out: &mut Vec<u8>) {
    strip_with(bytes, out, |i| bytes[i]);
}

/// Where an escape byte already kept may still open a sequence.
#[derive(Clone, Copy)]
enum Opening {
    /// Only the escape byte so far.
    Escape,
    /// `ESC [` and parameter bytes so far.
    Params,
}

/// Pushes `item(i)` for every byte `i` of `bytes` that is no part of a
/// colour code. A code is removed whole once its final byte arrives; what
/// its removal brings together is looked at again, so `ESC [ : ESC [ 2 K K`
/// loses both codes and stripping a stripped text changes nothing.
fn strip_with<T>(bytes: &[u8], out: &mut Vec<T>, item: impl Fn(usize) -> T) {
    // Escapes kept so far that a later final byte could still close,
    // innermost last, with where each sits in `out`.
    let mut open: Vec<(usize, Opening)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if open.is_empty() {
            let Some(rel) = memchr::memchr(ESC, &bytes[i..]) else {
                out.extend((i..bytes.len()).map(&item));
                return;
            };
            out.extend((i..i + rel).map(&item));
            i += rel;
        }
        let b = bytes[i];
        match (b, open.last_mut()) {
            (ESC, _) => open.push((out.len(), Opening::Escape)),
            (b'[', Some((_, state @ Opening::Escape))) => *state = Opening::Params,
            (b'0'..=b'9' | b';' | b':', Some((_, Opening::Params))) => {}
            // `K` erases the rest of the line: docker compose and progress
            // bars put `ESC [ 2 K` before each line they print.
            (b'm' | b'K', Some(&mut (at, Opening::Params))) => {
                out.truncate(at);
                open.pop();
                i += 1;
                continue;
            }
            _ => open.clear(),
        }
        out.push(item(i));
        i += 1;
    }
}

/// `bytes` without their colour codes; borrowed when there are none.
#[inline]
pub fn strip(bytes: &[u8]) -> Cow<'_, [u8]> {
    if !has_escape(bytes) {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    strip_into(bytes, &mut out);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn removes_colour_codes_and_nothing_else() {
        let line =
            b"\x1b[2K\x1b[32mINFO\x1b[0m ready \x1b[1;38;5;208mhot\x1b[m \x1b]0;title\x07 \x1b[2J";
        assert_eq!(
            &*strip(line),
            &b"INFO ready hot \x1b]0;title\x07 \x1b[2J"[..]
        );
        assert!(matches!(strip(b"plain"), Cow::Borrowed(_)));
        assert_eq!(&*strip(b"\x1b[31"), b"\x1b[31");
    }

    #[test]
    fn stripped_offsets_map_back_past_the_codes() {
        let line = b"\x1b[2m2026\x1b[0m \x1b[32mINFO\x1b[0m x";
        let clean = strip(line);
        assert_eq!(&*clean, b"2026 INFO x");
        for (k, &b) in clean.iter().enumerate() {
            assert_eq!(line[raw_offset(line, k)], b);
        }
        assert_eq!(raw_offset(line, clean.len()), line.len());
    }

    #[test]
    fn a_code_whose_removal_closes_another_loses_both() {
        assert_eq!(&*strip(b"2:\x1b[:\x1b[012KKKKK"), b"2:KKK");
        assert_eq!(&*strip(b"\x1b[3\x1b[0m1mred"), b"red");
        assert_eq!(&*strip(b"\x1b[x\x1b[0mm"), b"\x1b[xm");
    }

    proptest! {
        #[test]
        fn removes_exactly_the_inserted_codes(
            a in "[^\x1b]{0,12}",
            params in "[0-9;]{0,8}",
            b in "[^\x1b]{0,12}",
        ) {
            let line = format!("{a}\x1b[{params}m{b}");
            let stripped = strip(line.as_bytes());
            let want = format!("{a}{b}");
            prop_assert_eq!(&*stripped, want.as_bytes());
        }

        #[test]
        fn escape_check_agrees_with_a_search(
            bytes in proptest::collection::vec(prop_oneof![Just(0x1bu8), any::<u8>()], 0..300),
            clean in proptest::collection::vec(0x20u8..0x7f, 0..300),
        ) {
            prop_assert_eq!(has_escape(&bytes), bytes.contains(&ESC));
            prop_assert!(!has_escape(&clean));
            for at in [0, clean.len() / 2, clean.len().saturating_sub(1)] {
                let mut marked = clean.clone();
                if let Some(b) = marked.get_mut(at) {
                    *b = ESC;
                    prop_assert!(has_escape(&marked));
                }
            }
        }

        #[test]
        fn stripping_twice_changes_nothing_and_offsets_point_at_the_kept_bytes(
            bytes in proptest::collection::vec(
                prop_oneof![Just(0x1bu8), Just(b'['), Just(b'm'), Just(b'K'), Just(b':'), Just(b'2'), any::<u8>()],
                0..48,
            ),
        ) {
            let once = strip(&bytes).into_owned();
            prop_assert_eq!(&*strip(&once), &once[..]);
            for (k, &b) in once.iter().enumerate() {
                prop_assert_eq!(bytes[raw_offset(&bytes, k)], b);
            }
            prop_assert_eq!(raw_offset(&bytes, once.len()), bytes.len());
        }

        #[test]
        fn only_ever_removes(bytes in proptest::collection::vec(prop_oneof![Just(0x1bu8), Just(b'['), Just(b'm'), Just(b';'), any::<u8>()], 0..40)) {
            let once = strip(&bytes);
            prop_assert!(once.len() <= bytes.len());
            if !bytes.contains(&0x1b) {
                prop_assert_eq!(&*once, &bytes[..]);
            }
        }
    }
}

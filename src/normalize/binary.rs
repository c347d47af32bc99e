//! Telling binary data from text: an encrypted, compressed or corrupt
//! stretch read as log lines gives records that are no messages, and the
//! analysis gives each such record one template, [`BINARY`], instead of
//! learning a template per random line.

/// The template of a record that [`looks_binary`].
pub const BINARY: &[u8] = b"<BINARY>";

/// Bytes of a message [`looks_binary`] examines at most, so the test costs
/// the same on a line of any length.
pub const BINARY_WINDOW: usize = 64;

/// Shortest message [`looks_binary`] judges; shorter ones are text.
const MIN_JUDGED: usize = 8;

/// A control byte that log text does not hold (tab, line and page breaks,
/// escape and NUL padding excluded).
#[inline]
pub fn is_binary_byte(b: u8) -> bool {
    matches!(b, 0x01..=0x08 | 0x0e..=0x1a | 0x1c..=0x1f | 0x7f)
}

/// Whether a message is binary data: at least a quarter of its first
/// [`BINARY_WINDOW`] bytes are control bytes text does not hold
/// ([`is_binary_byte`]) or bytes that are not part of valid UTF-8. Text in
/// any language, Latin-1 accents and a stray control byte stay text;
/// random bytes have about 60 % such bytes.
pub fn looks_binary(msg: &[u8]) -> bool {
    let window = &msg[..msg.len().min(BINARY_WINDOW)];
    if window.len() < MIN_JUDGED {
        return false;
    }
    if printable_ascii(window) {
        return false;
    }
    let controls = window.iter().filter(|&&b| is_binary_byte(b)).count();
    let invalid = if window.is_ascii() {
        0
    } else {
        // A character cut by the window's end counts as invalid: at most
        // three bytes.
        window
            .utf8_chunks()
            .map(|chunk| chunk.invalid().len())
            .sum::<usize>()
    };
    (controls + invalid) * 4 >= window.len()
}

/// Whether every byte of `bytes` is printable ASCII (0x20 to 0x7e), eight
/// at a time: the common case, ruled out before counting.
#[inline]
fn printable_ascii(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = bytes.chunks_exact(8);
    let mut odd = 0u64;
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let x = u64::from_le_bytes(w);
        // A byte below 0x20 borrows (and `!x` keeps its high bit clear
        // otherwise); one from 0x7f up has, or gets by adding one, its high
        // bit. Carries only follow a byte already caught.
        odd |= (x.wrapping_sub(0x20 * ONES) & !x) | x.wrapping_add(ONES) | x;
    }
    odd & HIGH == 0 && words.remainder().iter().all(|b| (0x20..0x7f).contains(b))
}

/// A fixed pseudo-random sequence (xorshift), as `/dev/urandom` gives.
#[cfg(test)]
pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_in_any_script_is_not_binary() {
        for msg in [
            "GET /index.html 200 in 3ms",
            "服务启动失败：端口被占用，请检查配置文件",
            "Benutzer Müller hat sich angemeldet",
            "col1\tcol2\tcol3\r",
            "\x1b[31mERROR\x1b[0m disk full",
            "short",
        ] {
            assert!(!looks_binary(msg.as_bytes()), "{msg}");
        }
        // Latin-1 accents and one control byte are not enough.
        assert!(!looks_binary(b"caf\xe9 cr\xe8me br\xfbl\xe9e \x01 ok done"));
    }

    #[test]
    fn random_bytes_are_binary() {
        let bytes = random_bytes(4096);
        let judged = bytes.chunks(100).filter(|c| looks_binary(c)).count();
        assert_eq!(judged, bytes.chunks(100).count());
        assert!(looks_binary(b"\x00\x01\x02\x03\xff\xfe\xfd\xfc"));
    }

    #[test]
    fn printable_ascii_agrees_with_a_byte_loop() {
        for len in 0..40 {
            for odd in [0x00u8, 0x09, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff] {
                for at in 0..len {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = odd;
                    let want = bytes.iter().all(|b| (0x20..0x7f).contains(b));
                    assert_eq!(printable_ascii(&bytes), want, "{len} {odd:#x} {at}");
                }
            }
        }
    }

    #[test]
    fn the_window_bounds_the_work() {
        // Only the first BINARY_WINDOW bytes count: junk after a text head
        // does not make a record binary, and the reverse.
        let mut text_then_junk = b"a".repeat(BINARY_WINDOW);
        text_then_junk.extend(std::iter::repeat_n(0xffu8, 10_000));
        assert!(!looks_binary(&text_then_junk));
        let mut junk_then_text = vec![0xffu8; BINARY_WINDOW];
        junk_then_text.extend(b"a".repeat(10_000));
        assert!(looks_binary(&junk_then_text));
    }
}

//! Per-byte class bitmaps of a message, built 16 bytes at a time with SSE2
//! (a table lookup elsewhere), so the masking scanner can jump between the
//! bytes that matter instead of looking at every one.
//!
//! Bit `t` of a block's words describes byte `64 * block + t`:
//! - `alnum`: an ASCII letter or digit;
//! - `digit`: an ASCII digit;
//! - `special`: a digit or one of `[`, `:`, `-`, `+` (the bytes at which a
//!   placeholder can start or a preceding word can turn out to be one).
//!
//! [`odd_head`] tells whether the first 64 bytes hold one outside printable
//! ASCII (a control byte, or part of a character beyond ASCII), which sends
//! the message to the binary-data test ([`super::binary::looks_binary`]).
//!
//! Bytes past the end of the message read as zero, which is in no class.

/// The classes of 64 consecutive bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Block {
    pub alnum: u64,
    pub digit: u64,
    pub special: u64,
}

/// Messages up to this many bytes keep their bitmaps on the stack.
const STACK_BLOCKS: usize = 8;

/// Class bitmaps of one message.
pub(crate) struct ClassMap<'a> {
    blocks: &'a [Block],
    len: usize,
}

/// Storage for a [`ClassMap`]: on the stack for ordinary messages, on the
/// heap for long ones.
pub(crate) struct Storage {
    stack: [Block; STACK_BLOCKS],
    heap: Vec<Block>,
}

impl Storage {
    #[inline]
    pub fn new() -> Self {
        Self {
            stack: [Block::default(); STACK_BLOCKS],
            heap: Vec::new(),
        }
    }

    /// Classifies every byte of `msg`.
    #[inline]
    pub fn map<'a>(&'a mut self, msg: &[u8]) -> ClassMap<'a> {
        let count = msg.len().div_ceil(64);
        let blocks: &mut [Block] = if count <= STACK_BLOCKS {
            &mut self.stack[..count]
        } else {
            self.heap.resize(count, Block::default());
            &mut self.heap
        };
        for (w, block) in blocks.iter_mut().enumerate() {
            *block = classify(msg, w * 64);
        }
        ClassMap {
            blocks,
            len: msg.len(),
        }
    }
}

impl ClassMap<'_> {
    /// The first special byte at or after `from`, or the message length.
    #[inline]
    pub fn next_special(&self, from: usize) -> usize {
        self.next_set(from, |b| b.special)
    }

    /// The end of the run of letters and digits that contains `from`: the
    /// first byte at or after `from` that is neither, or the length.
    #[inline]
    pub fn run_end(&self, from: usize) -> usize {
        self.next_set(from, |b| !b.alnum)
    }

    /// The start of the run of letters and digits that ends just before
    /// `p` (or contains it): one past the last byte before `p` that is
    /// neither, or 0.
    #[inline]
    pub fn run_start(&self, p: usize) -> usize {
        let mut w = p / 64;
        let below = (1u64 << (p % 64)) - 1;
        let mut bits = self.blocks.get(w).map_or(0, |b| !b.alnum & below);
        loop {
            if bits != 0 {
                return w * 64 + 64 - bits.leading_zeros() as usize;
            }
            if w == 0 {
                return 0;
            }
            w -= 1;
            bits = !self.blocks[w].alnum;
        }
    }

    /// The end of the run of digits from `from`: the first byte at or after
    /// `from` that is not a digit, or the length.
    #[inline]
    pub fn digits_end(&self, from: usize) -> usize {
        self.next_set(from, |b| !b.digit)
    }

    /// Whether a digit lies in `from..to`.
    #[inline]
    pub fn any_digit(&self, from: usize, to: usize) -> bool {
        let d = self.next_set(from, |b| b.digit);
        d < to
    }

    #[inline(always)]
    fn next_set(&self, from: usize, bits_of: impl Fn(&Block) -> u64) -> usize {
        let mut w = from / 64;
        let Some(first) = self.blocks.get(w) else {
            return self.len;
        };
        let mut bits = bits_of(first) & (!0u64 << (from % 64));
        loop {
            if bits != 0 {
                return (w * 64 + bits.trailing_zeros() as usize).min(self.len);
            }
            w += 1;
            match self.blocks.get(w) {
                Some(b) => bits = bits_of(b),
                None => return self.len,
            }
        }
    }
}

/// Whether one of the first 64 bytes of `msg` is below 0x20 or from 0x7f
/// up.
#[inline]
pub(crate) fn odd_head(msg: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if msg.len() >= 16 {
            // SAFETY: SSE2 is part of the x86_64 baseline, so every x86_64
            // processor has it.
            return unsafe { sse2::odd_head(msg) };
        }
    }
    msg.iter().take(64).any(|c| !(0x20..0x7f).contains(c))
}

/// The classes of the (up to) 64 bytes of `msg` from `start`.
#[inline]
fn classify(msg: &[u8], start: usize) -> Block {
    #[cfg(target_arch = "x86_64")]
    {
        if msg.len() >= 16 {
            // SAFETY: SSE2 is part of the x86_64 baseline, so every x86_64
            // processor has it.
            return unsafe { sse2::classify(msg, start) };
        }
    }
    classify_by_table(msg, start)
}

/// The portable version of [`classify`], and its reference.
fn classify_by_table(msg: &[u8], start: usize) -> Block {
    let mut block = Block::default();
    let end = msg.len().min(start + 64);
    for (t, &c) in msg[start..end].iter().enumerate() {
        let bit = 1u64 << t;
        if c.is_ascii_alphanumeric() {
            block.alnum |= bit;
        }
        if c.is_ascii_digit() {
            block.digit |= bit;
            block.special |= bit;
        }
        if matches!(c, b'[' | b':' | b'-' | b'+') {
            block.special |= bit;
        }
    }
    block
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi8, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8, _mm_sub_epi8, _mm_xor_si128,
    };

    use super::Block;

    /// Lanes of `x` (as unsigned bytes) in `lo..lo + width`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn in_range(x: __m128i, lo: u8, width: u8) -> __m128i {
        let shifted = _mm_xor_si128(
            _mm_sub_epi8(x, _mm_set1_epi8(lo as i8)),
            _mm_set1_epi8(-128),
        );
        _mm_cmplt_epi8(shifted, _mm_set1_epi8((width ^ 0x80) as i8))
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn eq(x: __m128i, c: u8) -> __m128i {
        _mm_cmpeq_epi8(x, _mm_set1_epi8(c as i8))
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn mask(v: __m128i) -> u64 {
        u64::from(_mm_movemask_epi8(v) as u16)
    }

    /// The classes of 16 bytes, as three 16-bit masks.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn lane(bytes: &[u8; 16]) -> (u64, u64, u64) {
        // SAFETY: `bytes` is 16 readable bytes and `loadu` has no
        // alignment requirement.
        let x = unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) };
        let digit = in_range(x, b'0', 10);
        let letter = in_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), b'a', 26);
        let starter = _mm_or_si128(
            _mm_or_si128(eq(x, b'['), eq(x, b':')),
            _mm_or_si128(eq(x, b'-'), eq(x, b'+')),
        );
        (
            mask(_mm_or_si128(digit, letter)),
            mask(digit),
            mask(_mm_or_si128(digit, starter)),
        )
    }

    /// [`super::odd_head`] for a message of at least 16 bytes: the lanes
    /// of the first 64 bytes, the last one ending at the message's end if
    /// shorter.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn odd_head(msg: &[u8]) -> bool {
        let n = msg.len().min(64);
        let Some(last) = n.checked_sub(16) else {
            return false;
        };
        // Lanes at 0, 16, 32 and 48, each moved back to end at `n` at most
        // (overlapping lanes look at some bytes twice).
        let lane = |at: usize| {
            let from = at.min(last);
            // SAFETY: `from + 16 <= n <= msg.len()`, and `loadu` has no
            // alignment requirement.
            let x = unsafe { _mm_loadu_si128(msg.as_ptr().add(from).cast()) };
            // Adding one takes 0x7f and up to the negative bytes (0xff to
            // zero), and below 0x20 stays below 0x21: one signed compare.
            _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8(1)), _mm_set1_epi8(0x21))
        };
        let odd = _mm_or_si128(
            _mm_or_si128(lane(0), lane(16)),
            _mm_or_si128(lane(32), lane(48)),
        );
        _mm_movemask_epi8(odd) != 0
    }

    /// [`super::classify`] for a message of at least 16 bytes: a lane that
    /// would run past the end is read as the last 16 bytes instead, and its
    /// masks shifted into place.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn classify(msg: &[u8], start: usize) -> Block {
        let mut block = Block::default();
        let n = msg.len();
        let mut at = start;
        while at < n && at < start + 64 {
            let (from, drop) = if at + 16 <= n {
                (at, 0)
            } else {
                (n - 16, at + 16 - n)
            };
            let Some(bytes) = msg.get(from..from + 16).and_then(|s| s.try_into().ok()) else {
                break;
            };
            let (alnum, digit, special) = lane(bytes);
            let shift = at - start;
            block.alnum |= (alnum >> drop) << shift;
            block.digit |= (digit >> drop) << shift;
            block.special |= (special >> drop) << shift;
            at += 16;
        }
        block
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_head_sees_the_first_64_bytes() {
        for len in 0..100 {
            assert!(!odd_head(&vec![b'a'; len]));
            for at in 0..len {
                for odd in [0x00u8, 0x09, 0x1f, 0x7f, 0x80, 0xff] {
                    let mut msg = vec![b' '; len];
                    msg[at] = odd;
                    assert_eq!(odd_head(&msg), at < 64, "{len} {at} {odd:#x}");
                }
            }
        }
    }

    #[test]
    fn every_byte_value_lands_in_its_classes() {
        let all: Vec<u8> = (0..=255u8).collect();
        for start in (0..256).step_by(64) {
            assert_eq!(
                classify(&all, start),
                classify_by_table(&all, start),
                "from {start}"
            );
        }
        // Every length, so every partial last lane.
        for len in 0..=200 {
            let msg: Vec<u8> = (0..len).map(|k| b"a1 :-+[Z9\xff"[k % 10]).collect();
            for start in (0..len).step_by(64) {
                assert_eq!(
                    classify(&msg, start),
                    classify_by_table(&msg, start),
                    "{len} {start}"
                );
            }
        }
    }

    #[test]
    fn runs_and_specials_across_blocks() {
        let mut msg = vec![b'a'; 70];
        msg[10] = b' ';
        msg[66] = b'7';
        msg.extend_from_slice(b" x-1");
        let mut storage = Storage::new();
        let map = storage.map(&msg);
        assert_eq!(map.next_special(0), 66);
        assert_eq!(map.next_special(67), 72);
        assert_eq!(map.run_end(11), 70);
        assert_eq!(map.run_start(66), 11);
        assert_eq!(map.run_start(10), 0);
        assert_eq!(map.run_start(11), 11);
        assert!(map.any_digit(11, 70) && !map.any_digit(0, 66));
        assert_eq!(
            (map.digits_end(66), map.digits_end(73), map.digits_end(0)),
            (67, 74, 0)
        );
        assert_eq!(map.next_special(74), 74);
        assert_eq!(map.run_end(73), 74);
    }

    #[test]
    fn long_messages_use_the_heap_and_agree() {
        let msg: Vec<u8> = (0..5000u32).map(|k| b"ab 1-:x"[k as usize % 7]).collect();
        let mut storage = Storage::new();
        let map = storage.map(&msg);
        for p in [0, 63, 64, 999, 4990] {
            let want = (p..msg.len())
                .find(|&q| matches!(msg[q], b'1' | b'-' | b':'))
                .unwrap_or(msg.len());
            assert_eq!(map.next_special(p), want);
        }
        assert_eq!(map.next_special(4999), msg.len());
    }
}

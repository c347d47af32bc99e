//! Fuzzes compressed input: any bytes behind any of the four magic numbers
//! decode to their end or to a decode error naming an offset inside the
//! input, without panicking or hanging.

#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use velos::source::decode::{Compression, DecodeError, Decoded};

const MAGICS: [&[u8]; 4] = [
    &[0x1f, 0x8b, 0x08],
    &[0x28, 0xb5, 0x2f, 0xfd],
    &[0xfd, b'7', b'z', b'X', b'Z', 0x00],
    b"BZh9",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let mut input = MAGICS[usize::from(pick) % MAGICS.len()].to_vec();
    input.extend_from_slice(body);
    let format = Compression::sniff(&input).expect("a magic number was prepended");
    let len = input.len() as u64;
    let mut out = Vec::new();
    let decoded = Decoded::spawn(format, std::io::Cursor::new(input)).expect("thread starts");
    // Bounded: the fuzzer's inputs may expand a lot.
    match decoded.take(64 << 20).read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) => {
            if let Some(d) = DecodeError::of(&e) {
                assert!(d.offset <= len, "offset {} past the end {len}", d.offset);
            }
        }
    }
});

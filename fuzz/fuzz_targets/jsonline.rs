//! Fuzzes the JSON-lines reader: no panic on any bytes, field values lie
//! inside the line, and escaping then unescaping gives the (lossy) text
//! back.

#![no_main]

use libfuzzer_sys::fuzz_target;
use velos::frame::json::{self, Scalar};

fuzz_target!(|data: &[u8]| {
    if let Some(rec) = json::parse(data) {
        let mut buf = Vec::new();
        for value in [rec.ts, rec.level, rec.msg, rec.src].into_iter().flatten() {
            if let Scalar::Str { raw, .. } | Scalar::Num(raw) = value {
                let start = raw.as_ptr() as usize - data.as_ptr() as usize;
                assert!(start + raw.len() <= data.len());
            }
            let _ = value.text(&mut buf);
            let _ = value.as_i64();
        }
    }
    let mut escaped = Vec::new();
    json::escape_into(data, &mut escaped);
    let mut back = Vec::new();
    json::unescape(&escaped, &mut back);
    assert_eq!(back, String::from_utf8_lossy(data).as_bytes());
});

//! Fuzzes the logfmt reader: no panic on any bytes, every pair lies inside
//! the line, and a record's fields are among its pairs.

#![no_main]

use libfuzzer_sys::fuzz_target;
use velos::frame::logfmt;

fuzz_target!(|data: &[u8]| {
    let mut pairs = Vec::new();
    logfmt::for_each_pair(data, &mut |key, value| {
        for part in [key, value.raw()] {
            let start = part.as_ptr() as usize - data.as_ptr() as usize;
            assert!(start + part.len() <= data.len());
        }
        pairs.push(value);
    });
    if let Some(rec) = logfmt::parse(data) {
        assert!(pairs.len() >= 2);
        for value in [rec.ts, rec.level, rec.msg].into_iter().flatten() {
            assert!(pairs.contains(&value));
        }
    }
});

//! Fuzzes the JSON reader: no panic on any bytes, field values and the
//! other members lie inside the input, a whole object read as a prefix is
//! the same record, and escaping then unescaping gives the (lossy) text
//! back.

#![no_main]

use libfuzzer_sys::fuzz_target;
use velos::frame::json;
use velos::frame::record_time;
use velos::timestamp::{TimeContext, Zone};

fn inside(data: &[u8], part: &[u8]) {
    let start = part.as_ptr() as usize - data.as_ptr() as usize;
    assert!(start + part.len() <= data.len());
}

fuzz_target!(|data: &[u8]| {
    if let Some(rec) = json::parse(data) {
        let mut buf = Vec::new();
        for value in [rec.ts, rec.ts_nanos, rec.level, rec.msg, rec.src]
            .into_iter()
            .flatten()
        {
            inside(data, value.raw());
            let _ = value.text(&mut buf);
            let _ = value.as_i64();
        }
        let ctx = TimeContext::new(Zone::utc(), 1_800_000_000_000);
        let _ = record_time(&rec, &ctx);
        json::for_each_field(&rec, &mut |member| {
            inside(data, member.key);
            inside(data, member.value.raw());
            assert!(!rec.uses(&member.value));
        });
        let (prefix, end) = json::parse_prefix(data).expect("a whole object is a prefix");
        assert_eq!(prefix, rec);
        assert!(end <= data.len());
    }
    let mut escaped = Vec::new();
    json::escape_into(data, &mut escaped);
    let mut back = Vec::new();
    json::unescape(&escaped, &mut back);
    assert_eq!(back, String::from_utf8_lossy(data).as_bytes());
});

//! Fuzzes timestamp detection: no panic on any bytes, spans inside the
//! line, and the sniffed fast path agrees with the detector.

#![no_main]

use libfuzzer_sys::fuzz_target;
use velos::timestamp::{self, TimeContext, TsFormat, TsLayout, Zone};

fuzz_target!(|data: &[u8]| {
    let ctx = TimeContext::new(Zone::utc(), 1_800_000_000_000);
    if let Some(found) = timestamp::detect(data, &ctx) {
        assert!(found.start < found.end && found.end <= data.len());
        let layout = TsLayout { format: found.format, anchor: found.anchor };
        let fast = layout.parse(data, &ctx).expect("the fast path reads what the detector found");
        assert_eq!(fast.ms, found.ms);
    }
    let _ = TsLayout::sniff(data.split(|&b| b == b'\n'), &ctx);
    // Every parser alone, from the first byte: never past the input.
    for format in TsFormat::ALL {
        if let Some((_, used)) = format.parse(data, &ctx) {
            assert!(used <= data.len(), "{format:?}");
        }
    }
});

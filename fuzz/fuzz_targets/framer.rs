//! Fuzzes the framer: any bytes frame into records without panicking, the
//! records tile the input exactly, every byte of a record leads back to its
//! start, and aligning any cut gives the same records as one pass.

#![no_main]

use libfuzzer_sys::fuzz_target;
use velos::frame::{self, Layout};
use velos::timestamp::{TimeContext, Zone};

fuzz_target!(|data: &[u8]| {
    let ctx = TimeContext::new(Zone::utc(), 1_800_000_000_000);
    let layout = Layout::sniff(data, &ctx);
    let whole: Vec<(usize, usize)> = frame::spans(&layout, data, 0, data.len()).collect();
    let mut pos = 0;
    for &(s, e) in &whole {
        assert_eq!(s, pos);
        assert!(e > s);
        let _ = layout.read(data, s, e, &ctx);
        assert_eq!(layout.record_start(data, (s + e) / 2, 0), s);
        assert!(e == data.len() || layout.starts_record(data, e));
        pos = e;
    }
    assert_eq!(pos, data.len());
    if !data.is_empty() {
        let cut = layout.align(data, data.len() / 2);
        let mut pieces: Vec<(usize, usize)> = frame::spans(&layout, data, 0, cut).collect();
        pieces.extend(frame::spans(&layout, data, cut, data.len()));
        assert_eq!(pieces, whole);
    }
});

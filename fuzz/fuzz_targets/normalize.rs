//! Fuzzes the masking scanner and the header layout learner: any bytes, no
//! panic; the id is the hash of the template; the template is a fixed
//! point; a learned layout's message start lies inside the line.

#![no_main]

use libfuzzer_sys::fuzz_target;
use velos::normalize::{HeaderLayout, normalize, template_id};

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    let id = normalize(data, &mut out);
    assert_eq!(id, template_id(&out));
    let mut again = Vec::new();
    normalize(&out, &mut again);
    assert_eq!(out, again, "normalizing a template changes it");

    let layout = HeaderLayout::learn_from_bytes(data);
    for line in data.split(|&c| c == b'\n') {
        assert!(layout.message_start(line) <= line.len());
    }
});

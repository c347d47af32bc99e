//! Fuzzes the masking scanner: any bytes, no panic; the id is the hash of
//! the template; the template is a fixed point.

#![no_main]

use libfuzzer_sys::fuzz_target;
use velos::normalize::{normalize, template_id};

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    let id = normalize(data, &mut out);
    assert_eq!(id, template_id(&out));
    let mut again = Vec::new();
    normalize(&out, &mut again);
    assert_eq!(out, again, "normalizing a template changes it");
});

//! Fuzzes what the daemon does with bytes from its socket: framing with a
//! size limit and skipping of oversized lines, then request decoding. No
//! panic on any bytes, and a request that decodes encodes back to one that
//! decodes the same.

#![no_main]

use std::io::BufReader;

use libfuzzer_sys::fuzz_target;
use velos::daemon::server::decode;
use velos::ipc::frame::{FrameError, read_frame, skip_line};
use velos::ipc::{PROTOCOL_VERSION, RequestFrame};

fn check(bytes: &[u8]) {
    if let Ok(request) = decode(bytes) {
        let frame = RequestFrame {
            v: PROTOCOL_VERSION,
            request: request.clone(),
        };
        let encoded = serde_json::to_vec(&frame).expect("a request encodes");
        assert_eq!(decode(&encoded), Ok(request));
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    // A small buffer and limit, so that lines cross buffer boundaries and
    // oversized lines are common.
    let mut reader = BufReader::with_capacity(64, data);
    let mut buf = Vec::new();
    loop {
        match read_frame(&mut reader, 512, &mut buf) {
            Ok(true) => {
                assert!(buf.len() <= 512 && !buf.contains(&b'\n'));
                check(&buf);
            }
            Ok(false) => break,
            Err(FrameError::TooLarge { .. }) => {
                if !matches!(skip_line(&mut reader, 4096), Ok(true)) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
});

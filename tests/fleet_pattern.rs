//! The pattern id the daemon exports (`velos.pattern`) depends on the line
//! alone: it equals the template id the engine gives the same line analysed
//! alone, and inside a large file, and what `velos logs --json` shows as
//! `pattern` whenever the line's template is its pattern's most frequent one.

mod common;
mod fleet;

use std::collections::HashMap;

use common::{TestHome, secs};
use fleet::{Receiver, string};
use serde_json::Value as Json;
use velos::engine::template_of;
use velos::frame::{Layout, spans};
use velos::timestamp::{TimeContext, Zone};

/// Lines whose ids are followed; the `bob` template is similar to the
/// `alice` one (one word differs) and rarer, so `velos logs` merges them
/// into one pattern named after `alice`.
const ALICE: &str = "payment 8812 failed for user alice after 3 retries";
const BOB: &str = "payment 17 failed for user bob after 9 retries";
const OTHERS: [&str; 3] = [
    "GET /api/orders/77 200 12ms",
    "connection from 10.1.2.3:5544 closed",
    "worker-3 finished job 9f8e7d6c5b4a3f2e in 1.5s",
];

/// A large, varied output: 30,000 lines of a dozen shapes, with the
/// followed lines (numbers varied) among them; `alice` three times as
/// often as `bob`.
fn large_output() -> String {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let mut out = String::new();
    for i in 0..30_000u64 {
        let line = match next(12) {
            0..=2 => format!(
                "payment {} failed for user alice after {} retries",
                next(9999),
                next(9)
            ),
            3 => format!(
                "payment {} failed for user bob after {} retries",
                next(9999),
                next(9)
            ),
            4 => format!("GET /api/orders/{} 200 {}ms", next(999), next(99)),
            5 => format!(
                "connection from 10.{}.{}.{}:{} closed",
                next(255),
                next(255),
                next(255),
                next(65535)
            ),
            6 => format!(
                "worker-{} finished job {:016x} in {}.{}s",
                next(9),
                next(u64::MAX),
                next(9),
                next(9)
            ),
            7 => format!("cache miss for key user:{}", next(99_999)),
            8 => format!("disk usage at {}% on /dev/sda{}", next(100), next(4)),
            9 => format!("scheduler tick {i}"),
            10 => format!("retrying request {} of {}", next(5), 5),
            _ => "healthy".to_string(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    for line in [ALICE, BOB].iter().chain(&OTHERS) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `velos logs <file> --json` records, by message.
fn shown(home: &TestHome, target: &str) -> HashMap<String, String> {
    home.ok(&["logs", target, "--json", "--lines", "1000000"])
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).expect("JSON line"))
        .filter_map(|r| {
            Some((
                r["msg"].as_str()?.to_string(),
                r["pattern"].as_str()?.to_string(),
            ))
        })
        .collect()
}

#[test]
fn exported_id_equals_the_engine_id_alone_in_a_large_file_and_from_the_daemon() {
    let receiver = Receiver::start();
    let home = TestHome::new();
    home.write_config(&format!(
        "[export.otlp]\nendpoint = \"{}\"\n",
        receiver.endpoint()
    ));
    let input = home.path().join("output.txt");
    std::fs::write(&input, large_output()).unwrap();
    home.ok(&[
        "start",
        "--name",
        "big",
        "--",
        "sh",
        "-c",
        &format!("cat '{}'; exec sleep 60", input.display()),
    ]);
    let followed: Vec<&str> = [ALICE, BOB].iter().chain(&OTHERS).copied().collect();
    let records = receiver.wait(secs(120), |r| {
        r.last().is_some_and(|last| last.body() == OTHERS[2])
    });
    assert_eq!(records.len(), 30_000 + followed.len());
    let exported: HashMap<String, String> = records
        .iter()
        .rev()
        .take(followed.len())
        .map(|r| (r.body(), string(&r.attr("velos.pattern")).to_string()))
        .collect();

    // The engine's own template id of each line, inside the large file the
    // daemon wrote.
    let log = std::fs::read(home.logs().join("big.log")).unwrap();
    let ctx = TimeContext::new(Zone::utc(), 1_800_000_000_000);
    let layout = Layout::sniff(&log, &ctx);
    let mut in_large = HashMap::new();
    let mut buf = Vec::new();
    for (start, end) in spans(&layout, &log, 0, log.len()) {
        let record = layout.read(&log, start, end, &ctx);
        let message = layout.first_message_line(&record, &mut buf).to_vec();
        let message = String::from_utf8(message).unwrap();
        if followed.contains(&message.as_str()) {
            in_large.insert(message, format!("{:016x}", template_of(&layout, &record)));
        }
    }

    // Each line analysed alone, in the daemon's record format.
    let shown_large = shown(&home, "big");
    for line in &followed {
        let alone = common::TestHome::new();
        let file = alone.path().join("one.log");
        std::fs::write(
            &file,
            format!(
                "{{\"ts\":1,\"lvl\":\"info\",\"pid\":1,\"msg\":{line:?},\"src\":\"stdout\"}}\n"
            ),
        )
        .unwrap();
        let shown_alone = shown(&alone, file.to_str().unwrap());
        let id = &exported[*line];
        assert_eq!(&shown_alone[*line], id, "{line}: alone");
        assert_eq!(
            &in_large[*line], id,
            "{line}: template id in the large file"
        );
        assert_eq!(
            &format!("{:016x}", velos::daemon::fleet::pattern_id(line.as_bytes())),
            id
        );
        // `velos logs --json` on the large file: the same id, except where
        // the template was merged into a pattern named after a more
        // frequent member (bob's, named after alice's).
        if *line == BOB {
            assert_eq!(
                shown_large[*line], exported[ALICE],
                "bob joins alice's pattern"
            );
            assert_ne!(&shown_large[*line], id);
        } else {
            assert_eq!(&shown_large[*line], id, "{line}: velos logs --json");
        }
    }
}

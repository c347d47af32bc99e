//! Captured output analysed like a file, through the real daemon: an
//! application that writes its own header (time, level, thread, logger)
//! to stdout and stderr gets templates that start at its message, and the
//! level in its header wins over the stream and the keywords.

mod common;

use common::{TestHome, secs};

/// Twelve rounds of three events, info lines on stderr among them, one of
/// them with a failure keyword at info level. The level comes after host,
/// program, thread and tenant columns: further than a header scan without
/// the learned layout looks.
const APP: &str = r#"
i=1
while [ $i -le 12 ]; do
  h="2026-11-29 10:00:$(printf %02d $i)"
  printf '%s.123 web-1 api[42] worker-%d tenant=acme INFO  request %d took %dms\n' "$h" $i $i $((i * 7))
  printf '%s.456 web-1 api[42] worker-%d tenant=acme INFO  job %d failed over to replica\n' "$h" $i $i >&2
  printf '%s.789 web-1 api[42] worker-%d tenant=acme ERROR upstream %d unreachable\n' "$h" $i $i
  i=$((i + 1))
done
"#;

#[test]
fn captured_lines_are_grouped_on_the_message_with_the_apps_own_level() {
    let home = TestHome::new();
    home.ok(&[
        "start",
        "--name",
        "api",
        "--no-autorestart",
        "--",
        "sh",
        "-c",
        APP,
    ]);
    home.wait_status("api", "stopped", secs(10));

    let summary: serde_json::Value =
        serde_json::from_str(&home.ok(&["logs", "api", "--summary", "--json"])).unwrap();
    let patterns = summary["top_patterns"].as_array().unwrap();
    let level_of = |template: &str| {
        patterns
            .iter()
            .find(|p| p["template"] == template)
            .unwrap_or_else(|| panic!("no pattern {template:?} in {patterns:#?}"))["level"]
            .clone()
    };
    // The app's header (time, host, program, thread, level) is not in the
    // templates, and every event is one pattern.
    assert_eq!(level_of("request <NUM> took <NUM>"), "info");
    assert_eq!(level_of("upstream <NUM> unreachable"), "error");
    // Written to stderr and saying "failed", but the app says INFO.
    assert_eq!(level_of("job <NUM> failed over to replica"), "info");
    assert_eq!(summary["levels"]["error"], 12);

    // Each record's level is the app's own.
    let records: Vec<serde_json::Value> = home
        .ok(&["logs", "api", "--json", "-n", "0"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let jobs: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["src"] != "velos")
        .filter(|r| r["msg"].as_str().is_some_and(|m| m.contains("failed over")))
        .collect();
    assert_eq!(jobs.len(), 12);
    assert!(jobs.iter().all(|r| r["lvl"] == "info"), "{jobs:#?}");
}

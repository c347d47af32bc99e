//! Header learning, normalization and grouping on the shipped sample
//! `examples/app.log` (written by the `genlog` example).

use velos::analyze::patterns::{PatternConfig, TemplateCounts};
use velos::level::Level;
use velos::normalize::{ColumnKind, HeaderLayout, normalize};

fn sample() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/app.log")).expect("app.log")
}

#[test]
fn layout_is_time_level_service() {
    let bytes = sample();
    let layout = HeaderLayout::learn_from_bytes(&bytes);
    assert_eq!(
        layout.columns(),
        &[ColumnKind::Time, ColumnKind::Level, ColumnKind::Bracket]
    );
    let line = b"2026-01-10T03:22:53.792Z ERROR [orders] request 095b aborted";
    assert_eq!(layout.message(line), b"request 095b aborted");
    assert_eq!(layout.level(line), Some(Level::Error));
    // Stack trace lines are all message.
    assert_eq!(
        layout.message(b"\tat a.B.c(B.java:1)"),
        b"\tat a.B.c(B.java:1)"
    );
}

#[test]
fn generated_events_group_into_their_templates() {
    let bytes = sample();
    let layout = HeaderLayout::learn_from_bytes(&bytes);
    let mut counts = TemplateCounts::new();
    let mut out = Vec::new();
    let mut by_line = Vec::new();
    let mut offset = 0u64;
    for line in bytes.split(|&c| c == b'\n') {
        if !line.is_empty() && !line[0].is_ascii_whitespace() && line.starts_with(b"2026-") {
            let msg = layout.message(line);
            let id = normalize(msg, &mut out);
            counts.observe(id, &out, offset);
            by_line.push((String::from_utf8_lossy(msg).into_owned(), id));
        }
        offset += line.len() as u64 + 1;
    }
    let patterns = counts.cluster(&PatternConfig::default());
    assert!(patterns.len() < counts.len());
    assert!(patterns.len() > 100, "{} patterns", patterns.len());

    // Job completions on every queue are one pattern (the queue name is a
    // variable: six names at one place), distinct from job starts.
    let pattern_of = |pred: &dyn Fn(&str) -> bool| {
        let mut ids: Vec<_> = by_line
            .iter()
            .filter(|(m, _)| pred(m))
            .map(|(_, id)| patterns.id_of(*id).unwrap())
            .collect();
        assert!(ids.len() > 3);
        ids.dedup();
        ids
    };
    let completed = pattern_of(&|m| m.starts_with("job ") && m.contains(" completed in "));
    let started = pattern_of(&|m| m.starts_with("job ") && m.contains(" started on worker-"));
    assert_eq!(completed.len(), 1);
    assert_eq!(started.len(), 1);
    assert_ne!(completed, started);
    let text = &patterns
        .as_slice()
        .iter()
        .find(|p| p.id == completed[0])
        .unwrap()
        .text;
    assert_eq!(
        String::from_utf8_lossy(text),
        "job <UUID> from <*> completed in <NUM>"
    );
}

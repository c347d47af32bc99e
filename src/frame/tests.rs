use super::*;
use crate::timestamp::Zone;
use proptest::prelude::*;

fn ctx() -> TimeContext {
    TimeContext::new(Zone::utc(), 1_800_000_000_000)
}

fn texts(data: &[u8]) -> Vec<String> {
    let layout = Layout::sniff(data, &ctx());
    spans(&layout, data, 0, data.len())
        .map(|(s, e)| String::from_utf8_lossy(layout.read(data, s, e, &ctx()).text).into_owned())
        .collect()
}

const JAVA: &str = "2026-01-10T00:00:01.000Z ERROR [api] request failed\n\
java.lang.IllegalStateException: boom\n\
\tat com.example.Api.handle(Api.java:42)\n\
\t... 12 more\n\
Caused by: java.io.IOException: reset\n\
2026-01-10T00:00:02.000Z INFO  [api] ok\n";

#[test]
fn stack_traces_join_their_record() {
    let records = texts(JAVA.as_bytes());
    assert_eq!(records.len(), 2);
    assert!(records[0].ends_with("Caused by: java.io.IOException: reset"));
    assert_eq!(records[1], "2026-01-10T00:00:02.000Z INFO  [api] ok");
}

#[test]
fn python_traceback_joins_including_the_exception_line() {
    let log = "2026-01-10 00:00:01,000 ERROR worker crashed\n\
Traceback (most recent call last):\n  File \"w.py\", line 3, in <module>\n    main()\n\
ValueError: bad value\n\
2026-01-10 00:00:02,000 INFO next\n";
    let records = texts(log.as_bytes());
    assert_eq!(records.len(), 2);
    assert!(records[0].ends_with("ValueError: bad value"));
}

#[test]
fn without_timestamps_every_line_is_a_record() {
    let log = "first\n  indented\nat the end\n\n";
    assert_eq!(
        texts(log.as_bytes()),
        vec!["first", "  indented", "at the end", ""]
    );
}

#[test]
fn unknown_lines_in_a_timed_file_stand_alone() {
    let log = "2026-01-10T00:00:01Z INFO a\nsome banner line\n2026-01-10T00:00:02Z INFO b\n";
    assert_eq!(texts(log.as_bytes()).len(), 3);
}

#[test]
fn json_lines_never_swallow_the_next_line() {
    let log = "{\"ts\":1768003200000,\"lvl\":\"info\",\"msg\":\"a\"}\n  indented\n";
    assert_eq!(texts(log.as_bytes()).len(), 2);
}

#[test]
fn reads_times_and_levels() {
    let data = JAVA.as_bytes();
    let layout = Layout::sniff(data, &ctx());
    let (s, e) = spans(&layout, data, 0, data.len()).next().unwrap();
    let rec = layout.read(data, s, e, &ctx());
    assert_eq!(rec.ts, Some(1_768_003_201_000));
    assert_eq!(rec.explicit, Some(Level::Error));
    assert_eq!(rec.line_count(), 5);
    let json = b"{\"ts\":1768003200,\"level\":40,\"msg\":\"x\"}\n";
    let layout = Layout::sniff(json, &ctx());
    assert!(layout.json && layout.numeric_levels && layout.timed);
    let rec = layout.read(json, 0, json.len(), &ctx());
    assert_eq!(
        (rec.ts, rec.explicit),
        (Some(1_768_003_200_000), Some(Level::Warn))
    );
}

#[test]
fn logcat_letters_are_sniffed() {
    let log = b"03-17 16:13:38.811  1702  2395 D WindowManager: x\n03-17 16:13:38.812  1702  2395 E Foo: y\n";
    let layout = Layout::sniff(log, &ctx());
    assert_eq!(layout.header, HeaderStyle::Letters);
    let rec = layout.read(log, 51, log.len(), &ctx());
    assert_eq!(rec.explicit, Some(Level::Error));
}

#[test]
fn crlf_and_missing_final_newline() {
    let log = b"2026-01-10T00:00:01Z INFO a\r\n\tat x\r\n2026-01-10T00:00:02Z WARN b";
    let records = texts(log);
    assert_eq!(
        records,
        vec![
            "2026-01-10T00:00:01Z INFO a\r\n\tat x",
            "2026-01-10T00:00:02Z WARN b"
        ]
    );
}

fn line_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("2026-01-10T00:00:01.000Z INFO  [api] ok".to_string()),
        Just("2026-01-10T00:00:02.000Z ERROR [db] failed".to_string()),
        Just("\tat com.example.A.b(A.java:1)".to_string()),
        Just("Caused by: x".to_string()),
        Just("java.io.IOException: y".to_string()),
        Just("{\"ts\":1768003200000,\"lvl\":\"warn\",\"msg\":\"j\"}".to_string()),
        Just(String::new()),
        "[ a-z{]{0,12}",
    ]
}

proptest! {
    /// Aligning any cut to a record boundary gives the same records as one
    /// sequential pass: the rule behind chunked parallel framing.
    #[test]
    fn cuts_anywhere_give_the_same_records(
        lines in proptest::collection::vec(line_strategy(), 0..30),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let data = lines.join("\n").into_bytes();
        let layout = Layout::sniff(&data, &ctx());
        let whole: Vec<_> = spans(&layout, &data, 0, data.len()).collect();
        let mut bounds: Vec<usize> = cuts.iter().map(|i| layout.align(&data, i.index(data.len() + 1))).collect();
        bounds.push(0);
        bounds.push(data.len());
        bounds.sort_unstable();
        bounds.dedup();
        let pieces: Vec<_> = bounds
            .windows(2)
            .flat_map(|w| spans(&layout, &data, w[0], w[1]).collect::<Vec<_>>())
            .collect();
        prop_assert_eq!(&pieces, &whole);
        for &(s, e) in &whole {
            // Reading with the extent the framer saw is reading afresh.
            let (end, single_line) = layout.record_extent(&data, s, data.len());
            prop_assert_eq!(end, e);
            prop_assert_eq!(
                format!("{:?}", layout.read_extent(&data, s, e, single_line, &ctx())),
                format!("{:?}", layout.read(&data, s, e, &ctx()))
            );
            for p in s..e {
                prop_assert_eq!(layout.record_start(&data, p.max(s), 0), s);
            }
        }
    }
}

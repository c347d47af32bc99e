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
fn untimed_lines_in_a_timed_file_join_the_entry_above() {
    let log = "2026-01-10T00:00:01Z INFO a\nsome banner line\n2026-01-10T00:00:02Z INFO b\n";
    assert_eq!(
        texts(log.as_bytes()),
        vec![
            "2026-01-10T00:00:01Z INFO a\nsome banner line",
            "2026-01-10T00:00:02Z INFO b"
        ]
    );
}

/// Entries of each kind: (log, expected number of records, a line the
/// first record must end with).
const ENTRIES: &[(&str, usize, &str)] = &[
    (
        // Laravel / Monolog with a PHP trace.
        "[2026-01-10 10:00:01] production.ERROR: Call to undefined method App\\User::foo() {\"exception\":\"[object] (BadMethodCallException(code: 0): Call to undefined method App\\\\User::foo() at /var/www/app/vendor/laravel/framework/src/Illuminate/Support/Traits/ForwardsCalls.php:50)
[stacktrace]
#0 /var/www/app/vendor/laravel/framework/src/Illuminate/Support/Traits/ForwardsCalls.php(36): Illuminate\\Database\\Eloquent\\Model::throwBadMethodCallException('foo')
#1 /var/www/app/app/Http/Controllers/UserController.php(21): Illuminate\\Database\\Eloquent\\Model->forwardCallTo(Object(App\\User), 'foo', Array)
#2 {main}
\"}
[2026-01-10 10:00:02] production.INFO: User 42 logged in
",
        2,
        "\"}",
    ),
    (
        // A Go panic and its goroutine dump.
        "2026/01/10 10:00:01 handling request /api/users
panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a5b3c]

goroutine 18 [running]:
main.(*Server).handle(0x0, {0x7f8e3c, 0xc000010000})
\t/home/app/server.go:42 +0x1c
net/http.HandlerFunc.ServeHTTP(0xc000012345, {0x7f8e3c, 0xc000010000}, 0xc00001e000)
\t/usr/local/go/src/net/http/server.go:2136 +0x29
created by net/http.(*Server).Serve in goroutine 1
\t/usr/local/go/src/net/http/server.go:3285 +0x4b4
exit status 2
2026/01/10 10:00:05 server restarted
",
        2,
        "exit status 2",
    ),
    (
        // zap's development encoder: a stack after the entry.
        "2026-01-10T10:00:01.123Z\tERROR\tpayments/charge.go:88\tcharge failed\t{\"order\": 1234, \"error\": \"card declined\"}
main.(*Charger).Charge
\t/src/payments/charge.go:88
main.main
\t/src/main.go:31
runtime.main
\t/usr/local/go/src/runtime/proc.go:267
2026-01-10T10:00:02.000Z\tINFO\tpayments/charge.go:40\tcharged\t{\"order\": 1235}
",
        2,
        "\t/usr/local/go/src/runtime/proc.go:267",
    ),
    (
        // Python's chained exceptions.
        "2026-01-10 10:00:01,000 ERROR [worker] job 7 failed
Traceback (most recent call last):
  File \"/app/jobs.py\", line 12, in run
    value = int(payload[\"count\"])
KeyError: 'count'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File \"/app/jobs.py\", line 14, in run
    raise JobError(\"bad payload\") from None
jobs.JobError: bad payload
2026-01-10 10:00:02,000 INFO [worker] job 8 done
",
        2,
        "jobs.JobError: bad payload",
    ),
    (
        // An XML body under its entry.
        "2026-01-10 10:00:01.000 DEBUG SoapClient - response:
<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">
<soap:Body><GetPriceResponse><Price>34.5</Price></GetPriceResponse></soap:Body>
</soap:Envelope>
2026-01-10 10:00:02.000 INFO SoapClient - done
",
        2,
        "</soap:Envelope>",
    ),
    (
        // MySQL slow-query log entries.
        "# Time: 2026-01-10T10:00:01.123456Z
# User@Host: shop[shop] @ localhost []  Id:    12
# Query_time: 3.000123  Lock_time: 0.000012 Rows_sent: 1  Rows_examined: 500000
SET timestamp=1768039201;
SELECT * FROM orders WHERE note LIKE '%gift%';
# Time: 2026-01-10T10:00:09.000001Z
# User@Host: shop[shop] @ localhost []  Id:    13
# Query_time: 2.500000  Lock_time: 0.000010 Rows_sent: 0  Rows_examined: 250000
SET timestamp=1768039209;
DELETE FROM carts WHERE updated < '2025-01-01';
",
        2,
        "SELECT * FROM orders WHERE note LIKE '%gift%';",
    ),
    (
        // A pretty-printed JSON body under its entry.
        "2026-01-10T10:00:01Z INFO webhook payload:
{
  \"event\": \"invoice.paid\",
  \"data\": {\"id\": \"in_1\", \"amount\": 500}
}
2026-01-10T10:00:02Z INFO webhook done
",
        2,
        "}",
    ),
];

#[test]
fn every_kind_of_body_joins_its_entry() {
    for (log, count, last) in ENTRIES {
        let records = texts(log.as_bytes());
        assert_eq!(records.len(), *count, "{log}\n{records:#?}");
        assert!(records[0].ends_with(last), "{records:#?}");
    }
}

#[test]
fn entries_keep_their_time_and_level() {
    let data = ENTRIES[3].0.as_bytes();
    let layout = Layout::sniff(data, &ctx());
    let (s, e) = spans(&layout, data, 0, data.len()).next().unwrap();
    let rec = layout.read(data, s, e, &ctx());
    assert_eq!(rec.ts, Some(1_768_039_201_000));
    assert_eq!(rec.explicit, Some(Level::Error));
    assert_eq!(rec.line_count(), 12);
}

#[test]
fn pretty_printed_json_objects_are_one_record_each() {
    let log = "{\n  \"ts\": \"2026-01-10T10:00:01Z\",\n  \"level\": \"error\",\n  \"msg\": \"payment failed\",\n  \"order\": {\"id\": 7}\n}\n{\n  \"ts\": \"2026-01-10T10:00:02Z\",\n  \"level\": \"info\",\n  \"msg\": \"ok\"\n}\n";
    let data = log.as_bytes();
    let layout = Layout::sniff(data, &ctx());
    assert!(layout.json && layout.pretty_json);
    let records: Vec<_> = spans(&layout, data, 0, data.len())
        .map(|(s, e)| layout.read(data, s, e, &ctx()))
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].ts, Some(1_768_039_201_000));
    assert_eq!(records[0].explicit, Some(Level::Error));
    assert_eq!(records[0].line_count(), 6);
    // Without any time, objects still frame whole.
    let log = "{\n  \"msg\": \"a\"\n}\n{\n  \"msg\": \"b\"\n}\n";
    assert_eq!(texts(log.as_bytes()).len(), 2);
}

#[test]
fn w3c_directives_are_not_part_of_an_entry() {
    let log = "#Software: Microsoft Internet Information Services 10.0
#Version: 1.0
#Date: 2026-01-10 10:00:00
#Fields: date time s-ip cs-method cs-uri-stem sc-status
2026-01-10 10:00:01 10.0.0.1 GET /index.html 200
2026-01-10 10:00:02 10.0.0.1 GET /missing 404
#Software: Microsoft Internet Information Services 10.0
#Version: 1.0
2026-01-10 11:00:01 10.0.0.1 GET / 200
";
    let records = texts(log.as_bytes());
    assert_eq!(records.len(), 5, "{records:#?}");
    assert!(records[0].starts_with("#Software") && records[0].ends_with("sc-status"));
    assert_eq!(records[2], "2026-01-10 10:00:02 10.0.0.1 GET /missing 404");
    assert!(records[3].starts_with("#Software") && records[3].ends_with("#Version: 1.0"));
}

#[test]
fn a_few_dates_do_not_make_a_file_of_entries() {
    // A file that is not a log, with a date on one line in a hundred.
    let mut log = String::new();
    for i in 0..99 {
        log.push_str(&format!("item {i} ready\n"));
    }
    log.push_str("2026-01-10 10:00:00 release\n");
    let records = texts(log.as_bytes());
    assert_eq!(records.len(), 100);
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

/// Reads the first record of a file: (time, level, message, pid, source).
fn structured(line: &str) -> (Option<i64>, Option<Level>, String, Option<i64>, String) {
    let data = line.as_bytes();
    let layout = Layout::sniff(data, &ctx());
    let (s, e) = spans(&layout, data, 0, data.len()).next().unwrap();
    let rec = layout.read(data, s, e, &ctx());
    let json = rec.json.expect("a structured record");
    let mut buf = Vec::new();
    let msg = String::from_utf8_lossy(layout.first_message_line(&rec, &mut buf)).into_owned();
    let src = json
        .src
        .map(|v| String::from_utf8_lossy(v.raw()).into_owned())
        .unwrap_or_default();
    (rec.ts, rec.explicit, msg, json.pid, src)
}

#[test]
fn journald_json() {
    let line = r#"{"__CURSOR":"s=6f1c;i=2a41","__REALTIME_TIMESTAMP":"1768039201123456","__MONOTONIC_TIMESTAMP":"98765432","_BOOT_ID":"0b3f","PRIORITY":"3","SYSLOG_FACILITY":"3","SYSLOG_IDENTIFIER":"nginx","_PID":"812","_COMM":"nginx","MESSAGE":"connect() failed (111: Connection refused) while connecting to upstream"}"#;
    assert_eq!(
        structured(line),
        (
            Some(1_768_039_201_123),
            Some(Level::Error),
            "connect() failed (111: Connection refused) while connecting to upstream".into(),
            Some(812),
            "nginx".into()
        )
    );
    for (priority, level) in [
        ("0", Level::Fatal),
        ("2", Level::Fatal),
        ("4", Level::Warn),
        ("5", Level::Info),
        ("6", Level::Info),
        ("7", Level::Debug),
    ] {
        let line = format!(
            r#"{{"__REALTIME_TIMESTAMP":"1768039201123456","PRIORITY":"{priority}","MESSAGE":"x"}}"#
        );
        assert_eq!(structured(&line).1, Some(level), "{priority}");
    }
}

#[test]
fn mongodb_json() {
    let line = r#"{"t":{"$date":"2026-01-10T10:00:01.123+00:00"},"s":"W",  "c":"NETWORK",  "id":4615610, "ctx":"conn12","msg":"Failed to check socket connectivity","attr":{"error":{"code":6,"codeName":"HostUnreachable"}}}"#;
    assert_eq!(
        structured(line),
        (
            Some(1_768_039_201_123),
            Some(Level::Warn),
            "Failed to check socket connectivity".into(),
            None,
            "NETWORK".into()
        )
    );
    for (letter, level) in [
        ("F", Level::Fatal),
        ("E", Level::Error),
        ("I", Level::Info),
        ("D1", Level::Debug),
        ("D5", Level::Debug),
    ] {
        let line = format!(
            r#"{{"t":{{"$date":"2026-01-10T10:00:01.123+00:00"}},"s":"{letter}","c":"-","msg":"x"}}"#
        );
        assert_eq!(structured(&line).1, Some(level), "{letter}");
    }
    // Without MongoDB's time, `s` and `c` are ordinary fields.
    let line = r#"{"time":"2026-01-10T10:00:01Z","s":"E","c":"x","msg":"m"}"#;
    assert_eq!(structured(line).1, None);
}

#[test]
fn log4j2_json_layout() {
    let line = r#"{"instant":{"epochSecond":1768039201,"nanoOfSecond":987654321},"thread":"main","level":"ERROR","loggerName":"com.example.Billing","message":"Invoice 17 could not be sent","endOfBatch":false,"loggerFqcn":"org.apache.logging.log4j.spi.AbstractLogger","threadId":1,"threadPriority":5}"#;
    assert_eq!(
        structured(line),
        (
            Some(1_768_039_201_987),
            Some(Level::Error),
            "Invoice 17 could not be sent".into(),
            None,
            String::new()
        )
    );
    let line = r#"{"timeMillis":1768039201123,"thread":"main","level":"WARN","message":"slow"}"#;
    assert_eq!(structured(line).0, Some(1_768_039_201_123));
}

#[test]
fn nested_messages() {
    // Rust's tracing-subscriber JSON.
    let line = r#"{"timestamp":"2026-01-10T10:00:01.500000Z","level":"WARN","fields":{"message":"retrying upstream","attempt":3},"target":"proxy::upstream"}"#;
    let (ts, level, msg, ..) = structured(line);
    assert_eq!(
        (ts, level, msg.as_str()),
        (
            Some(1_768_039_201_500),
            Some(Level::Warn),
            "retrying upstream"
        )
    );
    // Logstash's old event format.
    let line = r#"{"@timestamp":"2026-01-10T10:00:01.000Z","@message":"GET /health 200","@fields":{"level":"info","status":200}}"#;
    let (_, level, msg, ..) = structured(line);
    assert_eq!(
        (level, msg.as_str()),
        (Some(Level::Info), "GET /health 200")
    );
    // A top-level message wins over a nested one.
    let line = r#"{"time":1768039201,"msg":"top","fields":{"message":"nested"}}"#;
    assert_eq!(structured(line).2, "top");
}

#[test]
fn logfmt_lines() {
    let log = "time=\"2026-01-10T10:00:01Z\" level=error msg=\"payment declined\" user=marco amount=12.50\n\
time=\"2026-01-10T10:00:02Z\" level=info msg=\"payment ok\" user=anna amount=3\n";
    let (ts, level, msg, ..) = structured(log);
    assert_eq!(
        (ts, level, msg.as_str()),
        (
            Some(1_768_039_201_000),
            Some(Level::Error),
            "payment declined"
        )
    );
    let log =
        "ts=2026-01-10T10:00:01.250Z caller=main.go:42 lvl=warn msg=\"disk almost full\" free=2%\n";
    let (ts, level, ..) = structured(log);
    assert_eq!((ts, level), (Some(1_768_039_201_250), Some(Level::Warn)));
}

fn line_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("2026-01-10T00:00:01.000Z INFO  [api] ok".to_string()),
        Just("2026-01-10T00:00:02.000Z ERROR [db] failed".to_string()),
        Just("\tat com.example.A.b(A.java:1)".to_string()),
        Just("Caused by: x".to_string()),
        Just("java.io.IOException: y".to_string()),
        Just("#0 /var/www/app.php(12): f()".to_string()),
        Just("#Fields: date time".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("  \"msg\": \"x\",".to_string()),
        Just("time=2026-01-10T00:00:03Z level=error msg=\"x y\" k=v".to_string()),
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

#[test]
fn timestamps_wider_or_narrower_than_the_sampled_ones_still_start_entries() {
    // The sample sees two-digit hours only; later lines have one digit.
    let mut log = String::new();
    for i in 0..1200 {
        log.push_str(&format!(
            "20171223-22:15:29:{:03}|Step_LSC|30002312|onStandStepChanged {i}\n",
            i % 1000
        ));
    }
    log.push_str("20171224-1:2:3:4|Step_LSC|30002312|onStandStepChanged late\n");
    let data = log.as_bytes();
    let layout = Layout::sniff(data, &ctx());
    assert!(layout.ts_shape.is_some());
    assert_eq!(spans(&layout, data, 0, data.len()).count(), 1201);
}

proptest! {
    #[test]
    fn shape_test_on_sixteen_bytes_at_once_agrees_with_the_byte_table(
        stamp in "[0-9A-Za-z:./ TZ+-]{8,16}",
        line in proptest::collection::vec(prop_oneof![
            Just(b'0'), Just(b'9'), Just(b'a'), Just(b'Z'), Just(b'-'), Just(b':'),
            Just(b'T'), Just(b'@'), Just(b'['), Just(b'`'), Just(b'{'), Just(b'/'),
            any::<u8>(),
        ], 0..24),
    ) {
        let stamp = stamp.as_bytes();
        let mut classes = [0; TsShape::MAX];
        for (c, &b) in classes.iter_mut().zip(stamp) {
            *c = TsShape::class(b);
        }
        let shape = TsShape { anchor: Anchor::Start, len: stamp.len() as u8, classes };
        prop_assert_eq!(shape.matches(&line), shape.fits_by_table(&line, 0));
        // The stamp itself always fits, with and without bytes after it.
        let mut own = stamp.to_vec();
        prop_assert!(shape.matches(&own));
        own.extend_from_slice(b" INFO ready\n");
        prop_assert!(shape.matches(&own));
    }
}

#[test]
fn a_padded_level_before_the_time_still_starts_an_entry() {
    let log = "[DEBUG 2015-05-20 12:22:19 main]  Exec[create exchange]/unless: Failed: Con\n\
[ INFO 2015-05-20 12:22:20 main] /usr/share/ruby/puppet/util/errors.rb:104:in `fail'\n\
[ERROR 2015-05-20 12:22:21 main]  qpid-config failed\n";
    let data = log.as_bytes();
    let layout = Layout::sniff(data, &ctx());
    let levels: Vec<Option<Level>> = spans(&layout, data, 0, data.len())
        .map(|(s, e)| layout.read(data, s, e, &ctx()).explicit)
        .collect();
    // The level written before the time wins over keywords in the message.
    assert_eq!(
        levels,
        vec![Some(Level::Debug), Some(Level::Info), Some(Level::Error)]
    );
}

#[test]
fn a_time_after_another_opener_does_not_start_an_entry() {
    let log = "2026-01-10 00:00:01 INFO response body:\n\
<order><created>2026-01-09T10:00:00Z</created></order>\n\
2026-01-10 00:00:02 INFO next\n";
    assert_eq!(texts(log.as_bytes()).len(), 2);
}

#[test]
fn a_level_letter_alone_before_the_time() {
    let log = "E [08/Jun/2013:11:28:58 -0700] Unknown directive BrowseOrder\n\
I [08/Jun/2013:11:28:59 -0700] Listening on localhost:631\n";
    let data = log.as_bytes();
    let layout = Layout::sniff(data, &ctx());
    let levels: Vec<Option<Level>> = spans(&layout, data, 0, data.len())
        .map(|(s, e)| layout.read(data, s, e, &ctx()).explicit)
        .collect();
    assert_eq!(levels, vec![Some(Level::Error), Some(Level::Info)]);
}

#[test]
fn coloured_headers_are_read_through_their_colour_codes() {
    let log = "\x1b[2m2026-01-10 10:00:00.123\x1b[0;39m \x1b[32m INFO\x1b[0;39m 42 --- [main] App : up\n\
\x1b[2m2026-01-10 10:00:01.123\x1b[0;39m \x1b[31mERROR\x1b[0;39m 42 --- [main] App : boom\n\
java.lang.IllegalStateException: x\n\
\tat a.b(C.java:1)\n\
\x1b[2m2026-01-10 10:00:02.123\x1b[0;39m \x1b[32m INFO\x1b[0;39m 42 --- [main] App : ok\n";
    let data = log.as_bytes();
    let layout = Layout::sniff(data, &ctx());
    let records: Vec<(Option<i64>, Option<Level>, usize)> = spans(&layout, data, 0, data.len())
        .map(|(s, e)| {
            let rec = layout.read(data, s, e, &ctx());
            (rec.ts, rec.explicit, rec.line_count())
        })
        .collect();
    assert_eq!(
        records,
        vec![
            (Some(1_768_039_200_123), Some(Level::Info), 1),
            (Some(1_768_039_201_123), Some(Level::Error), 3),
            (Some(1_768_039_202_123), Some(Level::Info), 1),
        ]
    );
}

#[test]
fn escape_bytes_that_are_not_colour_codes_are_left_alone() {
    let log = "2026-01-10 10:00:00 INFO a \x1b]0;title\x07\n\x1b]0;t\x07 b\n\x1b\n2026-01-10 10:00:01 INFO c\n";
    let records = texts(log.as_bytes());
    assert_eq!(records.len(), 2);
}

#[test]
fn a_member_named_like_a_time_is_the_time_when_no_known_key_is() {
    let time = |line: &str| json::parse(line.as_bytes()).and_then(|r| record_time(&r, &ctx()));
    assert_eq!(
        time(
            r#"{"ClientIP":"1.1.1.1","EdgeStartTimestamp":1712790040200000000,"EdgeResponseStatus":200}"#
        ),
        Some(1_712_790_040_200)
    );
    assert_eq!(
        time(r#"{"started_at":1490385986240,"status":200}"#),
        Some(1_490_385_986_240)
    );
    assert_eq!(
        time(r#"{"eventTime":"2026-01-10T10:00:00Z","msg":"x"}"#),
        Some(1_768_039_200_000)
    );
    // Durations and counters named like times are not times.
    assert_eq!(
        time(r#"{"response_time":0.12,"uptime":1700000,"msg":"x"}"#),
        None
    );
    // A known key wins wherever it stands.
    assert_eq!(
        time(r#"{"created_at":"2020-01-01T00:00:00Z","time":"2026-01-10T10:00:00Z"}"#),
        Some(1_768_039_200_000)
    );
}

/// `docker compose up` output: a service that prints no timestamps first,
/// then a timed one whose trace is interrupted by the other service.
const COMPOSE: &str = "Attaching to cache-1, api-1\n\
\x1b[33mcache-1  |\x1b[0m cache server is starting\n\
cache-1  | just a banner\n\
cache-1  | another banner\n\
api-1    | 2024-05-01T10:00:00.120Z INFO  listening on :8080\n\
api-1    | 2024-05-01T10:00:02.500Z ERROR request failed\n\
api-1    | java.lang.IllegalStateException: boom\n\
api-1    | \tat com.example.Api.handle(Api.java:42)\n\
cache-1  | ready\n\
api-1    | \tat com.example.Main.main(Main.java:7)\n\
api-1    | {\"level\":\"warn\",\"msg\":\"slow query\",\"ms\":812,\"ts\":\"2024-05-01T10:00:03Z\"}\n";

#[test]
fn compose_lines_are_read_per_service() {
    let data = COMPOSE.as_bytes();
    let layout = Layout::sniff(data, &ctx());
    assert!(layout.compose.is_some());
    let records: Vec<Record<'_>> = spans(&layout, data, 0, data.len())
        .map(|(s, e)| layout.read(data, s, e, &ctx()))
        .collect();
    let origins: Vec<Option<&str>> = records
        .iter()
        .map(|r| r.origin.map(|o| std::str::from_utf8(o).unwrap()))
        .collect();
    // The untimed service stays one record per line; the timed one's trace
    // joins its entry until the other service interrupts it.
    assert_eq!(
        origins,
        vec![
            None,
            Some("cache-1"),
            Some("cache-1"),
            Some("cache-1"),
            Some("api-1"),
            Some("api-1"),
            Some("cache-1"),
            Some("api-1"),
            Some("api-1"),
        ]
    );
    assert!(records[5].text.ends_with(b"(Api.java:42)"));
    assert_eq!(records[5].text.iter().filter(|&&b| b == b'\n').count(), 2);
    // Each service's own timestamps, levels and message start.
    assert_eq!(records[4].ts, Some(1_714_557_600_120));
    assert_eq!(records[5].explicit, Some(Level::Error));
    let mut buf = Vec::new();
    assert_eq!(
        layout.first_message_line(&records[4], &mut buf),
        b"listening on :8080"
    );
    // A JSON line of a service is a structured record of that service.
    let json = &records[8];
    assert_eq!(json.ts, Some(1_714_557_603_000));
    assert_eq!(json.explicit, Some(Level::Warn));
    let mut buf = Vec::new();
    assert_eq!(layout.first_message_line(json, &mut buf), b"slow query");
    // A line without a service column is read as it is.
    let mut buf = Vec::new();
    assert_eq!(
        layout.first_message_line(&records[0], &mut buf),
        b"Attaching to cache-1, api-1"
    );
}

#[test]
fn a_level_column_is_no_service_name() {
    let wrapper = "INFO   | jvm 1    | 2025/01/02 10:00:00 | started\n\
STATUS | wrapper  | 2025/01/02 10:00:01 | launching\n\
INFO   | jvm 1    | 2025/01/02 10:00:02 | ready\n";
    assert!(Layout::sniff(wrapper.as_bytes(), &ctx()).compose.is_none());
    // A few prefixed lines among many plain ones are not compose output.
    let mixed = "2025-01-02 10:00:00 a\nweb-1 | b\n2025-01-02 10:00:01 c\n";
    assert!(Layout::sniff(mixed.as_bytes(), &ctx()).compose.is_none());
}

proptest! {
    /// Record boundaries in compose output do not depend on where a
    /// chunk starts.
    #[test]
    fn compose_alignment_is_stable(cut in 0usize..COMPOSE.len()) {
        let data = COMPOSE.as_bytes();
        let layout = Layout::sniff(data, &ctx());
        let whole: Vec<(usize, usize)> = spans(&layout, data, 0, data.len()).collect();
        let at = layout.align(data, cut);
        let tail: Vec<(usize, usize)> = spans(&layout, data, at, data.len()).collect();
        prop_assert!(whole.ends_with(&tail));
    }
}

//! Records as people read them, through `velos logs`: structured formats
//! beyond velos's own (journald, MongoDB, log4j2, nested messages, logfmt,
//! pretty-printed JSON) keep their other fields in text and `--json`;
//! entries join every line without a timestamp; colour codes are left out.

mod common;

use common::{json_lines, lines, logs, write};
use serde_json::json;

fn all(home: &std::path::Path, path: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut full = vec!["--lines", "0"];
    full.extend_from_slice(args);
    let out = logs(home, path, &full);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

const JOURNALD: &str = concat!(
    r#"{"__CURSOR":"s=6f1c;i=2a41","__REALTIME_TIMESTAMP":"1768039201123456","PRIORITY":"3","SYSLOG_IDENTIFIER":"nginx","_PID":"812","_SYSTEMD_UNIT":"nginx.service","MESSAGE":"connect() failed (111: Connection refused) while connecting to upstream"}"#,
    "\n",
    r#"{"__CURSOR":"s=6f1c;i=2a42","__REALTIME_TIMESTAMP":"1768039202000000","PRIORITY":"6","SYSLOG_IDENTIFIER":"sshd","_PID":"901","_SYSTEMD_UNIT":"ssh.service","MESSAGE":"Accepted publickey for marco from 10.0.0.8 port 52144 ssh2"}"#,
    "\n",
);

#[test]
fn journald_json_keeps_priority_identifier_and_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "journal.json", JOURNALD);
    let out = all(dir.path(), &path, &["--json", "--level", "error"]);
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r["ts"], 1_768_039_201_123i64);
    assert_eq!(r["lvl"], "error");
    assert_eq!(r["pid"], 812);
    assert_eq!(r["src"], "nginx");
    assert_eq!(
        r["msg"],
        "connect() failed (111: Connection refused) while connecting to upstream"
    );
    assert_eq!(
        r["fields"],
        json!({"__CURSOR": "s=6f1c;i=2a41", "_SYSTEMD_UNIT": "nginx.service"})
    );
    let out = all(dir.path(), &path, &[]);
    assert_eq!(
        lines(&out.stdout),
        [
            "2026-01-10 10:00:01.123 ERROR [nginx] connect() failed (111: Connection refused) while connecting to upstream __CURSOR=\"s=6f1c;i=2a41\" _SYSTEMD_UNIT=nginx.service",
            "2026-01-10 10:00:02.000 INFO  [sshd] Accepted publickey for marco from 10.0.0.8 port 52144 ssh2 __CURSOR=\"s=6f1c;i=2a42\" _SYSTEMD_UNIT=ssh.service",
        ]
    );
}

#[test]
fn mongodb_records_and_their_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "mongod.log",
        concat!(
            r#"{"t":{"$date":"2026-01-10T10:00:01.123+00:00"},"s":"I",  "c":"NETWORK",  "id":23016,   "ctx":"listener","msg":"Waiting for connections","attr":{"port":27017,"ssl":"off"}}"#,
            "\n",
            r#"{"t":{"$date":"2026-01-10T10:00:02.456+00:00"},"s":"W",  "c":"CONTROL",  "id":22120,   "ctx":"initandlisten","msg":"Access control is not enabled for the database","tags":["startupWarnings"]}"#,
            "\n",
            r#"{"t":{"$date":"2026-01-10T10:00:03.000+00:00"},"s":"D2", "c":"QUERY",    "id":20967,   "ctx":"conn7","msg":"Plan executor","attr":{"ns":"shop.orders"}}"#,
            "\n",
        ),
    );
    let out = all(dir.path(), &path, &["--json"]);
    let records = json_lines(&out.stdout);
    let levels: Vec<_> = records.iter().map(|r| r["lvl"].clone()).collect();
    assert_eq!(levels, [json!("info"), json!("warn"), json!("debug")]);
    assert_eq!(records[1]["ts"], 1_768_039_202_456i64);
    assert_eq!(records[1]["src"], "CONTROL");
    assert_eq!(
        records[0]["fields"],
        json!({"id": 23016, "ctx": "listener", "attr": {"port": 27017, "ssl": "off"}})
    );
    let out = all(dir.path(), &path, &["--level", "warn+"]);
    assert_eq!(
        lines(&out.stdout),
        [
            "2026-01-10 10:00:02.456 WARN  [CONTROL] Access control is not enabled for the database id=22120 ctx=initandlisten tags=[\"startupWarnings\"]"
        ]
    );
    // Nested attributes are flattened in text, and --grep sees them.
    let out = all(dir.path(), &path, &["--grep", "27017"]);
    assert_eq!(
        lines(&out.stdout),
        [
            "2026-01-10 10:00:01.123 INFO  [NETWORK] Waiting for connections id=23016 ctx=listener attr.port=27017 attr.ssl=off"
        ]
    );
}

#[test]
fn log4j2_and_nested_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "app.json",
        concat!(
            r#"{"instant":{"epochSecond":1768039201,"nanoOfSecond":250000000},"thread":"main","level":"ERROR","loggerName":"com.example.Billing","message":"Invoice 17 could not be sent","endOfBatch":false}"#,
            "\n",
            r#"{"timestamp":"2026-01-10T10:00:02.000000Z","level":"WARN","fields":{"message":"retrying upstream","attempt":3},"target":"proxy::upstream"}"#,
            "\n",
        ),
    );
    let out = all(dir.path(), &path, &["--json"]);
    let records = json_lines(&out.stdout);
    assert_eq!(records[0]["ts"], 1_768_039_201_250i64);
    assert_eq!(records[0]["lvl"], "error");
    assert_eq!(
        records[0]["fields"],
        json!({"thread": "main", "loggerName": "com.example.Billing", "endOfBatch": false})
    );
    assert_eq!(records[1]["msg"], "retrying upstream");
    assert_eq!(
        records[1]["fields"],
        json!({"fields.attempt": 3, "target": "proxy::upstream"})
    );
    let out = all(dir.path(), &path, &["--level", "warn"]);
    assert_eq!(
        lines(&out.stdout),
        ["2026-01-10 10:00:02.000 WARN  retrying upstream fields.attempt=3 target=proxy::upstream"]
    );
}

#[test]
fn logfmt_lines_are_structured_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "api.log",
        "time=\"2026-01-10T10:00:01Z\" level=error msg=\"payment declined\" user=marco amount=12.50\n\
         time=\"2026-01-10T10:00:02Z\" level=info msg=\"payment ok\" user=anna note=\"first order\"\n\
         ts=2026-01-10T10:00:03.500Z lvl=warn msg=\"slow query\" took=1.2s\n",
    );
    let out = all(dir.path(), &path, &[]);
    assert_eq!(
        lines(&out.stdout),
        [
            "2026-01-10 10:00:01.000 ERROR payment declined user=marco amount=12.50",
            "2026-01-10 10:00:02.000 INFO  payment ok user=anna note=\"first order\"",
            "2026-01-10 10:00:03.500 WARN  slow query took=1.2s",
        ]
    );
    let out = all(dir.path(), &path, &["--json", "--grep", "marco"]);
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["lvl"], "error");
    assert_eq!(records[0]["msg"], "payment declined");
    assert_eq!(
        records[0]["fields"],
        json!({"user": "marco", "amount": "12.50"})
    );
}

#[test]
fn pretty_printed_json_is_one_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "events.json",
        "{\n  \"ts\": \"2026-01-10T10:00:01Z\",\n  \"level\": \"error\",\n  \"msg\": \"payment failed\",\n  \"order\": {\n    \"id\": 7\n  }\n}\n\
         {\n  \"ts\": \"2026-01-10T10:00:02Z\",\n  \"level\": \"info\",\n  \"msg\": \"ok\"\n}\n",
    );
    let out = all(dir.path(), &path, &["--json"]);
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["line"], 1);
    assert_eq!(records[1]["line"], 9);
    assert_eq!(records[0]["fields"], json!({"order": {"id": 7}}));
    let out = all(dir.path(), &path, &["--level", "error"]);
    assert_eq!(
        lines(&out.stdout),
        ["2026-01-10 10:00:01.000 ERROR payment failed order.id=7"]
    );
}

/// A Laravel log: each entry, with its PHP trace, is one record.
const LARAVEL: &str = "[2026-01-10 10:00:01] production.ERROR: Call to undefined method App\\User::foo() {\"exception\":\"[object] (BadMethodCallException(code: 0): Call to undefined method App\\\\User::foo() at /var/www/app/vendor/laravel/framework/src/Illuminate/Support/Traits/ForwardsCalls.php:50)
[stacktrace]
#0 /var/www/app/vendor/laravel/framework/src/Illuminate/Support/Traits/ForwardsCalls.php(36): Illuminate\\Database\\Eloquent\\Model::throwBadMethodCallException('foo')
#1 /var/www/app/app/Http/Controllers/UserController.php(21): Illuminate\\Database\\Eloquent\\Model->forwardCallTo(Object(App\\User), 'foo', Array)
#2 {main}
\"}
[2026-01-10 10:00:02] production.INFO: User 42 logged in
[2026-01-10 10:00:03] production.ERROR: SQLSTATE[HY000] [2002] Connection refused {\"exception\":\"[object] (PDOException(code: 2002): SQLSTATE[HY000] [2002] Connection refused at /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connectors/Connector.php:70)
[stacktrace]
#0 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connectors/Connector.php(70): PDO->__construct('mysql:host=db;p...', 'shop', Object(SensitiveParameterValue), Array)
#1 {main}
\"}
";

#[test]
fn entries_with_traces_are_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "laravel.log", LARAVEL);
    let out = all(dir.path(), &path, &["--json"]);
    let records = json_lines(&out.stdout);
    let starts: Vec<_> = records.iter().map(|r| r["line"].clone()).collect();
    assert_eq!(starts, [json!(1), json!(7), json!(8)]);
    assert!(
        records[0]["msg"]
            .as_str()
            .unwrap()
            .ends_with("#2 {main}\n\"}")
    );
    let out = all(dir.path(), &path, &["--summary", "--json"]);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["records"], 3, "{summary}");
}

#[test]
fn colour_codes_are_left_out_and_other_controls_shown() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "tty.log",
        "2026-01-10T10:00:01Z \x1b[31mERROR\x1b[0m db \x1b[1mdown\x1b[0m \x07\n\
         2026-01-10T10:00:02Z \x1b[31mERROR\x1b[0m db \x1b[1mdown\x1b[0m \x07\n",
    );
    let out = all(dir.path(), &path, &[]);
    assert_eq!(
        lines(&out.stdout),
        [
            "2026-01-10T10:00:01Z ERROR db down \\x07",
            "2026-01-10T10:00:02Z ERROR db down \\x07"
        ]
    );
    let out = all(dir.path(), &path, &["--json"]);
    let records = json_lines(&out.stdout);
    assert_eq!(records[0]["lvl"], "error");
    // Read like the same file without colours: the level is a header
    // column, the message follows it.
    assert_eq!(records[0]["msg"], "db down \u{7}");
    let out = all(dir.path(), &path, &["--dedupe", "--template", "--json"]);
    let groups = json_lines(&out.stdout);
    assert_eq!(groups.len(), 1);
    assert!(
        !groups[0]["template"].as_str().unwrap().contains('\u{1b}'),
        "{}",
        groups[0]
    );
}

#[test]
fn w3c_directives_are_not_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "u_ex260110.log",
        "#Software: Microsoft Internet Information Services 10.0\n\
         #Version: 1.0\n\
         #Date: 2026-01-10 10:00:00\n\
         #Fields: date time s-ip cs-method cs-uri-stem s-port c-ip sc-status time-taken\n\
         2026-01-10 10:00:01 10.0.0.1 GET /index.html 443 203.0.113.9 200 15\n\
         2026-01-10 10:00:02 10.0.0.1 GET /api/orders 443 203.0.113.9 500 1204\n\
         #Software: Microsoft Internet Information Services 10.0\n\
         #Version: 1.0\n\
         2026-01-10 11:00:01 10.0.0.1 GET / 443 203.0.113.7 200 9\n",
    );
    let out = all(dir.path(), &path, &["--json"]);
    let starts: Vec<_> = json_lines(&out.stdout)
        .iter()
        .map(|r| r["line"].clone())
        .collect();
    assert_eq!(starts, [json!(5), json!(6), json!(9)]);
    let out = all(dir.path(), &path, &["--summary", "--json"]);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["records"], 3, "{summary}");
}

#[test]
fn lines_under_a_logfmt_record_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "worker.log",
        "time=\"2026-01-10T10:00:01Z\" level=error msg=\"job failed\" job=7\n\
         \tat worker.run(worker.go:12)\n\
         time=\"2026-01-10T10:00:02Z\" level=info msg=\"job done\" job=8\n",
    );
    let out = all(dir.path(), &path, &["--level", "error"]);
    assert_eq!(
        lines(&out.stdout),
        [
            "2026-01-10 10:00:01.000 ERROR job failed job=7",
            "\tat worker.run(worker.go:12)"
        ]
    );
    let out = all(dir.path(), &path, &["--level", "error", "--json"]);
    assert_eq!(
        json_lines(&out.stdout)[0]["msg"],
        "job failed\n\tat worker.run(worker.go:12)"
    );
}

/// `docker compose logs` output: a database that prints untimed lines
/// first, an API with its own timestamps, a trace and a JSON line.
const COMPOSE: &str = "\
\x1b[33mdb-1   |\x1b[0m The files belonging to this database system will be owned by user \"postgres\".\n\
\x1b[33mdb-1   |\x1b[0m fixing permissions on existing directory ... ok\n\
\x1b[36mapi-1  |\x1b[0m 2026-03-02T10:00:00.120Z INFO  listening on :8080\n\
\x1b[33mdb-1   |\x1b[0m selecting default max_connections ... 100\n\
\x1b[36mapi-1  |\x1b[0m 2026-03-02T10:00:02.500Z ERROR query failed for user marco\n\
\x1b[36mapi-1  |\x1b[0m Traceback (most recent call last):\n\
\x1b[36mapi-1  |\x1b[0m ValueError: relation \"users\" does not exist\n\
\x1b[36mapi-1  |\x1b[0m {\"level\":\"warn\",\"msg\":\"slow query\",\"ms\":812,\"ts\":\"2026-03-02T10:00:03Z\"}\n";

#[test]
fn compose_output_is_read_per_service() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "compose.log", COMPOSE);
    let records = json_lines(&all(dir.path(), &path, &["--json"]).stdout);
    let seen: Vec<(&str, &str, Option<i64>)> = records
        .iter()
        .map(|r| {
            (
                r["src"].as_str().unwrap(),
                r["lvl"].as_str().unwrap(),
                r["ts"].as_i64(),
            )
        })
        .collect();
    // The database's untimed lines stay one record each; the API's trace
    // joins its entry.
    assert_eq!(
        seen,
        [
            ("db-1", "info", None),
            ("db-1", "info", None),
            ("api-1", "info", Some(1_772_445_600_120)),
            ("db-1", "info", None),
            ("api-1", "error", Some(1_772_445_602_500)),
            ("api-1", "warn", Some(1_772_445_603_000)),
        ]
    );
    assert_eq!(records[2]["msg"], "listening on :8080");
    assert_eq!(
        records[4]["msg"],
        "query failed for user marco\nTraceback (most recent call last):\nValueError: relation \"users\" does not exist"
    );
    assert_eq!(records[5]["msg"], "slow query");
    assert_eq!(records[5]["fields"], json!({"ms": 812}));
    // Text keeps each line's service column; a structured line shows its
    // service like a record's source.
    let out = all(dir.path(), &path, &["--level", "warn+"]);
    assert_eq!(
        lines(&out.stdout),
        [
            "api-1  | 2026-03-02T10:00:02.500Z ERROR query failed for user marco",
            "api-1  | Traceback (most recent call last):",
            "api-1  | ValueError: relation \"users\" does not exist",
            "2026-03-02 10:00:03.000 WARN  [api-1] slow query ms=812",
        ]
    );
}

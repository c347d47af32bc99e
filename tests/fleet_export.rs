//! OTLP log export end to end: the real daemon, real children, and a real
//! OTLP/HTTP receiver in the test that decodes what arrives with the
//! OpenTelemetry protobuf (and JSON) types.

mod common;
mod fleet;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{TestHome, secs, wait_until};
use fleet::{Answer, Flat, Receiver, free_port, sample, scrape, string};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use serde_json::Value as Json;

fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    assert_eq!(rc, 0);
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn daemon_log(home: &TestHome) -> Vec<String> {
    home.records("../daemon.log")
        .iter()
        .filter_map(|r| r["msg"].as_str().map(str::to_string))
        .collect()
}

fn wait_daemon_log(home: &TestHome, what: &str) -> Vec<String> {
    home.wait_record("../daemon.log", secs(30), |r| {
        r["msg"].as_str().is_some_and(|m| m.contains(what))
    });
    daemon_log(home)
}

fn start(home: &TestHome, env: &[(&str, &str)], args: &[&str]) {
    let mut command = home.command();
    command.env_remove("OTEL_EXPORTER_OTLP_ENDPOINT");
    command.env_remove("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
    command.env_remove("OTEL_EXPORTER_OTLP_HEADERS");
    for (key, value) in env {
        command.env(key, value);
    }
    let run = common::run(command.args(args));
    assert!(run.code == 0, "velos {args:?} failed: {}", run.stderr);
}

fn bodies(records: &[Flat]) -> Vec<String> {
    records.iter().map(Flat::body).collect()
}

#[test]
fn every_field_of_an_exported_record() {
    let receiver = Receiver::start();
    let home = TestHome::new();
    home.write_config(&format!(
        "[export.otlp]\nendpoint = \"{}\"\nheaders = {{ Authorization = \"Bearer t0ken\" }}\n",
        receiver.endpoint()
    ));
    start(
        &home,
        &[("OTEL_EXPORTER_OTLP_HEADERS", "X-Scope-OrgID=fleet%201")],
        &[
            "start",
            "--name",
            "web",
            "--",
            "sh",
            "-c",
            "echo 'GET /users/42 took 23ms'; echo 'disk error on sda1' >&2; printf partial; sleep 1.5; echo ' rest'; exec sleep 60",
        ],
    );
    let records = receiver.wait(secs(30), |r| bodies(r).iter().any(|b| b == " rest"));
    assert_eq!(
        bodies(&records),
        [
            "GET /users/42 took 23ms",
            "disk error on sda1",
            "partial",
            " rest"
        ],
        "output records only, each once, in order (lifecycle records are not exported)"
    );

    let request = &receiver.requests()[0];
    assert_eq!(request.headers["content-type"], "application/x-protobuf");
    assert_eq!(request.headers["content-encoding"], "gzip");
    assert_eq!(request.headers["authorization"], "Bearer t0ken");
    assert_eq!(request.headers["x-scope-orgid"], "fleet 1");

    let process = home.process("web").expect("listed");
    let pid = process["pid"].as_i64().expect("running");
    let id = process["id"].as_i64().expect("id");
    let host = host_name();
    let written = home.records("web.log");
    let logs = home.ok(&["logs", "web", "--json", "--lines", "100"]);
    let analysed: Vec<Json> = logs
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    for record in &records {
        assert_eq!(
            record.resource_attr("service.name"),
            Value::StringValue("web".into())
        );
        assert_eq!(
            record.resource_attr("service.instance.id"),
            Value::StringValue(format!("{host}/{id}"))
        );
        assert_eq!(
            record.resource_attr("host.name"),
            Value::StringValue(host.clone())
        );
        assert_eq!(record.resource_attr("process.pid"), Value::IntValue(pid));
        assert_eq!(
            record.resource_attr("velos.process.id"),
            Value::IntValue(id)
        );

        let body = record.body();
        let daemon = written
            .iter()
            .find(|r| r["msg"] == body.as_str())
            .unwrap_or_else(|| panic!("{body:?} is in web.log"));
        let ts = daemon["ts"].as_u64().expect("ts");
        assert_eq!(record.record.time_unix_nano, ts * 1_000_000, "{body}");
        assert!(record.record.observed_time_unix_nano >= ts * 1_000_000);
        assert!(record.record.observed_time_unix_nano < (ts + 5_000) * 1_000_000);
        let (number, text) = match daemon["lvl"].as_str() {
            Some("info") => (9, "INFO"),
            Some("error") => (17, "ERROR"),
            other => panic!("unexpected level {other:?}"),
        };
        assert_eq!(record.record.severity_number, number, "{body}");
        assert_eq!(record.record.severity_text, text, "{body}");
        assert_eq!(
            record.attr("log.iostream"),
            Value::StringValue(daemon["src"].as_str().unwrap().into())
        );
        assert_eq!(
            record.attr("velos.continuation"),
            Value::BoolValue(daemon["cont"] == true),
            "{body}"
        );
        let shown = analysed
            .iter()
            .find(|r| r["msg"] == body.as_str())
            .unwrap_or_else(|| panic!("`velos logs web --json` shows {body:?}"));
        let pattern = record.attr("velos.pattern");
        let pattern = string(&pattern);
        assert_eq!(pattern.len(), 16);
        assert!(pattern.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(shown["pattern"], pattern, "{body}");
    }
    let by_body = |b: &str| records.iter().find(|r| r.body() == b).unwrap().clone();
    assert_eq!(
        by_body("disk error on sda1").attr("log.iostream"),
        Value::StringValue("stderr".into())
    );
    assert_eq!(
        by_body(" rest").attr("velos.continuation"),
        Value::BoolValue(true)
    );
    assert_eq!(
        by_body("partial").attr("velos.continuation"),
        Value::BoolValue(false)
    );
}

#[test]
fn outage_then_recovery_delivers_what_was_held_and_counts_what_was_dropped() {
    let port = free_port();
    let metrics_port = free_port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    let home = TestHome::new();
    home.write_config(&format!(
        "[metrics]\nlisten = \"{metrics}\"\n[export.otlp]\nendpoint = \"http://127.0.0.1:{port}\"\nqueue_size = \"64KiB\"\n"
    ));
    // The receiver is down: records are held.
    start(
        &home,
        &[],
        &[
            "start",
            "--name",
            "early",
            "--",
            "sh",
            "-c",
            "for i in $(seq 1 100); do echo \"early line $i\"; done; exec sleep 60",
        ],
    );
    let log = wait_daemon_log(&home, "cannot send logs to the OTLP receiver");
    let warning = log.iter().find(|l| l.contains("cannot send logs")).unwrap();
    assert!(warning.contains("connection refused"), "{warning}");
    assert!(
        warning.contains(&format!("127.0.0.1:{port}/v1/logs")),
        "{warning}"
    );
    // The daemon keeps answering meanwhile.
    assert_eq!(home.list().len(), 1);
    home.ok(&["info", "early"]);

    let receiver = Receiver::on_port(port);
    let records = receiver.wait(secs(40), |r| {
        bodies(r)
            .iter()
            .filter(|b| b.starts_with("early line"))
            .count()
            >= 100
    });
    let early: Vec<String> = bodies(&records);
    let expected: Vec<String> = (1..=100).map(|i| format!("early line {i}")).collect();
    assert_eq!(early, expected, "every held record arrives once, in order");
    wait_daemon_log(&home, "accepts logs again");

    // A second outage, longer than the queue: the oldest are dropped.
    receiver.stop();
    let total = 3000;
    start(
        &home,
        &[],
        &[
            "start",
            "--name",
            "burst",
            "--",
            "sh",
            "-c",
            &format!(
                "for i in $(seq 1 {total}); do echo \"burst line $i with some padding to make it longer than before, about one hundred bytes\"; done; exec sleep 60"
            ),
        ],
    );
    home.wait_record("burst.log", secs(30), |r| {
        r["msg"]
            .as_str()
            .is_some_and(|m| m.starts_with(&format!("burst line {total} ")))
    });
    let (_, text) = scrape(&metrics, None);
    let dropped = sample(
        &text,
        "velos_export_dropped_records_total",
        &[("reason", "queue_full")],
    )
    .expect("dropped metric") as usize;
    assert!(dropped > 0 && dropped < total, "dropped {dropped}");
    let queued = sample(&text, "velos_export_queue_records", &[]).expect("queue metric");
    assert!(queued > 0.0);
    let log = wait_daemon_log(&home, "export queue full");
    let reports: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("export queue full"))
        .collect();
    assert_eq!(
        reports.len(),
        1,
        "one report per minute at most: {reports:?}"
    );
    assert!(reports[0].contains("queue_size"), "{}", reports[0]);

    let receiver = Receiver::on_port(port);
    let records = receiver.wait(secs(60), |r| {
        bodies(r)
            .iter()
            .filter(|b| b.starts_with("burst line"))
            .count()
            + dropped
            >= total
    });
    let burst: Vec<usize> = bodies(&records)
        .iter()
        .filter_map(|b| {
            b.strip_prefix("burst line ")?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(burst.len() + dropped, total, "received + dropped = printed");
    let unique: BTreeSet<usize> = burst.iter().copied().collect();
    assert_eq!(unique.len(), burst.len(), "no record twice");
    assert!(unique.contains(&total), "the newest records are kept");
    let (_, text) = scrape(&metrics, None);
    assert_eq!(
        sample(&text, "velos_export_sent_records_total", &[]),
        Some((100 + burst.len()) as f64)
    );
}

#[test]
fn refused_batches_are_dropped_and_explained_once_and_busy_or_slow_receivers_get_retries() {
    let receiver = Receiver::start();
    receiver.set(Answer::Status(
        400,
        "bad data: attribute velos.pattern rejected".into(),
    ));
    let metrics = format!("127.0.0.1:{}", free_port());
    let home = TestHome::new();
    home.write_config(&format!(
        "[metrics]\nlisten = \"{metrics}\"\n[export.otlp]\nendpoint = \"{}\"\ntimeout = \"1s\"\n",
        receiver.endpoint()
    ));
    start(
        &home,
        &[],
        &[
            "start",
            "--name",
            "tick",
            "--",
            "sh",
            "-c",
            "i=0; while true; do i=$((i+1)); echo \"tick $i\"; sleep 0.2; done",
        ],
    );
    let count = |status: u16| {
        receiver
            .requests()
            .iter()
            .filter(|g| g.status == status)
            .count()
    };
    wait_until(secs(40), || count(400) >= 3);
    let log = daemon_log(&home);
    let refusals: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("refused a batch"))
        .collect();
    assert_eq!(refusals.len(), 1, "said once: {refusals:?}");
    assert!(
        refusals[0].contains("400: bad data: attribute velos.pattern rejected"),
        "{}",
        refusals[0]
    );

    // Busy, then slow (past the 1 s timeout), then fine: nothing more is lost.
    receiver.set(Answer::Status(503, "busy".into()));
    wait_until(secs(40), || count(503) >= 2);
    receiver.set(Answer::Slow(Duration::from_millis(1500)));
    let accepted_before = count(200);
    wait_until(secs(40), || count(200) > accepted_before);
    receiver.set(Answer::Accept);
    wait_daemon_log(&home, "accepts logs again");
    let refused: Vec<_> = receiver
        .requests()
        .into_iter()
        .filter(|g| g.status == 400)
        .collect();
    let refused_records = fleet::flatten(refused.iter());
    let last_refused = ticks(&refused_records).into_iter().max().unwrap();
    let records = receiver.wait(secs(30), |r| {
        ticks(r).iter().any(|&t| t > last_refused + 10)
    });
    // Everything after the refused batches arrived (at least once).
    let got: BTreeSet<u64> = ticks(&records).into_iter().collect();
    let newest = got.iter().copied().max().unwrap();
    assert_eq!(got.iter().copied().min(), Some(last_refused + 1));
    for tick in last_refused + 1..=newest {
        assert!(got.contains(&tick), "tick {tick} lost; got {got:?}");
    }
    let (_, text) = scrape(&metrics, None);
    assert_eq!(
        sample(
            &text,
            "velos_export_dropped_records_total",
            &[("reason", "rejected")]
        ),
        Some(refused_records.len() as f64)
    );
    assert!(sample(&text, "velos_export_retries_total", &[]).unwrap() >= 2.0);
    assert_eq!(home.list().len(), 1);
}

fn ticks(records: &[Flat]) -> Vec<u64> {
    bodies(records)
        .iter()
        .filter_map(|b| b.strip_prefix("tick ")?.parse().ok())
        .collect()
}

#[test]
fn json_protocol_and_the_standard_endpoint_variable() {
    let receiver = Receiver::start();
    let home = TestHome::new();
    home.write_config("[export.otlp]\nprotocol = \"http/json\"\ncompression = \"none\"\n");
    start(
        &home,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint())],
        &[
            "start",
            "--name",
            "api",
            "--",
            "sh",
            "-c",
            "echo 'user 7 logged in from 10.0.0.7'; exec sleep 60",
        ],
    );
    let records = receiver.wait(secs(30), |r| !r.is_empty());
    let request = &receiver.requests()[0];
    assert_eq!(request.headers["content-type"], "application/json");
    assert!(!request.headers.contains_key("content-encoding"));
    assert_eq!(records[0].body(), "user 7 logged in from 10.0.0.7");
    assert_eq!(
        records[0].resource_attr("service.name"),
        Value::StringValue("api".into())
    );
    let pattern = records[0].attr("velos.pattern");
    let id = velos::daemon::fleet::pattern_id(b"user 8 logged in from 192.168.1.1");
    assert_eq!(string(&pattern), format!("{id:016x}"));
}

#[test]
fn bad_settings_stop_the_daemon_from_starting_with_the_key_and_the_fix() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = taken.local_addr().unwrap();
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "[export.otlp]\nendpoint = \"localhost:4318\"\n".into(),
            vec![],
            vec!["[export.otlp] endpoint", "http://127.0.0.1:4318"],
        ),
        (
            "[export.otlp]\n".into(),
            vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")],
            vec!["OTEL_EXPORTER_OTLP_ENDPOINT", "http://"],
        ),
        (
            "[export.otlp]\nprotocol = \"grpc\"\n".into(),
            vec![],
            vec!["[export.otlp] protocol", "http/protobuf"],
        ),
        (
            "[metrics]\nlisten = \"0.0.0.0:9615\"\n".into(),
            vec![],
            vec!["[metrics] listen", "allow_remote = true"],
        ),
        (
            "[metrics]\nlisten = \"9615\"\n".into(),
            vec![],
            vec!["[metrics] listen", "127.0.0.1:9615"],
        ),
        (
            format!("[metrics]\nlisten = \"{taken}\"\n"),
            vec![],
            vec!["[metrics] listen", "in use", "choose another port"],
        ),
    ];
    for (config, env, needles) in cases {
        let home = TestHome::new();
        home.write_config(&config);
        let mut command = home.command();
        command.env_remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        for (key, value) in &env {
            command.env(key, value);
        }
        let run = common::run(command.args(["start", "--name", "x", "--", "sleep", "30"]));
        let stderr = run.stderr;
        assert!(run.code != 0, "{config}: started anyway");
        for needle in &needles {
            assert!(
                stderr.contains(needle),
                "{config}: {needle:?} not in {stderr}"
            );
        }
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        let log = daemon_log(&home);
        assert!(
            log.iter().any(|l| l.contains(needles[0])),
            "{config}: daemon.log says why: {log:?}"
        );
        // Fixed, the daemon starts.
        home.write_config("");
        home.ok(&["list"]);
    }
}

#[test]
fn a_hung_receiver_never_holds_up_a_process() {
    let receiver = Receiver::start();
    receiver.set(Answer::Slow(Duration::from_secs(8)));
    let metrics = format!("127.0.0.1:{}", free_port());
    let home = TestHome::new();
    home.write_config(&format!(
        "[metrics]\nlisten = \"{metrics}\"\n[export.otlp]\nendpoint = \"{}\"\ntimeout = \"60s\"\nqueue_size = \"64KiB\"\n",
        receiver.endpoint()
    ));
    start(
        &home,
        &[],
        &[
            "start",
            "--name",
            "chatty",
            "--no-autorestart",
            "--",
            "sh",
            "-c",
            "echo first; sleep 1.5; seq 1 20000",
        ],
    );
    // The first batch is stuck in the receiver while the rest is printed.
    home.wait_status("chatty", "stopped", secs(20));
    let written = home
        .records("chatty.log")
        .iter()
        .filter(|r| r["src"] == "stdout")
        .count();
    assert_eq!(written, 20_001, "every line captured");
    let (_, text) = scrape(&metrics, None);
    let dropped = sample(
        &text,
        "velos_export_dropped_records_total",
        &[("reason", "queue_full")],
    )
    .unwrap();
    assert!(
        dropped > 0.0,
        "the queue overflowed instead of holding up capture"
    );
    assert_eq!(home.list().len(), 1);
}

#[test]
fn a_partial_success_is_counted_and_explained_once() {
    let receiver = Receiver::start();
    receiver.set(Answer::Partial(1, "timestamp too old".into()));
    let metrics = format!("127.0.0.1:{}", free_port());
    let home = TestHome::new();
    home.write_config(&format!(
        "[metrics]\nlisten = \"{metrics}\"\n[export.otlp]\nendpoint = \"{}\"\n",
        receiver.endpoint()
    ));
    start(
        &home,
        &[],
        &[
            "start",
            "--name",
            "p",
            "--",
            "sh",
            "-c",
            "echo one; sleep 1.5; echo two; sleep 1.5; echo three; exec sleep 60",
        ],
    );
    receiver.wait(secs(30), |r| bodies(r).iter().any(|b| b == "three"));
    let requests = receiver.requests().len();
    assert!(requests >= 2, "{requests}");
    let log = daemon_log(&home);
    let lines: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("rejected 1 of a batch"))
        .collect();
    assert_eq!(lines.len(), 1, "{log:?}");
    assert!(lines[0].contains("timestamp too old"), "{}", lines[0]);
    // The counts follow the receiver's answers.
    wait_until(secs(40), || {
        let (_, text) = scrape(&metrics, None);
        let rejected = sample(
            &text,
            "velos_export_dropped_records_total",
            &[("reason", "rejected")],
        );
        let sent = sample(&text, "velos_export_sent_records_total", &[]);
        rejected == Some(requests as f64)
            && sent.zip(rejected).map(|(s, r)| s + r) == Some(receiver.records().len() as f64)
    });
}

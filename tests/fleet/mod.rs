//! Helpers of the fleet tests: a real OTLP/HTTP receiver (tiny_http on a
//! thread of the test, decoding with the OpenTelemetry protobuf types) and
//! a `/metrics` scraper.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;

/// How the receiver answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 200, and keep the request.
    Accept,
    /// This status with this body; the request is not kept.
    Status(u16, String),
    /// Wait this long, then accept (a slow receiver).
    Slow(Duration),
    /// 200 with an OTLP partial success: this many records rejected, why.
    Partial(i64, String),
}

/// One request the receiver took.
#[derive(Debug, Clone)]
pub struct Got {
    /// Request headers, names lower-cased.
    pub headers: HashMap<String, String>,
    /// The decoded request.
    pub request: ExportLogsServiceRequest,
    /// Whether it was accepted (200).
    pub accepted: bool,
    /// The status answered.
    pub status: u16,
}

/// A log record with its resource attributes.
#[derive(Debug, Clone)]
pub struct Flat {
    pub resource: Vec<KeyValue>,
    pub record: LogRecord,
}

impl Flat {
    pub fn body(&self) -> String {
        match self.record.body.as_ref().and_then(|b| b.value.as_ref()) {
            Some(Value::StringValue(s)) => s.clone(),
            other => panic!("body is not a string: {other:?}"),
        }
    }

    pub fn attr(&self, key: &str) -> Value {
        attr(&self.record.attributes, key)
    }

    pub fn resource_attr(&self, key: &str) -> Value {
        attr(&self.resource, key)
    }
}

pub fn attr(list: &[KeyValue], key: &str) -> Value {
    list.iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.clone())
        .unwrap_or_else(|| panic!("no attribute {key} in {list:?}"))
}

pub fn string(value: &Value) -> &str {
    match value {
        Value::StringValue(s) => s,
        other => panic!("not a string: {other:?}"),
    }
}

/// A real OTLP/HTTP logs receiver on 127.0.0.1.
pub struct Receiver {
    pub addr: SocketAddr,
    pub answer: Arc<Mutex<Answer>>,
    pub got: Arc<Mutex<Vec<Got>>>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

/// A port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

impl Receiver {
    pub fn start() -> Receiver {
        Receiver::on_port(0)
    }

    /// Listens on `port` (0: any), retrying for a while if it is still taken.
    pub fn on_port(port: u16) -> Receiver {
        let deadline = Instant::now() + Duration::from_secs(10);
        let server = loop {
            match tiny_http::Server::http(("127.0.0.1", port)) {
                Ok(server) => break server,
                Err(err) if Instant::now() < deadline => {
                    let _ = err;
                    thread::sleep(Duration::from_millis(50));
                }
                Err(err) => panic!("cannot listen on {port}: {err}"),
            }
        };
        let addr = server.server_addr().to_ip().expect("an IP address");
        let answer = Arc::new(Mutex::new(Answer::Accept));
        let got = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (answer, got, stop) = (answer.clone(), got.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let Ok(Some(request)) = server.recv_timeout(Duration::from_millis(50)) else {
                        continue;
                    };
                    handle(request, &answer, &got);
                }
            })
        };
        Receiver {
            addr,
            answer,
            got,
            stop,
            thread: Some(thread),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    pub fn requests(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// Every accepted record, in arrival order.
    pub fn records(&self) -> Vec<Flat> {
        flatten(self.requests().iter().filter(|g| g.accepted))
    }

    /// Waits until the accepted records satisfy `check`.
    pub fn wait(&self, timeout: Duration, check: impl Fn(&[Flat]) -> bool) -> Vec<Flat> {
        let deadline = Instant::now() + timeout;
        loop {
            let records = self.records();
            if check(&records) {
                return records;
            }
            assert!(
                Instant::now() < deadline,
                "timed out; the receiver has {} records: {:?}",
                records.len(),
                records.iter().map(Flat::body).collect::<Vec<_>>()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops listening (the port is refused from then on).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shutdown();
    }
}

pub fn flatten<'a>(requests: impl Iterator<Item = &'a Got>) -> Vec<Flat> {
    let mut out = Vec::new();
    for got in requests {
        for resource_logs in &got.request.resource_logs {
            let resource = resource_logs
                .resource
                .as_ref()
                .map(|r| r.attributes.clone())
                .unwrap_or_default();
            for scope in &resource_logs.scope_logs {
                for record in &scope.log_records {
                    out.push(Flat {
                        resource: resource.clone(),
                        record: record.clone(),
                    });
                }
            }
        }
    }
    out
}

fn handle(mut request: tiny_http::Request, answer: &Mutex<Answer>, got: &Mutex<Vec<Got>>) {
    let headers: HashMap<String, String> = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_string(),
            )
        })
        .collect();
    let mut body = Vec::new();
    request
        .as_reader()
        .read_to_end(&mut body)
        .expect("read body");
    if headers.get("content-encoding").map(String::as_str) == Some("gzip") {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(body.as_slice())
            .read_to_end(&mut plain)
            .expect("gzip body");
        body = plain;
    }
    let decoded = match headers.get("content-type").map(String::as_str) {
        Some("application/x-protobuf") => {
            ExportLogsServiceRequest::decode(body.as_slice()).expect("protobuf body")
        }
        Some("application/json") => serde_json::from_slice(&body).expect("OTLP JSON body"),
        other => panic!("unexpected content type {other:?}"),
    };
    let answer = answer.lock().unwrap().clone();
    let (status, text, accepted) = match answer {
        Answer::Accept => (200, Vec::new(), true),
        Answer::Status(status, text) => (status, text.into_bytes(), false),
        Answer::Slow(wait) => {
            thread::sleep(wait);
            (200, Vec::new(), true)
        }
        Answer::Partial(rejected, why) => {
            let response = ExportLogsServiceResponse {
                partial_success: Some(ExportLogsPartialSuccess {
                    rejected_log_records: rejected,
                    error_message: why,
                }),
            };
            (200, response.encode_to_vec(), true)
        }
    };
    got.lock().unwrap().push(Got {
        headers,
        request: decoded,
        accepted,
        status,
    });
    let _ = request.respond(tiny_http::Response::from_data(text).with_status_code(status));
}

/// `GET http://addr/metrics` with an optional Accept header: (content type, body).
pub fn scrape(addr: &str, accept: Option<&str>) -> (String, String) {
    let mut request = ureq::get(format!("http://{addr}/metrics"));
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    let mut response = request.call().expect("scrape /metrics");
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = response.body_mut().read_to_string().expect("metrics text");
    (kind, body)
}

/// The value of the sample `name{labels}` in a Prometheus text exposition
/// (labels as written, in order), parsed with prometheus-parse.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("valid exposition");
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("unexpected value {other:?}"),
        })
}

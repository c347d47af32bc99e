//! `GET /metrics`: the daemon's and its processes' figures in the Prometheus
//! text format, or OpenMetrics when the scraper asks for it, written with
//! `prometheus-client` and served by `tiny_http` on a thread of its own.
//!
//! The figures are read when scraped ([`Snapshot`]), so serving them costs
//! nothing between scrapes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread;

use prometheus_client::encoding::{EncodeLabelSet, prometheus_text, text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::ipc::Status;
use crate::level::Level;

/// Content type of the OpenMetrics text format.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every status a process can have, as the `status` label says it.
pub const STATUSES: [Status; 6] = [
    Status::Starting,
    Status::Online,
    Status::Stopping,
    Status::Stopped,
    Status::Errored,
    Status::WaitingRestart,
];

/// One process at scrape time.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessSample {
    /// Its name.
    pub name: String,
    /// Its id.
    pub id: u32,
    /// Its status.
    pub status: Status,
    /// Last CPU sample (percent of one core), while running.
    pub cpu: Option<f32>,
    /// Last resident memory sample (bytes), while running.
    pub memory: Option<u64>,
    /// Seconds since the current run started, while running.
    pub uptime_seconds: Option<f64>,
    /// Restarts so far.
    pub restarts: u32,
    /// Captured records by level ([`Level::ALL`] order).
    pub records: [u64; 5],
}

/// The export's figures at scrape time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportSample {
    /// Records waiting in the queue.
    pub queue_records: u64,
    /// Bytes counted for them.
    pub queue_bytes: u64,
    /// The queue's capacity in bytes.
    pub queue_capacity: u64,
    /// Records accepted by the receiver.
    pub sent: u64,
    /// Records dropped because the queue was full.
    pub dropped_queue_full: u64,
    /// Records in batches the receiver refused.
    pub rejected: u64,
    /// Failed requests that were retried.
    pub retries: u64,
}

/// Everything one scrape shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The process table.
    pub processes: Vec<ProcessSample>,
    /// Bytes of captured messages since the daemon started.
    pub captured_bytes: u64,
    /// The daemon's resident memory, bytes.
    pub daemon_memory: Option<u64>,
    /// The export (zeros when it is off).
    pub export: ExportSample,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProcessLabels {
    name: String,
    id: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    name: String,
    id: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LevelLabels {
    name: String,
    id: String,
    level: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

type GaugeF = Gauge<f64, std::sync::atomic::AtomicU64>;

fn gauge(value: u64) -> Gauge {
    let gauge = Gauge::default();
    gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
    gauge
}

fn counter(value: u64) -> Counter {
    let counter = Counter::default();
    counter.inc_by(value);
    counter
}

/// The registry of one scrape.
fn registry(snapshot: &Snapshot) -> Registry {
    let mut registry = Registry::default();
    registry.register(
        "velos_processes",
        "Processes in the daemon's table",
        gauge(snapshot.processes.len() as u64),
    );
    let status = Family::<StatusLabels, Gauge>::default();
    let cpu = Family::<ProcessLabels, GaugeF>::default();
    let memory = Family::<ProcessLabels, Gauge>::default();
    let uptime = Family::<ProcessLabels, GaugeF>::default();
    let restarts = Family::<ProcessLabels, Counter>::default();
    let records = Family::<LevelLabels, Counter>::default();
    for p in &snapshot.processes {
        let labels = ProcessLabels {
            name: p.name.clone(),
            id: p.id.to_string(),
        };
        for s in STATUSES {
            let on = i64::from(s == p.status);
            status
                .get_or_create(&StatusLabels {
                    name: p.name.clone(),
                    id: labels.id.clone(),
                    status: s.as_str().to_string(),
                })
                .set(on);
        }
        if let Some(value) = p.cpu {
            cpu.get_or_create(&labels).set(f64::from(value));
        }
        if let Some(value) = p.memory {
            memory
                .get_or_create(&labels)
                .set(i64::try_from(value).unwrap_or(i64::MAX));
        }
        if let Some(value) = p.uptime_seconds {
            uptime.get_or_create(&labels).set(value);
        }
        restarts
            .get_or_create(&labels)
            .inc_by(u64::from(p.restarts));
        for (level, count) in Level::ALL.iter().zip(p.records) {
            records
                .get_or_create(&LevelLabels {
                    name: p.name.clone(),
                    id: labels.id.clone(),
                    level: level.as_str().to_string(),
                })
                .inc_by(count);
        }
    }
    registry.register(
        "velos_process_status",
        "1 for the process's current status, 0 for the others",
        status,
    );
    registry.register(
        "velos_process_cpu_percent",
        "CPU use of a running process, percent of one core",
        cpu,
    );
    registry.register_with_unit(
        "velos_process_resident_memory",
        "Resident memory of a running process",
        Unit::Bytes,
        memory,
    );
    registry.register_with_unit(
        "velos_process_uptime",
        "Time since the current run of a running process started",
        Unit::Seconds,
        uptime,
    );
    registry.register(
        "velos_process_restarts",
        "Restarts of a process, automatic and requested",
        restarts,
    );
    registry.register(
        "velos_captured_records",
        "Output lines captured from a process, by level",
        records,
    );
    registry.register_with_unit(
        "velos_captured",
        "Bytes of output captured from every process since the daemon started",
        Unit::Bytes,
        counter(snapshot.captured_bytes),
    );
    if let Some(bytes) = snapshot.daemon_memory {
        registry.register_with_unit(
            "velos_daemon_resident_memory",
            "Resident memory of the daemon",
            Unit::Bytes,
            gauge(bytes),
        );
    }
    let export = snapshot.export;
    registry.register(
        "velos_export_queue_records",
        "Records waiting to be exported over OTLP",
        gauge(export.queue_records),
    );
    registry.register_with_unit(
        "velos_export_queue",
        "Bytes held by records waiting to be exported",
        Unit::Bytes,
        gauge(export.queue_bytes),
    );
    registry.register_with_unit(
        "velos_export_queue_capacity",
        "Capacity of the export queue ([export.otlp] queue_size)",
        Unit::Bytes,
        gauge(export.queue_capacity),
    );
    registry.register(
        "velos_export_sent_records",
        "Records the OTLP receiver accepted",
        counter(export.sent),
    );
    let dropped = Family::<ReasonLabels, Counter>::default();
    for (reason, count) in [
        ("queue_full", export.dropped_queue_full),
        ("rejected", export.rejected),
    ] {
        dropped
            .get_or_create(&ReasonLabels {
                reason: reason.to_string(),
            })
            .inc_by(count);
    }
    registry.register(
        "velos_export_dropped_records",
        "Records not exported: queue_full (oldest dropped while the receiver was away), rejected (refused by the receiver)",
        dropped,
    );
    registry.register(
        "velos_export_retries",
        "Export requests that failed and were retried",
        counter(export.retries),
    );
    registry
}

/// The exposition of `snapshot`: OpenMetrics or the Prometheus text format.
pub fn render(snapshot: &Snapshot, openmetrics: bool) -> String {
    let registry = registry(snapshot);
    let mut out = String::with_capacity(4096 + snapshot.processes.len() * 2048);
    // Writing to a String cannot fail.
    if openmetrics {
        let _ = text::encode(&mut out, &registry);
    } else {
        let _ = prometheus_text::encode(&mut out, &registry);
    }
    out
}

/// Whether an `Accept` header asks for OpenMetrics.
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("application/openmetrics-text"))
}

/// Why the metrics cannot be served.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ListenError(pub String);

/// Binds the metrics address.
pub fn bind(listen: SocketAddr) -> Result<tiny_http::Server, ListenError> {
    tiny_http::Server::http(listen).map_err(|err| {
        let in_use = err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::AddrInUse);
        ListenError(if in_use {
            format!(
                "cannot serve metrics on {listen} ([metrics] listen): the address is in use; \
                 choose another port in [metrics] listen, or stop the program using it"
            )
        } else {
            format!(
                "cannot serve metrics on {listen} ([metrics] listen): {err}; choose another address in [metrics] listen"
            )
        })
    })
}

/// Serves `/metrics` from `server` on a thread of its own; `snapshot` is
/// called for each scrape.
pub fn serve(
    server: tiny_http::Server,
    snapshot: Arc<dyn Fn() -> Snapshot + Send + Sync>,
) -> std::io::Result<()> {
    thread::Builder::new()
        .name("metrics-http".into())
        .stack_size(256 * 1024)
        .spawn(move || {
            for request in server.incoming_requests() {
                respond(request, &*snapshot);
            }
        })
        .map(|_| ())
}

fn respond(request: tiny_http::Request, snapshot: &(dyn Fn() -> Snapshot + Send + Sync)) {
    use tiny_http::{Header, Method, Response};
    let path = request.url().split('?').next().unwrap_or("");
    let method = request.method().clone();
    let typed = |response: Response<std::io::Cursor<Vec<u8>>>, kind: &str| match Header::from_bytes(
        &b"Content-Type"[..],
        kind.as_bytes(),
    ) {
        Ok(header) => response.with_header(header),
        Err(()) => response,
    };
    let plain = "text/plain; charset=utf-8";
    let response = match (&method, path) {
        (Method::Get | Method::Head, "/metrics") => {
            let accept = request
                .headers()
                .iter()
                .find(|h| h.field.equiv("Accept"))
                .map(|h| h.value.as_str().to_string());
            let openmetrics = wants_openmetrics(accept.as_deref());
            let body = render(&snapshot(), openmetrics);
            let kind = if openmetrics {
                OPENMETRICS_CONTENT_TYPE
            } else {
                prometheus_text::CONTENT_TYPE
            };
            typed(Response::from_string(body), kind)
        }
        (Method::Get | Method::Head, "/") => typed(
            Response::from_string("velos daemon: metrics at /metrics\n"),
            plain,
        ),
        (Method::Get | Method::Head, _) => typed(
            Response::from_string("not found: try /metrics\n").with_status_code(404),
            plain,
        ),
        _ => typed(
            Response::from_string("only GET /metrics is served\n").with_status_code(405),
            plain,
        ),
    };
    let _ = request.respond(response);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        Snapshot {
            processes: vec![ProcessSample {
                name: "web".into(),
                id: 0,
                status: Status::Online,
                cpu: Some(12.5),
                memory: Some(4096),
                uptime_seconds: Some(3.5),
                restarts: 2,
                records: [0, 7, 1, 3, 0],
            }],
            captured_bytes: 1234,
            daemon_memory: Some(7 << 20),
            export: ExportSample {
                dropped_queue_full: 5,
                ..ExportSample::default()
            },
        }
    }

    #[test]
    fn text_format_names_and_labels() {
        let text = render(&snapshot(), false);
        for line in [
            "velos_processes 1",
            "velos_process_status{name=\"web\",id=\"0\",status=\"online\"} 1",
            "velos_process_status{name=\"web\",id=\"0\",status=\"errored\"} 0",
            "velos_process_cpu_percent{name=\"web\",id=\"0\"} 12.5",
            "velos_process_resident_memory_bytes{name=\"web\",id=\"0\"} 4096",
            "velos_process_restarts_total{name=\"web\",id=\"0\"} 2",
            "velos_captured_records_total{name=\"web\",id=\"0\",level=\"error\"} 3",
            "velos_captured_bytes_total 1234",
            "velos_export_dropped_records_total{reason=\"queue_full\"} 5",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert!(!text.contains("# EOF"));
        assert!(render(&snapshot(), true).ends_with("# EOF\n"));
    }

    #[test]
    fn accept_header() {
        assert!(wants_openmetrics(Some(
            "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4"
        )));
        assert!(!wants_openmetrics(Some("text/plain")));
        assert!(!wants_openmetrics(None));
    }
}

//! Beyond one host: the daemon's bridge to the engines a team already runs.
//!
//! - [`prometheus`] serves `GET /metrics` (`[metrics]` in `config.toml`).
//! - [`export`] sends captured records as OpenTelemetry logs over OTLP/HTTP
//!   (`[export.otlp]`), through the bounded [`queue`], encoded by [`otlp`].
//! - [`pattern`] gives each record its stable pattern id.
//! - [`config`] reads and checks both sections.
//!
//! [`Fleet`] ties them together: the supervisor hands every capture thread a
//! [`Tap`], which counts the records it writes and queues them for export
//! without ever waiting. Both parts are off unless configured; with neither,
//! the daemon has no `Fleet` at all.

pub mod config;
pub mod export;
pub mod otlp;
pub mod pattern;
pub mod prometheus;
pub mod queue;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use config::{FleetConfig, OtelEnv};
pub use pattern::pattern_id;

use super::events::DaemonLog;
use super::logfile::{Record, Src};
use crate::ipc::ProcessInfo;
use export::Exporter;
use prometheus::{ExportSample, ProcessSample, Snapshot};
use queue::{Block, Origin};

/// Why the daemon cannot start its fleet parts; the message names the key
/// and the fix.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// `[metrics]` or `[export.otlp]` (or the `OTEL_*` variables) are wrong.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The metrics address cannot be listened on.
    #[error(transparent)]
    Listen(#[from] prometheus::ListenError),
    /// A thread could not be started.
    #[error("cannot start the {what} thread: {source}")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Counts of one process (by velos id), kept across its restarts.
#[derive(Debug, Default)]
struct ProcessCounts {
    levels: [AtomicU64; 5],
}

/// The daemon's metrics and export.
pub struct Fleet {
    host: String,
    exporter: Option<Exporter>,
    metrics: Mutex<Option<tiny_http::Server>>,
    counts: Mutex<BTreeMap<u32, Arc<ProcessCounts>>>,
    captured_bytes: AtomicU64,
    log: Arc<DaemonLog>,
}

impl Fleet {
    /// Binds the metrics address and starts the export thread, as
    /// configured; `None` when both are off.
    pub fn start(
        config: FleetConfig,
        log: Arc<DaemonLog>,
    ) -> Result<Option<Arc<Fleet>>, FleetError> {
        if !config.is_on() {
            return Ok(None);
        }
        let metrics = match &config.metrics {
            Some(metrics) => Some(prometheus::bind(metrics.listen)?),
            None => None,
        };
        let host = host_name();
        let exporter = match config.otlp {
            Some(otlp) => {
                let url = otlp.url.clone();
                let exporter =
                    Exporter::start(otlp, host.clone(), log.clone()).map_err(|source| {
                        FleetError::Thread {
                            what: "export",
                            source,
                        }
                    })?;
                log.info(&format!("exporting captured records over OTLP to {url}"));
                Some(exporter)
            }
            None => None,
        };
        if let Some(metrics) = &config.metrics {
            log.info(&format!(
                "serving metrics on http://{}/metrics",
                metrics.listen
            ));
        }
        Ok(Some(Arc::new(Fleet {
            host,
            exporter,
            metrics: Mutex::new(metrics),
            counts: Mutex::new(BTreeMap::new()),
            captured_bytes: AtomicU64::new(0),
            log,
        })))
    }

    /// Starts answering scrapes; `processes` lists the process table.
    pub fn serve_metrics(
        self: &Arc<Self>,
        processes: impl Fn() -> Vec<ProcessInfo> + Send + Sync + 'static,
    ) -> Result<(), FleetError> {
        let server = match self.metrics.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        let Some(server) = server else {
            return Ok(());
        };
        let fleet = self.clone();
        prometheus::serve(server, Arc::new(move || fleet.snapshot(processes()))).map_err(|source| {
            FleetError::Thread {
                what: "metrics",
                source,
            }
        })
    }

    /// The figures of one scrape.
    pub fn snapshot(&self, processes: Vec<ProcessInfo>) -> Snapshot {
        let counts = match self.counts.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let processes = processes
            .into_iter()
            .map(|p| {
                let records = counts
                    .get(&p.id)
                    .map(|c| std::array::from_fn(|i| c.levels[i].load(Ordering::Relaxed)))
                    .unwrap_or_default();
                ProcessSample {
                    status: p.status,
                    cpu: p.cpu,
                    memory: p.memory,
                    uptime_seconds: p.uptime_ms.map(|ms| ms as f64 / 1000.0),
                    restarts: p.restarts,
                    records,
                    id: p.id,
                    name: p.name,
                }
            })
            .collect();
        drop(counts);
        let export = self
            .exporter
            .as_ref()
            .map(|e| {
                let queue = e.queue();
                let stats = e.stats();
                ExportSample {
                    queue_records: queue.len() as u64,
                    queue_bytes: queue.bytes() as u64,
                    queue_capacity: queue.capacity() as u64,
                    sent: stats.sent.load(Ordering::Relaxed),
                    dropped_queue_full: queue.dropped(),
                    rejected: stats.rejected.load(Ordering::Relaxed),
                    retries: stats.retries.load(Ordering::Relaxed),
                }
            })
            .unwrap_or_default();
        Snapshot {
            processes,
            captured_bytes: self.captured_bytes.load(Ordering::Relaxed),
            daemon_memory: own_resident_memory(),
            export,
        }
    }

    /// The tap for one run of process `id` (pid `pid`).
    pub fn tap(self: &Arc<Self>, id: u32, name: &str, pid: u32) -> Tap {
        let counts = {
            let mut all = match self.counts.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            all.entry(id).or_default().clone()
        };
        Tap {
            fleet: self.clone(),
            counts,
            origin: Arc::new(Origin {
                name: name.to_string(),
                id,
                pid,
            }),
        }
    }

    /// Sends what the export queue holds, for at most `grace`.
    pub fn shutdown(&self, grace: Duration) {
        if let Some(exporter) = &self.exporter {
            exporter.shutdown(grace);
        }
    }

    /// The host name resources carry.
    pub fn host(&self) -> &str {
        &self.host
    }
}

/// What a capture thread calls with the records it writes.
pub struct Tap {
    fleet: Arc<Fleet>,
    counts: Arc<ProcessCounts>,
    origin: Arc<Origin>,
}

impl Tap {
    /// Counts output records and queues them for export; never waits for
    /// the receiver.
    pub fn records(&self, records: &[Record<'_>]) {
        if records.is_empty() {
            return;
        }
        let mut bytes = 0u64;
        for record in records {
            self.counts.levels[record.lvl as usize].fetch_add(1, Ordering::Relaxed);
            bytes += record.msg.len() as u64;
        }
        self.fleet
            .captured_bytes
            .fetch_add(bytes, Ordering::Relaxed);
        let Some(exporter) = &self.fleet.exporter else {
            return;
        };
        let exported = records
            .iter()
            .filter(|r| matches!(r.src, Src::Stdout | Src::Stderr));
        let mut block = Block::new(self.origin.clone(), now_ns(), records.len(), bytes as usize);
        for r in exported {
            block.push(r.msg, r.ts, r.lvl, r.src, r.cont);
        }
        if let Some(report) = exporter.queue().push(block) {
            self.fleet.log.warn(&report);
        }
    }

    /// Counts bytes captured as printed (`--raw` processes, whose output is
    /// not split into records and so not exported).
    pub fn raw_bytes(&self, bytes: usize) {
        self.fleet
            .captured_bytes
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// This machine's name (`host.name`).
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".to_string();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The daemon's resident memory, from `/proc/self/statm`.
fn own_resident_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

//! The export thread: takes batches from the [`Queue`], encodes them as OTLP
//! ([`super::otlp`]), gzips them and posts them with a small blocking HTTP
//! client, one request at a time.
//!
//! - Connection errors, time-outs, 408, 429 and 5xx answers keep the batch
//!   and retry it after a delay that doubles from [`RETRY_START`] to
//!   [`RETRY_MAX`] (or what `Retry-After` asks, up to a minute); meanwhile
//!   the queue holds what the processes print. The start and the end of an
//!   outage are each one line in the daemon's log.
//! - Any other answer outside 2xx (400: bad data) drops that batch: the
//!   first time for each status, a line in the daemon's log says why; the
//!   records are counted as rejected.
//! - A 2xx answer carrying an OTLP partial success counts the records it
//!   names as rejected; its message is logged the first time.
//!
//! The thread runs at a lower CPU priority than capture (nice 10).

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use flate2::{Compress, Compression, FlushCompress, Status};

use super::config::OtlpConfig;
use super::otlp;
use super::queue::{Entry, Queue};
use crate::daemon::events::DaemonLog;

/// Most records in one request.
pub const MAX_BATCH: usize = 512;
/// Longest a record waits for its batch to fill.
pub const LINGER: Duration = Duration::from_secs(1);
/// First retry delay.
pub const RETRY_START: Duration = Duration::from_millis(500);
/// Longest retry delay.
pub const RETRY_MAX: Duration = Duration::from_secs(30);

/// Counts kept by the export thread.
#[derive(Debug, Default)]
pub struct ExportStats {
    /// Records the receiver accepted.
    pub sent: AtomicU64,
    /// Records in batches the receiver refused (400 and other 4xx).
    pub rejected: AtomicU64,
    /// Requests that failed and were retried.
    pub retries: AtomicU64,
}

/// The running exporter.
pub struct Exporter {
    queue: Arc<Queue>,
    stats: Arc<ExportStats>,
    done: Mutex<mpsc::Receiver<()>>,
}

impl Exporter {
    /// Starts the export thread.
    pub fn start(config: OtlpConfig, host: String, log: Arc<DaemonLog>) -> io::Result<Exporter> {
        let queue = Arc::new(Queue::new(config.queue_size as usize));
        let stats = Arc::new(ExportStats::default());
        let (done_tx, done) = mpsc::channel();
        let sender = Sender {
            agent: agent(&config),
            config,
            host,
            log,
            queue: queue.clone(),
            stats: stats.clone(),
            outage: None,
            rejected_statuses: Vec::new(),
            partial_reported: false,
            encoded: Vec::new(),
            gzip: Gzip::new(),
        };
        thread::Builder::new()
            .name("otlp-export".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                lower_priority();
                sender.run();
                drop(done_tx);
            })?;
        Ok(Exporter {
            queue,
            stats,
            done: Mutex::new(done),
        })
    }

    /// The queue capture threads push to.
    pub fn queue(&self) -> &Arc<Queue> {
        &self.queue
    }

    /// The export counts.
    pub fn stats(&self) -> &ExportStats {
        &self.stats
    }

    /// Sends what is queued, giving up after `grace`.
    pub fn shutdown(&self, grace: Duration) {
        self.queue.close();
        if let Ok(done) = self.done.lock() {
            let _ = done.recv_timeout(grace);
        }
    }
}

/// Under CPU pressure capture goes first: the export thread runs at nice 10
/// (Linux gives each thread its own nice value).
fn lower_priority() {
    // SAFETY: plain syscalls on the calling thread's own id.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
    }
}

fn agent(config: &OtlpConfig) -> ureq::Agent {
    // One request at a time to one receiver: one pooled connection with
    // small buffers (the defaults are 128 KiB each way).
    ureq::Agent::config_builder()
        .timeout_global(Some(config.timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .input_buffer_size(8 * 1024)
        .output_buffer_size(16 * 1024)
        .max_idle_connections(1)
        .max_idle_connections_per_host(1)
        .user_agent(format!("velos/{}", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

enum Outcome {
    Sent,
    /// Accepted, but the receiver says it rejected some records.
    Partial {
        rejected: u64,
        why: String,
    },
    Retry {
        why: String,
        after: Option<Duration>,
    },
    Rejected {
        status: u16,
        why: String,
    },
}

struct Sender {
    agent: ureq::Agent,
    config: OtlpConfig,
    host: String,
    log: Arc<DaemonLog>,
    queue: Arc<Queue>,
    stats: Arc<ExportStats>,
    /// When the current outage began.
    outage: Option<Instant>,
    rejected_statuses: Vec<u16>,
    partial_reported: bool,
    /// The encoded request, reused from batch to batch.
    encoded: Vec<u8>,
    gzip: Gzip,
}

impl Sender {
    fn run(mut self) {
        loop {
            let batch = self.queue.take(MAX_BATCH, LINGER);
            if batch.is_empty() {
                return;
            }
            self.deliver(&batch);
        }
    }

    /// Sends one batch until it is accepted or refused (or the daemon is
    /// stopping and one attempt failed).
    fn deliver(&mut self, batch: &[Entry]) {
        let request = otlp::request(batch, &self.host);
        let mut encoded = std::mem::take(&mut self.encoded);
        let content_type = otlp::encode_into(&request, self.config.protocol, &mut encoded);
        drop(request);
        let gzipped = self.config.gzip && self.gzip.compress(&encoded).is_ok();
        let mut gzip = std::mem::replace(&mut self.gzip, Gzip::empty());
        let body: &[u8] = if gzipped { &gzip.out } else { &encoded };
        self.deliver_body(batch.len(), body, gzipped, content_type);
        gzip.shrink();
        self.gzip = gzip;
        encoded.clear();
        if encoded.capacity() > KEEP_BUFFER {
            encoded = Vec::new();
        }
        self.encoded = encoded;
    }

    fn deliver_body(&mut self, records: usize, body: &[u8], gzipped: bool, content_type: &str) {
        let mut delay = RETRY_START;
        loop {
            match self.post(body, gzipped, content_type) {
                Outcome::Sent => {
                    self.stats.sent.fetch_add(records as u64, Ordering::Relaxed);
                    if let Some(since) = self.outage.take() {
                        self.log.info(&format!(
                            "the OTLP receiver at {} accepts logs again after {}; sending the records held meanwhile",
                            self.config.url,
                            crate::text::duration(since.elapsed())
                        ));
                    }
                    return;
                }
                Outcome::Partial { rejected, why } => {
                    let rejected = rejected.min(records as u64);
                    self.stats
                        .sent
                        .fetch_add(records as u64 - rejected, Ordering::Relaxed);
                    self.stats.rejected.fetch_add(rejected, Ordering::Relaxed);
                    self.outage = None;
                    if !self.partial_reported {
                        self.partial_reported = true;
                        self.log.warn(&format!(
                            "the OTLP receiver at {} rejected {rejected} of a batch of {records} records{}; \
                             later partial rejections are only counted in velos_export_dropped_records_total",
                            self.config.url,
                            if why.is_empty() { String::new() } else { format!(": {why}") }
                        ));
                    }
                    return;
                }
                Outcome::Rejected { status, why } => {
                    self.stats
                        .rejected
                        .fetch_add(records as u64, Ordering::Relaxed);
                    self.outage = None;
                    if !self.rejected_statuses.contains(&status) {
                        self.rejected_statuses.push(status);
                        self.log.error(&format!(
                            "the OTLP receiver at {} refused a batch of {} records with {status}{}; dropped it \
                             (later refusals with {status} are only counted in velos_export_dropped_records_total)",
                            self.config.url,
                            records,
                            if why.is_empty() { String::new() } else { format!(": {why}") }
                        ));
                    }
                    return;
                }
                Outcome::Retry { why, after } => {
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    if self.outage.is_none() {
                        self.outage = Some(Instant::now());
                        self.log.warn(&format!(
                            "cannot send logs to the OTLP receiver at {}: {why}; holding up to {} KiB of records and retrying",
                            self.config.url,
                            self.queue.capacity() >> 10
                        ));
                    }
                    if self.queue.is_closed() {
                        return;
                    }
                    let wait = after.unwrap_or(delay);
                    sleep_unless_closed(&self.queue, wait);
                    delay = (delay * 2).min(RETRY_MAX);
                }
            }
        }
    }

    fn post(&self, body: &[u8], gzipped: bool, content_type: &str) -> Outcome {
        let mut request = self
            .agent
            .post(&self.config.url)
            .header("Content-Type", content_type);
        if gzipped {
            request = request.header("Content-Encoding", "gzip");
        }
        for (key, value) in &self.config.headers {
            request = request.header(key.as_str(), value.as_str());
        }
        let mut response = match request.send(body) {
            Ok(response) => response,
            Err(err) => {
                return Outcome::Retry {
                    why: describe(&err),
                    after: None,
                };
            }
        };
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            let answer = response
                .body_mut()
                .with_config()
                .limit(64 * 1024)
                .read_to_vec()
                .unwrap_or_default();
            return match otlp::partial_success(&answer, self.config.protocol) {
                Some((rejected, why)) => Outcome::Partial {
                    rejected,
                    why: excerpt(why.as_bytes()),
                },
                None => Outcome::Sent,
            };
        }
        if status == 408 || status == 429 || status >= 500 {
            let after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| Duration::from_secs(s.min(60)));
            return Outcome::Retry {
                why: format!("it answered {status}"),
                after,
            };
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_vec()
            .unwrap_or_default();
        Outcome::Rejected {
            status,
            why: excerpt(&text),
        }
    }
}

/// Sleeps `wait`, waking early when the queue is closed.
fn sleep_unless_closed(queue: &Queue, wait: Duration) {
    let until = Instant::now() + wait;
    while !queue.is_closed() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        thread::sleep(left.min(Duration::from_millis(100)));
    }
}

fn describe(err: &ureq::Error) -> String {
    match err {
        ureq::Error::Io(io) if io.kind() == io::ErrorKind::ConnectionRefused => {
            "connection refused".to_string()
        }
        ureq::Error::Timeout(_) => "no answer in time".to_string(),
        other => other.to_string(),
    }
}

/// The readable part of an error body (the receiver's explanation), short.
fn excerpt(body: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(body)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .filter(|&c| c != '\u{fffd}')
        .collect();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// Buffers above this size are given back after a batch.
const KEEP_BUFFER: usize = 512 * 1024;

/// A gzip compressor kept from batch to batch, so its tables are allocated
/// once.
struct Gzip {
    compress: Option<Compress>,
    out: Vec<u8>,
}

impl Gzip {
    fn new() -> Gzip {
        Gzip {
            // A 4 KiB window: log lines repeat within a batch at short range.
            compress: Some(Compress::new_gzip(Compression::fast(), 12)),
            out: Vec::new(),
        }
    }

    fn empty() -> Gzip {
        Gzip {
            compress: None,
            out: Vec::new(),
        }
    }

    /// Compresses `input` into `self.out`.
    fn compress(&mut self, input: &[u8]) -> io::Result<()> {
        let Some(compress) = &mut self.compress else {
            return Err(io::Error::other("no compressor"));
        };
        compress.reset();
        self.out.clear();
        self.out.reserve(input.len() / 4 + 64);
        loop {
            let consumed = compress.total_in() as usize;
            if self.out.len() == self.out.capacity() {
                self.out.reserve(self.out.capacity().max(1024));
            }
            let status = compress
                .compress_vec(&input[consumed..], &mut self.out, FlushCompress::Finish)
                .map_err(io::Error::other)?;
            if status == Status::StreamEnd {
                return Ok(());
            }
        }
    }

    fn shrink(&mut self) {
        self.out.clear();
        if self.out.capacity() > KEEP_BUFFER {
            self.out = Vec::new();
        }
    }
}

#[cfg(test)]
fn gzip(body: &[u8]) -> io::Result<Vec<u8>> {
    let mut gzip = Gzip::new();
    gzip.compress(body)?;
    Ok(gzip.out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(body: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(body).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn gzip_round_trip_and_excerpt() {
        let body = b"hello hello hello hello".repeat(10);
        assert_eq!(gunzip(&gzip(&body).unwrap()).unwrap(), body);
        assert_eq!(excerpt(b"\x0a\x05bad \x00 data\n"), "bad data");
        assert!(excerpt(&b"x".repeat(500)).ends_with('…'));
    }
}

//! The export queue: captured records waiting to be sent, bounded in bytes.
//!
//! Capture threads [`push`](Queue::push) and never wait: when the queue is
//! full the oldest records are dropped and counted, so a slow or absent
//! receiver never slows a child. The export thread [`take`](Queue::take)s
//! batches: as soon as [`MAX_BATCH`](super::export::MAX_BATCH) records wait,
//! or when the first waiting record has waited the linger time.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::daemon::logfile::Src;
use crate::level::Level;

/// The process a record came from, as the export's resource describes it.
#[derive(Debug, PartialEq, Eq)]
pub struct Origin {
    /// The process's velos name.
    pub name: String,
    /// Its velos id.
    pub id: u32,
    /// The pid of the run that printed the record.
    pub pid: u32,
}

/// One captured record, owned.
#[derive(Debug)]
pub struct Entry {
    /// Where it came from.
    pub origin: Arc<Origin>,
    /// Unix milliseconds when the daemon read the line (the record's `ts`).
    pub ts_ms: u64,
    /// Unix nanoseconds when the record was queued for export.
    pub observed_ns: u64,
    /// Level.
    pub level: Level,
    /// `stdout` or `stderr`.
    pub src: Src,
    /// Continues the previous record of the same stream.
    pub cont: bool,
    /// The message bytes, as printed.
    pub body: Box<[u8]>,
}

/// Bytes an entry is counted for: its place in the queue and its message
/// as the allocator holds it (rounded up to 16 bytes, plus a header).
pub fn entry_size(body_len: usize) -> usize {
    std::mem::size_of::<Entry>() + body_len.div_ceil(16) * 16 + 16
}

/// How often at most a full queue is reported in the daemon's log.
pub const DROP_REPORT_EVERY: Duration = Duration::from_secs(60);

struct State {
    entries: VecDeque<Entry>,
    bytes: usize,
    closed: bool,
    unreported: u64,
    last_report: Option<Instant>,
}

/// The bounded queue.
pub struct Queue {
    state: Mutex<State>,
    ready: Condvar,
    capacity: usize,
    dropped: AtomicU64,
}

impl Queue {
    /// A queue holding at most `capacity` bytes of entries.
    pub fn new(capacity: usize) -> Queue {
        Queue {
            state: Mutex::new(State {
                entries: VecDeque::new(),
                bytes: 0,
                closed: false,
                unreported: 0,
                last_report: None,
            }),
            ready: Condvar::new(),
            capacity,
            dropped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Appends entries, dropping the oldest ones if they do not fit. Returns
    /// a line for the daemon's log when records were dropped and none was
    /// written in the last [`DROP_REPORT_EVERY`].
    pub fn push(&self, entries: impl IntoIterator<Item = Entry>) -> Option<String> {
        let mut state = self.lock();
        let mut dropped = 0u64;
        for entry in entries {
            state.bytes += entry_size(entry.body.len());
            state.entries.push_back(entry);
            while state.bytes > self.capacity {
                let Some(old) = state.entries.pop_front() else {
                    break;
                };
                state.bytes -= entry_size(old.body.len());
                dropped += 1;
            }
        }
        if !state.entries.is_empty() {
            self.ready.notify_one();
        }
        if dropped == 0 {
            return None;
        }
        self.dropped.fetch_add(dropped, Ordering::Relaxed);
        state.unreported += dropped;
        let now = Instant::now();
        if state
            .last_report
            .is_some_and(|at| now.duration_since(at) < DROP_REPORT_EVERY)
        {
            return None;
        }
        state.last_report = Some(now);
        let since = std::mem::take(&mut state.unreported);
        Some(format!(
            "OTLP export queue full ({} KiB): dropped the {since} oldest records not yet sent \
             ({} in all); the receiver is away or slower than the processes print \
             (raise [export.otlp] queue_size to hold more)",
            self.capacity >> 10,
            self.dropped()
        ))
    }

    /// Waits for records and takes up to `max` of them: at once when `max`
    /// are waiting, otherwise once the first has waited `linger`. Returns an
    /// empty batch only when the queue is closed and empty.
    pub fn take(&self, max: usize, linger: Duration) -> Vec<Entry> {
        let mut state = self.lock();
        while state.entries.is_empty() && !state.closed {
            state = match self.ready.wait(state) {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
        }
        let deadline = Instant::now() + linger;
        while state.entries.len() < max && !state.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = match self.ready.wait_timeout(state, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        let n = state.entries.len().min(max);
        let batch: Vec<Entry> = state.entries.drain(..n).collect();
        state.bytes -= batch
            .iter()
            .map(|e| entry_size(e.body.len()))
            .sum::<usize>();
        if state.entries.is_empty() && state.entries.capacity() > 4096 {
            state.entries.shrink_to(1024);
        }
        batch
    }

    /// Wakes the taker; what is queued is still handed out, then empty
    /// batches.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Records waiting.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes counted for the waiting records.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// The capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Records dropped because the queue was full, since the daemon started.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(origin: &Arc<Origin>, n: usize) -> Entry {
        Entry {
            origin: origin.clone(),
            ts_ms: n as u64,
            observed_ns: 0,
            level: Level::Info,
            src: Src::Stdout,
            cont: false,
            body: format!("line {n:04}").into_bytes().into_boxed_slice(),
        }
    }

    #[test]
    fn full_queue_drops_the_oldest_and_reports_once() {
        let origin = Arc::new(Origin {
            name: "a".into(),
            id: 0,
            pid: 1,
        });
        let queue = Queue::new(entry_size(9) * 3);
        assert!(queue.push((0..3).map(|n| entry(&origin, n))).is_none());
        let report = queue.push((3..5).map(|n| entry(&origin, n))).unwrap();
        assert!(report.contains("dropped the 2 oldest"), "{report}");
        // Within the minute: counted, not reported.
        assert!(queue.push([entry(&origin, 5)]).is_none());
        assert_eq!(queue.dropped(), 3);
        let batch = queue.take(10, Duration::ZERO);
        let times: Vec<u64> = batch.iter().map(|e| e.ts_ms).collect();
        assert_eq!(times, [3, 4, 5]);
        assert_eq!(queue.bytes(), 0);
    }

    #[test]
    fn take_returns_full_batches_at_once_and_partial_ones_after_linger() {
        let origin = Arc::new(Origin {
            name: "a".into(),
            id: 0,
            pid: 1,
        });
        let queue = Arc::new(Queue::new(1 << 20));
        queue.push((0..5).map(|n| entry(&origin, n)));
        let started = Instant::now();
        assert_eq!(queue.take(3, Duration::from_secs(30)).len(), 3);
        assert!(started.elapsed() < Duration::from_secs(5));
        let started = Instant::now();
        assert_eq!(queue.take(3, Duration::from_millis(100)).len(), 2);
        assert!(started.elapsed() >= Duration::from_millis(100));
        let closer = queue.clone();
        let thread = std::thread::spawn(move || closer.take(3, Duration::from_secs(30)));
        std::thread::sleep(Duration::from_millis(50));
        queue.close();
        assert!(thread.join().unwrap().is_empty());
    }
}

//! The export queue: captured records waiting to be sent, bounded in bytes.
//!
//! Capture threads [`push`](Queue::push) [`Block`]s and never wait: when the queue is
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

/// One captured record, owned: what the export thread encodes.
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

/// What is kept of one record in a [`Block`].
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    /// Unix milliseconds when the daemon read the line.
    pub ts_ms: u64,
    /// End of its message in the block's text.
    pub end: u32,
    /// Level.
    pub level: Level,
    /// `stdout` or `stderr`.
    pub src: Src,
    /// Continues the previous record of the same stream.
    pub cont: bool,
}

/// The records of one write of a capture thread, in two allocations: their
/// messages one after another, and their [`Meta`]s. Capture threads queue
/// blocks, so queuing costs them no allocation per record.
#[derive(Debug)]
pub struct Block {
    origin: Arc<Origin>,
    observed_ns: u64,
    text: Vec<u8>,
    metas: Vec<Meta>,
    /// Records before this one were taken or dropped.
    first: usize,
}

impl Block {
    /// An empty block of records from `origin`, queued at `observed_ns`.
    pub fn new(origin: Arc<Origin>, observed_ns: u64, records: usize, bytes: usize) -> Block {
        Block {
            origin,
            observed_ns,
            text: Vec::with_capacity(bytes),
            metas: Vec::with_capacity(records),
            first: 0,
        }
    }

    /// Appends a record.
    pub fn push(&mut self, msg: &[u8], ts_ms: u64, level: Level, src: Src, cont: bool) {
        self.text.extend_from_slice(msg);
        self.metas.push(Meta {
            ts_ms,
            end: self.text.len() as u32,
            level,
            src,
            cont,
        });
    }

    /// Records left in the block.
    pub fn len(&self) -> usize {
        self.metas.len() - self.first
    }

    /// Whether no record is left.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn start(&self, i: usize) -> usize {
        if i == 0 {
            0
        } else {
            self.metas[i - 1].end as usize
        }
    }

    /// Bytes counted for record `i`.
    fn record_size(&self, i: usize) -> usize {
        self.metas[i].end as usize - self.start(i) + std::mem::size_of::<Meta>()
    }

    /// Bytes counted for the records left, and the block itself.
    fn size(&self) -> usize {
        let text = self.text.len() - self.start(self.first);
        text + self.len() * std::mem::size_of::<Meta>() + BLOCK_OVERHEAD
    }

    /// Takes the first record left.
    fn take_one(&mut self) -> Entry {
        let i = self.first;
        self.first += 1;
        let meta = self.metas[i];
        Entry {
            origin: self.origin.clone(),
            ts_ms: meta.ts_ms,
            observed_ns: self.observed_ns,
            level: meta.level,
            src: meta.src,
            cont: meta.cont,
            body: self.text[self.start(i)..meta.end as usize].into(),
        }
    }
}

/// Bytes counted for a block beside its records (its bookkeeping and the
/// allocator's).
const BLOCK_OVERHEAD: usize = std::mem::size_of::<Block>() + 64;

/// How often at most a full queue is reported in the daemon's log.
pub const DROP_REPORT_EVERY: Duration = Duration::from_secs(60);

struct State {
    blocks: VecDeque<Block>,
    records: usize,
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
    /// A queue holding at most `capacity` bytes of records.
    pub fn new(capacity: usize) -> Queue {
        Queue {
            state: Mutex::new(State {
                blocks: VecDeque::new(),
                records: 0,
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

    /// Appends a block, dropping the oldest records if it does not fit.
    /// Returns a line for the daemon's log when records were dropped and
    /// none was written in the last [`DROP_REPORT_EVERY`].
    pub fn push(&self, block: Block) -> Option<String> {
        if block.is_empty() {
            return None;
        }
        let mut state = self.lock();
        state.bytes += block.size();
        state.records += block.len();
        state.blocks.push_back(block);
        let mut dropped = 0u64;
        while state.bytes > self.capacity {
            let Some(front) = state.blocks.front_mut() else {
                break;
            };
            let size = front.record_size(front.first);
            front.first += 1;
            let emptied = front.is_empty();
            state.bytes -= size;
            state.records -= 1;
            dropped += 1;
            if emptied {
                state.blocks.pop_front();
                state.bytes -= BLOCK_OVERHEAD;
            }
        }
        self.ready.notify_one();
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
        while state.records == 0 && !state.closed {
            state = match self.ready.wait(state) {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
        }
        let deadline = Instant::now() + linger;
        while state.records < max && !state.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = match self.ready.wait_timeout(state, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        let mut batch = Vec::with_capacity(state.records.min(max));
        while batch.len() < max {
            let Some(front) = state.blocks.front_mut() else {
                break;
            };
            let size = front.record_size(front.first);
            batch.push(front.take_one());
            let emptied = front.is_empty();
            state.bytes -= size;
            state.records -= 1;
            if emptied {
                state.blocks.pop_front();
                state.bytes -= BLOCK_OVERHEAD;
            }
        }
        if state.blocks.is_empty() && state.blocks.capacity() > 1024 {
            state.blocks.shrink_to(64);
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
        self.lock().records
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

    fn block(origin: &Arc<Origin>, range: std::ops::Range<u64>) -> Block {
        let mut block = Block::new(origin.clone(), 0, 0, 0);
        for n in range {
            let body = format!("line {n:04}");
            block.push(body.as_bytes(), n, Level::Info, Src::Stdout, false);
        }
        block
    }

    fn origin() -> Arc<Origin> {
        Arc::new(Origin {
            name: "a".into(),
            id: 0,
            pid: 1,
        })
    }

    #[test]
    fn full_queue_drops_the_oldest_and_reports_once() {
        let origin = origin();
        let one = 9 + std::mem::size_of::<Meta>();
        let queue = Queue::new(BLOCK_OVERHEAD * 2 + one * 3);
        assert!(queue.push(block(&origin, 0..3)).is_none());
        let report = queue.push(block(&origin, 3..5)).unwrap();
        assert!(report.contains("dropped the 2 oldest"), "{report}");
        // Within the minute: counted, not reported.
        assert!(queue.push(block(&origin, 5..6)).is_none());
        // The first block, emptied, no longer counts: room for one more.
        assert_eq!(queue.dropped(), 3);
        assert_eq!(queue.len(), 3);
        let batch = queue.take(10, Duration::ZERO);
        let times: Vec<u64> = batch.iter().map(|e| e.ts_ms).collect();
        assert_eq!(times, [3, 4, 5]);
        assert_eq!(&*batch[1].body, b"line 0004");
        assert_eq!(queue.bytes(), 0);
        assert!(queue.is_empty());
    }

    #[test]
    fn take_returns_full_batches_at_once_and_partial_ones_after_linger() {
        let origin = origin();
        let queue = Arc::new(Queue::new(1 << 20));
        queue.push(block(&origin, 0..5));
        let started = Instant::now();
        let first = queue.take(3, Duration::from_secs(30));
        assert_eq!(first.iter().map(|e| e.ts_ms).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(started.elapsed() < Duration::from_secs(5));
        let started = Instant::now();
        let rest = queue.take(3, Duration::from_millis(100));
        assert_eq!(rest.iter().map(|e| e.ts_ms).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(&*rest[1].body, b"line 0004");
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert_eq!(queue.bytes(), 0);
        let closer = queue.clone();
        let thread = std::thread::spawn(move || closer.take(3, Duration::from_secs(30)));
        std::thread::sleep(Duration::from_millis(50));
        queue.close();
        assert!(thread.join().unwrap().is_empty());
    }
}

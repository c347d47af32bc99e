//! Merging several inputs by time: the files given to `velos logs a.log
//! b.log`, stdin next to a file, or a managed process's structured log and
//! raw stdout/stderr files.
//!
//! Each *lane* is one input: a sequence of parts read one after the other
//! (a process's rotated files, oldest first). A part is a mapped file or a
//! stream (stdin, a pipe, a decoded compressed file) read in blocks with
//! bounded memory. Each lane is read record by record; the next record
//! taken is the earliest among the lanes' next records. A record without a
//! time of its own takes the time of the record before it in its lane, so
//! it keeps its place after that record; ties go to the lane listed first.
//! The merge is stable and deterministic: it does not depend on how the
//! bytes arrive.
//!
//! A lane whose stream fails (a damaged compressed file) ends there; the
//! other lanes go on, and the first such error is returned at the end.

use std::io::Read;
use std::path::PathBuf;

use super::sink::{RecordSink, TailBuffer};
use super::{EngineError, Run, Scanner, Visit, Visitor};
use crate::frame::{Layout, SNIFF_BYTES};
use crate::source::{Body, OpenFile, Part, SourceError};
use crate::timestamp::{TimeContext, Zone};

/// One opened, mapped file with what is needed to read it.
pub struct Opened {
    /// Its bytes.
    pub file: OpenFile,
    /// Its time context.
    pub ctx: TimeContext,
    /// Its layout.
    pub layout: Layout,
    /// Its name, for display.
    pub name: String,
}

/// One part of a lane: a file already opened, or an input opened when the
/// lane reaches it.
pub enum LanePart {
    /// A mapped file opened by the caller.
    Opened(Opened),
    /// An input to open when reached.
    Input(Part),
}

impl LanePart {
    /// The same part to read again, when it can be opened again.
    pub(super) fn reopen(&self) -> Option<LanePart> {
        match self {
            LanePart::Input(part) => Some(LanePart::Input(part.clone())),
            LanePart::Opened(_) => None,
        }
    }
}

/// What is known of a part before it is opened: its name and time context
/// (the scanners borrow them for the whole merge).
struct Meta {
    name: String,
    ctx: TimeContext,
}

/// The bytes of the part a lane is reading.
enum Bytes {
    Mapped(OpenFile),
    Stream {
        reader: Box<dyn Read + Send>,
        buf: Vec<u8>,
        eof: bool,
    },
}

impl Bytes {
    fn data(&self) -> &[u8] {
        match self {
            Bytes::Mapped(f) => f.data.bytes(),
            Bytes::Stream { buf, .. } => buf,
        }
    }
}

/// A lane's reading position.
struct Lane<'m> {
    parts: std::vec::IntoIter<LanePart>,
    /// Index of the current part.
    index: usize,
    current: Option<(Bytes, Scanner<'m>)>,
    pos: usize,
    /// Line number at `pos`.
    line: u64,
    /// Time of the last record taken (own or inherited).
    last_ts: i64,
    /// Time of the last record taken that had its own.
    last_own: Option<i64>,
    /// The next record: (start, end, time, its own time), once read.
    peeked: Option<(usize, usize, i64, Option<i64>)>,
    done: bool,
}

/// Calls `each(scanner, data, start, end, line, seq)` for every record of
/// the lanes in merged time order, until it returns `false`. `seq` counts
/// records in merged order from `order_base` (use it as the record's
/// position, see [`InOrder`]); `line` is the record's first line number in
/// its part.
pub(crate) fn for_each(
    run: &Run<'_>,
    lanes: Vec<Vec<LanePart>>,
    zone: &Zone,
    order_base: u64,
    mut each: impl FnMut(&Scanner<'_>, &[u8], usize, usize, u64, u64) -> Result<bool, EngineError>,
) -> Result<(), EngineError> {
    let metas: Vec<Vec<Meta>> = lanes
        .iter()
        .map(|parts| parts.iter().map(|p| meta_of(p, zone)).collect())
        .collect();
    let mut states: Vec<Lane<'_>> = lanes
        .into_iter()
        .map(|parts| Lane {
            parts: parts.into_iter(),
            index: 0,
            current: None,
            pos: 0,
            line: 1,
            last_ts: i64::MIN,
            last_own: None,
            peeked: None,
            done: false,
        })
        .collect();
    let mut failure: Option<EngineError> = None;
    let mut seq = order_base;
    loop {
        let mut best: Option<(i64, usize)> = None;
        for (i, lane) in states.iter_mut().enumerate() {
            if lane.peeked.is_none() && !lane.done {
                match peek(run, lane, &metas[i]) {
                    Ok(()) => {}
                    Err(e) => {
                        lane.done = true;
                        lane.peeked = None;
                        if let EngineError::NoTimestamps(_) = e {
                            return Err(e);
                        }
                        failure.get_or_insert(e);
                    }
                }
            }
            if let Some((_, _, ts, _)) = lane.peeked
                && best.is_none_or(|(b, _)| ts < b)
            {
                best = Some((ts, i));
            }
        }
        let Some((ts, i)) = best else { break };
        let lane = &mut states[i];
        let Some((start, end, _, own)) = lane.peeked.take() else {
            break;
        };
        let Some((bytes, scanner)) = lane.current.as_mut() else {
            break;
        };
        scanner.time_floor = lane.last_own;
        let data = bytes.data();
        let go_on = each(scanner, data, start, end, lane.line, seq)?;
        seq += 1;
        lane.line += bytecount::count(&data[start..end], b'\n') as u64;
        lane.last_own = own.or(lane.last_own);
        lane.pos = end;
        lane.last_ts = ts;
        if !go_on {
            return Ok(());
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn meta_of(part: &LanePart, zone: &Zone) -> Meta {
    match part {
        LanePart::Opened(o) => Meta {
            name: o.name.clone(),
            ctx: o.ctx.clone(),
        },
        LanePart::Input(p) => Meta {
            name: p.name(),
            ctx: TimeContext::new(
                zone.clone(),
                p.modified_ms().unwrap_or_else(crate::timestamp::now_ms),
            ),
        },
    }
}

/// Reads the lane's next record into `peeked`, moving to its next part
/// when the current one is used up; sets `done` at the end of the lane.
fn peek<'m>(run: &Run<'m>, lane: &mut Lane<'m>, metas: &'m [Meta]) -> Result<(), EngineError> {
    loop {
        if lane.current.is_none() {
            let Some(part) = lane.parts.next() else {
                lane.done = true;
                return Ok(());
            };
            let meta = &metas[lane.index];
            lane.index += 1;
            lane.pos = 0;
            lane.line = 1;
            let (bytes, layout) = open_part(part, meta)?;
            if run.query.has_time() && !layout.timed && !bytes.data().is_empty() {
                return Err(EngineError::NoTimestamps(meta.name.clone()));
            }
            let scanner = Scanner::for_run(run, layout, &meta.ctx, &meta.name, 0);
            lane.current = Some((bytes, scanner));
        }
        let Some((bytes, scanner)) = lane.current.as_mut() else {
            continue;
        };
        let layout = &scanner.layout;
        match bytes {
            Bytes::Mapped(file) => {
                let data = file.data.bytes();
                if lane.pos < data.len() {
                    let end = layout.record_end(data, lane.pos, data.len());
                    let own = layout.read(data, lane.pos, end, scanner.ctx).ts;
                    lane.peeked = Some((lane.pos, end, own.unwrap_or(lane.last_ts), own));
                    return Ok(());
                }
            }
            Bytes::Stream { reader, buf, eof } => {
                let mut error = None;
                loop {
                    let available = buf.len() - lane.pos;
                    if available > 0 {
                        let end = layout.record_end(buf, lane.pos, buf.len());
                        let whole = end < buf.len() || *eof;
                        if whole || available >= run.settings.max_record.max(1) {
                            let end = if whole {
                                end
                            } else {
                                lane.pos + run.settings.max_record.max(1)
                            };
                            let own = layout.read(buf, lane.pos, end, scanner.ctx).ts;
                            lane.peeked = Some((lane.pos, end, own.unwrap_or(lane.last_ts), own));
                            return Ok(());
                        }
                    }
                    if *eof {
                        break;
                    }
                    // Drop what was taken, then read more.
                    if lane.pos > 0 {
                        buf.drain(..lane.pos);
                        lane.pos = 0;
                    }
                    let want = run.settings.stream_block.max(1);
                    if let Err(e) = fill(reader, buf, want, eof) {
                        *eof = true;
                        error = Some(EngineError::Source(SourceError::Io {
                            path: PathBuf::from(scanner.file),
                            cause: e,
                        }));
                    }
                }
                if let Some(e) = error {
                    lane.current = None;
                    return Err(e);
                }
            }
        }
        lane.current = None;
    }
}

/// Opens a part and learns its layout (a stream's from its first bytes).
fn open_part(part: LanePart, meta: &Meta) -> Result<(Bytes, Layout), EngineError> {
    match part {
        LanePart::Opened(o) => Ok((Bytes::Mapped(o.file), o.layout)),
        LanePart::Input(p) => {
            let source = p.open()?;
            match source.body {
                Body::Mapped(file) => {
                    let layout = Layout::sniff(file.data.bytes(), &meta.ctx);
                    Ok((Bytes::Mapped(file), layout))
                }
                Body::Stream(mut reader) => {
                    let mut buf = Vec::new();
                    let mut eof = false;
                    let mut error = None;
                    while buf.len() < SNIFF_BYTES && !eof {
                        if let Err(e) = fill(&mut reader, &mut buf, SNIFF_BYTES, &mut eof) {
                            error = Some(e);
                            eof = true;
                        }
                    }
                    let layout = Layout::sniff(&buf, &meta.ctx);
                    let failed = error.is_some();
                    let reader: Box<dyn Read + Send> = match error {
                        // Hand the error out after the bytes before it.
                        Some(e) => Box::new(Failing(Some(e))),
                        None => reader,
                    };
                    let eof = eof && !failed;
                    Ok((Bytes::Stream { reader, buf, eof }, layout))
                }
            }
        }
    }
}

/// A reader that fails once with a stored error, then ends.
struct Failing(Option<std::io::Error>);

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// Appends up to `want` bytes read from `reader` to `buf` (one read call
/// or more); sets `eof` at the end of the stream.
fn fill(
    reader: &mut (dyn Read + Send),
    buf: &mut Vec<u8>,
    want: usize,
    eof: &mut bool,
) -> std::io::Result<()> {
    let old = buf.len();
    buf.resize(old + want, 0);
    loop {
        match reader.read(&mut buf[old..]) {
            Ok(0) => {
                buf.truncate(old);
                *eof = true;
                return Ok(());
            }
            Ok(n) => {
                buf.truncate(old + n);
                return Ok(());
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(old);
                return Err(e);
            }
        }
    }
}

/// A visitor that gives each record a position of its own choosing (the
/// record's place in the merged order) instead of its byte offset.
pub struct InOrder<'v, V> {
    /// The position given to the next record.
    pub order: u64,
    /// The visitor records go to.
    pub inner: &'v mut V,
}

impl<V: Visitor> Visitor for InOrder<'_, V> {
    fn needs_level(&self) -> bool {
        self.inner.needs_level()
    }
    fn needs_time(&self) -> bool {
        self.inner.needs_time()
    }
    fn needs_template(&self) -> bool {
        self.inner.needs_template()
    }
    fn kept(&mut self, visit: &Visit<'_, '_>) {
        self.inner.kept(&Visit {
            order: self.order,
            ..*visit
        });
    }
}

/// Merges lanes through the query, handing kept records to `sink`, or
/// to `tail` when only the last N are wanted.
pub(crate) fn run<S: RecordSink>(
    run: &Run<'_>,
    lanes: Vec<Vec<LanePart>>,
    zone: &Zone,
    sink: &mut S,
    tail: &mut Option<TailBuffer<S::Batch>>,
) -> Result<(), EngineError> {
    let mut out = sink.batch();
    let lines = sink.needs_line_numbers();
    for_each(run, lanes, zone, 0, |scanner, data, start, end, line, _| {
        if scanner.visit(data, start, end, lines.then_some(line), false, &mut out) {
            match tail.as_mut() {
                Some(t) => t.push(std::mem::replace(&mut out, sink.batch())),
                None => sink.take(&mut out)?,
            }
        }
        Ok(!sink.closed())
    })
}

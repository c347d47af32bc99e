//! Merging a managed process's log streams by time: its structured log and
//! its raw stdout/stderr files, each a sequence of rotated files, oldest
//! first. Each stream is read record by record; the next record taken is
//! the earliest among the streams' next records (records without a time of
//! their own take the time of the record before them; ties go to the
//! stream listed first), so the merge is stable and deterministic.

use std::io::Write;
use std::path::PathBuf;

use super::{ChunkOut, EngineError, Run, Scanner, Sink, TailBuffer};
use crate::frame::Layout;
use crate::source::OpenFile;
use crate::timestamp::{TimeContext, Zone};

/// One opened file of a stream.
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

/// Where a stream is: which file, which byte, the last time seen.
struct Cursor {
    stream: usize,
    file: usize,
    pos: usize,
    last_ts: i64,
}

/// Opens the files of `streams` (each oldest first).
pub fn open(streams: &[Vec<PathBuf>], zone: &Zone) -> Result<Vec<Vec<Opened>>, EngineError> {
    let mut opened = Vec::new();
    for paths in streams {
        let mut files = Vec::new();
        for path in paths {
            let (file, ctx) = super::open_with_context(path, zone)?;
            let layout = Layout::sniff(file.data.bytes(), &ctx);
            files.push(Opened {
                file,
                ctx,
                layout,
                name: path.display().to_string(),
            });
        }
        opened.push(files);
    }
    Ok(opened)
}

/// Calls `each(scanner, data, start, end)` for every record of `streams`
/// in merged time order, until it returns `false`. `order_base` is added
/// to the scanners' positions: stream `s`, file `f` of it and byte offset
/// `o` give `order_base + (s << 44) + (f << 32) + o`.
pub fn for_each_record(
    run: &Run<'_>,
    streams: &[Vec<PathBuf>],
    zone: &Zone,
    order_base: u64,
    each: impl FnMut(&Scanner<'_>, &[u8], usize, usize) -> Result<bool, EngineError>,
) -> Result<(), EngineError> {
    let opened = open(streams, zone)?;
    for_each_opened(run, &opened, order_base, each)
}

/// [`for_each_record`] over files already opened.
pub fn for_each_opened(
    run: &Run<'_>,
    opened: &[Vec<Opened>],
    order_base: u64,
    mut each: impl FnMut(&Scanner<'_>, &[u8], usize, usize) -> Result<bool, EngineError>,
) -> Result<(), EngineError> {
    let scanners: Vec<Vec<Scanner<'_>>> = opened
        .iter()
        .enumerate()
        .map(|(s, files)| {
            files
                .iter()
                .enumerate()
                .map(|(f, o)| {
                    let mut scanner = Scanner::for_run(run, o.layout.clone(), &o.ctx, &o.name);
                    scanner.order_base = order_base + ((s as u64) << 44) + ((f as u64) << 32);
                    scanner
                })
                .collect()
        })
        .collect();
    let mut cursors: Vec<Cursor> = (0..opened.len())
        .map(|stream| Cursor {
            stream,
            file: 0,
            pos: 0,
            last_ts: i64::MIN,
        })
        .collect();
    loop {
        // Peek each stream's next record time.
        let mut best: Option<(i64, usize, usize)> = None;
        for (i, cursor) in cursors.iter_mut().enumerate() {
            let files = &opened[cursor.stream];
            while cursor.file < files.len()
                && cursor.pos >= files[cursor.file].file.data.bytes().len()
            {
                cursor.file += 1;
                cursor.pos = 0;
            }
            let Some(o) = files.get(cursor.file) else {
                continue;
            };
            let data = o.file.data.bytes();
            let end = o.layout.record_end(data, cursor.pos, data.len());
            let ts = o
                .layout
                .read(data, cursor.pos, end, &o.ctx)
                .ts
                .unwrap_or(cursor.last_ts);
            if best.is_none_or(|(b, _, _)| ts < b) {
                best = Some((ts, i, end));
            }
        }
        let Some((ts, i, end)) = best else { break };
        let cursor = &mut cursors[i];
        let o = &opened[cursor.stream][cursor.file];
        let scanner = &scanners[cursor.stream][cursor.file];
        let go_on = each(scanner, o.file.data.bytes(), cursor.pos, end)?;
        cursor.pos = end;
        cursor.last_ts = ts;
        if !go_on {
            break;
        }
    }
    Ok(())
}

/// Merges opened streams through the query, writing kept records to
/// `sink`, or into `tail` when only the last N are wanted.
pub fn run_opened<W: Write>(
    run: &Run<'_>,
    opened: &[Vec<Opened>],
    sink: &mut Sink<W>,
    tail: &mut Option<TailBuffer>,
) -> Result<(), EngineError> {
    let mut out = ChunkOut::default();
    for_each_opened(run, opened, 0, |scanner, data, start, end| {
        out.buf.clear();
        out.ends.clear();
        if scanner.emit(data, start, end, None, false, &mut out) {
            match tail.as_mut() {
                Some(t) => t.push(out.buf.clone()),
                None => sink.write(&out.buf)?,
            }
        }
        Ok(!sink.closed())
    })
}

/// Opens and merges `streams` (see [`run_opened`]).
pub fn run<W: Write>(
    run: &Run<'_>,
    streams: &[Vec<PathBuf>],
    zone: &Zone,
    sink: &mut Sink<W>,
    tail: &mut Option<TailBuffer>,
) -> Result<(), EngineError> {
    run_opened(run, &open(streams, zone)?, sink, tail)
}

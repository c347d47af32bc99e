//! Merging a managed process's log streams by time: its structured log and
//! its raw stdout/stderr files, each a sequence of rotated files, oldest
//! first. Each stream is read record by record; the next record written is
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

/// Merges `streams` by time through the query, writing kept records to
/// `sink`, or into `tail` when only the last N are wanted.
pub fn run<W: Write>(
    run: &Run<'_>,
    streams: &[Vec<PathBuf>],
    zone: &Zone,
    sink: &mut Sink<W>,
    tail: &mut Option<TailBuffer>,
) -> Result<(), EngineError> {
    let mut opened: Vec<Vec<Opened>> = Vec::new();
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
    run_opened(run, &opened, sink, tail)
}

/// Merges streams of files already opened (see [`run`]).
pub fn run_opened<W: Write>(
    run: &Run<'_>,
    opened: &[Vec<Opened>],
    sink: &mut Sink<W>,
    tail: &mut Option<TailBuffer>,
) -> Result<(), EngineError> {
    let scanners: Vec<Vec<Scanner<'_>>> = opened
        .iter()
        .map(|files| {
            files
                .iter()
                .map(|o| {
                    Scanner::new(
                        o.layout.clone(),
                        &o.ctx,
                        run.classifier,
                        run.query,
                        run.printer,
                        &o.name,
                    )
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
    let mut out = ChunkOut::default();
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
        let data = o.file.data.bytes();
        let scanner = &scanners[cursor.stream][cursor.file];
        out.buf.clear();
        out.ends.clear();
        if scanner.emit(data, cursor.pos, end, None, false, &mut out) {
            match tail {
                Some(t) => t.push(out.buf.clone()),
                None => sink.write(&out.buf)?,
            }
        }
        cursor.pos = end;
        cursor.last_ts = ts;
        if sink.closed() {
            break;
        }
    }
    Ok(())
}

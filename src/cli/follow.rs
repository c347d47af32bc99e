//! `velos logs --follow`: the last records (as `--lines` and the filters
//! choose), then each new record as it is written, through the same query
//! and printer as the rest of `velos logs`.
//!
//! Files are followed by path ([`Follower`]): a managed process's JSON log
//! and raw-mode files together, merged as records arrive; a file or a
//! process whose logs do not exist yet is waited for. Stdin and other
//! streams are read to their end. The loop sleeps in a [`Waker`] between
//! changes; Ctrl-C ends it cleanly with status 0.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;

use crate::engine::merge::{self, Opened};
use crate::engine::{ChunkOut, EngineError, Run, Scanner, Sink, TailBuffer};
use crate::follow::{Batch, Change, Event, Follower, Pending, Release, Wake, Waker, wake};
use crate::frame::{Layout, SNIFF_BYTES};
use crate::source::{self, Input, SourceError};
use crate::timestamp::Zone;

/// What one argument is followed as.
enum Target {
    /// Files followed by path: one per stream of a process, or one file.
    Files { paths: Vec<PathBuf>, rotated: bool },
    /// A stream read to its end.
    Stream {
        name: String,
        input: Box<dyn Read + Send>,
    },
}

/// A followed file and what the loop remembers about it.
struct Followed {
    follower: Follower,
    name: String,
    /// The last error reported for it, to report each one once.
    error: Option<String>,
    warned_untimed: bool,
}

/// A streamed input.
struct Streamed {
    name: String,
    pending: Pending,
    ended: bool,
    warned_untimed: bool,
}

/// The part of the backlog read from one place.
enum Past {
    File(Opened),
    Merged(Vec<Vec<Opened>>),
}

/// Runs `velos logs --follow` over `sources`.
pub fn run(run: &Run<'_>, sources: &[String], home: &Path, zone: &Zone) -> Result<i32> {
    let targets = sources
        .iter()
        .map(|arg| target_of(arg, home))
        .collect::<Result<Vec<_>, _>>()?;
    let count_lines = run.printer.needs_line_numbers();

    let mut followed: Vec<Followed> = Vec::new();
    let mut streamed: Vec<Streamed> = Vec::new();
    let mut inputs: Vec<Box<dyn Read + Send>> = Vec::new();
    let mut past: Vec<Past> = Vec::new();
    for target in targets {
        match target {
            Target::Stream { name, input } => {
                streamed.push(Streamed {
                    name,
                    pending: Pending::new(zone.clone()),
                    ended: false,
                    warned_untimed: false,
                });
                inputs.push(input);
            }
            Target::Files { paths, rotated } => {
                let mut streams: Vec<Vec<Opened>> = Vec::new();
                for path in paths {
                    let (follower, snapshot) = Follower::at_end(&path, zone, count_lines)?;
                    let name = path.display().to_string();
                    let mut files = if rotated {
                        rotated_files(&path, snapshot.as_ref().map(|s| s.id), zone)
                    } else {
                        Vec::new()
                    };
                    if let Some(snapshot) = snapshot {
                        files.push(Opened {
                            file: snapshot.file,
                            ctx: snapshot.ctx,
                            layout: snapshot.layout,
                            name: name.clone(),
                        });
                    }
                    files.retain(|o| !o.file.data.bytes().is_empty());
                    if !files.is_empty() {
                        streams.push(files);
                    }
                    followed.push(Followed {
                        follower,
                        name,
                        error: None,
                        warned_untimed: false,
                    });
                }
                if streams.len() == 1 {
                    past.extend(streams.into_iter().flatten().map(Past::File));
                } else if !streams.is_empty() {
                    past.push(Past::Merged(streams));
                }
            }
        }
    }

    let stdout = std::io::stdout();
    let mut sink = Sink::new(std::io::BufWriter::with_capacity(64 << 10, stdout.lock()));
    write_backlog(run, &past, &mut sink)?;
    drop(past);
    sink.flush()?;
    if sink.closed() {
        return Ok(0);
    }

    let paths: Vec<PathBuf> = followed
        .iter()
        .map(|f| f.follower.path().to_path_buf())
        .collect();
    let mut waker = Waker::new(&paths);
    if let Err(e) = waker.on_signals() {
        eprintln!("velos: warning: cannot catch Ctrl-C ({e}); it will end the follow abruptly");
    }
    // Without it, a closed output is noticed at the next record.
    let _ = waker.on_output_closed();
    for (id, input) in inputs.into_iter().enumerate() {
        waker.read_input(id, input)?;
    }

    let mut out = ChunkOut::default();
    loop {
        let now = Instant::now();
        for f in &mut followed {
            let mut failed: Option<EngineError> = None;
            let name = f.name.as_str();
            let warned = &mut f.warned_untimed;
            let polled = f.follower.poll(now, &mut |event| match event {
                Event::Records(batch) if failed.is_none() => {
                    if let Err(e) = emit(run, name, &batch, warned, &mut out, &mut sink) {
                        failed = Some(e);
                    }
                }
                Event::Records(_) => {}
                Event::Change(Change::Truncated) => {
                    eprintln!("velos: {name}: file truncated; reading it again from the start");
                }
                Event::Change(_) => {}
            });
            if let Some(e) = failed {
                return Err(e.into());
            }
            match polled {
                Ok(()) => f.error = None,
                Err(e) => {
                    let text = e.to_string();
                    if f.error.as_deref() != Some(text.as_str()) {
                        eprintln!("velos: warning: {text}; trying again");
                        f.error = Some(text);
                    }
                }
            }
        }
        sink.flush()?;
        if sink.closed() {
            return Ok(0);
        }
        if followed.is_empty() && streamed.iter().all(|s| s.ended) {
            return Ok(0);
        }

        let deadline = followed
            .iter()
            .filter_map(|f| f.follower.deadline())
            .chain(streamed.iter().filter_map(|s| s.pending.deadline()))
            .min();
        let mut timeout = waker.interval();
        if let Some(deadline) = deadline {
            timeout = timeout.min(deadline.saturating_duration_since(Instant::now()));
        }
        for wake in waker.wait(timeout) {
            match wake {
                Wake::Changed => {}
                Wake::Interrupted => {
                    finish(run, &mut followed, &mut streamed, &mut out, &mut sink)?;
                    sink.flush()?;
                    return Ok(0);
                }
                Wake::OutputClosed => return Ok(0),
                Wake::Input(id, bytes) => {
                    if let Some(s) = streamed.get_mut(id) {
                        let now = Instant::now();
                        s.pending.push(&bytes, now);
                        take(run, s, now, Release::Records, &mut out, &mut sink)?;
                    }
                }
                Wake::InputEnd(id, error) => {
                    if let Some(s) = streamed.get_mut(id) {
                        if let Some(e) = error {
                            eprintln!("velos: warning: {}: {e}", s.name);
                        }
                        take(run, s, Instant::now(), Release::All, &mut out, &mut sink)?;
                        s.ended = true;
                    }
                }
            }
        }
        let now = Instant::now();
        for s in &mut streamed {
            if !s.ended {
                take(run, s, now, Release::Records, &mut out, &mut sink)?;
            }
        }
        waker.refresh();
    }
}

/// What `arg` is followed as. Names and paths that do not exist yet are
/// waited for: a name as a managed process, a path (with a `/`) as a file.
fn target_of(arg: &str, home: &Path) -> Result<Target, SourceError> {
    let stdin = || Target::Stream {
        name: "<stdin>".to_string(),
        input: Box::new(std::io::stdin()),
    };
    match source::resolve(arg, home) {
        Ok(Input::Stdin) => Ok(stdin()),
        Ok(Input::File(path)) => {
            let regular = std::fs::metadata(&path).is_ok_and(|m| m.is_file());
            if regular {
                return Ok(Target::Files {
                    paths: vec![path],
                    rotated: false,
                });
            }
            let input = std::fs::File::open(&path).map_err(|e| SourceError::io(&path, e))?;
            Ok(Target::Stream {
                name: path.display().to_string(),
                input: Box::new(input),
            })
        }
        Ok(Input::Process { name, .. }) => Ok(Target::Files {
            paths: process_paths(home, &name),
            rotated: true,
        }),
        Err(SourceError::NotFound(name)) => {
            eprintln!(
                "velos: no logs of `{name}` yet; waiting for {}",
                home.join("logs").join(format!("{name}.log")).display()
            );
            Ok(Target::Files {
                paths: process_paths(home, &name),
                rotated: true,
            })
        }
        Err(SourceError::NoSuchFile(path)) => {
            eprintln!(
                "velos: {} does not exist yet; waiting for it",
                path.display()
            );
            Ok(Target::Files {
                paths: vec![path],
                rotated: false,
            })
        }
        Err(e) => Err(e),
    }
}

/// A process's JSON log and raw-mode files.
fn process_paths(home: &Path, name: &str) -> Vec<PathBuf> {
    let logs = home.join("logs");
    [
        format!("{name}.log"),
        format!("{name}-out.log"),
        format!("{name}-err.log"),
    ]
    .into_iter()
    .map(|file| logs.join(file))
    .collect()
}

/// The rotated copies of `path`, oldest first, without the file being
/// followed (a rotation between looking at both would list it twice).
fn rotated_files(path: &Path, followed: Option<(u64, u64)>, zone: &Zone) -> Vec<Opened> {
    use std::os::unix::fs::MetadataExt;
    let Some(base) = path.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for older in source::rotated_set(&wake::dir_of(path), base) {
        if older.as_path() == path {
            continue;
        }
        let id = std::fs::metadata(&older).ok().map(|m| (m.dev(), m.ino()));
        if id.is_some() && id == followed {
            continue;
        }
        // A rotated file that vanished meanwhile is simply not shown.
        let Ok((file, ctx)) = crate::engine::open_with_context(&older, zone) else {
            continue;
        };
        let data = file.data.bytes();
        let layout = Layout::sniff(&data[..data.len().min(SNIFF_BYTES)], &ctx);
        files.push(Opened {
            file,
            ctx,
            layout,
            name: older.display().to_string(),
        });
    }
    files
}

/// Prints the records before the follow starts: the last N that pass the
/// filters (`--lines`), or all that pass.
fn write_backlog<W: Write>(
    run: &Run<'_>,
    past: &[Past],
    sink: &mut Sink<W>,
) -> Result<(), EngineError> {
    for part in past {
        let files: Vec<&Opened> = match part {
            Past::File(o) => vec![o],
            Past::Merged(streams) => streams.iter().flatten().collect(),
        };
        for o in files {
            if run.query.has_time() && !o.layout.timed && !o.file.data.bytes().is_empty() {
                return Err(EngineError::NoTimestamps(o.name.clone()));
            }
        }
    }
    let Some(want) = run.settings.tail else {
        for part in past {
            match part {
                Past::File(o) => {
                    let scanner = scanner_of(run, o);
                    if let Err(offset) = run.forward(&scanner, &o.file.data, sink, None)? {
                        shrank(&o.name, offset);
                    }
                }
                Past::Merged(streams) => merge::run_opened(run, streams, sink, &mut None)?,
            }
            if sink.closed() {
                break;
            }
        }
        return Ok(());
    };
    let mut pieces: Vec<Vec<u8>> = Vec::new();
    let mut have = 0;
    for part in past.iter().rev() {
        if have >= want {
            break;
        }
        let (piece, count) = match part {
            Past::File(o) => match run.tail(&scanner_of(run, o), &o.file.data, want - have) {
                Ok(piece) => piece,
                Err(offset) => {
                    shrank(&o.name, offset);
                    continue;
                }
            },
            Past::Merged(streams) => {
                let mut buffer = Some(TailBuffer::new(want - have));
                merge::run_opened(run, streams, sink, &mut buffer)?;
                buffer.map(TailBuffer::into_parts).unwrap_or_default()
            }
        };
        have += count;
        pieces.push(piece);
    }
    for piece in pieces.iter().rev() {
        sink.write(piece)?;
    }
    Ok(())
}

fn scanner_of<'a>(run: &Run<'a>, o: &'a Opened) -> Scanner<'a> {
    Scanner::new(
        o.layout.clone(),
        &o.ctx,
        run.classifier,
        run.query,
        run.printer,
        &o.name,
    )
}

fn shrank(name: &str, offset: usize) {
    eprintln!(
        "velos: warning: {name} shrank while it was being read; its records from byte {offset} on are not shown"
    );
}

/// Runs one batch of new records through the query and prints the kept
/// ones.
fn emit<W: Write>(
    run: &Run<'_>,
    name: &str,
    batch: &Batch<'_>,
    warned_untimed: &mut bool,
    out: &mut ChunkOut,
    sink: &mut Sink<W>,
) -> Result<(), EngineError> {
    if run.query.has_time() && !batch.layout.timed && !*warned_untimed {
        *warned_untimed = true;
        eprintln!(
            "velos: warning: {name} has no timestamps, so --since/--until keep none of its records"
        );
    }
    let mut scanner = Scanner::new(
        batch.layout.clone(),
        batch.ctx,
        run.classifier,
        run.query,
        run.printer,
        name,
    );
    scanner.time_floor = batch.time_floor;
    out.buf.clear();
    out.ends.clear();
    let first_line = run.printer.needs_line_numbers().then_some(batch.first_line);
    scanner.scan(batch.data, 0, batch.data.len(), first_line, out);
    sink.write(&out.buf)
}

fn take<W: Write>(
    run: &Run<'_>,
    s: &mut Streamed,
    now: Instant,
    release: Release,
    out: &mut ChunkOut,
    sink: &mut Sink<W>,
) -> Result<(), EngineError> {
    let mut result = Ok(());
    let name = s.name.as_str();
    let warned = &mut s.warned_untimed;
    s.pending.take(now, release, &mut |batch| {
        result = emit(run, name, &batch, warned, out, sink);
    });
    result
}

/// Prints every whole line still held back, when leaving.
fn finish<W: Write>(
    run: &Run<'_>,
    followed: &mut [Followed],
    streamed: &mut [Streamed],
    out: &mut ChunkOut,
    sink: &mut Sink<W>,
) -> Result<(), EngineError> {
    let now = Instant::now();
    for f in followed {
        let mut result = Ok(());
        let name = f.name.as_str();
        let warned = &mut f.warned_untimed;
        f.follower.finish(now, &mut |event| {
            if let Event::Records(batch) = event {
                result = emit(run, name, &batch, warned, out, sink);
            }
        });
        result?;
    }
    for s in streamed {
        take(run, s, now, Release::Lines, out, sink)?;
    }
    Ok(())
}

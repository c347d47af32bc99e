//! `velos logs --follow`: the last records (as `--lines` and the filters
//! choose), then each new record as it is written, through the same query
//! and printer as the rest of `velos logs`.
//!
//! Files are followed by path ([`Follower`]): a managed process's JSON log
//! and raw-mode files together, merged as records arrive; a file or a
//! process whose logs do not exist yet is waited for. Stdin and other
//! streams are read to their end. The backlog goes through the engine's
//! print or tail entry point, the new records through its live one
//! ([`Engine::live`]), into the same [`RecordSink`]. The loop sleeps in a [`Waker`] between
//! changes; Ctrl-C ends it cleanly with status 0.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;

use crate::engine::{self, Engine, EngineError, Input, LanePart, Opened, RecordSink, Visitor as _};
use crate::follow::{Batch, Change, Event, Follower, Pending, Release, Wake, Waker};
use crate::level::Level;
use crate::output::{PrintSink, Printer};
use crate::source::{self, Body, Part, SourceError};

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

/// A followed file.
struct Followed {
    follower: Follower,
    view: View,
    /// The last error reported for it, to report each one once.
    error: Option<String>,
}

/// A streamed input.
struct Streamed {
    pending: Pending,
    view: View,
    ended: bool,
}

/// What the loop remembers about the output of one source.
struct View {
    name: String,
    warned_untimed: bool,
    /// Level of the record shown early, for the colour of its later lines.
    shown_level: Level,
}

impl View {
    fn new(name: String) -> View {
        View {
            name,
            warned_untimed: false,
            shown_level: Level::Info,
        }
    }
}

/// Runs `velos logs --follow` over `sources`: the last `tail` records that
/// pass the filters (all without `tail`), then new ones. Their backlogs are
/// merged by time unless `concat` asks for one after the other.
pub fn run(
    engine: &Engine,
    printer: &Printer,
    tail: Option<usize>,
    sources: &[String],
    home: &Path,
    concat: bool,
) -> Result<i32> {
    let zone = engine.zone();
    let targets = sources
        .iter()
        .map(|arg| target_of(arg, home))
        .collect::<Result<Vec<_>, _>>()?;
    let count_lines = printer.needs_line_numbers();

    let mut followed: Vec<Followed> = Vec::new();
    let mut streamed: Vec<Streamed> = Vec::new();
    let mut inputs: Vec<Box<dyn Read + Send>> = Vec::new();
    let mut past = Input::default();
    let mut all_lanes: Vec<Vec<LanePart>> = Vec::new();
    for target in targets {
        match target {
            Target::Stream { name, input } => {
                streamed.push(Streamed {
                    pending: Pending::new(zone.clone()),
                    view: View::new(name),
                    ended: false,
                });
                inputs.push(input);
            }
            Target::Files { paths, rotated } => {
                let mut streams: Vec<Vec<LanePart>> = Vec::new();
                for path in paths {
                    let (follower, snapshot) = Follower::at_end(&path, zone, count_lines)?;
                    let name = path.display().to_string();
                    let mut files = if rotated {
                        engine::rotated_copies(&path, snapshot.as_ref().map(|s| s.id), zone)
                    } else {
                        Vec::new()
                    };
                    if let Some(snapshot) = snapshot {
                        files.push(LanePart::Opened(Opened {
                            file: snapshot.file,
                            ctx: snapshot.ctx,
                            layout: snapshot.layout,
                            name: name.clone(),
                        }));
                    }
                    files.retain(
                        |o| !matches!(o, LanePart::Opened(o) if o.file.data.bytes().is_empty()),
                    );
                    if !files.is_empty() {
                        streams.push(files);
                    }
                    followed.push(Followed {
                        follower,
                        view: View::new(name),
                        error: None,
                    });
                }
                if concat {
                    past = past.then(Input::lanes(streams));
                } else {
                    all_lanes.extend(streams);
                }
            }
        }
    }
    let past = past.then(Input::lanes(all_lanes));

    let stdout = std::io::stdout();
    let out = std::io::BufWriter::with_capacity(64 << 10, stdout.lock());
    let mut live = Live::new(engine, PrintSink::new(printer, out).without_pattern_ids());
    // The records before the follow starts.
    match tail {
        Some(n) => engine.tail(past, n, &mut live.sink)?,
        None => engine.print(past, &mut live.sink)?,
    }
    if live.sink.closed() {
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

    loop {
        let now = Instant::now();
        for f in &mut followed {
            live.poll(f, now)?;
        }
        live.sink.flush()?;
        if live.sink.closed() {
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
                    live.finish(&mut followed, &mut streamed)?;
                    live.sink.flush()?;
                    return Ok(0);
                }
                Wake::OutputClosed => return Ok(0),
                Wake::Input(id, bytes) => {
                    if let Some(s) = streamed.get_mut(id) {
                        s.pending.push(&bytes, Instant::now());
                    }
                }
                Wake::InputEnd(id, error) => {
                    if let Some(s) = streamed.get_mut(id) {
                        if let Some(e) = error {
                            eprintln!("velos: warning: {}: {e}", s.view.name);
                        }
                        live.take(s, Instant::now(), Release::All)?;
                        s.ended = true;
                    }
                }
            }
        }
        let now = Instant::now();
        for s in &mut streamed {
            if !s.ended {
                live.take(s, now, Release::Records)?;
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
        Ok(source::Input::Stdin) => Ok(stdin()),
        Ok(source::Input::File(path)) => {
            let regular = std::fs::metadata(&path).is_ok_and(|m| m.is_file());
            if regular && source::compression_of(&path).is_some() {
                // A compressed file is decoded to its end, as a stream.
                let opened = Part::File(path.clone()).open()?;
                if let Body::Stream(input) = opened.body {
                    return Ok(Target::Stream {
                        name: opened.name,
                        input,
                    });
                }
            }
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
        Ok(source::Input::Process { name, .. }) => Ok(Target::Files {
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
    crate::home::process_log_files(&home.join("logs"), name).into()
}

/// Hands new records to the sink: through the engine's live entry point,
/// so the run's query applies as to the backlog.
struct Live<'e, S: RecordSink> {
    engine: &'e Engine,
    sink: S,
    /// Whether a record's level shows (colour, JSON) or chooses it
    /// (`--level`): then a record is shown early only when it states it.
    level_matters: bool,
}

impl<'e, S: RecordSink> Live<'e, S> {
    fn new(engine: &'e Engine, sink: S) -> Live<'e, S> {
        let level_matters = engine.query().levels.is_some() || sink.batch().needs_level();
        Live {
            engine,
            sink,
            level_matters,
        }
    }

    /// Polls one followed file and prints what it hands out.
    fn poll(&mut self, f: &mut Followed, now: Instant) -> Result<(), EngineError> {
        let mut failed = None;
        let view = &mut f.view;
        let polled = f.follower.poll(now, &mut |event| match event {
            Event::Records(batch) => {
                if failed.is_none()
                    && let Err(e) = self.emit(view, &batch)
                {
                    failed = Some(e);
                }
            }
            Event::Change(Change::Truncated) => {
                eprintln!(
                    "velos: {}: file truncated; reading it again from the start",
                    view.name
                );
            }
            Event::Change(Change::Deleted {
                after_ms,
                before_ms,
            }) => {
                eprintln!(
                    "velos: warning: {}: {}",
                    view.name,
                    crate::follow::describe_deleted(after_ms, before_ms)
                );
            }
            Event::Change(_) => {}
        });
        if let Some(e) = failed {
            return Err(e);
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
        let shown = match f.follower.held() {
            Some(held) => self.show_held(&mut f.view, &held)?,
            None => None,
        };
        if let Some(upto) = shown {
            f.follower.mark_shown(upto);
        }
        Ok(())
    }

    /// Hands out a stream's releasable records and prints them.
    fn take(
        &mut self,
        s: &mut Streamed,
        now: Instant,
        release: Release,
    ) -> Result<(), EngineError> {
        let mut result = Ok(());
        let view = &mut s.view;
        s.pending.take(now, release, &mut |batch| {
            if result.is_ok() {
                result = self.emit(view, &batch);
            }
        });
        result?;
        let shown = match s.pending.held() {
            Some(held) => self.show_held(&mut s.view, &held)?,
            None => None,
        };
        if let Some(upto) = shown {
            s.pending.mark_shown(upto);
        }
        Ok(())
    }

    /// Runs a batch of whole records through the query into the sink; the
    /// rest of a record shown early goes to the sink as it is.
    fn emit(&mut self, view: &mut View, batch: &Batch<'_>) -> Result<(), EngineError> {
        let engine = self.engine;
        if engine.query().has_time() && !batch.layout.timed && !view.warned_untimed {
            view.warned_untimed = true;
            eprintln!(
                "velos: warning: {} has no timestamps, so --since/--until keep none of its records",
                view.name
            );
        }
        let data = batch.data;
        let mut from = 0;
        if batch.shown > 0 {
            from = batch.layout.record_end(data, 0, data.len());
            let rest = &data[batch.shown.min(from)..from];
            self.sink
                .rest_of_shown(&view.name, rest, view.shown_level)?;
        }
        let first_line = self
            .sink
            .needs_line_numbers()
            .then(|| batch.first_line + bytecount::count(&data[..from], b'\n') as u64);
        let live = engine::Live {
            name: &view.name,
            data,
            from,
            layout: batch.layout,
            ctx: batch.ctx,
            time_floor: batch.time_floor,
            first_line,
        };
        engine.live(live, &mut self.sink)?;
        Ok(())
    }

    /// Shows a held record before it is known to be whole, when that cannot
    /// change the output: the sink shows records early, the record passes
    /// the query, it is no JSON object still open, and its level (for
    /// `--level` or colour) is stated by the record itself, so lines joining
    /// it later cannot change it. Returns how many of its bytes are shown
    /// by now.
    fn show_held(
        &mut self,
        view: &mut View,
        held: &Batch<'_>,
    ) -> Result<Option<usize>, EngineError> {
        let engine = self.engine;
        if !self.sink.shows_early() {
            return Ok(None);
        }
        let data = held.data;
        if held.shown > 0 {
            if held.shown < data.len() {
                let rest = &data[held.shown..];
                self.sink
                    .rest_of_shown(&view.name, rest, view.shown_level)?;
            }
            return Ok(Some(data.len()));
        }
        let rec = held.layout.read(data, 0, data.len(), held.ctx);
        if self.level_matters && rec.explicit.is_none() || crate::follow::is_open_object(data) {
            return Ok(None);
        }
        let live = engine::Live {
            name: &view.name,
            data,
            from: 0,
            layout: held.layout,
            ctx: held.ctx,
            time_floor: held.time_floor,
            first_line: None,
        };
        if engine.live(live, &mut self.sink)? == 0 {
            return Ok(None);
        }
        view.shown_level = engine.classifier().classify(rec.explicit, rec.text);
        Ok(Some(data.len()))
    }

    /// Prints every whole line still held back, when leaving.
    fn finish(
        &mut self,
        followed: &mut [Followed],
        streamed: &mut [Streamed],
    ) -> Result<(), EngineError> {
        let now = Instant::now();
        for f in followed {
            let mut result = Ok(());
            let view = &mut f.view;
            f.follower.finish(now, &mut |event| {
                if let Event::Records(batch) = event
                    && result.is_ok()
                {
                    result = self.emit(view, &batch);
                }
            });
            result?;
        }
        for s in streamed {
            self.take(s, now, Release::Lines)?;
        }
        Ok(())
    }
}

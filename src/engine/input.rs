//! What a run reads: the [`Input`] of the front door.
//!
//! An input is a list of *units* read one after the other: a part (a file,
//! stdin, a compressed file, a spooled stream), a file already mapped by
//! the caller, a stream handed by the caller, or several lanes merged by
//! time (each lane a sequence of parts: a process's rotated files, oldest
//! first). It is built from `velos logs` arguments ([`Input::resolve`]), a
//! managed process's whole rotated set, compressed copies included
//! ([`Input::process`]), bytes or a reader ([`Input::bytes`],
//! [`Input::reader`]), or lanes of opened parts ([`Input::lanes`]).
//!
//! Units are opened here and nowhere else ([`open`]): a regular file is
//! mapped and its layout sniffed, everything else is streamed. A mapped
//! file that shrinks while it is read is read again from where the
//! mapping failed ([`truncated_fallback`]), so no caller deals with it.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::merge::{LanePart, Opened};
use super::{EngineError, Run};
use crate::frame::Layout;
use crate::source::{self, Body, FileBytes, OpenFile, Part, SourceError};
use crate::timestamp::{TimeContext, Zone};

/// What a run reads, in order.
#[derive(Default)]
pub struct Input {
    pub(super) units: Vec<Unit>,
}

/// One thing read in order: one input, or several merged by time.
pub(super) enum Unit {
    /// One input.
    One(Single),
    /// Lanes merged by time.
    Merged(Vec<Vec<LanePart>>),
}

/// One input of a unit.
pub(super) enum Single {
    /// An input opened when reached.
    Part(Part),
    /// A file mapped (or bytes held) by the caller.
    Opened(Opened),
    /// Bytes held in memory, given by the caller.
    Bytes { name: String, data: Vec<u8> },
    /// A stream given by the caller, read once.
    Reader {
        name: String,
        reader: Box<dyn Read + Send>,
    },
}

impl Input {
    /// The inputs named by `velos logs` arguments (`-`, a path, a process
    /// name with logs under `home/logs/`): merged by time, or with
    /// `concat` one after the other (a process's streams still merged).
    pub fn resolve(args: &[String], home: &Path, concat: bool) -> Result<Input, SourceError> {
        let resolved = args
            .iter()
            .map(|arg| source::resolve(arg, home))
            .collect::<Result<Vec<_>, _>>()?;
        let lanes_of = |input: &source::Input| -> Vec<Vec<Part>> {
            match input {
                source::Input::Stdin => vec![vec![Part::Stdin]],
                source::Input::File(path) => vec![vec![Part::File(path.clone())]],
                source::Input::Process { streams, .. } => streams
                    .iter()
                    .map(|files| files.iter().cloned().map(Part::File).collect())
                    .collect(),
            }
        };
        let units = if concat {
            resolved
                .iter()
                .flat_map(|input| units_of(lanes_of(input)))
                .collect()
        } else {
            units_of(resolved.iter().flat_map(lanes_of).collect())
        };
        Ok(Input { units })
    }

    /// A managed process's logs in `logs_dir`: each stream's rotated set,
    /// compressed copies included, oldest first; the streams merged by
    /// time. Only files `keep` accepts are read.
    pub fn process(logs_dir: &Path, name: &str, keep: impl Fn(&Path) -> bool) -> Input {
        let lanes: Vec<Vec<Part>> = crate::home::process_log_names(name)
            .iter()
            .map(|base| {
                source::rotated_parts(logs_dir, base)
                    .into_iter()
                    .filter(|p| keep(p))
                    .map(Part::File)
                    .collect::<Vec<_>>()
            })
            .filter(|files| !files.is_empty())
            .collect();
        Input {
            units: units_of(lanes),
        }
    }

    /// Bytes held in memory, read as a file would be.
    pub fn bytes(name: impl Into<String>, data: Vec<u8>) -> Input {
        Input {
            units: vec![Unit::One(Single::Bytes {
                name: name.into(),
                data,
            })],
        }
    }

    /// A stream (read once, in blocks, with bounded memory).
    pub fn reader(name: impl Into<String>, reader: impl Read + Send + 'static) -> Input {
        Input {
            units: vec![Unit::One(Single::Reader {
                name: name.into(),
                reader: Box::new(reader),
            })],
        }
    }

    /// The files of `paths`, one after the other.
    pub fn files(paths: &[PathBuf]) -> Input {
        Input {
            units: paths
                .iter()
                .cloned()
                .map(Part::File)
                .map(|part| Unit::One(Single::Part(part)))
                .collect(),
        }
    }

    /// Lanes merged by time (each oldest first); one lane of mapped files
    /// is read file by file, in parallel.
    pub fn lanes(mut lanes: Vec<Vec<LanePart>>) -> Input {
        let all_opened = lanes.len() == 1
            && lanes[0]
                .iter()
                .all(|part| matches!(part, LanePart::Opened(_)));
        let units = if all_opened {
            lanes
                .swap_remove(0)
                .into_iter()
                .filter_map(|part| match part {
                    LanePart::Opened(o) => Some(Unit::One(Single::Opened(o))),
                    LanePart::Input(_) => None,
                })
                .collect()
        } else if lanes.is_empty() {
            Vec::new()
        } else {
            vec![Unit::Merged(lanes)]
        };
        Input { units }
    }

    /// This input, then `later`.
    pub fn then(mut self, later: Input) -> Input {
        self.units.extend(later.units);
        self
    }

    /// Whether there is nothing to read.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// Total size of its files read by path, for a progress bar.
    pub(super) fn file_bytes(&self) -> u64 {
        self.units
            .iter()
            .filter_map(|u| match u {
                Unit::One(Single::Part(Part::File(p))) => {
                    std::fs::metadata(p).ok().map(|m| m.len())
                }
                _ => None,
            })
            .sum()
    }

    /// Saves its streams (stdin, pipes) to temporary files, so it can be
    /// read twice.
    pub(super) fn spool(&mut self) -> Result<(), SourceError> {
        for unit in &mut self.units {
            match unit {
                Unit::One(Single::Part(part)) => spool_part(part)?,
                Unit::Merged(lanes) => {
                    for part in lanes.iter_mut().flatten() {
                        if let LanePart::Input(part) = part {
                            spool_part(part)?;
                        }
                    }
                }
                Unit::One(Single::Reader { name, reader }) => {
                    let mut data = Vec::new();
                    reader.read_to_end(&mut data).map_err(|e| SourceError::Io {
                        path: PathBuf::from(&*name),
                        cause: e,
                    })?;
                    *unit = Unit::One(Single::Bytes {
                        name: std::mem::take(name),
                        data,
                    });
                }
                Unit::One(Single::Opened(_) | Single::Bytes { .. }) => {}
            }
        }
        Ok(())
    }
}

fn spool_part(part: &mut Part) -> Result<(), SourceError> {
    if !part.rereadable() {
        *part = source::spool(part)?;
    }
    Ok(())
}

/// The units of some lanes: one lane is read part by part; several are
/// merged.
fn units_of(mut lanes: Vec<Vec<Part>>) -> Vec<Unit> {
    match lanes.len() {
        0 => Vec::new(),
        1 => lanes
            .swap_remove(0)
            .into_iter()
            .map(|part| Unit::One(Single::Part(part)))
            .collect(),
        _ => vec![Unit::Merged(
            lanes
                .into_iter()
                .map(|parts| parts.into_iter().map(LanePart::Input).collect())
                .collect(),
        )],
    }
}

/// The backlog lane of a followed file: the rotated copies of `path`
/// (`<file>.1`, `<file>.2.gz`…, as [`Input::process`] lists a process's),
/// oldest first, without `path` itself nor the file `followed` (device and
/// inode: the followed file, should it have been rotated since). Plain
/// copies are mapped now, so a rotation while the backlog is read cannot
/// shift them, and one that vanished is left out; compressed copies are
/// decoded when the backlog reaches them. The caller ends the lane with
/// the followed file's own bytes.
pub fn rotated_copies(path: &Path, followed: Option<(u64, u64)>, zone: &Zone) -> Vec<LanePart> {
    use std::os::unix::fs::MetadataExt;
    let Some(base) = path.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let dir = source::dir_of(path);
    let mut lane = Vec::new();
    for older in source::rotated_parts(dir, base) {
        if older.file_name() == path.file_name() {
            continue;
        }
        let id = std::fs::metadata(&older).ok().map(|m| (m.dev(), m.ino()));
        if id.is_some() && id == followed {
            continue;
        }
        if source::compression_of(&older).is_some() {
            lane.push(LanePart::Input(Part::File(older)));
            continue;
        }
        let Ok((file, ctx)) = super::open_with_context(&older, zone) else {
            continue;
        };
        let layout = Layout::sniff(file.data.bytes(), &ctx);
        lane.push(LanePart::Opened(Opened {
            file,
            ctx,
            layout,
            name: older.display().to_string(),
        }));
    }
    lane
}

/// An opened unit of one lane.
pub(super) enum OpenedUnit {
    /// Mapped: read in parallel chunks. `path` is set when it can be read
    /// again after a truncation.
    Mapped {
        opened: Opened,
        path: Option<PathBuf>,
    },
    /// A stream.
    Stream {
        name: String,
        ctx: TimeContext,
        input: Box<dyn Read + Send>,
    },
}

/// Opens one input; for a mapped file, learns its layout and checks that
/// a time filter can apply to it (a stream is checked as it is read).
pub(super) fn open(
    run: &Run<'_>,
    single: Single,
    zone: &Zone,
    now_ms: i64,
) -> Result<OpenedUnit, EngineError> {
    let opened = match single {
        Single::Part(part) => open_part(run, &part, zone, now_ms)?,
        Single::Opened(opened) => OpenedUnit::Mapped { opened, path: None },
        Single::Bytes { name, data } => {
            let ctx = TimeContext::new(zone.clone(), now_ms);
            let layout = Layout::sniff(&data, &ctx);
            OpenedUnit::Mapped {
                opened: Opened {
                    file: OpenFile {
                        path: PathBuf::from(&name),
                        data: FileBytes::Owned(data),
                        modified_ms: None,
                        regular: false,
                    },
                    ctx,
                    layout,
                    name,
                },
                path: None,
            }
        }
        Single::Reader { name, reader } => OpenedUnit::Stream {
            name,
            ctx: TimeContext::new(zone.clone(), now_ms),
            input: reader,
        },
    };
    if let OpenedUnit::Mapped { opened, .. } = &opened {
        check_times(run, opened)?;
    }
    Ok(opened)
}

/// Reopens a part (the dedup samples of a file no longer mapped).
pub(super) fn reopen(
    run: &Run<'_>,
    part: &Part,
    zone: &Zone,
    now_ms: i64,
) -> Result<Option<Opened>, EngineError> {
    Ok(match open_part(run, part, zone, now_ms)? {
        OpenedUnit::Mapped { opened, .. } => Some(opened),
        OpenedUnit::Stream { .. } => None,
    })
}

fn open_part(
    run: &Run<'_>,
    part: &Part,
    zone: &Zone,
    now_ms: i64,
) -> Result<OpenedUnit, EngineError> {
    let opened = part.open()?;
    let ctx = TimeContext::new(zone.clone(), opened.modified_ms.unwrap_or(now_ms));
    Ok(match opened.body {
        Body::Stream(input) => OpenedUnit::Stream {
            name: opened.name,
            ctx,
            input,
        },
        Body::Mapped(file) => {
            let layout = Layout::sniff(file.data.bytes(), &ctx);
            let path = match part {
                Part::File(path) => Some(path.clone()),
                _ => None,
            };
            let opened = Opened {
                file,
                ctx,
                layout,
                name: opened.name,
            };
            check_times(run, &opened)?;
            OpenedUnit::Mapped { opened, path }
        }
    })
}

/// `--since`/`--until` need times: a mapped input without them is an
/// error before anything of it is read.
pub(super) fn check_times(run: &Run<'_>, opened: &Opened) -> Result<(), EngineError> {
    if run.query.has_time() && !opened.layout.timed && !opened.file.data.bytes().is_empty() {
        return Err(EngineError::NoTimestamps(opened.name.clone()));
    }
    Ok(())
}

/// What is left of a file that shrank under its mapping, from `offset`;
/// `None` (with a warning) when it cannot be read again.
pub(super) fn truncated_fallback(
    name: &str,
    path: Option<&Path>,
    offset: usize,
) -> Result<Option<Vec<u8>>, EngineError> {
    match path {
        Some(path) => {
            eprintln!(
                "velos: warning: {} shrank while it was being read; reading what is left from byte {offset}",
                path.display()
            );
            Ok(Some(source::read_from(path, offset as u64)?))
        }
        None => {
            eprintln!(
                "velos: warning: {name} shrank while it was being read; its records from byte {offset} on are not shown"
            );
            Ok(None)
        }
    }
}

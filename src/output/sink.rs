//! The printer as a [`RecordSink`]: kept records rendered on the worker
//! threads ([`Rendered`]), written in input order to an [`Output`]
//! (stdout, buffered), and the report of an analysis run written as the
//! summary or the dedup list ([`ReportStyle`]).

use std::io::Write;

use super::summary::{SummaryContext, dedup_json, dedup_line, summary_json, summary_text};
use super::{Format, Kept, Printer, color_of};
use crate::analyze::report::Report;
use crate::engine::{Batch, EngineError, RecordSink, Visit, Visitor};
use crate::frame::Record;
use crate::level::Level;

/// The kept records of one chunk, rendered by a printer.
#[derive(Debug)]
pub struct Rendered<'p> {
    printer: &'p Printer,
    /// Rendered records, in file order.
    pub buf: Vec<u8>,
    /// End offset in `buf` of each record.
    ends: Vec<usize>,
}

impl<'p> Rendered<'p> {
    /// An empty batch rendered by `printer`.
    pub fn new(printer: &'p Printer) -> Rendered<'p> {
        Rendered {
            printer,
            buf: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// Empties it.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
    }
}

impl Visitor for Rendered<'_> {
    fn needs_level(&self) -> bool {
        self.printer.needs_level()
    }

    #[inline]
    fn kept(&mut self, v: &Visit<'_, '_>) {
        let scanner = v.scanner;
        let message = match v.record.json {
            Some(_) => v.record.text,
            None => scanner.layout.message(v.record),
        };
        self.printer.write(
            &Kept {
                record: v.record,
                level: v.level,
                file: scanner.file,
                line: v.line,
                message,
                pattern: v.pattern,
            },
            &mut self.buf,
        );
        self.ends.push(self.buf.len());
    }
}

impl Batch for Rendered<'_> {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn keep_last(&mut self, n: usize) {
        let drop = self.ends.len().saturating_sub(n);
        if drop == 0 {
            return;
        }
        let start = self.ends[drop - 1];
        self.buf.drain(..start);
        self.ends.drain(..drop);
        for end in &mut self.ends {
            *end -= start;
        }
    }
}

/// Where rendered bytes go: a writer (stdout, buffered), that stops
/// quietly when the reader goes away (`velos logs … | head`).
pub struct Output<W: Write> {
    out: W,
    closed: bool,
}

impl<W: Write> Output<W> {
    /// Wraps a writer.
    pub fn new(out: W) -> Output<W> {
        Output { out, closed: false }
    }

    /// Writes bytes; a closed pipe ends output without an error.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), EngineError> {
        if self.closed || bytes.is_empty() {
            return Ok(());
        }
        match self.out.write_all(bytes) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(EngineError::Write(e)),
        }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Whether the reader went away.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Flushes buffered output.
    pub fn flush(&mut self) -> Result<(), EngineError> {
        if self.closed {
            return Ok(());
        }
        match self.out.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other.map_err(EngineError::Write),
        }
    }
}

/// How the report of an analysis run is written.
#[derive(Debug, Clone)]
pub enum ReportStyle<'a> {
    /// The summary (`--summary`), as text or JSON.
    Summary(SummaryContext<'a>),
    /// The dedup groups (`--dedupe`), one line each.
    Dedup {
        /// Each group's template instead of its first message.
        template: bool,
        /// Only the last N groups.
        last: Option<usize>,
    },
}

/// The text/JSON printer as a sink: records rendered by `printer`, written
/// to `out`; a report written in `style`.
pub struct PrintSink<'p, W: Write> {
    printer: &'p Printer,
    out: Output<W>,
    style: Option<ReportStyle<'p>>,
    pattern_ids: bool,
}

impl<'p, W: Write> PrintSink<'p, W> {
    /// Records rendered by `printer`, written to `out`.
    pub fn new(printer: &'p Printer, out: W) -> PrintSink<'p, W> {
        PrintSink {
            printer,
            out: Output::new(out),
            style: None,
            pattern_ids: printer.format == Format::Json,
        }
    }

    /// Leaves pattern ids out of JSON records (they need a first pass over
    /// the whole input, which a followed input does not have).
    pub fn without_pattern_ids(self) -> PrintSink<'p, W> {
        PrintSink {
            pattern_ids: false,
            ..self
        }
    }

    /// Writes reports in `style`.
    pub fn with_report(self, style: ReportStyle<'p>) -> PrintSink<'p, W> {
        PrintSink {
            style: Some(style),
            ..self
        }
    }

    /// The output, to write more to it.
    pub fn output(&mut self) -> &mut Output<W> {
        &mut self.out
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out.into_inner()
    }
}

impl<'p, W: Write> RecordSink for PrintSink<'p, W> {
    type Batch = Rendered<'p>;

    fn batch(&self) -> Rendered<'p> {
        Rendered::new(self.printer)
    }

    fn needs_line_numbers(&self) -> bool {
        self.printer.needs_line_numbers()
    }

    fn needs_patterns(&self) -> bool {
        self.pattern_ids
    }

    fn take(&mut self, batch: &mut Rendered<'p>) -> Result<(), EngineError> {
        self.out.write(&batch.buf)?;
        batch.clear();
        Ok(())
    }

    fn closed(&self) -> bool {
        self.out.closed()
    }

    fn report(&mut self, report: &Report) -> Result<(), EngineError> {
        match &self.style {
            Some(ReportStyle::Summary(ctx)) => {
                let text = if self.printer.format == Format::Json {
                    let mut json = summary_json(report, ctx).to_string();
                    json.push('\n');
                    json
                } else {
                    summary_text(report, ctx)
                };
                self.out.write(text.as_bytes())
            }
            &Some(ReportStyle::Dedup { template, last }) => {
                write_dedup(self.printer, &mut self.out, report, template, last)
            }
            None => Ok(()),
        }
    }

    fn flush(&mut self) -> Result<(), EngineError> {
        self.out.flush()
    }

    fn shows_early(&self) -> bool {
        self.printer.format == Format::Text
    }

    fn rest_of_shown(&mut self, name: &str, lines: &[u8], level: Level) -> Result<(), EngineError> {
        if lines.is_empty() {
            return Ok(());
        }
        // The later lines as they are, with the colour of the record and
        // without a file name.
        let printer = Printer {
            show_file: false,
            ..self.printer.clone()
        };
        let record = Record::bare(lines);
        let mut buf = Vec::new();
        printer.write(
            &Kept {
                record: &record,
                level,
                file: name,
                line: None,
                message: record.text,
                pattern: None,
            },
            &mut buf,
        );
        self.out.write(&buf)
    }
}

/// Writes the dedup groups of `report` (the last `last`), one per line.
fn write_dedup<W: Write>(
    printer: &Printer,
    out: &mut Output<W>,
    report: &Report,
    template: bool,
    last: Option<usize>,
) -> Result<(), EngineError> {
    let Some(groups) = &report.dedup else {
        return Ok(());
    };
    let skip = last.map_or(0, |n| groups.len().saturating_sub(n));
    let mut line = Vec::new();
    for group in &groups[skip..] {
        line.clear();
        if printer.format == Format::Json {
            line.extend_from_slice(dedup_json(group).to_string().as_bytes());
            line.push(b'\n');
        } else {
            let color = if printer.color {
                color_of(group.level)
            } else {
                ""
            };
            line.extend_from_slice(color.as_bytes());
            dedup_line(group, template, &printer.zone, &mut line);
            if !color.is_empty() {
                line.pop();
                line.extend_from_slice(b"\x1b[0m\n");
            }
        }
        out.write(&line)?;
    }
    Ok(())
}

//! The printer: renders kept records as text for people or JSON lines for
//! programs. Results go to stdout, diagnostics to stderr, never mixed.
//!
//! Text mode prints plain-text records exactly as they are in the file
//! (all their lines), and structured JSON records as
//! `2026-01-10 00:00:00.123 ERROR [stderr] message` in local time. On a
//! terminal, records are coloured by level. JSON mode writes one object per
//! record with the structured format's keys — `ts` (Unix ms or null),
//! `lvl`, `pid`, `src`, `msg` — plus `file` and `line`.

use std::io::Write;

use crate::analyze::patterns::PatternId;
use crate::frame::Record;
use crate::frame::json::{Scalar, escape_into};
use crate::level::Level;
use crate::timestamp::Zone;
use crate::timestamp::zone::civil_from_days;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human text.
    Text,
    /// One JSON object per record.
    Json,
}

/// Renders records into byte buffers.
#[derive(Debug, Clone)]
pub struct Printer {
    /// Text or JSON.
    pub format: Format,
    /// ANSI colours by level (text only).
    pub color: bool,
    /// Prefix each text record with its file name (several files).
    pub show_file: bool,
    /// Zone for printing times.
    pub zone: Zone,
}

/// What the printer needs to know about one kept record.
pub struct Kept<'r, 'a> {
    /// The record.
    pub record: &'r Record<'a>,
    /// Its level.
    pub level: Level,
    /// The file it came from, for display.
    pub file: &'r str,
    /// 1-based number of its first line, when known.
    pub line: Option<u64>,
    /// Its message: for plain records the text after the header columns of
    /// the first line, continuation lines included.
    pub message: &'r [u8],
    /// Its pattern, when patterns are known.
    pub pattern: Option<PatternId>,
}

impl Printer {
    /// Whether printing needs each record's level.
    pub fn needs_level(&self) -> bool {
        self.format == Format::Json || self.color
    }

    /// Whether printing needs line numbers.
    pub fn needs_line_numbers(&self) -> bool {
        self.format == Format::Json
    }

    /// Appends one record.
    pub fn write(&self, kept: &Kept<'_, '_>, out: &mut Vec<u8>) {
        match self.format {
            Format::Text => self.write_text(kept, out),
            Format::Json => write_json(kept, out),
        }
    }

    fn write_text(&self, kept: &Kept<'_, '_>, out: &mut Vec<u8>) {
        let color = if self.color { color_of(kept.level) } else { "" };
        if self.show_file {
            out.extend_from_slice(kept.file.as_bytes());
            out.push(b':');
        }
        out.extend_from_slice(color.as_bytes());
        let rec = kept.record;
        match &rec.json {
            Some(json) => {
                match rec.ts {
                    Some(ts) => write_local_time(&self.zone, ts, out),
                    None => out.extend_from_slice(b"-                      "),
                }
                out.push(b' ');
                out.extend_from_slice(kept.level.label().as_bytes());
                out.push(b' ');
                if let Some(src) = json.src.and_then(|s| match s {
                    Scalar::Str { raw, .. } if raw != b"stdout" => Some(raw),
                    _ => None,
                }) {
                    out.push(b'[');
                    out.extend_from_slice(&String::from_utf8_lossy(src).into_owned().into_bytes());
                    out.extend_from_slice(b"] ");
                }
                let mut buf = Vec::new();
                match json.msg.as_ref().and_then(|m| m.text(&mut buf)) {
                    Some(msg) => write_lossy(crate::frame::trim_newline(msg), out),
                    None => write_lossy(rec.text, out),
                }
            }
            None => write_lossy(rec.text, out),
        }
        if !color.is_empty() {
            out.extend_from_slice(b"\x1b[0m");
        }
        out.push(b'\n');
    }
}

fn write_json(kept: &Kept<'_, '_>, out: &mut Vec<u8>) {
    let rec = kept.record;
    let mut num = itoa::Buffer::new();
    out.extend_from_slice(b"{\"ts\":");
    match rec.ts {
        Some(ts) => out.extend_from_slice(num.format(ts).as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"lvl\":\"");
    out.extend_from_slice(kept.level.as_str().as_bytes());
    out.extend_from_slice(b"\",\"pid\":");
    match rec.json.and_then(|j| j.pid) {
        Some(pid) => out.extend_from_slice(num.format(pid).as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"src\":");
    let mut buf = Vec::new();
    match rec.json.and_then(|j| j.src) {
        Some(src) => match src.text(&mut buf) {
            Some(text) => json_string(text, out),
            None => out.extend_from_slice(b"null"),
        },
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"msg\":");
    match rec.json.and_then(|j| j.msg) {
        Some(msg) => match msg.text(&mut buf) {
            Some(text) => json_string(crate::frame::trim_newline(text), out),
            None => json_string(rec.text, out),
        },
        None => json_string(kept.message, out),
    }
    out.extend_from_slice(b",\"file\":");
    json_string(kept.file.as_bytes(), out);
    out.extend_from_slice(b",\"line\":");
    match kept.line {
        Some(line) => out.extend_from_slice(num.format(line).as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    if let Some(pattern) = kept.pattern {
        let _ = write!(out, ",\"pattern\":\"{pattern}\"");
    }
    out.extend_from_slice(b"}\n");
}

fn json_string(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    escape_into(bytes, out);
    out.push(b'"');
}

/// Appends bytes, replacing invalid UTF-8 with U+FFFD and terminal control
/// characters (other than tab and newline) with visible escapes, so a log
/// line cannot drive the terminal.
pub fn write_lossy(bytes: &[u8], out: &mut Vec<u8>) {
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid().as_bytes();
        let mut start = 0;
        for (i, &b) in valid.iter().enumerate() {
            if (b < 0x20 && b != b'\t' && b != b'\n') || b == 0x7f {
                out.extend_from_slice(&valid[start..i]);
                if b == b'\r' && valid.get(i + 1) == Some(&b'\n') {
                    // CRLF: drop the CR.
                } else {
                    let _ = write!(out, "\\x{b:02x}");
                }
                start = i + 1;
            }
        }
        out.extend_from_slice(&valid[start..]);
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
}

pub fn color_of(level: Level) -> &'static str {
    match level {
        Level::Fatal => "\x1b[1;35m",
        Level::Error => "\x1b[31m",
        Level::Warn => "\x1b[33m",
        Level::Debug => "\x1b[2m",
        Level::Info => "",
    }
}

/// Appends `YYYY-MM-DD HH:MM:SS.mmm` in `zone`.
pub fn write_local_time(zone: &Zone, utc_ms: i64, out: &mut Vec<u8>) {
    let local = zone.utc_to_local(utc_ms);
    let days = local.div_euclid(86_400_000);
    let ms_of_day = local.rem_euclid(86_400_000);
    let (y, mo, d) = civil_from_days(days);
    let h = ms_of_day / 3_600_000;
    let mi = ms_of_day / 60_000 % 60;
    let s = ms_of_day / 1000 % 60;
    let ms = ms_of_day % 1000;
    let _ = write!(out, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{ms:03}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Layout;
    use crate::timestamp::TimeContext;

    fn render(data: &[u8], format: Format) -> String {
        let ctx = TimeContext::new(Zone::utc(), 0);
        let layout = Layout::sniff(data, &ctx);
        let rec = layout.read(data, 0, data.len(), &ctx);
        let printer = Printer {
            format,
            color: false,
            show_file: false,
            zone: Zone::utc(),
        };
        let mut out = Vec::new();
        let message = &rec.text[layout.message_start(&rec)..];
        printer.write(
            &Kept {
                record: &rec,
                level: Level::Error,
                file: "a.log",
                line: Some(3),
                message,
                pattern: None,
            },
            &mut out,
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_keeps_plain_lines_and_formats_json_records() {
        assert_eq!(
            render(b"2026-01-10T00:00:00Z ERROR x\n", Format::Text),
            "2026-01-10T00:00:00Z ERROR x\n"
        );
        let json = b"{\"ts\":1768003200123,\"lvl\":\"error\",\"msg\":\"boom\\nline2\",\"src\":\"stderr\"}\n";
        assert_eq!(
            render(json, Format::Text),
            "2026-01-10 00:00:00.123 ERROR [stderr] boom\nline2\n"
        );
    }

    #[test]
    fn json_has_the_structured_keys() {
        let out = render(b"2026-01-10T00:00:00Z ERROR bad \xff\n", Format::Json);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["ts"], 1_768_003_200_000i64);
        assert_eq!(v["lvl"], "error");
        assert_eq!(
            v["msg"], "bad \u{FFFD}",
            "the message follows the header columns"
        );
        assert_eq!(v["file"], "a.log");
        assert_eq!(v["line"], 3);
        assert!(v["pid"].is_null() && v["src"].is_null());
    }

    #[test]
    fn control_bytes_are_made_visible() {
        let mut out = Vec::new();
        write_lossy(b"a\x1b[31mb\r\nc\x00", &mut out);
        assert_eq!(out, b"a\\x1b[31mb\nc\\x00");
    }
}

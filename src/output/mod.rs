//! The printer: renders kept records as text for people or JSON lines for
//! programs. Results go to stdout, diagnostics to stderr, never mixed.
//!
//! Text mode prints plain-text records as they are in the file (all their
//! lines), and structured records (JSON, logfmt) as
//! `2026-01-10 00:00:00.123 ERROR [stderr] message key=value …` in local
//! time: the record's other fields follow the message. On a terminal,
//! records are coloured by level. JSON mode writes one object per record
//! with the structured format's keys — `ts` (Unix ms or null), `lvl`,
//! `pid`, `src`, `msg` — plus `file` and `line`, and for structured
//! records `fields`, an object of their other members.
//!
//! Colour codes in the input ([`crate::sgr`]) are left out of both; other
//! control characters are shown escaped in text.

use std::io::Write;

pub mod sink;
pub mod summary;

pub use sink::{Output, PrintSink, Rendered, ReportStyle};

use crate::analyze::patterns::PatternId;
use crate::frame::Record;
use crate::frame::json::{self, JsonRecord, Member, Scalar, escape_into, unescape};
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
    /// Plain text for people, without colour or file names.
    pub fn plain(zone: Zone) -> Printer {
        Printer {
            format: Format::Text,
            color: false,
            show_file: false,
            zone,
        }
    }

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
                if json.msg.is_some() {
                    write_text_fields(json, out);
                    write_lossy(trailing_lines(rec.text, json), out);
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
    match rec.json.and_then(|j| j.msg.map(|m| (j, m))) {
        Some((json, msg)) => match msg.text(&mut buf) {
            Some(text) => {
                let text = crate::frame::trim_newline(text);
                let trailing = trailing_lines(rec.text, &json);
                if trailing.is_empty() {
                    json_string(text, out);
                } else {
                    json_string(&[text, trailing].concat(), out);
                }
            }
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
    if let Some(json) = &rec.json
        && json.msg.is_some()
    {
        write_json_fields(json, out);
    }
    out.extend_from_slice(b"}\n");
}

/// The lines of a structured record after its body (lines that continue a
/// logfmt line), from their line end on; empty when there are none.
fn trailing_lines<'a>(text: &'a [u8], rec: &JsonRecord<'_>) -> &'a [u8] {
    let end = (rec.body.as_ptr() as usize)
        .checked_sub(text.as_ptr() as usize)
        .map_or(text.len(), |start| start + rec.body.len());
    match text.get(end..) {
        Some(rest) if !rest.trim_ascii().is_empty() => rest,
        _ => &[],
    }
}

/// Appends `bytes` as a JSON string, without colour codes.
fn json_string(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    escape_into(&crate::sgr::strip(bytes), out);
    out.push(b'"');
}

/// The key of a member: `parent.key` for members of a container.
fn member_key(member: &Member<'_>, out: &mut Vec<u8>) {
    if let Some(parent) = member.parent {
        out.extend_from_slice(parent);
        out.push(b'.');
    }
    if member.key_escaped {
        unescape(member.key, out);
    } else {
        out.extend_from_slice(member.key);
    }
}

/// Appends the other members of a structured record as ` key=value`, as
/// logfmt writes them: nested objects flattened to `key.inner=value`,
/// arrays as compact JSON, strings quoted when they hold a space, `=`, `"`
/// or nothing.
fn write_text_fields(rec: &JsonRecord<'_>, out: &mut Vec<u8>) {
    let mut key = Vec::new();
    json::for_each_field(rec, &mut |member| {
        key.clear();
        member_key(&member, &mut key);
        write_text_member(&mut key, member.value, out);
    });
}

fn write_text_member(key: &mut Vec<u8>, value: Scalar<'_>, out: &mut Vec<u8>) {
    if let Scalar::Other(raw) = value
        && raw.first() == Some(&b'{')
    {
        let len = key.len();
        json::for_each_member(raw, &mut |k, k_escaped, v| {
            key.truncate(len);
            key.push(b'.');
            if k_escaped {
                unescape(k, key);
            } else {
                key.extend_from_slice(k);
            }
            write_text_member(key, v, out);
        });
        key.truncate(len);
        return;
    }
    out.push(b' ');
    write_lossy(key, out);
    out.push(b'=');
    match value {
        Scalar::Str { .. } => {
            let mut buf = Vec::new();
            let text = value.text(&mut buf).unwrap_or_default();
            let text = crate::sgr::strip(text);
            let plain = !text.is_empty()
                && !text
                    .iter()
                    .any(|&b| b <= b' ' || matches!(b, b'"' | b'=' | 0x7f));
            if plain {
                write_lossy(&text, out);
            } else {
                json_string(&text, out);
            }
        }
        Scalar::Num(raw) => write_lossy(raw, out),
        Scalar::Other(_) => {
            let mut compact = Vec::new();
            write_json_value(value, &mut compact);
            write_lossy(&compact, out);
        }
    }
}

/// Appends `,"fields":{…}`: the other members of a structured record, with
/// their values as in the input (members of a container the record's
/// fields were read from as `container.key`). Nothing when there are none.
fn write_json_fields(rec: &JsonRecord<'_>, out: &mut Vec<u8>) {
    let mut first = true;
    let mut key = Vec::new();
    json::for_each_field(rec, &mut |member| {
        out.extend_from_slice(if first { b",\"fields\":{" } else { b"," });
        first = false;
        key.clear();
        member_key(&member, &mut key);
        json_string(&key, out);
        out.push(b':');
        write_json_value(member.value, out);
    });
    if !first {
        out.push(b'}');
    }
}

/// Appends a value as valid JSON: strings re-escaped (invalid UTF-8
/// replaced), numbers as written when they are JSON numbers (else as a
/// string), objects and arrays member by member.
fn write_json_value(value: Scalar<'_>, out: &mut Vec<u8>) {
    match value {
        Scalar::Str { .. } => {
            let mut buf = Vec::new();
            json_string(value.text(&mut buf).unwrap_or_default(), out);
        }
        Scalar::Num(raw) => {
            if serde_json::from_slice::<serde_json::Number>(raw).is_ok() {
                out.extend_from_slice(raw);
            } else {
                json_string(raw, out);
            }
        }
        Scalar::Other(raw) => match raw.first() {
            Some(b'{') => {
                out.push(b'{');
                let mut first = true;
                json::for_each_member(raw, &mut |k, k_escaped, v| {
                    if !std::mem::take(&mut first) {
                        out.push(b',');
                    }
                    let mut key = Vec::new();
                    if k_escaped {
                        unescape(k, &mut key);
                    } else {
                        key.extend_from_slice(k);
                    }
                    json_string(&key, out);
                    out.push(b':');
                    write_json_value(v, out);
                });
                out.push(b'}');
            }
            Some(b'[') => {
                out.push(b'[');
                let mut first = true;
                json::for_each_element(raw, &mut |v| {
                    if !std::mem::take(&mut first) {
                        out.push(b',');
                    }
                    write_json_value(v, out);
                });
                out.push(b']');
            }
            _ => out.extend_from_slice(raw),
        },
    }
}

/// Appends bytes, replacing invalid UTF-8 with U+FFFD, leaving out colour
/// codes, and showing other terminal control characters (besides tab and
/// newline) as visible escapes, so a log line cannot drive the terminal.
pub fn write_lossy(bytes: &[u8], out: &mut Vec<u8>) {
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid().as_bytes();
        let mut start = 0;
        let mut skip = 0;
        for (i, &b) in valid.iter().enumerate() {
            if i < skip {
                continue;
            }
            if (b < 0x20 && b != b'\t' && b != b'\n') || b == 0x7f {
                out.extend_from_slice(&valid[start..i]);
                let colour = if b == 0x1b {
                    crate::sgr::sequence_len(&valid[i..])
                } else {
                    0
                };
                if colour > 0 {
                    skip = i + colour;
                    start = skip;
                    continue;
                }
                if b == b'\r' && valid.get(i + 1) == Some(&b'\n') {
                    // CRLF: drop the CR.
                } else {
                    let _ = write!(out, "{}", crate::text::Escape(char::from(b)));
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
        write_lossy(b"a\x1b[31mb\x1b[0m\r\nc\x00\x1b]0;t\x07", &mut out);
        assert_eq!(out, b"ab\nc\\x00\\x1b]0;t\\x07");
    }
}

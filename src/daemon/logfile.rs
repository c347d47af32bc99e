//! Log files written by the daemon: the JSON line format, size-based
//! rotation, and the set of files one process writes to.
//!
//! # Record format
//!
//! The names and values below are defined once in [`crate::schema`], which
//! the readers use too. One JSON object per line, fields in this order:
//!
//! ```text
//! {"ts":1700000000123,"lvl":"info","pid":4242,"msg":"listening on :80","src":"stdout"}
//! ```
//!
//! - `ts`: Unix milliseconds when the daemon read the line;
//! - `lvl`: `debug` `info` `warn` `error` `fatal`, from
//!   [`Classifier::classify_line`](crate::classify::Classifier::classify_line)
//!   for output lines, chosen by the daemon for its own records;
//! - `pid`: the process's pid;
//! - `msg`: the line without its newline;
//! - `src`: `stdout`, `stderr`, or `velos` for the daemon's lifecycle records;
//! - `cont` (only when true): this record continues the previous record of
//!   the same `src` — the line was longer than [`MAX_LINE`] bytes and was
//!   split, or its beginning was written after 1 s of silence;
//! - `raw_b64` (only when the line is not valid UTF-8): the exact bytes in
//!   standard base64, while `msg` holds them decoded lossily (U+FFFD for
//!   each invalid sequence), so nothing printed is lost;
//! - `event` (lifecycle records only): `start`, `exit`, `restart`, `stop`,
//!   `kill`, `errored`, `spawn-failed`, `restore`. Counting `event:"restart"` counts
//!   restarts;
//! - `reason` (restarts the daemon decides on its own): `memory`, `cron`,
//!   `watch` (with `path`, the changed file) or `reload`.
//!
//! # Rotation
//!
//! When writing a record would take a file past its size limit, the file is
//! renamed `<file>.1` (after `.1` → `.2` … up to `keep`, the oldest dropped)
//! and a new one is begun; a record never straddles two files. With
//! `compress`, rotated files are then gzipped to `<file>.1.gz` … by
//! [`compress`](super::compress), which also applies `max_age`. Raw files
//! rotate at the last line end that fits, when there is one.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::home::{create_private, open_private};
use crate::level::Level;
use crate::schema::Event;
pub use crate::schema::Src;

/// Lines longer than this are split into records of at most this many bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// One record to encode.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Unix milliseconds.
    pub ts: u64,
    /// Level.
    pub lvl: Level,
    /// Pid of the process concerned.
    pub pid: u32,
    /// The message bytes (any bytes).
    pub msg: &'a [u8],
    /// Origin.
    pub src: Src,
    /// Continues the previous record of the same source.
    pub cont: bool,
    /// Lifecycle event.
    pub event: Option<Event>,
}

/// Appends `record` as one JSON line (with its newline) to `out`.
pub fn encode(out: &mut Vec<u8>, record: &Record<'_>) {
    out.extend_from_slice(b"{\"ts\":");
    push_u64(out, record.ts);
    out.extend_from_slice(b",\"lvl\":\"");
    out.extend_from_slice(record.lvl.as_str().as_bytes());
    out.extend_from_slice(b"\",\"pid\":");
    push_u64(out, u64::from(record.pid));
    out.extend_from_slice(b",\"msg\":\"");
    let valid = match std::str::from_utf8(record.msg) {
        Ok(text) => {
            push_escaped(out, text);
            true
        }
        Err(_) => {
            push_escaped(out, &String::from_utf8_lossy(record.msg));
            false
        }
    };
    out.extend_from_slice(b"\",\"src\":\"");
    out.extend_from_slice(record.src.as_str().as_bytes());
    out.push(b'"');
    if record.cont {
        out.extend_from_slice(b",\"cont\":true");
    }
    if !valid {
        out.extend_from_slice(b",\"raw_b64\":\"");
        push_base64(out, record.msg);
        out.push(b'"');
    }
    if let Some(event) = record.event {
        out.extend_from_slice(b",\"event\":\"");
        out.extend_from_slice(event.as_str().as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b"}\n");
}

/// Appends `record` like [`encode`], with extra string fields after the
/// others (`"reason":"memory"` on a lifecycle record).
pub fn encode_with_fields(out: &mut Vec<u8>, record: &Record<'_>, fields: &[(&str, &str)]) {
    encode(out, record);
    if fields.is_empty() {
        return;
    }
    out.truncate(out.len() - 2);
    for (key, value) in fields {
        out.extend_from_slice(b",\"");
        push_escaped(out, key);
        out.extend_from_slice(b"\":\"");
        push_escaped(out, value);
        out.push(b'"');
    }
    out.extend_from_slice(b"}\n");
}

fn push_u64(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Bytes that need escaping inside a JSON string.
const fn needs_escape_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table[0x7f] = true;
    table
}

static NEEDS_ESCAPE: [bool; 256] = needs_escape_table();

fn push_escaped(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        if !NEEDS_ESCAPE[byte as usize] {
            continue;
        }
        out.extend_from_slice(&bytes[start..at]);
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(byte >> 4) as usize]);
                out.push(HEX[(byte & 0xf) as usize]);
            }
        }
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

fn push_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(ALPHABET[(n >> 18) as usize & 63]);
        out.push(ALPHABET[(n >> 12) as usize & 63]);
        out.push(if chunk.len() > 1 {
            ALPHABET[(n >> 6) as usize & 63]
        } else {
            b'='
        });
        out.push(if chunk.len() > 2 {
            ALPHABET[n as usize & 63]
        } else {
            b'='
        });
    }
}

/// Size limit and number of rotated files kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Rotate before a file would exceed this many bytes.
    pub max_size: u64,
    /// Rotated files kept (`.1` … `.keep`); 0 keeps none.
    pub keep: u32,
    /// Gzip rotated files (`.1.gz` …), off the writing thread.
    pub compress: bool,
    /// Delete rotated files last written longer ago than this.
    pub max_age: Option<std::time::Duration>,
}

impl Default for Rotation {
    fn default() -> Self {
        Rotation {
            max_size: 10 * 1024 * 1024,
            keep: 5,
            compress: false,
            max_age: None,
        }
    }
}

impl Rotation {
    fn policy(&self) -> super::compress::Policy {
        super::compress::Policy {
            compress: self.compress,
            max_age: self.max_age,
        }
    }
}

/// An append-only file that rotates by size.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    out: BufWriter<File>,
    size: u64,
    rotation: Rotation,
}

/// Opens (creating) a log file for appending; links are not followed and
/// only a regular file of ours is used ([`open_private`]).
fn open_append(path: &Path) -> io::Result<File> {
    open_private(path, OpenOptions::new().create(true).append(true))
}

/// `<path>.<n>`.
pub fn rotated_path(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

impl RotatingFile {
    /// Opens (creating) `path` for appending.
    pub fn open(path: PathBuf, rotation: Rotation) -> io::Result<RotatingFile> {
        let file = open_append(&path)?;
        let size = file.metadata()?.len();
        super::compress::tend(&path, rotation.policy());
        Ok(RotatingFile {
            path,
            out: BufWriter::with_capacity(64 * 1024, file),
            size,
            rotation,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends whole records (each ending with a newline), rotating first if
    /// they would not fit.
    pub fn write_records(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.size > 0 && self.size + bytes.len() as u64 > self.rotation.max_size {
            self.rotate()?;
        }
        self.out.write_all(bytes)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// Appends bytes as printed. When they would not fit, writes up to the
    /// last line end that fits, rotates, and continues in the new file.
    pub fn write_raw(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let room = self.rotation.max_size.saturating_sub(self.size) as usize;
            if bytes.len() <= room {
                self.out.write_all(bytes)?;
                self.size += bytes.len() as u64;
                return Ok(());
            }
            let cut = memchr::memrchr(b'\n', &bytes[..room.min(bytes.len())])
                .map(|at| at + 1)
                .unwrap_or(if self.size == 0 { room.max(1) } else { 0 });
            self.out.write_all(&bytes[..cut])?;
            self.size += cut as u64;
            bytes = &bytes[cut..];
            self.rotate()?;
        }
        Ok(())
    }

    /// Flushes buffered bytes to the file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.out.flush()?;
        let keep = self.rotation.keep;
        if keep == 0 {
            self.out.get_ref().set_len(0)?;
            self.size = 0;
            return Ok(());
        }
        super::compress::shift(&self.path, keep)?;
        let fresh = create_private(&self.path, OpenOptions::new().append(true))?;
        self.out = BufWriter::with_capacity(64 * 1024, fresh);
        self.size = 0;
        super::compress::tend(&self.path, self.rotation.policy());
        Ok(())
    }

    /// Empties the file and removes its rotated files.
    pub fn truncate(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().set_len(0)?;
        self.size = 0;
        super::compress::remove_parts(&self.path)
    }
}

/// The files one process writes to: its JSON log, and with `--raw` the two
/// files of bytes as printed. Lifecycle records always go to the JSON log.
#[derive(Debug)]
pub struct ProcessLog {
    json: RotatingFile,
    raw: Option<(RotatingFile, RotatingFile)>,
    scratch: Vec<u8>,
}

impl ProcessLog {
    /// Opens the files.
    pub fn open(
        json: PathBuf,
        raw: Option<(PathBuf, PathBuf)>,
        rotation: Rotation,
    ) -> io::Result<ProcessLog> {
        let raw = match raw {
            Some((out, err)) => Some((
                RotatingFile::open(out, rotation)?,
                RotatingFile::open(err, rotation)?,
            )),
            None => None,
        };
        Ok(ProcessLog {
            json: RotatingFile::open(json, rotation)?,
            raw,
            scratch: Vec::with_capacity(64 * 1024),
        })
    }

    /// Whether output goes to the raw files.
    pub fn is_raw(&self) -> bool {
        self.raw.is_some()
    }

    /// Paths of the current files.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut paths = vec![self.json.path().to_path_buf()];
        if let Some((out, err)) = &self.raw {
            paths.push(out.path().to_path_buf());
            paths.push(err.path().to_path_buf());
        }
        paths
    }

    /// Encodes and appends output records (buffered: call [`flush`](Self::flush)).
    pub fn write(&mut self, records: &[Record<'_>]) -> io::Result<()> {
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut result = Ok(());
        for record in records {
            scratch.clear();
            encode(&mut scratch, record);
            if let Err(err) = self.json.write_records(&scratch) {
                result = Err(err);
                break;
            }
        }
        self.scratch = scratch;
        result
    }

    /// Appends one output record (buffered).
    pub fn write_one(&mut self, record: &Record<'_>) -> io::Result<()> {
        self.scratch.clear();
        encode(&mut self.scratch, record);
        self.json.write_records(&self.scratch)
    }

    /// Appends bytes as printed to the raw file of `src` (buffered).
    pub fn write_raw(&mut self, src: Src, bytes: &[u8]) -> io::Result<()> {
        match (&mut self.raw, src) {
            (Some((out, _)), Src::Stdout) => out.write_raw(bytes),
            (Some((_, err)), Src::Stderr) => err.write_raw(bytes),
            _ => Ok(()),
        }
    }

    /// Appends a lifecycle record and flushes.
    pub fn lifecycle(
        &mut self,
        ts: u64,
        lvl: Level,
        pid: u32,
        event: Event,
        msg: &str,
    ) -> io::Result<()> {
        self.write_one(&Record {
            ts,
            lvl,
            pid,
            msg: msg.as_bytes(),
            src: Src::Velos,
            cont: false,
            event: Some(event),
        })?;
        self.flush()
    }

    /// Appends a lifecycle record with extra fields (see
    /// [`encode_with_fields`]) and flushes.
    pub fn lifecycle_with(
        &mut self,
        ts: u64,
        lvl: Level,
        pid: u32,
        event: Event,
        msg: &str,
        fields: &[(&str, &str)],
    ) -> io::Result<()> {
        self.scratch.clear();
        encode_with_fields(
            &mut self.scratch,
            &Record {
                ts,
                lvl,
                pid,
                msg: msg.as_bytes(),
                src: Src::Velos,
                cont: false,
                event: Some(event),
            },
            fields,
        );
        self.json.write_records(&self.scratch)?;
        self.flush()
    }

    /// Flushes every file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.json.flush()?;
        if let Some((out, err)) = &mut self.raw {
            out.flush()?;
            err.flush()?;
        }
        Ok(())
    }

    /// Empties every file and removes the rotated ones.
    pub fn truncate(&mut self) -> io::Result<()> {
        self.json.truncate()?;
        if let Some((out, err)) = &mut self.raw {
            out.truncate()?;
            err.truncate()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn line(msg: &[u8], cont: bool) -> String {
        let mut out = Vec::new();
        encode(
            &mut out,
            &Record {
                ts: 17,
                lvl: Level::Warn,
                pid: 9,
                msg,
                src: Src::Stderr,
                cont,
                event: None,
            },
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn encodes_plain_and_escaped() {
        assert_eq!(
            line(b"a \"q\" \\ \t\x01 \xc3\xa9", false),
            "{\"ts\":17,\"lvl\":\"warn\",\"pid\":9,\"msg\":\"a \\\"q\\\" \\\\ \\t\\u0001 \u{e9}\",\"src\":\"stderr\"}\n"
        );
        let value: serde_json::Value = serde_json::from_str(&line(b"x\x7fy", true)).unwrap();
        assert_eq!(value["msg"], "x\u{7f}y");
        assert_eq!(value["cont"], true);
    }

    #[test]
    fn invalid_utf8_keeps_raw_bytes() {
        let text = line(b"ab\xffc\xfe", false);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["msg"], "ab\u{fffd}c\u{fffd}");
        assert_eq!(value["raw_b64"], "YWL/Y/4=");
    }

    #[test]
    fn extra_fields_follow_the_others() {
        let mut out = Vec::new();
        encode_with_fields(
            &mut out,
            &Record {
                ts: 1,
                lvl: Level::Warn,
                pid: 2,
                msg: b"m",
                src: Src::Velos,
                cont: false,
                event: Some(Event::Restart),
            },
            &[("reason", "watch"), ("path", "/a \"b\"")],
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"ts\":1,\"lvl\":\"warn\",\"pid\":2,\"msg\":\"m\",\"src\":\"velos\",\"event\":\"restart\",\"reason\":\"watch\",\"path\":\"/a \\\"b\\\"\"}\n"
        );
    }

    #[test]
    fn base64_padding() {
        for (input, expected) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
        ] {
            let mut out = Vec::new();
            push_base64(&mut out, input);
            assert_eq!(out, expected.as_bytes());
        }
    }

    #[test]
    fn rotates_and_keeps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let mut file = RotatingFile::open(
            path.clone(),
            Rotation {
                max_size: 10,
                keep: 2,
                ..Rotation::default()
            },
        )
        .unwrap();
        for n in 0..5 {
            file.write_records(format!("record{n}\n").as_bytes())
                .unwrap();
        }
        file.flush().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "record4\n");
        assert_eq!(
            fs::read_to_string(rotated_path(&path, 1)).unwrap(),
            "record3\n"
        );
        assert_eq!(
            fs::read_to_string(rotated_path(&path, 2)).unwrap(),
            "record2\n"
        );
        assert!(!rotated_path(&path, 3).exists());
        file.truncate().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "");
        assert!(!rotated_path(&path, 1).exists());
    }

    #[test]
    fn raw_rotation_cuts_at_line_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.log");
        let mut file = RotatingFile::open(
            path.clone(),
            Rotation {
                max_size: 8,
                keep: 3,
                ..Rotation::default()
            },
        )
        .unwrap();
        file.write_raw(b"abc\ndef\nghi\n").unwrap();
        file.flush().unwrap();
        assert_eq!(
            fs::read_to_string(rotated_path(&path, 1)).unwrap(),
            "abc\ndef\n"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "ghi\n");
    }

    #[test]
    fn records_follow_the_schema() {
        use crate::schema;
        let mut out = Vec::new();
        encode_with_fields(
            &mut out,
            &Record {
                ts: 1,
                lvl: Level::Warn,
                pid: 2,
                msg: b"\xff",
                src: Src::Velos,
                cont: true,
                event: Some(Event::Restart),
            },
            &[
                (schema::REASON, schema::Reason::Watch.as_str()),
                (schema::PATH, "/a"),
            ],
        );
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = vec![
            schema::TS,
            schema::LVL,
            schema::PID,
            schema::MSG,
            schema::SRC,
            schema::CONT,
            schema::RAW_B64,
            schema::EVENT,
            schema::REASON,
            schema::PATH,
        ];
        want.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, want);
        assert_eq!(value[schema::SRC], Src::Velos.as_str());
        assert_eq!(value[schema::EVENT], Event::Restart.as_str());
    }
}

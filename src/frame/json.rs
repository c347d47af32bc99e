//! A small, allocation-free reader for JSON-lines records.
//!
//! It walks the top level of one object and picks out the fields a log
//! record is made of — time (`ts`, `time`, `timestamp`, `@timestamp`), level
//! (`lvl`, `level`, `severity`), message (`msg`, `message`), `pid` and `src`
//! — skipping everything else without building values. Unlike a validating
//! parser it accepts invalid UTF-8 inside strings (shown lossily later), so a
//! log line is never rejected for its bytes; anything that is not a JSON
//! object yields `None` and the line is read as plain text.

/// A scalar JSON value as it appears in the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar<'a> {
    /// A string: its raw content between the quotes, and whether it holds
    /// escapes (then [`unescape`] gives the text).
    Str { raw: &'a [u8], escaped: bool },
    /// A number, as written.
    Num(&'a [u8]),
    /// `true`, `false`, `null`, an object or an array.
    Other,
}

impl<'a> Scalar<'a> {
    /// The text of a string value (unescaped into `buf` when needed), or the
    /// digits of a number.
    pub fn text<'b>(&'b self, buf: &'b mut Vec<u8>) -> Option<&'b [u8]> {
        match *self {
            Scalar::Str {
                raw,
                escaped: false,
            } => Some(raw),
            Scalar::Str { raw, escaped: true } => {
                buf.clear();
                unescape(raw, buf);
                Some(&buf[..])
            }
            Scalar::Num(n) => Some(n),
            Scalar::Other => None,
        }
    }

    /// The value as an integer, for numbers (and strings of digits).
    pub fn as_i64(&self) -> Option<i64> {
        let digits = match *self {
            Scalar::Num(n) => n,
            Scalar::Str {
                raw,
                escaped: false,
            } => raw,
            _ => return None,
        };
        std::str::from_utf8(digits).ok()?.parse().ok()
    }
}

/// The log fields of one JSON object line. Besides velos's own keys it
/// reads the common variants: `time`/`timestamp`/`@timestamp` (Serilog
/// `@t`), `level`/`severity`/`levelname`/`log.level` (`@l`),
/// `message`/`log` (Docker)/`@m`, `stream` for the source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonRecord<'a> {
    /// Time field.
    pub ts: Option<Scalar<'a>>,
    /// Level field.
    pub level: Option<Scalar<'a>>,
    /// Message field.
    pub msg: Option<Scalar<'a>>,
    /// Process id.
    pub pid: Option<i64>,
    /// Stream or source (`stdout`, `stderr`, `velos`).
    pub src: Option<Scalar<'a>>,
    /// Lifecycle event of supervisor records (`start`, `exit`, `restart`…).
    pub event: Option<Scalar<'a>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Ts,
    Level,
    Msg,
    Pid,
    Src,
    Event,
}

/// Which field a key names; the first-listed spelling of a field wins when
/// a line holds several (`ts` over `time`).
fn field_of(key: &[u8]) -> Option<(Field, u8)> {
    Some(match key {
        b"ts" => (Field::Ts, 0),
        b"time" => (Field::Ts, 1),
        b"timestamp" => (Field::Ts, 2),
        b"@timestamp" => (Field::Ts, 3),
        b"@t" => (Field::Ts, 4),
        b"lvl" => (Field::Level, 0),
        b"level" => (Field::Level, 1),
        b"severity" => (Field::Level, 2),
        b"levelname" => (Field::Level, 3),
        b"log.level" => (Field::Level, 4),
        b"@l" => (Field::Level, 5),
        b"msg" => (Field::Msg, 0),
        b"message" => (Field::Msg, 1),
        // Docker's json-file driver.
        b"log" => (Field::Msg, 2),
        b"@m" => (Field::Msg, 3),
        b"@mt" => (Field::Msg, 4),
        b"pid" => (Field::Pid, 0),
        b"src" => (Field::Src, 0),
        b"stream" => (Field::Src, 1),
        b"event" => (Field::Event, 0),
        _ => return None,
    })
}

/// Reads a JSON object line. `None` unless the line (less surrounding
/// whitespace) is one well-formed object at the top level.
pub fn parse(line: &[u8]) -> Option<JsonRecord<'_>> {
    let mut p = Parser { s: line, i: 0 };
    p.ws();
    if !p.eat(b'{') {
        return None;
    }
    let mut rec = JsonRecord::default();
    let mut rank = [u8::MAX; 6];
    p.ws();
    if p.eat(b'}') {
        return p.end().then_some(rec);
    }
    loop {
        p.ws();
        let (key, key_escaped) = p.string()?;
        p.ws();
        if !p.eat(b':') {
            return None;
        }
        p.ws();
        let value = p.value()?;
        if !key_escaped && let Some((field, r)) = field_of(key) {
            let slot = &mut rank[field as usize];
            if r < *slot {
                *slot = r;
                match field {
                    Field::Ts => rec.ts = Some(value),
                    Field::Level => rec.level = Some(value),
                    Field::Msg => rec.msg = Some(value),
                    Field::Pid => rec.pid = value.as_i64(),
                    Field::Src => rec.src = Some(value),
                    Field::Event => rec.event = Some(value),
                }
            }
        }
        p.ws();
        if p.eat(b',') {
            continue;
        }
        if p.eat(b'}') {
            return p.end().then_some(rec);
        }
        return None;
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    #[inline]
    fn eat(&mut self, b: u8) -> bool {
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn end(&mut self) -> bool {
        self.ws();
        self.i == self.s.len()
    }

    /// A string at the cursor: (raw content, has escapes).
    fn string(&mut self) -> Option<(&'a [u8], bool)> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.i;
        let mut escaped = false;
        loop {
            let rel = memchr::memchr2(b'"', b'\\', &self.s[self.i..])?;
            self.i += rel;
            if self.s[self.i] == b'"' {
                let raw = &self.s[start..self.i];
                self.i += 1;
                return Some((raw, escaped));
            }
            escaped = true;
            self.i += 2;
            if self.i > self.s.len() {
                return None;
            }
        }
    }

    fn value(&mut self) -> Option<Scalar<'a>> {
        match *self.s.get(self.i)? {
            b'"' => {
                let (raw, escaped) = self.string()?;
                Some(Scalar::Str { raw, escaped })
            }
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.s.get(self.i)
                {
                    self.i += 1;
                }
                Some(Scalar::Num(&self.s[start..self.i]))
            }
            b'{' | b'[' => {
                self.skip_nested()?;
                Some(Scalar::Other)
            }
            _ => {
                for word in [&b"true"[..], b"false", b"null"] {
                    if self.s[self.i..].starts_with(word) {
                        self.i += word.len();
                        return Some(Scalar::Other);
                    }
                }
                None
            }
        }
    }

    /// Skips a nested object or array, minding strings.
    fn skip_nested(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match *self.s.get(self.i)? {
                b'{' | b'[' => {
                    depth += 1;
                    self.i += 1;
                }
                b'}' | b']' => {
                    depth -= 1;
                    self.i += 1;
                    if depth == 0 {
                        return Some(());
                    }
                }
                b'"' => {
                    self.string()?;
                }
                _ => self.i += 1,
            }
        }
    }
}

/// Appends the unescaped text of a JSON string's raw content. Invalid
/// escapes are kept as written; lone surrogates become U+FFFD.
pub fn unescape(raw: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(rel) = memchr::memchr(b'\\', &raw[i..]) {
        out.extend_from_slice(&raw[i..i + rel]);
        i += rel;
        let Some(&esc) = raw.get(i + 1) else {
            out.push(b'\\');
            return;
        };
        i += 2;
        match esc {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'"' | b'\\' | b'/' => out.push(esc),
            b'u' => {
                let Some(unit) = hex4(raw, i) else {
                    out.extend_from_slice(b"\\u");
                    continue;
                };
                i += 4;
                let ch = if (0xD800..0xDC00).contains(&unit) {
                    match (raw.get(i..i + 2), hex4(raw, i + 2)) {
                        (Some(b"\\u"), Some(low)) if (0xDC00..0xE000).contains(&low) => {
                            i += 6;
                            char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                        }
                        _ => None,
                    }
                } else {
                    char::from_u32(unit)
                };
                let ch = ch.unwrap_or(char::REPLACEMENT_CHARACTER);
                let mut utf8 = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    out.extend_from_slice(&raw[i..]);
}

fn hex4(s: &[u8], i: usize) -> Option<u32> {
    let h = s.get(i..i + 4)?;
    let mut v = 0;
    for &b in h {
        v = v * 16 + (b as char).to_digit(16)?;
    }
    Some(v)
}

/// Appends `bytes` as the content of a JSON string (no quotes): UTF-8 kept,
/// invalid UTF-8 replaced by U+FFFD, control characters and `"` `\` escaped.
pub fn escape_into(bytes: &[u8], out: &mut Vec<u8>) {
    for chunk in bytes.utf8_chunks() {
        escape_str(chunk.valid(), out);
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
}

fn escape_str(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f | 0x7f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_structured_format_and_variants() {
        let rec = parse(
            br#"{"ts":1700000000123,"lvl":"info","pid":42,"msg":"hi \"there\"","src":"stdout"}"#,
        )
        .unwrap();
        assert_eq!(rec.ts, Some(Scalar::Num(b"1700000000123")));
        assert_eq!(rec.pid, Some(42));
        let mut buf = Vec::new();
        let msg = rec.msg.unwrap();
        assert_eq!(msg.text(&mut buf).unwrap(), b"hi \"there\"");
        let rec = parse(br#" {"@timestamp":"2026-02-12T10:00:00Z","severity":"WARN","message":"x","extra":{"a":[1,"}"]}} "#).unwrap();
        assert!(matches!(rec.ts, Some(Scalar::Str { .. })));
        assert!(matches!(rec.level, Some(Scalar::Str { raw: b"WARN", .. })));
        let rec = parse(br#"{"time":1,"ts":2}"#).unwrap();
        assert_eq!(rec.ts, Some(Scalar::Num(b"2")));
    }

    #[test]
    fn rejects_what_is_not_one_object() {
        for line in [
            &b""[..],
            b"{",
            b"{\"a\"}",
            b"[1]",
            b"{\"a\":1} x",
            b"{\"a\":tru}",
            b"plain text",
            b"{\"a\":\"\\",
        ] {
            assert_eq!(parse(line), None, "{:?}", String::from_utf8_lossy(line));
        }
        assert!(parse(b"{\"m\":\"\xff\xfe\"}").is_some());
    }

    #[test]
    fn unescapes_surrogates_and_keeps_bad_escapes() {
        let mut out = Vec::new();
        unescape(br"a\n\u00e9\ud83d\ude00\q\ud800x", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "a\né😀\\q\u{FFFD}x");
    }

    proptest! {
        #[test]
        fn escape_then_unescape_round_trips(s in "\\PC*|[\\x00-\\x1f\"\\\\]*") {
            let mut esc = Vec::new();
            escape_into(s.as_bytes(), &mut esc);
            let line = [&b"{\"msg\":\""[..], &esc, b"\"}"].concat();
            let rec = parse(&line).unwrap();
            let mut buf = Vec::new();
            let msg = rec.msg.unwrap();
            prop_assert_eq!(msg.text(&mut buf).unwrap(), s.as_bytes());
            // And serde_json agrees the line is valid.
            prop_assert!(serde_json::from_slice::<serde_json::Value>(&line).is_ok());
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse(&bytes);
            let mut out = Vec::new();
            unescape(&bytes, &mut out);
        }
    }
}

//! A small, allocation-free reader for structured records: JSON objects
//! (one per line, or pretty-printed over several lines).
//!
//! It walks the top level of one object and picks out the fields a log
//! record is made of — time, level, message, `pid` and source — skipping
//! everything else without building values. It knows the keys of the
//! common producers: velos's own (`ts`, `lvl`, `msg`, `pid`, `src`),
//! `time`/`timestamp`/`@timestamp`, Serilog (`@t`, `@l`, `@m`), Docker
//! (`log`, `stream`), ECS (`log.level`), journald (`journalctl -o json`:
//! `__REALTIME_TIMESTAMP`, `PRIORITY`, `MESSAGE`, `_PID`,
//! `SYSLOG_IDENTIFIER`), MongoDB (`t.$date`, `s`, `c`, `msg`), log4j2's
//! `JsonLayout` (`instant.epochSecond` + `nanoOfSecond`, `timeMillis`) and
//! nested messages (`fields.message` of Rust's tracing, `@fields.*` of
//! Logstash). The other members are not lost: [`for_each_field`] walks
//! them again when they are printed.
//!
//! Unlike a validating parser it accepts invalid UTF-8 inside strings
//! (shown lossily later), so a log line is never rejected for its bytes;
//! anything that is not a JSON object yields `None` and the line is read as
//! plain text.

/// A scalar JSON value as it appears in the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar<'a> {
    /// A string: its raw content between the quotes, and whether it holds
    /// escapes (then [`unescape`] gives the text).
    Str { raw: &'a [u8], escaped: bool },
    /// A number, as written.
    Num(&'a [u8]),
    /// `true`, `false`, `null`, an object or an array, as written.
    Other(&'a [u8]),
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
            Scalar::Other(_) => None,
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

    /// The bytes of the value as written (a string without its quotes).
    pub fn raw(&self) -> &'a [u8] {
        match *self {
            Scalar::Str { raw, .. } | Scalar::Num(raw) | Scalar::Other(raw) => raw,
        }
    }

    /// Whether two values are the same bytes of the same line.
    fn same(&self, other: &Scalar<'_>) -> bool {
        let (a, b) = (self.raw(), other.raw());
        a.as_ptr() == b.as_ptr() && a.len() == b.len()
    }
}

/// How a record's level value is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LevelKind {
    /// A level name (`"warn"`) or a pino/bunyan number (`40`).
    #[default]
    Name,
    /// A syslog priority, `0` (emerg) to `7` (debug), as journald writes it.
    Priority,
    /// One of MongoDB's letters: `F`, `E`, `W`, `I`, `D`, `D1`–`D5`.
    Letter,
}

/// How a structured record is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Syntax {
    /// A JSON object.
    #[default]
    Json,
    /// A logfmt line: `key=value key="quoted value"`.
    Logfmt,
}

/// The log fields of one structured record (a JSON object or a logfmt
/// line). Besides velos's own keys it reads the common variants listed in
/// the module documentation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonRecord<'a> {
    /// Time field.
    pub ts: Option<Scalar<'a>>,
    /// Nanoseconds within the second of `ts` (log4j2's
    /// `instant.nanoOfSecond`), when the time is split in two.
    pub ts_nanos: Option<Scalar<'a>>,
    /// Level field.
    pub level: Option<Scalar<'a>>,
    /// How the level is written.
    pub level_kind: LevelKind,
    /// Message field.
    pub msg: Option<Scalar<'a>>,
    /// Process id.
    pub pid: Option<i64>,
    /// The value the process id was read from.
    pub pid_value: Option<Scalar<'a>>,
    /// Stream or source (`stdout`, `stderr`, `velos`, a journald
    /// identifier, a MongoDB component).
    pub src: Option<Scalar<'a>>,
    /// Lifecycle event of supervisor records (`start`, `exit`, `restart`…).
    pub event: Option<Scalar<'a>>,
    /// JSON or logfmt.
    pub syntax: Syntax,
    /// The record's source bytes (the object, or the logfmt line).
    pub body: &'a [u8],
}

impl<'a> JsonRecord<'a> {
    /// Whether `value` is one the record's fields were read from (the
    /// supervisor's `event` included).
    pub fn uses(&self, value: &Scalar<'_>) -> bool {
        [
            self.ts,
            self.ts_nanos,
            self.level,
            self.msg,
            self.pid_value,
            self.src,
            self.event,
        ]
        .iter()
        .flatten()
        .any(|used| used.same(value))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Ts,
    Level,
    Msg,
    Pid,
    Src,
    Event,
    TsNanos,
    MongoLevel,
    MongoComponent,
}

/// Objects whose members are read as the record's fields.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Container {
    Top,
    /// `fields` (tracing), `@fields` (Logstash).
    Fields,
    /// MongoDB's `t`: `{"$date": …}`.
    MongoTime,
    /// log4j2's `instant`: `{"epochSecond": …, "nanoOfSecond": …}`.
    Instant,
    /// ECS `log`: `{"level": …}`.
    Log,
}

fn container_of(key: &[u8]) -> Option<Container> {
    Some(match key {
        b"fields" | b"@fields" => Container::Fields,
        b"t" => Container::MongoTime,
        b"instant" => Container::Instant,
        b"log" => Container::Log,
        _ => return None,
    })
}

/// Which field a key names, and its rank: the lowest-ranked spelling of a
/// field wins when a record holds several (`ts` over `time`, a top-level
/// message over a nested one).
fn field_of(container: Container, key: &[u8]) -> Option<(Field, u8, LevelKind)> {
    let name = LevelKind::Name;
    Some(match container {
        Container::Top => match key {
            b"ts" => (Field::Ts, 0, name),
            b"time" => (Field::Ts, 1, name),
            b"timestamp" => (Field::Ts, 2, name),
            b"@timestamp" => (Field::Ts, 3, name),
            b"@t" => (Field::Ts, 4, name),
            b"__REALTIME_TIMESTAMP" => (Field::Ts, 5, name),
            b"timeMillis" => (Field::Ts, 6, name),
            // OpenTelemetry's log data model, as collectors write it.
            b"timeUnixNano" | b"time_unix_nano" | b"timestamp_ns" => (Field::Ts, 7, name),
            b"observedTimeUnixNano" | b"observed_time_unix_nano" => (Field::Ts, 8, name),
            b"severityText" | b"severity_text" => (Field::Level, 7, name),
            b"lvl" => (Field::Level, 0, name),
            b"level" => (Field::Level, 1, name),
            b"severity" => (Field::Level, 2, name),
            b"levelname" => (Field::Level, 3, name),
            b"log.level" => (Field::Level, 4, name),
            b"@l" => (Field::Level, 5, name),
            b"PRIORITY" => (Field::Level, 6, LevelKind::Priority),
            b"msg" => (Field::Msg, 0, name),
            b"message" => (Field::Msg, 1, name),
            // Docker's json-file driver.
            b"log" => (Field::Msg, 2, name),
            b"@m" => (Field::Msg, 3, name),
            b"@mt" => (Field::Msg, 4, name),
            b"MESSAGE" => (Field::Msg, 5, name),
            b"@message" => (Field::Msg, 6, name),
            b"body" => (Field::Msg, 7, name),
            b"pid" => (Field::Pid, 0, name),
            b"_PID" => (Field::Pid, 1, name),
            b"src" => (Field::Src, 0, name),
            b"stream" => (Field::Src, 1, name),
            b"SYSLOG_IDENTIFIER" => (Field::Src, 2, name),
            b"event" => (Field::Event, 0, name),
            b"s" => (Field::MongoLevel, 0, LevelKind::Letter),
            b"c" => (Field::MongoComponent, 0, name),
            _ => return None,
        },
        Container::Fields => match key {
            b"message" => (Field::Msg, 10, name),
            b"msg" => (Field::Msg, 11, name),
            b"level" => (Field::Level, 10, name),
            _ => return None,
        },
        Container::MongoTime => match key {
            b"$date" => (Field::Ts, 10, name),
            _ => return None,
        },
        Container::Instant => match key {
            b"epochSecond" => (Field::Ts, 11, name),
            b"nanoOfSecond" => (Field::TsNanos, 0, name),
            _ => return None,
        },
        Container::Log => match key {
            b"level" => (Field::Level, 4, name),
            _ => return None,
        },
    })
}

/// The rank of a time found under a key named like one, below every
/// known spelling.
const FALLBACK_TIME_RANK: u8 = 100;

/// Whether a key is named like a time: it ends (in any case) with
/// `timestamp`, `time`, `_at` or `date`.
fn is_time_like_key(key: &[u8]) -> bool {
    let ends_with = |suffix: &[u8]| {
        key.len() >= suffix.len() && key[key.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    ends_with(b"time") || ends_with(b"timestamp") || ends_with(b"_at") || ends_with(b"date")
}

/// Unix ms in 2000..2100: what a time named only by its key must hold, so
/// that a duration (`"response_time": 0.12`) is not read as one.
const PLAUSIBLE_MS: std::ops::Range<i64> = 946_684_800_000..4_102_444_800_000;

/// Whether a value can be a time: an epoch (number or digit string, s to
/// ns by magnitude) in [`PLAUSIBLE_MS`], or a string opening with a
/// `yyyy-` date.
fn is_plausible_time(value: Scalar<'_>) -> bool {
    match value {
        Scalar::Num(n) => epoch_number(n).is_some_and(|ms| PLAUSIBLE_MS.contains(&ms)),
        Scalar::Str { raw, .. } if raw.iter().all(u8::is_ascii_digit) => {
            epoch_number(raw).is_some_and(|ms| PLAUSIBLE_MS.contains(&ms))
        }
        Scalar::Str { raw, .. } => {
            raw.len() >= 10 && raw[..4].iter().all(u8::is_ascii_digit) && raw[4] == b'-'
        }
        Scalar::Other(_) => false,
    }
}

/// Unix ms of an epoch written in seconds, ms, µs or ns (told by
/// magnitude), with an optional fraction.
pub(crate) fn epoch_number(n: &[u8]) -> Option<i64> {
    let v: f64 = std::str::from_utf8(n).ok()?.parse().ok()?;
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    let ms = if v < 1e11 {
        v * 1e3
    } else if v < 1e14 {
        v
    } else if v < 1e17 {
        v / 1e3
    } else {
        v / 1e6
    };
    Some(ms.round() as i64)
}

/// Fields found while reading, before the record is put together.
struct Found<'a> {
    rec: JsonRecord<'a>,
    rank: [u8; 9],
    mongo_time: bool,
    mongo_level: Option<Scalar<'a>>,
    mongo_component: Option<Scalar<'a>>,
}

impl<'a> Found<'a> {
    fn new() -> Found<'a> {
        Found {
            rec: JsonRecord::default(),
            rank: [u8::MAX; 9],
            mongo_time: false,
            mongo_level: None,
            mongo_component: None,
        }
    }

    fn offer(&mut self, container: Container, key: &[u8], value: Scalar<'a>) {
        let Some((field, rank, kind)) = field_of(container, key).or_else(|| {
            // Without a time under a known key, a member named like one
            // (`EdgeStartTimestamp`, `started_at`, `eventTime`) holding a
            // plausible time.
            (container == Container::Top
                && self.rank[Field::Ts as usize] == u8::MAX
                && is_time_like_key(key)
                && is_plausible_time(value))
            .then_some((Field::Ts, FALLBACK_TIME_RANK, LevelKind::Name))
        }) else {
            return;
        };
        let slot = &mut self.rank[field as usize];
        if rank >= *slot {
            return;
        }
        *slot = rank;
        let rec = &mut self.rec;
        match field {
            Field::Ts => {
                rec.ts = Some(value);
                self.mongo_time = container == Container::MongoTime;
            }
            Field::TsNanos => rec.ts_nanos = Some(value),
            Field::Level => {
                rec.level = Some(value);
                rec.level_kind = kind;
            }
            Field::Msg => rec.msg = Some(value),
            Field::Pid => {
                rec.pid = value.as_i64();
                rec.pid_value = rec.pid.map(|_| value);
            }
            Field::Src => rec.src = Some(value),
            Field::Event => rec.event = Some(value),
            Field::MongoLevel => self.mongo_level = Some(value),
            Field::MongoComponent => self.mongo_component = Some(value),
        }
    }

    /// The record: MongoDB's one-letter `s` and component `c` count only in
    /// a record whose time is MongoDB's `t.$date`; a split time counts only
    /// with its seconds.
    fn finish(mut self, body: &'a [u8], syntax: Syntax) -> JsonRecord<'a> {
        let rec = &mut self.rec;
        if self.mongo_time {
            if rec.level.is_none() {
                rec.level = self.mongo_level;
                rec.level_kind = LevelKind::Letter;
            }
            if rec.src.is_none() {
                rec.src = self.mongo_component;
            }
        }
        if self.rank[Field::Ts as usize] != 11 {
            rec.ts_nanos = None;
        }
        rec.body = body;
        rec.syntax = syntax;
        self.rec
    }
}

/// Reads a JSON object. `None` unless `text` (less surrounding whitespace)
/// is one well-formed object at the top level; it may span lines.
pub fn parse(text: &[u8]) -> Option<JsonRecord<'_>> {
    let mut p = Parser { s: text, i: 0 };
    p.ws();
    let start = p.i;
    let mut found = Found::new();
    p.object(Container::Top, &mut found)?;
    let body = &text[start..p.i];
    p.end().then(|| found.finish(body, Syntax::Json))
}

/// Reads the JSON object at the start of `text` (after whitespace) and
/// returns it with the offset just past its closing brace; the bytes after
/// it are not looked at.
pub fn parse_prefix(text: &[u8]) -> Option<(JsonRecord<'_>, usize)> {
    let mut p = Parser { s: text, i: 0 };
    p.ws();
    let start = p.i;
    let mut found = Found::new();
    p.object(Container::Top, &mut found)?;
    Some((found.finish(&text[start..p.i], Syntax::Json), p.i))
}

/// One member of a structured record that is not one of its log fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member<'a> {
    /// The object it sits in, for members of a container the record's
    /// fields were read from (`fields`, `@fields`, `t`, `instant`, `log`).
    pub parent: Option<&'a [u8]>,
    /// Its key, raw (as written between the quotes).
    pub key: &'a [u8],
    /// Whether the key holds escapes.
    pub key_escaped: bool,
    /// Its value.
    pub value: Scalar<'a>,
}

/// Calls `f` with every member of the record other than the fields it was
/// read from, in the order they are written.
pub fn for_each_field<'a>(rec: &JsonRecord<'a>, f: &mut dyn FnMut(Member<'a>)) {
    match rec.syntax {
        Syntax::Json => {
            let mut p = Parser { s: rec.body, i: 0 };
            let _ = p.members(&mut |key, key_escaped, value| {
                if rec.uses(&value) {
                    return;
                }
                if let Scalar::Other(raw) = value
                    && raw.first() == Some(&b'{')
                    && container_of(key).is_some()
                    && !key_escaped
                {
                    let mut inner = Parser { s: raw, i: 0 };
                    let _ = inner.members(&mut |k, k_escaped, v| {
                        if !rec.uses(&v) {
                            f(Member {
                                parent: Some(key),
                                key: k,
                                key_escaped: k_escaped,
                                value: v,
                            });
                        }
                    });
                    return;
                }
                f(Member {
                    parent: None,
                    key,
                    key_escaped,
                    value,
                });
            });
        }
        Syntax::Logfmt => super::logfmt::for_each_pair(rec.body, &mut |key, value| {
            if !rec.uses(&value) {
                f(Member {
                    parent: None,
                    key,
                    key_escaped: false,
                    value,
                });
            }
        }),
    }
}

/// Calls `f` with each member of the JSON object `raw` (written as in the
/// input), for nested values.
pub fn for_each_member<'a>(raw: &'a [u8], f: &mut dyn FnMut(&'a [u8], bool, Scalar<'a>)) {
    let mut p = Parser { s: raw, i: 0 };
    let _ = p.members(f);
}

/// Calls `f` with each element of the JSON array `raw`.
pub fn for_each_element<'a>(raw: &'a [u8], f: &mut dyn FnMut(Scalar<'a>)) {
    let mut p = Parser { s: raw, i: 0 };
    let _ = p.elements(f);
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

    /// The object at the cursor, its fields offered to `found`; the
    /// members of known containers are read one level down.
    fn object(&mut self, container: Container, found: &mut Found<'a>) -> Option<()> {
        if !self.eat(b'{') {
            return None;
        }
        self.ws();
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            self.ws();
            let (key, key_escaped) = self.string()?;
            self.ws();
            if !self.eat(b':') {
                return None;
            }
            self.ws();
            let nested = match (container, key_escaped, self.s.get(self.i)) {
                (Container::Top, false, Some(b'{')) => container_of(key),
                _ => None,
            };
            match nested {
                Some(inner) => self.object(inner, found)?,
                None => {
                    let value = self.value()?;
                    if !key_escaped {
                        found.offer(container, key, value);
                    }
                }
            }
            self.ws();
            if self.eat(b',') {
                continue;
            }
            if self.eat(b'}') {
                return Some(());
            }
            return None;
        }
    }

    /// The members of the object at the cursor, handed to `f`.
    fn members(&mut self, f: &mut dyn FnMut(&'a [u8], bool, Scalar<'a>)) -> Option<()> {
        self.ws();
        if !self.eat(b'{') {
            return None;
        }
        self.ws();
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            self.ws();
            let (key, key_escaped) = self.string()?;
            self.ws();
            if !self.eat(b':') {
                return None;
            }
            self.ws();
            f(key, key_escaped, self.value()?);
            self.ws();
            if self.eat(b',') {
                continue;
            }
            return self.eat(b'}').then_some(());
        }
    }

    /// The elements of the array at the cursor, handed to `f`.
    fn elements(&mut self, f: &mut dyn FnMut(Scalar<'a>)) -> Option<()> {
        self.ws();
        if !self.eat(b'[') {
            return None;
        }
        self.ws();
        if self.eat(b']') {
            return Some(());
        }
        loop {
            self.ws();
            f(self.value()?);
            self.ws();
            if self.eat(b',') {
                continue;
            }
            return self.eat(b']').then_some(());
        }
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
        let start = self.i;
        match *self.s.get(self.i)? {
            b'"' => {
                let (raw, escaped) = self.string()?;
                Some(Scalar::Str { raw, escaped })
            }
            b'-' | b'0'..=b'9' => {
                while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.s.get(self.i)
                {
                    self.i += 1;
                }
                Some(Scalar::Num(&self.s[start..self.i]))
            }
            b'{' | b'[' => {
                self.skip_nested()?;
                Some(Scalar::Other(&self.s[start..self.i]))
            }
            _ => {
                for word in [&b"true"[..], b"false", b"null"] {
                    if self.s[self.i..].starts_with(word) {
                        self.i += word.len();
                        return Some(Scalar::Other(&self.s[start..self.i]));
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

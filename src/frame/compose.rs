//! Output of several services interleaved line by line behind a name
//! column, as `docker compose logs` and `docker compose up` print it:
//!
//! ```text
//! web-1  | 2024-05-01T10:00:00.123Z INFO started
//! db-1   | some untimed line
//! ```
//!
//! The service's name (padded, then ` | `, possibly coloured) is the
//! record's origin; the rest of the line is that service's own line, read
//! with a [`Layout`] learned from that service's lines alone — its own
//! timestamps, levels and multi-line rules. A line continues only an entry
//! of its own service, so one service's untimed lines never join another's
//! entry.
//!
//! A file is read this way when most of its sampled lines carry such a
//! prefix and no prefix names a level (`INFO   | jvm 1 | …` is a header
//! column, not a service).

use super::{Layout, Record, prev_line, trim_newline};
use crate::classify::HeaderStyle;
use crate::level::Level;
use crate::sgr;
use crate::timestamp::TimeContext;

/// Services learned with a layout of their own, at most; later ones share
/// the layout learned from every service's lines.
const MAX_SERVICES: usize = 64;
/// How far into a line the name column's `|` may be (colour codes and
/// padding included).
const MAX_PREFIX: usize = 96;

/// The name column at the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix<'a> {
    /// The service's name.
    pub name: &'a [u8],
    /// Where the service's own line starts.
    pub body: usize,
}

/// The name column at the start of `line` (which may run past its end):
/// colour codes, a name of letters, digits, `_`, `.` and `-`, at least one
/// space of padding, `|`, colour codes, then one space (or the line end).
#[inline]
pub fn prefix(line: &[u8]) -> Option<Prefix<'_>> {
    // Most lines have no `|` near their start: one search turns them away.
    memchr::memchr(b'|', &line[..line.len().min(MAX_PREFIX)])?;
    let mut i = skip_sgr(line, 0);
    let name_start = i;
    if !line.get(i)?.is_ascii_alphanumeric() {
        return None;
    }
    while line
        .get(i)
        .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        i += 1;
    }
    let name = &line[name_start..i];
    let pad = line[i..].iter().take_while(|&&b| b == b' ').count();
    if pad == 0 || line.get(i + pad) != Some(&b'|') {
        return None;
    }
    let i = skip_sgr(line, i + pad + 1);
    match line.get(i) {
        Some(b' ') => Some(Prefix { name, body: i + 1 }),
        None | Some(b'\n' | b'\r') => Some(Prefix { name, body: i }),
        _ => None,
    }
}

/// A record's message without the name column of its continuation lines
/// (the lines after the first that carry `name`'s prefix).
pub fn without_prefixes<'a>(message: &'a [u8], name: &[u8]) -> std::borrow::Cow<'a, [u8]> {
    if memchr::memchr(b'\n', message).is_none() {
        return std::borrow::Cow::Borrowed(message);
    }
    let mut out = Vec::with_capacity(message.len());
    for (k, line) in message.split(|&b| b == b'\n').enumerate() {
        if k > 0 {
            out.push(b'\n');
        }
        match prefix(line) {
            Some(p) if k > 0 && p.name == name => out.extend_from_slice(&line[p.body..]),
            _ => out.extend_from_slice(line),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The index after the colour codes at `i`.
#[inline]
fn skip_sgr(line: &[u8], mut i: usize) -> usize {
    while line.get(i) == Some(&sgr::ESC) {
        let len = sgr::sequence_len(&line[i..]);
        if len == 0 {
            break;
        }
        i += len;
    }
    i
}

/// The layouts of a compose file's services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compose {
    /// Each sampled service's name and the layout of its own lines.
    services: Vec<(Vec<u8>, Layout)>,
    /// The layout of every sampled service's lines together: for services
    /// first seen after the sample.
    other: Layout,
    /// The layout of the sampled lines without a prefix (`Attaching to …`,
    /// noise between services' lines).
    bare: Layout,
}

impl Compose {
    /// Learns the services of a file from its first lines (without line
    /// ends), or `None` when it is not a compose file: fewer than half of
    /// the non-empty lines carry a prefix, or a prefix names a level.
    pub fn learn(lines: &[&[u8]], ctx: &TimeContext) -> Option<Compose> {
        let mut bodies: Vec<(&[u8], Vec<u8>)> = Vec::new();
        let mut all = Vec::new();
        let mut bare = Vec::new();
        let (mut prefixed, mut other) = (0usize, 0usize);
        for line in lines {
            let Some(p) = prefix(line) else {
                other += 1;
                bare.extend_from_slice(line);
                bare.push(b'\n');
                continue;
            };
            if Level::from_word(p.name).is_some() {
                return None;
            }
            prefixed += 1;
            let body = &line[p.body..];
            all.extend_from_slice(body);
            all.push(b'\n');
            let known = bodies.iter().position(|(name, _)| *name == p.name);
            let slot = match known {
                Some(k) => Some(k),
                None if bodies.len() < MAX_SERVICES => {
                    bodies.push((p.name, Vec::new()));
                    Some(bodies.len() - 1)
                }
                None => None,
            };
            if let Some(k) = slot {
                bodies[k].1.extend_from_slice(body);
                bodies[k].1.push(b'\n');
            }
        }
        if prefixed == 0 || prefixed <= other {
            return None;
        }
        let services = bodies
            .into_iter()
            .map(|(name, buf)| (name.to_vec(), Layout::sniff_lines(&buf, ctx)))
            .collect();
        Some(Compose {
            services,
            other: Layout::sniff_lines(&all, ctx),
            bare: Layout::sniff_lines(&bare, ctx),
        })
    }

    /// The layouts of all services, the shared one included.
    fn layouts(&self) -> impl Iterator<Item = &Layout> {
        self.services
            .iter()
            .map(|(_, layout)| layout)
            .chain([&self.other, &self.bare])
    }

    /// The layout a compose file presents to the rest of the engine:
    /// timed when a service's lines are, and with the level prefilter off
    /// (by a header style other than words) unless every service names
    /// its levels with words.
    pub fn outer(self) -> Layout {
        let words_only = self.layouts().all(Layout::levels_are_words);
        let timed = self.layouts().any(|l| l.timed);
        let pretty_json = self.layouts().any(|l| l.pretty_json);
        Layout {
            timed,
            pretty_json,
            header: if words_only {
                HeaderStyle::Words
            } else {
                HeaderStyle::Letters
            },
            compose: Some(Box::new(self)),
            ..Layout::default()
        }
    }

    /// The layout of a service's lines, or of lines without a service.
    #[inline]
    pub fn layout_of(&self, name: Option<&[u8]>) -> &Layout {
        let Some(name) = name else {
            return &self.bare;
        };
        self.services
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&self.other, |(_, layout)| layout)
    }

    /// Whether the line at `start` (after the first line) starts a record:
    /// a line without a prefix does, and so does one of another service
    /// than the line above; otherwise its service's layout decides.
    pub fn starts_record(&self, data: &[u8], start: usize) -> bool {
        let line = &data[start..];
        let Some(p) = prefix(line) else {
            return true;
        };
        let prev = prev_line(data, start);
        match prefix(prev) {
            Some(q) if q.name == p.name => {
                let body = &line[p.body.min(line.len())..];
                self.layout_of(Some(p.name))
                    .starts_line(body, || &prev[q.body.min(prev.len())..])
            }
            _ => true,
        }
    }

    /// Reads the record `data[start..end]`: its first line's service line
    /// with that service's layout, the record's text and origin around it.
    #[inline(never)]
    pub fn read<'a>(
        &self,
        data: &'a [u8],
        start: usize,
        end: usize,
        single_line: bool,
        ctx: &TimeContext,
    ) -> Record<'a> {
        let first = &data[start..end];
        let first = &first[..memchr::memchr(b'\n', first).unwrap_or(first.len())];
        let Some(p) = prefix(first) else {
            return self.bare.read_plain(data, start, end, single_line, ctx);
        };
        let body = p.body.min(first.len());
        let layout = self.layout_of(Some(p.name));
        let rec = layout.read_plain(data, start + body, end, single_line, ctx);
        Record {
            offset: start,
            len: end - start,
            text: trim_newline(&data[start..end]),
            first_len: rec.first_len + body,
            message_start: rec.message_start + body,
            head_end: if rec.head_end > 0 {
                rec.head_end + body
            } else {
                0
            },
            origin: Some(p.name),
            ..rec
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_of_compose_lines() {
        let p = prefix(b"web-1    | 2024-05-01T10:00:00.123Z INFO started").unwrap();
        assert_eq!((p.name, p.body), (&b"web-1"[..], 11));
        let coloured = b"\x1b[36mdb_1   |\x1b[0m ready to accept connections";
        let p = prefix(coloured).unwrap();
        assert_eq!(p.name, b"db_1");
        assert_eq!(&coloured[p.body..], b"ready to accept connections");
        assert_eq!(prefix(b"cache-1  |").unwrap().body, 10);
        assert_eq!(
            &*without_prefixes(b"request failed\nweb-1  | Traceback\ndb-1   | x", b"web-1"),
            b"request failed\nTraceback\ndb-1   | x"
        );
        for line in [
            &b"2024-05-01 10:00:00 | INFO | x"[..],
            b"web-1| no padding",
            b"| web-1 | x",
            b"web-1 |x",
            b"plain line",
        ] {
            assert_eq!(prefix(line), None, "{:?}", String::from_utf8_lossy(line));
        }
    }
}

//! A reader for logfmt lines: `time=… level=info msg="a b" user=marco`, as
//! Go's logrus, go-kit (`ts=`), log15 and Grafana (`t=`, `lvl=`) write
//! them.
//!
//! A line is logfmt when every space-separated token is a `key=value`
//! pair (a value may be `"quoted"`, with backslash escapes, or empty),
//! there are at least two pairs, and one of them is a time, level or
//! message. The log fields come out as a [`JsonRecord`] of
//! [`Syntax::Logfmt`], borrowing from the line; the other pairs are walked
//! again by [`for_each_pair`] when they are printed.

use super::json::{JsonRecord, LevelKind, Scalar, Syntax};

/// Reads a logfmt line; `None` when the line is not one.
pub fn parse(line: &[u8]) -> Option<JsonRecord<'_>> {
    let mut rec = JsonRecord {
        syntax: Syntax::Logfmt,
        body: line,
        ..JsonRecord::default()
    };
    let mut ranks = [u8::MAX; 4];
    let mut pairs = 0;
    let mut pos = 0;
    while let Some((key, value, next)) = pair_at(line, pos)? {
        pos = next;
        pairs += 1;
        let Some((slot, rank)) = field_of(key) else {
            continue;
        };
        if rank >= ranks[slot] {
            continue;
        }
        ranks[slot] = rank;
        match slot {
            0 => rec.ts = Some(value),
            1 => {
                rec.level = Some(value);
                rec.level_kind = LevelKind::Name;
            }
            2 => rec.msg = Some(value),
            _ => {
                rec.pid = value.as_i64();
                rec.pid_value = rec.pid.map(|_| value);
            }
        }
    }
    let known = rec.ts.is_some() || rec.level.is_some() || rec.msg.is_some();
    (pairs >= 2 && known).then_some(rec)
}

/// Which log field a key names (time 0, level 1, message 2, pid 3), and
/// its rank among the spellings of that field.
fn field_of(key: &[u8]) -> Option<(usize, u8)> {
    Some(match key {
        b"ts" => (0, 0),
        b"time" => (0, 1),
        b"t" => (0, 2),
        b"timestamp" => (0, 3),
        b"@timestamp" => (0, 4),
        b"level" => (1, 0),
        b"lvl" => (1, 1),
        b"severity" => (1, 2),
        b"msg" => (2, 0),
        b"message" => (2, 1),
        b"pid" => (3, 0),
        _ => return None,
    })
}

/// Calls `f` with every `key=value` pair of a logfmt line, in order.
pub fn for_each_pair<'a>(line: &'a [u8], f: &mut dyn FnMut(&'a [u8], Scalar<'a>)) {
    let mut pos = 0;
    while let Some(Some((key, value, next))) = pair_at(line, pos) {
        f(key, value);
        pos = next;
    }
}

/// The pair at or after `pos`: `Some(None)` at the end of the line, `None`
/// when the next token is not a pair.
#[allow(clippy::type_complexity)]
fn pair_at(line: &[u8], mut pos: usize) -> Option<Option<(&[u8], Scalar<'_>, usize)>> {
    while matches!(line.get(pos), Some(b' ' | b'\t' | b'\r')) {
        pos += 1;
    }
    if pos >= line.len() {
        return Some(None);
    }
    let key_start = pos;
    while let Some(&b) = line.get(pos) {
        if b == b'=' {
            break;
        }
        if !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@' | b'/')) {
            return None;
        }
        pos += 1;
    }
    let key = &line[key_start..pos];
    if key.is_empty() || line.get(pos) != Some(&b'=') {
        return None;
    }
    pos += 1;
    if line.get(pos) == Some(&b'"') {
        pos += 1;
        let start = pos;
        let mut escaped = false;
        loop {
            let rel = memchr::memchr2(b'"', b'\\', &line[pos..])?;
            pos += rel;
            if line[pos] == b'"' {
                break;
            }
            escaped = true;
            pos += 2;
            if pos > line.len() {
                return None;
            }
        }
        let raw = &line[start..pos];
        pos += 1;
        if !matches!(line.get(pos), None | Some(b' ' | b'\t' | b'\r')) {
            return None;
        }
        return Some(Some((key, Scalar::Str { raw, escaped }, pos)));
    }
    let start = pos;
    while let Some(&b) = line.get(pos) {
        if matches!(b, b' ' | b'\t' | b'\r') {
            break;
        }
        if b == b'"' {
            return None;
        }
        pos += 1;
    }
    let raw = &line[start..pos];
    Some(Some((
        key,
        Scalar::Str {
            raw,
            escaped: false,
        },
        pos,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_log_fields_and_keeps_the_rest() {
        let line = br#"time="2026-01-10T10:00:00Z" level=warning msg="disk \"sda\" slow" user=marco took=12ms"#;
        let rec = parse(line).unwrap();
        let mut buf = Vec::new();
        assert_eq!(rec.ts.unwrap().raw(), b"2026-01-10T10:00:00Z");
        assert_eq!(rec.level.unwrap().raw(), b"warning");
        assert_eq!(
            rec.msg.unwrap().text(&mut buf).unwrap(),
            b"disk \"sda\" slow"
        );
        let mut rest = Vec::new();
        for_each_pair(line, &mut |k, v| {
            if !rec.uses(&v) {
                rest.push((k, v.raw()));
            }
        });
        assert_eq!(
            rest,
            vec![(&b"user"[..], &b"marco"[..]), (b"took", b"12ms")]
        );
    }

    #[test]
    fn go_kit_and_grafana_spellings() {
        let rec =
            parse(b"ts=2026-01-10T10:00:00.123Z caller=main.go:42 lvl=eror msg=boom").unwrap();
        assert_eq!(rec.ts.unwrap().raw(), b"2026-01-10T10:00:00.123Z");
        assert_eq!(rec.level.unwrap().raw(), b"eror");
        let rec = parse(
            b"t=2026-01-10T10:00:00+0000 lvl=info msg=\"HTTP Server Listen\" address=[::]:3000",
        )
        .unwrap();
        assert_eq!(rec.ts.unwrap().raw(), b"2026-01-10T10:00:00+0000");
    }

    #[test]
    fn prose_and_headers_are_not_logfmt() {
        for line in [
            &b"2026-01-10 10:00:00 INFO user=marco action=login"[..],
            b"a=1 b=2",
            b"level=info",
            b"level=info msg=\"unterminated",
            b"msg=a\"b level=info",
            b"",
            b"just words",
        ] {
            assert_eq!(parse(line), None, "{}", String::from_utf8_lossy(line));
        }
        assert!(parse(b"level=info msg= empty=").is_some());
    }

    proptest! {
        #[test]
        fn never_panics_and_values_lie_in_the_line(line in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse(&line);
            for_each_pair(&line, &mut |k, v| {
                let base = line.as_ptr() as usize;
                for part in [k, v.raw()] {
                    let at = part.as_ptr() as usize - base;
                    assert!(at + part.len() <= line.len());
                }
            });
        }
    }
}

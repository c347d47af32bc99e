//! The masking scanner: one left-to-right pass over a message that copies
//! constant text and replaces variable tokens with placeholders.
//!
//! # Grammar
//!
//! A *token start* is a position whose previous byte is not an ASCII letter
//! or digit (or the start of the message). At a token start the matchers
//! below are tried in order; the first whose match is followed by a
//! *boundary* (end of input or a byte that is not an ASCII letter or digit)
//! wins and its span becomes the placeholder:
//!
//! | order | shape | placeholder |
//! |---|---|---|
//! | 1 | `[` IPv6 `]` with optional `:port` | `<IP>` |
//! | 2 | UUID `8-4-4-4-12` hex | `<UUID>` |
//! | 3 | `YYYY-MM-DD` with optional `T`/space `hh:mm:ss[.frac][Z\|±hh:mm]`, or `h:mm:ss[.frac]` | `<TS>` |
//! | 3b | `[Www ]Mmm d[ hh:mm:ss[.frac]][ yyyy]` with English abbreviations (`Sun Jul  3 12:00:01 2005`) | `<TS>` |
//! | 4 | IPv4 with optional `:port` | `<IP>` |
//! | 5 | IPv6 (eight groups, or one `::`; holds a digit) | `<IP>` |
//! | 6 | `0x` hex | `<HEX>` |
//! | 7 | number: optional sign, digits, `.digits` groups, up to five unit letters, optional `%` (`-3`, `1.5s`, `10KB`, `87.5%`, `1.2.3`) | `<NUM>` |
//! | 8 | any other run of letters and digits holding a digit: eight or more hex digits → `<HEX>`, else `<ID>` (`user42`, `nvme0n1`) | `<HEX>`/`<ID>` |
//!
//! Everything else is copied. Since `_`, `-`, `.`, `/` and `:` separate
//! tokens, compound identifiers keep their constant parts: `blk_-123` →
//! `blk_<NUM>`, `worker-3` → `worker-<NUM>`, `/users/42` → `/users/<NUM>`.
//! Trailing whitespace is dropped. The tests hold a regex implementation of
//! this table and check that the scanner agrees with it.

use xxhash_rust::xxh3::xxh3_64;

use super::binary::{BINARY, looks_binary};
use super::classes::{ClassMap, Storage, odd_head};

/// Placeholder for IPv4 and IPv6 addresses, with their port if any.
pub const IP: &[u8] = b"<IP>";
/// Placeholder for UUIDs.
pub const UUID: &[u8] = b"<UUID>";
/// Placeholder for `0x` numbers and long hex ids.
pub const HEX: &[u8] = b"<HEX>";
/// Placeholder for numbers, with or without a unit.
pub const NUM: &[u8] = b"<NUM>";
/// Placeholder for dates and times of day.
pub const TS: &[u8] = b"<TS>";
/// Placeholder for other tokens mixing letters and digits.
pub const ID: &[u8] = b"<ID>";

/// Every placeholder the scanner writes.
pub const PLACEHOLDERS: [&[u8]; 6] = [IP, UUID, HEX, NUM, TS, ID];

const ALNUM: u8 = 1;
const DIGIT: u8 = 2;
const HEXDIGIT: u8 = 4;
const LETTER: u8 = 8;
/// `[`, `:`, `-`, `+`: bytes that may start a token though not alphanumeric.
const STARTER: u8 = 16;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let mut k = 0;
        if b.is_ascii_digit() {
            k |= ALNUM | DIGIT | HEXDIGIT;
        }
        if b.is_ascii_alphabetic() {
            k |= ALNUM | LETTER;
        }
        if matches!(b, b'a'..=b'f' | b'A'..=b'F') {
            k |= HEXDIGIT;
        }
        if matches!(b, b'[' | b':' | b'-' | b'+') {
            k |= STARTER;
        }
        t[c] = k;
        c += 1;
    }
    t
};

#[inline(always)]
fn class(b: u8) -> u8 {
    CLASS[b as usize]
}

#[inline(always)]
fn is_alnum(b: u8) -> bool {
    class(b) & ALNUM != 0
}

#[inline(always)]
fn is_digit(b: u8) -> bool {
    class(b) & DIGIT != 0
}

#[inline(always)]
fn is_hex(b: u8) -> bool {
    class(b) & HEXDIGIT != 0
}

#[inline(always)]
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

#[inline(always)]
fn boundary(b: &[u8], end: usize) -> bool {
    end >= b.len() || !is_alnum(b[end])
}

/// Number of consecutive ASCII digits from `i`.
#[inline(always)]
fn digits(b: &[u8], i: usize) -> usize {
    b.get(i..)
        .map_or(0, |s| s.iter().take_while(|&&c| is_digit(c)).count())
}

/// Number of consecutive hex digits from `i`.
#[inline(always)]
fn hexes(b: &[u8], i: usize) -> usize {
    b.get(i..)
        .map_or(0, |s| s.iter().take_while(|&&c| is_hex(c)).count())
}

/// Normalizes `msg` into `out` (cleared first) and returns the template's
/// 64-bit id, the xxh3 of the template bytes. A message whose template
/// [`looks_binary`](super::looks_binary) has the template
/// [`BINARY`](super::BINARY) instead.
///
/// ```
/// let mut out = Vec::new();
/// let id = velos::normalize::normalize(b"GET /users/42 took 23ms from 10.0.0.7:5432", &mut out);
/// assert_eq!(out, b"GET /users/<NUM> took <NUM> from <IP>");
/// assert_eq!(id, velos::normalize::template_id(&out));
/// ```
pub fn normalize(msg: &[u8], out: &mut Vec<u8>) -> u64 {
    out.clear();
    // Colour codes are no part of a template.
    let stripped;
    let msg = if crate::sgr::has_escape(msg) {
        stripped = crate::sgr::strip(msg);
        &stripped[..]
    } else {
        msg
    };
    mask_into(msg, out);
    while out.last().is_some_and(|c| c.is_ascii_whitespace()) {
        out.pop();
    }
    // Judged on the template, so that a template is its own template.
    const _: () = assert!(super::binary::BINARY_WINDOW <= 64);
    if odd_head(out) && looks_binary(out) {
        out.clear();
        out.extend_from_slice(BINARY);
    }
    xxh3_64(out)
}

/// The id of a template: xxh3-64 of its bytes.
#[inline]
pub fn template_id(template: &[u8]) -> u64 {
    xxh3_64(template)
}

/// Whether `token` is exactly one of the scanner's placeholders.
#[inline]
pub fn is_placeholder(token: &[u8]) -> bool {
    token.len() >= 4
        && token[0] == b'<'
        && token[token.len() - 1] == b'>'
        && PLACEHOLDERS.contains(&token)
}

/// The scan: jump to the next byte where a placeholder could start (a
/// digit or a starter, found in the class bitmaps), back up to the start of
/// the token it belongs to, run the matchers there, and repeat. Everything
/// jumped over is copied unchanged, as the table says it must be: no row
/// matches text without digits or starters, except a month name, which
/// [`calendar_start`] finds by looking back from the day's digits.
fn mask_into(b: &[u8], out: &mut Vec<u8>) {
    let mut storage = Storage::new();
    let map = storage.map(b);
    let n = b.len();
    let mut i = 0;
    let mut lit = 0;
    loop {
        let p = map.next_special(i);
        if p >= n {
            break;
        }
        i = resume_point(b, &map, i, p);
        i = step(b, &map, i, &mut lit, out);
    }
    out.extend_from_slice(&b[lit..]);
}

/// Where the scan resumes for the special byte at `p`, given that nothing
/// in `from..p` is special: the start of the token holding `p` (or ending
/// just before it), or an earlier month or weekday name when `p` starts the
/// day of a date such as `Sun Jul  3`.
#[inline]
fn resume_point(b: &[u8], map: &ClassMap<'_>, from: usize, p: usize) -> usize {
    let start = map.run_start(p).max(from);
    if start == p
        && is_digit(b[p])
        && let Some(name) = calendar_start(b, from, p)
    {
        return name;
    }
    start
}

/// The start of `[Www +]Mmm +` ending right before the digit at `p`, no
/// earlier than `from`.
fn calendar_start(b: &[u8], from: usize, p: usize) -> Option<usize> {
    let word_before = |end: usize, set: &[&[u8; 3]]| -> Option<usize> {
        let mut q = end;
        while q > from && b[q - 1] == b' ' {
            q -= 1;
        }
        if q == end || q < from + 3 {
            return None;
        }
        let w = q - 3;
        (word3_in(b, w, set) && (w == from || !is_alnum(b[w - 1]))).then_some(w)
    };
    let month = word_before(p, &MONTHS)?;
    Some(word_before(month, &WEEKDAYS).unwrap_or(month))
}

/// Runs the matchers at `i`, a token start or a starter byte: writes the
/// pending literal and a placeholder on a match; returns where to go on.
#[inline]
fn step(b: &[u8], map: &ClassMap<'_>, i: usize, lit: &mut usize, out: &mut Vec<u8>) -> usize {
    let c = b[i];
    let k = class(c);
    if k & ALNUM == 0 {
        if k & STARTER != 0
            && (i == 0 || !is_alnum(b[i - 1]))
            && let Some((end, ph)) = special(b, i)
        {
            out.extend_from_slice(&b[*lit..i]);
            put(out, ph);
            *lit = end;
            return end;
        }
        return i + 1;
    }
    // A run of letters and digits; its previous byte is not one.
    let j = map.run_end(i);
    if k & DIGIT != 0
        && !matches!(at(b, j), b'-' | b':' | b'.' | b'%')
        && !(c == b'0' && matches!(at(b, i + 1), b'x' | b'X'))
    {
        // Digits, then maybe letters and digits, and no `-`, `:`, `.`, `%`
        // or `0x`: rows 1 to 6 cannot match, so it is a number (digits and
        // up to five unit letters) or else row 8.
        let letters = map.digits_end(i);
        let placeholder = if letters >= j || (j - letters <= 5 && !map.any_digit(letters, j)) {
            NUM
        } else {
            id_or_hex(&b[i..j])
        };
        out.extend_from_slice(&b[*lit..i]);
        put(out, placeholder);
        *lit = j;
        return j;
    }
    let has_digit = k & DIGIT != 0 || map.any_digit(i, j);
    if k & DIGIT == 0 && !matches!(at(b, j), b':' | b'-') {
        // Starts with a letter and cannot be a UUID or IPv6 address.
        if j - i == 3
            && at(b, j) == b' '
            && c.is_ascii_uppercase()
            && let Some(end) = calendar(b, i)
        {
            out.extend_from_slice(&b[*lit..i]);
            put(out, TS);
            *lit = end;
            return end;
        }
        if has_digit {
            out.extend_from_slice(&b[*lit..i]);
            put(out, id_or_hex(&b[i..j]));
            *lit = j;
        }
        return j;
    }
    match chain(b, i) {
        Some((end, ph)) => {
            out.extend_from_slice(&b[*lit..i]);
            put(out, ph);
            *lit = end;
            end
        }
        None => {
            if has_digit {
                out.extend_from_slice(&b[*lit..i]);
                put(out, id_or_hex(&b[i..j]));
                *lit = j;
            }
            j
        }
    }
}

/// Appends a placeholder with a copy of known length (no `memcpy` call).
#[inline(always)]
fn put(out: &mut Vec<u8>, placeholder: &'static [u8]) {
    match *placeholder {
        [a, b, c, d] => out.extend_from_slice(&[a, b, c, d]),
        [a, b, c, d, e] => out.extend_from_slice(&[a, b, c, d, e]),
        [a, b, c, d, e, f] => out.extend_from_slice(&[a, b, c, d, e, f]),
        _ => out.extend_from_slice(placeholder),
    }
}

/// Row 8: a run of letters and digits holding a digit.
#[inline]
fn id_or_hex(run: &[u8]) -> &'static [u8] {
    if run.len() >= 8 && run.iter().all(|&c| is_hex(c)) {
        HEX
    } else {
        ID
    }
}

/// Matchers for token starts at `[`, `:`, `-`, `+`.
#[inline]
fn special(b: &[u8], i: usize) -> Option<(usize, &'static [u8])> {
    match b[i] {
        b'[' => bracketed_ipv6(b, i).map(|e| (e, IP)),
        b':' => ipv6(b, i).filter(|&e| boundary(b, e)).map(|e| (e, IP)),
        _ => number(b, i).map(|e| (e, NUM)),
    }
}

/// Matchers 2–7 at a token start on a letter or digit.
#[inline]
fn chain(b: &[u8], i: usize) -> Option<(usize, &'static [u8])> {
    // Cheap necessary conditions first: most tokens are plain numbers.
    if at(b, i + 8) == b'-'
        && let Some(e) = uuid(b, i)
    {
        return Some((e, UUID));
    }
    let d = digits(b, i);
    let after = at(b, i + d);
    if d > 0 && matches!(after, b'-' | b':' | b'.') {
        if let Some(e) = timestamp(b, i) {
            return Some((e, TS));
        }
        if let Some(e) = ipv4(b, i) {
            return Some((e, IP));
        }
    }
    // An IPv6 group is at most four hex digits: count no further.
    let h = b
        .get(i..)
        .map_or(0, |r| r.iter().take(5).take_while(|&&c| is_hex(c)).count());
    if h <= 4
        && at(b, i + h) == b':'
        && let Some(e) = ipv6(b, i).filter(|&e| boundary(b, e))
    {
        return Some((e, IP));
    }
    if b[i] == b'0'
        && matches!(at(b, i + 1), b'x' | b'X')
        && let h = hexes(b, i + 2)
        && h > 0
        && boundary(b, i + 2 + h)
    {
        return Some((i + 2 + h, HEX));
    }
    number(b, i).map(|e| (e, NUM))
}

fn uuid(b: &[u8], i: usize) -> Option<usize> {
    let s = b.get(i..i + 36)?;
    for (k, &c) in s.iter().enumerate() {
        let ok = match k {
            8 | 13 | 18 | 23 => c == b'-',
            _ => is_hex(c),
        };
        if !ok {
            return None;
        }
    }
    boundary(b, i + 36).then_some(i + 36)
}

/// `\d{2}:\d{2}:\d{2}` at `p`, by position.
#[inline]
fn hms(b: &[u8], p: usize) -> Option<usize> {
    let s = b.get(p..p + 8)?;
    let ok = is_digit(s[0])
        && is_digit(s[1])
        && s[2] == b':'
        && is_digit(s[3])
        && is_digit(s[4])
        && s[5] == b':'
        && is_digit(s[6])
        && is_digit(s[7]);
    ok.then_some(p + 8)
}

/// `(?:[.,]\d+)?`
#[inline]
fn fraction(b: &[u8], p: usize) -> usize {
    if matches!(at(b, p), b'.' | b',') {
        let d = digits(b, p + 1);
        if d > 0 {
            return p + 1 + d;
        }
    }
    p
}

/// `(?:Z|[+-]\d{2}:?\d{2})?`
#[inline]
fn zone(b: &[u8], p: usize) -> usize {
    match at(b, p) {
        b'Z' => p + 1,
        b'+' | b'-' if is_digit(at(b, p + 1)) && is_digit(at(b, p + 2)) => {
            if at(b, p + 3) == b':' && is_digit(at(b, p + 4)) && is_digit(at(b, p + 5)) {
                p + 6
            } else if is_digit(at(b, p + 3)) && is_digit(at(b, p + 4)) {
                p + 5
            } else {
                p
            }
        }
        _ => p,
    }
}

fn timestamp(b: &[u8], i: usize) -> Option<usize> {
    let d = digits(b, i);
    if d == 4
        && at(b, i + 4) == b'-'
        && digits(b, i + 5) == 2
        && at(b, i + 7) == b'-'
        && digits(b, i + 8) >= 2
    {
        let mut end = i + 10;
        if matches!(at(b, end), b'T' | b' ')
            && let Some(t) = hms(b, end + 1)
        {
            end = zone(b, fraction(b, t));
        }
        return boundary(b, end).then_some(end);
    }
    if (d == 1 || d == 2) && at(b, i + d) == b':' {
        let p = i + d + 1;
        let ok = is_digit(at(b, p))
            && is_digit(at(b, p + 1))
            && at(b, p + 2) == b':'
            && is_digit(at(b, p + 3))
            && is_digit(at(b, p + 4));
        if ok {
            let end = fraction(b, p + 5);
            return boundary(b, end).then_some(end);
        }
    }
    None
}

const WEEKDAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

#[inline]
fn spaces(b: &[u8], p: usize) -> usize {
    b.get(p..)
        .map_or(0, |s| s.iter().take_while(|&&c| c == b' ').count())
}

fn word3_in(b: &[u8], p: usize, set: &[&[u8; 3]]) -> bool {
    b.get(p..p + 3)
        .is_some_and(|w| set.iter().any(|s| &s[..] == w))
}

/// `(?:Www +)?Mmm +\d{1,2}(?: +hh:mm:ss(?:[.,]\d+)?)?(?: +\d{4})?` with a
/// boundary after.
fn calendar(b: &[u8], i: usize) -> Option<usize> {
    let mut p = i;
    if word3_in(b, p, &WEEKDAYS) {
        let sp = spaces(b, p + 3);
        if sp > 0 && word3_in(b, p + 3 + sp, &MONTHS) {
            p += 3 + sp;
        }
    }
    if !word3_in(b, p, &MONTHS) {
        return None;
    }
    p += 3;
    let sp = spaces(b, p);
    if sp == 0 {
        return None;
    }
    p += sp;
    let d = digits(b, p);
    if d == 0 {
        return None;
    }
    p += d.min(2);
    let sp = spaces(b, p);
    if sp > 0
        && let Some(t) = hms(b, p + sp)
    {
        p = fraction(b, t);
    }
    let sp = spaces(b, p);
    if sp > 0 && digits(b, p + sp) >= 4 {
        p += sp + 4;
    }
    boundary(b, p).then_some(p)
}

fn ipv4(b: &[u8], i: usize) -> Option<usize> {
    let mut p = i;
    for _ in 0..3 {
        let d = digits(b, p);
        if !(1..=3).contains(&d) || at(b, p + d) != b'.' {
            return None;
        }
        p += d + 1;
    }
    let d = digits(b, p);
    if !(1..=3).contains(&d) {
        return None;
    }
    p += d;
    if at(b, p) == b':' {
        let port = digits(b, p + 1);
        if port > 0 {
            p += 1 + port.min(5);
        }
    }
    boundary(b, p).then_some(p)
}

/// `(?:h{0,4}:){2,7}h{0,4}` at `i` followed by the IPv6 checks; no
/// boundary check.
fn ipv6(b: &[u8], i: usize) -> Option<usize> {
    let mut p = i;
    let mut reps = 0;
    while reps < 7 {
        let h = hexes(b, p);
        if h <= 4 && at(b, p + h) == b':' {
            p += h + 1;
            reps += 1;
        } else {
            break;
        }
    }
    if reps < 2 {
        return None;
    }
    p += hexes(b, p).min(4);
    ipv6_ok(&b[i..p]).then_some(p)
}

/// The checks a `(?:h{0,4}:){2,7}h{0,4}` span must pass to be an address.
pub(crate) fn ipv6_ok(s: &[u8]) -> bool {
    if !s.iter().any(|&c| is_digit(c)) {
        return false;
    }
    let doubles = s.windows(2).filter(|w| w == b"::").count();
    let colons = s.iter().filter(|&&c| c == b':').count();
    let compressed = match doubles {
        0 => false,
        1 => true,
        _ => return false, // `:::` counts twice, two `::` too
    };
    if !compressed && colons != 7 {
        return false;
    }
    if s[0] == b':' && !s.starts_with(b"::") {
        return false;
    }
    if s[s.len() - 1] == b':' && !s.ends_with(b"::") {
        return false;
    }
    true
}

/// `\[` IPv6 `\](?::\d{1,5})?` with a boundary after.
fn bracketed_ipv6(b: &[u8], i: usize) -> Option<usize> {
    let e = ipv6(b, i + 1)?;
    if at(b, e) != b']' {
        return None;
    }
    let mut p = e + 1;
    if at(b, p) == b':' {
        let port = digits(b, p + 1);
        if port > 0 {
            p += 1 + port.min(5);
        }
    }
    boundary(b, p).then_some(p)
}

/// `[-+]?\d+(?:\.\d+)*[a-zA-Z]{0,5}%?` with a boundary after.
#[inline]
fn number(b: &[u8], i: usize) -> Option<usize> {
    let mut p = i;
    if matches!(b[p], b'-' | b'+') {
        p += 1;
    }
    let d = digits(b, p);
    if d == 0 {
        return None;
    }
    p += d;
    while at(b, p) == b'.' {
        let d = digits(b, p + 1);
        if d == 0 {
            break;
        }
        p += 1 + d;
    }
    let mut letters = 0;
    while letters < 5 && p < b.len() && class(b[p]) & LETTER != 0 {
        p += 1;
        letters += 1;
    }
    if at(b, p) == b'%' {
        p += 1;
    }
    boundary(b, p).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let mut out = Vec::new();
        normalize(s.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ipv4_with_and_without_port() {
        assert_eq!(norm("from 10.0.0.7 ok"), "from <IP> ok");
        assert_eq!(norm("peer=192.168.1.20:5432,"), "peer=<IP>,");
        assert_eq!(norm("/10.10.34.11:3888"), "/<IP>");
        assert_eq!(norm("[173.234.31.186]"), "[<IP>]");
        // Not addresses.
        assert_eq!(norm("1234.1.1.1"), "<NUM>");
        assert_eq!(norm("1.2.3"), "<NUM>");
    }

    #[test]
    fn ipv6_forms() {
        assert_eq!(norm("peer=2001:db8::1 up"), "peer=<IP> up");
        assert_eq!(norm("::1"), "<IP>");
        assert_eq!(norm("fe80:0:0:0:202:b3ff:fe1e:8329"), "<IP>");
        assert_eq!(norm("peer=[2001:db8:a::7]:443 x"), "peer=<IP> x");
        assert_eq!(norm("[2001:db8::7]"), "<IP>");
        assert_eq!(norm("0:0:0:0:0:0:0:0:2181"), "<IP>:<NUM>");
        // Not addresses: no digit, or too few groups.
        assert_eq!(norm("std::vector"), "std::vector");
        assert_eq!(norm("a:b:c"), "a:b:c");
        assert_eq!(norm("dead::beef"), "dead::beef");
    }

    #[test]
    fn uuids() {
        assert_eq!(
            norm("job 3e9b3be1-5bfd-40ac-9ed5-79fac125602c done"),
            "job <UUID> done"
        );
        assert_eq!(norm("3E9B3BE1-5BFD-40AC-9ED5-79FAC125602C."), "<UUID>.");
    }

    #[test]
    fn hex_values_and_ids() {
        assert_eq!(norm("conn 0x1f3a from pool"), "conn <HEX> from pool");
        assert_eq!(norm("req=f333ca6da0696a12"), "req=<HEX>");
        assert_eq!(
            norm("trace 095b88782555e910e20440ca2c84425b"),
            "trace <HEX>"
        );
        assert_eq!(norm("kid=abf4a509"), "kid=<HEX>");
        // Hex words without digits are words.
        assert_eq!(norm("deadbeefcafe"), "deadbeefcafe");
    }

    #[test]
    fn numbers_with_units_signs_and_decimals() {
        assert_eq!(
            norm("took 23ms (1.5s), 10KB, 87.5% -3 +4"),
            "took <NUM> (<NUM>), <NUM>, <NUM> <NUM> <NUM>"
        );
        assert_eq!(
            norm("heap 98350M->89747M(4014M)"),
            "heap <NUM>-><NUM>(<NUM>)"
        );
        assert_eq!(norm("range 10-20"), "range <NUM>-<NUM>");
        assert_eq!(norm("version 1.24.3."), "version <NUM>.");
        assert_eq!(norm("keyId: -127633188)"), "keyId: <NUM>)");
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(norm("next run at 2026-01-11T17:45:49Z"), "next run at <TS>");
        assert_eq!(norm("at 2015-10-18 18:01:47,978 ok"), "at <TS> ok");
        assert_eq!(norm("expires 2026-03-01T00:00:00.5+01:00"), "expires <TS>");
        assert_eq!(norm("older than 2026-01-02"), "older than <TS>");
        assert_eq!(norm("Dec 10 06:55:46 up"), "<TS> up");
        assert_eq!(norm("t=7:05:09.123"), "t=<TS>");
        assert_eq!(norm("at Sun Jul  3 12:00:01 2005 from x"), "at <TS> from x");
        assert_eq!(norm("since Dec 04 2005."), "since <TS>.");
        assert_eq!(norm("May I come, Sun is up"), "May I come, Sun is up");
    }

    #[test]
    fn mixed_tokens_keep_constant_parts() {
        assert_eq!(norm("block blk_-6952295868487656571"), "block blk_<NUM>");
        assert_eq!(
            norm("appattempt_1445144423722_0020_000001"),
            "appattempt_<NUM>_<NUM>_<NUM>"
        );
        assert_eq!(norm("user42 on worker-3"), "<ID> on worker-<NUM>");
        assert_eq!(norm("GET /api/v1/users/42"), "GET /api/<ID>/users/<NUM>");
        assert_eq!(norm("db-3.prod.internal"), "db-<NUM>.prod.internal");
        assert_eq!(norm("onExtend:1514038530000 14"), "onExtend:<NUM> <NUM>");
    }

    #[test]
    fn plain_text_is_untouched_and_bytes_survive() {
        assert_eq!(norm("check pass; user unknown"), "check pass; user unknown");
        assert_eq!(norm("trailing spaces   "), "trailing spaces");
        let mut out = Vec::new();
        normalize(b"caf\xc3\xa9 \xff 12", &mut out);
        assert_eq!(out, b"caf\xc3\xa9 \xff <NUM>");
    }

    #[test]
    fn binary_records_share_one_template_and_text_keeps_its_own() {
        // Random bytes cut into lines as a
        // reader would: every line of 8 bytes or more is one template,
        // however many lines there are, so grouping them costs nothing.
        let bytes = super::super::binary::random_bytes(200_000);
        let mut out = Vec::new();
        let mut templates = std::collections::HashSet::new();
        let lines = bytes.split(|&b| b == b'\n').filter(|l| l.len() >= 16);
        for line in lines {
            templates.insert(normalize(line, &mut out));
        }
        assert_eq!(templates.len(), 1);
        assert_eq!(out, BINARY);
        // A control byte or an accent in text changes nothing.
        assert_eq!(norm("user \u{1} took 5ms"), "user \u{1} took <NUM>");
        assert_eq!(norm("café au lait 3 fois"), "café au lait <NUM> fois");
    }

    #[test]
    fn id_is_xxh3_of_template() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        let ia = normalize(b"took 5ms", &mut a);
        let ib = normalize(b"took 900ms", &mut b);
        assert_eq!(ia, ib);
        assert_eq!(ia, xxh3_64(b"took <NUM>"));
        assert!(is_placeholder(b"<NUM>") && !is_placeholder(b"<FOO>"));
    }
}

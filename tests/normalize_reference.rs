//! The fast masking scanner agrees with a slow, regex-based reading of the
//! same grammar (the table in `velos::normalize::mask`) on arbitrary input.

use proptest::prelude::*;
use regex::bytes::Regex;
use velos::normalize::normalize;

/// The grammar, one anchored regex per row, tried in order at every token
/// start; a match counts only if it passes its check and is followed by a
/// byte that is not an ASCII letter or digit.
struct Reference {
    chain: Vec<Row>,
    alnum: Regex,
}

/// A row of the table: its regex, its placeholder, the check on its match.
type Row = (Regex, &'static [u8], fn(&[u8]) -> bool);

const H: &str = "[0-9a-fA-F]";

fn ipv6_check(s: &[u8]) -> bool {
    let s = match s.first() {
        Some(b'[') => {
            let close = s.iter().position(|&c| c == b']').unwrap();
            &s[1..close]
        }
        _ => s,
    };
    let digit = s.iter().any(u8::is_ascii_digit);
    let doubles = s.windows(2).filter(|w| *w == b"::").count();
    let colons = s.iter().filter(|&&c| c == b':').count();
    digit
        && (doubles == 1 || (doubles == 0 && colons == 7))
        && (s[0] != b':' || s.starts_with(b"::"))
        && (s[s.len() - 1] != b':' || s.ends_with(b"::"))
}

fn always(_: &[u8]) -> bool {
    true
}

impl Reference {
    fn new() -> Self {
        let v6 = format!("(?:{H}{{0,4}}:){{2,7}}{H}{{0,4}}");
        let re = |s: &str| Regex::new(&format!("^(?-u:{s})")).unwrap();
        let chain: Vec<Row> = vec![
            (
                re(&format!(r"\[{v6}\](?::[0-9]{{1,5}})?")),
                b"<IP>",
                ipv6_check,
            ),
            (
                re(&format!("{H}{{8}}-{H}{{4}}-{H}{{4}}-{H}{{4}}-{H}{{12}}")),
                b"<UUID>",
                always,
            ),
            (
                re(concat!(
                    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?",
                    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?|[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?"
                )),
                b"<TS>",
                always,
            ),
            (
                re(concat!(
                    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) +)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)",
                    r" +[0-9]{1,2}(?: +[0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?)?(?: +[0-9]{4})?"
                )),
                b"<TS>",
                always,
            ),
            (
                re(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?::[0-9]{1,5})?"),
                b"<IP>",
                always,
            ),
            (re(&v6), b"<IP>", ipv6_check),
            (re(&format!("0[xX]{H}+")), b"<HEX>", always),
            (
                re(r"[-+]?[0-9]+(?:\.[0-9]+)*[a-zA-Z]{0,5}%?"),
                b"<NUM>",
                always,
            ),
        ];
        Reference {
            chain,
            alnum: re("[A-Za-z0-9]+"),
        }
    }

    fn normalize(&self, b: &[u8]) -> Vec<u8> {
        let alnum = |c: u8| c.is_ascii_alphanumeric();
        let boundary = |e: usize| e >= b.len() || !alnum(b[e]);
        let mut out = Vec::new();
        let mut i = 0;
        'outer: while i < b.len() {
            if i == 0 || !alnum(b[i - 1]) {
                for (re, ph, check) in &self.chain {
                    if let Some(m) = re.find(&b[i..]) {
                        let end = i + m.end();
                        if check(m.as_bytes()) && boundary(end) {
                            out.extend_from_slice(ph);
                            i = end;
                            continue 'outer;
                        }
                    }
                }
                if let Some(m) = self.alnum.find(&b[i..]) {
                    let t = m.as_bytes();
                    if t.iter().any(u8::is_ascii_digit) {
                        let hex = t.len() >= 8 && t.iter().all(u8::is_ascii_hexdigit);
                        out.extend_from_slice(if hex { b"<HEX>" } else { b"<ID>" });
                    } else {
                        out.extend_from_slice(t);
                    }
                    i += m.end();
                    continue;
                }
            }
            out.push(b[i]);
            i += 1;
        }
        while out.last().is_some_and(|c| c.is_ascii_whitespace()) {
            out.pop();
        }
        out
    }
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-fA-FxXgzZT.:\\-+\\[\\]%_ /,]{1,14}",
        "[a-z]{1,8}",
        "((Mon|Sun|Fri) {1,2})?(Jan|May|Dec|Jul|Sun) {1,2}[0-9]{1,3}( {1,2}[0-9]{2}:[0-9]{2}:[0-9]{2}(,[0-9])?)?( [0-9]{3,5})?",
        "[0-9]{1,6}",
        (any::<[u8; 4]>(), proptest::option::of(0u16..)).prop_map(|(ip, port)| {
            let mut s = format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]);
            if let Some(p) = port {
                s += &format!(":{p}");
            }
            s
        }),
        (any::<[u16; 8]>(), 0usize..9, any::<bool>()).prop_map(|(g, cut, brackets)| {
            let parts: Vec<String> = g.iter().map(|x| format!("{x:x}")).collect();
            let s = if cut < 8 {
                format!("{}::{}", parts[..cut].join(":"), parts[cut + 1..].join(":"))
            } else {
                parts.join(":")
            };
            if brackets {
                format!("[{s}]:{}", g[0])
            } else {
                s
            }
        }),
        any::<u128>().prop_map(|u| {
            let h = format!("{u:032x}");
            format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..]
            )
        }),
        (
            1970u32..2100,
            1u32..13,
            1u32..29,
            0u32..24,
            0u32..60,
            "[T ]",
            "(Z|[.,][0-9]{1,3}|\\+01:00|)"
        )
            .prop_map(|(y, mo, d, h, mi, sep, tail)| format!(
                "{y}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{mi:02}{tail}"
            )),
        ("-?[0-9]{1,5}(\\.[0-9]{1,3})?", "(ms|s|KB|MiB|%|us|)").prop_map(|(n, u)| n + &u),
        any::<u64>().prop_map(|x| format!("0x{x:x}")),
        any::<u64>().prop_map(|x| format!("{x:016x}")),
    ]
}

fn message() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec((fragment(), "[ =:,()\\[\\]/_.-]{0,2}"), 0..16),
        prop::collection::vec(any::<u8>(), 0..3),
    )
        .prop_map(|(parts, noise)| {
            let mut s = Vec::new();
            for (f, sep) in parts {
                s.extend_from_slice(f.as_bytes());
                s.extend_from_slice(sep.as_bytes());
            }
            s.extend_from_slice(&noise);
            s
        })
}

/// The scanner's template of `msg` is the reference's.
fn agrees_with_reference(msg: &[u8]) -> Result<(), TestCaseError> {
    let reference = REFERENCE.with(|r| reference_template(r, msg));
    let mut out = Vec::new();
    normalize(msg, &mut out);
    prop_assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&reference),
        "input {:?}",
        String::from_utf8_lossy(msg)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn fast_path_agrees_with_regex_reference(msg in message()) {
        agrees_with_reference(&msg)?;
    }

    #[test]
    fn arbitrary_bytes_agree_too(msg in prop::collection::vec(any::<u8>(), 0..200)) {
        let reference = REFERENCE.with(|r| reference_template(r, &msg));
        let mut out = Vec::new();
        normalize(&msg, &mut out);
        prop_assert_eq!(out, reference);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Messages past 512 bytes keep their class bitmaps on the heap.
    #[test]
    fn long_messages_agree_too(parts in prop::collection::vec(message(), 4..12)) {
        let msg = parts.join(&b' ');
        agrees_with_reference(&msg)?;
    }
}

thread_local! {
    static REFERENCE: Reference = Reference::new();
}

/// The reference's template, or the one template of binary data when it
/// looks binary.
fn reference_template(r: &Reference, msg: &[u8]) -> Vec<u8> {
    let template = r.normalize(msg);
    if velos::normalize::looks_binary(&template) {
        velos::normalize::BINARY.to_vec()
    } else {
        template
    }
}

#[test]
fn reference_reads_the_table_like_the_docs() {
    let r = Reference::new();
    assert_eq!(
        r.normalize(b"GET /users/42 took 23ms from 10.0.0.7:5432"),
        b"GET /users/<NUM> took <NUM> from <IP>"
    );
}

proptest! {
    #[test]
    fn templates_are_fixed_points(msg in message()) {
        let mut once = Vec::new();
        normalize(&msg, &mut once);
        let mut twice = Vec::new();
        normalize(&once, &mut twice);
        prop_assert_eq!(String::from_utf8_lossy(&once), String::from_utf8_lossy(&twice));
    }
}

/// A message with colour codes and stray escape bytes between fragments.
fn coloured_message() -> impl Strategy<Value = Vec<u8>> {
    let code = prop_oneof![
        Just(""),
        Just("\x1b[31m"),
        Just("\x1b[0m"),
        Just("\x1b[1;38;5;208m"),
        Just("\x1b[m"),
        Just("\x1b"),
        Just("\x1b]0;title\x07"),
        Just("\x1b[2J"),
    ];
    prop::collection::vec((fragment(), "[ =:,()\\[\\]/_.-]{0,2}", code), 0..12).prop_map(|parts| {
        let mut s = Vec::new();
        for (f, sep, code) in parts {
            s.extend_from_slice(f.as_bytes());
            s.extend_from_slice(code.as_bytes());
            s.extend_from_slice(sep.as_bytes());
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Colour codes are left out before masking; other escape bytes are
    /// text like any other.
    #[test]
    fn colour_codes_are_masked_as_if_absent(msg in coloured_message()) {
        let reference = REFERENCE.with(|r| reference_template(r, &velos::sgr::strip(&msg)));
        let mut out = Vec::new();
        normalize(&msg, &mut out);
        prop_assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&reference),
            "input {:?}",
            String::from_utf8_lossy(&msg)
        );
    }
}

//! The classifier: gives every record a [`Level`].
//!
//! Order of decision, first answer wins:
//! 1. an explicit level — a JSON `lvl`/`level`/`severity` field (read by the
//!    framer), or a level token in the line's header (`INFO`, `[error]`,
//!    `<warn>`, `level=warn`, logcat's `E`), see [`explicit_level`];
//! 2. custom rules from the TOML config, highest priority first;
//! 3. the default keyword rules of the product spec, checked in order
//!    (fatal, error, warn, debug) — at each start of a run of word bytes the
//!    keywords beginning with that letter are compared and an ASCII
//!    word-boundary check confirms them, so the result is exactly that of
//!    the rules' regexes (property-tested against them);
//! 4. otherwise [`Level::Info`].
//!
//! The module also owns the *level prefilter*: the literal words without
//! which no record can reach a given level, used by the search engine to skip
//! whole stretches of a file when filtering by level.

mod header;
mod prefilter;

pub use header::{HeaderStyle, explicit_level, http_request_len};
pub use prefilter::LevelPrefilter;

use regex::bytes::Regex;

use crate::level::Level;

/// The default keyword rules, in the order they are checked: a record whose
/// text holds one of these words (ASCII case ignored, whole word, not part
/// of an identifier) gets the rule's level: `fatal|panic|critical` → fatal,
/// `error|err|exception|fail(ed|ure)?` → error, `warn(ing)?|deprecated` →
/// warn, `debug|trace|verbose` → debug.
///
/// A whole word has no ASCII word byte (`[A-Za-z0-9_]`) on either side, and
/// is not joined to one by `-`, `.` or `/` (`libgpg-error-dev`,
/// `/api/error`, `error.log`, `non-fatal`); a `/` just before it always
/// joins (a path). A sentence's full stop (`failed.`) does not join.
pub const DEFAULT_KEYWORD_RULES: [(Level, &[&str]); 4] = [
    (Level::Fatal, &["fatal", "panic", "critical"]),
    (
        Level::Error,
        &["error", "err", "exception", "fail", "failed", "failure"],
    ),
    (Level::Warn, &["warn", "warning", "deprecated"]),
    (Level::Debug, &["debug", "trace", "verbose"]),
];

/// A user rule from the config: records matching `pattern` get `level`.
#[derive(Debug, Clone)]
pub struct CustomRule {
    /// The compiled pattern (searched anywhere in the record's text).
    pub pattern: Regex,
    /// Level given to matching records.
    pub level: Level,
    /// Higher priorities are checked first; ties keep config order.
    pub priority: i64,
}

/// Decides levels from keywords and custom rules. Cheap to share between
/// threads (`Sync`); build once per run.
#[derive(Debug, Clone)]
pub struct Classifier {
    /// Every keyword (lower case) with the index of its rule in
    /// [`DEFAULT_KEYWORD_RULES`], grouped by first letter.
    keywords: Vec<(&'static [u8], u8)>,
    /// For each byte, the range of `keywords` starting with it (either
    /// case).
    keywords_by_first: [(u8, u8); 256],
    default_rules: bool,
    custom: Vec<CustomRule>,
}

impl Default for Classifier {
    fn default() -> Self {
        Classifier::new(Vec::new(), true)
    }
}

impl Classifier {
    /// Builds a classifier from custom rules (any order; sorted here by
    /// priority) and whether the default keyword rules apply after them.
    pub fn new(mut custom: Vec<CustomRule>, default_rules: bool) -> Self {
        custom.sort_by_key(|rule| std::cmp::Reverse(rule.priority));
        let mut keywords: Vec<(&'static [u8], u8)> = DEFAULT_KEYWORD_RULES
            .iter()
            .enumerate()
            .flat_map(|(rule, (_, words))| words.iter().map(move |w| (w.as_bytes(), rule as u8)))
            .collect();
        keywords.sort_by_key(|(w, _)| w[0]);
        let mut keywords_by_first = [(0u8, 0u8); 256];
        for (i, (w, _)) in keywords.iter().enumerate() {
            for b in [w[0], w[0].to_ascii_uppercase()] {
                let range = &mut keywords_by_first[usize::from(b)];
                if range.0 == range.1 {
                    *range = (i as u8, i as u8);
                }
                range.1 = i as u8 + 1;
            }
        }
        Classifier {
            keywords,
            keywords_by_first,
            default_rules,
            custom,
        }
    }

    /// The custom rules, highest priority first.
    pub fn custom_rules(&self) -> &[CustomRule] {
        &self.custom
    }

    /// Whether the default keyword rules apply.
    pub fn default_rules(&self) -> bool {
        self.default_rules
    }

    /// Level of a whole record whose explicit level (if any) is `explicit`:
    /// the explicit level wins, then custom rules, then keywords, then info.
    #[inline]
    pub fn classify(&self, explicit: Option<Level>, text: &[u8]) -> Level {
        match explicit {
            Some(level) => level,
            None => self.classify_text(text),
        }
    }

    /// Level of a message with no explicit level: custom rules, then the
    /// default keyword rules (not on binary data, see [`crate::normalize::looks_binary`]), otherwise info. Terminal colour codes
    /// (`\x1b[31m`) are looked through.
    pub fn classify_text(&self, text: &[u8]) -> Level {
        if crate::sgr::has_escape(text) {
            return self.classify_plain(&crate::sgr::strip(text));
        }
        self.classify_plain(text)
    }

    fn classify_plain(&self, text: &[u8]) -> Level {
        for rule in &self.custom {
            if rule.pattern.is_match(text) {
                return rule.level;
            }
        }
        // Binary data holds no words, whatever its bytes spell by chance.
        if self.default_rules
            && !crate::normalize::looks_binary(text)
            && let Some(level) = self.keyword_level(text)
        {
            return level;
        }
        Level::Info
    }

    /// Classifies one raw line with no known layout, as the supervisor does
    /// for a child's output: a level token among the line's first words wins,
    /// else the rules.
    pub fn classify_line(&self, line: &[u8]) -> Level {
        let explicit = explicit_level(line, HeaderStyle::Words);
        self.classify(explicit, line)
    }

    /// The level of the first default keyword rule with a whole-word match
    /// in `text`, if any.
    pub fn keyword_level(&self, text: &[u8]) -> Option<Level> {
        let mut best: Option<u8> = None;
        // A whole word starts a run of word bytes (the byte before is no
        // word byte), so only those starts are tried.
        let n = text.len();
        let mut i = 0;
        loop {
            while i < n && !is_word_byte(text[i]) {
                i += 1;
            }
            if i >= n {
                break;
            }
            let start = i;
            let (from, to) = self.keywords_by_first[usize::from(text[start])];
            for &(keyword, rule) in &self.keywords[usize::from(from)..usize::from(to)] {
                if best.is_some_and(|b| b <= rule) {
                    continue;
                }
                let end = start + keyword.len();
                if text
                    .get(start..end)
                    .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
                    && is_whole_word(text, start, end)
                {
                    best = Some(rule);
                    if rule == 0 {
                        return Some(DEFAULT_KEYWORD_RULES[0].0);
                    }
                }
            }
            i += 1;
            while i < n && is_word_byte(text[i]) {
                i += 1;
            }
        }
        best.map(|rule| DEFAULT_KEYWORD_RULES[rule as usize].0)
    }
}

/// ASCII word character, as regex's `\b` sees it with Unicode off.
#[inline]
pub(crate) fn is_word_byte(b: u8) -> bool {
    WORD_BYTES[usize::from(b)]
}

/// [`is_word_byte`] as a table.
static WORD_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize;
        b += 1;
    }
    t
};

/// A byte that joins two words into one identifier or path:
/// `libgpg-error-dev`, `error.log`, `/api/error`.
#[inline]
fn is_joiner(b: u8) -> bool {
    matches!(b, b'-' | b'.' | b'/')
}

/// Whether `text[start..end]` is a word on its own, not part of an
/// identifier (see [`DEFAULT_KEYWORD_RULES`]).
#[inline]
fn is_whole_word(text: &[u8], start: usize, end: usize) -> bool {
    let before = match start.checked_sub(1).map(|i| text[i]) {
        None => true,
        Some(b'/') => false,
        Some(b) if is_joiner(b) => start < 2 || !is_word_byte(text[start - 2]),
        Some(b) => !is_word_byte(b),
    };
    let after = match text.get(end) {
        None => true,
        Some(&b) if is_joiner(b) => text.get(end + 1).is_none_or(|&n| !is_word_byte(n)),
        Some(&b) => !is_word_byte(b),
    };
    before && after
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The rules as plain regexes: a keyword between a word start (text
    /// start, or a byte that is neither a word byte nor `/`, `-`, `.`; or a
    /// `-`/`.` with no word byte before it) and a word end (text end, a
    /// byte that is neither a word byte nor a joiner, or a joiner not
    /// followed by a word byte).
    fn spec_rules() -> Vec<(Level, Regex)> {
        const START: &str = r"(?:^|[^A-Za-z0-9_/.\-]|(?:^|[^A-Za-z0-9_])[.\-])";
        const END: &str = r"(?:$|[^A-Za-z0-9_/.\-]|[/.\-](?:$|[^A-Za-z0-9_]))";
        [
            (Level::Fatal, r"(fatal|panic|critical)"),
            (Level::Error, r"(error|err|exception|fail(ed|ure)?)"),
            (Level::Warn, r"(warn(ing)?|deprecated)"),
            (Level::Debug, r"(debug|trace|verbose)"),
        ]
        .into_iter()
        .map(|(level, words)| {
            let re = format!("(?i){START}{words}{END}");
            let re = regex::bytes::RegexBuilder::new(&re)
                .unicode(false)
                .build()
                .unwrap();
            (level, re)
        })
        .collect()
    }

    fn by_regex(rules: &[(Level, Regex)], text: &[u8]) -> Level {
        rules
            .iter()
            .find(|(_, re)| re.is_match(text))
            .map_or(Level::Info, |(level, _)| *level)
    }

    #[test]
    fn keywords_follow_the_spec_order() {
        let c = Classifier::default();
        assert_eq!(c.classify_text(b"connection failed"), Level::Error);
        assert_eq!(c.classify_text(b"FATAL: disk gone, error"), Level::Fatal);
        assert_eq!(
            c.classify_text(b"deprecated call, error later"),
            Level::Error
        );
        assert_eq!(c.classify_text(b"Warning: low disk"), Level::Warn);
        assert_eq!(c.classify_text(b"trace id 42"), Level::Debug);
        assert_eq!(c.classify_text(b"0 errors, failover ok"), Level::Info);
        assert_eq!(c.classify_text(b"stderr closed"), Level::Info);
        assert_eq!(c.classify_text(b""), Level::Info);
    }

    #[test]
    fn keywords_never_fire_inside_identifiers() {
        let c = Classifier::default();
        for text in [
            "status installed libgpg-error-dev:amd64 1.46-1",
            "configure libgpg-error0:amd64 1.46-1 <none>",
            "stats error_count=0 warn_count=0",
            "GET /api/error HTTP/1.1 200",
            "GET /api/errors/recent 200",
            "rotated /var/log/error.log",
            "non-fatal: retrying is disabled",
            "loaded module fail-safe.so",
            "debug.enabled=false",
        ] {
            assert_eq!(c.classify_text(text.as_bytes()), Level::Info, "{text}");
        }
        assert_eq!(c.classify_text(b"request failed."), Level::Error);
        assert_eq!(c.classify_text(b"error: disk full"), Level::Error);
        assert_eq!(c.classify_text(b"(error) x"), Level::Error);
        assert_eq!(c.classify_text(b"-- Warning -- slow"), Level::Warn);
        assert_eq!(c.classify_text(b"got error=timeout"), Level::Error);
        assert_eq!(c.classify_text(b"[FATAL]"), Level::Fatal);
    }

    #[test]
    fn colour_codes_are_looked_through() {
        let c = Classifier::default();
        assert_eq!(
            c.classify_text(b"\x1b[31mconnection failed\x1b[0m"),
            Level::Error
        );
        assert_eq!(c.classify_line(b"\x1b[33mWARN\x1b[0m disk"), Level::Warn);
    }

    #[test]
    fn explicit_level_beats_keywords() {
        let c = Classifier::default();
        assert_eq!(
            c.classify_line(b"2024-01-01 10:00:00 INFO parity error corrected"),
            Level::Info
        );
        assert_eq!(c.classify_line(b"[warn] request failed"), Level::Warn);
        assert_eq!(c.classify_line(b"connection failed"), Level::Error);
    }

    #[test]
    fn custom_rules_apply_by_priority_before_keywords() {
        let rules = vec![
            CustomRule {
                pattern: Regex::new("(?i)out of memory").unwrap(),
                level: Level::Fatal,
                priority: 1,
            },
            CustomRule {
                pattern: Regex::new("retry").unwrap(),
                level: Level::Debug,
                priority: 5,
            },
        ];
        let c = Classifier::new(rules, true);
        assert_eq!(c.classify_text(b"Out of memory"), Level::Fatal);
        assert_eq!(c.classify_text(b"retry after out of memory"), Level::Debug);
        assert_eq!(c.classify_text(b"request failed"), Level::Error);
        let c = Classifier::new(Vec::new(), false);
        assert_eq!(c.classify_text(b"request failed"), Level::Info);
    }

    proptest! {
        #[test]
        fn keyword_scan_agrees_with_spec_regexes(
            words in proptest::collection::vec(
                prop_oneof![
                    Just("error".to_string()), Just("ERR".to_string()), Just("Failed".to_string()),
                    Just("failure".to_string()), Just("fails".to_string()), Just("panic".to_string()),
                    Just("warning".to_string()), Just("deprecated".to_string()), Just("trace".to_string()),
                    Just("exception".to_string()), Just("criticality".to_string()), Just("_err".to_string()),
                    Just("-error".to_string()), Just("/warn".to_string()), Just("fatal.".to_string()),
                    "[a-zA-Z0-9_]{0,6}", "[ .:;,\\-\\[\\]()=\"/é]{0,3}",
                ],
                0..12,
            )
        ) {
            let text = words.concat();
            let rules = spec_rules();
            let c = Classifier::default();
            prop_assert_eq!(c.classify_text(text.as_bytes()), by_regex(&rules, text.as_bytes()));
        }
    }
}

//! Severity levels: the one ordered scale every record is placed on, and the
//! names users and log files use for it.
//!
//! Log files spell levels in many ways (`WARN`, `warning`, `W`, `<4>`, pino's
//! `40`); this module owns the mapping from those spellings to [`Level`] and
//! the `--level` filter syntax (`error,warn`, `warn+`).

use std::fmt;

/// Severity of a record, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    /// `debug`, `DEBUG2`…`DEBUG5`, `trace`, `verbose`, `finest`…: trace
    /// is not a level of its own (see the README's level table).
    Debug = 0,
    /// `info`, `notice`: the default when nothing says otherwise.
    Info = 1,
    /// `warn`, `warning`.
    Warn = 2,
    /// `error`, `err`, `severe`.
    Error = 3,
    /// `fatal`, `panic`, `critical`, `alert`, `emerg`.
    Fatal = 4,
}

impl Level {
    /// All levels, least severe first.
    pub const ALL: [Level; 5] = [
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    /// The canonical lowercase name, as written in JSON (`"lvl":"warn"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    /// Fixed-width uppercase label for human output.
    pub fn label(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO ",
            Level::Warn => "WARN ",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }

    /// Parses a level word as log files write it, ignoring ASCII case:
    /// `error`, `ERR`, `Warning`, `crit`, `notice`, `trace`… Returns `None`
    /// for words that are not level names.
    pub fn from_word(word: &[u8]) -> Option<Level> {
        if word.is_empty() || word.len() > 16 {
            return None;
        }
        // PostgreSQL's `DEBUG1`…`DEBUG5`: the only level names with a digit.
        if let [head @ .., b'1'..=b'5'] = word
            && head.len() == 5
        {
            return (pack_lower(head) == const { pack_lower(b"debug") }).then_some(Level::Debug);
        }
        // Every level name starts with one of these letters.
        if !matches!(
            word[0] | 0x20,
            b'a' | b'c' | b'd' | b'e' | b'f' | b'i' | b'n' | b'p' | b's' | b't' | b'v' | b'w'
        ) {
            return None;
        }
        // Level names are all letters, and `| 0x20` turns a byte into a
        // lowercase letter only if it was a letter: packing the bytes with
        // it and comparing integers is an exact, case-blind comparison.
        let (head, tail) = word.split_at(word.len().min(8));
        let word_key = (word.len(), pack_lower(head), pack_lower(tail));
        const fn key(name: &[u8]) -> (usize, u64, u64) {
            let (head, tail) = name.split_at(if name.len() < 8 { name.len() } else { 8 });
            (name.len(), pack_lower(head), pack_lower(tail))
        }
        macro_rules! level_of {
            ($($level:ident: $($name:literal)|+;)+) => {{
                $($(
                    const { assert!($name.len() <= 16) };
                    if word_key == const { key($name) } {
                        return Some(Level::$level);
                    }
                )+)+
                None
            }};
        }
        level_of! {
            Fatal: b"fatal" | b"panic" | b"critical" | b"crit" | b"alert" | b"emerg" | b"emergency";
            Error: b"error" | b"err" | b"severe" | b"eror";
            Warn: b"warn" | b"warning";
            Info: b"info" | b"information" | b"informational" | b"notice";
            Debug: b"debug" | b"trace" | b"verbose" | b"fine" | b"finer" | b"finest" | b"dbug";
        }
    }

    /// Parses a one-letter level as Android logcat and glog write it
    /// (`V D I W E F`, plus `A` for assert). Only meaningful where the file's
    /// layout says levels are letters.
    pub fn from_letter(letter: u8) -> Option<Level> {
        Some(match letter {
            b'V' | b'D' => Level::Debug,
            b'I' => Level::Info,
            b'W' => Level::Warn,
            b'E' => Level::Error,
            b'F' | b'A' => Level::Fatal,
            _ => return None,
        })
    }

    /// Maps numeric levels: pino/bunyan (`10` trace … `60` fatal).
    pub fn from_number(n: i64) -> Option<Level> {
        Some(match n {
            10 | 20 => Level::Debug,
            30 => Level::Info,
            40 => Level::Warn,
            50 => Level::Error,
            60 => Level::Fatal,
            _ => return None,
        })
    }
}

impl serde::Serialize for Level {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of levels, as selected by `--level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LevelSet(u8);

impl LevelSet {
    /// Every level.
    pub const ALL: LevelSet = LevelSet(0b1_1111);

    /// The empty set.
    pub const fn empty() -> Self {
        LevelSet(0)
    }

    /// Adds a level.
    pub fn insert(&mut self, level: Level) {
        self.0 |= 1 << level as u8;
    }

    /// Whether `level` is in the set.
    #[inline]
    pub fn contains(self, level: Level) -> bool {
        self.0 & (1 << level as u8) != 0
    }

    /// Whether every level is in the set (the filter is a no-op).
    pub fn is_all(self) -> bool {
        self == LevelSet::ALL
    }

    /// The levels in the set, least severe first.
    pub fn iter(self) -> impl Iterator<Item = Level> {
        Level::ALL.into_iter().filter(move |l| self.contains(*l))
    }

    /// Parses the `--level` syntax: a comma-separated list of level names
    /// (`error,warn`, `err`, `warning`), where a name followed by `+` means
    /// that level and everything more severe (`warn+`).
    pub fn parse(spec: &str) -> Result<LevelSet, UnknownLevel> {
        let mut set = LevelSet::empty();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, and_above) = match part.strip_suffix('+') {
                Some(name) => (name, true),
                None => (part, false),
            };
            let level =
                Level::from_word(name.as_bytes()).ok_or_else(|| UnknownLevel(part.to_string()))?;
            if and_above {
                Level::ALL
                    .into_iter()
                    .filter(|l| *l >= level)
                    .for_each(|l| set.insert(l));
            } else {
                set.insert(level);
            }
        }
        if set == LevelSet::empty() {
            return Err(UnknownLevel(spec.to_string()));
        }
        Ok(set)
    }
}

/// A `--level` value that names no level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown level `{0}`: use fatal, error (err), warn (warning), info or debug, comma-separated, or `warn+` for warn and above"
)]
pub struct UnknownLevel(pub String);

/// Up to eight bytes, each `| 0x20`, little-endian in a `u64` (compared
/// together with the length, since shorter words are zero-padded).
const fn pack_lower(bytes: &[u8]) -> u64 {
    let mut packed = 0;
    let mut k = 0;
    while k < bytes.len() && k < 8 {
        packed ^= ((bytes[k] | 0x20) as u64) << (8 * k);
        k += 1;
    }
    packed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_map_to_levels_ignoring_case() {
        assert_eq!(Level::from_word(b"WARNING"), Some(Level::Warn));
        assert_eq!(Level::from_word(b"Err"), Some(Level::Error));
        assert_eq!(Level::from_word(b"notice"), Some(Level::Info));
        assert_eq!(Level::from_word(b"CRIT"), Some(Level::Fatal));
        assert_eq!(Level::from_word(b"trace"), Some(Level::Debug));
        assert_eq!(Level::from_word(b"errors"), None);
        assert_eq!(Level::from_word(b""), None);
        assert_eq!(Level::from_word(b"Informational"), Some(Level::Info));
        assert_eq!(Level::from_word(b"EMERGENCY"), Some(Level::Fatal));
        for word in ["DEBUG1", "DEBUG2", "debug5", "Debug3"] {
            assert_eq!(
                Level::from_word(word.as_bytes()),
                Some(Level::Debug),
                "{word}"
            );
        }
        for word in ["DEBUG6", "DEBUG0", "DEBUG22", "error2", "debu\x122"] {
            assert_eq!(Level::from_word(word.as_bytes()), None, "{word}");
        }
    }

    #[test]
    fn only_letters_fold_case() {
        // `| 0x20` must not let other bytes pass for letters.
        for word in [
            &b"err\0"[..],
            b"\x05rror",
            b"e\x12ror",
            b"erro\xd2",
            b"warn\x00\x00\x00\x00",
            b"informationa\xcc",
            b"Warnin\xc7",
            b"debu",
            b"fatal ",
        ] {
            assert_eq!(Level::from_word(word), None, "{word:?}");
        }
        for name in [
            "debug", "dbug", "info", "warning", "error", "fatal", "finest",
        ] {
            let upper = name.to_ascii_uppercase();
            assert_eq!(
                Level::from_word(name.as_bytes()),
                Level::from_word(upper.as_bytes())
            );
            assert!(Level::from_word(name.as_bytes()).is_some());
        }
    }

    #[test]
    fn level_set_parses_lists_and_plus() {
        let set = LevelSet::parse("error,warn").unwrap();
        assert!(set.contains(Level::Error) && set.contains(Level::Warn));
        assert!(!set.contains(Level::Fatal) && !set.contains(Level::Info));
        let set = LevelSet::parse("warn+").unwrap();
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![Level::Warn, Level::Error, Level::Fatal]
        );
        assert!(LevelSet::parse("loud").is_err());
        assert!(LevelSet::parse(",").is_err());
    }
}

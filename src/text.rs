//! Values as people read and write them: byte sizes and durations (shown
//! the same way by `velos list`, `velos info`, the daemon's messages and
//! `velos monit`, and parsed the same way wherever a setting takes one),
//! command lines quoted for a shell, and text with its control characters
//! made visible.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::Duration;

/// `812 B`, `4.0 KiB`, `12.4 MiB`, `245 MiB`, `1.2 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else if value < 100.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// `120ms`, `5.2s`, `3m 4s`, `1h 2m`, `2d 4h`.
pub fn duration(duration: Duration) -> String {
    let ms = duration.as_millis() as u64;
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        minutes_and_up(ms)
    }
}

/// [`duration`] in whole seconds under a minute (`0s`, `45s`), for how
/// long ago something happened or how long a stretch of a log lasts:
/// `45s`, `3m 4s`, `1h 2m`, `2d 4h`.
pub fn coarse_duration(duration: Duration) -> String {
    let ms = duration.as_millis() as u64;
    if ms < 60_000 {
        format!("{}s", ms / 1000)
    } else {
        minutes_and_up(ms)
    }
}

/// A duration of a minute or more, in its two largest units.
fn minutes_and_up(ms: u64) -> String {
    if ms < 3_600_000 {
        format!("{}m {}s", ms / 60_000, (ms / 1000) % 60)
    } else if ms < 86_400_000 {
        format!("{}h {}m", ms / 3_600_000, (ms / 60_000) % 60)
    } else {
        format!("{}d {}h", ms / 86_400_000, (ms / 3_600_000) % 24)
    }
}

/// Parses `5s`, `500ms`, `2m`, `1h`, `1.5s` (the forms `velos logs` takes,
/// see [`crate::query::parse_duration`]), or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return if seconds.is_finite() && seconds >= 0.0 {
            Ok(Duration::from_secs_f64(seconds))
        } else {
            Err(format!("invalid duration '{text}'"))
        };
    }
    match crate::query::parse_duration(text) {
        Some(ms) if ms >= 0 => Ok(Duration::from_millis(ms as u64)),
        _ => Err(format!(
            "invalid duration '{text}': expected e.g. 5s, 500ms, 2m or 1h"
        )),
    }
}

/// Parses `10MiB`, `512 KB`, `1048576`: a number of bytes, or a number
/// with a unit: `B`, `K`/`KiB`, `M`/`MiB`, `G`/`GiB` (powers of 1024) or
/// `KB`, `MB`, `GB` (powers of 1000).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("invalid size {text:?}: expected e.g. \"10MiB\""))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        other => {
            return Err(format!(
                "invalid size unit {other:?} in {text:?}: use B, KiB, MiB or GiB"
            ));
        }
    };
    Ok((number * factor as f64) as u64)
}

/// A word as a POSIX shell reads it back: as is when it holds only safe
/// characters, otherwise in single quotes.
pub fn shell_quote(word: &str) -> Cow<'_, str> {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
    }
}

/// Words quoted with [`shell_quote`] and joined by spaces.
pub fn shell_words<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    words
        .into_iter()
        .map(shell_quote)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` with its control characters written as escapes (`\x1b`,
/// `\n`, `\u{9b}`), so that a command line, path or message cannot drive
/// the terminal or break a line.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "{}", Escape(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// The escape of a control character by its number, as [`visible`]
/// writes it: `\x1b` for the C0 controls and DEL, `\u{9b}` for the C1
/// controls. The printer writes the control bytes of log lines the same
/// way.
#[derive(Debug, Clone, Copy)]
pub struct Escape(pub char);

impl std::fmt::Display for Escape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let code = self.0 as u32;
        if code < 0x80 {
            write!(f, "\\x{code:02x}")
        } else {
            write!(f, "\\u{{{code:x}}}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_shown_with_binary_units() {
        assert_eq!(bytes(80), "80 B");
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(4096), "4.0 KiB");
        assert_eq!(bytes(13_002_342), "12.4 MiB");
        assert_eq!(bytes(245 << 20), "245 MiB");
        assert_eq!(bytes(3 << 29), "1.5 GiB");
    }

    #[test]
    fn durations_are_shown_to_the_useful_precision() {
        assert_eq!(duration(Duration::from_millis(120)), "120ms");
        assert_eq!(duration(Duration::from_millis(5_250)), "5.2s");
        assert_eq!(duration(Duration::from_secs(184)), "3m 4s");
        assert_eq!(duration(Duration::from_secs(3_720)), "1h 2m");
        assert_eq!(
            duration(Duration::from_secs(2 * 86_400 + 4 * 3600)),
            "2d 4h"
        );
    }

    #[test]
    fn coarse_durations_are_whole_seconds_under_a_minute() {
        assert_eq!(coarse_duration(Duration::from_millis(999)), "0s");
        assert_eq!(coarse_duration(Duration::from_millis(45_900)), "45s");
        // From a minute on, as `duration` shows it.
        assert_eq!(coarse_duration(Duration::from_secs(184)), "3m 4s");
    }

    #[test]
    fn durations_are_parsed() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn sizes_are_parsed() {
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size("512 KB"), Ok(512_000));
        assert_eq!(parse_size("1.5k"), Ok(1536));
        assert_eq!(parse_size("42"), Ok(42));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("3 parsecs").is_err());
    }

    #[test]
    fn words_are_quoted_for_a_shell() {
        assert_eq!(
            shell_words(["node", "app.js", "--port=80"]),
            "node app.js --port=80"
        );
        assert_eq!(
            shell_words(["sh", "-c", "echo 'hi' there"]),
            r"sh -c 'echo '\''hi'\'' there'"
        );
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn control_characters_are_made_visible() {
        assert_eq!(visible("a b/é"), "a b/é");
        assert_eq!(
            visible("x\x1b[31my\x07\n\u{9b}"),
            "x\\x1b[31my\\x07\\n\\u{9b}"
        );
    }
}

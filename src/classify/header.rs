//! Explicit level tokens in a line's header: `INFO`, `[error]`, `<warn>`,
//! `(DEBUG)`, `ERROR:root:`, `level=warn`, logcat's single letters.

use crate::level::Level;

/// How a file writes its levels, learned once per file by the framer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HeaderStyle {
    /// Level words (`INFO`, `[warn]`, `level=error`).
    #[default]
    Words,
    /// Level words, and single letters (`D`, `E`, `E/Tag:`) as Android
    /// logcat and glog write them.
    Letters,
}

/// How many tokens of the header are looked at.
const MAX_HEADER_TOKENS: usize = 6;
/// How many bytes of the header are looked at.
const MAX_HEADER_BYTES: usize = 128;

/// Finds an explicit level token among the first words of `head` (the line
/// after its timestamp, or the whole line when it has none).
///
/// Accepted: an upper-case level word, bare or followed by `:`
/// (`INFO`, `WARN:`, `ERROR:root:`); a level word in any case inside
/// brackets, angle brackets, parentheses or pipes (`[error]`, `<warn>`);
/// `level=`, `lvl=` or `severity=` followed by a level word, quoted or not;
/// and, in [`HeaderStyle::Letters`], a single letter `V D I W E F A`, bare or
/// as `E/Tag`. Scanning stops at a token ending in `:` that is not a level
/// (`sshd[42]:`, `com.example.Main:`), where the message starts.
pub fn explicit_level(head: &[u8], style: HeaderStyle) -> Option<Level> {
    let head = &head[..head.len().min(MAX_HEADER_BYTES)];
    if memchr::memchr(0x1b, head).is_some() {
        // Coloured output: look through the escape codes.
        return scan_tokens(&super::strip_ansi(head), style);
    }
    scan_tokens(head, style)
}

fn scan_tokens(head: &[u8], style: HeaderStyle) -> Option<Level> {
    let mut tokens = head
        .split(|b| b.is_ascii_whitespace() || *b == b'|')
        .filter(|t| !t.is_empty());
    for _ in 0..MAX_HEADER_TOKENS {
        let token = tokens.next()?;
        if let Some(level) = token_level(token, style) {
            return Some(level);
        }
        if token.ends_with(b":") {
            return None;
        }
    }
    None
}

fn token_level(token: &[u8], style: HeaderStyle) -> Option<Level> {
    // `][INFO` after a bracketed timestamp (`[…][INFO ][node]`).
    let token = match token.iter().position(|b| !matches!(b, b']' | b')')) {
        Some(start) => &token[start..],
        None => return None,
    };
    if let Some(value) = logfmt_value(token) {
        return Level::from_word(value);
    }
    let open = matches!(token[0], b'[' | b'<' | b'(' | b'{');
    let inner = token
        .strip_prefix(&token[..usize::from(open)])
        .unwrap_or(token);
    // The word runs up to the first delimiter: `]`, `>`, `)`, `}`, `:`, `,`, `/`.
    let end = inner
        .iter()
        .position(|b| matches!(b, b']' | b'>' | b')' | b'}' | b':' | b',' | b'/'))
        .unwrap_or(inner.len());
    let word = &inner[..end];
    let closed = end < inner.len() && matches!(inner[end], b']' | b'>' | b')' | b'}');
    if style == HeaderStyle::Letters
        && word.len() == 1
        && (end == inner.len() || inner[end] == b'/' || inner[end] == b':' || closed)
        && let Some(level) = Level::from_letter(word[0])
    {
        return Some(level);
    }
    let bracketed = open && closed;
    // `[core:error]`, `[mpm_event:notice]`: the level after a module name.
    if open
        && let Some(close) = inner
            .iter()
            .position(|b| matches!(b, b']' | b'>' | b')' | b'}'))
        && let Some(colon) = memchr::memrchr(b':', &inner[..close])
        && let Some(level) = Level::from_word(&inner[colon + 1..close])
    {
        return Some(level);
    }
    if bracketed || word.iter().all(|b| b.is_ascii_uppercase()) {
        // A bare upper-case word must stand alone or end the token with `:`.
        if !bracketed && end < inner.len() && inner[end] != b':' {
            return None;
        }
        return Level::from_word(word);
    }
    None
}

/// `level=warn`, `lvl="error"`, `severity=INFO` → the value.
fn logfmt_value(token: &[u8]) -> Option<&[u8]> {
    let eq = memchr::memchr(b'=', token)?;
    let key = &token[..eq];
    let is_level_key = key.eq_ignore_ascii_case(b"level")
        || key.eq_ignore_ascii_case(b"lvl")
        || key.eq_ignore_ascii_case(b"severity");
    if !is_level_key {
        return None;
    }
    let value = &token[eq + 1..];
    let value = value.strip_prefix(b"\"").unwrap_or(value);
    let value = value.strip_suffix(b"\"").unwrap_or(value);
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(head: &str) -> Option<Level> {
        explicit_level(head.as_bytes(), HeaderStyle::Words)
    }

    #[test]
    fn finds_common_header_tokens() {
        assert_eq!(
            words("INFO dfs.DataNode: PacketResponder"),
            Some(Level::Info)
        );
        assert_eq!(words("148 WARN dfs.DataNode: x"), Some(Level::Warn));
        assert_eq!(words("- ERROR [main] failed"), Some(Level::Error));
        assert_eq!(words("[error] mod_jk child"), Some(Level::Error));
        assert_eq!(words("[notice] jk2_init()"), Some(Level::Info));
        assert_eq!(words("<warn> disk"), Some(Level::Warn));
        assert_eq!(words("ERROR:root:boom"), Some(Level::Error));
        assert_eq!(words("time=1 level=warn msg=x"), Some(Level::Warn));
        assert_eq!(words("lvl=\"debug\" msg=x"), Some(Level::Debug));
        assert_eq!(words("[FATAL] out of memory"), Some(Level::Fatal));
        assert_eq!(words("[core:error] [pid 42] AH00124"), Some(Level::Error));
        assert_eq!(words("][WARN ][o.e.c.r.a] low disk"), Some(Level::Warn));
        assert_eq!(words("[mpm_event:notice] resuming"), Some(Level::Info));
    }

    #[test]
    fn ignores_message_words_and_stops_at_the_message() {
        assert_eq!(
            words("combo sshd(pam_unix)[19939]: authentication failure"),
            None
        );
        assert_eq!(words("sshd[42]: ERROR later"), None);
        assert_eq!(words("connection failed"), None);
        assert_eq!(words("Error connecting"), None);
        assert_eq!(words("[main] com.example: x"), None);
        assert_eq!(words("D WindowManager: x"), None);
        assert_eq!(words("INFOS about"), None);
    }

    #[test]
    fn letters_only_in_letter_style() {
        let letters = |h: &str| explicit_level(h.as_bytes(), HeaderStyle::Letters);
        assert_eq!(letters("1702  2395 D WindowManager: x"), Some(Level::Debug));
        assert_eq!(
            letters("1702 2395 E ActivityManager: x"),
            Some(Level::Error)
        );
        assert_eq!(letters("E/Tag( 123): boom"), Some(Level::Error));
        assert_eq!(letters("1702 2395 Z Foo: x"), None);
    }
}

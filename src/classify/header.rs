//! Explicit level tokens in a line's header: `INFO`, `[error]`, `<warn>`,
//! `(DEBUG)`, `ERROR:root:`, `level=warn`, `daemon.crit`, logcat's single
//! letters, Redis's marks (`#`, `*`, `-`, `.`) and an access log's HTTP
//! status.

use crate::level::Level;

/// How a file writes its levels, learned once per file by the framer
/// ([`HeaderStyle::sniff`]). Every style but [`HeaderStyle::Words`] names
/// levels without a level word, so the level prefilter is off for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HeaderStyle {
    /// Level words (`INFO`, `[warn]`, `level=error`).
    #[default]
    Words,
    /// Level words, and single letters (`D`, `E`, `E/Tag:`) as Android
    /// logcat and glog write them.
    Letters,
    /// Level words, and Redis's marks right after the timestamp: `#`
    /// warning, `*` notice, `-` verbose, `.` debug.
    Marks,
    /// An HTTP access log (common or combined log format): the response
    /// status after the request line is the level, 5xx error, 4xx warn,
    /// anything else info.
    Access,
}

impl HeaderStyle {
    /// Learns the style from the heads of a file's timestamped lines (each
    /// line after its timestamp): the style that names the level on more
    /// than half of them, else [`HeaderStyle::Words`].
    pub fn sniff<'a>(heads: impl IntoIterator<Item = &'a [u8]>) -> HeaderStyle {
        let (mut timed, mut access, mut letters, mut marks, mut strong_marks) = (0, 0, 0, 0, 0);
        for head in heads {
            timed += 1;
            if http_status_level(head).is_some() {
                access += 1;
            } else if let Some(mark) = level_mark(head) {
                marks += 1;
                strong_marks += usize::from(matches!(mark, b'#' | b'*'));
            } else if explicit_level(head, HeaderStyle::Words).is_none()
                && explicit_level(head, HeaderStyle::Letters).is_some()
            {
                letters += 1;
            }
        }
        if access * 2 > timed {
            HeaderStyle::Access
        } else if letters * 2 > timed {
            HeaderStyle::Letters
        } else if marks * 2 > timed && strong_marks > 0 {
            // Python's `… - name - INFO - msg` has a lone `-` there too: a
            // Redis log also has `*` or `#`.
            HeaderStyle::Marks
        } else {
            HeaderStyle::Words
        }
    }
}

/// The length of an access log's message: the quoted request line, the
/// status and the response size (`"GET /x HTTP/1.1" 404 512`), without the
/// referrer and user agent that follow. `None` when `msg` does not open
/// with a request line and a status.
pub fn http_request_len(msg: &[u8]) -> Option<usize> {
    let request = msg.strip_prefix(b"\"")?;
    let close = 1 + memchr::memchr(b'"', request)?;
    let mut end = close + 1;
    for field in 0..2 {
        let token = msg[end..].strip_prefix(b" ").unwrap_or_default();
        let len = token
            .iter()
            .take_while(|b| !b.is_ascii_whitespace())
            .count();
        let numeric = len > 0
            && token[..len]
                .iter()
                .all(|b| b.is_ascii_digit() || *b == b'-');
        if !numeric {
            // The status is required, the size is not.
            return (field > 0).then_some(end);
        }
        end += 1 + len;
    }
    Some(end)
}

/// How many tokens of the header are looked at.
const MAX_HEADER_TOKENS: usize = 6;
/// How many bytes of the header are looked at.
const MAX_HEADER_BYTES: usize = 128;
/// How far into the head an access log's request line may open.
const MAX_REQUEST_OFFSET: usize = 48;

/// Finds an explicit level token among the first words of `head` (the line
/// after its timestamp, or the whole line when it has none).
///
/// Accepted: an upper-case level word, bare or followed by `:`
/// (`INFO`, `WARN:`, `ERROR:root:`, `DEBUG2:`); a level word in any case
/// inside brackets, angle brackets, parentheses or pipes (`[error]`,
/// `<warn>`); `level=`, `lvl=` or `severity=` followed by a level word,
/// quoted or not; a syslog `facility.severity` (`daemon.crit`); and, by
/// style, a single letter `V D I W E F A`, bare or as `E/Tag`
/// ([`HeaderStyle::Letters`]), a mark right after the timestamp
/// ([`HeaderStyle::Marks`]) or the HTTP status ([`HeaderStyle::Access`]).
/// Scanning stops at a token ending in `:` that is not a level
/// (`sshd[42]:`, `com.example.Main:`), where the message starts.
pub fn explicit_level(head: &[u8], style: HeaderStyle) -> Option<Level> {
    match style {
        HeaderStyle::Access => {
            if let Some(level) = http_status_level(head) {
                return Some(level);
            }
        }
        HeaderStyle::Marks => {
            if let Some(mark) = level_mark(head) {
                return Some(match mark {
                    b'#' => Level::Warn,
                    b'*' => Level::Info,
                    _ => Level::Debug,
                });
            }
        }
        HeaderStyle::Words | HeaderStyle::Letters => {}
    }
    let head = &head[..head.len().min(MAX_HEADER_BYTES)];
    if crate::sgr::has_escape(head) {
        // Coloured output: look through the escape codes.
        return scan_tokens(&crate::sgr::strip(head), style);
    }
    scan_tokens(head, style)
}

/// Redis's level mark: `#`, `*`, `-` or `.` standing alone as the first
/// token of the head.
fn level_mark(head: &[u8]) -> Option<u8> {
    let rest = head.strip_prefix(b" ")?;
    match rest {
        [mark @ (b'#' | b'*' | b'-' | b'.'), b' ', ..] => Some(*mark),
        _ => None,
    }
}

/// The level of an access-log line from its response status: a quoted
/// request (`"GET /x HTTP/1.1"`, or `"-"` for a request that never came)
/// opening near the head's start and followed by a three-digit status.
/// 5xx is an error, 4xx a warning, any other status info.
pub fn http_status_level(head: &[u8]) -> Option<Level> {
    let window = &head[..head.len().min(MAX_REQUEST_OFFSET)];
    let open = memchr::memchr(b'"', window)?;
    let request = &head[open + 1..];
    let method_len = request
        .iter()
        .take_while(|b| b.is_ascii_uppercase())
        .count();
    let plausible = (3..=12).contains(&method_len) && request.get(method_len) == Some(&b' ')
        || request.starts_with(b"-\"");
    if !plausible {
        return None;
    }
    let close = memchr::memchr(b'"', request)?;
    let status = match &request[close + 1..] {
        [b' ', a @ b'1'..=b'5', b, c, rest @ ..]
            if b.is_ascii_digit()
                && c.is_ascii_digit()
                && rest.first().is_none_or(|r| r.is_ascii_whitespace()) =>
        {
            *a
        }
        _ => return None,
    };
    Some(match status {
        b'5' => Level::Error,
        b'4' => Level::Warn,
        _ => Level::Info,
    })
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
    if let Some(level) = facility_severity(token) {
        return Some(level);
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
    if bracketed
        || word
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        // A bare upper-case word must stand alone or end the token with `:`.
        if !bracketed && end < inner.len() && inner[end] != b':' {
            return None;
        }
        return Level::from_word(word);
    }
    None
}

/// Syslog's `facility.severity`, as `rsyslog` templates and BSD `syslogd
/// -v` write it (`daemon.crit`, `kern.warning`, `local0.notice`), and
/// Monolog's `channel.LEVEL:` (Laravel's `local.ERROR:`).
fn facility_severity(token: &[u8]) -> Option<Level> {
    let dot = memchr::memchr(b'.', token)?;
    let facility = &token[..dot];
    let known = matches!(
        facility,
        b"kern"
            | b"user"
            | b"mail"
            | b"daemon"
            | b"auth"
            | b"syslog"
            | b"lpr"
            | b"news"
            | b"uucp"
            | b"cron"
            | b"authpriv"
            | b"ftp"
            | b"ntp"
            | b"security"
            | b"console"
    ) || (facility.len() == 6
        && facility.starts_with(b"local")
        && facility[5].is_ascii_digit());
    let severity = &token[dot + 1..];
    let severity = severity.strip_suffix(b":").unwrap_or(severity);
    let monolog = !facility.is_empty()
        && facility
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'))
        && severity.iter().all(u8::is_ascii_uppercase);
    if known || monolog {
        Level::from_word(severity)
    } else {
        None
    }
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

    #[test]
    fn syslog_severities_and_postgres_debug_levels() {
        assert_eq!(words("host daemon.crit smartd[12]: x"), Some(Level::Fatal));
        assert_eq!(words("host kern.notice kernel: x"), Some(Level::Info));
        assert_eq!(words("host local3.err app: x"), Some(Level::Error));
        assert_eq!(words("host app.err x"), None);
        assert_eq!(words("] local.ERROR: Something bad"), Some(Level::Error));
        assert_eq!(words("] production.WARNING: slow"), Some(Level::Warn));
        assert_eq!(words("] Local.ERROR: x"), None);
        assert_eq!(words("[emerg] no space"), Some(Level::Fatal));
        assert_eq!(words("<alert> x"), Some(Level::Fatal));
        assert_eq!(words("[12] DEBUG2:  StartTransaction"), Some(Level::Debug));
        assert_eq!(words("TRACE o.a.k.Foo - x"), Some(Level::Debug));
    }

    #[test]
    fn redis_marks_in_mark_style_only() {
        let marks = |h: &str| explicit_level(h.as_bytes(), HeaderStyle::Marks);
        assert_eq!(
            marks(" # WARNING overcommit_memory is set to 0!"),
            Some(Level::Warn)
        );
        assert_eq!(marks(" * Ready to accept connections"), Some(Level::Info));
        assert_eq!(marks(" - Accepted 127.0.0.1:50344"), Some(Level::Debug));
        assert_eq!(marks(" . 0 clients connected"), Some(Level::Debug));
        assert_eq!(words(" # WARNING overcommit"), Some(Level::Warn));
        assert_eq!(words(" * Ready to accept connections"), None);
        let redis = [
            &b" * Server initialized"[..],
            b" # WARNING you have Transparent Huge Pages",
            b" * Ready to accept connections",
        ];
        assert_eq!(HeaderStyle::sniff(redis), HeaderStyle::Marks);
        let python = [&b" - app.db - INFO - connected"[..], b" - app - ERROR - x"];
        assert_eq!(HeaderStyle::sniff(python), HeaderStyle::Words);
    }

    #[test]
    fn access_log_message_is_request_status_and_size() {
        let line = "\"GET /a?b=1 HTTP/1.1\" 404 512 \"https://x/\" \"curl/8\"";
        assert_eq!(http_request_len(line.as_bytes()), Some(29));
        assert_eq!(http_request_len(b"\"-\" 408 - \"-\" \"-\""), Some(9));
        assert_eq!(http_request_len(b"\"GET / HTTP/1.0\" 200"), Some(20));
        assert_eq!(http_request_len(b"\"GET / HTTP/1.0\" ok"), None);
        assert_eq!(http_request_len(b"GET / 200"), None);
    }

    #[test]
    fn access_log_status_is_the_level() {
        let access = |h: &str| explicit_level(h.as_bytes(), HeaderStyle::Access);
        assert_eq!(
            access(" +0000] \"GET /api/errors HTTP/1.1\" 200 512 \"-\" \"curl/8\""),
            Some(Level::Info)
        );
        assert_eq!(access("] \"GET /x HTTP/1.1\" 404 0"), Some(Level::Warn));
        assert_eq!(access("] \"POST /pay HTTP/2.0\" 503 -"), Some(Level::Error));
        assert_eq!(access("] \"-\" 408 0 \"-\" \"-\""), Some(Level::Warn));
        assert_eq!(access("] \"GET /x HTTP/1.1\" 200"), Some(Level::Info));
        assert_eq!(access("] \"GET /x HTTP/1.1\" 2000 x"), None);
        assert_eq!(access("] said \"hello there\" 500 times"), None);
        let heads = [
            &b" +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"x\""[..],
            b" +0000] \"GET /y HTTP/1.1\" 500 5 \"-\" \"x\"",
        ];
        assert_eq!(HeaderStyle::sniff(heads), HeaderStyle::Access);
    }
}

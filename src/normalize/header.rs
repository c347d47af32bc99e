//! Header layouts: where the message starts in a line, learned once per
//! file from a sample of its lines.
//!
//! A log line is a header (timestamp, level, pid, host, component columns)
//! followed by the message. Grouping and templates must see the message
//! only: masked header columns make unrelated lines look alike and split
//! the same event by host or program name. No per-format rules are written
//! here; the learner reads the file itself.
//!
//! # How the layout is learned
//!
//! Each sample line is cut into *fields* at spaces, tabs and `|`; a field
//! that opens with `[` or `(` runs to its matching bracket, spaces included
//! (`[Sun Dec 04 04:47:44 2005]`, `[IPC Server handler 5 on 62270]`). Every
//! field has a [`ColumnKind`]: a time-like token (digits with `:-/.,`,
//! month and weekday names, plain numbers such as pids), a level word, a
//! bracketed token, a dash, a component ending in `:` (`sshd[24200]:`,
//! `dfs.FSNamesystem:`) or a plain word.
//!
//! Column by column, the header continues while one kind holds in at least
//! 90 % of the sample lines, and while at least 90 % of them have a field
//! after the column: a header always leaves a message behind. A component
//! column ends the header (the colon is the conventional end of a header).
//! A word column (a host name, a logger name) joins the header only if a
//! later column of another kind does, because the first word of the
//! message is also a word in most lines; and only when the header is
//! anchored by a date or clock, a level or a bracketed column (a plain
//! number after words is more likely the message's own), and the sample
//! has at least [`MIN_WORD_LINES`] lines (in a handful of lines every
//! column looks consistent). Lines that start with whitespace
//! (continuations, stack frames) are left out of the sample.
//!
//! # Applying it
//!
//! [`HeaderLayout::message_start`] walks the learned columns over one line;
//! a field that does not fit its column ends the header early (a line
//! without a timestamp is all message), and the message starts after the
//! separators that follow the header.

use crate::level::Level;

/// How many lines [`HeaderLayout::learn`] looks at.
pub const SAMPLE_LINES: usize = 1000;
/// Share of sample lines that must agree on a column's kind.
pub const CONSISTENCY: f64 = 0.9;
/// Most columns a header may have.
pub const MAX_COLUMNS: usize = 10;
/// Longest bracketed field, in bytes.
const MAX_BRACKET: usize = 512;
/// Sample lines needed before a word column (a host or logger name) may
/// join the header: in a handful of lines every column looks consistent.
pub const MIN_WORD_LINES: u32 = 2;

/// The kind of a header column (and of a field in a line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// Dates, times, numbers (pids, sequence numbers), month and weekday
    /// names, addresses: `2015-10-18`, `18:01:47,978`, `081109`, `Jun`.
    Time,
    /// A level word: `INFO`, `warn`, `ERROR:`.
    Level,
    /// A bracketed or parenthesized field: `[main]`, `[notice]`, `(INFO)`.
    Bracket,
    /// A lone mark between columns: `-`, `--`, Redis's `*`, `#`, `.`.
    Dash,
    /// A token ending in `:`: `sshd[24200]:`, `executor.Executor:`.
    Component,
    /// Any other token: host names, logger names.
    Word,
}

const KINDS: [ColumnKind; 6] = [
    ColumnKind::Time,
    ColumnKind::Level,
    ColumnKind::Bracket,
    ColumnKind::Dash,
    ColumnKind::Component,
    ColumnKind::Word,
];

/// A file's header layout: the kinds of its leading columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderLayout {
    columns: Vec<ColumnKind>,
}

#[inline]
fn is_sep(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'|')
}

/// The first separator at or after `from`, or the line's length; eight
/// bytes at a time (SWAR: a byte equal to the separator XORs to zero; the
/// lowest flagged byte is always a true match).
#[inline]
fn find_sep(line: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut p = from;
    while let Some(chunk) = line.get(p..p + 8) {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let hit = zero_bytes(w ^ (u64::from(b' ') * ONES))
            | zero_bytes(w ^ (u64::from(b'\t') * ONES))
            | zero_bytes(w ^ (u64::from(b'|') * ONES));
        if hit != 0 {
            return p + (hit.trailing_zeros() / 8) as usize;
        }
        p += 8;
    }
    while p < line.len() && !is_sep(line[p]) {
        p += 1;
    }
    p
}

/// Iterator over the fields of a line: `(start, end)` byte ranges.
struct Fields<'a> {
    line: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    fn new(line: &'a [u8]) -> Self {
        Fields { line, pos: 0 }
    }

    fn skip_seps(&mut self) {
        while self.pos < self.line.len() && is_sep(self.line[self.pos]) {
            self.pos += 1;
        }
    }
}

impl Iterator for Fields<'_> {
    type Item = (usize, usize);

    #[inline]
    fn next(&mut self) -> Option<(usize, usize)> {
        self.skip_seps();
        let line = self.line;
        let start = self.pos;
        if start >= line.len() {
            return None;
        }
        let mut p = start;
        if let Some(close) = match line[start] {
            b'[' => Some(b']'),
            b'(' => Some(b')'),
            _ => None,
        } {
            let open = line[start];
            let mut depth = 0usize;
            let limit = line.len().min(start + MAX_BRACKET);
            let mut q = start;
            while q < limit {
                let c = line[q];
                if c == open {
                    depth += 1;
                } else if c == close {
                    depth -= 1;
                    if depth == 0 {
                        p = q + 1;
                        break;
                    }
                }
                q += 1;
            }
        }
        p = find_sep(line, p);
        self.pos = p;
        Some((start, p))
    }
}

const MONTHS: [&[u8]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];
const WEEKDAYS: [&[u8]; 7] = [b"mon", b"tue", b"wed", b"thu", b"fri", b"sat", b"sun"];
const MONTH_NAMES: [&[u8]; 12] = [
    b"january",
    b"february",
    b"march",
    b"april",
    b"may",
    b"june",
    b"july",
    b"august",
    b"september",
    b"october",
    b"november",
    b"december",
];
const WEEKDAY_NAMES: [&[u8]; 7] = [
    b"monday",
    b"tuesday",
    b"wednesday",
    b"thursday",
    b"friday",
    b"saturday",
    b"sunday",
];

fn is_calendar_name(tok: &[u8]) -> bool {
    let tok = tok.strip_suffix(b",").unwrap_or(tok);
    if tok.len() < 3 || tok.len() > 9 {
        return false;
    }
    let mut buf = [0u8; 9];
    let lower = &mut buf[..tok.len()];
    for (d, s) in lower.iter_mut().zip(tok) {
        *d = s.to_ascii_lowercase();
    }
    let lower = &*lower;
    MONTHS.contains(&lower)
        || WEEKDAYS.contains(&lower)
        || MONTH_NAMES.contains(&lower)
        || WEEKDAY_NAMES.contains(&lower)
}

fn is_time_like(tok: &[u8]) -> bool {
    tok.iter().any(u8::is_ascii_digit)
        && tok.iter().all(|&c| {
            c.is_ascii_digit() || matches!(c, b':' | b'-' | b'/' | b'.' | b',' | b'+' | b'T' | b'Z')
        })
        || is_calendar_name(tok)
}

/// Whether a time-like field is a date or a clock (`2015-10-18`,
/// `18:01:47`, `17/06/09`, `Jun`), not a plain number or an address.
fn is_dated(tok: &[u8]) -> bool {
    let core = tok.strip_suffix(b":").unwrap_or(tok);
    is_calendar_name(core)
        || core.windows(3).any(|w| {
            w[0].is_ascii_digit() && matches!(w[1], b':' | b'-' | b'/') && w[2].is_ascii_digit()
        })
}

/// The kind of one field.
pub fn classify(tok: &[u8]) -> ColumnKind {
    let (Some(&first), Some(_)) = (tok.first(), tok.last()) else {
        return ColumnKind::Word;
    };
    if is_mark(tok) {
        return ColumnKind::Dash;
    }
    let core = tok.strip_suffix(b":").unwrap_or(tok);
    if matches!(first, b'[' | b'(')
        && core.len() >= 2
        && matches!(core[core.len() - 1], b']' | b')')
    {
        return ColumnKind::Bracket;
    }
    if Level::from_word(core).is_some() {
        return ColumnKind::Level;
    }
    if is_time_like(core) {
        return ColumnKind::Time;
    }
    if is_component(tok) {
        return ColumnKind::Component;
    }
    ColumnKind::Word
}

/// Whether a field fits a learned column: the same answer as comparing
/// [`classify`] with the column (a level column also takes plain words),
/// without classifying the field in full.
#[inline]
fn fits(kind: ColumnKind, tok: &[u8]) -> bool {
    let (Some(&first), Some(_)) = (tok.first(), tok.last()) else {
        return matches!(kind, ColumnKind::Word | ColumnKind::Level);
    };
    let dash = is_mark(tok);
    let core = tok.strip_suffix(b":").unwrap_or(tok);
    let bracket = !dash
        && matches!(first, b'[' | b'(')
        && core.len() >= 2
        && matches!(core[core.len() - 1], b']' | b')');
    match kind {
        ColumnKind::Word => true,
        ColumnKind::Dash => dash,
        ColumnKind::Bracket => bracket,
        ColumnKind::Time => !dash && !bracket && is_time_like(core) && !is_level(core),
        ColumnKind::Level => {
            !dash && !bracket && (is_level(core) || !(is_time_like(core) || is_component(tok)))
        }
        ColumnKind::Component => {
            !dash && !bracket && !is_level(core) && !is_time_like(core) && is_component(tok)
        }
    }
}

/// A name ending in `:` (`sshd[24200]:`, `dfs.FSNamesystem:`): it starts
/// with a letter, digit or `_`, so a JSON key (`{"topic":`) is not one.
#[inline]
fn is_component(tok: &[u8]) -> bool {
    tok.len() > 1
        && tok[tok.len() - 1] == b':'
        && (tok[0].is_ascii_alphanumeric() || tok[0] == b'_')
}

/// A lone mark between columns: `-`, `--`, or one of Redis's level marks
/// (`*`, `#`, `.`).
#[inline]
fn is_mark(tok: &[u8]) -> bool {
    matches!(tok, b"-" | b"--" | b"*" | b"#" | b".")
}

#[inline]
fn is_level(word: &[u8]) -> bool {
    Level::from_word(word).is_some()
}

impl HeaderLayout {
    /// A layout with no header: every line is all message.
    pub fn none() -> Self {
        HeaderLayout::default()
    }

    /// A layout with the given columns.
    pub fn from_columns(columns: Vec<ColumnKind>) -> Self {
        HeaderLayout { columns }
    }

    /// The learned columns, first to last.
    pub fn columns(&self) -> &[ColumnKind] {
        &self.columns
    }

    /// Learns the layout from sample lines (the first [`SAMPLE_LINES`]
    /// lines that do not start with whitespace are used).
    pub fn learn<'a, I>(lines: I) -> HeaderLayout
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let mut counts = [[0u32; KINDS.len()]; MAX_COLUMNS];
        // Per column, fields that open a quoted string (an access log's
        // `"GET / HTTP/1.1"`): the message starts there.
        let mut quoted = [0u32; MAX_COLUMNS];
        // Per column, lines with a field after it: a header column must
        // leave a message behind.
        let mut followed = [0u32; MAX_COLUMNS];
        // Per column, fields that are a date or a clock (not a plain
        // number): what anchors a header.
        let mut dated = [0u32; MAX_COLUMNS];
        // Per column, fields followed by `|`: a table of columns, where a
        // plain number (a pid, an id) after a name is a header column too.
        let mut piped = [0u32; MAX_COLUMNS];
        let mut n = 0u32;
        for line in lines {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() || line[0].is_ascii_whitespace() {
                continue;
            }
            n += 1;
            let fields = Fields::new(line).take(MAX_COLUMNS + 1).enumerate();
            for (k, (s, e)) in fields {
                if k == MAX_COLUMNS {
                    followed[k - 1] += 1;
                    break;
                }
                if k > 0 {
                    followed[k - 1] += 1;
                }
                let tok = &line[s..e];
                let kind = classify(tok);
                counts[k][kind as usize] += 1;
                quoted[k] += u32::from(line[s] == b'"');
                dated[k] += u32::from(kind == ColumnKind::Time && is_dated(tok));
                piped[k] += u32::from(line.get(e) == Some(&b'|'));
            }
            if n as usize >= SAMPLE_LINES {
                break;
            }
        }
        let mut columns = Vec::new();
        let mut pending = Vec::new();
        // Whether a column so far anchors the header: a date or clock, a
        // level or a bracketed column. Word columns (host and logger
        // names) join a header only behind or before such an anchor, and
        // only when enough lines show them.
        let mut anchored = false;
        let mut suspect = false;
        let need = (CONSISTENCY * n as f64).ceil() as u32;
        for (k, column) in counts.iter().enumerate() {
            let (best, &count) = column
                .iter()
                .enumerate()
                .max_by_key(|&(i, c)| (*c, std::cmp::Reverse(i)))
                .unwrap_or((0, &0));
            if n == 0 || quoted[k] >= need || followed[k] < need {
                break;
            }
            // A column of names and dashes (an access log's user, `-` when
            // unknown) is a word column.
            let names = column[ColumnKind::Word as usize] + column[ColumnKind::Dash as usize];
            let kind = if count >= need {
                KINDS[best]
            } else if names >= need {
                ColumnKind::Word
            } else {
                break;
            };
            if kind == ColumnKind::Word {
                if n < MIN_WORD_LINES {
                    break;
                }
                pending.push(kind);
                continue;
            }
            // A plain number right after words is more likely the
            // message's own (`request 7 took 3ms`) unless the columns are a
            // table: the words then need an anchor after the number
            // (`12345:M 04 May 2026`).
            suspect |= kind == ColumnKind::Time
                && dated[k] < need
                && !pending.is_empty()
                && piped[k - 1] < need;
            let anchor = match kind {
                ColumnKind::Time => dated[k] >= need,
                ColumnKind::Level | ColumnKind::Bracket => true,
                ColumnKind::Component => n >= MIN_WORD_LINES,
                ColumnKind::Dash | ColumnKind::Word => false,
            };
            if pending.is_empty() || anchor || (anchored && !suspect) {
                anchored |= anchor;
                suspect = false;
                columns.append(&mut pending);
                columns.push(kind);
            } else {
                // Behind words not yet anchored: joins with them or not.
                pending.push(kind);
            }
            // A component ends the header, and so does a dash once the
            // level is in it (`… INFO [main] com.x.Api - message`).
            if kind == ColumnKind::Component
                || (kind == ColumnKind::Dash && columns.contains(&ColumnKind::Level))
            {
                break;
            }
        }
        HeaderLayout { columns }
    }

    /// Learns the layout from the head of a file's bytes (up to
    /// [`SAMPLE_LINES`] lines).
    pub fn learn_from_bytes(bytes: &[u8]) -> HeaderLayout {
        HeaderLayout::learn(bytes.split(|&c| c == b'\n'))
    }

    /// One pass over the header: where the message starts, and the level
    /// written in a level column or a bracketed column, if any.
    /// `time_end`: where a timestamp the caller already parsed at the start
    /// of the line ends (0 if none); time columns inside it are taken as
    /// read.
    pub fn scan(&self, line: &[u8], time_end: usize) -> (usize, Option<Level>) {
        if self.columns.is_empty() {
            return (0, None);
        }
        let mut level = None;
        let mut fields = Fields::new(line);
        for (k, &kind) in self.columns.iter().enumerate() {
            let Some((s, e)) = fields.next() else {
                return (line.len(), level);
            };
            if kind == ColumnKind::Time && e <= time_end {
                continue;
            }
            let tok = &line[s..e];
            let core = tok.strip_suffix(b":").unwrap_or(tok);
            if kind == ColumnKind::Level {
                // The level column decides the fit and the level at once.
                match Level::from_word(core) {
                    Some(found) => {
                        level = level.or(Some(found));
                        continue;
                    }
                    None if fits(kind, tok) => continue,
                    None => return (if k == 0 { 0 } else { s }, level),
                }
            }
            if !fits(kind, tok) {
                return (if k == 0 { 0 } else { s }, level);
            }
            if level.is_none() && kind == ColumnKind::Bracket && core.len() >= 2 {
                level = Level::from_word(&core[1..core.len() - 1]);
            }
        }
        // The whole timestamp is header, a zone name after it included.
        fields.pos = fields.pos.max(time_end);
        fields.skip_seps();
        (fields.pos, level)
    }

    /// Byte offset in `line` where the message starts.
    pub fn message_start(&self, line: &[u8]) -> usize {
        if self.columns.is_empty() {
            return 0;
        }
        let mut fields = Fields::new(line);
        for (k, &kind) in self.columns.iter().enumerate() {
            let Some((s, e)) = fields.next() else {
                return line.len();
            };
            if !fits(kind, &line[s..e]) {
                // A line whose first field does not fit has no header.
                return if k == 0 { 0 } else { s };
            }
        }
        fields.skip_seps();
        fields.pos
    }

    /// The message part of `line`.
    pub fn message<'a>(&self, line: &'a [u8]) -> &'a [u8] {
        &line[self.message_start(line)..]
    }

    /// The message part of `line`, or the whole line when nothing follows
    /// its header (a line that is all header keeps its text).
    pub fn message_or_all<'a>(&self, line: &'a [u8]) -> &'a [u8] {
        match self.message_start(line) {
            start if start < line.len() => &line[start..],
            _ => line,
        }
    }

    /// The level written in the header, if a level column or a bracketed
    /// column holds a level word.
    pub fn level(&self, line: &[u8]) -> Option<Level> {
        let mut fields = Fields::new(line);
        for &kind in &self.columns {
            let (s, e) = fields.next()?;
            let tok = &line[s..e];
            let tok = tok.strip_suffix(b":").unwrap_or(tok);
            match kind {
                ColumnKind::Level => return Level::from_word(tok),
                ColumnKind::Bracket if tok.len() >= 2 => {
                    if let Some(level) = Level::from_word(&tok[1..tok.len() - 1]) {
                        return Some(level);
                    }
                }
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::ColumnKind::*;
    use super::*;

    fn learn(text: &str) -> HeaderLayout {
        HeaderLayout::learn(text.lines().map(str::as_bytes))
    }

    fn msg<'a>(layout: &HeaderLayout, line: &'a str) -> &'a str {
        &line[layout.message_start(line.as_bytes())..]
    }

    #[test]
    fn find_sep_agrees_with_a_bytewise_search() {
        let line = b"ab cd\tef|gh  12345678901234567890|x y\x20\xa0\x09";
        for from in 0..=line.len() {
            let want = (from..line.len())
                .find(|&p| is_sep(line[p]))
                .unwrap_or(line.len());
            assert_eq!(find_sep(line, from), want, "from {from}");
        }
        for b in 0..=255u8 {
            let mut w = *b"aaaaaaaaaa";
            w[3] = b;
            let want = if is_sep(b) { 3 } else { 10 };
            assert_eq!(find_sep(&w, 0), want, "{b}");
        }
    }

    #[test]
    fn fields_keep_brackets_with_spaces_together() {
        let line = b"[Sun Dec 04 04:47:44 2005] [error] x|y  QuorumPeer[a b]";
        let got: Vec<&[u8]> = Fields::new(line).map(|(s, e)| &line[s..e]).collect();
        assert_eq!(
            got,
            vec![
                &b"[Sun Dec 04 04:47:44 2005]"[..],
                b"[error]",
                b"x",
                b"y",
                b"QuorumPeer[a",
                b"b]"
            ]
        );
    }

    #[test]
    fn classifies_fields() {
        assert_eq!(classify(b"2015-10-18"), Time);
        assert_eq!(classify(b"18:01:47,978"), Time);
        assert_eq!(classify(b"Jun"), Time);
        assert_eq!(classify(b"4211"), Time);
        assert_eq!(classify(b"WARN"), Level);
        assert_eq!(classify(b"error:"), Level);
        assert_eq!(classify(b"[main]"), Bracket);
        assert_eq!(classify(b"-"), Dash);
        assert_eq!(classify(b"sshd[24200]:"), Component);
        assert_eq!(classify(b"combo"), Word);
    }

    #[test]
    fn syslog_with_host_and_program() {
        let text = "Jan  5 10:00:01 web1 sshd[811]: Accepted publickey for alice from 10.0.0.2\n\
                    Jan  5 10:00:02 web1 CRON[812]: (root) CMD (run-parts /etc/cron.hourly)\n\
                    Jan  5 10:00:09 web1 kernel: [ 12.5] eth0: link up\n\
                    Jan 15 10:01:00 web1 sshd[813]: Disconnected from user alice 10.0.0.2 port 22";
        let layout = learn(text);
        assert_eq!(layout.columns(), &[Time, Time, Time, Word, Component]);
        let line = text.lines().nth(2).unwrap();
        assert_eq!(msg(&layout, line), "[ 12.5] eth0: link up");
    }

    #[test]
    fn iso_time_level_logger_dash() {
        // Python logging's common layout.
        let text = "2024-03-01 10:00:00,001 - app.db - INFO - connected to primary\n\
                    2024-03-01 10:00:01,002 - app.http - WARNING - slow request /x took 2s\n\
                    2024-03-01 10:00:02,003 - app.db - ERROR - query failed: timeout\n\
                    2024-03-01 10:00:03,004 - app.http - INFO - GET /y 200";
        let layout = learn(text);
        assert_eq!(
            layout.columns(),
            &[Time, Time, Dash, Word, Dash, Level, Dash]
        );
        let line = text.lines().nth(2).unwrap();
        assert_eq!(msg(&layout, line), "query failed: timeout");
        assert_eq!(
            layout.level(line.as_bytes()),
            Some(crate::level::Level::Error)
        );
    }

    #[test]
    fn bracketed_time_and_level() {
        let text = "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok\n\
                    [Sun Dec 04 04:47:45 2005] [error] mod_jk child in error state 6\n\
                    [Sun Dec 04 04:48:00 2005] [error] [client 1.2.3.4] Directory index forbidden";
        let layout = learn(text);
        assert_eq!(layout.columns(), &[Bracket, Bracket]);
        let line = text.lines().nth(2).unwrap();
        assert_eq!(
            msg(&layout, line),
            "[client 1.2.3.4] Directory index forbidden"
        );
    }

    #[test]
    fn pipe_separated_columns() {
        let text = "20240101-10:00:00:001|Sensor_A|3001|onChange 5\n\
                    20240101-10:00:00:002|Sensor_B|3001|flush ok\n\
                    20240101-10:00:00:003|Sensor_A|3001| report = 7";
        let layout = learn(text);
        assert_eq!(layout.columns(), &[Time, Word, Time]);
        assert_eq!(msg(&layout, text.lines().nth(2).unwrap()), "report = 7");
    }

    #[test]
    fn java_style_with_thread_and_logger() {
        let text = "2024-01-01 10:00:00.123 INFO [main] com.x.App: started in 3s\n\
                    2024-01-01 10:00:00.124 WARN [pool-1 thread-2] com.x.Db: slow: 5s\n\
                    2024-01-01 10:00:00.125 INFO [main] com.x.App: ready";
        let layout = learn(text);
        assert_eq!(layout.columns(), &[Time, Time, Level, Bracket, Component]);
        assert_eq!(msg(&layout, text.lines().nth(1).unwrap()), "slow: 5s");
    }

    #[test]
    fn continuation_lines_are_all_message_and_not_learned() {
        let text = "2024-01-01T10:00:00Z ERROR boom\n\
                    \tat com.x.Y.run(Y.java:10)\n\
                    2024-01-01T10:00:01Z INFO fine\n\
                    2024-01-01T10:00:02Z INFO fine again";
        let layout = learn(text);
        assert_eq!(layout.columns(), &[Time, Level]);
        assert_eq!(
            msg(&layout, "\tat com.x.Y.run(Y.java:10)"),
            "\tat com.x.Y.run(Y.java:10)"
        );
        assert_eq!(msg(&layout, "no header here"), "no header here");
        assert_eq!(msg(&layout, "2024-01-01T10:00:03Z"), "");
    }

    #[test]
    fn access_log_message_starts_at_the_request() {
        let text = "192.168.1.10 - - [04/May/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5120 \"-\" \"curl/8\"\n\
                    192.168.1.11 - alice [04/May/2026:10:00:01 +0000] \"GET /a HTTP/1.1\" 404 512 \"-\" \"x\"\n\
                    10.0.0.5 - - [04/May/2026:10:00:02 +0000] \"POST /b HTTP/1.1\" 502 0 \"-\" \"gPXE/0.9.7\"";
        let layout = learn(text);
        assert_eq!(layout.columns(), &[Time, Dash, Word, Bracket]);
        assert_eq!(
            msg(&layout, text.lines().nth(1).unwrap()),
            "\"GET /a HTTP/1.1\" 404 512 \"-\" \"x\""
        );
    }

    #[test]
    fn redis_level_marks_are_header() {
        let text = "12345:M 04 May 2026 10:00:00.123 * Server initialized\n\
                    12345:M 04 May 2026 10:00:00.124 # WARNING overcommit_memory is set to 0!\n\
                    12345:M 04 May 2026 10:00:00.125 - Accepted 127.0.0.1:50344\n\
                    12345:M 04 May 2026 10:00:00.126 * Ready to accept connections";
        let layout = learn(text);
        assert_eq!(
            msg(&layout, text.lines().nth(1).unwrap()),
            "WARNING overcommit_memory is set to 0!"
        );
        assert_eq!(
            msg(&layout, text.lines().nth(2).unwrap()),
            "Accepted 127.0.0.1:50344"
        );
    }

    #[test]
    fn a_tiny_file_keeps_its_message() {
        // One line: every column is "consistent"; none may eat the message.
        for text in [
            "retries exhausted for job 42",
            "retries exhausted for job 42 now",
            "job 12 done\njob 13 done\njob 14 done",
        ] {
            let layout = learn(text);
            assert!(layout.columns().is_empty(), "{text:?}: {layout:?}");
        }
        let text = "2026-11-29 10:00:01 INFO worker started pid 4242\n\
                    2026-11-29 10:00:02 WARN cache miss for key 17";
        let layout = learn(text);
        assert_eq!(layout.columns(), &[Time, Time, Level]);
        assert_eq!(
            msg(&layout, text.lines().next().unwrap()),
            "worker started pid 4242"
        );
        // A header is never the whole line.
        let layout = learn("2026-11-29 10:00:01 INFO");
        assert_eq!(layout.columns(), &[Time, Time]);
    }

    #[test]
    fn words_join_a_header_only_when_anchored_and_well_sampled() {
        // Words then a plain number, in many lines: the message's own.
        let text: String = (0..20)
            .map(|i| format!("user alice uploaded {i} files\n"))
            .collect();
        assert!(learn(&text).columns().is_empty());
        // A host after the clock, in enough lines: header.
        let text: String = (0..20)
            .map(|i| format!("10:00:{i:02} web{} sshd[{i}]: session opened\n", i % 3))
            .collect();
        assert_eq!(learn(&text).columns(), &[Time, Word, Component]);
        // The same in one line: the host is not learned.
        let text: String = text.lines().take(1).map(|l| format!("{l}\n")).collect();
        assert_eq!(learn(&text).columns(), &[Time]);
    }

    #[test]
    fn the_message_first_word_and_number_stay_message() {
        let text: String = (0..12)
            .map(|i| {
                format!(
                    "2026-11-29 10:00:{i:02}.123 INFO  [main] com.example.Api - {} {i} {}\n",
                    ["request", "job", "upstream"][i % 3],
                    ["took 3ms", "failed over", "unreachable"][i % 3]
                )
            })
            .collect();
        let layout = learn(&text);
        assert_eq!(layout.columns(), &[Time, Time, Level, Bracket, Word, Dash]);
        assert_eq!(
            msg(&layout, text.lines().nth(1).unwrap()),
            "job 1 failed over"
        );
        let text: String = (0..12)
            .map(|i| format!("2026-11-29 10:00:{i:02} INFO request {i} served in 3ms\n"))
            .collect();
        assert_eq!(learn(&text).columns(), &[Time, Time, Level]);
    }

    #[test]
    fn message_without_header_is_whole_line() {
        let text = "connected to db\nrequest served in 4ms\nshutting down now";
        let layout = learn(text);
        assert!(layout.columns().is_empty());
        assert_eq!(msg(&layout, "request served"), "request served");
    }

    proptest::proptest! {
        #[test]
        fn fits_agrees_with_classify(tok in "[\\[\\](:\\-0-9a-zA-Z.,/+TZ]{0,8}") {
            let tok = tok.as_bytes();
            for kind in KINDS {
                let got = classify(tok);
                let want = match kind {
                    ColumnKind::Word => true,
                    ColumnKind::Level => matches!(got, ColumnKind::Level | ColumnKind::Word),
                    other => got == other,
                };
                proptest::prop_assert_eq!(fits(kind, tok), want, "{:?} {:?}", kind, String::from_utf8_lossy(tok));
            }
        }
    }
}

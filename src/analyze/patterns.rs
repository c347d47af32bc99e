//! Pattern grouping: counting exact message templates and merging similar
//! ones into patterns, in the spirit of Drain.
//!
//! Two steps keep the result independent of thread count and chunk size
//! (design invariant 1):
//!
//! 1. [`TemplateCounts`] is the per-chunk state: exact template id →
//!    (template bytes, count, first offset). [`TemplateCounts::merge`] is
//!    associative and commutative (sums and minimums), so any chunking and
//!    any merge order give the same map.
//! 2. [`TemplateCounts::cluster`] runs once at the end over the distinct
//!    templates:
//!    - *variable positions*: among templates of one length that agree
//!      everywhere but at one position, that position is a variable if it
//!      shows at least four distinct words there, or two distinct tokens
//!      that both hold placeholders (`session closed for user alice|bob|…`
//!      → `… user <*>`; `session opened|closed` stays two events). The
//!      first token is taken to name the event and only varies when it
//!      holds placeholders. This step looks at the set of templates only.
//!    - *similarity merging*: in a canonical order (first occurrence, then
//!      id) a template joins the most similar existing pattern with the
//!      same token count if their similarity reaches the threshold (0.85
//!      by default), else it founds a new pattern; the tokens that differ
//!      become `<*>`.
//!
//! Similarity is the share of positions whose tokens are alike: equal once
//! every placeholder is written `<*>` (`<NUM>` and `<ID>` at the same place
//! are the same kind of variable), or both holding placeholders. A position
//! already turned into `<*>` by merging earns nothing (as in Drain, so a
//! pattern does not absorb ever more lines as it generalizes). Templates
//! whose first tokens are not alike, or with no token equal outright, have
//! similarity zero.
//!
//! # Pattern ids
//!
//! A pattern's id is the id of its most frequent template (ties: the
//! smaller id), printed as 16 hex digits. It depends neither on the merge
//! order nor on the rarer members, so the same pattern keeps its id across
//! runs over different slices of a file as long as its dominant template
//! is the same, and a pattern that is a single template has that
//! template's id.

use std::collections::HashMap;

use super::idmap::{IdMap, IdSet};
use super::series::Series;
use std::fmt;

use xxhash_rust::xxh3::xxh3_64;

use crate::normalize::PLACEHOLDERS;

/// Default similarity threshold for merging templates.
pub const DEFAULT_SIMILARITY: f64 = 0.85;

/// A pattern's stable 64-bit id; displays as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PatternId(pub u64);

impl fmt::Display for PatternId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Tuning of the grouping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatternConfig {
    /// Share of equal tokens (0..=1) at which templates merge.
    pub similarity: f64,
}

impl Default for PatternConfig {
    fn default() -> Self {
        PatternConfig {
            similarity: DEFAULT_SIMILARITY,
        }
    }
}

/// What is known about one exact template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateStat {
    /// The template bytes (as seen at its first occurrence).
    pub template: Box<[u8]>,
    /// Number of records with this template.
    pub count: u64,
    /// Offset (byte or record position) of its first record.
    pub first_offset: u64,
    /// Its counts over time (filled when trends are wanted).
    pub series: Series,
}

/// Distinct templates kept at most (see [`TemplateCounts`]).
pub const MAX_TEMPLATES: usize = 1 << 16;

/// Patterns compared with a template at most when grouping (see
/// [`TemplateCounts::cluster`]).
pub const MAX_CANDIDATES: usize = 64;

/// Mergeable per-chunk counts of exact templates.
///
/// **Bounded memory.** At most [`MAX_TEMPLATES`] distinct templates are
/// kept. Past that, the map keeps a hash-chosen sample: a template is kept
/// while its id's mixed hash has at least `level` leading zero bits, and
/// `level` rises (halving the sample) whenever the kept templates exceed
/// the cap. Records of templates left out are counted together in
/// [`TemplateCounts::beyond`]. Whether a template is kept depends only on
/// its id and on the set of distinct templates of the whole input, never
/// on chunking: a chunk's level is never above the whole input's (its
/// templates are a subset), and merging raises the level to the larger of
/// the two and then as far as the cap needs, so the kept templates and
/// their counts are the same for any cut.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateCounts {
    stats: IdMap<u64, TemplateStat>,
    level: u32,
    beyond: TemplateStat,
}

impl Default for TemplateStat {
    fn default() -> Self {
        TemplateStat {
            template: Box::default(),
            count: 0,
            first_offset: u64::MAX,
            series: Series::default(),
        }
    }
}

/// The sampling key of a template id: the id spread once more, so the
/// sample does not follow the map's own hashing.
#[inline]
fn sample_bits(id: u64) -> u32 {
    (id ^ 0x5851_F42D_4C95_7F2D)
        .wrapping_mul(0x2545_F491_4F6C_DD1D)
        .leading_zeros()
}

impl TemplateCounts {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether template `id` is kept at the current sampling level.
    #[inline]
    fn keeps(&self, id: u64) -> bool {
        self.level == 0 || sample_bits(id) >= self.level
    }

    /// Raises the sampling level until the kept templates fit the cap.
    fn shrink(&mut self) {
        while self.stats.len() > MAX_TEMPLATES {
            self.level += 1;
            let level = self.level;
            let beyond = &mut self.beyond;
            self.stats.retain(|&id, stat| {
                let keep = sample_bits(id) >= level;
                if !keep {
                    Self::drop_into(beyond, std::mem::take(stat));
                }
                keep
            });
        }
    }

    /// Records whose templates were left out of the sample (zero unless
    /// the input has more than [`MAX_TEMPLATES`] distinct templates), with
    /// their series.
    pub fn beyond(&self) -> &TemplateStat {
        &self.beyond
    }

    /// Counts one record with template `template` (id `id`) at `offset`.
    #[inline]
    pub fn observe(&mut self, id: u64, template: &[u8], offset: u64) {
        self.observe_n(id, template, 1, offset);
    }

    /// Counts `count` records with the same template, the first at `offset`.
    pub fn observe_n(&mut self, id: u64, template: &[u8], count: u64, offset: u64) {
        if !self.keeps(id) {
            self.beyond.count += count;
            self.beyond.first_offset = self.beyond.first_offset.min(offset);
            return;
        }
        match self.stats.get_mut(&id) {
            Some(s) => {
                s.count += count;
                if offset < s.first_offset {
                    s.first_offset = offset;
                    s.template = template.into();
                }
            }
            None => {
                self.stats.insert(
                    id,
                    TemplateStat {
                        template: template.into(),
                        count,
                        first_offset: offset,
                        series: Series::default(),
                    },
                );
                self.shrink();
            }
        }
    }

    /// Counts one record and returns its template's entry (for the caller
    /// to add to its series).
    #[inline]
    pub fn observe_entry(&mut self, id: u64, template: &[u8], offset: u64) -> &mut TemplateStat {
        if !self.keeps(id) {
            return self.add_beyond(offset);
        }
        if self.stats.len() >= MAX_TEMPLATES && !self.stats.contains_key(&id) {
            // A new template at the cap: take it in, then narrow the sample.
            self.stats.insert(
                id,
                TemplateStat {
                    template: template.into(),
                    count: 0,
                    first_offset: offset,
                    series: Series::default(),
                },
            );
            self.shrink();
            if !self.keeps(id) {
                return self.add_beyond(offset);
            }
        }
        let stat = self.stats.entry(id).or_insert_with(|| TemplateStat {
            template: template.into(),
            count: 0,
            first_offset: offset,
            series: Series::default(),
        });
        stat.count += 1;
        if offset < stat.first_offset {
            stat.first_offset = offset;
            stat.template = template.into();
        }
        stat
    }

    /// Counts one record of a template left out of the sample.
    fn add_beyond(&mut self, offset: u64) -> &mut TemplateStat {
        self.beyond.count += 1;
        self.beyond.first_offset = self.beyond.first_offset.min(offset);
        &mut self.beyond
    }

    /// Moves a left-out template's counts to [`TemplateCounts::beyond`].
    fn drop_into(beyond: &mut TemplateStat, stat: TemplateStat) {
        beyond.count += stat.count;
        beyond.first_offset = beyond.first_offset.min(stat.first_offset);
        beyond.series.merge(stat.series);
    }

    /// Adds `other`'s counts (and series) to these. Every part of a stat
    /// merges commutatively, so the smaller map is folded into the larger;
    /// the sample is then narrowed to the larger of the two levels and to
    /// the cap.
    pub fn merge(&mut self, mut other: TemplateCounts) {
        if self.stats.len() < other.stats.len() {
            std::mem::swap(&mut self.stats, &mut other.stats);
        }
        let level = self.level.max(other.level);
        Self::drop_into(&mut self.beyond, other.beyond);
        self.level = level;
        if level > 0 {
            let beyond = &mut self.beyond;
            self.stats.retain(|&id, stat| {
                let keep = sample_bits(id) >= level;
                if !keep {
                    Self::drop_into(beyond, std::mem::take(stat));
                }
                keep
            });
        }
        for (id, stat) in other.stats {
            if self.keeps(id) {
                self.absorb(id, stat);
            } else {
                Self::drop_into(&mut self.beyond, stat);
            }
        }
        self.shrink();
    }

    fn absorb(&mut self, id: u64, stat: TemplateStat) {
        match self.stats.get_mut(&id) {
            Some(s) => {
                s.count += stat.count;
                if stat.first_offset < s.first_offset {
                    s.first_offset = stat.first_offset;
                    s.template = stat.template;
                }
                s.series.merge(stat.series);
            }
            None => {
                self.stats.insert(id, stat);
            }
        }
    }

    /// Every template with its stats (any order).
    pub fn iter(&self) -> impl Iterator<Item = (u64, &TemplateStat)> {
        self.stats.iter().map(|(&id, s)| (id, s))
    }

    /// Number of distinct templates.
    pub fn len(&self) -> usize {
        self.stats.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stats.is_empty()
    }

    /// The stats of one template.
    pub fn get(&self, id: u64) -> Option<&TemplateStat> {
        self.stats.get(&id)
    }

    /// Total records counted, those beyond the sample included.
    pub fn total(&self) -> u64 {
        self.stats.values().map(|s| s.count).sum::<u64>() + self.beyond.count
    }

    /// Every template its own pattern (grouping switched off).
    pub fn exact(&self) -> Patterns {
        let mut order: Vec<(u64, &TemplateStat)> =
            self.stats.iter().map(|(&id, s)| (id, s)).collect();
        order.sort_unstable_by_key(|&(id, s)| (s.first_offset, id));
        let mut by_template = IdMap::with_capacity_and_hasher(order.len(), Default::default());
        let patterns = order
            .into_iter()
            .enumerate()
            .map(|(index, (id, stat))| {
                by_template.insert(id, index);
                Pattern {
                    id: PatternId(id),
                    text: stat.template.to_vec(),
                    count: stat.count,
                    first_offset: stat.first_offset,
                    templates: vec![id],
                }
            })
            .collect();
        Patterns {
            patterns,
            by_template,
        }
    }

    /// Groups the templates into patterns.
    pub fn cluster(&self, cfg: &PatternConfig) -> Patterns {
        let mut order: Vec<(u64, &TemplateStat)> =
            self.stats.iter().map(|(&id, s)| (id, s)).collect();
        order.sort_unstable_by_key(|&(id, s)| (s.first_offset, id));
        let keys = variable_keys(order.iter().map(|(_, s)| &s.template[..]));
        let mut tokens = TokenTable::new(order.iter().map(|(_, s)| &s.template[..]), &keys);
        mark_variable_positions(&mut tokens);

        let mut building: Vec<Building> = Vec::new();
        // Candidates share the token count and have an alike first token:
        // the same canonical token, or any placeholder-holding one. Each
        // bucket is a list through `next` (oldest first), so a bucket of
        // one pattern, the common case on high-entropy input, costs no
        // allocation of its own.
        let mut buckets: HashMap<(usize, Option<u64>), (usize, usize), IdBuild> =
            HashMap::default();
        let mut next: Vec<usize> = Vec::new();
        for (t, &(id, stat)) in order.iter().enumerate() {
            let toks = tokens.row(t);
            let first = toks.first().and_then(|t| (!t.var).then_some(t.canon));
            let mut best: Option<(usize, f64)> = None;
            let bucket = buckets.get(&(toks.len(), first)).copied();
            // The oldest patterns of the bucket are its established ones; a
            // bucket holding more than this is high-entropy input, where
            // comparing with every pattern would make grouping quadratic.
            let mut p = bucket.map_or(NONE, |(head, _)| head);
            let mut compared = 0;
            while p != NONE && compared < MAX_CANDIDATES {
                let sim = building[p].similarity(&tokens, toks);
                if sim >= cfg.similarity && best.is_none_or(|(_, b)| sim > b) {
                    best = Some((p, sim));
                }
                p = next[p];
                compared += 1;
            }
            match best {
                Some((p, _)) => building[p].absorb(id, stat, toks, &order, &tokens),
                None => {
                    let index = building.len();
                    building.push(Building::found(t, stat));
                    next.push(NONE);
                    match bucket {
                        Some((head, tail)) => {
                            next[tail] = index;
                            buckets.insert((toks.len(), first), (head, index));
                        }
                        None => {
                            buckets.insert((toks.len(), first), (index, index));
                        }
                    }
                }
            }
        }

        let mut patterns = Vec::with_capacity(building.len());
        let mut by_template = IdMap::with_capacity_and_hasher(self.stats.len(), Default::default());
        for (index, b) in building.into_iter().enumerate() {
            match &b.merged {
                Some(m) => {
                    for &(tid, _) in &m.members {
                        by_template.insert(tid, index);
                    }
                }
                None => {
                    by_template.insert(order[b.founder].0, index);
                }
            }
            patterns.push(b.finish(&order, &tokens));
        }
        Patterns {
            patterns,
            by_template,
        }
    }
}

/// Passes of [`mark_variable_positions`] at most.
const VARIABLE_PASSES: usize = 4;
/// Distinct words at one position, all else equal, that make it variable.
const VARIABLE_WORDS: usize = 4;

/// Finds positions that vary among templates otherwise alike: when the
/// templates of one length that agree everywhere but position `i` show
/// there at least [`VARIABLE_WORDS`] distinct tokens, or two distinct
/// tokens that both hold placeholders, position `i` is a variable of theirs
/// and becomes `<*>`. The decision depends only on the set of templates,
/// not on their order. Repeated while it finds new variables, since one
/// position turning variable can make the templates agree elsewhere.
fn mark_variable_positions(tokens: &mut TokenTable) {
    let wild = Tok::wild();
    let mut by_len: HashMap<usize, Vec<usize>> = HashMap::new();
    for t in 0..tokens.len() {
        let n = tokens.row(t).len();
        if n >= 2 {
            by_len.entry(n).or_default().push(t);
        }
    }
    for _ in 0..VARIABLE_PASSES {
        let mut marks: Vec<(usize, usize)> = Vec::new();
        for (&len, members) in &by_len {
            if members.len() < 2 {
                continue;
            }
            // The first token names the event (Drain's habit too): it only
            // varies when it holds placeholders.
            // Hashes of every prefix and suffix of each member, so the key
            // "all tokens but the i-th" costs O(1) per position.
            let mut prefix = vec![0u64; members.len() * (len + 1)];
            let mut suffix = vec![0u64; members.len() * (len + 1)];
            for (m, &t) in members.iter().enumerate() {
                let (pre, suf) = (
                    &mut prefix[m * (len + 1)..(m + 1) * (len + 1)],
                    &mut suffix[m * (len + 1)..(m + 1) * (len + 1)],
                );
                pre[0] = SEED;
                for k in 0..len {
                    pre[k + 1] = step(pre[k], tokens.row(t)[k].canon);
                }
                suf[len] = SEED;
                for k in (0..len).rev() {
                    suf[k] = step(suf[k + 1], tokens.row(t)[k].canon);
                }
            }
            // (key, token at i, template) sorted: each run of one key is a
            // group of templates alike everywhere but at i.
            let mut keys: Vec<u64> = Vec::with_capacity(members.len());
            let mut sorted: Vec<u64> = Vec::with_capacity(members.len());
            let mut shared: IdSet<u64> = IdSet::default();
            let mut entries: Vec<(u64, u64, usize)> = Vec::with_capacity(members.len());
            for i in 0..len {
                keys.clear();
                keys.extend((0..members.len()).map(|m| {
                    let row = m * (len + 1);
                    step(prefix[row + i], suffix[row + i + 1] ^ 0x9E37_79B9)
                }));
                // Only keys held by two templates or more make a group: find
                // them on the bare keys, so that high-entropy input (every
                // template alone) sorts plain integers and nothing else.
                sorted.clone_from(&keys);
                sorted.sort_unstable();
                shared.clear();
                shared.extend(sorted.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]));
                if shared.is_empty() {
                    continue;
                }
                entries.clear();
                entries.extend(
                    members
                        .iter()
                        .zip(&keys)
                        .filter(|(_, key)| shared.contains(*key))
                        .map(|(&t, &key)| (key, tokens.row(t)[i].canon, t)),
                );
                entries.sort_unstable();
                for group in entries.chunk_by(|a, b| a.0 == b.0) {
                    if group.len() < 2 {
                        continue;
                    }
                    let distinct = 1 + group.windows(2).filter(|w| w[0].1 != w[1].1).count();
                    let all_var = group.iter().all(|&(_, _, t)| tokens.row(t)[i].var);
                    let words = i > 0 && distinct >= VARIABLE_WORDS;
                    // Words where other templates alike hold a value of the
                    // same wrapping (`host 'web01'.` and `host 'edge-a'.`)
                    // are values too.
                    let beside_values = i > 0
                        && distinct >= 2
                        && group.iter().any(|&(_, _, t)| tokens.row(t)[i].var)
                        && group
                            .windows(2)
                            .all(|w| tokens.row(w[0].2)[i].edges == tokens.row(w[1].2)[i].edges);
                    if words || beside_values || (distinct >= 2 && all_var) {
                        marks.extend(
                            group
                                .iter()
                                .filter(|&&(_, canon, _)| canon != wild.canon)
                                .map(|&(_, _, t)| (t, i)),
                        );
                    }
                }
            }
        }
        if marks.is_empty() {
            break;
        }
        for (t, i) in marks {
            tokens.set(t, i, wild);
        }
    }
}

/// Start of an order-sensitive hash of a sequence of token hashes.
const SEED: u64 = 0x243F_6A88_85A3_08D3;

/// One step of an order-sensitive hash of a sequence of token hashes.
#[inline]
fn step(h: u64, w: u64) -> u64 {
    (h.rotate_left(5) ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// One token of a template: the hash of the token with every placeholder
/// written `<*>`, the hash of the raw token, and whether it holds a
/// placeholder.
#[derive(Debug, Clone, Copy)]
struct Tok {
    canon: u64,
    raw: u64,
    var: bool,
    /// The token's leading and trailing punctuation (zero for an
    /// alphanumeric end): its wrapping, such as quotes or a final period.
    edges: [u8; 2],
}

impl Tok {
    fn wild() -> Tok {
        let h = xxh3_64(b"<*>");
        Tok {
            canon: h,
            raw: h,
            var: true,
            edges: [0, 0],
        }
    }
}

/// The wrapping of a token: its first and last bytes when they are
/// punctuation, else zero. A placeholder's `<` and `>` are not wrapping.
fn edges(tok: &[u8]) -> [u8; 2] {
    let edge = |c: Option<&u8>| match c {
        Some(&c) if !c.is_ascii_alphanumeric() && c != b'<' && c != b'>' => c,
        _ => 0,
    };
    [edge(tok.first()), edge(tok.last())]
}

/// A pattern position: the founding token's canonical hash and whether it
/// holds a placeholder, or `None` once members differ there.
type PatTok = Option<(u64, bool)>;

/// The tokens of every template, in one buffer.
struct TokenTable {
    toks: Vec<Tok>,
    /// Where each template's tokens start in `toks`, and the end.
    starts: Vec<usize>,
}

impl TokenTable {
    fn new<'a>(templates: impl Iterator<Item = &'a [u8]>, variable_keys: &KeySet) -> TokenTable {
        let mut table = TokenTable {
            toks: Vec::new(),
            starts: vec![0],
        };
        let mut canon = Vec::new();
        for template in templates {
            tokens_of(template, variable_keys, &mut canon, &mut table.toks);
            table.starts.push(table.toks.len());
        }
        table
    }

    /// Number of templates.
    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// The tokens of template `t`.
    #[inline]
    fn row(&self, t: usize) -> &[Tok] {
        &self.toks[self.starts[t]..self.starts[t + 1]]
    }

    fn set(&mut self, t: usize, i: usize, tok: Tok) {
        self.toks[self.starts[t] + i] = tok;
    }
}

/// Appends the tokens of `template` to `toks`.
fn tokens_of(template: &[u8], variable_keys: &KeySet, canon: &mut Vec<u8>, toks: &mut Vec<Tok>) {
    for (i, t) in template
        .split(u8::is_ascii_whitespace)
        .filter(|t| !t.is_empty())
        .enumerate()
    {
        let raw = xxh3_64(t);
        // A token without `<` holds no placeholder: it is its own
        // canonical form, and hashing it once serves for both.
        let (mut var, mut canon_hash) = if t.contains(&b'<') {
            let var = canonical(t, i == 0, canon);
            (var, xxh3_64(canon))
        } else {
            (value_shaped(t, i == 0), raw)
        };
        if !var
            && !variable_keys.is_empty()
            && let Some((key, _)) = key_value(t)
            && variable_keys.contains(&xxh3_64(key))
        {
            var = true;
            canon.clear();
            canon.extend_from_slice(key);
            canon.extend_from_slice(b"=<*>");
            canon_hash = xxh3_64(canon);
        }
        toks.push(Tok {
            canon: canon_hash,
            raw,
            var,
            edges: edges(t),
        });
    }
}

/// Hashes of keys.
type KeySet = IdSet<u64>;

/// A `key=value` token split at its first `=` (trailing `,` `;` dropped):
/// a key of letters, digits, `_`, `-` or `.` and a value that is not empty.
fn key_value(tok: &[u8]) -> Option<(&[u8], &[u8])> {
    let tok = tok
        .strip_suffix(b",")
        .or_else(|| tok.strip_suffix(b";"))
        .unwrap_or(tok);
    let k = memchr::memchr(b'=', tok)?;
    let (key, value) = (&tok[..k], &tok[k + 1..]);
    let keyish = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.');
    (!key.is_empty() && !value.is_empty() && key.iter().all(keyish)).then_some((key, value))
}

/// Keys whose values are variables: those written with at least
/// [`VARIABLE_WORDS`] distinct values over all templates
/// (`user=alice|bob|carol|dave`). A key seen with fewer (`status=ok`,
/// `status=failed`) may name distinct events.
fn variable_keys<'a>(templates: impl Iterator<Item = &'a [u8]>) -> KeySet {
    let mut values: IdMap<u64, Vec<u64>> = IdMap::default();
    let mut keys = KeySet::default();
    for template in templates {
        for tok in template.split(u8::is_ascii_whitespace) {
            let Some((key, value)) = key_value(tok) else {
                continue;
            };
            let key = xxh3_64(key);
            if keys.contains(&key) {
                continue;
            }
            let seen = values.entry(key).or_default();
            let value = xxh3_64(value);
            if !seen.contains(&value) {
                seen.push(value);
                if seen.len() >= VARIABLE_WORDS {
                    values.remove(&key);
                    keys.insert(key);
                }
            }
        }
    }
    keys
}

/// Writes `tok` with every placeholder replaced by `<*>`; returns whether
/// it is a variable: it holds a placeholder or is shaped like a value
/// ([`value_shaped`]; `first` if it is the template's first token).
fn canonical(tok: &[u8], first: bool, out: &mut Vec<u8>) -> bool {
    let var = canonical_placeholders(tok, out);
    var || value_shaped(tok, first)
}

/// Whether a token is shaped like a value rather than a word: a path
/// (`/var/log/x`, `C:\Windows\x.dll`, `http://h/p`) or a quoted string
/// (`"alice"`), anywhere; a dotted name (`chrome.exe`, `com.apple.xpc`) as
/// the first token, where it names the program or host that wrote the
/// line (later in a message, dotted words such as intent or class names
/// often are the event). In `key=value`, the value is judged, a dotted one
/// included (`name=com.android.systemui`). Messages that differ only in
/// such tokens are one event.
fn value_shaped(tok: &[u8], first: bool) -> bool {
    let tok = tok
        .strip_suffix(b",")
        .or_else(|| tok.strip_suffix(b";"))
        .or_else(|| tok.strip_suffix(b":"))
        .unwrap_or(tok);
    let n = tok.len();
    if n < 3 {
        return false;
    }
    if let Some(k) = tok.iter().position(|&c| c == b'=')
        && k > 0
    {
        // `key=value`: the value decides, and a dotted one names a thing.
        return value_shaped(&tok[k + 1..], true);
    }
    if matches!(tok[0], b'"' | b'\'') && tok[n - 1] == tok[0] {
        return true;
    }
    let alnum = |i: usize| tok.get(i).is_some_and(|c| c.is_ascii_alphanumeric());
    let letter = |i: usize| tok.get(i).is_some_and(|c| c.is_ascii_alphabetic());
    let seps = tok.iter().filter(|&&c| c == b'/' || c == b'\\').count();
    if seps >= 2 || (tok[0] == b'/' && alnum(1)) || (letter(0) && tok[1] == b':' && tok[2] == b'\\')
    {
        return tok.iter().any(u8::is_ascii_alphanumeric);
    }
    // A first token wrapped whole in brackets names who wrote the line:
    // `(alice) CMD (…)`, `[worker-3] done`.
    let wrapped = matches!((tok[0], tok[n - 1]), (b'(', b')') | (b'[', b']'))
        && tok[1..n - 1]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'));
    first && (wrapped || (1..n - 1).any(|i| tok[i] == b'.' && alnum(i - 1) && letter(i + 1)))
}

/// Writes `tok` with every placeholder replaced by `<*>`; returns whether
/// it held one.
fn canonical_placeholders(tok: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut var = false;
    let mut i = 0;
    while i < tok.len() {
        if tok[i] == b'<'
            && let Some(ph) = PLACEHOLDERS
                .iter()
                .chain(std::iter::once(&&b"<*>"[..]))
                .find(|ph| tok[i..].starts_with(ph))
        {
            out.extend_from_slice(b"<*>");
            i += ph.len();
            var = true;
            continue;
        }
        out.push(tok[i]);
        i += 1;
    }
    var
}

#[inline]
fn alike(p: (u64, bool), t: &Tok) -> bool {
    p.0 == t.canon || (p.1 && t.var)
}

/// Share of positions where the pattern's token (`pattern(i)` of `len`)
/// is alike the template's. Zero unless the first tokens are alike and at
/// least one token is equal outright (two templates made only of variables
/// are not similar).
#[inline]
fn similarity(len: usize, pattern: impl Fn(usize) -> PatTok, tokens: &[Tok]) -> f64 {
    if len == 0 {
        return 1.0;
    }
    if !pattern(0).is_some_and(|p| alike(p, &tokens[0])) {
        return 0.0;
    }
    let mut alike_count = 0;
    let mut equal = 0;
    for (i, t) in tokens.iter().enumerate().take(len) {
        if let Some(p) = pattern(i) {
            if p.0 == t.canon {
                equal += 1;
                alike_count += 1;
            } else if alike(p, t) {
                alike_count += 1;
            }
        }
    }
    if equal == 0 {
        return 0.0;
    }
    alike_count as f64 / len as f64
}

/// No entry (end of a bucket's list).
const NONE: usize = usize::MAX;

/// Hasher of the bucket keys, which are lengths and token hashes.
type IdBuild = std::hash::BuildHasherDefault<super::idmap::IdHasher>;

/// A pattern under construction: its founding template (an index into the
/// grouping's order and token table) and, once another template joined,
/// what the members changed.
struct Building {
    founder: usize,
    merged: Option<Merged>,
    count: u64,
    first_offset: u64,
}

/// The state of a pattern with more than one member.
struct Merged {
    /// Each position's founding token, or `None` once members differ there.
    tokens: Vec<PatTok>,
    /// Whether members' raw tokens differ there.
    raw_varies: Vec<bool>,
    /// (template id, its records), founder first.
    members: Vec<(u64, u64)>,
}

impl Building {
    fn found(founder: usize, stat: &TemplateStat) -> Building {
        Building {
            founder,
            merged: None,
            count: stat.count,
            first_offset: stat.first_offset,
        }
    }

    /// [`similarity`] of this pattern to a template's tokens.
    #[inline]
    fn similarity(&self, table: &TokenTable, tokens: &[Tok]) -> f64 {
        match &self.merged {
            Some(m) => similarity(m.tokens.len(), |i| m.tokens[i], tokens),
            None => {
                let own = table.row(self.founder);
                similarity(own.len(), |i| Some((own[i].canon, own[i].var)), tokens)
            }
        }
    }

    fn absorb(
        &mut self,
        id: u64,
        stat: &TemplateStat,
        tokens: &[Tok],
        order: &[(u64, &TemplateStat)],
        table: &TokenTable,
    ) {
        let own = table.row(self.founder);
        let merged = self.merged.get_or_insert_with(|| {
            let (founder_id, founder) = order[self.founder];
            Merged {
                tokens: own.iter().map(|t| Some((t.canon, t.var))).collect(),
                raw_varies: vec![false; own.len()],
                members: vec![(founder_id, founder.count)],
            }
        });
        for (i, t) in tokens.iter().enumerate() {
            if let Some(p) = merged.tokens[i]
                && !alike(p, t)
            {
                merged.tokens[i] = None;
            }
            if own[i].raw != t.raw {
                merged.raw_varies[i] = true;
            }
        }
        merged.members.push((id, stat.count));
        self.count += stat.count;
        self.first_offset = self.first_offset.min(stat.first_offset);
    }

    fn finish(self, order: &[(u64, &TemplateStat)], table: &TokenTable) -> Pattern {
        let wild = Tok::wild().raw;
        let (founder_id, founder) = order[self.founder];
        let mut text = Vec::with_capacity(founder.template.len());
        // The founding template's tokens joined by single spaces; positions
        // found variable, or where members differ, show as `<*>`.
        for (i, (raw, t)) in founder
            .template
            .split(u8::is_ascii_whitespace)
            .filter(|t| !t.is_empty())
            .zip(table.row(self.founder))
            .enumerate()
        {
            if i > 0 {
                text.push(b' ');
            }
            let differs = self
                .merged
                .as_ref()
                .is_some_and(|m| m.tokens[i].is_none() || m.raw_varies[i]);
            if t.raw == wild || differs {
                text.extend_from_slice(b"<*>");
            } else {
                text.extend_from_slice(raw);
            }
        }
        let (id, templates) = match self.merged {
            Some(m) => {
                let id = m
                    .members
                    .iter()
                    .max_by_key(|&&(tid, count)| (count, std::cmp::Reverse(tid)))
                    .map_or(0, |&(tid, _)| tid);
                (id, m.members.into_iter().map(|(tid, _)| tid).collect())
            }
            None => (founder_id, vec![founder_id]),
        };
        Pattern {
            id: PatternId(id),
            text,
            count: self.count,
            first_offset: self.first_offset,
            templates,
        }
    }
}

/// A group of similar templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub id: PatternId,
    /// Tokens of the founding template joined by single spaces, with `<*>`
    /// where members differ.
    pub text: Vec<u8>,
    /// Records in the pattern.
    pub count: u64,
    /// Offset of its first record.
    pub first_offset: u64,
    /// Member template ids, founding template first.
    pub templates: Vec<u64>,
}

/// The result of [`TemplateCounts::cluster`].
#[derive(Debug, Clone, Default)]
pub struct Patterns {
    patterns: Vec<Pattern>,
    by_template: IdMap<u64, usize>,
}

impl Patterns {
    /// The patterns in order of first occurrence.
    pub fn as_slice(&self) -> &[Pattern] {
        &self.patterns
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The pattern a template belongs to.
    pub fn pattern_of(&self, template_id: u64) -> Option<&Pattern> {
        self.by_template
            .get(&template_id)
            .map(|&i| &self.patterns[i])
    }

    /// The id of the pattern a template belongs to.
    pub fn id_of(&self, template_id: u64) -> Option<PatternId> {
        self.pattern_of(template_id).map(|p| p.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    fn counts(lines: &[&str]) -> (TemplateCounts, Vec<u64>) {
        let mut c = TemplateCounts::new();
        let mut out = Vec::new();
        let ids = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let id = normalize(l.as_bytes(), &mut out);
                c.observe(id, &out, i as u64);
                id
            })
            .collect();
        (c, ids)
    }

    #[test]
    fn similar_templates_merge_and_differing_tokens_become_wildcards() {
        let lines = [
            "Invalid user admin from 10.0.0.1 port 22 via ssh2 now",
            "Invalid user oracle from 10.0.0.2 port 23 via ssh2 now",
            "Accepted password for root from 10.0.0.3 port 22 ssh2",
        ];
        let (c, ids) = counts(&lines);
        let p = c.cluster(&PatternConfig::default());
        assert_eq!(p.len(), 2);
        assert_eq!(p.id_of(ids[0]), p.id_of(ids[1]));
        assert_ne!(p.id_of(ids[0]), p.id_of(ids[2]));
        let first = p.pattern_of(ids[0]).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&first.text),
            "Invalid user <*> from <IP> port <NUM> via <ID> now"
        );
        assert_eq!(first.count, 2);
    }

    #[test]
    fn threshold_is_respected_and_lengths_never_mix() {
        let lines = ["a b c d", "a b c e", "a b c d e"];
        let (c, ids) = counts(&lines);
        let strict = c.cluster(&PatternConfig::default());
        assert_eq!(strict.len(), 3);
        let loose = c.cluster(&PatternConfig { similarity: 0.7 });
        assert_eq!(loose.len(), 2);
        assert_eq!(loose.id_of(ids[0]), loose.id_of(ids[1]));
    }

    #[test]
    fn placeholders_of_any_kind_are_alike() {
        let lines = ["worker user42 stopped", "worker 17 stopped"];
        let (c, ids) = counts(&lines);
        let p = c.cluster(&PatternConfig::default());
        assert_eq!(p.id_of(ids[0]), p.id_of(ids[1]));
        assert_eq!(
            String::from_utf8_lossy(&p.pattern_of(ids[0]).unwrap().text),
            "worker <*> stopped"
        );
    }

    #[test]
    fn pattern_id_is_the_most_frequent_template() {
        let lines = [
            "job a of 1 done in 1 place now here",
            "job b of 1 done in 1 place now here",
            "job b of 2 done in 3 place now here",
        ];
        let (c, ids) = counts(&lines);
        let p = c.cluster(&PatternConfig { similarity: 0.8 });
        assert_eq!(p.len(), 1);
        // "job b …" has two records.
        assert_eq!(p.id_of(ids[0]), Some(PatternId(ids[1])));
        assert_eq!(format!("{}", PatternId(0xab)), "00000000000000ab");
    }

    #[test]
    fn a_position_with_many_words_is_a_variable() {
        let lines = [
            "session closed for user cyrus",
            "session closed for user news",
            "session closed for user test",
            "session closed for user root",
            "session opened for user cyrus",
            "session opened for user news",
            "session opened for user test",
            "session opened for user root",
        ];
        let (c, ids) = counts(&lines);
        let p = c.cluster(&PatternConfig::default());
        assert_eq!(p.len(), 2, "{:?}", p.as_slice());
        assert_eq!(
            String::from_utf8_lossy(&p.pattern_of(ids[0]).unwrap().text),
            "session closed for user <*>"
        );
        assert_ne!(p.id_of(ids[0]), p.id_of(ids[4]));
        // Three words are not enough evidence.
        let (c, ids) = counts(&lines[..3]);
        let p = c.cluster(&PatternConfig::default());
        assert_eq!(p.len(), 3);
        assert_ne!(p.id_of(ids[0]), p.id_of(ids[1]));
    }

    #[test]
    fn the_first_word_names_the_event() {
        let lines = [
            "cupsd startup succeeded",
            "sshd startup succeeded",
            "xinetd startup succeeded",
            "crond startup succeeded",
            "node7 startup succeeded",
            "node8 startup succeeded",
        ];
        let (c, ids) = counts(&lines);
        let p = c.cluster(&PatternConfig { similarity: 0.5 });
        assert_eq!(p.len(), 5);
        // Placeholders in the first token may vary.
        assert_eq!(p.id_of(ids[4]), p.id_of(ids[5]));
    }

    fn groups(lines: &[&str]) -> (Patterns, Vec<u64>) {
        let (c, ids) = counts(lines);
        (c.cluster(&PatternConfig::default()), ids)
    }

    #[test]
    fn program_and_host_names_with_dots_are_variables() {
        // A proxy log: the client program and the hosts vary, also at the
        // first token.
        let lines = [
            "chrome.exe - proxy.cse.example.edu:5070 open through proxy proxy.cse.example.edu:5070 HTTPS",
            "firefox.exe - www.example.com:443 open through proxy proxy.cse.example.edu:5070 HTTPS",
            "Skype.exe - api.skype.com:443 open through proxy socks.example.org:1080 SOCKS5",
            "chrome.exe - www.example.com:443 close, 1507 bytes sent, 6340 bytes received, lifetime 00:02",
            "svchost.exe - dns.example.net:443 close, 0 bytes sent, 0 bytes received, lifetime 00:01",
        ];
        let (p, ids) = groups(&lines);
        assert_eq!(p.id_of(ids[0]), p.id_of(ids[1]));
        assert_eq!(p.id_of(ids[0]), p.id_of(ids[2]));
        assert_eq!(p.id_of(ids[3]), p.id_of(ids[4]));
        assert_ne!(p.id_of(ids[0]), p.id_of(ids[3]));
    }

    #[test]
    fn paths_are_variables() {
        // Windows servicing and Unix daemons name files; the file is not
        // the event.
        let lines = [
            r"CBS Loaded Servicing Stack from C:\Windows\winsxs\amd64_servicingstack\cbscore.dll",
            r"CBS Loaded Servicing Stack from C:\Windows\System32\servicing\cbscore.dll",
            "cron: opened /etc/cron.d/backup for reading",
            "cron: opened /var/spool/cron/root for reading",
            "cron: opened /etc/crontab for reading",
            "cron: closed /etc/crontab after reading",
        ];
        let (p, ids) = groups(&lines);
        assert_eq!(p.id_of(ids[0]), p.id_of(ids[1]));
        assert_eq!(p.id_of(ids[2]), p.id_of(ids[3]));
        assert_eq!(p.id_of(ids[2]), p.id_of(ids[4]));
        assert_ne!(p.id_of(ids[4]), p.id_of(ids[5]));
        assert_eq!(
            String::from_utf8_lossy(&p.pattern_of(ids[2]).unwrap().text),
            "cron: opened <*> for reading"
        );
    }

    #[test]
    fn quoted_strings_are_variables() {
        let lines = [
            "pam_unix: authentication failure; user \"alice\" tty=ssh",
            "pam_unix: authentication failure; user \"bob\" tty=ssh",
            "Component State Change: Component \"alt0\" is in the unavailable state",
            "Component State Change: Component \"scsi\" is in the unavailable state",
            "Component State Change: Component \"alt0\" is in the running state",
        ];
        let (p, ids) = groups(&lines);
        assert_eq!(p.id_of(ids[0]), p.id_of(ids[1]));
        assert_eq!(
            String::from_utf8_lossy(&p.pattern_of(ids[0]).unwrap().text),
            "pam_unix: authentication failure; user <*> tty=ssh"
        );
        assert_eq!(p.id_of(ids[2]), p.id_of(ids[3]));
        // Ten tokens, one differing word: similar enough.
        assert_eq!(p.id_of(ids[2]), p.id_of(ids[4]));
    }

    #[test]
    fn words_stay_words() {
        for w in ["I/O", "done.", "Error:", "a=", "x", "<NUM>", "session"] {
            assert!(!value_shaped(w.as_bytes(), true), "{w}");
        }
        for w in [
            "/tmp/x",
            "a/b/c",
            "C:\\x",
            "lib.so",
            "'q'",
            "\"a b\"",
            "host.example.com,",
        ] {
            assert!(value_shaped(w.as_bytes(), true), "{w}");
        }
        assert!(!value_shaped(b"android.intent.action.SCREEN_ON", false));
        assert!(value_shaped(b"key=com.android.systemui", false));
        assert!(value_shaped(b"file=/etc/hosts,", false));
        assert!(!value_shaped(b"user=root", false));
    }

    #[test]
    fn templates_made_only_of_variables_do_not_merge() {
        let lines = ["onExtend:12", "steps=40##7"];
        let (c, _) = counts(&lines);
        assert_eq!(c.cluster(&PatternConfig { similarity: 0.1 }).len(), 2);
    }

    #[test]
    fn the_template_sample_is_bounded_and_independent_of_chunking() {
        let n = MAX_TEMPLATES as u64 * 2 + 777;
        let id = |i: u64| xxh3_64(&i.to_le_bytes());
        let mut whole = TemplateCounts::new();
        for i in 0..n {
            whole.observe_entry(id(i), b"t", i);
            whole.observe_entry(id(i % 10), b"t", i);
        }
        assert!(whole.len() <= MAX_TEMPLATES);
        assert!(whole.len() > MAX_TEMPLATES / 4);
        assert_eq!(whole.total(), 2 * n);
        for cuts in [[0, 1000, n / 2, n], [0, n / 3, n - 5, n]] {
            let mut merged = TemplateCounts::new();
            for w in cuts.windows(2) {
                let mut c = TemplateCounts::new();
                for i in w[0]..w[1] {
                    c.observe_entry(id(i), b"t", i);
                    c.observe_entry(id(i % 10), b"t", i);
                }
                merged.merge(c);
            }
            assert_eq!(merged.len(), whole.len());
            assert_eq!(merged.beyond().count, whole.beyond().count);
            for (tid, stat) in whole.iter() {
                assert_eq!(merged.get(tid).map(|s| s.count), Some(stat.count));
            }
        }
    }

    #[test]
    fn merge_adds_counts_and_keeps_first_offset() {
        let mut a = TemplateCounts::new();
        let mut b = TemplateCounts::new();
        a.observe(1, b"x", 10);
        b.observe(1, b"x", 3);
        b.observe(2, b"y", 4);
        a.merge(b);
        assert_eq!(a.get(1).unwrap().count, 2);
        assert_eq!(a.get(1).unwrap().first_offset, 3);
        assert_eq!(a.total(), 3);
    }
}

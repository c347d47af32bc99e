//! The level prefilter: finds, at memory speed, the places in a buffer where
//! a record of the wanted levels could be.
//!
//! A record can only reach a level through a word that names it — an
//! explicit level token (`ERROR`, `err`, `severe`) or a default keyword
//! (`exception`, `failed`) — or through a custom rule. So for each level there
//! is a short list of literals of which at least one must occur (ASCII case
//! ignored). The buffer is case-folded in small blocks (`| 0x20` maps exactly
//! `A-Z` onto `a-z` and no other byte onto a letter) and searched for the
//! lower-case literals with a SIMD multi-literal searcher; custom rules are
//! searched with their own regexes. The engine confirms every candidate by
//! classifying its record in full, so the prefilter can skip work but never
//! change an answer.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};
use regex::bytes::Regex;

use super::Classifier;
use crate::level::{Level, LevelSet};

/// Literals (lower case) at least one of which occurs in every record of the
/// level, whichever way it got there (explicit word or keyword rule).
fn literals_for(level: Level) -> Option<&'static [&'static str]> {
    match level {
        Level::Fatal => Some(&["fatal", "panic", "crit", "alert", "emerg"]),
        Level::Error => Some(&["err", "eror", "severe", "exception", "fail"]),
        Level::Warn => Some(&["warn", "deprecated"]),
        Level::Debug => Some(&["debug", "trace", "verbose", "fine", "dbug"]),
        // Info is the default: any record can be info.
        Level::Info => None,
    }
}

/// Case-folding block size: large enough to amortise the search call, small
/// enough to stay in L1/L2.
const BLOCK: usize = 32 * 1024;

/// Candidate finder for a set of levels. `None` from [`LevelPrefilter::new`]
/// means every record is a candidate.
#[derive(Debug, Clone)]
pub struct LevelPrefilter {
    literals: AhoCorasick,
    longest: usize,
    custom: Vec<Regex>,
}

impl LevelPrefilter {
    /// Builds the prefilter for `levels` under `classifier`'s rules, or
    /// `None` when no literal can rule records out (info wanted, or every
    /// level wanted).
    pub fn new(levels: LevelSet, classifier: &Classifier) -> Option<LevelPrefilter> {
        let mut words: Vec<&str> = Vec::new();
        for level in levels.iter() {
            words.extend_from_slice(literals_for(level)?);
        }
        let custom: Vec<Regex> = classifier
            .custom_rules()
            .iter()
            .filter(|rule| levels.contains(rule.level))
            .map(|rule| rule.pattern.clone())
            .collect();
        let longest = words.iter().map(|w| w.len()).max().unwrap_or(1);
        let literals = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&words)
            .ok()?;
        Some(LevelPrefilter {
            literals,
            longest,
            custom,
        })
    }

    /// Starts a scan over `hay`.
    pub fn scan<'h>(&'h self, hay: &'h [u8]) -> CandidateScan<'h> {
        CandidateScan {
            filter: self,
            hay,
            folded: Vec::with_capacity(BLOCK + self.longest),
            folded_at: None,
            custom_next: vec![CustomNext::Unsearched; self.custom.len()],
        }
    }
}

/// A forward scan for candidate positions in one buffer.
pub struct CandidateScan<'h> {
    filter: &'h LevelPrefilter,
    hay: &'h [u8],
    folded: Vec<u8>,
    /// Where in `hay` the block in `folded` starts, once one is folded:
    /// candidates close together are found in the same folded block.
    folded_at: Option<usize>,
    /// Per custom regex, what is known of its next match.
    custom_next: Vec<CustomNext>,
}

/// What a scan knows of a custom rule's next match.
#[derive(Debug, Clone, Copy)]
enum CustomNext {
    Unsearched,
    At(usize),
    Exhausted,
}

impl CandidateScan<'_> {
    /// The first byte offset at or after `from` where a literal or custom
    /// rule match starts, if any.
    pub fn next_candidate(&mut self, from: usize) -> Option<usize> {
        let literal = self.next_literal(from);
        let mut best = literal;
        for (i, regex) in self.filter.custom.iter().enumerate() {
            let next = match self.custom_next[i] {
                CustomNext::At(known) if known >= from => Some(known),
                CustomNext::Exhausted => None,
                _ => regex.find_at(self.hay, from).map(|m| m.start()),
            };
            self.custom_next[i] = next.map_or(CustomNext::Exhausted, CustomNext::At);
            if let Some(pos) = next {
                best = Some(best.map_or(pos, |b: usize| b.min(pos)));
            }
        }
        best
    }

    fn next_literal(&mut self, from: usize) -> Option<usize> {
        let hay = self.hay;
        let longest = self.filter.longest;
        // Search on in the block folded last when it holds `from`.
        let mut start = match self.folded_at {
            Some(at) if (at..at + BLOCK).contains(&from) => at,
            _ => from,
        };
        while start < hay.len() {
            // Blocks overlap so a literal across a block edge is seen whole.
            let end = (start + BLOCK + longest - 1).min(hay.len());
            if self.folded_at != Some(start) {
                self.folded.clear();
                self.folded.extend(hay[start..end].iter().map(|b| b | 0x20));
                self.folded_at = Some(start);
            }
            let input = Input::new(&self.folded[..]).span(from.max(start) - start..end - start);
            if let Some(m) = self.filter.literals.find(input) {
                let at = start + m.start();
                // A match in the overlap may come after a literal cut at the
                // block's end: the next block, where both are whole, decides.
                if at < start + BLOCK || end == hay.len() {
                    return Some(at);
                }
            }
            if end == hay.len() {
                return None;
            }
            start += BLOCK;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::CustomRule;

    #[test]
    fn finds_literals_in_any_case_across_block_edges() {
        let c = Classifier::default();
        let pf = LevelPrefilter::new(LevelSet::parse("error").unwrap(), &c).unwrap();
        let mut hay = vec![b'x'; BLOCK - 2];
        hay.extend_from_slice(b"ERROR here");
        let mut scan = pf.scan(&hay);
        assert_eq!(scan.next_candidate(0), Some(BLOCK - 2));
        assert_eq!(scan.next_candidate(BLOCK + 3), None);
    }

    #[test]
    fn finds_every_candidate_in_turn_within_and_across_blocks() {
        let c = Classifier::default();
        let pf = LevelPrefilter::new(LevelSet::parse("error").unwrap(), &c).unwrap();
        let mut hay = Vec::new();
        let mut want = Vec::new();
        for i in 0..5000 {
            if i % 7 == 0 {
                want.push(hay.len() + 4);
                hay.extend_from_slice(b"ok: Failed to connect\n");
            } else {
                hay.extend_from_slice(b"ok: connected to the database\n");
            }
        }
        // A literal that ends in the first block's overlap, then one cut
        // at that block's end.
        let mut edge = vec![b'x'; BLOCK - 3];
        edge.extend_from_slice(b"exception err");
        let mut scan = pf.scan(&hay);
        let mut got = Vec::new();
        let mut pos = 0;
        while let Some(at) = scan.next_candidate(pos) {
            got.push(at);
            pos = at + 1;
        }
        assert_eq!(got, want);
        let mut scan = pf.scan(&edge);
        assert_eq!(scan.next_candidate(0), Some(BLOCK - 3));
        assert_eq!(scan.next_candidate(BLOCK - 2), Some(BLOCK + 7));
    }

    #[test]
    fn info_has_no_prefilter_and_custom_rules_are_candidates() {
        let c = Classifier::default();
        assert!(LevelPrefilter::new(LevelSet::parse("info,error").unwrap(), &c).is_none());
        let rule = CustomRule {
            pattern: Regex::new("OOM").unwrap(),
            level: Level::Fatal,
            priority: 0,
        };
        let c = Classifier::new(vec![rule], true);
        let pf = LevelPrefilter::new(LevelSet::parse("fatal").unwrap(), &c).unwrap();
        let hay = b"all good\nkilled by OOM\npanic now\n";
        let mut scan = pf.scan(hay);
        assert_eq!(scan.next_candidate(0), Some(19));
        assert_eq!(scan.next_candidate(20), Some(23));
        assert_eq!(scan.next_candidate(24), None);
    }
}

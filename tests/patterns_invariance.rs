//! Pattern grouping does not depend on how the records were chunked, in
//! which order chunks were merged, or in which order a chunk saw its
//! records (design invariant 1).

use proptest::prelude::*;
use velos::analyze::patterns::{PatternConfig, PatternId, TemplateCounts};
use velos::normalize::normalize;

/// Messages from a small vocabulary, so that templates collide, differ in
/// one or two words, and vary in length.
fn message() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(vec!["open", "close", "user", "from", "port", "ok"]),
            1 => prop::sample::select(vec!["alice", "bob", "carol", "dave", "erin"]),
            2 => prop::sample::select(vec!["42", "10.0.0.1", "7ms", "x9", "0x1f"]),
        ],
        1..7,
    )
    .prop_map(|words| words.join(" "))
}

type Grouping = (Vec<PatternId>, Vec<(PatternId, Vec<u8>, u64, u64)>);

fn grouping(counts: &TemplateCounts, ids: &[u64], similarity: f64) -> Grouping {
    let patterns = counts.cluster(&PatternConfig { similarity });
    let per_line = ids.iter().map(|&id| patterns.id_of(id).unwrap()).collect();
    let mut all: Vec<_> = patterns
        .as_slice()
        .iter()
        .map(|p| (p.id, p.text.clone(), p.count, p.first_offset))
        .collect();
    all.sort();
    (per_line, all)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn grouping_is_invariant_to_chunking_and_order(
        lines in prop::collection::vec(message(), 1..150),
        cuts in prop::collection::vec(0usize..150, 0..8),
        seed in any::<u64>(),
        similarity in prop::sample::select(vec![0.5, 0.7, 0.85, 1.0]),
    ) {
        let mut out = Vec::new();
        let templates: Vec<(u64, Vec<u8>)> = lines
            .iter()
            .map(|l| {
                let id = normalize(l.as_bytes(), &mut out);
                (id, out.clone())
            })
            .collect();
        let ids: Vec<u64> = templates.iter().map(|t| t.0).collect();

        let mut whole = TemplateCounts::new();
        for (i, (id, t)) in templates.iter().enumerate() {
            whole.observe(*id, t, i as u64);
        }

        // Chunk at the cut points; each chunk sees its lines backwards.
        let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c % lines.len()).collect();
        bounds.push(0);
        bounds.push(lines.len());
        bounds.sort_unstable();
        bounds.dedup();
        let mut chunks: Vec<TemplateCounts> = bounds
            .windows(2)
            .map(|w| {
                let mut c = TemplateCounts::new();
                for i in (w[0]..w[1]).rev() {
                    c.observe(templates[i].0, &templates[i].1, i as u64);
                }
                c
            })
            .collect();
        // Merge in a seed-chosen order.
        let mut state = seed;
        let mut merged = TemplateCounts::new();
        while !chunks.is_empty() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let k = (state >> 33) as usize % chunks.len();
            merged.merge(chunks.swap_remove(k));
        }

        prop_assert_eq!(&merged, &whole);
        prop_assert_eq!(grouping(&merged, &ids, similarity), grouping(&whole, &ids, similarity));
    }

    #[test]
    fn every_line_has_a_pattern_and_counts_add_up(
        lines in prop::collection::vec(message(), 1..100),
    ) {
        let mut out = Vec::new();
        let mut counts = TemplateCounts::new();
        let mut ids = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let id = normalize(l.as_bytes(), &mut out);
            counts.observe(id, &out, i as u64);
            ids.push(id);
        }
        let patterns = counts.cluster(&PatternConfig::default());
        let total: u64 = patterns.as_slice().iter().map(|p| p.count).sum();
        prop_assert_eq!(total, lines.len() as u64);
        for id in ids {
            let p = patterns.pattern_of(id).unwrap();
            prop_assert!(p.templates.contains(&id));
        }
    }
}

//! `loghub_ga`: measures grouping accuracy (GA) of velos's header learning,
//! normalization and pattern grouping on the loghub 2k samples.
//!
//! For every system directory `S` holding `S_2k.log` and
//! `S_2k.log_structured.csv`, the header layout is learned from the raw
//! file, each line's message is normalized, templates are grouped into
//! patterns, and the predicted groups are compared with the ground-truth
//! `EventId`s: a line is correct when the set of lines in its predicted
//! group equals the set of lines sharing its true event.
//!
//! ```text
//! cargo run --release --example loghub_ga -- [DIR] [--similarity 0.85] [--verbose] [--explain SYSTEM]
//! ```
//! `--explain SYSTEM` lists that system's true events that were split or
//! merged, with the patterns their lines went to.
//! `DIR` defaults to `../shared/loghub` next to the crate.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use velos::analyze::patterns::{PatternConfig, TemplateCounts};
use velos::normalize::{HeaderLayout, normalize};

/// Parses CSV text into rows of fields (RFC 4180 quoting).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

struct Score {
    system: String,
    lines: usize,
    true_groups: usize,
    predicted_groups: usize,
    ga: f64,
}

fn grouping_accuracy(truth: &[String], predicted: &[u64]) -> f64 {
    let mut true_size: HashMap<&str, usize> = HashMap::new();
    for t in truth {
        *true_size.entry(t).or_default() += 1;
    }
    let mut groups: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, &p) in predicted.iter().enumerate() {
        groups.entry(p).or_default().push(i);
    }
    let mut correct = 0;
    for members in groups.values() {
        let event = truth[members[0]].as_str();
        if members.iter().all(|&i| truth[i] == event) && true_size[event] == members.len() {
            correct += members.len();
        }
    }
    correct as f64 / truth.len().max(1) as f64
}

/// Prints, for every true event whose lines are not exactly one predicted
/// group, the predicted patterns its lines went to.
fn explain(truth: &[String], predicted: &[u64], text: &HashMap<u64, String>) {
    let mut by_event: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, t) in truth.iter().enumerate() {
        by_event.entry(t).or_default().push(i);
    }
    let mut pred_size: HashMap<u64, usize> = HashMap::new();
    for &p in predicted {
        *pred_size.entry(p).or_default() += 1;
    }
    let mut events: Vec<_> = by_event.into_iter().collect();
    events.sort_by_key(|(e, lines)| (std::cmp::Reverse(lines.len()), *e));
    for (event, lines) in events {
        let mut preds: HashMap<u64, usize> = HashMap::new();
        for &i in &lines {
            *preds.entry(predicted[i]).or_default() += 1;
        }
        let ok = preds.len() == 1 && pred_size[&predicted[lines[0]]] == lines.len();
        if ok {
            continue;
        }
        eprintln!("{event} ({} lines):", lines.len());
        let mut preds: Vec<_> = preds.into_iter().collect();
        preds.sort_by_key(|&(p, n)| (std::cmp::Reverse(n), p));
        for (p, n) in preds.iter().take(6) {
            eprintln!("    {n:4} of {:4}  {}", pred_size[p], text[p]);
        }
    }
}

fn score(
    dir: &Path,
    system: &str,
    cfg: &PatternConfig,
    verbose: bool,
    explain_system: Option<&str>,
) -> Result<Score> {
    let raw = std::fs::read(dir.join(format!("{system}_2k.log")))?;
    let csv_path = dir.join(format!("{system}_2k.log_structured.csv"));
    let csv = std::fs::read_to_string(&csv_path)
        .with_context(|| format!("reading {}", csv_path.display()))?;
    let rows = parse_csv(&csv);
    let Some((header, rows)) = rows.split_first() else {
        bail!("{} is empty", csv_path.display());
    };
    let event_col = header
        .iter()
        .position(|h| h == "EventId")
        .context("no EventId column")?;
    let truth: Vec<String> = rows.iter().map(|r| r[event_col].clone()).collect();

    let mut lines: Vec<&[u8]> = raw.split(|&c| c == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    if lines.len() != truth.len() {
        bail!(
            "{system}: {} raw lines but {} labelled rows",
            lines.len(),
            truth.len()
        );
    }

    let layout = HeaderLayout::learn(lines.iter().copied());
    let mut counts = TemplateCounts::new();
    let mut out = Vec::new();
    let ids: Vec<u64> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let id = normalize(layout.message(line), &mut out);
            counts.observe(id, &out, i as u64);
            id
        })
        .collect();
    let patterns = counts.cluster(cfg);
    let predicted: Vec<u64> = ids
        .iter()
        .map(|&id| patterns.id_of(id).map_or(id, |p| p.0))
        .collect();
    if explain_system == Some(system) {
        let text: HashMap<u64, String> = patterns
            .as_slice()
            .iter()
            .map(|p| (p.id.0, String::from_utf8_lossy(&p.text).into_owned()))
            .collect();
        explain(&truth, &predicted, &text);
    }
    if verbose {
        eprintln!(
            "{system}: header {:?}, {} templates, {} patterns",
            layout.columns(),
            counts.len(),
            patterns.len()
        );
    }
    let true_groups = truth.iter().collect::<std::collections::HashSet<_>>().len();
    Ok(Score {
        system: system.to_string(),
        lines: lines.len(),
        true_groups,
        predicted_groups: patterns.len(),
        ga: grouping_accuracy(&truth, &predicted),
    })
}

fn main() -> Result<()> {
    let mut dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/loghub"));
    let mut cfg = PatternConfig::default();
    let mut verbose = false;
    let mut explain_system = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--similarity" => {
                cfg.similarity = args
                    .next()
                    .context("--similarity needs a value")?
                    .parse()
                    .context("--similarity must be a number")?;
            }
            "--verbose" | "-v" => verbose = true,
            "--explain" => explain_system = Some(args.next().context("--explain needs a system")?),
            _ => dir = PathBuf::from(a),
        }
    }
    let mut systems: Vec<String> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|s| dir.join(s).join(format!("{s}_2k.log")).is_file())
        .collect();
    systems.sort();
    if systems.is_empty() {
        bail!("no loghub systems under {}", dir.display());
    }
    println!("| System | Lines | True groups | Predicted groups | GA |");
    println!("|---|---:|---:|---:|---:|");
    let mut sum = 0.0;
    for s in &systems {
        let r = score(&dir.join(s), s, &cfg, verbose, explain_system.as_deref())?;
        println!(
            "| {} | {} | {} | {} | {:.3} |",
            r.system, r.lines, r.true_groups, r.predicted_groups, r.ga
        );
        sum += r.ga;
    }
    println!("| **mean** | | | | **{:.3}** |", sum / systems.len() as f64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_handles_quotes() {
        let rows = parse_csv("a,b,c\n1,\"x, \"\"y\"\"\",3\n");
        assert_eq!(rows[1], vec!["1", "x, \"y\"", "3"]);
    }

    #[test]
    fn ga_counts_whole_groups_only() {
        let truth: Vec<String> = ["A", "A", "B", "B"].iter().map(|s| s.to_string()).collect();
        assert_eq!(grouping_accuracy(&truth, &[1, 1, 2, 2]), 1.0);
        assert_eq!(grouping_accuracy(&truth, &[1, 1, 2, 3]), 0.5);
        assert_eq!(grouping_accuracy(&truth, &[1, 1, 1, 1]), 0.0);
    }
}

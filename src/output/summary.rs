//! The summary and dedup groups rendered for people (to the width of the
//! terminal, see [`summary_width`]) and for programs (JSON), from a
//! finished [`Report`].
//!
//! The summary says what it could not compute and why rather than print a
//! number that would mislead: anomalies need timestamps and more than the
//! warm-up of history, trends need timestamps, and grouping has nothing to
//! group when every record is its own template.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::{write_local_time, write_lossy};
use crate::analyze::anomaly::{self, Anomaly, Timeline};
use crate::analyze::dedup::Group;
use crate::analyze::report::Report;
use crate::level::Level;
use crate::text;
use crate::timestamp::Zone;

/// What the summary says besides the report: where it came from.
#[derive(Debug, Clone)]
pub struct SummaryContext<'a> {
    /// The sources, as given.
    pub sources: &'a [String],
    /// Now, Unix ms (for "how long ago").
    pub now_ms: i64,
    /// Zone for printed times.
    pub zone: &'a Zone,
    /// Patterns listed.
    pub top: usize,
    /// The command that lists a pattern's records, without `--pattern`.
    pub drill_down: String,
    /// Columns to fill (see [`summary_width`]).
    pub width: usize,
}

/// Width of the summary when stdout is not a terminal and `COLUMNS` is
/// not set.
pub const DEFAULT_WIDTH: usize = 100;

/// The width to render the summary at: `COLUMNS` when set, else the
/// terminal's when stdout is one, else [`DEFAULT_WIDTH`]; kept within
/// 60..=400.
pub fn summary_width() -> usize {
    use std::io::IsTerminal as _;
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .or_else(|| {
            std::io::stdout()
                .is_terminal()
                .then(|| ratatui::crossterm::terminal::size().ok())
                .flatten()
                .map(|(w, _)| usize::from(w))
        })
        .unwrap_or(DEFAULT_WIDTH);
    width.clamp(60, 400)
}

fn time(zone: &Zone, ms: i64) -> String {
    let mut out = Vec::new();
    write_local_time(zone, ms, &mut out);
    out.truncate(19);
    String::from_utf8_lossy(&out).into_owned()
}

fn cut(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bars from low to high.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One bar per bucket, scaled to `max` (an empty bucket is a space).
fn bars(values: &[u64], max: u64) -> String {
    values
        .iter()
        .map(|&v| {
            if v == 0 || max == 0 {
                ' '
            } else {
                let i = ((v as f64 / max as f64) * 7.0).ceil() as usize;
                BARS[i.clamp(1, 8) - 1]
            }
        })
        .collect()
}

/// The timeline: records and errors per bucket as bars, anomalous buckets
/// marked under them.
fn timeline_text(s: &mut String, t: &Timeline, anomalies: &[Anomaly], ctx: &SummaryContext<'_>) {
    let minutes = t.records.len();
    if minutes == 0 {
        return;
    }
    let label = 12;
    let columns = ctx.width.saturating_sub(label + 14).clamp(10, 240);
    let per = minutes.div_ceil(columns).max(1);
    let buckets = minutes.div_ceil(per);
    let sum = |v: &[u64]| -> Vec<u64> { v.chunks(per).map(|c| c.iter().sum()).collect() };
    let (records, errors) = (sum(&t.records), sum(&t.errors));
    let mut marks = vec![' '; buckets];
    for a in anomalies {
        let i = ((a.minute - t.start) / 60_000) as usize / per;
        if let Some(m) = marks.get_mut(i) {
            *m = match (a.severity, *m) {
                (anomaly::Severity::Critical, _) | (_, '!') => '!',
                _ => '^',
            };
        }
    }
    let unit = match per {
        1 => "1 minute".to_string(),
        m if m < 60 => format!("{m} minutes"),
        m => text::coarse_duration(Duration::from_secs(m as u64 * 60)),
    };
    let _ = writeln!(
        s,
        "\nTimeline  one column = {unit}, bar height relative to the busiest column"
    );
    let rmax = records.iter().copied().max().unwrap_or(0);
    let emax = errors.iter().copied().max().unwrap_or(0);
    let _ = writeln!(
        s,
        "  {:<9} {}  max {}",
        "records",
        bars(&records, rmax),
        thousands(rmax)
    );
    let _ = writeln!(
        s,
        "  {:<9} {}  max {}",
        "errors",
        bars(&errors, emax),
        thousands(emax)
    );
    if marks.iter().any(|&m| m != ' ') {
        let marks: String = marks.into_iter().collect();
        let _ = writeln!(
            s,
            "  {:<9} {}  ! critical  ^ warning",
            "anomalies",
            marks.trim_end()
        );
    }
    let first = time(ctx.zone, t.start);
    let last = time(ctx.zone, t.start + (minutes as i64 - 1) * 60_000);
    let gap = buckets.saturating_sub(16);
    let _ = writeln!(
        s,
        "  {:<9} {}{:>gap$}",
        "",
        &first[..16],
        if gap >= 17 { &last[..16] } else { "" },
    );
}

/// The summary for people, as wide as `ctx.width`.
pub fn summary_text(report: &Report, ctx: &SummaryContext<'_>) -> String {
    let mut s = String::new();
    let c = &report.counts;
    let width = ctx.width.max(60);
    let _ = writeln!(s, "Summary of {}", cut(&ctx.sources.join(", "), width - 12));
    match report.period {
        Some((a, b)) => {
            let _ = writeln!(
                s,
                "Period    {} → {} ({})",
                time(ctx.zone, a),
                time(ctx.zone, b),
                text::coarse_duration(Duration::from_millis((b - a).max(0) as u64))
            );
        }
        None => {
            let _ = writeln!(
                s,
                "Period    unknown: no record has a timestamp (trends and anomalies need them)"
            );
        }
    }
    let _ = writeln!(
        s,
        "Records   {} ({} lines, {} patterns)",
        thousands(c.records),
        thousands(c.lines),
        report.pattern_count
    );
    let levels: Vec<String> = Level::ALL
        .iter()
        .rev()
        .map(|l| format!("{} {}", l.as_str(), thousands(c.by_level[*l as usize])))
        .collect();
    let _ = writeln!(s, "Levels    {}", levels.join(" · "));
    let h = report.health();
    let unavailable = report.anomalies_unavailable();
    match &unavailable {
        None => {
            let _ = writeln!(s, "Health    {}/100", h.score);
        }
        Some(_) => {
            let _ = writeln!(
                s,
                "Health    {}/100 (without anomalies: they could not be looked for)",
                h.score
            );
        }
    }
    let _ = writeln!(
        s,
        "          = 100 − errors {:.2}% × 5 ({:.1}) − anomalies {} × 10 − restarts {} × 3",
        h.error_percent,
        h.error_penalty(),
        if unavailable.is_some() {
            "n/a".to_string()
        } else {
            h.anomalies.to_string()
        },
        h.restarts
    );
    let _ = writeln!(s, "Restarts  {}", c.restarts);

    if let (Some(t), Some(anomalies), None) = (&report.timeline, &report.anomalies, &unavailable) {
        timeline_text(&mut s, t, anomalies, ctx);
    }

    if let Some(trends) = &report.trends {
        let trends_known = report.trends_unavailable();
        let _ = writeln!(s, "\nTop patterns");
        let shown: Vec<_> = trends.iter().take(ctx.top).collect();
        let level_text: Vec<String> = shown
            .iter()
            .map(|t| {
                let mix = t.level_mix();
                if mix.len() <= 1 {
                    t.level.as_str().to_string()
                } else {
                    mix.iter()
                        .map(|(l, pct)| format!("{} {}", l.as_str(), percent(*pct)))
                        .collect::<Vec<_>>()
                        .join(" ")
                }
            })
            .collect();
        let lw = level_text
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        let _ = writeln!(
            s,
            "  {:<16} {:>8} {:<9} {:<lw$} TEMPLATE",
            "ID", "COUNT", "TREND", "LEVEL"
        );
        let room = width.saturating_sub(2 + 17 + 9 + 10 + lw + 1).max(20);
        for (t, level) in shown.iter().zip(&level_text) {
            let trend = if trends_known.is_none() {
                t.trend.as_str()
            } else {
                "—"
            };
            let _ = writeln!(
                s,
                "  {:<16} {:>8} {:<9} {:<lw$} {}",
                t.id.to_string(),
                thousands(t.count),
                trend,
                level,
                cut(&t.template, room)
            );
        }
        if trends.is_empty() {
            let _ = writeln!(s, "  (none)");
        }
        if let Some(why) = &trends_known
            && !trends.is_empty()
        {
            let _ = writeln!(s, "  trends not computed: {why}");
        }
        if c.records >= 10
            && report.template_count as u64 == c.records
            && report.pattern_count as u64 == c.records
        {
            let _ = writeln!(
                s,
                "  every record is its own pattern: no two messages share a template, so there is nothing to group"
            );
        }
        if report.beyond_sample > 0 {
            let _ = writeln!(
                s,
                "  {} records have templates beyond the {} distinct ones kept: they are counted but not grouped",
                thousands(report.beyond_sample),
                thousands(crate::analyze::patterns::MAX_TEMPLATES as u64)
            );
        }
    }

    if let Some(anomalies) = &report.anomalies {
        let _ = writeln!(s, "\nAnomalies");
        if let Some(why) = &unavailable {
            let _ = writeln!(s, "  not looked for: {why}");
        } else if anomalies.is_empty() {
            let _ = writeln!(s, "  none");
        } else {
            let _ = writeln!(
                s,
                "  {:<16} {:<10} {:>9} {:>9} {:>8} {:>9} SEVERITY",
                "MINUTE", "METRIC", "COUNT", "EXPECTED", "SPREAD σ", "DISTANCE"
            );
            const SHOWN: usize = 10;
            for a in anomalies.iter().take(SHOWN) {
                let minute = time(ctx.zone, a.minute);
                let count = if a.window == 1 {
                    a.value.to_string()
                } else {
                    format!("{}/{}m", a.value, a.window)
                };
                let _ = writeln!(
                    s,
                    "  {:<16} {:<10} {:>9} {:>9.1} {:>8.1} {:>8.1}σ {}",
                    &minute[..16],
                    a.metric.as_str(),
                    count,
                    a.mean,
                    a.sigma,
                    a.distance,
                    a.severity.as_str()
                );
            }
            if anomalies.len() > SHOWN {
                let _ = writeln!(s, "  … {} more (--json lists all)", anomalies.len() - SHOWN);
            }
            let _ = writeln!(
                s,
                "  COUNT: records in the minute, or in the five minutes ending there (/5m)\n  EXPECTED: from the hour before · SPREAD σ: deviation of the count model\n  DISTANCE: (COUNT − EXPECTED) / SPREAD"
            );
        }
    }

    let _ = writeln!(s, "\nLast error");
    match &c.last_error {
        None => {
            let _ = writeln!(s, "  none");
        }
        Some(e) => {
            if let Some(ts) = e.ts {
                let _ = writeln!(
                    s,
                    "  {} ({} ago)",
                    time(ctx.zone, ts),
                    text::coarse_duration(Duration::from_millis((ctx.now_ms - ts).max(0) as u64))
                );
            }
            let text = String::from_utf8_lossy(&e.text);
            for line in text.lines().take(20) {
                let _ = writeln!(s, "  {}", cut(line, width - 2));
            }
        }
    }
    if let Some(top) = report.trends.as_ref().and_then(|t| t.first()) {
        let _ = writeln!(s, "\nDrill down: {} --pattern {}", ctx.drill_down, top.id);
    }
    s
}

/// A share in percent, with a decimal only below 10 %.
fn percent(p: f64) -> String {
    if (99.5..100.0).contains(&p) {
        format!("{:.1}%", p.min(99.9))
    } else if p >= 9.95 {
        format!("{p:.0}%")
    } else if p >= 0.1 {
        format!("{p:.1}%")
    } else {
        "<0.1%".into()
    }
}

/// The summary for programs.
pub fn summary_json(report: &Report, ctx: &SummaryContext<'_>) -> Value {
    let c = &report.counts;
    let h = report.health();
    let levels: serde_json::Map<String, Value> = Level::ALL
        .iter()
        .map(|l| (l.as_str().to_string(), json!(c.by_level[*l as usize])))
        .collect();
    json!({
        "sources": ctx.sources,
        "period": report.period.map(|(a, b)| json!({"first": a, "last": b})),
        "records": c.records,
        "lines": c.lines,
        "levels": levels,
        "patterns": report.pattern_count,
        "templates": report.template_count,
        "top_patterns": report.trends.as_ref().map(|t| t.iter().take(ctx.top).collect::<Vec<_>>()),
        "anomalies": report.anomalies,
        "anomalies_unavailable": report.anomalies_unavailable(),
        "records_beyond_template_sample": report.beyond_sample,
        "last_error": c.last_error.as_ref().map(|e| json!({
            "ts": e.ts,
            "ago_ms": e.ts.map(|ts| ctx.now_ms - ts),
            "level": e.level,
            "text": String::from_utf8_lossy(&e.text),
        })),
        "restarts": c.restarts,
        "health": {
            "score": h.score,
            "error_percent": h.error_percent,
            "error_penalty": h.error_penalty(),
            "anomalies": h.anomalies,
            "anomaly_penalty": h.anomaly_penalty(),
            "restarts": h.restarts,
            "restart_penalty": h.restart_penalty(),
        },
    })
}

/// One dedup group for people:
/// `<message> (x<count>, first: <time>, last: <time>)`.
pub fn dedup_line(group: &Group, template: bool, zone: &Zone, out: &mut Vec<u8>) {
    let text = if template {
        &group.template
    } else {
        &group.sample
    };
    write_lossy(text, out);
    let _ = match (group.first, group.last) {
        (Some(a), Some(b)) => write!(
            VecWriter(out),
            " (x{}, first: {}, last: {})",
            group.count,
            time(zone, a),
            time(zone, b)
        ),
        _ => write!(VecWriter(out), " (x{})", group.count),
    };
    out.push(b'\n');
}

/// One dedup group for programs.
pub fn dedup_json(group: &Group) -> Value {
    json!({
        "pattern": group.pattern.to_string(),
        "template": String::from_utf8_lossy(&group.template),
        "sample": String::from_utf8_lossy(&group.sample),
        "level": group.level,
        "count": group.count,
        "first": group.first,
        "last": group.last,
    })
}

struct VecWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

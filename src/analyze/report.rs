//! The finished report: summary, health score, dedup groups, and how they
//! are rendered for people (fits 80 columns) and for programs (JSON).
//!
//! **Health score** = 100 − errors × 5 − anomalies × 10 − restarts × 3,
//! clamped to 0..100, where *errors* is the share of error and fatal
//! records in percent (a busy healthy service is not scored 0 for a handful
//! of errors), *anomalies* counts anomaly events (consecutive anomalous
//! minutes of one metric count once), and *restarts* the supervisor's
//! restarts after a crash in the period.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::anomaly::{self, Anomaly};
use super::counts::Counts;
use super::dedup::Group;
use super::trends::PatternTrend;
use crate::level::Level;
use crate::output::write_local_time;
use crate::timestamp::Zone;

/// Everything the stages found.
#[derive(Debug, Clone)]
pub struct Report {
    /// Totals.
    pub counts: Counts,
    /// Dedup groups (when the stage is on).
    pub dedup: Option<Vec<Group>>,
    /// Patterns with trends, most frequent first (when the stage is on).
    pub trends: Option<Vec<PatternTrend>>,
    /// Anomalous minutes (when the stage is on).
    pub anomalies: Option<Vec<Anomaly>>,
    /// Distinct patterns.
    pub pattern_count: usize,
    /// Distinct exact templates.
    pub template_count: usize,
    /// First and last record time.
    pub period: Option<(i64, i64)>,
}

/// The health score and its parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Health {
    /// 0..100.
    pub score: u8,
    /// Error and fatal records, percent of all records.
    pub error_percent: f64,
    /// Anomaly events.
    pub anomalies: usize,
    /// Restarts after a crash.
    pub restarts: u64,
}

impl Health {
    /// Points taken off for errors.
    pub fn error_penalty(&self) -> f64 {
        self.error_percent * 5.0
    }

    /// Points taken off for anomalies.
    pub fn anomaly_penalty(&self) -> f64 {
        self.anomalies as f64 * 10.0
    }

    /// Points taken off for restarts.
    pub fn restart_penalty(&self) -> f64 {
        self.restarts as f64 * 3.0
    }
}

impl Report {
    /// The health score of the period.
    pub fn health(&self) -> Health {
        let error_percent = if self.counts.records == 0 {
            0.0
        } else {
            self.counts.errors() as f64 * 100.0 / self.counts.records as f64
        };
        let anomalies = self.anomalies.as_deref().map_or(0, anomaly::events);
        let restarts = self.counts.restarts;
        let raw = 100.0 - error_percent * 5.0 - anomalies as f64 * 10.0 - restarts as f64 * 3.0;
        Health {
            score: raw.round().clamp(0.0, 100.0) as u8,
            error_percent,
            anomalies,
            restarts,
        }
    }
}

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
}

fn time(zone: &Zone, ms: i64) -> String {
    let mut out = Vec::new();
    write_local_time(zone, ms, &mut out);
    out.truncate(19);
    String::from_utf8_lossy(&out).into_owned()
}

/// `3h 12m`, `45s`, `2d 4h`.
pub fn human_duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m) = (s / 86_400, s / 3600 % 24, s / 60 % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m {}s", s % 60),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
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

/// The summary for people, at most 80 columns wide.
pub fn summary_text(report: &Report, ctx: &SummaryContext<'_>) -> String {
    let mut s = String::new();
    let c = &report.counts;
    let _ = writeln!(s, "Summary of {}", cut(&ctx.sources.join(", "), 68));
    match report.period {
        Some((a, b)) => {
            let _ = writeln!(
                s,
                "Period    {} → {} ({})",
                time(ctx.zone, a),
                time(ctx.zone, b),
                human_duration(b - a)
            );
        }
        None => {
            let _ = writeln!(
                s,
                "Period    no timestamps (trends and anomalies need them)"
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
    let _ = writeln!(s, "Health    {}/100", h.score);
    let _ = writeln!(
        s,
        "          = 100 − errors {:.2}% × 5 ({:.1}) − anomalies {} × 10 − restarts {} × 3",
        h.error_percent,
        h.error_penalty(),
        h.anomalies,
        h.restarts
    );
    let _ = writeln!(s, "Restarts  {}", c.restarts);

    if let Some(trends) = &report.trends {
        let _ = writeln!(s, "\nTop patterns");
        let _ = writeln!(
            s,
            "  {:<16} {:>8} {:<9} {:<5} TEMPLATE",
            "ID", "COUNT", "TREND", "LEVEL"
        );
        for t in trends.iter().take(ctx.top) {
            let _ = writeln!(
                s,
                "  {:<16} {:>8} {:<9} {:<5} {}",
                t.id.to_string(),
                thousands(t.count),
                t.trend.as_str(),
                t.level.as_str(),
                cut(&t.template, 34)
            );
        }
        if trends.is_empty() {
            let _ = writeln!(s, "  (none)");
        }
    }

    if let Some(anomalies) = &report.anomalies {
        let _ = writeln!(s, "\nAnomalies");
        if report.period.is_none() {
            let _ = writeln!(s, "  need timestamps");
        } else if anomalies.is_empty() {
            let _ = writeln!(s, "  none");
        } else {
            let _ = writeln!(
                s,
                "  {:<16} {:<10} {:>7} {:>7} {:>7} SEVERITY",
                "MINUTE", "METRIC", "VALUE", "MEAN", "σ"
            );
            const SHOWN: usize = 10;
            for a in anomalies.iter().take(SHOWN) {
                let minute = time(ctx.zone, a.minute);
                let _ = writeln!(
                    s,
                    "  {:<16} {:<10} {:>7} {:>7.1} {:>7.1} {}",
                    &minute[..16],
                    a.metric.as_str(),
                    a.value,
                    a.mean,
                    a.distance,
                    a.severity.as_str()
                );
            }
            if anomalies.len() > SHOWN {
                let _ = writeln!(s, "  … {} more (--json lists all)", anomalies.len() - SHOWN);
            }
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
                    human_duration(ctx.now_ms - ts)
                );
            }
            let text = String::from_utf8_lossy(&e.text);
            for line in text.lines().take(20) {
                let _ = writeln!(s, "  {}", cut(line, 78));
            }
        }
    }
    if let Some(top) = report.trends.as_ref().and_then(|t| t.first()) {
        let _ = writeln!(s, "\nDrill down: {} --pattern {}", ctx.drill_down, top.id);
    }
    s
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
    crate::output::write_lossy(text, out);
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

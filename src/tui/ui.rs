//! Drawing `velos monit`: a pure function of the [`App`] state.
//!
//! The screen, top to bottom: a header line (daemon version and uptime,
//! process count, total CPU and memory), the process table, CPU and memory
//! sparklines of the selected process, its log pane (filtered by `/`, or
//! its summary with `p`), and a footer with the keys, the search prompt or
//! the last message. `l` gives the log pane the whole body. On
//! short terminals the sparklines go first, then the table shrinks to keep
//! the selected row in view. Nothing here reads a clock or does I/O.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line as TextLine, Span, Text};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Sparkline, Table, TableState, Wrap};

use super::app::{App, Overlay, PaneView, SortKey};
use super::logs::Line;
use crate::ipc::{ProcessInfo, Status};
use crate::level::Level;
use crate::schema::Src;
use crate::text::{bytes, duration};

/// Height of the sparkline row (two lines of bars inside a border).
const SPARK_HEIGHT: u16 = 4;
/// Terminals shorter than this get no sparklines.
const SPARK_MIN_SCREEN: u16 = 20;
/// The CPU sparkline's scale never goes below this, in percent, so an idle
/// process's noise does not fill the bars.
const CPU_FLOOR_PERCENT: f32 = 10.0;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(frame, app, header);
    draw_footer(frame, app, footer);
    if app.loaded && app.processes.is_empty() {
        draw_empty(frame, app, body);
    } else if !app.loaded {
        let text = match &app.poll_error {
            Some(err) => format!("cannot reach the daemon: {err}"),
            None => "connecting to the daemon…".to_string(),
        };
        draw_centered_message(frame, body, vec![TextLine::from(text)]);
    } else if app.logs_full {
        draw_pane(frame, app, body);
    } else {
        draw_body(frame, app, body);
    }
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help => draw_help(frame, app, area),
        Overlay::ConfirmDelete { id, name } => draw_confirm(frame, *id, name, area),
    }
}

fn draw_body(frame: &mut Frame, app: &App, area: Rect) {
    let rows = app.processes.len() as u16;
    let sparks = if frame.area().height >= SPARK_MIN_SCREEN {
        SPARK_HEIGHT
    } else {
        0
    };
    // The table takes what its rows need, up to two fifths of the body;
    // the log pane keeps at least three lines.
    let wanted = rows + 3;
    let cap = (area.height.saturating_sub(sparks) * 2 / 5).max(4);
    let table_height = wanted
        .min(cap)
        .min(area.height.saturating_sub(sparks + 3).max(3));
    let [table, spark, logs] = Layout::vertical([
        Constraint::Length(table_height),
        Constraint::Length(sparks),
        Constraint::Min(0),
    ])
    .areas(area);
    draw_table(frame, app, table);
    if sparks > 0 {
        draw_sparklines(frame, app, spark);
    }
    draw_pane(frame, app, logs);
}

/// The lower pane: the log lines, or the summary with `p`.
fn draw_pane(frame: &mut Frame, app: &App, area: Rect) {
    match app.pane {
        PaneView::Logs => draw_logs(frame, app, area),
        PaneView::Patterns => draw_summary(frame, app, area),
    }
}

fn draw_header(frame: &mut Frame, app: &App, area: Rect) {
    let online = app
        .processes
        .iter()
        .filter(|p| p.status == Status::Online)
        .count();
    let n = app.processes.len();
    let (cpu, mem) = app.totals();
    // Longest form first; narrower terminals drop the least useful parts.
    for form in 0..3 {
        let mut spans = vec![Span::styled(
            " velos ",
            Style::new().fg(Color::Black).bg(Color::Cyan).bold(),
        )];
        match &app.daemon {
            Some(d) => {
                if form < 2 {
                    spans.push(Span::raw(format!(" v{}", d.version)));
                }
                if let Some(started) = d.started_ms {
                    let up = duration(Duration::from_millis(
                        u64::try_from(app.now_ms - started).unwrap_or(0),
                    ));
                    spans.push(Span::raw(if form < 2 {
                        format!(" · up {up}")
                    } else {
                        format!(" up {up}")
                    }));
                }
            }
            None => spans.push(Span::raw(" no daemon").dark_gray()),
        }
        spans.push(Span::raw(match form {
            0 => format!(
                " · {n} process{} ({online} online)",
                if n == 1 { "" } else { "es" }
            ),
            _ => format!(" · {online}/{n} online"),
        }));
        spans.push(Span::raw(" · CPU "));
        spans.push(Span::raw(format!("{cpu:.1}%")).bold());
        spans.push(Span::raw(if form == 0 { " · MEM " } else { " · " }));
        spans.push(Span::raw(bytes(mem)).bold());
        let line = TextLine::from(spans);
        if line.width() <= area.width as usize || form == 2 {
            frame.render_widget(Paragraph::new(line), area);
            return;
        }
    }
}

fn draw_footer(frame: &mut Frame, app: &App, area: Rect) {
    let line = if let Some(typed) = &app.prompt {
        // A bad regex is named beside what was typed, to be fixed in place.
        let after = match app.current_status().filter(|s| s.error) {
            Some(err) => Span::styled(
                format!("   {}", err.text),
                Style::new().fg(Color::Red).bold(),
            ),
            None => Span::raw("   Enter: filter  Esc: cancel").dark_gray(),
        };
        TextLine::from(vec![
            Span::styled(" /", Style::new().fg(Color::Cyan).bold()),
            Span::raw(printable(typed)),
            Span::raw("█"),
            after,
        ])
    } else if let Some(status) = app.current_status() {
        let style = if status.error {
            Style::new().fg(Color::Red).bold()
        } else {
            Style::new().fg(Color::Cyan)
        };
        TextLine::from(Span::styled(format!(" {}", status.text), style))
    } else if let (true, Some(err)) = (app.loaded, &app.poll_error) {
        TextLine::from(Span::styled(
            format!(" daemon unreachable: {err}"),
            Style::new().fg(Color::Red).bold(),
        ))
    } else {
        // The keys that fit, most useful first; help and quit always.
        let by_priority: [(&str, &str); 8] = [
            ("↑↓", "select"),
            ("/", "filter"),
            ("p", "patterns"),
            ("Tab", "sort"),
            ("l", "logs"),
            ("r", "restart"),
            ("s", "stop"),
            ("d", "delete"),
        ];
        let cost = |(k, w): &(&str, &str)| k.chars().count() + w.len() + 3;
        let always = [("?", "help"), ("q", "quit")];
        let mut room =
            (area.width as usize).saturating_sub(1 + always.iter().map(cost).sum::<usize>());
        let mut keys: Vec<(&str, &str)> = Vec::new();
        for key in by_priority {
            if cost(&key) > room {
                break;
            }
            room -= cost(&key);
            keys.push(key);
        }
        keys.extend(always);
        let mut spans = vec![Span::raw(" ")];
        for (key, what) in keys {
            spans.push(Span::styled(key, Style::new().fg(Color::Cyan).bold()));
            spans.push(Span::raw(format!(" {what}  ")));
        }
        TextLine::from(spans)
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn draw_empty(frame: &mut Frame, app: &App, area: Rect) {
    let mut lines = vec![
        TextLine::from("no processes — start one with `velos start …`").bold(),
        TextLine::from(""),
        TextLine::from("e.g.  velos start --name web -- python3 -m http.server").dark_gray(),
    ];
    if let Some(err) = &app.poll_error {
        lines.push(TextLine::from(""));
        lines.push(TextLine::from(format!("daemon unreachable: {err}")).red());
    }
    draw_centered_message(frame, area, lines);
}

fn draw_centered_message(frame: &mut Frame, area: Rect, lines: Vec<TextLine<'static>>) {
    let block = Block::bordered().border_style(Style::new().dark_gray());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = (lines.len() as u16).min(inner.height);
    let [middle] = Layout::vertical([Constraint::Length(height)])
        .flex(ratatui::layout::Flex::Center)
        .areas(inner);
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        middle,
    );
}

fn status_cell(status: Status) -> Cell<'static> {
    let (text, color) = match status {
        Status::Online => ("online", Color::Green),
        Status::Starting => ("starting", Color::Yellow),
        Status::Stopping => ("stopping", Color::Yellow),
        Status::WaitingRestart => ("waiting", Color::Yellow),
        Status::Stopped => ("stopped", Color::DarkGray),
        Status::Errored => ("errored", Color::Red),
    };
    Cell::from(Span::styled(text, Style::new().fg(color)))
}

/// A cell whose text sits at the right edge of its column.
fn right(text: impl Into<String>, style: Style) -> Cell<'static> {
    Cell::from(TextLine::from(Span::styled(text.into(), style)).right_aligned())
}

fn health_cell(score: Option<u8>) -> Cell<'static> {
    match score {
        None => right("—", Style::new().dark_gray()),
        Some(score) => {
            let color = match score {
                80.. => Color::Green,
                50..80 => Color::Yellow,
                _ => Color::Red,
            };
            right(score.to_string(), Style::new().fg(color))
        }
    }
}

fn draw_table(frame: &mut Frame, app: &App, area: Rect) {
    let wide = area.width >= 70;
    let plain = Style::new();
    // The sorted column carries an arrow (▲ ascending, ▼ descending).
    let head = |title: &str, key: SortKey, arrow: &str| {
        if app.sort == key {
            format!("{title}{arrow}")
        } else {
            title.to_string()
        }
    };
    let mut header = vec![
        Cell::from(head("ID", SortKey::Id, "▲")),
        Cell::from(head("NAME", SortKey::Name, "▲")),
        Cell::from("STATUS"),
        right(head("CPU", SortKey::Cpu, "▼"), plain),
        right(head("MEM", SortKey::Memory, "▼"), plain),
    ];
    let mut widths = vec![
        Constraint::Length(3),
        Constraint::Fill(1),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(8),
    ];
    if wide {
        header.push(Cell::from("UPTIME"));
        widths.push(Constraint::Length(7));
    }
    header.extend([
        right(head("↺", SortKey::Restarts, "▼"), plain),
        right(head("HEALTH", SortKey::Health, "▲"), plain),
    ]);
    widths.extend([Constraint::Length(4), Constraint::Length(7)]);
    let rows = app.processes.iter().map(|p| {
        let mut cells = vec![
            Cell::from(p.id.to_string()),
            Cell::from(p.name.clone()),
            status_cell(p.status),
            right(cpu_text(p), plain),
            right(p.memory.map_or_else(|| "—".to_string(), bytes), plain),
        ];
        if wide {
            cells.push(Cell::from(
                p.uptime_ms
                    .filter(|_| p.status.is_running())
                    .map_or_else(|| "—".to_string(), |ms| duration(Duration::from_millis(ms))),
            ));
        }
        cells.push(right(p.restarts.to_string(), plain));
        cells.push(health_cell(app.health.get(&p.name).copied()));
        Row::new(cells)
    });
    let title = TextLine::from(vec![
        Span::raw(" processes ").bold(),
        Span::raw(format!("· every {} ", interval_text(app.interval_ms))).dark_gray(),
    ]);
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(Style::new().bold().fg(Color::Cyan)))
        .block(Block::bordered().title(title))
        .column_spacing(if area.width >= 76 { 2 } else { 1 })
        .row_highlight_style(
            Style::new()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD),
        )
        .highlight_symbol("▶ ");
    let mut state =
        TableState::default().with_selected(app.selected().map(|_| app.selected_index()));
    frame.render_stateful_widget(table, area, &mut state);
}

fn cpu_text(p: &ProcessInfo) -> String {
    p.cpu
        .map_or_else(|| "—".to_string(), |c| format!("{c:.1}%"))
}

fn draw_sparklines(frame: &mut Frame, app: &App, area: Rect) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let Some(p) = app.selected() else {
        frame.render_widget(Block::bordered().title(" CPU "), left);
        frame.render_widget(Block::bordered().title(" MEM "), right);
        return;
    };
    let cpu_max = p.samples.iter().map(|s| s.cpu).fold(0.0f32, f32::max);
    let mem_max = p.samples.iter().map(|s| s.memory).max().unwrap_or(0);
    let cpu_title = format!(
        " CPU {} · max {cpu_max:.1}% ",
        p.cpu
            .map_or_else(|| "—".to_string(), |c| format!("{c:.1}%"))
    );
    let mem_title = format!(
        " MEM {} · max {} ",
        p.memory.map_or_else(|| "—".to_string(), bytes),
        bytes(mem_max)
    );
    let cpu_block = Block::bordered().title(cpu_title);
    let width = cpu_block.inner(left).width as usize;
    let recent = &p.samples[p.samples.len().saturating_sub(width)..];
    // Tenths of a percent, so small loads still show.
    let cpu: Vec<u64> = recent
        .iter()
        .map(|s| (s.cpu.max(0.0) * 10.0).round() as u64)
        .collect();
    let cpu_scale = (cpu_max.max(CPU_FLOOR_PERCENT) * 10.0).round() as u64;
    frame.render_widget(
        Sparkline::default()
            .block(cpu_block)
            .data(cpu)
            .max(cpu_scale)
            .style(Style::new().fg(Color::Green)),
        left,
    );
    let mem_block = Block::bordered().title(mem_title);
    let width = mem_block.inner(right).width as usize;
    let recent = &p.samples[p.samples.len().saturating_sub(width)..];
    let mem: Vec<u64> = recent.iter().map(|s| s.memory).collect();
    frame.render_widget(
        Sparkline::default()
            .block(mem_block)
            .data(mem)
            .max(mem_max.max(1))
            .style(Style::new().fg(Color::Magenta)),
        right,
    );
}

fn level_style(level: Level) -> Style {
    match level {
        Level::Fatal => Style::new().fg(Color::Magenta).bold(),
        Level::Error => Style::new().fg(Color::Red),
        Level::Warn => Style::new().fg(Color::Yellow),
        Level::Info => Style::new(),
        Level::Debug => Style::new().fg(Color::DarkGray),
    }
}

fn clock(app: &App, ms: i64) -> String {
    let local = app.zone.utc_to_local(ms);
    let of_day = local.rem_euclid(86_400_000) / 1000;
    format!(
        "{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

/// Text safe to put on the screen: tabs become spaces, other control
/// characters (which could drive the terminal) are shown as escapes
/// ([`crate::text::visible`]).
fn printable(text: &str) -> String {
    crate::text::visible(&text.replace('\t', " "))
}

/// Width of the time and level columns, with their spaces.
const LOG_PREFIX: usize = 15;

/// How far into a line its own timestamp may start (after a bracket, a
/// pid or a host name) to count as the line's own.
const OWN_TIME_WITHIN: usize = 48;

/// Whether a line's text starts with a timestamp of its own, as the
/// captured output of an app that writes its own header does: then the
/// capture time would only repeat it.
fn has_own_time(app: &App, text: &str) -> bool {
    let first = text.split('\n').next().unwrap_or("");
    let head = &first.as_bytes()[..first.len().min(OWN_TIME_WITHIN + 40)];
    let ctx = crate::timestamp::TimeContext::new(app.zone.clone(), app.now_ms);
    crate::timestamp::detect(head, &ctx).is_some_and(|found| found.start <= OWN_TIME_WITHIN)
}

/// `text` as spans in `style`, with the filter's matches highlighted.
fn highlighted(app: &App, text: String, style: Style) -> Vec<Span<'static>> {
    let Some(filter) = &app.filter else {
        return vec![Span::styled(text, style)];
    };
    let mark = style.bg(Color::Yellow).fg(Color::Black);
    let mut spans = Vec::new();
    let mut at = 0;
    for m in filter.regex.find_iter(&text) {
        if m.start() == m.end() {
            continue;
        }
        if m.start() > at {
            spans.push(Span::styled(text[at..m.start()].to_string(), style));
        }
        spans.push(Span::styled(text[m.start()..m.end()].to_string(), mark));
        at = m.end();
    }
    if at < text.len() {
        spans.push(Span::styled(text[at..].to_string(), style));
    }
    spans
}

/// The screen rows of one record: time, level and the first line, then
/// its continuation lines under the text. The capture time is shown only
/// for lines that carry no timestamp of their own.
fn log_rows(app: &App, line: &Line, rows: &mut Vec<TextLine<'static>>) {
    let style = level_style(line.level);
    let time = match line.ts {
        Some(ts) if !has_own_time(app, &line.text) => clock(app, ts),
        _ => "        ".to_string(),
    };
    let text_style = if line.src.as_deref() == Some(Src::Velos.as_str()) {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::ITALIC)
    } else {
        style
    };
    for (i, part) in line.text.split('\n').enumerate() {
        let part = printable(part.strip_suffix('\r').unwrap_or(part));
        let mut spans = if i == 0 {
            vec![
                Span::raw(time.clone()).dark_gray(),
                Span::raw(" "),
                Span::styled(line.level.label(), style),
                Span::raw(" "),
            ]
        } else {
            vec![Span::raw(" ".repeat(LOG_PREFIX))]
        };
        spans.extend(highlighted(app, part, text_style));
        rows.push(TextLine::from(spans));
    }
}

fn draw_logs(frame: &mut Frame, app: &App, area: Rect) {
    let name = app.selected().map(|p| p.name.as_str());
    let mut title = vec![Span::raw(" logs ").bold()];
    if let Some(name) = name {
        title.push(Span::raw(format!("· {name} ")));
    }
    let lines = app.visible_lines();
    if let Some(filter) = &app.filter {
        title.push(
            Span::raw(format!(
                "· /{}/ {} of {} (Esc clears) ",
                filter.pattern,
                lines.len(),
                app.logs.lines.len()
            ))
            .yellow(),
        );
    }
    if app.logs.scroll > 0 {
        title.push(Span::raw(format!("· {} lines back (PgDn) ", app.logs.scroll)).yellow());
    }
    let hint = if app.logs_full {
        " l: back "
    } else {
        " l: full screen "
    };
    let block = Block::bordered()
        .title(TextLine::from(title))
        .title_bottom(TextLine::from(hint).dark_gray().right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let pane = &app.logs;
    let showing = pane.name.is_some() && pane.name.as_deref() == name;
    if !showing || lines.is_empty() {
        let text = match name {
            Some(_) if app.filter.is_some() && !pane.lines.is_empty() => {
                "no line matches the filter"
            }
            Some(_) => "no log lines yet",
            None => "no process selected",
        };
        frame.render_widget(Paragraph::new(Text::from(text).dark_gray()), inner);
        return;
    }
    // The newest records that fit, bottom-aligned; a record taller than
    // the pane shows its last rows.
    let height = inner.height as usize;
    let end = lines.len().saturating_sub(pane.scroll);
    let mut start = end;
    let mut taken = 0;
    while start > 0 && taken < height {
        start -= 1;
        taken += 1 + lines[start].text.matches('\n').count();
    }
    let mut rows = Vec::with_capacity(taken);
    for line in &lines[start..end] {
        log_rows(app, line, &mut rows);
    }
    let skip = rows.len().saturating_sub(height);
    frame.render_widget(Paragraph::new(rows.split_off(skip)), inner);
}

/// The selected process's `--summary` of the last hour, scrolled by
/// PgUp/PgDn.
fn draw_summary(frame: &mut Frame, app: &App, area: Rect) {
    let name = app.selected().map(|p| p.name.as_str());
    let mut title = vec![Span::raw(" patterns ").bold()];
    if let Some(name) = name {
        title.push(Span::raw(format!("· {name} · last hour ")));
    }
    let block = Block::bordered()
        .title(TextLine::from(title))
        .title_bottom(TextLine::from(" p: logs ").dark_gray().right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(name) = name else {
        frame.render_widget(
            Paragraph::new(Text::from("no process selected").dark_gray()),
            inner,
        );
        return;
    };
    let Some(summary) = app.summaries.get(name) else {
        let text = if app.health.contains_key(name) {
            "computing the summary…"
        } else {
            "no records in the last hour yet (the summary is computed in the background)"
        };
        frame.render_widget(
            Paragraph::new(Text::from(text).dark_gray()).wrap(Wrap { trim: true }),
            inner,
        );
        return;
    };
    let lines: Vec<TextLine<'static>> = summary
        .lines()
        .skip(app.summary_scroll)
        .map(|l| TextLine::from(printable(l)))
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A rectangle of `width` × `height` centred in `area`, shrunk to fit.
fn popup(area: Rect, width: u16, height: u16) -> Rect {
    area.centered(
        Constraint::Length(width.min(area.width)),
        Constraint::Length(height.min(area.height)),
    )
}

fn draw_help(frame: &mut Frame, app: &App, area: Rect) {
    let keys: [(&str, &str); 16] = [
        ("↑ ↓  k j", "select a process"),
        ("g G  Home End", "first / last process"),
        ("Tab  o", "sort: id, name, CPU, memory, ↺, health"),
        ("l", "log pane full screen / back"),
        ("/", "filter the log pane by a regex"),
        ("Esc", "clear the filter / leave patterns"),
        ("p", "top patterns and anomalies, last hour"),
        ("PgUp PgDn", "scroll the log pane"),
        ("r", "restart the selected process"),
        ("s", "stop the selected process"),
        ("d", "delete it (asks y/n)"),
        ("?", "show / hide these keys"),
        ("q  Esc", "quit"),
        ("", ""),
        ("HEALTH", "score of the last hour, 0–100"),
        ("↺", "restarts"),
    ];
    let mut lines: Vec<TextLine<'_>> = keys
        .iter()
        .map(|(key, what)| {
            TextLine::from(vec![
                Span::styled(format!(" {key:<14}"), Style::new().fg(Color::Cyan).bold()),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(TextLine::from(
        format!(" refresh every {}", interval_text(app.interval_ms)).dark_gray(),
    ));
    let rect = popup(area, 56, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" keys ").bold()),
        rect,
    );
}

fn draw_confirm(frame: &mut Frame, id: u32, name: &str, area: Rect) {
    let lines = vec![
        TextLine::from(format!("Delete {name} (id {id})?")).bold(),
        TextLine::from("It is stopped and removed from the table;"),
        TextLine::from("its logs stay."),
        TextLine::from(""),
        TextLine::from(vec![
            Span::styled("y", Style::new().fg(Color::Red).bold()),
            Span::raw(" delete    "),
            Span::styled("n", Style::new().fg(Color::Cyan).bold()),
            Span::raw(" cancel"),
        ]),
    ];
    let rect = popup(area, 46, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .block(
                Block::bordered()
                    .title(" delete ")
                    .border_style(Style::new().fg(Color::Red)),
            ),
        rect,
    );
}

/// `2s`, `500ms`, `1m`.
pub fn interval_text(ms: u64) -> String {
    if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::buffer::Buffer;

    use super::*;
    use crate::ipc::Status;
    use crate::timestamp::Zone;
    use crate::tui::app::tests::process;
    use crate::tui::app::{App, DaemonInfo};
    use crate::tui::event::on_key;
    use ratatui::crossterm::event::{KeyCode, KeyEvent};

    const NOW: i64 = 1_700_000_000_000;

    fn app() -> App {
        let mut app = App::new(Zone::utc(), 2000, NOW);
        app.daemon = Some(DaemonInfo {
            version: "0.1.0".into(),
            pid: 4242,
            started_ms: Some(NOW - 3 * 3_600_000 - 12 * 60_000),
        });
        app.set_processes(vec![
            process(1, "web", Status::Online),
            process(2, "worker", Status::Online),
            process(3, "cron", Status::Stopped),
            process(4, "flaky", Status::Errored),
        ]);
        app.health.insert("web".into(), 100);
        app.health.insert("worker".into(), 71);
        app.health.insert("flaky".into(), 12);
        app
    }

    fn with_logs(mut app: App) -> App {
        let name = app.selected().map(|p| p.name.clone());
        app.logs.switch(name);
        let lines = [
            (Level::Info, Some("stdout"), "listening on :8080"),
            (Level::Debug, Some("stdout"), "cache warm: 120 entries"),
            (Level::Warn, Some("stderr"), "slow request: 1200 ms"),
            (Level::Error, Some("stderr"), "connection refused (db:5432)"),
            (Level::Fatal, Some("stderr"), "out of memory"),
            (
                Level::Warn,
                Some("velos"),
                "restarting in 100 ms (restart 2)",
            ),
            (
                Level::Error,
                Some("stderr"),
                "panic: index out of range\n\tat main.go:12\n\x1b[2Jcleared?",
            ),
        ];
        app.logs.push(
            lines
                .iter()
                .enumerate()
                .map(|(i, (level, src, text))| Line {
                    ts: Some(NOW - 60_000 + i as i64 * 1500),
                    level: *level,
                    src: src.map(str::to_string),
                    text: text.to_string(),
                }),
        );
        app
    }

    fn render(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|frame| draw(frame, app)).unwrap();
        terminal
    }

    fn text_of(buffer: &Buffer) -> String {
        let area = buffer.area;
        let mut out = String::new();
        for y in 0..area.height {
            let mut line = String::new();
            for x in 0..area.width {
                line.push_str(buffer[(x, y)].symbol());
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// The row of the buffer holding `needle`, and its column.
    fn find(buffer: &Buffer, needle: &str) -> Option<(u16, u16)> {
        let area = buffer.area;
        for y in 0..area.height {
            let mut line = String::new();
            let mut columns = Vec::new();
            for x in 0..area.width {
                for _ in buffer[(x, y)].symbol().chars() {
                    columns.push(x);
                }
                line.push_str(buffer[(x, y)].symbol());
            }
            if let Some(i) = line.find(needle) {
                let chars = line[..i].chars().count();
                return Some((columns[chars], y));
            }
        }
        None
    }

    #[test]
    fn filtered_log_pane_highlights_matches() {
        let mut app = with_logs(app());
        for code in "/refused|memory"
            .chars()
            .map(KeyCode::Char)
            .chain([KeyCode::Enter])
        {
            on_key(&mut app, KeyEvent::from(code));
        }
        let terminal = render(&app, 80, 24);
        let buffer = terminal.backend().buffer();
        let text = text_of(buffer);
        assert!(text.contains("/refused|memory/ 2 of 7"), "{text}");
        assert!(!text.contains("listening on"), "{text}");
        let (x, y) = find(buffer, "refused (db").unwrap();
        assert_eq!(buffer[(x, y)].bg, Color::Yellow, "the match is highlighted");
        let (x, y) = find(buffer, "connection").unwrap();
        assert_ne!(buffer[(x, y)].bg, Color::Yellow, "the rest is not");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn search_prompt_and_bad_regex_in_the_footer() {
        let mut app = with_logs(app());
        for code in "/time(out"
            .chars()
            .map(KeyCode::Char)
            .chain([KeyCode::Enter])
        {
            on_key(&mut app, KeyEvent::from(code));
        }
        let terminal = render(&app, 80, 24);
        let text = text_of(terminal.backend().buffer());
        let footer = text.lines().nth(23).unwrap();
        assert!(
            footer.starts_with(" /time(out█   bad regex /time(out/:"),
            "{footer}"
        );
    }

    #[test]
    fn sorted_table_marks_its_column() {
        let mut app = with_logs(app());
        // id → name → CPU → memory → restarts → health.
        for _ in 0..5 {
            on_key(&mut app, KeyEvent::from(KeyCode::Tab));
        }
        let terminal = render(&app, 80, 24);
        let text = text_of(terminal.backend().buffer());
        assert!(text.contains("HEALTH▲"), "{text}");
        let order: Vec<usize> = ["flaky", "worker", "web", "cron"]
            .iter()
            .map(|n| text.find(&format!(" {n} ")).unwrap())
            .collect();
        assert!(
            order.is_sorted(),
            "least healthy first, unscored last: {text}"
        );
        insta::assert_snapshot!(text);
    }

    #[test]
    fn pattern_view_shows_the_summary_of_the_last_hour() {
        let mut app = with_logs(app());
        on_key(&mut app, KeyEvent::from(KeyCode::Char('p')));
        let terminal = render(&app, 80, 24);
        let text = text_of(terminal.backend().buffer());
        assert!(
            text.contains("no records in the last hour yet") || text.contains("computing"),
            "{text}"
        );
        app.summaries.insert(
            "web".into(),
            "Period: 10:00 → 11:00\nTop patterns\n  7x  request <NUM> took <NUM>\nHealth: 95/100"
                .into(),
        );
        let terminal = render(&app, 80, 24);
        let text = text_of(terminal.backend().buffer());
        assert!(text.contains("patterns · web · last hour"), "{text}");
        assert!(text.contains("request <NUM> took <NUM>"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn capture_time_only_for_lines_without_their_own() {
        let mut app = app();
        let name = app.selected().map(|p| p.name.clone());
        app.logs.switch(name);
        let at = NOW - 30_000;
        app.logs.push([
            Line {
                ts: Some(at),
                level: Level::Info,
                src: Some("stdout".into()),
                text: "2023-11-14T22:12:50Z INFO request 1 took 3ms".into(),
            },
            Line {
                ts: Some(at),
                level: Level::Info,
                src: Some("stdout".into()),
                text: "request 2 took 4ms".into(),
            },
        ]);
        let terminal = render(&app, 80, 24);
        let text = text_of(terminal.backend().buffer());
        let row = |needle: &str| {
            text.lines()
                .find(|l| l.contains(needle))
                .unwrap()
                .to_string()
        };
        assert!(!row("request 1").contains("22:12:50 INFO"), "{text}");
        assert!(row("request 2").contains("22:12:50 INFO"), "{text}");
    }

    #[test]
    fn table_with_processes_at_80x24() {
        let terminal = render(&with_logs(app()), 80, 24);
        insta::assert_snapshot!(text_of(terminal.backend().buffer()));
    }

    #[test]
    fn status_and_health_are_coloured() {
        let terminal = render(&app(), 80, 24);
        let buffer = terminal.backend().buffer();
        let fg = |needle: &str| {
            let (x, y) = find(buffer, needle).unwrap_or_else(|| panic!("{needle} not drawn"));
            buffer[(x, y)].fg
        };
        assert_eq!(fg("online  "), Color::Green);
        assert_eq!(fg("stopped"), Color::DarkGray);
        assert_eq!(fg("errored"), Color::Red);
        assert_eq!(fg("71│"), Color::Yellow);
        assert_eq!(fg("12│"), Color::Red);
        assert_eq!(fg("100│"), Color::Green);
        // The selected row is highlighted.
        let (_, y) = find(buffer, "▶ ").unwrap();
        let (_, web) = find(buffer, "web").unwrap();
        assert_eq!(y, web);
        assert_eq!(buffer[(10, y)].bg, Color::DarkGray);
    }

    #[test]
    fn sparklines_show_the_selected_process_history() {
        let mut app = app();
        on_key(&mut app, KeyEvent::from(KeyCode::Down));
        let terminal = render(&app, 80, 24);
        let text = text_of(terminal.backend().buffer());
        // worker (id 2): last cpu 3.0 %, max 6.0 % of its 20 samples.
        assert!(text.contains("CPU 3.0% · max 6.0%"), "{text}");
        assert!(text.contains("MEM 24.0 MiB · max 14.0 MiB"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn log_pane_colours_lines_by_level() {
        let terminal = render(&with_logs(app()), 80, 24);
        let buffer = terminal.backend().buffer();
        let fg = |needle: &str| {
            let (x, y) = find(buffer, needle).unwrap_or_else(|| panic!("{needle} not drawn"));
            buffer[(x, y)].fg
        };
        assert_eq!(fg("listening on"), Color::Reset);
        assert_eq!(fg("cache warm"), Color::DarkGray);
        assert_eq!(fg("slow request"), Color::Yellow);
        assert_eq!(fg("connection refused"), Color::Red);
        assert_eq!(fg("out of memory"), Color::Magenta);
        assert_eq!(fg("ERROR"), Color::Red);
        assert_eq!(fg("restarting in"), Color::Cyan);
        let (x, y) = find(buffer, "out of memory").unwrap();
        assert!(buffer[(x, y)].modifier.contains(Modifier::BOLD));
        // Times are the records' own, in the state's zone.
        assert!(find(buffer, "22:12:20 INFO  listening on :8080").is_some());
        // Continuation lines sit under the text, control characters are
        // made harmless.
        let (x, _) = find(buffer, "panic: index").unwrap();
        let (x2, _) = find(buffer, " at main.go:12").unwrap();
        assert_eq!(x2, x);
        assert_eq!(fg("at main.go"), Color::Red);
        assert!(find(buffer, "\\x1b[2Jcleared?").is_some());
    }

    #[test]
    fn full_screen_log_pane() {
        let mut app = with_logs(app());
        on_key(&mut app, KeyEvent::from(KeyCode::Char('l')));
        let terminal = render(&app, 80, 24);
        insta::assert_snapshot!(text_of(terminal.backend().buffer()));
    }

    #[test]
    fn help_overlay() {
        let mut app = app();
        on_key(&mut app, KeyEvent::from(KeyCode::Char('?')));
        let terminal = render(&app, 80, 24);
        insta::assert_snapshot!(text_of(terminal.backend().buffer()));
    }

    #[test]
    fn delete_confirmation() {
        let mut app = app();
        on_key(&mut app, KeyEvent::from(KeyCode::Char('d')));
        let terminal = render(&app, 80, 24);
        insta::assert_snapshot!(text_of(terminal.backend().buffer()));
    }

    #[test]
    fn empty_state() {
        let mut app = app();
        app.set_processes(Vec::new());
        let terminal = render(&app, 80, 24);
        let text = text_of(terminal.backend().buffer());
        assert!(text.contains("no processes — start one with `velos start …`"));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn small_terminal_stays_readable() {
        let mut app = with_logs(app());
        for _ in 0..3 {
            on_key(&mut app, KeyEvent::from(KeyCode::Down));
        }
        let terminal = render(&app, 60, 15);
        let text = text_of(terminal.backend().buffer());
        // The selected row (the last) stays in view, names are whole.
        assert!(text.contains("▶ 4"), "{text}");
        assert!(text.contains("flaky"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn tiny_and_odd_sizes_do_not_panic() {
        let mut app = with_logs(app());
        for size in [(1, 1), (10, 3), (20, 5), (40, 8), (200, 60), (80, 2)] {
            render(&app, size.0, size.1);
        }
        on_key(&mut app, KeyEvent::from(KeyCode::Char('?')));
        render(&app, 12, 4);
        app.overlay = crate::tui::app::Overlay::ConfirmDelete {
            id: 1,
            name: "a-very-long-process-name-indeed".into(),
        };
        render(&app, 16, 6);
    }

    #[test]
    fn daemon_trouble_is_shown() {
        let mut app = App::new(Zone::utc(), 2000, NOW);
        let text = text_of(render(&app, 80, 24).backend().buffer());
        assert!(text.contains("connecting to the daemon…"), "{text}");
        assert!(text.contains("no daemon"), "{text}");

        let mut app_err = app.clone();
        app_err.poll_error = Some("connection refused".into());
        let text = text_of(render(&app_err, 80, 24).backend().buffer());
        assert!(
            text.contains("cannot reach the daemon: connection refused"),
            "{text}"
        );

        app.set_processes(vec![process(1, "web", Status::Online)]);
        app.poll_error = Some("the daemon is not running".into());
        let terminal = render(&app, 80, 24);
        let buffer = terminal.backend().buffer();
        let text = text_of(buffer);
        assert!(
            text.contains("daemon unreachable: the daemon is not running"),
            "{text}"
        );
        let (x, y) = find(buffer, "daemon unreachable").unwrap();
        assert_eq!(buffer[(x, y)].fg, Color::Red);
        // A message wins over the key list while it is fresh.
        app.set_status("cannot stop web: gone", true);
        let text = text_of(render(&app, 80, 24).backend().buffer());
        assert!(text.contains("cannot stop web: gone"), "{text}");
    }

    #[test]
    fn units() {
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(4096), "4.0 KiB");
        assert_eq!(bytes(245 << 20), "245 MiB");
        assert_eq!(bytes(3 << 29), "1.5 GiB");
        assert_eq!(interval_text(2000), "2s");
        assert_eq!(interval_text(500), "500ms");
        assert_eq!(interval_text(120_000), "2m");
    }
}

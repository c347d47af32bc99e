//! The state of `velos monit`: the process table as last polled and its
//! sort order, the selection, the log pane of the selected process and its
//! filter, health scores and summaries, the overlay shown (help, delete
//! confirmation), the search prompt and the status line.
//!
//! Everything the screen shows lives here, including the current time, so
//! drawing ([`super::ui`]) is a pure function of an [`App`]. Nothing in this
//! module talks to the daemon or reads files: the run loop feeds it.

use std::collections::{HashMap, VecDeque};

use crate::ipc::ProcessInfo;
use crate::timestamp::Zone;

use super::logs::Line;

/// Lines kept in the log pane.
pub const LOG_CAPACITY: usize = 2000;

/// How long a status message stays in the footer, ms.
pub const STATUS_MS: i64 = 5_000;

/// How long an error message stays in the footer, ms.
pub const ERROR_STATUS_MS: i64 = 15_000;

/// The daemon as seen at connection time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonInfo {
    /// Its crate version.
    pub version: String,
    /// Its pid.
    pub pid: u32,
    /// When it started, Unix ms, when known.
    pub started_ms: Option<i64>,
}

/// What covers the screen on top of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    /// Nothing.
    None,
    /// The list of keys.
    Help,
    /// Waiting for y/n before deleting a process.
    ConfirmDelete {
        /// Its id.
        id: u32,
        /// Its name.
        name: String,
    },
}

/// The order of the process table; `Tab` cycles through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// By id, as the daemon lists them.
    #[default]
    Id,
    /// By name, A to Z.
    Name,
    /// Busiest first.
    Cpu,
    /// Largest first.
    Memory,
    /// Most restarted first.
    Restarts,
    /// Least healthy first (unscored last).
    Health,
}

impl SortKey {
    /// The next order in the cycle.
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Id => SortKey::Name,
            SortKey::Name => SortKey::Cpu,
            SortKey::Cpu => SortKey::Memory,
            SortKey::Memory => SortKey::Restarts,
            SortKey::Restarts => SortKey::Health,
            SortKey::Health => SortKey::Id,
        }
    }

    /// How the status line names it.
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Id => "id",
            SortKey::Name => "name",
            SortKey::Cpu => "CPU",
            SortKey::Memory => "memory",
            SortKey::Restarts => "restarts",
            SortKey::Health => "health",
        }
    }
}

/// What the lower pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaneView {
    /// The selected process's log lines.
    #[default]
    Logs,
    /// The summary of its last hour: top patterns, anomalies, health.
    Patterns,
}

/// The log pane's filter: lines whose text matches a regex.
#[derive(Debug, Clone)]
pub struct LogFilter {
    /// The regex as typed.
    pub pattern: String,
    /// It, compiled.
    pub regex: regex::Regex,
}

impl LogFilter {
    /// Compiles `pattern`; the error is one line, for the status line.
    pub fn new(pattern: &str) -> Result<LogFilter, String> {
        regex::Regex::new(pattern)
            .map(|regex| LogFilter {
                pattern: pattern.to_string(),
                regex,
            })
            .map_err(|err| {
                let detail = err.to_string();
                let last = detail
                    .lines()
                    .last()
                    .unwrap_or("invalid")
                    .trim()
                    .to_string();
                format!(
                    "bad regex /{pattern}/: {}",
                    last.trim_start_matches("error: ")
                )
            })
    }

    /// Whether a line's text matches.
    pub fn matches(&self, line: &Line) -> bool {
        self.regex.is_match(&line.text) || self.regex.is_match(&line.fields)
    }
}

/// A message in the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The text.
    pub text: String,
    /// Whether it reports a failure.
    pub error: bool,
    /// When it was set, Unix ms.
    pub at_ms: i64,
}

/// The log pane: the lines of one process, newest last.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogPane {
    /// The process whose lines these are.
    pub name: Option<String>,
    /// The lines, oldest first, at most [`LOG_CAPACITY`].
    pub lines: VecDeque<Line>,
    /// Lines scrolled back from the newest (0: following).
    pub scroll: usize,
}

impl LogPane {
    /// Starts over for another process.
    pub fn switch(&mut self, name: Option<String>) {
        self.name = name;
        self.lines.clear();
        self.scroll = 0;
    }

    /// Appends new lines, dropping the oldest past [`LOG_CAPACITY`]. A pane
    /// scrolled back stays on the same lines.
    pub fn push(&mut self, lines: impl IntoIterator<Item = Line>) {
        for line in lines {
            if self.lines.len() == LOG_CAPACITY {
                self.lines.pop_front();
            }
            self.lines.push_back(line);
            if self.scroll > 0 {
                self.scroll = (self.scroll + 1).min(self.lines.len().saturating_sub(1));
            }
        }
    }
}

/// Everything `velos monit` shows.
#[derive(Debug, Clone)]
pub struct App {
    /// The process table, in id order, as last polled.
    pub processes: Vec<ProcessInfo>,
    /// Whether a poll has answered yet.
    pub loaded: bool,
    /// The daemon, once connected.
    pub daemon: Option<DaemonInfo>,
    /// Why the last poll failed, while it keeps failing.
    pub poll_error: Option<String>,
    /// Health score over the last hour, by process name.
    pub health: HashMap<String, u8>,
    /// The `--summary` text of the last hour, by process name.
    pub summaries: HashMap<String, String>,
    /// The order of the table.
    pub sort: SortKey,
    /// What the lower pane shows.
    pub pane: PaneView,
    /// Lines the summary pane is scrolled down.
    pub summary_scroll: usize,
    /// The log pane's filter, when one is set.
    pub filter: Option<LogFilter>,
    /// The search prompt's text while `/` is being typed.
    pub prompt: Option<String>,
    /// The log pane.
    pub logs: LogPane,
    /// Whether the log pane has the whole screen.
    pub logs_full: bool,
    /// What covers the screen.
    pub overlay: Overlay,
    /// The footer message.
    pub status: Option<Status>,
    /// Now, Unix ms: set by the run loop, never read from a clock here.
    pub now_ms: i64,
    /// Zone for the times in the log pane.
    pub zone: Zone,
    /// The refresh interval, ms (shown in the help).
    pub interval_ms: u64,
    /// Set once the user asked to leave.
    pub quit: bool,
    selected: usize,
    selected_id: Option<u32>,
}

impl App {
    /// An empty state.
    pub fn new(zone: Zone, interval_ms: u64, now_ms: i64) -> App {
        App {
            processes: Vec::new(),
            loaded: false,
            daemon: None,
            poll_error: None,
            health: HashMap::new(),
            summaries: HashMap::new(),
            sort: SortKey::Id,
            pane: PaneView::Logs,
            summary_scroll: 0,
            filter: None,
            prompt: None,
            logs: LogPane::default(),
            logs_full: false,
            overlay: Overlay::None,
            status: None,
            now_ms,
            zone,
            interval_ms,
            quit: false,
            selected: 0,
            selected_id: None,
        }
    }

    /// Replaces the table with a new poll, keeping the same process
    /// selected when it is still there (else the row at the same place).
    pub fn set_processes(&mut self, processes: Vec<ProcessInfo>) {
        self.loaded = true;
        self.poll_error = None;
        self.processes = processes;
        self.sort_processes();
        let by_id = self
            .selected_id
            .and_then(|id| self.processes.iter().position(|p| p.id == id));
        self.selected = match by_id {
            Some(i) => i,
            None => self.selected.min(self.processes.len().saturating_sub(1)),
        };
        self.selected_id = self.processes.get(self.selected).map(|p| p.id);
        if let Overlay::ConfirmDelete { id, .. } = self.overlay
            && !self.processes.iter().any(|p| p.id == id)
        {
            self.overlay = Overlay::None;
        }
        let names: Vec<&str> = self.processes.iter().map(|p| p.name.as_str()).collect();
        self.health.retain(|name, _| names.contains(&name.as_str()));
        self.summaries
            .retain(|name, _| names.contains(&name.as_str()));
    }

    /// Moves to the next sort order, keeping the selected process selected.
    pub fn cycle_sort(&mut self) {
        self.sort = self.sort.next();
        self.resort();
    }

    /// Sorts the table again (after new health scores, say), keeping the
    /// selected process selected.
    pub fn resort(&mut self) {
        self.sort_processes();
        if let Some(i) = self
            .selected_id
            .and_then(|id| self.processes.iter().position(|p| p.id == id))
        {
            self.selected = i;
        }
    }

    fn sort_processes(&mut self) {
        let health = &self.health;
        let by_id = |a: &ProcessInfo, b: &ProcessInfo| a.id.cmp(&b.id);
        match self.sort {
            SortKey::Id => self.processes.sort_by(by_id),
            SortKey::Name => self
                .processes
                .sort_by(|a, b| a.name.cmp(&b.name).then(by_id(a, b))),
            SortKey::Cpu => self.processes.sort_by(|a, b| {
                let cpu = |p: &ProcessInfo| p.cpu.unwrap_or(-1.0);
                cpu(b).total_cmp(&cpu(a)).then(by_id(a, b))
            }),
            SortKey::Memory => self
                .processes
                .sort_by(|a, b| b.memory.cmp(&a.memory).then(by_id(a, b))),
            SortKey::Restarts => self
                .processes
                .sort_by(|a, b| b.restarts.cmp(&a.restarts).then(by_id(a, b))),
            SortKey::Health => self.processes.sort_by_key(|p| {
                let score = health.get(&p.name).map_or(u16::MAX, |&s| u16::from(s));
                (score, p.id)
            }),
        }
    }

    /// The log pane's lines that pass the filter, oldest first.
    pub fn visible_lines(&self) -> Vec<&Line> {
        match &self.filter {
            None => self.logs.lines.iter().collect(),
            Some(filter) => self
                .logs
                .lines
                .iter()
                .filter(|l| filter.matches(l))
                .collect(),
        }
    }

    /// Index of the selected row (0 when the table is empty).
    pub fn selected_index(&self) -> usize {
        self.selected
    }

    /// The selected process.
    pub fn selected(&self) -> Option<&ProcessInfo> {
        self.processes.get(self.selected)
    }

    /// Moves the selection by `delta` rows, wrapping around at both ends.
    pub fn move_selection(&mut self, delta: isize) {
        let n = self.processes.len();
        if n == 0 {
            return;
        }
        let step = delta.rem_euclid(n as isize) as usize;
        self.selected = (self.selected + step) % n;
        self.selected_id = Some(self.processes[self.selected].id);
    }

    /// Selects the first (`false`) or last (`true`) row.
    pub fn select_end(&mut self, last: bool) {
        if let Some(i) = if last {
            self.processes.len().checked_sub(1)
        } else {
            (!self.processes.is_empty()).then_some(0)
        } {
            self.selected = i;
            self.selected_id = Some(self.processes[i].id);
        }
    }

    /// Shows a message in the footer.
    pub fn set_status(&mut self, text: impl Into<String>, error: bool) {
        self.status = Some(Status {
            text: text.into(),
            error,
            at_ms: self.now_ms,
        });
    }

    /// The footer message, while it is fresh.
    pub fn current_status(&self) -> Option<&Status> {
        self.status.as_ref().filter(|s| {
            let keep = if s.error { ERROR_STATUS_MS } else { STATUS_MS };
            self.now_ms - s.at_ms < keep
        })
    }

    /// Summed CPU (percent of a core) and memory (bytes) of all processes.
    pub fn totals(&self) -> (f32, u64) {
        self.processes.iter().fold((0.0, 0), |(cpu, mem), p| {
            (cpu + p.cpu.unwrap_or(0.0), mem + p.memory.unwrap_or(0))
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ipc::{Sample, StartSpec, Status as ProcStatus};

    /// A process as the daemon would report it.
    pub(crate) fn process(id: u32, name: &str, status: ProcStatus) -> ProcessInfo {
        let running = status.is_running();
        ProcessInfo {
            id,
            name: name.to_string(),
            status,
            pid: running.then_some(1000 + id),
            cpu: running.then_some(id as f32 * 1.5),
            memory: running.then_some((u64::from(id) * 12) << 20),
            uptime_ms: running.then_some(u64::from(id) * 61_000),
            restarts: id,
            quick_failures: 0,
            last_exit: None,
            spec: StartSpec {
                name: name.to_string(),
                cmd: "sh".into(),
                args: Vec::new(),
                cwd: "/".into(),
                env: Vec::new(),
                autorestart: true,
                max_restarts: 15,
                kill_timeout_ms: 5000,
                raw: false,
                options: Default::default(),
            },
            log_files: Vec::new(),
            samples: (0..u64::from(id) * 10)
                .map(|i| Sample {
                    ts: i * 1000,
                    cpu: (i % 7) as f32,
                    memory: (10 + i % 5) << 20,
                })
                .collect(),
        }
    }

    pub(crate) fn app_with(names: &[&str]) -> App {
        let mut app = App::new(Zone::utc(), 2000, 1_700_000_000_000);
        app.set_processes(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| process(i as u32, n, ProcStatus::Online))
                .collect(),
        );
        app
    }

    #[test]
    fn selection_follows_the_process_across_polls() {
        let mut app = app_with(&["a", "b", "c"]);
        app.move_selection(2);
        assert_eq!(app.selected().map(|p| p.name.as_str()), Some("c"));
        // "a" went away: "c" is now second, and stays selected.
        let rest = app.processes[1..].to_vec();
        app.set_processes(rest);
        assert_eq!(app.selected_index(), 1);
        assert_eq!(app.selected().map(|p| p.name.as_str()), Some("c"));
        // "c" went away: the selection stays in range.
        let first = app.processes[..1].to_vec();
        app.set_processes(first);
        assert_eq!(app.selected().map(|p| p.name.as_str()), Some("b"));
        app.set_processes(Vec::new());
        assert!(app.selected().is_none());
        app.move_selection(1);
        assert_eq!(app.selected_index(), 0);
    }

    #[test]
    fn sort_orders_cycle_and_keep_the_selection() {
        let mut app = app_with(&["c", "a", "b"]);
        app.move_selection(1);
        assert_eq!(app.selected().map(|p| p.name.as_str()), Some("a"));
        let names =
            |app: &App| -> Vec<String> { app.processes.iter().map(|p| p.name.clone()).collect() };
        app.cycle_sort();
        assert_eq!(app.sort, SortKey::Name);
        assert_eq!(names(&app), ["a", "b", "c"]);
        assert_eq!(app.selected().map(|p| p.name.as_str()), Some("a"));
        app.cycle_sort();
        assert_eq!(app.sort, SortKey::Cpu);
        // The test processes' CPU grows with their id: b (2) > a (1) > c (0).
        assert_eq!(names(&app), ["b", "a", "c"]);
        assert_eq!(app.selected_index(), 1);
        app.cycle_sort();
        assert_eq!(names(&app), ["b", "a", "c"], "memory grows with the id too");
        app.cycle_sort();
        assert_eq!(app.sort, SortKey::Restarts);
        app.cycle_sort();
        assert_eq!(app.sort, SortKey::Health);
        app.health.insert("c".into(), 40);
        app.health.insert("b".into(), 90);
        app.resort();
        assert_eq!(
            names(&app),
            ["c", "b", "a"],
            "least healthy first, unscored last"
        );
        // A new poll comes in id order and is sorted again.
        let polled: Vec<ProcessInfo> = {
            let mut v = app.processes.clone();
            v.sort_by_key(|p| p.id);
            v
        };
        app.set_processes(polled);
        assert_eq!(names(&app), ["c", "b", "a"]);
        assert_eq!(app.selected().map(|p| p.name.as_str()), Some("a"));
        app.cycle_sort();
        assert_eq!(app.sort, SortKey::Id);
        assert_eq!(names(&app), ["c", "a", "b"]);
    }

    #[test]
    fn filters_keep_matching_lines_and_bad_regexes_say_why() {
        let mut app = app_with(&["a"]);
        let line = |text: &str| Line {
            ts: None,
            level: crate::level::Level::Info,
            src: None,
            text: text.to_string(),
            fields: String::new(),
        };
        app.logs
            .push([line("GET /a 200"), line("GET /b 500"), line("POST /a 201")]);
        assert_eq!(app.visible_lines().len(), 3);
        app.filter = Some(LogFilter::new("^GET .* [45]").unwrap());
        let kept: Vec<&str> = app
            .visible_lines()
            .iter()
            .map(|l| l.text.as_str())
            .collect();
        assert_eq!(kept, ["GET /b 500"]);
        let err = LogFilter::new("a(b").unwrap_err();
        assert!(err.starts_with("bad regex /a(b/: "), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn status_messages_expire_errors_later() {
        let mut app = app_with(&["a"]);
        app.set_status("stopped a", false);
        app.now_ms += STATUS_MS - 1;
        assert!(app.current_status().is_some());
        app.now_ms += 1;
        assert!(app.current_status().is_none());
        app.set_status("cannot stop a: gone", true);
        app.now_ms += STATUS_MS;
        assert!(app.current_status().is_some_and(|s| s.error));
        app.now_ms += ERROR_STATUS_MS;
        assert!(app.current_status().is_none());
    }

    #[test]
    fn log_pane_keeps_a_bounded_tail_and_its_scroll_position() {
        let mut pane = LogPane::default();
        let line = |i: usize| Line {
            ts: None,
            level: crate::level::Level::Info,
            src: None,
            text: i.to_string(),
            fields: String::new(),
        };
        pane.push((0..LOG_CAPACITY + 5).map(line));
        assert_eq!(pane.lines.len(), LOG_CAPACITY);
        assert_eq!(pane.lines.front().map(|l| l.text.as_str()), Some("5"));
        pane.scroll = 3;
        pane.push([line(1), line(2)]);
        assert_eq!(pane.scroll, 5);
        pane.switch(Some("x".into()));
        assert!(pane.lines.is_empty() && pane.scroll == 0);
    }
}

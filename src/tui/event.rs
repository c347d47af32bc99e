//! Keys → state changes and requests: the state machine of `velos monit`.
//!
//! [`on_key`] updates the [`App`] and says what the run loop must do beyond
//! that ([`Effect`]): nothing, send a request to the daemon, or quit. It
//! never talks to the daemon itself, so every key can be tested on a plain
//! `App`.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::{App, LogFilter, Overlay, PaneView};
use crate::ipc::Request;

/// Lines the log pane scrolls per page key.
pub const PAGE: usize = 10;

/// What the run loop does after a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Nothing beyond the state change.
    None,
    /// Send this request to the daemon (its target is a process id); the
    /// string names the process for the status line.
    Send(Request, String),
    /// Leave.
    Quit,
}

/// Handles one key.
pub fn on_key(app: &mut App, key: KeyEvent) -> Effect {
    if key.kind == KeyEventKind::Release {
        return Effect::None;
    }
    let ctrl_c = key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c');
    if ctrl_c {
        app.quit = true;
        return Effect::Quit;
    }
    if app.prompt.is_some() {
        return search_prompt(app, key);
    }
    match app.overlay.clone() {
        Overlay::ConfirmDelete { id, name } => match key.code {
            KeyCode::Char('y' | 'Y') => {
                app.overlay = Overlay::None;
                app.set_status(format!("deleting {name}…"), false);
                Effect::Send(
                    Request::Delete {
                        target: id.to_string(),
                    },
                    name,
                )
            }
            KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => {
                app.overlay = Overlay::None;
                Effect::None
            }
            _ => Effect::None,
        },
        Overlay::Help => match key.code {
            KeyCode::Char('q') => quit(app),
            KeyCode::Char('?') | KeyCode::Esc | KeyCode::Enter => {
                app.overlay = Overlay::None;
                Effect::None
            }
            _ => Effect::None,
        },
        Overlay::None => normal(app, key),
    }
}

fn quit(app: &mut App) -> Effect {
    app.quit = true;
    Effect::Quit
}

/// Typing a regex after `/`: Enter applies it (a bad one is named in the
/// status line and stays to be fixed), Esc leaves the filter as it was.
fn search_prompt(app: &mut App, key: KeyEvent) -> Effect {
    let Some(text) = app.prompt.as_mut() else {
        return Effect::None;
    };
    match key.code {
        KeyCode::Char(c) => text.push(c),
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Esc => app.prompt = None,
        KeyCode::Enter => {
            let typed = text.clone();
            if typed.is_empty() {
                app.prompt = None;
                app.filter = None;
                return Effect::None;
            }
            match LogFilter::new(&typed) {
                Ok(filter) => {
                    app.prompt = None;
                    app.filter = Some(filter);
                    app.logs.scroll = 0;
                    app.pane = PaneView::Logs;
                }
                Err(err) => app.set_status(err, true),
            }
        }
        _ => {}
    }
    Effect::None
}

fn normal(app: &mut App, key: KeyEvent) -> Effect {
    match key.code {
        // Esc steps back: out of the pattern view, then the filter, then out.
        KeyCode::Esc if app.pane == PaneView::Patterns => {
            app.pane = PaneView::Logs;
            Effect::None
        }
        KeyCode::Esc if app.filter.is_some() => {
            app.filter = None;
            app.logs.scroll = 0;
            app.set_status("filter cleared", false);
            Effect::None
        }
        KeyCode::Char('q') | KeyCode::Esc => quit(app),
        KeyCode::Char('/') => {
            app.prompt = Some(String::new());
            Effect::None
        }
        KeyCode::Tab | KeyCode::Char('o') => {
            app.cycle_sort();
            app.set_status(format!("sorted by {}", app.sort.label()), false);
            Effect::None
        }
        KeyCode::Char('p') => {
            app.pane = match app.pane {
                PaneView::Logs => PaneView::Patterns,
                PaneView::Patterns => PaneView::Logs,
            };
            app.summary_scroll = 0;
            Effect::None
        }
        KeyCode::Up | KeyCode::Char('k') => {
            app.move_selection(-1);
            Effect::None
        }
        KeyCode::Down | KeyCode::Char('j') => {
            app.move_selection(1);
            Effect::None
        }
        KeyCode::Home | KeyCode::Char('g') => {
            app.select_end(false);
            Effect::None
        }
        KeyCode::End | KeyCode::Char('G') => {
            app.select_end(true);
            Effect::None
        }
        KeyCode::PageUp if app.pane == PaneView::Patterns => {
            app.summary_scroll = app.summary_scroll.saturating_sub(PAGE);
            Effect::None
        }
        KeyCode::PageDown if app.pane == PaneView::Patterns => {
            app.summary_scroll += PAGE;
            Effect::None
        }
        KeyCode::PageUp => {
            let max = app.visible_lines().len().saturating_sub(1);
            app.logs.scroll = (app.logs.scroll + PAGE).min(max);
            Effect::None
        }
        KeyCode::PageDown => {
            app.logs.scroll = app.logs.scroll.saturating_sub(PAGE);
            Effect::None
        }
        KeyCode::Char('l') => {
            app.logs_full = !app.logs_full;
            Effect::None
        }
        KeyCode::Char('?') => {
            app.overlay = Overlay::Help;
            Effect::None
        }
        KeyCode::Char('r') => act(app, "restarting", |target| Request::Restart { target }),
        KeyCode::Char('s') => act(app, "stopping", |target| Request::Stop { target }),
        KeyCode::Char('d') => {
            if let Some(p) = app.selected() {
                app.overlay = Overlay::ConfirmDelete {
                    id: p.id,
                    name: p.name.clone(),
                };
            }
            Effect::None
        }
        _ => Effect::None,
    }
}

fn act(app: &mut App, verb: &str, request: impl FnOnce(String) -> Request) -> Effect {
    let Some(p) = app.selected() else {
        return Effect::None;
    };
    let (id, name) = (p.id, p.name.clone());
    app.set_status(format!("{verb} {name}…"), false);
    Effect::Send(request(id.to_string()), name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::tests::app_with;

    fn press(app: &mut App, code: KeyCode) -> Effect {
        on_key(app, KeyEvent::from(code))
    }

    fn selected(app: &App) -> &str {
        app.selected().map_or("", |p| p.name.as_str())
    }

    #[test]
    fn arrows_and_jk_move_and_wrap() {
        let mut app = app_with(&["a", "b", "c"]);
        assert_eq!(selected(&app), "a");
        press(&mut app, KeyCode::Down);
        assert_eq!(selected(&app), "b");
        press(&mut app, KeyCode::Char('j'));
        assert_eq!(selected(&app), "c");
        press(&mut app, KeyCode::Char('j'));
        assert_eq!(selected(&app), "a", "down from the last row wraps");
        press(&mut app, KeyCode::Up);
        assert_eq!(selected(&app), "c", "up from the first row wraps");
        press(&mut app, KeyCode::Char('k'));
        assert_eq!(selected(&app), "b");
        press(&mut app, KeyCode::Char('g'));
        assert_eq!(selected(&app), "a");
        press(&mut app, KeyCode::Char('G'));
        assert_eq!(selected(&app), "c");

        let mut empty = app_with(&[]);
        for code in [KeyCode::Up, KeyCode::Down, KeyCode::Char('G')] {
            assert_eq!(press(&mut empty, code), Effect::None);
            assert!(empty.selected().is_none());
        }
        assert_eq!(press(&mut empty, KeyCode::Char('s')), Effect::None);
        assert_eq!(press(&mut empty, KeyCode::Char('d')), Effect::None);
        assert_eq!(empty.overlay, Overlay::None);
    }

    fn type_text(app: &mut App, text: &str) {
        for c in text.chars() {
            press(app, KeyCode::Char(c));
        }
    }

    #[test]
    fn slash_types_a_filter_enter_applies_esc_clears() {
        let mut app = app_with(&["a"]);
        press(&mut app, KeyCode::Char('/'));
        assert_eq!(app.prompt.as_deref(), Some(""));
        // Keys are text while typing: q does not quit, j does not move.
        type_text(&mut app, "qj(x");
        assert!(!app.quit);
        press(&mut app, KeyCode::Backspace);
        press(&mut app, KeyCode::Backspace);
        type_text(&mut app, "[");
        assert_eq!(app.prompt.as_deref(), Some("qj["));
        press(&mut app, KeyCode::Enter);
        let status = app.current_status().expect("an error in the status line");
        assert!(
            status.error && status.text.starts_with("bad regex /qj[/"),
            "{status:?}"
        );
        assert!(app.prompt.is_some(), "a bad regex stays to be fixed");
        assert!(app.filter.is_none());
        press(&mut app, KeyCode::Backspace);
        type_text(&mut app, "|time.?out");
        press(&mut app, KeyCode::Enter);
        assert!(app.prompt.is_none());
        assert_eq!(
            app.filter.as_ref().map(|f| f.pattern.as_str()),
            Some("qj|time.?out")
        );
        // `/` again starts a new regex; Esc there keeps the current one.
        press(&mut app, KeyCode::Char('/'));
        assert_eq!(app.prompt.as_deref(), Some(""));
        press(&mut app, KeyCode::Esc);
        assert!(app.prompt.is_none() && app.filter.is_some());
        // Esc clears the filter first, then quits.
        assert_eq!(press(&mut app, KeyCode::Esc), Effect::None);
        assert!(app.filter.is_none() && !app.quit);
        assert_eq!(press(&mut app, KeyCode::Esc), Effect::Quit);
    }

    #[test]
    fn tab_and_o_cycle_the_sort_p_toggles_patterns() {
        let mut app = app_with(&["a", "b"]);
        press(&mut app, KeyCode::Tab);
        assert_eq!(app.sort, crate::tui::app::SortKey::Name);
        press(&mut app, KeyCode::Char('o'));
        assert_eq!(app.sort, crate::tui::app::SortKey::Cpu);
        assert_eq!(
            app.current_status().map(|s| s.text.as_str()),
            Some("sorted by CPU")
        );
        press(&mut app, KeyCode::Char('p'));
        assert_eq!(app.pane, PaneView::Patterns);
        press(&mut app, KeyCode::PageDown);
        assert_eq!(app.summary_scroll, PAGE);
        assert_eq!(app.logs.scroll, 0);
        assert_eq!(
            press(&mut app, KeyCode::Esc),
            Effect::None,
            "Esc leaves the pattern view"
        );
        assert_eq!(app.pane, PaneView::Logs);
        press(&mut app, KeyCode::Char('p'));
        press(&mut app, KeyCode::Char('p'));
        assert_eq!(app.pane, PaneView::Logs);
    }

    #[test]
    fn key_releases_are_ignored() {
        let mut app = app_with(&["a", "b"]);
        let mut key = KeyEvent::from(KeyCode::Down);
        key.kind = KeyEventKind::Release;
        on_key(&mut app, key);
        assert_eq!(selected(&app), "a");
    }

    #[test]
    fn l_toggles_the_full_screen_log_pane() {
        let mut app = app_with(&["a"]);
        press(&mut app, KeyCode::Char('l'));
        assert!(app.logs_full);
        press(&mut app, KeyCode::Char('l'));
        assert!(!app.logs_full);
    }

    #[test]
    fn r_and_s_target_the_selected_process_by_id() {
        let mut app = app_with(&["a", "b"]);
        press(&mut app, KeyCode::Down);
        assert_eq!(
            press(&mut app, KeyCode::Char('r')),
            Effect::Send(Request::Restart { target: "1".into() }, "b".into())
        );
        assert_eq!(
            press(&mut app, KeyCode::Char('s')),
            Effect::Send(Request::Stop { target: "1".into() }, "b".into())
        );
        assert_eq!(
            app.current_status().map(|s| s.text.as_str()),
            Some("stopping b…")
        );
    }

    #[test]
    fn d_asks_then_y_deletes_and_n_cancels() {
        let mut app = app_with(&["a", "b"]);
        assert_eq!(press(&mut app, KeyCode::Char('d')), Effect::None);
        assert_eq!(
            app.overlay,
            Overlay::ConfirmDelete {
                id: 0,
                name: "a".into()
            }
        );
        // While asking, other keys do nothing: no move, no quit.
        for code in [KeyCode::Down, KeyCode::Char('s'), KeyCode::Char('x')] {
            assert_eq!(press(&mut app, code), Effect::None);
        }
        assert_eq!(selected(&app), "a");
        assert_eq!(press(&mut app, KeyCode::Char('n')), Effect::None);
        assert_eq!(app.overlay, Overlay::None);

        press(&mut app, KeyCode::Char('d'));
        assert_eq!(press(&mut app, KeyCode::Esc), Effect::None);
        assert_eq!(app.overlay, Overlay::None);
        assert!(!app.quit, "Esc cancels the question, it does not quit");

        press(&mut app, KeyCode::Char('d'));
        assert_eq!(
            press(&mut app, KeyCode::Char('y')),
            Effect::Send(Request::Delete { target: "0".into() }, "a".into())
        );
        assert_eq!(app.overlay, Overlay::None);
    }

    #[test]
    fn a_confirmation_for_a_vanished_process_goes_away() {
        let mut app = app_with(&["a", "b"]);
        press(&mut app, KeyCode::Char('d'));
        let rest = app.processes[1..].to_vec();
        app.set_processes(rest);
        assert_eq!(app.overlay, Overlay::None);
    }

    #[test]
    fn question_mark_toggles_help() {
        let mut app = app_with(&["a", "b"]);
        press(&mut app, KeyCode::Char('?'));
        assert_eq!(app.overlay, Overlay::Help);
        press(&mut app, KeyCode::Down);
        assert_eq!(selected(&app), "a", "keys under the help do nothing");
        press(&mut app, KeyCode::Char('?'));
        assert_eq!(app.overlay, Overlay::None);
        press(&mut app, KeyCode::Char('?'));
        assert_eq!(press(&mut app, KeyCode::Char('q')), Effect::Quit);
    }

    #[test]
    fn q_esc_and_ctrl_c_quit() {
        for key in [
            KeyEvent::from(KeyCode::Char('q')),
            KeyEvent::from(KeyCode::Esc),
            KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
        ] {
            let mut app = app_with(&["a"]);
            assert_eq!(on_key(&mut app, key), Effect::Quit);
            assert!(app.quit);
        }
    }

    #[test]
    fn page_keys_scroll_the_log_pane_within_bounds() {
        let mut app = app_with(&["a"]);
        app.logs.push((0..15).map(|i| crate::tui::logs::Line {
            ts: None,
            level: crate::level::Level::Info,
            src: None,
            text: i.to_string(),
            fields: String::new(),
        }));
        press(&mut app, KeyCode::PageUp);
        assert_eq!(app.logs.scroll, PAGE);
        press(&mut app, KeyCode::PageUp);
        assert_eq!(app.logs.scroll, 14);
        press(&mut app, KeyCode::PageDown);
        press(&mut app, KeyCode::PageDown);
        assert_eq!(app.logs.scroll, 0);
    }
}

//! Keys → state changes and requests: the state machine of `velos monit`.
//!
//! [`on_key`] updates the [`App`] and says what the run loop must do beyond
//! that ([`Effect`]): nothing, send a request to the daemon, or quit. It
//! never talks to the daemon itself, so every key can be tested on a plain
//! `App`.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::{App, Overlay};
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

fn normal(app: &mut App, key: KeyEvent) -> Effect {
    match key.code {
        KeyCode::Char('q') | KeyCode::Esc => quit(app),
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
        KeyCode::PageUp => {
            let max = app.logs.lines.len().saturating_sub(1);
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

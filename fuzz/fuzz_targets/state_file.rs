//! Fuzzes the reader of `state.json`: no panic on any bytes; every entry
//! kept by the sanitizer has a valid, unique name whose log files lie in
//! `logs/`, and a unique id; a table writes back to one that reads the same.

#![no_main]

use std::collections::HashSet;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use velos::daemon::state::State;
use velos::daemon::supervisor::validate_name;
use velos::home::Home;

fuzz_target!(|data: &[u8]| {
    let Ok(state) = State::parse(data) else {
        return;
    };
    let (state, _skipped) = state.sanitize();
    let home = Home::new("/velos-home").expect("an absolute path");
    let logs = home.logs_dir();
    let mut names = HashSet::new();
    let mut ids = HashSet::new();
    for saved in &state.processes {
        let name = &saved.spec.name;
        assert!(validate_name(name).is_ok(), "{name:?}");
        assert!(names.insert(name.clone()) && ids.insert(saved.id));
        for path in [
            home.process_log(name),
            home.raw_out_log(name),
            home.raw_err_log(name),
        ] {
            assert_eq!(path.parent(), Some(logs.as_path()), "{path:?}");
            assert_ne!(path.file_name().map(Path::new), Some(Path::new("..")));
        }
    }
    let bytes = serde_json::to_vec(&state).expect("a table encodes");
    let again = State::parse(&bytes).expect("a written table reads back");
    assert_eq!(again, state);
});

//! The one set of helpers of the integration tests (each test file says
//! `mod common;`):
//!
//! - here: the `velos` binary and commands with a clean environment,
//!   files, output as lines or JSON, the shared data directory;
//! - [`home`]: a temporary `VELOS_HOME` whose guard stops the daemon and
//!   every process it started, running a command with a time limit, and
//!   waiting on processes and conditions.
#![allow(dead_code)]

pub mod home;

use std::path::{Path, PathBuf};

#[allow(unused_imports)]
pub use home::*;

/// The `velos` binary under test.
pub const VELOS: &str = env!("CARGO_BIN_EXE_velos");

/// `velos` with a clean environment: UTC, no colour setting inherited, the
/// home `home`.
pub fn velos_command(home: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(VELOS);
    cmd.env("TZ", "UTC")
        .env("VELOS_HOME", home)
        .env_remove("NO_COLOR");
    cmd
}

/// [`velos_command`] with `assert_cmd`'s assertions.
pub fn velos(home: &Path) -> assert_cmd::Command {
    assert_cmd::Command::from_std(velos_command(home))
}

/// Runs `velos logs <path> <args>…` with the home `home`.
pub fn logs(home: &Path, path: &Path, args: &[&str]) -> std::process::Output {
    velos(home)
        .arg("logs")
        .arg(path)
        .args(args)
        .output()
        .expect("velos runs")
}

/// Writes `content` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create dir");
    }
    std::fs::write(&path, content).expect("write file");
    path
}

/// Output of a command as lines.
pub fn lines(out: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(out)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Parses JSON-lines output.
pub fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect()
}

/// The shared data directory beside the repository, if present.
pub fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    dir.join("loghub").is_dir().then_some(dir)
}

/// Grouping accuracy as loghub defines it: a line is right when the lines
/// of its predicted group are exactly the lines of its true group.
pub fn grouping_accuracy(predicted: &[String], truth: &[String]) -> f64 {
    use std::collections::HashMap;
    let mut by_pred: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_true: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (p, t)) in predicted.iter().zip(truth).enumerate() {
        by_pred.entry(p).or_default().push(i);
        by_true.entry(t).or_default().push(i);
    }
    let correct: usize = by_pred
        .values()
        .filter(|lines| {
            let t = &truth[lines[0]];
            by_true[t.as_str()] == **lines
        })
        .map(Vec::len)
        .sum();
    correct as f64 / predicted.len() as f64
}

/// Asserts the grouping accuracy of generated logs, one score per style:
/// a mean of at least 0.95 (printed), none below 0.9.
pub fn assert_grouping_scores(scores: &[(&str, f64)]) {
    let mean = scores.iter().map(|s| s.1).sum::<f64>() / scores.len() as f64;
    eprintln!("mean GA {mean:.3}");
    assert!(mean >= 0.95, "mean GA {mean:.3}: {scores:?}");
    assert!(scores.iter().all(|s| s.1 >= 0.9), "{scores:?}");
}

/// Deterministic pseudo-random picks (xorshift) for generated test logs.
pub struct Picker(pub u64);

impl Picker {
    /// A number below `n`.
    pub fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

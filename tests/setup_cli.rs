//! `velos startup`, `velos completions` and `velos man`, as a user runs them.

mod common;

use std::collections::HashMap;

use common::velos;

/// A unit file's sections, each a list of (key, value) in file order.
fn parse_unit(text: &str) -> HashMap<String, Vec<(String, String)>> {
    let mut sections: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut current = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.to_string());
            sections.entry(name.to_string()).or_default();
            continue;
        }
        let (key, value) = line.split_once('=').expect("key=value line in a unit file");
        let section = current.clone().expect("a key before any section");
        sections
            .get_mut(&section)
            .unwrap()
            .push((key.to_string(), value.to_string()));
    }
    sections
}

fn values<'a>(
    unit: &'a HashMap<String, Vec<(String, String)>>,
    section: &str,
    key: &str,
) -> Vec<&'a str> {
    unit[section]
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn startup_prints_a_unit_that_runs_the_daemon_for_this_home() {
    let home = tempfile::tempdir().unwrap();
    let out = velos(home.path()).arg("startup").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let unit = parse_unit(&text);
    assert!(unit.contains_key("Unit") && unit.contains_key("Install"));
    let exec = values(&unit, "Service", "ExecStart");
    assert_eq!(exec.len(), 1);
    let (exe, rest) = exec[0].split_once(' ').unwrap();
    assert_eq!(
        std::path::Path::new(exe),
        std::path::Path::new(common::VELOS)
    );
    assert_eq!(rest, "daemon --foreground");
    let env = values(&unit, "Service", "Environment");
    let wanted = format!("VELOS_HOME={}", home.path().display());
    assert!(env.contains(&wanted.as_str()), "{env:?}");
    assert_eq!(values(&unit, "Service", "Restart"), ["always"]);
    let user = values(&unit, "Service", "User");
    assert_eq!(user.len(), 1);
    let uid_line = std::fs::read_to_string("/etc/passwd")
        .unwrap()
        .lines()
        .find(|l| l.starts_with(&format!("{}:", user[0])))
        .map(|l| l.split(':').nth(2).unwrap().parse::<u32>().unwrap());
    assert_eq!(uid_line, Some(rustix::process::getuid().as_raw()));
    assert_eq!(values(&unit, "Install", "WantedBy"), ["multi-user.target"]);

    if let Ok(status) = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
        && status.status.success()
    {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("velos-test.service");
        std::fs::write(&path, &text).unwrap();
        let verify = std::process::Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&verify.stderr);
        assert!(
            !stderr.contains("velos-test.service:"),
            "systemd-analyze verify: {stderr}"
        );
    }
}

#[test]
fn startup_for_another_user_uses_their_home_and_refuses_unknown_users() {
    let home = tempfile::tempdir().unwrap();
    let out = velos(home.path())
        .args(["startup", "--user", "nobody"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let unit = parse_unit(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(values(&unit, "Service", "User"), ["nobody"]);
    let env = values(&unit, "Service", "Environment");
    assert!(
        env.iter()
            .any(|e| e.starts_with("VELOS_HOME=") && e.ends_with("/.velos")),
        "{env:?}"
    );

    let out = velos(home.path())
        .args(["startup", "--user", "no-such-user-here"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no-such-user-here"), "{err}");
}

#[test]
fn startup_install_without_systemd_says_so() {
    if std::path::Path::new("/run/systemd/system").exists() {
        eprintln!("systemd runs here: not installing a unit from a test");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let out = velos(home.path())
        .args(["startup", "--install"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("systemd is not running"), "{err}");
}

#[test]
fn completions_and_man_pages_cover_every_subcommand() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = velos(home.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        for sub in ["logs", "monit", "start", "startup", "--summary"] {
            assert!(text.contains(sub), "{shell} completions lack {sub}");
        }
    }
    let out = velos(home.path()).arg("man").output().unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH velos 1"),
        "{page}"
    );
    assert!(page.contains("velos\\-logs(1)") || page.contains("logs"));

    let dir = tempfile::tempdir().unwrap();
    let out = velos(home.path())
        .args(["man", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let logs_page = std::fs::read_to_string(dir.path().join("velos-logs.1")).unwrap();
    assert!(logs_page.contains("summary"));

    let out = velos(home.path())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

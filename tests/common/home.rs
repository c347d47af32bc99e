//! A temporary `VELOS_HOME` for the daemon tests, whose guard stops the
//! daemon and every process it started, even when a test fails; running a
//! command with a time limit; waiting on processes and conditions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::VELOS;

/// A temporary runtime home. Dropping it runs `velos kill`, then SIGKILLs
/// the daemon and the process groups recorded in `state.json` if anything
/// is left.
pub struct TestHome {
    dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts that the command exited with `code` and said one line on
    /// stderr, holding each of `words`.
    pub fn assert_one_line(&self, code: i32, words: &[&str]) {
        assert_eq!(
            self.code, code,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert_eq!(self.stderr.lines().count(), 1, "{}", self.stderr);
        for word in words {
            assert!(self.stderr.contains(word), "{word:?} in {}", self.stderr);
        }
    }
}

/// The arguments of `velos start --name <name> <flags>… -- sh -c <script>`.
pub fn start_sh<'a>(name: &'a str, flags: &[&'a str], script: &'a str) -> Vec<&'a str> {
    let mut args = vec!["start", "--name", name];
    args.extend_from_slice(flags);
    args.extend(["--", "sh", "-c", script]);
    args
}

/// Runs `velos <args>` with the home `home` (at most 60 s).
pub fn run_in(home: &Path, args: &[&str]) -> Run {
    run(Command::new(VELOS)
        .env("VELOS_HOME", home)
        .args(args)
        .stdin(Stdio::null()))
}

/// Sends `signal` to `pid`.
pub fn signal(pid: i32, signal: i32) {
    // SAFETY: plain kill(2); the tests signal only processes they started.
    unsafe {
        libc::kill(pid, signal);
    }
}

impl TestHome {
    pub fn new() -> TestHome {
        TestHome {
            dir: temp_dir("vt"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn logs(&self) -> PathBuf {
        self.path().join("logs")
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.path().join("config.toml"), text).expect("write config");
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(VELOS);
        command
            .env("VELOS_HOME", self.path())
            .current_dir(self.path())
            .stdin(Stdio::null());
        command
    }

    /// Runs `velos <args>` (at most 60 s).
    pub fn run(&self, args: &[&str]) -> Run {
        run(self.command().args(args))
    }

    /// Runs `velos <args>` and asserts success.
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(
            run.code, 0,
            "velos {args:?} failed\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        );
        run.stdout
    }

    /// `velos list --json`.
    pub fn list(&self) -> Vec<Value> {
        let text = self.ok(&["list", "--json"]);
        serde_json::from_str::<Value>(&text)
            .expect("list --json is JSON")
            .as_array()
            .cloned()
            .expect("an array")
    }

    /// The listed process with this name.
    pub fn process(&self, name: &str) -> Option<Value> {
        self.list().into_iter().find(|p| p["name"] == name)
    }

    /// Waits until the process's entry satisfies `check`.
    pub fn wait_process(
        &self,
        name: &str,
        timeout: Duration,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let process = self.process(name);
            if let Some(p) = &process
                && check(p)
            {
                return p.clone();
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting on {name}: last seen {process:?}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_status(&self, name: &str, status: &str, timeout: Duration) -> Value {
        self.wait_process(name, timeout, |p| p["status"] == status)
    }

    /// The pid of `name` once it is online (waited for at most 5 s).
    pub fn online_pid(&self, name: &str) -> i32 {
        self.wait_status(name, "online", Duration::from_secs(5))["pid"]
            .as_i64()
            .expect("a pid") as i32
    }

    /// Records of `logs/<file>`, parsed.
    pub fn records(&self, file: &str) -> Vec<Value> {
        let text = std::fs::read(self.logs().join(file)).unwrap_or_default();
        text.split(|&b| b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| {
                serde_json::from_slice(line).unwrap_or_else(|err| {
                    panic!("bad record {:?}: {err}", String::from_utf8_lossy(line))
                })
            })
            .collect()
    }

    /// Waits until `logs/<file>` holds a record satisfying `check`.
    pub fn wait_record(
        &self,
        file: &str,
        timeout: Duration,
        check: impl Fn(&Value) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let records = self.records(file);
            if records.iter().any(&check) {
                return records;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for a record in {file}; have {} records, last {:?}",
                records.len(),
                records.last()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn daemon_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.path().join("velos.pid"))
            .ok()
            .and_then(|text| text.trim().parse().ok())
    }

    /// Pids recorded in `state.json`.
    pub fn state_pids(&self) -> Vec<i32> {
        let Ok(text) = std::fs::read_to_string(self.path().join("state.json")) else {
            return Vec::new();
        };
        let Ok(state) = serde_json::from_str::<Value>(&text) else {
            return Vec::new();
        };
        state["processes"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|p| p["pid"].as_i64().map(|pid| pid as i32))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for TestHome {
    fn drop(&mut self) {
        if let Ok(child) = self
            .command()
            .arg("kill")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            wait_output(child, Duration::from_secs(20));
        }
        let mut pids = self.state_pids();
        if let Some(daemon) = self.daemon_pid() {
            pids.push(daemon);
        }
        for pid in pids {
            if pid > 1 {
                // SAFETY: plain kill(2) calls on pids this test started.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
}

/// A short-named temporary directory in /tmp (socket paths must stay
/// short), removed when dropped.
pub fn temp_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .expect("temporary directory")
}

/// Runs `command` with its output captured (killed after 60 s).
pub fn run(command: &mut Command) -> Run {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run velos");
    let output = wait_output(child, Duration::from_secs(60));
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Waits until `check` holds, failing the test after `timeout`.
pub fn wait_until(timeout: Duration, check: impl Fn() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out");
        thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until `pid` is gone (or a zombie); false after `timeout`.
pub fn wait_gone(pid: i32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while alive(pid) && !zombie(pid) {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Waits for a child's output, killing it after `timeout`.
pub fn wait_output(mut child: std::process::Child, timeout: Duration) -> Output {
    let deadline = Instant::now() + timeout;
    // Read pipes on threads so a chatty child cannot block.
    let stdout = child.stdout.take().map(|mut out| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = std::io::Read::read_to_end(&mut out, &mut buf);
            buf
        })
    });
    let stderr = child.stderr.take().map(|mut err| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = std::io::Read::read_to_end(&mut err, &mut buf);
            buf
        })
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                break child.wait().expect("wait");
            }
        }
    };
    Output {
        status,
        stdout: stdout.and_then(|t| t.join().ok()).unwrap_or_default(),
        stderr: stderr.and_then(|t| t.join().ok()).unwrap_or_default(),
    }
}

/// Whether a pid exists (zombie or not).
pub fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks existence.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Whether a pid is a zombie.
pub fn zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Zombie processes whose parent is `ppid`.
pub fn zombie_children(ppid: i32) -> Vec<i32> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() == Some(&"Z") && fields.get(1).and_then(|p| p.parse().ok()) == Some(ppid)
        {
            found.push(pid);
        }
    }
    found
}

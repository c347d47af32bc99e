//! End-to-end tests of `velos monit`: the real binary in a pseudo-terminal
//! against a real daemon with real children, driven by key presses.

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{TestHome, secs};
use rustix::fs::{Mode, OFlags};
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{LocalModes, Winsize, tcgetattr, tcsetwinsize};

/// A shell loop printing `<name> says tick <n>` five times a second.
fn ticker(name: &str) -> String {
    format!("i=0; while true; do i=$((i+1)); echo \"{name} says tick $i\"; sleep 0.2; done")
}

/// The highest `<n>` of `<name> says tick <n>` on the screen.
fn last_tick(screen: &str, name: &str) -> u64 {
    let needle = format!("{name} says tick ");
    screen
        .lines()
        .filter_map(|line| {
            let at = line.find(&needle)? + needle.len();
            let digits: String = line[at..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .max()
        .unwrap_or(0)
}

/// `velos monit` running on the slave side of a pseudo-terminal. Dropping
/// it kills the monitor if it is still running.
struct Monit {
    child: Child,
    master: File,
    output: Arc<Mutex<Vec<u8>>>,
    termios_fd: OwnedFd,
    rows: u16,
    cols: u16,
}

impl Monit {
    fn start(home: &TestHome, args: &[&str], cols: u16, rows: u16) -> Monit {
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
            .expect("open a pseudo-terminal");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        let name = ptsname(&master, Vec::new()).expect("ptsname");
        tcsetwinsize(
            &master,
            Winsize {
                ws_row: rows,
                ws_col: cols,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        )
        .expect("set the window size");
        let slave = rustix::fs::open(
            name.as_c_str(),
            OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .expect("open the slave side");
        let mut command = home.command();
        command
            .arg("monit")
            .args(args)
            .env("TERM", "xterm-256color")
            .stdin(Stdio::from(slave.try_clone().expect("dup")))
            .stdout(Stdio::from(slave.try_clone().expect("dup")))
            .stderr(Stdio::from(slave));
        // SAFETY: setsid and ioctl are async-signal-safe; they make the
        // pseudo-terminal the child's controlling terminal.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("run velos monit");
        drop(command);
        let termios_fd = master.try_clone().expect("dup");
        let master = File::from(master);
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().expect("dup");
        let sink = output.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            // Ends with EIO once the monitor has exited.
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Monit {
            child,
            master,
            output,
            termios_fd,
            rows,
            cols,
        }
    }

    fn output(&self) -> Vec<u8> {
        self.output.lock().unwrap().clone()
    }

    /// The screen as a terminal shows it now.
    fn screen(&self) -> String {
        let size = |n: u16| std::num::NonZeroU16::new(n).expect("a screen size");
        let mut parser = vt100::Parser::new(size(self.rows), size(self.cols), 0);
        parser.process(&self.output());
        parser.screen().contents()
    }

    /// Waits until the screen shows `needle`; the screen.
    fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        self.wait_until(timeout, needle, |screen| screen.contains(needle))
    }

    fn wait_until(&self, timeout: Duration, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if check(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what:?}; the screen:\n{screen}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Changes the terminal's size (the kernel sends SIGWINCH).
    fn resize(&mut self, cols: u16, rows: u16) {
        tcsetwinsize(
            self.termios_fd.as_fd(),
            Winsize {
                ws_row: rows,
                ws_col: cols,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        )
        .expect("set the window size");
        self.rows = rows;
        self.cols = cols;
    }

    fn press(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).expect("type");
        self.master.flush().expect("flush");
    }

    /// Waits for the monitor to exit; its exit code.
    fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            assert!(Instant::now() < deadline, "velos monit did not exit");
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the terminal is back in canonical mode with echo (raw mode off).
    fn cooked(&self) -> bool {
        let termios = tcgetattr(self.termios_fd.as_fd()).expect("tcgetattr");
        termios
            .local_modes
            .contains(LocalModes::ICANON | LocalModes::ECHO)
    }
}

impl Drop for Monit {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asserts the screen was put back: alternate screen left and cursor
/// shown after the last frame, raw mode off.
fn assert_restored(monit: &Monit) {
    let out = monit.output();
    let text = String::from_utf8_lossy(&out);
    let entered = text
        .rfind("\x1b[?1049h")
        .expect("entered the alternate screen");
    let left = text
        .rfind("\x1b[?1049l")
        .expect("left the alternate screen");
    let shown = text.rfind("\x1b[?25h").expect("showed the cursor");
    let hidden = text.rfind("\x1b[?25l").unwrap_or(0);
    assert!(left > entered && shown > hidden, "{:?}", &text[left..]);
    assert!(monit.cooked(), "raw mode is still on");
}

#[test]
fn keys_stop_restart_and_delete_the_selected_process_then_q_restores_the_terminal() {
    let home = TestHome::new();
    home.ok(&[
        "start",
        "--name",
        "alpha",
        "--",
        "sh",
        "-c",
        &ticker("alpha"),
    ]);
    home.ok(&[
        "start",
        "--name",
        "bravo",
        "--",
        "sh",
        "-c",
        &ticker("bravo"),
    ]);
    home.wait_status("alpha", "online", secs(10));
    home.wait_status("bravo", "online", secs(10));

    let mut monit = Monit::start(&home, &["--interval", "300ms"], 80, 24);
    let screen = monit.wait_for("bravo", secs(20));
    assert!(screen.contains("2 processes (2 online)"), "{screen}");
    monit.wait_for("▶ 0", secs(10));
    monit.wait_for("INFO  alpha says tick", secs(10));

    // Select bravo: the log pane switches to its lines; stop it.
    monit.press("j");
    monit.wait_for("▶ 1", secs(10));
    monit.wait_for("logs · bravo", secs(10));
    let screen = monit.wait_for("INFO  bravo says tick", secs(10));
    assert!(!screen.contains("alpha says tick"), "{screen}");
    // The pane is live: new lines keep coming.
    let before = last_tick(&screen, "bravo");
    monit.wait_until(secs(10), "newer lines", |s| {
        last_tick(s, "bravo") > before + 2
    });
    monit.press("s");
    home.wait_status("bravo", "stopped", secs(20));
    assert_eq!(home.process("alpha").unwrap()["status"], "online");
    monit.wait_for("stopped bravo", secs(10));
    monit.wait_until(secs(10), "bravo stopped in the table", |screen| {
        screen
            .lines()
            .any(|l| l.contains("bravo") && l.contains("stopped "))
    });

    // Restart it: one more restart.
    let before = home.process("bravo").unwrap()["restarts"].as_u64().unwrap();
    monit.press("r");
    let after = home.wait_process("bravo", secs(20), |p| {
        p["status"] == "online" || p["status"] == "starting"
    });
    assert_eq!(after["restarts"].as_u64().unwrap(), before + 1);
    assert_eq!(
        home.process("alpha").unwrap()["restarts"].as_u64().unwrap(),
        0
    );

    monit.wait_for("restarted bravo", secs(10));

    // Delete asks first; n keeps it, y deletes it.
    monit.press("d");
    monit.wait_for("Delete bravo (id 1)?", secs(10));
    monit.press("n");
    monit.wait_until(secs(10), "the question to go", |s| {
        !s.contains("Delete bravo")
    });
    thread::sleep(Duration::from_millis(300));
    assert!(home.process("bravo").is_some());
    monit.press("d");
    monit.wait_for("Delete bravo (id 1)?", secs(10));
    monit.press("y");
    let deadline = Instant::now() + secs(20);
    while home.process("bravo").is_some() {
        assert!(Instant::now() < deadline, "bravo was not deleted");
        thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(home.process("alpha").unwrap()["status"], "online");
    monit.wait_for("1 process (1 online)", secs(10));

    // `/` filters the log pane by a regex; a bad one is named, Esc clears.
    monit.press("/tick [0-9]*3$\r");
    let screen = monit.wait_for("/tick [0-9]*3$/", secs(10));
    let ticks: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("alpha says tick"))
        .collect();
    assert!(!ticks.is_empty(), "{screen}");
    assert!(
        ticks
            .iter()
            .all(|l| l.trim_end_matches([' ', '│']).ends_with('3')),
        "only matching lines: {screen}"
    );
    monit.press("/(\r");
    monit.wait_for("bad regex /(/", secs(10));
    monit.press("\x1b");
    thread::sleep(Duration::from_millis(200));
    monit.press("\x1b");
    monit.wait_for("filter cleared", secs(10));
    monit.wait_until(secs(10), "every line again", |s| {
        s.lines()
            .filter(|l| l.contains("alpha says tick"))
            .any(|l| !l.trim_end_matches([' ', '│']).ends_with('3'))
    });

    // Tab cycles the sort; p shows the top patterns of the last hour.
    monit.press("\t");
    monit.wait_for("sorted by name", secs(10));
    monit.wait_for("NAME▲", secs(10));
    monit.press("p");
    monit.wait_for("patterns · alpha · last hour", secs(10));
    monit.wait_for("alpha says tick <NUM>", secs(30));
    monit.press("p");
    monit.wait_for("logs · alpha", secs(10));

    // Help shows the keys; q quits from there too.
    monit.press("?");
    monit.wait_for("delete it (asks y/n)", secs(10));
    monit.press("q");
    assert_eq!(monit.wait_exit(secs(10)), Some(0));
    assert_restored(&monit);
}

#[test]
fn sigterm_restores_the_terminal_and_a_missing_daemon_is_started() {
    let home = TestHome::new();
    // No daemon yet: monit starts one, and shows the empty table.
    let mut monit = Monit::start(&home, &[], 80, 24);
    monit.wait_for("no processes — start one with `velos start …`", secs(20));
    monit.wait_for("r restart", secs(10));
    assert!(home.daemon_pid().is_some(), "a daemon was started");
    // A smaller terminal gets the whole screen redrawn, with fewer keys.
    monit.resize(60, 15);
    let screen = monit.wait_for("Tab sort  ? help", secs(10));
    assert!(
        screen.contains("no processes — start one with `velos start …`"),
        "{screen}"
    );
    let pid = monit.child.id() as i32;
    // SAFETY: kill(2) on the child this test started.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    assert_eq!(monit.wait_exit(secs(10)), Some(0));
    assert_restored(&monit);
}

#[test]
fn without_a_terminal_or_with_a_bad_interval_it_explains_and_starts_nothing() {
    let home = TestHome::new();
    let run = home.run(&["monit"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("needs a terminal"), "{}", run.stderr);

    let run = home.run(&["monit", "--interval", "10ms"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("too short"), "{}", run.stderr);

    home.write_config("[monit]\ninterval = \"soon\"\n");
    let run = home.run(&["monit"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("line 2: monit.interval"),
        "{}",
        run.stderr
    );
    assert!(home.daemon_pid().is_none(), "no daemon was started");
}

/// `velos monit` on a pseudo-terminal read by this thread alone (no reader
/// thread holds the master open), so that dropping the master hangs the
/// terminal up. With `block_sighup`, SIGHUP stays blocked in the monitor:
/// only the failing terminal itself can tell it to leave.
fn monit_on_own_pty(home: &TestHome, block_sighup: bool) -> (Child, File) {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
        .expect("open a pseudo-terminal");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    tcsetwinsize(
        &master,
        Winsize {
            ws_row: 24,
            ws_col: 80,
            ws_xpixel: 0,
            ws_ypixel: 0,
        },
    )
    .expect("set the window size");
    let slave = rustix::fs::open(
        name.as_c_str(),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .expect("open the slave side");
    let mut command = home.command();
    command
        .args(["monit", "--interval", "300ms"])
        .env("TERM", "xterm-256color")
        .stdin(Stdio::from(slave.try_clone().expect("dup")))
        .stdout(Stdio::from(slave.try_clone().expect("dup")))
        .stderr(Stdio::from(slave));
    // SAFETY: setsid, ioctl, sigemptyset, sigaddset and sigprocmask are
    // async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            if block_sighup {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGHUP);
                libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            }
            Ok(())
        });
    }
    let child = command.spawn().expect("run velos monit");
    rustix::fs::fcntl_setfl(&master, OFlags::NONBLOCK).expect("non-blocking master");
    (child, File::from(master))
}

/// Reads the master until the screen shows `needle`.
fn read_until(master: &mut File, needle: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match master.read(&mut buf) {
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(20));
            }
            Err(err) => panic!("reading the terminal: {err}"),
        }
        let size = |n: u16| std::num::NonZeroU16::new(n).expect("a screen size");
        let mut parser = vt100::Parser::new(size(24), size(80), 0);
        parser.process(&seen);
        if parser.screen().contents().contains(needle) {
            return;
        }
        assert!(Instant::now() < deadline, "no {needle:?} on the screen");
    }
}

/// CPU time (user + system, in clock ticks) a process has used.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after `)`.
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// Closes the terminal of a running monitor; asserts it leaves at once
/// with status 0 or 1, without spinning; returns the status.
fn hang_up_and_expect_exit(mut child: Child, master: File) -> i32 {
    let pid = child.id();
    let before = cpu_ticks(pid);
    drop(master);
    let deadline = Instant::now() + secs(3);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let code = status.code().expect("an exit code, not a signal");
            assert!(code == 0 || code == 1, "exit status {code}");
            return code;
        }
        if Instant::now() >= deadline {
            let spent = cpu_ticks(pid).saturating_sub(before);
            let _ = child.kill();
            let _ = child.wait();
            panic!("velos monit still runs 3 s after its terminal closed ({spent} ticks of CPU)");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_closed_terminal_ends_monit_at_once() {
    let home = TestHome::new();
    home.ok(&[
        "start",
        "--name",
        "alpha",
        "--",
        "sh",
        "-c",
        &ticker("alpha"),
    ]);
    let (child, mut master) = monit_on_own_pty(&home, false);
    read_until(&mut master, "alpha says tick", secs(20));
    hang_up_and_expect_exit(child, master);

    // With SIGHUP held back, the failing terminal alone ends it.
    let (child, mut master) = monit_on_own_pty(&home, true);
    read_until(&mut master, "alpha says tick", secs(20));
    assert_eq!(hang_up_and_expect_exit(child, master), 1);
}

//! Inputs as users have them: compressed files (told by content), several
//! sources merged by time, stdin with `--json`, named pipes and devices
//! streamed with bounded memory, binary-looking files.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{json_lines, lines, velos, write};

/// A realistic log: timestamps, levels, a stack trace, repeats.
fn app_log(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let s = i % 86_400;
        let ts = format!(
            "2026-03-02T{:02}:{:02}:{:02}.{:03}Z",
            s / 3600,
            s / 60 % 60,
            s % 60,
            i % 1000
        );
        match i % 7 {
            0 => out.push_str(&format!(
                "{ts} ERROR db: connection to 10.0.{}.{} refused after {}ms\n\tat pool.Conn.open(Conn.java:{})\n",
                i % 250,
                i % 199,
                i % 900,
                i % 77
            )),
            3 => out.push_str(&format!("{ts} WARN api: slow request /users/{} took {}ms\n", i, i % 3000)),
            _ => out.push_str(&format!("{ts} INFO api: GET /health 200 in {}us\n", i % 500)),
        }
    }
    out
}

#[derive(Clone, Copy, Debug)]
enum Packer {
    Gzip,
    Zstd,
    Xz,
    Bzip2,
}

const PACKERS: [Packer; 4] = [Packer::Gzip, Packer::Zstd, Packer::Xz, Packer::Bzip2];

fn pack(packer: Packer, data: &[u8]) -> Vec<u8> {
    match packer {
        Packer::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Packer::Zstd => zstd::encode_all(data, 3).unwrap(),
        Packer::Xz => {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Packer::Bzip2 => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
    }
}

fn run(home: &Path, args: &[&str]) -> std::process::Output {
    velos(home)
        .current_dir(home)
        .arg("logs")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn compressed_files_read_exactly_like_the_plain_file_whatever_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let plain = app_log(3000);
    write(dir.path(), "app.log", &plain);
    for (args, what) in [
        (vec!["-n", "0"], "records"),
        (vec!["--level", "error", "--grep", "refused"], "filters"),
        (vec!["--summary"], "summary"),
        (vec!["--dedupe"], "dedupe"),
        (vec!["-n", "5"], "last records"),
    ] {
        let want =
            stdout(&run(dir.path(), &[&["app.log"], &args[..]].concat())).replace("app.log", "F");
        assert!(!want.is_empty(), "{what}");
        for packer in PACKERS {
            // A misleading name: the content decides.
            let name = format!("{packer:?}.log");
            write(dir.path(), &name, pack(packer, plain.as_bytes()));
            let out = run(dir.path(), &[&[name.as_str()], &args[..]].concat());
            assert!(out.status.success(), "{packer:?} {what}: {out:?}");
            assert_eq!(stdout(&out).replace(&name, "F"), want, "{packer:?} {what}");
        }
    }
}

#[test]
fn compressed_json_output_matches_and_stdin_is_decoded_too() {
    let dir = tempfile::tempdir().unwrap();
    let plain = app_log(500);
    write(dir.path(), "app.log", &plain);
    write(
        dir.path(),
        "app.log.zst",
        pack(Packer::Zstd, plain.as_bytes()),
    );
    let want = stdout(&run(dir.path(), &["app.log", "--json", "-n", "0"]));
    let got = stdout(&run(dir.path(), &["app.log.zst", "--json", "-n", "0"]));
    assert_eq!(got.replace("app.log.zst", "app.log"), want);
    assert_eq!(json_lines(want.as_bytes()).len(), 500);
    let out = velos(dir.path())
        .args(["logs", "-", "-n", "0", "--level", "error"])
        .write_stdin(pack(Packer::Gzip, plain.as_bytes()))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        stdout(&run(
            dir.path(),
            &["app.log", "-n", "0", "--level", "error"]
        ))
    );
}

#[test]
fn concatenated_gzip_members_are_one_stream() {
    let dir = tempfile::tempdir().unwrap();
    let plain = app_log(1000);
    let (a, b) = plain.split_at(plain.len() / 3);
    let mut packed = pack(Packer::Gzip, a.as_bytes());
    packed.extend(pack(Packer::Gzip, b.as_bytes()));
    write(dir.path(), "multi.gz", packed);
    write(dir.path(), "plain.log", &plain);
    let got = stdout(&run(dir.path(), &["multi.gz", "-n", "0"]));
    let want = stdout(&run(dir.path(), &["plain.log", "-n", "0"]));
    assert_eq!(got, want);
    assert_eq!(lines(got.as_bytes()).len(), plain.lines().count());
}

#[test]
fn damaged_compressed_input_prints_what_came_before_then_names_the_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let plain = app_log(20_000);
    for packer in PACKERS {
        let packed = pack(packer, plain.as_bytes());
        let cut = packed.len() * 3 / 4;
        let name = format!("cut-{packer:?}.log");
        write(dir.path(), &name, &packed[..cut]);
        let out = run(dir.path(), &[name.as_str(), "-n", "0"]);
        assert_eq!(out.status.code(), Some(1), "{packer:?}");
        let printed = stdout(&out);
        // Everything printed is a prefix of the plain records; a good part
        // of the file came through.
        assert!(
            plain.starts_with(&printed[..printed.rfind('\n').unwrap_or(0)]),
            "{packer:?}"
        );
        assert!(
            printed.len() > plain.len() / 3,
            "{packer:?}: {}",
            printed.len()
        );
        let err = String::from_utf8_lossy(&out.stderr);
        let err_lines: Vec<&str> = err.lines().collect();
        assert_eq!(err_lines.len(), 1, "{packer:?}: {err}");
        assert!(err.contains(&name), "{err}");
        assert!(err.contains(&format!("truncated at byte {cut}")), "{err}");

        // The summary of what was read, then the error.
        let out = run(dir.path(), &[name.as_str(), "--summary"]);
        assert_eq!(out.status.code(), Some(1), "{packer:?}");
        assert!(stdout(&out).contains("Records"), "{packer:?}");
    }
    // Corrupt bytes in the middle of a gzip member: the CRC or the deflate
    // stream catches it.
    let mut packed = pack(Packer::Gzip, plain.as_bytes());
    let mid = packed.len() / 2;
    for b in &mut packed[mid..mid + 32] {
        *b = !*b;
    }
    write(dir.path(), "corrupt.gz", packed);
    let out = run(dir.path(), &["corrupt.gz", "-n", "0"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("corrupt.gz: gzip data is") && err.contains("at byte"),
        "{err}"
    );
}

#[test]
fn a_process_rotated_set_includes_compressed_copies_oldest_first() {
    let home = tempfile::tempdir().unwrap();
    let logs = home.path().join("logs");
    let rec = |t: u32, m: &str| {
        format!(
            "{{\"ts\":{},\"lvl\":\"info\",\"pid\":1,\"msg\":\"{m}\",\"src\":\"stdout\"}}\n",
            1_772_000_000_000u64 + u64::from(t) * 1000
        )
    };
    write(
        &logs,
        "web.log.3.gz",
        pack(Packer::Gzip, rec(1, "oldest").as_bytes()),
    );
    write(
        &logs,
        "web.log.2.zst",
        pack(Packer::Zstd, rec(2, "older").as_bytes()),
    );
    write(&logs, "web.log.1", rec(3, "old"));
    write(&logs, "web.log", rec(4, "current"));
    let out = run(home.path(), &["web", "-n", "0", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let msgs: Vec<String> = json_lines(&out.stdout)
        .iter()
        .map(|v| v["msg"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(msgs, ["oldest", "older", "old", "current"]);
    // The backlog of --follow reads them too (stdin closed ends nothing;
    // the follow is stopped by the timeout below).
    let mut child = Command::new(common::VELOS)
        .env("VELOS_HOME", home.path())
        .env("TZ", "UTC")
        .args(["logs", "web", "-f", "-n", "0", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let msgs: Vec<String> = json_lines(&out.stdout)
        .iter()
        .map(|v| v["msg"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(msgs, ["oldest", "older", "old", "current"]);
}

#[test]
fn several_sources_interleave_by_time_ties_in_argument_order() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.log",
        "2026-03-02T10:00:01Z INFO a1\n2026-03-02T10:00:03Z WARN a3\n  detail of a3\n2026-03-02T10:00:05Z ERROR a5 failed\n",
    );
    write(
        dir.path(),
        "b.log",
        "2026-03-02T10:00:02Z INFO b2\n2026-03-02T10:00:03Z INFO b3\nno time here\n2026-03-02T10:00:04Z ERROR b4 failed\n",
    );
    write(
        dir.path(),
        "b.log.gz",
        pack(
            Packer::Gzip,
            &std::fs::read(dir.path().join("b.log")).unwrap(),
        ),
    );
    let merged = [
        "a.log:2026-03-02T10:00:01Z INFO a1",
        "b.log:2026-03-02T10:00:02Z INFO b2",
        "a.log:2026-03-02T10:00:03Z WARN a3",
        "  detail of a3",
        "b.log:2026-03-02T10:00:03Z INFO b3",
        // A line without a time joins the entry above it.
        "no time here",
        "b.log:2026-03-02T10:00:04Z ERROR b4 failed",
        "a.log:2026-03-02T10:00:05Z ERROR a5 failed",
    ];
    let out = run(dir.path(), &["a.log", "b.log", "-n", "0"]);
    assert_eq!(lines(&out.stdout), merged);
    // Stdin next to a compressed file: the same merge.
    let out = velos(dir.path())
        .current_dir(dir.path())
        .args(["logs", "-", "b.log.gz", "-n", "0"])
        .write_stdin(std::fs::read(dir.path().join("a.log")).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success());
    let want: Vec<String> = merged
        .iter()
        .map(|l| {
            l.replace("a.log:", "<stdin>:")
                .replace("b.log:", "b.log.gz:")
        })
        .collect();
    assert_eq!(lines(&out.stdout), want);
    // Ties go to the source given first.
    let out = run(dir.path(), &["b.log", "a.log", "-n", "0"]);
    let got = lines(&out.stdout);
    let b3 = got.iter().position(|l| l.ends_with("INFO b3")).unwrap();
    let a3 = got.iter().position(|l| l.ends_with("WARN a3")).unwrap();
    assert!(b3 < a3, "{got:?}");
    // --lines, filters, --dedupe and --summary see the merged stream.
    let out = run(dir.path(), &["a.log", "b.log", "-n", "2"]);
    assert_eq!(lines(&out.stdout), merged[6..]);
    let out = run(dir.path(), &["a.log", "b.log", "--level", "error"]);
    assert_eq!(lines(&out.stdout), [merged[6], merged[7]]);
    let out = run(dir.path(), &["a.log", "b.log", "--dedupe", "--json"]);
    let groups = json_lines(&out.stdout);
    assert!(!groups.is_empty());
    let out = run(dir.path(), &["a.log", "b.log", "--summary", "--json"]);
    let summary = &json_lines(&out.stdout)[0];
    assert!(summary.to_string().contains("\"records\":6"), "{summary}");
    // One after the other, on request.
    let out = run(dir.path(), &["a.log", "b.log", "-n", "0", "--concat"]);
    assert_eq!(
        lines(&out.stdout)[..4],
        [merged[0], merged[2], merged[3], merged[7]]
    );
}

#[test]
fn stdin_with_json_prints_its_records_like_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let plain = app_log(400);
    write(dir.path(), "app.log", &plain);
    let want = stdout(&run(dir.path(), &["app.log", "--json", "-n", "0"]));
    let out = velos(dir.path())
        .args(["logs", "-", "--json", "-n", "0"])
        .write_stdin(plain.clone())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out).replace("<stdin>", "app.log"), want);
    assert_eq!(json_lines(&out.stdout).len(), 400);
    // The default last 15, and --pattern (also two passes) on stdin.
    let out = velos(dir.path())
        .args(["logs", "-", "--json"])
        .write_stdin(plain.clone())
        .output()
        .unwrap();
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), 15);
    let pattern = records[0]["pattern"].as_str().unwrap().to_string();
    let out = velos(dir.path())
        .args(["logs", "-", "--pattern", &pattern, "-n", "0"])
        .write_stdin(plain)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!out.stdout.is_empty());
}

/// Peak resident memory of a running process, in KiB.
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Bytes a running process has read so far.
fn bytes_read(pid: u32) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    io.lines()
        .find_map(|l| l.strip_prefix("rchar:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_named_pipe_is_streamed_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("f");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let child = Command::new(common::VELOS)
        .env("TZ", "UTC")
        .env("VELOS_HOME", dir.path())
        .arg("logs")
        .arg(&fifo)
        .args(["-n", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    let line = b"2026-01-01T00:00:00Z INFO x\n";
    let block: Vec<u8> = line
        .iter()
        .copied()
        .cycle()
        .take(line.len() * 40_000)
        .collect();
    let total = 96usize << 20;
    let mut written = 0;
    while written < total {
        writer.write_all(&block).unwrap();
        written += block.len();
    }
    let peak = peak_kib(child.id());
    drop(writer);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(lines(&out.stdout), ["2026-01-01T00:00:00Z INFO x"; 3]);
    assert!(peak > 0 && peak < 48 * 1024, "peak {peak} KiB for 96 MiB");
}

#[test]
fn an_endless_device_is_read_with_bounded_memory_and_noted_as_binary() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(common::VELOS)
        .env("VELOS_HOME", dir.path())
        .args(["logs", "/dev/zero", "-n", "3", "--max-record", "65536"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Memory after reading 16 MiB and after 64 MiB: the same, give or take.
    let started = Instant::now();
    let mut peaks = Vec::new();
    for mark in [16u64 << 20, 64 << 20] {
        while bytes_read(child.id()) < mark && started.elapsed() < Duration::from_secs(240) {
            std::thread::sleep(Duration::from_millis(100));
        }
        peaks.push((bytes_read(child.id()), peak_kib(child.id())));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "an endless input is read until stopped"
    );
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let [(read_early, early), (read_late, late)] = peaks[..] else {
        unreachable!()
    };
    assert!(
        read_late >= 64 << 20,
        "read only {read_late} bytes in 240 s"
    );
    assert!(
        early > 0 && late < early + 8 * 1024 && late < 96 * 1024,
        "peak {early} KiB after {read_early} bytes, {late} KiB after {read_late} bytes"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/dev/zero looks binary"), "{err}");
}

#[test]
fn a_binary_looking_file_gets_one_note_and_is_read_lossily() {
    let dir = tempfile::tempdir().unwrap();
    let mut data =
        b"2026-03-02T10:00:00Z INFO start\n2026-03-02T10:00:01Z ERROR bad \x00\xff byte\n".to_vec();
    data.extend_from_slice(b"2026-03-02T10:00:02Z INFO end\n");
    write(dir.path(), "bin.log", &data);
    let out = run(dir.path(), &["bin.log", "-n", "0"]);
    assert!(out.status.success());
    assert_eq!(
        lines(&out.stdout),
        [
            "2026-03-02T10:00:00Z INFO start",
            "2026-03-02T10:00:01Z ERROR bad \\x00\u{fffd} byte",
            "2026-03-02T10:00:02Z INFO end"
        ]
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("bin.log looks binary (NUL byte at offset 63); reading it as text anyway"),
        "{err}"
    );
    // Read twice (--json numbers patterns first): still one note.
    let out = run(dir.path(), &["bin.log", "--json", "-n", "0"]);
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    // The same through a pipe.
    let out = velos(dir.path())
        .args(["logs", "-", "-n", "0"])
        .write_stdin(data)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("<stdin> looks binary"));
    assert_eq!(lines(&out.stdout).len(), 3);
}

#[test]
fn follow_merges_the_backlog_of_several_files_by_time() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.log",
        "2026-03-02T10:00:01Z INFO a1\n2026-03-02T10:00:04Z INFO a4\n",
    );
    write(
        dir.path(),
        "b.log",
        "2026-03-02T10:00:02Z INFO b2\n2026-03-02T10:00:03Z INFO b3\n",
    );
    let follow = |extra: &[&str]| {
        let child = Command::new(common::VELOS)
            .current_dir(dir.path())
            .env("VELOS_HOME", dir.path())
            .env("TZ", "UTC")
            .args([
                "logs", "a.log", "b.log", "-f", "-n", "0", "--color", "never",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        // SAFETY: plain kill(2) on our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        lines(&child.wait_with_output().unwrap().stdout)
    };
    assert_eq!(
        follow(&[]),
        [
            "a.log:2026-03-02T10:00:01Z INFO a1",
            "b.log:2026-03-02T10:00:02Z INFO b2",
            "b.log:2026-03-02T10:00:03Z INFO b3",
            "a.log:2026-03-02T10:00:04Z INFO a4",
        ]
    );
    assert_eq!(
        follow(&["--concat"]),
        [
            "a.log:2026-03-02T10:00:01Z INFO a1",
            "a.log:2026-03-02T10:00:04Z INFO a4",
            "b.log:2026-03-02T10:00:02Z INFO b2",
            "b.log:2026-03-02T10:00:03Z INFO b3",
        ]
    );
}

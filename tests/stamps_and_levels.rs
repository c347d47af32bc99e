//! Timestamps and levels of logs from the wild, asserted through
//! `velos logs … --json` as a user would run it: zone abbreviations, other
//! languages' month names, stamps inside the header, epochs, TAI64N, times
//! of day, syslog severities, Redis marks, access-log statuses, and keywords
//! that must not fire inside identifiers.

mod common;

use common::{json_lines, lines, logs, write};
use velos::timestamp::zone::civil_ms;

/// Runs `velos logs <content as name> --json <args>` and returns the
/// records and stderr.
fn records(name: &str, content: &str, args: &[&str]) -> (Vec<serde_json::Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), name, content);
    let mut all = vec!["--json", "-n", "0"];
    all.extend_from_slice(args);
    let out = logs(dir.path(), &path, &all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        json_lines(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn times(recs: &[serde_json::Value]) -> Vec<Option<i64>> {
    recs.iter().map(|r| r["ts"].as_i64()).collect()
}

fn levels(recs: &[serde_json::Value]) -> Vec<String> {
    recs.iter()
        .map(|r| r["lvl"].as_str().unwrap_or("?").to_string())
        .collect()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> Option<i64> {
    Some(civil_ms(y, mo, d, h, mi, s, ms))
}

#[test]
fn postgres_zone_abbreviations_and_debug_levels() {
    let log = "\
2026-05-04 10:00:00.123 PDT [4242] LOG:  database system is ready to accept connections
2026-05-04 10:00:01.500 PDT [4250] DEBUG2:  StartTransaction(1) name: unnamed; blockState: DEFAULT
2026-05-04 10:00:02.000 PDT [4250] ERROR:  relation \"users\" does not exist at character 15
2026-05-04 19:00:03.000 CEST [4251] WARNING:  could not open statistics file
";
    let (recs, stderr) = records("postgresql.log", log, &[]);
    assert_eq!(
        times(&recs),
        vec![
            utc(2026, 5, 4, 17, 0, 0, 123),
            utc(2026, 5, 4, 17, 0, 1, 500),
            utc(2026, 5, 4, 17, 0, 2, 0),
            utc(2026, 5, 4, 17, 0, 3, 0),
        ]
    );
    assert_eq!(levels(&recs), ["info", "debug", "error", "warn"]);
    assert!(stderr.is_empty(), "{stderr}");
    // --since compares in UTC: 17:00:01Z is 10:00:01 PDT.
    let (recs, _) = records(
        "postgresql.log",
        log,
        &["--since", "2026-05-04T17:00:01Z", "--level", "debug"],
    );
    assert_eq!(recs.len(), 1);
    assert!(
        recs[0]["msg"]
            .as_str()
            .unwrap()
            .contains("StartTransaction")
    );
}

#[test]
fn an_unknown_zone_is_local_time_named_once_on_stderr() {
    let log = "\
2026-05-04 10:00:00 XYST service started
2026-05-04 10:00:05 XYST service ready
";
    let (recs, stderr) = records("svc.log", log, &[]);
    // The tests run with TZ=UTC.
    assert_eq!(
        times(&recs),
        vec![utc(2026, 5, 4, 10, 0, 0, 0), utc(2026, 5, 4, 10, 0, 5, 0)]
    );
    assert_eq!(recs[0]["msg"], "service started");
    assert_eq!(stderr.matches("XYST").count(), 1, "{stderr}");
    assert_eq!(lines(stderr.as_bytes()).len(), 1, "{stderr}");
}

#[test]
fn french_german_spanish_italian_portuguese_dates() {
    for (name, log, want) in [
        (
            "journal-fr.log",
            "janv. 15 10:00:00 serveur sshd[811]: Accepted publickey for alice\n\
             févr. 16 11:00:00 serveur sshd[812]: Disconnected from user alice\n",
            vec![utc(2026, 1, 15, 10, 0, 0, 0), utc(2026, 2, 16, 11, 0, 0, 0)],
        ),
        (
            "sicherung.log",
            "Mo, 4. Mai 2026 10:00:00 Sicherung gestartet\n\
             Di, 5. Mai 2026 10:00:00 Sicherung beendet\n",
            vec![utc(2026, 5, 4, 10, 0, 0, 0), utc(2026, 5, 5, 10, 0, 0, 0)],
        ),
        (
            "copia.log",
            "lun 04 may 2026 10:00:00 copia iniciada\nmar 05 may 2026 10:00:00 copia terminada\n",
            vec![utc(2026, 5, 4, 10, 0, 0, 0), utc(2026, 5, 5, 10, 0, 0, 0)],
        ),
        (
            "backup-it.log",
            "04 mag 2026 10:00:00 backup avviato\n05 ott 2026 10:00:00 backup completato\n",
            vec![utc(2026, 5, 4, 10, 0, 0, 0), utc(2026, 10, 5, 10, 0, 0, 0)],
        ),
        (
            "backup-pt.log",
            "seg 04 mai 2026 10:00:00 cópia iniciada\nsáb 10 out 2026 10:00:00 cópia concluída\n",
            vec![utc(2026, 5, 4, 10, 0, 0, 0), utc(2026, 10, 10, 10, 0, 0, 0)],
        ),
        (
            "date-fr.log",
            "lun. 04 mai 2026 10:00:00 CEST sauvegarde lancée\n",
            vec![utc(2026, 5, 4, 8, 0, 0, 0)],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), name, log);
        // Yearless syslog dates are placed at or before the file's time.
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_790_000_000))
            .unwrap();
        let out = logs(dir.path(), &path, &["--json", "-n", "0"]);
        let recs = json_lines(&out.stdout);
        assert_eq!(times(&recs), want, "{name}");
    }
}

#[test]
fn stamps_inside_the_header_are_learned_per_file() {
    let t = |s| utc(2026, 5, 4, 10, 0, s, 0);
    let logrus = "\
time=\"2026-05-04T10:00:00Z\" level=info msg=\"listening\" addr=:8080
time=\"2026-05-04T10:00:01Z\" level=error msg=\"dial tcp: connection refused\"
";
    let (recs, _) = records("traefik.log", logrus, &[]);
    assert_eq!(times(&recs), vec![t(0), t(1)]);
    assert_eq!(levels(&recs), ["info", "error"]);
    let gokit = "\
level=info ts=2026-05-04T10:00:00.000Z caller=main.go:41 msg=\"starting\"
level=warn ts=2026-05-04T10:00:02.000Z caller=db.go:88 msg=\"slow query\"
";
    let (recs, _) = records("kit.log", gokit, &[]);
    assert_eq!(times(&recs), vec![t(0), t(2)]);
    let host = "\
web-1 2026-05-04T10:00:00Z GET /health 200
web-2 2026-05-04T10:00:03Z GET /health 200
";
    let (recs, _) = records("hosts.log", host, &[]);
    assert_eq!(times(&recs), vec![t(0), t(3)]);
    let uwsgi = "\
[pid: 1234|app: 0|req: 1/1] 192.168.100.100 () {38 vars in 650 bytes} [Mon May  4 10:00:00 2026] GET / => generated 612 bytes in 3 msecs (HTTP/1.1 200) 2 headers in 80 bytes
[pid: 1234|app: 0|req: 2/2] 192.168.100.101 () {38 vars in 651 bytes} [Mon May  4 10:00:04 2026] GET /x => generated 9 bytes in 1 msecs (HTTP/1.1 404) 2 headers in 80 bytes
";
    let (recs, _) = records("uwsgi.log", uwsgi, &[]);
    assert_eq!(times(&recs), vec![t(0), t(4)]);
}

#[test]
fn epochs_tai64n_and_strace_times() {
    let base = 1_777_888_800_i64 * 1000; // 2026-05-04T10:00:00Z
    let zeek = "\
1777888800.123456\tCHhAvVGS1DHFjwGM9\t10.0.0.1\t52100\t10.0.0.2\t80
1777888801.000000\tCwA9vV3bbUDj4Lq3dh\t10.0.0.1\t52101\t10.0.0.2\t443
";
    let (recs, _) = records("conn.log", zeek, &[]);
    assert_eq!(times(&recs), vec![Some(base + 123), Some(base + 1000)]);
    let micros = "1777888800123456 kernel ready\n1777888802000000 net up\n";
    let (recs, _) = records("us.log", micros, &[]);
    assert_eq!(times(&recs), vec![Some(base + 123), Some(base + 2000)]);
    // runit/s6: 2^62 + 10 + 1777888800 = 0x4000000069f86e2a.
    let tai = "\
@4000000069f86e2a07735940 sshd: Server listening on 0.0.0.0 port 22.
@4000000069f86e2b00000000 sshd: Accepted publickey for alice
";
    let (recs, _) = records("current", tai, &[]);
    assert_eq!(times(&recs), vec![Some(base + 125), Some(base + 1000)]);
    assert_eq!(recs[1]["msg"], "Accepted publickey for alice");

    // strace -f -tt: times of day, on the date of the file's modification.
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "trace.txt",
        "4242  12:34:56.789012 openat(AT_FDCWD, \"/etc/ld.so.cache\", O_RDONLY|O_CLOEXEC) = 3\n\
         4242  12:34:56.790001 close(3)                = 0\n\
         4243  12:34:57.000100 read(3, \"\", 4096) = -1 ENOENT (No such file or directory)\n",
    );
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(base as u64 + 8 * 3_600_000),
    )
    .unwrap();
    let out = logs(dir.path(), &path, &["--json", "-n", "0"]);
    let recs = json_lines(&out.stdout);
    assert_eq!(
        times(&recs),
        vec![
            utc(2026, 5, 4, 12, 34, 56, 789),
            utc(2026, 5, 4, 12, 34, 56, 790),
            utc(2026, 5, 4, 12, 34, 57, 0),
        ]
    );
}

#[test]
fn keywords_inside_package_names_are_not_levels() {
    let dpkg = "\
2026-01-10 10:00:00 startup archives unpack
2026-01-10 10:00:00 install libgpg-error-dev:amd64 <none> 1.46-1
2026-01-10 10:00:00 status half-installed libgpg-error-dev:amd64 1.46-1
2026-01-10 10:00:01 status installed libgpg-error-dev:amd64 1.46-1
2026-01-10 10:00:01 configure libgpg-error0:amd64 1.46-1 <none>
";
    let (recs, _) = records("dpkg.log", dpkg, &["--level", "error"]);
    assert!(recs.is_empty(), "{recs:?}");
    let app = "\
2026-01-10 10:00:00 stats error_count=0 requests=12
2026-01-10 10:00:01 GET /api/errors 200
2026-01-10 10:00:02 upstream request failed: timeout
";
    let (recs, _) = records("app.log", app, &["--level", "error"]);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["msg"], "upstream request failed: timeout");
}

#[test]
fn syslog_severities_trace_and_explicit_levels_win() {
    let log = "\
2026-05-04T10:00:00+00:00 db1 daemon.crit smartd[811]: Device: /dev/sda, FAILED SMART self-check
2026-05-04T10:00:01+00:00 db1 kern.notice kernel: [ 12.5] eth0: link up, error counters reset
2026-05-04T10:00:02+00:00 db1 local3.err app[9]: payment declined
2026-05-04T10:00:03+00:00 db1 user.debug app[9]: cache hit
";
    let (recs, _) = records("messages", log, &[]);
    assert_eq!(levels(&recs), ["fatal", "info", "error", "debug"]);
    let app = "\
2026-05-04 10:00:00,001 TRACE [main] o.a.Client - entering connect()
2026-05-04 10:00:00,002 INFO  [main] o.a.Client - error budget is 0.1%
2026-05-04 10:00:00,003 EMERG [main] o.a.Client - shutting down
";
    let (recs, _) = records("app.log", app, &[]);
    assert_eq!(levels(&recs), ["debug", "info", "fatal"]);
    // `trace` selects the debug level, where trace records are.
    let (recs, _) = records("app.log", app, &["--level", "trace"]);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["msg"], "entering connect()");
}

#[test]
fn redis_marks_are_levels() {
    let log = "\
12345:C 04 May 2026 10:00:00.001 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo
12345:M 04 May 2026 10:00:00.002 * Server initialized
12345:M 04 May 2026 10:00:00.003 # WARNING overcommit_memory is set to 0! Background save may fail under low memory condition.
12345:M 04 May 2026 10:00:00.004 - Accepted 127.0.0.1:50344
12345:M 04 May 2026 10:00:00.005 . 0 clients connected (0 replicas), 1.2M in use
12345:M 04 May 2026 10:00:00.006 * Ready to accept connections tcp
";
    let (recs, _) = records("redis.log", log, &[]);
    assert_eq!(
        levels(&recs),
        ["warn", "info", "warn", "debug", "debug", "info"]
    );
    assert_eq!(recs[1]["msg"], "Server initialized");
    let (recs, _) = records("redis.log", log, &["--level", "warn"]);
    assert_eq!(recs.len(), 2);
}

#[test]
fn access_log_status_is_the_level_and_the_request_is_the_message() {
    let log = "\
192.168.1.10 - - [04/May/2026:10:00:00 +0000] \"GET /index.html HTTP/1.1\" 200 5120 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"
192.168.1.11 - alice [04/May/2026:10:00:01 +0000] \"GET /api/errors HTTP/1.1\" 404 512 \"https://example.com/\" \"curl/8.5.0\"
10.0.0.5 - - [04/May/2026:10:00:02 +0000] \"POST /api/orders HTTP/1.1\" 502 0 \"-\" \"gPXE/0.9.7\"
10.0.0.6 - - [04/May/2026:10:00:03 +0000] \"-\" 408 - \"-\" \"-\"
";
    let (recs, _) = records("access.log", log, &[]);
    assert_eq!(levels(&recs), ["info", "warn", "error", "warn"]);
    assert_eq!(recs[1]["msg"], "\"GET /api/errors HTTP/1.1\" 404 512");
    assert_eq!(recs[2]["msg"], "\"POST /api/orders HTTP/1.1\" 502 0");
    let (recs, _) = records("access.log", log, &["--level", "error"]);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["line"], 3);
    // Patterns group requests, not user agents.
    let (recs, _) = records(
        "access.log",
        "1.1.1.1 - - [04/May/2026:10:00:00 +0000] \"GET /a/1 HTTP/1.1\" 200 5 \"-\" \"curl/8\"\n\
         1.1.1.2 - - [04/May/2026:10:00:01 +0000] \"GET /a/2 HTTP/1.1\" 200 7 \"https://x/\" \"Mozilla/5.0 (Windows NT 10.0)\"\n",
        &[],
    );
    assert_eq!(recs[0]["pattern"], recs[1]["pattern"]);
}

#[test]
fn letter_levels_of_old_mongodb_and_glog_with_a_year() {
    let mongo = "\
2026-05-04T10:00:00.123+0000 I NETWORK  [listener] connection accepted from 127.0.0.1:50000 #1
2026-05-04T10:00:01.000+0000 W STORAGE  [initandlisten] Detected unclean shutdown
2026-05-04T10:00:02.000+0000 E QUERY    [conn1] assertion 13435 not master and slaveOk=false
";
    let (recs, _) = records("mongod.log", mongo, &[]);
    assert_eq!(levels(&recs), ["info", "warn", "error"]);
    let glog = "\
I20260504 10:00:00.089828 400441 config.cc:27] Loading user configuration
E20260504 10:00:01.000000 400441 config.cc:90] Cannot open /etc/x.conf
";
    let (recs, _) = records("app.INFO", glog, &[]);
    assert_eq!(levels(&recs), ["info", "error"]);
    assert_eq!(
        times(&recs),
        vec![utc(2026, 5, 4, 10, 0, 0, 89), utc(2026, 5, 4, 10, 0, 1, 0)]
    );
}

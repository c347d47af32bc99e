use super::zone::civil_ms;
use super::*;

fn utc() -> TimeContext {
    // Reference: 2026-11-25 12:00 UTC.
    TimeContext::new(Zone::utc(), civil_ms(2026, 11, 25, 12, 0, 0, 0))
}

fn at(line: &str) -> Option<(i64, TsFormat, usize, usize)> {
    detect(line.as_bytes(), &utc()).map(|f| (f.ms, f.format, f.start, f.end))
}

fn ms(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, milli: u32) -> i64 {
    civil_ms(y, mo, d, h, mi, s, milli)
}

#[test]
fn iso_variants() {
    let t = ms(2026, 2, 12, 10, 0, 0, 0);
    assert_eq!(at("2026-02-12T10:00:00Z x").unwrap().0, t);
    assert_eq!(at("2026-02-12 10:00:00 x").unwrap().0, t);
    assert_eq!(at("2026-02-12T12:00:00+02:00 x").unwrap().0, t);
    assert_eq!(at("2026-02-12T05:00:00-0500 x").unwrap().0, t);
    assert_eq!(at("2026-02-12T10:00Z").unwrap().0, t);
    assert_eq!(at("2026-02-12T10:00:00.123456789Z").unwrap().0, t + 123);
    assert_eq!(at("2026/02/12 10:00:00 [error] 1#0").unwrap().0, t);
    let zk = at("2015-07-29 17:41:44,747 - INFO  [x]").unwrap();
    assert_eq!(zk.0, ms(2015, 7, 29, 17, 41, 44, 747));
    assert_eq!(zk.3, 23);
    assert_eq!(
        at("2026-02-12 10:00:00 +0100 msg").unwrap().0,
        t - 3_600_000
    );
}

#[test]
fn named_formats() {
    assert_eq!(
        at("20171223-22:15:29:606|Step_LSC|1").unwrap().0,
        ms(2017, 12, 23, 22, 15, 29, 606)
    );
    let apache = at("[Sun Dec 04 04:47:44 2005] [notice] x").unwrap();
    assert_eq!(apache.0, ms(2005, 12, 4, 4, 47, 44, 0));
    assert_eq!((apache.1, apache.2, apache.3), (TsFormat::Ctime, 1, 25));
    let clf = at("127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /\"").unwrap();
    assert_eq!(clf.0, ms(2000, 10, 10, 20, 55, 36, 0));
    assert_eq!(clf.1, TsFormat::Clf);
    assert_eq!(
        at("Jun 14 15:16:01 combo sshd").unwrap().0,
        ms(2026, 6, 14, 15, 16, 1, 0)
    );
    assert_eq!(
        at("Jun  4 15:16:01 combo").unwrap().0,
        ms(2026, 6, 4, 15, 16, 1, 0)
    );
    // A yearless date after the reference date belongs to last year.
    assert_eq!(
        at("Dec 10 06:55:46 LabSZ sshd").unwrap().0,
        ms(2025, 12, 10, 6, 55, 46, 0)
    );
    assert_eq!(
        at("17/06/09 20:10:40 INFO x").unwrap().0,
        ms(2017, 6, 9, 20, 10, 40, 0)
    );
    assert_eq!(
        at("081109 203615 148 INFO dfs").unwrap().0,
        ms(2008, 11, 9, 20, 36, 15, 0)
    );
    assert_eq!(
        at("03-17 16:13:38.811  1702  2395 D W").unwrap().0,
        ms(2026, 3, 17, 16, 13, 38, 811)
    );
    let glog = at("I0317 16:13:38.811123    1 main.go:1] x").unwrap();
    assert_eq!(
        (glog.0, glog.1),
        (ms(2026, 3, 17, 16, 13, 38, 811), TsFormat::Glog)
    );
    assert_eq!(at("X0317 16:13:38.811 x"), None);
    let redis = at("1234:M 15 Jan 2026 10:00:00.123 * Ready to accept connections").unwrap();
    assert_eq!(
        (redis.0, redis.1),
        (ms(2026, 1, 15, 10, 0, 0, 123), TsFormat::DayMonth)
    );
    let rfc2822 = at("Thu, 15 Jan 2026 10:00:00 +0100 mail delivered").unwrap();
    assert_eq!(rfc2822.0, ms(2026, 1, 15, 9, 0, 0, 0));
    assert_eq!(at("1700000000 msg").unwrap().0, 1_700_000_000_000);
    assert_eq!(at("1700000000.25 msg").unwrap().0, 1_700_000_000_250);
    assert_eq!(at("1700000000123 msg").unwrap().0, 1_700_000_000_123);
    assert_eq!(
        at("[INFO] 2026-02-12 10:00:00 x").unwrap().0,
        ms(2026, 2, 12, 10, 0, 0, 0)
    );
}

#[test]
fn rejects_non_timestamps() {
    for line in [
        "",
        "hello world",
        "123456 654321 numbers",
        "2026-13-01 10:00:00",
        "2026-02-30 10:00:00",
        "2026-02-12T25:00:00",
        "12345678901 x",
        "    at com.example.Foo.bar(Foo.java:10)",
        "Traceback (most recent call last):",
        "17/06/09",
        "Jun 14",
        "took 1700000000 ms",
        "a message that mentions 2026-02-12 10:00:00 deep inside",
    ] {
        assert_eq!(at(line), None, "{line:?}");
    }
}

#[test]
fn never_panics_on_prefixes() {
    let samples = [
        "2026-02-12T10:00:00.123+02:00 x",
        "[Sun Dec 04 04:47:44 2005]",
        "10/Oct/2000:13:55:36 -0700",
        "20171223-22:15:29:606|",
        "Jun  4 15:16:01.5",
        "1700000000.123",
    ];
    for s in samples {
        for end in 0..=s.len() {
            let _ = detect(&s.as_bytes()[..end], &utc());
        }
    }
}

#[test]
fn sniffs_the_most_common_layout_and_parses_on_it() {
    let lines: Vec<&[u8]> = vec![
        b"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200",
        b"10.0.0.2 - bob [10/Oct/2000:13:55:37 -0700] \"GET /a HTTP/1.0\" 404",
        b"garbage line",
    ];
    let layout = TsLayout::sniff(lines.iter().copied(), &utc()).unwrap();
    assert_eq!(layout.format, TsFormat::Clf);
    assert_eq!(layout.anchor, Anchor::After { byte: b'[', nth: 1 });
    let found = layout.parse(lines[1], &utc()).unwrap();
    assert_eq!(found.ms, ms(2000, 10, 10, 20, 55, 37, 0));
    assert!(TsLayout::sniff([&b"no time here"[..]], &utc()).is_none());
}

#[test]
fn local_time_uses_the_zone() {
    let zone = Zone::new(jiff::tz::TimeZone::get("America/New_York").unwrap());
    let ctx = TimeContext::new(zone, ms(2026, 11, 25, 12, 0, 0, 0));
    let found = detect(b"2026-01-10 08:00:00 x", &ctx).unwrap();
    assert_eq!(found.ms, ms(2026, 1, 10, 13, 0, 0, 0));
    let found = detect(b"2026-01-10T08:00:00Z x", &ctx).unwrap();
    assert_eq!(found.ms, ms(2026, 1, 10, 8, 0, 0, 0));
}

#[test]
fn day_cache_never_answers_for_another_or_an_invalid_date() {
    let ctx = utc();
    let days = |y, m, d| ctx.days(y, m, d);
    assert_eq!(
        days(2026, 1, 31),
        Some(super::zone::days_from_civil(2026, 1, 31))
    );
    // Same day again (from the cache), then dates whose bits alias it.
    assert_eq!(
        days(2026, 1, 31),
        Some(super::zone::days_from_civil(2026, 1, 31))
    );
    assert_eq!(days(2026, 17, 31), None);
    assert_eq!(days(2026, 1, 63), None);
    assert_eq!(days(2026, 2, 30), None);
    assert_eq!(
        days(2026 + 65536, 1, 31),
        Some(super::zone::days_from_civil(2026 + 65536, 1, 31))
    );
    assert_eq!(
        days(2024, 2, 29),
        Some(super::zone::days_from_civil(2024, 2, 29))
    );
    assert_eq!(days(2023, 2, 29), None);
    assert_eq!(days(1969, 12, 31), Some(-1));
    assert_eq!(days(1969, 12, 31), Some(-1));
}

#[test]
fn zone_abbreviations_carry_their_offsets() {
    let t = ms(2026, 5, 4, 17, 0, 0, 123);
    // PostgreSQL's log_line_prefix '%m'.
    assert_eq!(
        at("2026-05-04 10:00:00.123 PDT [4242] LOG:  checkpoint")
            .unwrap()
            .0,
        t
    );
    assert_eq!(at("2026-05-04 13:00:00.123 EDT x").unwrap().0, t);
    assert_eq!(at("2026-05-04 19:00:00.123 CEST x").unwrap().0, t);
    assert_eq!(at("2026-05-04 17:00:00.123 UTC x").unwrap().0, t);
    assert_eq!(at("2026-05-05 02:00:00.123 JST x").unwrap().0, t);
    assert_eq!(at("2026-05-05 03:00:00.123 AEST x").unwrap().0, t);
    assert_eq!(at("2026-05-04 22:30:00.123 IST x").unwrap().0, t);
    assert_eq!(at("2026-05-04 19:00:00.123 GMT+02:00 x").unwrap().0, t);
    // The span covers the zone, so the header after it is read as such.
    assert_eq!(at("2026-05-04 10:00:00.123 PDT [1] x").unwrap().3, 27);
    // `date`'s default output, with the zone before the year.
    let date = at("Mon May  4 10:00:00 PDT 2026 backup started").unwrap();
    assert_eq!(
        (date.0, date.1, date.3),
        (ms(2026, 5, 4, 17, 0, 0, 0), TsFormat::Ctime, 28)
    );
    // Words after a time are not zones.
    let info = at("2026-05-04 10:00:00 INFO x").unwrap();
    assert_eq!((info.0, info.3), (ms(2026, 5, 4, 10, 0, 0, 0), 19));
    assert_eq!(at("2026-05-04 10:00:00 POST /x").unwrap().3, 19);
    // An unknown abbreviation is local time (here UTC), span included.
    let unknown = at("2026-05-04 10:00:00 XYST x").unwrap();
    assert_eq!((unknown.0, unknown.3), (ms(2026, 5, 4, 10, 0, 0, 0), 24));
}

#[test]
fn month_and_weekday_names_in_other_languages() {
    let t = ms(2026, 5, 4, 10, 0, 0, 0);
    // French `date`, German, Spanish, Italian, Portuguese.
    assert_eq!(
        at("lun. 04 mai 2026 10:00:00 CEST sauvegarde").unwrap().0,
        t - 7_200_000
    );
    assert_eq!(at("Mo, 4. Mai 2026 10:00:00 Sicherung").unwrap().0, t);
    assert_eq!(at("4. Mai 2026 10:00:00 Sicherung").unwrap().0, t);
    assert_eq!(at("lun 04 may 2026 10:00:00 copia").unwrap().0, t);
    assert_eq!(at("04 mag 2026 10:00:00 copia").unwrap().0, t);
    assert_eq!(at("seg 04 mai 2026 10:00:00 cópia").unwrap().0, t);
    assert_eq!(
        at("15 févr. 2026 10:00:00 x").unwrap().0,
        ms(2026, 2, 15, 10, 0, 0, 0)
    );
    assert_eq!(
        at("12 déc. 2025 10:00:00 x").unwrap().0,
        ms(2025, 12, 12, 10, 0, 0, 0)
    );
    // journalctl in a French locale: syslog order, month abbreviation.
    assert_eq!(
        at("janv. 15 10:00:00 hôte sshd[1]: x").unwrap().0,
        ms(2026, 1, 15, 10, 0, 0, 0)
    );
    assert_eq!(
        at("août 15 10:00:00 h x").unwrap().0,
        ms(2026, 8, 15, 10, 0, 0, 0)
    );
    assert_eq!(
        at("Okt 15 10:00:00 h x").unwrap().0,
        ms(2026, 10, 15, 10, 0, 0, 0)
    );
    // ctime in German, Tomcat's dd-MMM-yyyy, nextflow's MMM-dd.
    assert_eq!(at("Mo Mai 04 10:00:00 2026 x").unwrap().0, t);
    assert_eq!(
        at("04-May-2026 10:00:00.123 INFO [main] org.apache.catalina.startup.Catalina.start")
            .unwrap()
            .0,
        t + 123
    );
    assert_eq!(
        at("May-04 10:00:00.123 [main] INFO nextflow.cli.Launcher")
            .unwrap()
            .0,
        t + 123
    );
    // Day-first numeric dates with dots.
    assert_eq!(at("04.05.2026 10:00:00 Dienst gestartet").unwrap().0, t);
}

#[test]
fn timestamps_inside_the_header() {
    let t = ms(2026, 5, 4, 10, 0, 0, 0);
    let logrus = at(r#"time="2026-05-04T10:00:00Z" level=info msg="started""#).unwrap();
    assert_eq!((logrus.0, logrus.2), (t, 6));
    let gokit = detect(
        b"level=info ts=2026-05-04T10:00:00.5Z caller=main.go:12 msg=x",
        &utc(),
    )
    .unwrap();
    assert_eq!(
        (gokit.ms, gokit.anchor),
        (t + 500, Anchor::After { byte: b'=', nth: 2 })
    );
    assert_eq!(
        at("t=2026-05-04T10:00:00+0000 lvl=info msg=x").unwrap().0,
        t
    );
    assert_eq!(at("ts=1777888800.25 level=info").unwrap().0, t + 250);
    // After a host, after a numeric field, after a syslog priority.
    assert_eq!(at("web-1 2026-05-04T10:00:00Z GET /").unwrap().0, t);
    assert_eq!(at("4211 2026-05-04 10:00:00,000 INFO x").unwrap().0, t);
    assert_eq!(
        at("<30>May  4 10:00:00 ap1 hostapd: x").unwrap().0,
        ms(2026, 5, 4, 10, 0, 0, 0)
    );
    // Rails, Cassandra, nagios, uwsgi.
    assert_eq!(
        at("I, [2026-05-04T10:00:00.123456 #12]  INFO -- : x")
            .unwrap()
            .0,
        t + 123
    );
    assert_eq!(
        at("INFO  [main] 2026-05-04 10:00:00,000 Daemon.java:1 - x")
            .unwrap()
            .0,
        t
    );
    assert_eq!(
        at("[1777888800] SERVICE ALERT: web;HTTP;CRITICAL")
            .unwrap()
            .0,
        t
    );
    let uwsgi = "[pid: 1234|app: 0|req: 15/87] 192.168.100.100 () {38 vars in 650 bytes} \
                 [Mon May  4 10:00:00 2026] GET /api/v1/items => generated 2 bytes in 3 msecs";
    assert_eq!(at(uwsgi).unwrap().0, t);
}

#[test]
fn epochs_tai64n_and_times_of_day() {
    let t = ms(2026, 5, 4, 10, 0, 0, 0);
    assert_eq!(at("1777888800123456 x").unwrap().0, t + 123);
    assert_eq!(at("1777888800123456789 x").unwrap().0, t + 123);
    assert_eq!(
        at("1777888800.123456\tCHhAvV\t10.0.0.1").unwrap().0,
        t + 123
    );
    // strace -ttt with a pid column.
    assert_eq!(
        at("4242  1777888800.123456 openat(AT_FDCWD, \"/etc\")")
            .unwrap()
            .0,
        t + 123
    );
    // TAI64N: 2^62 + 10 + 1777888800 = 0x4000000069f86e2a.
    let tai = at("@4000000069f86e2a07735940 starting sshd").unwrap();
    assert_eq!((tai.0, tai.1, tai.3), (t + 125, TsFormat::Tai64n, 25));
    assert_eq!(at("@4000000069f86e2a0773594 x"), None);
    // Times of day take the reference date (2026-11-25 here).
    let day = |h, m, s, milli| ms(2026, 11, 25, h, m, s, milli);
    let strace =
        at("12:34:56.789012 openat(AT_FDCWD, \"/etc/ld.so.cache\", O_RDONLY) = 3").unwrap();
    assert_eq!(
        (strace.0, strace.1),
        (day(12, 34, 56, 789), TsFormat::TimeOnly)
    );
    assert_eq!(
        at("4242  12:34:56.789012 close(3) = 0").unwrap().0,
        day(12, 34, 56, 789)
    );
    assert_eq!(
        at("[pid  4243] 12:34:56.789012 read(3, \"\", 4096) = 0")
            .unwrap()
            .0,
        day(12, 34, 56, 789)
    );
    assert_eq!(
        at("10:00:00.123 [info] Running MyApp.Endpoint").unwrap().0,
        day(10, 0, 0, 123)
    );
    // Old MySQL's yymmdd with a space-padded hour.
    assert_eq!(
        at("160504  9:00:00 [Note] InnoDB: started").unwrap().0,
        ms(2016, 5, 4, 9, 0, 0, 0)
    );
    for line in [
        "took 1777888800 ms",
        "X0317 16:13:38.811 x",
        "12345678901234 x",
    ] {
        assert_eq!(at(line), None, "{line:?}");
    }
}

#[test]
fn headers_of_other_systems() {
    let t = ms(2026, 5, 4, 10, 0, 0, 0);
    // A Java service wrapper around log4j: the time after three columns.
    let wrapper =
        at("INFO   | jvm 1    | 2026/05/04 10:00:00 | 2026-05-04 10:00:00,077 [main] INFO x")
            .unwrap();
    assert_eq!(wrapper.0, t);
    // Proxifier's month.day, old Redis's yearless day month.
    assert_eq!(
        at("[10.30 16:49:06] chrome.exe - example.com:443 open through proxy")
            .unwrap()
            .0,
        ms(2026, 10, 30, 16, 49, 6, 0)
    );
    assert_eq!(
        at("[3574] 13 Apr 12:52:30.731 # Sentinel runid is 2e3b")
            .unwrap()
            .0,
        ms(2026, 4, 13, 12, 52, 30, 731)
    );
    // glog with a year, an offset with a colon after a space.
    let glog = at("I20260504 10:00:00.089828 400441 config.cc:27] Loading").unwrap();
    assert_eq!((glog.0, glog.1), (t + 89, TsFormat::Glog));
    assert_eq!(
        at("2026/05/04 05:00:00 -05:00 767 10.0.0.1: rpc")
            .unwrap()
            .0,
        t
    );
    // Old MySQL, openam's quoted stamp, sssd's parenthesized ctime.
    assert_eq!(
        at("\"2026-05-04 10:00:00\" \"http://localhost\" x")
            .unwrap()
            .0,
        t
    );
    assert_eq!(
        at("(Mon May  4 10:00:00 2026) [sssd] [start_service] x")
            .unwrap()
            .0,
        t
    );
}

#[test]
fn us_dates_word_prefixes_and_space_padded_hours() {
    // Month first with a 12-hour clock and colon-separated milliseconds,
    // after a word and a colon.
    let us = at("amLog:06/09/2014 02:49:59:447 PM UTC: Thread[http-80-1,5,main]").unwrap();
    assert_eq!(
        (us.0, us.1),
        (ms(2014, 6, 9, 14, 49, 59, 447), TsFormat::SlashDate)
    );
    assert_eq!(
        at("1/2/2026, 12:05:00 AM done").unwrap().0,
        ms(2026, 1, 2, 0, 5, 0, 0)
    );
    // Day first when the first field cannot be a month.
    assert_eq!(
        at("31/12/2025 23:59:59.5 x").unwrap().0,
        ms(2025, 12, 31, 23, 59, 59, 500)
    );
    assert_eq!(at("13/13/2025 10:00:00 x"), None);
    assert_eq!(at("06/09/2014 13:00:00 PM x"), None);
    // Behind `::` columns and a `Word:` prefix.
    assert_eq!(
        at("Thread-1950::INFO::2011-12-07 12:14:15,018::dispatcher::94::(run) x")
            .unwrap()
            .0,
        ms(2011, 12, 7, 12, 14, 15, 18)
    );
    assert_eq!(
        at("HsmService:2021-05-19 17:36:35,978[MainThread]hsm:737 [INFO] up")
            .unwrap()
            .0,
        ms(2021, 5, 19, 17, 36, 35, 978)
    );
    // A colon inside a time or after a number opens nothing.
    assert_eq!(at("port:1700000000 up"), None);
    assert_eq!(at("took 12:30 on host:12:00:00"), None);
    // An hour padded with a space.
    assert_eq!(
        at("(2022-06-08  8:52:40): [be[ipa]] [sysdb_add_user] (0x0040): x")
            .unwrap()
            .0,
        ms(2022, 6, 8, 8, 52, 40, 0)
    );
}

#[test]
fn an_epoch_column_is_learned_from_the_file() {
    // Cluster event tables: the time is a later column on every line.
    let lines: Vec<&[u8]> = vec![
        b"20001 node-17 unix.hw state_change.unavailable 1777888800 1 Component State Change",
        b"20002 node-183 action start 1777888860 1 boot (command 3012)",
        b"20003 node-2 unix.hw state_change.available 1777888920 1 Component State Change",
    ];
    let layout = TsLayout::sniff(lines.iter().copied(), &utc()).unwrap();
    assert_eq!(
        layout,
        TsLayout {
            format: TsFormat::Epoch,
            anchor: Anchor::After { byte: b' ', nth: 4 }
        }
    );
    assert_eq!(
        layout.parse(lines[1], &utc()).unwrap().ms,
        1_777_888_860_000
    );
    // An alert flag or category, then the epoch, then more dates.
    let ras: Vec<&[u8]> = vec![
        b"- 1777888800 2026.05.04 R02-M1-N0 2026-05-04-03.00.00.675872 R02-M1-N0 RAS KERNEL INFO cache parity corrected",
        b"KERNDTLB 1777888801 2026.05.04 R30-M0-N9 2026-05-04-03.00.01.581048 R30-M0-N9 RAS KERNEL FATAL data TLB error",
    ];
    let layout = TsLayout::sniff(ras.iter().copied(), &utc()).unwrap();
    assert_eq!(layout.anchor, Anchor::After { byte: b' ', nth: 1 });
    assert_eq!(layout.find(ras[1], &utc()).unwrap().ms, 1_777_888_801_000);
    // Numbers that are not on (nearly) every line are no time column.
    let sizes: Vec<&[u8]> = vec![b"sent 1777888800 bytes", b"sent 12 bytes", b"idle"];
    assert_eq!(TsLayout::sniff(sizes.iter().copied(), &utc()), None);
}

#[test]
fn ordinal_dates_glued_zones_and_minute_clocks() {
    // Year and day of the year: the 25th day is January 25th, the 60th of
    // a leap year February 29th.
    let ordinal = at("2012-025T08:00:01Z DHCPREQUEST on eth0").unwrap();
    assert_eq!(
        (ordinal.0, ordinal.1),
        (ms(2012, 1, 25, 8, 0, 1, 0), TsFormat::Iso)
    );
    assert_eq!(
        at("2024-060 23:59:59.5 leap day").unwrap().0,
        ms(2024, 2, 29, 23, 59, 59, 500)
    );
    assert_eq!(at("2023-366T00:00:00Z x"), None);
    // A known zone glued to a time of day; an unknown word there is no
    // zone.
    let glued = at("12:00:01.313913PST kernel: eth0 up").unwrap();
    assert_eq!(glued.0, ms(2026, 11, 25, 20, 0, 1, 313));
    assert_eq!(glued.3, 18);
    assert_eq!(at("10:00:00XYZT x"), None);
    // ISO 8601's basic format: no separators in the date or the clock.
    assert_eq!(
        at("20120702.102240,672:DEBUG:cache warmed").unwrap().0,
        ms(2012, 7, 2, 10, 22, 40, 672)
    );
    assert_eq!(
        at("20120702T102240+0200 job started").unwrap().0,
        ms(2012, 7, 2, 8, 22, 40, 0)
    );
    assert_eq!(at("20120702T1022401 x"), None);
    // Minutes and seconds with a fraction, at the head or after a word:
    // the first hour of the reference date.
    let clock = at("29:47.191: Server-Properties: {\"Name\":\"probe\"}").unwrap();
    assert_eq!(
        (clock.0, clock.1, clock.3),
        (ms(2026, 11, 25, 0, 29, 47, 191), TsFormat::TimeOnly, 9)
    );
    assert_eq!(
        at("PROBE 30:11.475: 0: <--- R 2 [\"P1\"]").unwrap().0,
        ms(2026, 11, 25, 0, 30, 11, 475)
    );
    for line in ["10:30.1 release notes", "10:30 meeting", "61:00.123 x"] {
        assert_eq!(at(line), None, "{line:?}");
    }
}

#[test]
fn a_ctime_deep_in_the_line_is_learned_from_the_file() {
    let lines: Vec<&[u8]> = vec![
        b"========== Start of memory dump at Thu Jun  2 08:00:01 UTC 2022 ==========",
        b"MemTotal:        8048572 kB",
        b"========== Start of memory dump at Thu Jun  2 09:00:01 UTC 2022 ==========",
    ];
    // Not a header column: the per-line detector leaves it alone...
    assert_eq!(detect(lines[0], &utc()), None);
    // ...but the file's layout learns where it is.
    let layout = TsLayout::sniff(lines.iter().copied(), &utc()).unwrap();
    assert_eq!(layout.format, TsFormat::Ctime);
    assert_eq!(layout.anchor, Anchor::After { byte: b' ', nth: 6 });
    assert_eq!(
        layout.parse(lines[2], &utc()).unwrap().ms,
        ms(2022, 6, 2, 9, 0, 1, 0)
    );
    assert!(layout.parse(lines[1], &utc()).is_none());
    let fsck = TsLayout::sniff(
        [&b"/dev/rdisk0s2: fsck_hfs run at Wed Jul 25 23:01:18 2012"[..]],
        &utc(),
    )
    .unwrap();
    assert_eq!(fsck.format, TsFormat::Ctime);
}

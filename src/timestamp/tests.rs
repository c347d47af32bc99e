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

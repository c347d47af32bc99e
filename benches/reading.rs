//! Throughput of the reading spine on generated logs: framing records,
//! detecting timestamps, classifying levels and the level prefilter.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[allow(dead_code)]
#[path = "../examples/genlog/generator.rs"]
mod generator;

use generator::{Config, Format, Generator, Limit};
use velos::classify::{Classifier, LevelPrefilter};
use velos::frame::{self, Layout};
use velos::level::LevelSet;
use velos::timestamp::{self, TimeContext, TsLayout, Zone};

fn sample(format: Format, lines: u64) -> Vec<u8> {
    let mut g = Generator::new(Config {
        seed: 7,
        format,
        start_ms: 1_768_003_200_000,
        limit: Limit::Lines(lines),
        span_ms: generator::DAY_MS,
    });
    let mut out = Vec::new();
    g.write_to(&mut out).expect("writing to memory");
    out
}

fn ctx() -> TimeContext {
    TimeContext::new(Zone::utc(), 1_800_000_000_000)
}

fn bench_framer(c: &mut Criterion) {
    let ctx = ctx();
    let mut group = c.benchmark_group("framer");
    group.sample_size(20);
    for (name, format) in [("plain", Format::Plain), ("json", Format::Json)] {
        let data = sample(format, 200_000);
        let layout = Layout::sniff(&data, &ctx);
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(format!("spans_{name}"), |b| {
            b.iter(|| frame::spans(&layout, black_box(&data), 0, data.len()).count())
        });
        group.bench_function(format!("read_{name}"), |b| {
            b.iter(|| {
                frame::spans(&layout, &data, 0, data.len())
                    .map(|(s, e)| layout.read(black_box(&data), s, e, &ctx).ts.unwrap_or(0))
                    .fold(0i64, i64::wrapping_add)
            })
        });
    }
    group.finish();
}

fn bench_timestamps(c: &mut Criterion) {
    let ctx = ctx();
    let lines: Vec<&[u8]> = [
        &b"2026-01-10T00:00:00.123Z INFO  [api] x"[..],
        b"2015-07-29 17:41:44,747 - INFO  [main] x",
        b"Jun 14 15:16:01 combo sshd[1]: x",
        b"[Sun Dec 04 04:47:44 2005] [notice] x",
        b"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200",
        b"17/06/09 20:10:40 INFO x",
        b"081109 203615 148 INFO x",
        b"03-17 16:13:38.811  1702  2395 D x",
        b"20171223-22:15:29:606|Step|1|x",
        b"1700000000.123 x",
    ]
    .to_vec();
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    let mut group = c.benchmark_group("timestamp");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("detect_every_format", |b| {
        b.iter(|| {
            lines
                .iter()
                .filter_map(|l| timestamp::detect(black_box(l), &ctx))
                .count()
        })
    });
    let layouts: Vec<TsLayout> = lines
        .iter()
        .map(|l| TsLayout::sniff([*l], &ctx).expect("sniffs"))
        .collect();
    group.bench_function("fast_path_every_format", |b| {
        b.iter(|| {
            lines
                .iter()
                .zip(&layouts)
                .filter_map(|(l, layout)| layout.parse(black_box(l), &ctx))
                .count()
        })
    });
    group.finish();
}

fn bench_classifier(c: &mut Criterion) {
    let data = sample(Format::Plain, 200_000);
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let classifier = Classifier::default();
    let mut group = c.benchmark_group("classify");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("keyword_rules_per_line", |b| {
        b.iter(|| {
            lines
                .iter()
                .map(|l| classifier.classify_text(black_box(l)) as u64)
                .sum::<u64>()
        })
    });
    group.bench_function("line_with_header", |b| {
        b.iter(|| {
            lines
                .iter()
                .map(|l| classifier.classify_line(black_box(l)) as u64)
                .sum::<u64>()
        })
    });
    let prefilter = LevelPrefilter::new(LevelSet::parse("error").expect("level"), &classifier)
        .expect("prefilter");
    group.bench_function("error_prefilter_scan", |b| {
        b.iter(|| {
            let mut scan = prefilter.scan(black_box(&data));
            let mut pos = 0;
            let mut n = 0;
            while let Some(at) = scan.next_candidate(pos) {
                n += 1;
                pos = frame::next_line(&data, at);
            }
            n
        })
    });
    group.finish();
}

criterion_group!(benches, bench_framer, bench_timestamps, bench_classifier);
criterion_main!(benches);

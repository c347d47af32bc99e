//! Throughput of the masking scanner on realistic messages from the log
//! generator (the `genlog` example's catalog).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[allow(dead_code)]
#[path = "../examples/genlog/generator.rs"]
mod generator;

use generator::{Config, Format, Generator, Limit};
use velos::normalize::normalize;

fn messages(n: usize) -> Vec<Vec<u8>> {
    let start_ms = 1_768_003_200_000;
    let mut g = Generator::new(Config {
        seed: 42,
        format: Format::Plain,
        start_ms,
        limit: Limit::Lines(n as u64),
        span_ms: generator::DAY_MS,
    });
    (0..n)
        .map(|k| g.next_message(start_ms + k as i64 * 10).1.to_vec())
        .collect()
}

fn bench(c: &mut Criterion) {
    let msgs = messages(100_000);
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group("normalize");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    group.bench_function("generated_messages", |b| {
        let mut out = Vec::with_capacity(512);
        b.iter(|| {
            let mut acc = 0u64;
            for m in &msgs {
                acc ^= normalize(black_box(m), &mut out);
            }
            acc
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! `genlog`: writes realistic synthetic service logs (plain or JSON lines)
//! for benchmarks, tests and demos. The generator itself lives in
//! `generator.rs`; this file owns the command line.
//!
//! ```text
//! cargo run --release --example genlog -- --size 1GiB --format plain --seed 42 -o big.log
//! cargo run --release --example genlog -- --lines 5000 --format json -o -
//! ```

// Shared with the normalizer bench, which uses parts this binary does not.
#[allow(dead_code)]
mod generator;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};

use generator::{Config, Format, Generator, Limit, parse_size};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Plain,
    Json,
}

/// Generate realistic, deterministic service logs.
#[derive(Debug, Parser)]
struct Args {
    /// Approximate output size: plain bytes or with a unit (K, M, G, KiB, MiB, GiB).
    #[arg(long, value_parser = parse_size, conflicts_with = "lines")]
    size: Option<u64>,
    /// Number of lines to write instead of a size (stack trace lines count).
    #[arg(long)]
    lines: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value = "plain")]
    format: FormatArg,
    /// Seed: the same arguments and seed give byte-identical output.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Time of the first record (RFC 3339).
    #[arg(long, default_value = "2026-01-10T00:00:00Z")]
    start: jiff::Timestamp,
    /// How long the file spans: records are spread evenly over it (24h, 6h, 90m).
    #[arg(long, default_value = "24h")]
    span: String,
    /// Output file, `-` for stdout.
    #[arg(short, long, default_value = "-")]
    output: PathBuf,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let limit = match (args.size, args.lines) {
        (Some(size), None) => Limit::Bytes(size),
        (None, Some(lines)) => Limit::Lines(lines),
        (None, None) => Limit::Bytes(parse_size("100MiB").map_err(anyhow::Error::msg)?),
        (Some(_), Some(_)) => bail!("--size and --lines are exclusive"),
    };
    let cfg = Config {
        seed: args.seed,
        format: match args.format {
            FormatArg::Plain => Format::Plain,
            FormatArg::Json => Format::Json,
        },
        start_ms: args.start.as_millisecond(),
        limit,
        span_ms: match parse_span(&args.span) {
            Some(ms) => ms,
            None => bail!(
                "invalid --span `{}`: use a duration such as 24h, 6h or 90m",
                args.span
            ),
        },
    };
    let mut generator = Generator::new(cfg);
    let stats = if args.output.as_os_str() == "-" {
        let stdout = io::stdout();
        let mut w = BufWriter::with_capacity(1 << 20, stdout.lock());
        let stats = generator.write_to(&mut w);
        finish(stats, w.flush())
    } else {
        let file = File::create(&args.output)
            .with_context(|| format!("cannot create {}", args.output.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let stats = generator.write_to(&mut w);
        finish(stats, w.flush())
    };
    match stats {
        Ok(s) => {
            eprintln!(
                "genlog: {} records, {} lines, {} bytes",
                s.records, s.lines, s.bytes
            );
            Ok(())
        }
        // A closed pipe (`genlog | head`) is a normal way to stop.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e).context("writing output"),
    }
}

fn finish(
    stats: io::Result<generator::Stats>,
    flushed: io::Result<()>,
) -> io::Result<generator::Stats> {
    let stats = stats?;
    flushed?;
    Ok(stats)
}

/// `24h`, `90m`, `2d` → milliseconds (positive).
fn parse_span(s: &str) -> Option<i64> {
    velos::query::parse_duration(s).filter(|&ms| ms > 0)
}

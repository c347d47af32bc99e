//! Same input, same output: whatever the thread count, the chunk size or
//! the source kind (mapped file or stream), `velos logs` writes the same
//! bytes. The same holds for compressed input (decoded as a stream) and
//! for several inputs merged by time.

use proptest::prelude::*;

use velos::analyze::PipelineConfig;
use velos::engine::{Engine, Input, Settings};
use velos::frame::Layout;
use velos::output::summary::{SummaryContext, dedup_json, summary_json};
use velos::output::{Format, PrintSink, Printer};
use velos::query::{Query, QuerySpec};
use velos::timestamp::{TimeContext, Zone};

fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (
            0u32..86_400,
            prop::sample::select(vec!["INFO ", "WARN ", "ERROR", "DEBUG", "FATAL"]),
            prop::sample::select(vec![
                "request timeout",
                "ok",
                "connection failed",
                "parity error corrected",
                "done"
            ])
        )
            .prop_map(|(s, lvl, msg)| format!(
                "2026-01-10T{:02}:{:02}:{:02}Z {lvl} {msg}",
                s / 3600,
                s / 60 % 60,
                s % 60
            )
            .into_bytes()),
        Just(b"\tat com.example.A.b(A.java:1)".to_vec()),
        Just(b"Caused by: java.io.IOException: timeout".to_vec()),
        Just(b"{\"ts\":1768039200000,\"lvl\":\"error\",\"msg\":\"json timeout\"}".to_vec()),
        Just(Vec::new()),
        proptest::collection::vec(any::<u8>(), 0..20),
        "[a-z ]{0,20}".prop_map(String::into_bytes),
    ]
}

fn log() -> impl Strategy<Value = Vec<u8>> {
    (proptest::collection::vec(line(), 0..80), any::<bool>()).prop_map(|(lines, crlf)| {
        let sep: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        lines.join(sep)
    })
}

/// Output of several services behind a name column (`docker compose
/// logs`): each line of [`line`] after one service's prefix, some
/// coloured, now and then a line without one.
fn compose_log() -> impl Strategy<Value = Vec<u8>> {
    let prefixed = (
        prop::sample::select(vec![
            "web-1    | ",
            "\x1b[36mdb-1     |\x1b[0m ",
            "worker_1 | ",
        ]),
        line(),
    )
        .prop_map(|(prefix, line)| [prefix.as_bytes(), &line].concat());
    let lines = prop_oneof![
        8 => prefixed,
        1 => Just(b"Attaching to db-1, web-1, worker_1".to_vec()),
    ];
    (proptest::collection::vec(lines, 0..80), any::<bool>()).prop_map(|(lines, crlf)| {
        let sep: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        lines.join(sep)
    })
}

#[derive(Debug, Clone)]
struct Case {
    grep: Option<&'static str>,
    level: Option<&'static str>,
    since: Option<&'static str>,
    tail: Option<usize>,
    json: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::option::of(prop::sample::select(vec![
            "timeout",
            "(?i)TIMEOUT",
            "^\\t",
            "o",
        ])),
        prop::option::of(prop::sample::select(vec![
            "error",
            "warn+",
            "info",
            "debug,fatal",
        ])),
        prop::option::of(prop::sample::select(vec![
            "2026-01-10 06:00",
            "2026-01-10 18:00",
        ])),
        prop::option::of(0usize..10),
        any::<bool>(),
    )
        .prop_map(|(grep, level, since, tail, json)| Case {
            grep,
            level,
            since,
            tail,
            json,
        })
}

/// Runs a case over `data` as a mapped file would be, with the given pool
/// size and chunk size.
fn run_file(data: &[u8], case: &Case, threads: usize, chunk: usize) -> Vec<u8> {
    with_pool(threads, || {
        let engine = engine(case, settings(chunk));
        print(&engine, case, Input::bytes("t.log", data.to_vec()))
    })
}

/// Runs `input` through the entry point the case asks for (print or tail).
fn print(engine: &Engine, case: &Case, input: Input) -> Vec<u8> {
    let printer = printer(case);
    let mut sink = PrintSink::new(&printer, Vec::new()).without_pattern_ids();
    match case.tail {
        Some(n) => engine.tail(input, n, &mut sink).unwrap(),
        None => engine.print(input, &mut sink).unwrap(),
    }
    sink.into_inner()
}

/// Runs a case over `data` as a stream, read in blocks of `block` bytes.
fn run_stream(data: &[u8], case: &Case, block: usize) -> Vec<u8> {
    with_pool(2, || {
        let mut s = settings(64);
        s.stream_block = block;
        let engine = engine(case, s);
        let input = Input::reader("t.log", std::io::Cursor::new(data.to_vec()));
        print(&engine, case, input)
    })
}

fn settings(chunk: usize) -> Settings {
    Settings {
        chunk_size: chunk,
        analysis_chunk_size: chunk,
        ..Settings::default()
    }
}

/// The engine of a case: its filters, in UTC, with a fixed "now".
fn engine(case: &Case, settings: Settings) -> Engine {
    let ctx = TimeContext::new(Zone::utc(), 1_800_000_000_000);
    let spec = QuerySpec {
        grep: case.grep,
        ignore_case: false,
        level: case.level,
        since: case.since,
        until: None,
    };
    let query = Query::build(&spec, 1_800_000_000_000, &ctx).unwrap();
    Engine::builder()
        .query(query)
        .zone(Zone::utc())
        .reference_ms(1_800_000_000_000)
        .settings(settings)
        .pipeline(PipelineConfig {
            window_ms: 90_000,
            ..PipelineConfig::default()
        })
        .build()
}

fn printer(case: &Case) -> Printer {
    Printer {
        format: if case.json {
            Format::Json
        } else {
            Format::Text
        },
        color: false,
        show_file: false,
        zone: Zone::utc(),
    }
}

fn with_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// The summary and dedup groups of `data` as JSON text, from a mapped
/// buffer (`block` = None) or a stream read in blocks.
fn report(data: &[u8], threads: usize, chunk: usize, block: Option<usize>) -> String {
    let case = Case {
        grep: None,
        level: None,
        since: None,
        tail: None,
        json: true,
    };
    with_pool(threads, || {
        let mut s = settings(chunk);
        if let Some(b) = block {
            s.stream_block = b;
        }
        let engine = engine(&case, s);
        let input = match block {
            None => Input::bytes("t.log", data.to_vec()),
            Some(_) => Input::reader("t.log", std::io::Cursor::new(data.to_vec())),
        };
        let printer = printer(&case);
        let report = engine
            .analyze(input, &mut PrintSink::new(&printer, Vec::new()))
            .unwrap();
        let sources = vec!["t.log".to_string()];
        let zone = Zone::utc();
        let ctx = SummaryContext {
            sources: &sources,
            now_ms: 1_800_000_000_000,
            zone: &zone,
            top: 50,
            drill_down: String::new(),
            width: 100,
        };
        let mut out = summary_json(&report, &ctx).to_string();
        for group in report.dedup.iter().flatten() {
            out.push('\n');
            out.push_str(&dedup_json(group).to_string());
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn reports_are_identical_across_threads_chunks_and_sources(data in log(), tiny in 1usize..48) {
        let reference = report(&data, 1, 1 << 20, None);
        prop_assert_eq!(&report(&data, 2, 1 << 20, None), &reference, "2 threads");
        prop_assert_eq!(&report(&data, 2, tiny, None), &reference, "tiny chunks");
        prop_assert_eq!(&report(&data, 1, tiny, Some(tiny)), &reference, "stream, tiny blocks");
    }

    #[test]
    fn compose_output_is_identical_across_threads_chunks_and_sources(data in compose_log(), case in case(), tiny in 1usize..48) {
        let ctx = TimeContext::new(Zone::utc(), 1_800_000_000_000);
        prop_assume!(case.since.is_none() || Layout::sniff(&data, &ctx).timed || data.is_empty());
        let reference = run_file(&data, &case, 1, 1 << 20);
        prop_assert_eq!(&run_file(&data, &case, 2, tiny), &reference, "tiny chunks");
        prop_assert_eq!(&run_file(&data, &case, 1, tiny), &reference, "1 thread, tiny chunks");
        prop_assert_eq!(&run_stream(&data, &case, tiny), &reference, "stream, tiny blocks");
        prop_assert_eq!(&report(&data, 2, tiny, None), &report(&data, 1, 1 << 20, None), "report");
    }

    #[test]
    fn output_is_identical_across_threads_chunks_and_sources(data in log(), case in case(), tiny in 1usize..48) {
        // Streams need timestamps for --since to apply; skip those cases.
        let ctx = TimeContext::new(Zone::utc(), 1_800_000_000_000);
        prop_assume!(case.since.is_none() || Layout::sniff(&data, &ctx).timed || data.is_empty());
        let reference = run_file(&data, &case, 1, 1 << 20);
        prop_assert_eq!(&run_file(&data, &case, 2, 1 << 20), &reference, "2 threads");
        prop_assert_eq!(&run_file(&data, &case, 2, tiny), &reference, "tiny chunks");
        prop_assert_eq!(&run_file(&data, &case, 1, tiny), &reference, "1 thread, tiny chunks");
        prop_assert_eq!(&run_stream(&data, &case, 1 << 20), &reference, "stream");
        prop_assert_eq!(&run_stream(&data, &case, tiny), &reference, "stream, tiny blocks");
    }
}

#[test]
fn generated_sample_is_identical_across_threads_and_chunks() {
    let data = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/app.log")).unwrap();
    for case in [
        Case {
            grep: Some("timeout"),
            level: Some("error"),
            since: None,
            tail: None,
            json: false,
        },
        Case {
            grep: None,
            level: Some("warn+"),
            since: Some("2026-01-10 01:00"),
            tail: None,
            json: true,
        },
        Case {
            grep: None,
            level: None,
            since: None,
            tail: Some(100),
            json: true,
        },
    ] {
        let reference = run_file(&data, &case, 1, 1 << 20);
        assert!(!reference.is_empty());
        assert_eq!(run_file(&data, &case, 2, 4096), reference);
        assert_eq!(run_stream(&data, &case, 8192), reference);
    }
}

/// How a test input is stored.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Plain,
    Gzip,
    Zstd,
}

/// Writes `data` as `dir/<sub>/t.log` in the given kind, with a fixed
/// modification time (the reference for yearless dates).
fn store(dir: &std::path::Path, sub: &str, data: &[u8], kind: Kind) -> std::path::PathBuf {
    use std::io::Write;
    let packed = match kind {
        Kind::Plain => data.to_vec(),
        Kind::Gzip => {
            // Two members: the join must not show.
            let half = data.len() / 2;
            let mut out = Vec::new();
            for part in [&data[..half], &data[half..]] {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(part).unwrap();
                out.extend(e.finish().unwrap());
            }
            out
        }
        Kind::Zstd => zstd::encode_all(data, 1).unwrap(),
    };
    let path = dir.join(sub).join("t.log");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, packed).unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_800_000_000_000))
        .unwrap();
    path
}

/// Runs a case over a compressed file opened as `velos logs` opens it (a
/// stream decoded on its own thread), read in blocks of `block` bytes.
fn run_compressed(path: &std::path::Path, case: &Case, threads: usize, block: usize) -> Vec<u8> {
    with_pool(threads, || {
        let mut s = settings(64);
        s.stream_block = block;
        let text = print(&engine(case, s), case, Input::files(&[path.to_path_buf()]));
        // The file is shown by its path: name it as the others.
        String::from_utf8(text)
            .expect("rendered output is UTF-8")
            .replace(path.to_str().unwrap(), "t.log")
            .into_bytes()
    })
}

/// Runs a case over lanes merged by time, each lane one file.
fn run_merged(paths: &[std::path::PathBuf], case: &Case, threads: usize, block: usize) -> Vec<u8> {
    with_pool(threads, || {
        let mut s = settings(64);
        s.stream_block = block;
        let args: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let input = Input::resolve(&args, std::path::Path::new("/nonexistent"), false).unwrap();
        let out = print(&engine(case, s), case, input);
        // Each lane is shown by its path: name them all alike.
        let mut text = String::from_utf8(out).expect("rendered output is UTF-8");
        for path in paths {
            text = text.replace(path.to_str().unwrap(), "t.log");
        }
        text.into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn compressed_input_is_identical_to_the_plain_file(data in log(), case in case(), tiny in 1usize..48) {
        let ctx = TimeContext::new(Zone::utc(), 1_800_000_000_000);
        prop_assume!(case.since.is_none() || Layout::sniff(&data, &ctx).timed || data.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let reference = run_file(&data, &case, 1, 1 << 20);
        for kind in [Kind::Gzip, Kind::Zstd] {
            let path = store(dir.path(), &format!("{kind:?}"), &data, kind);
            prop_assert_eq!(&run_compressed(&path, &case, 1, 1 << 20), &reference, "{:?}, 1 thread", kind);
            prop_assert_eq!(&run_compressed(&path, &case, 2, 1 << 20), &reference, "{:?}, 2 threads", kind);
            prop_assert_eq!(&run_compressed(&path, &case, 2, tiny), &reference, "{:?}, tiny blocks", kind);
        }
    }

    #[test]
    fn merged_input_is_identical_across_kinds_threads_and_blocks(
        a in log(), b in log(), case in case(), tiny in 1usize..48,
    ) {
        let ctx = TimeContext::new(Zone::utc(), 1_800_000_000_000);
        let timed = |d: &[u8]| Layout::sniff(d, &ctx).timed || d.is_empty();
        prop_assume!(case.since.is_none() || (timed(&a) && timed(&b)));
        let dir = tempfile::tempdir().unwrap();
        // One lane alone reads exactly like the plain file.
        let only = store(dir.path(), "only", &a, Kind::Plain);
        let empty = store(dir.path(), "empty", b"", Kind::Plain);
        let reference = run_file(&a, &case, 1, 1 << 20);
        prop_assert_eq!(&run_merged(&[only, empty], &case, 1, 1 << 20), &reference, "one lane");
        // Two lanes: the same output whatever the kinds, threads and blocks.
        let plain = [store(dir.path(), "pa", &a, Kind::Plain), store(dir.path(), "pb", &b, Kind::Plain)];
        let merged = run_merged(&plain, &case, 1, 1 << 20);
        prop_assert_eq!(&run_merged(&plain, &case, 2, tiny), &merged, "plain, 2 threads, tiny blocks");
        let packed = [store(dir.path(), "ga", &a, Kind::Gzip), store(dir.path(), "zb", &b, Kind::Zstd)];
        prop_assert_eq!(&run_merged(&packed, &case, 1, 1 << 20), &merged, "compressed, 1 thread");
        prop_assert_eq!(&run_merged(&packed, &case, 2, tiny), &merged, "compressed, 2 threads, tiny blocks");
    }
}

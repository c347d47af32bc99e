//! The daemon's socket protocol: malformed, oversized, unknown and
//! wrong-version requests get error replies and the daemon keeps serving;
//! clients work concurrently; a stale socket is replaced.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::{Duration, Instant};

use common::{TestHome, secs};
use velos::home::Home;
use velos::ipc::{Client, ErrorCode, MAX_REQUEST_BYTES, Reply, Request};

fn raw_request(stream: &mut BufReader<UnixStream>, bytes: &[u8]) -> serde_json::Value {
    stream.get_mut().write_all(bytes).unwrap();
    let mut line = String::new();
    stream.read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap_or_else(|err| panic!("bad reply {line:?}: {err}"))
}

#[test]
fn bad_requests_get_error_replies() {
    let home = TestHome::new();
    home.ok(&["list"]);
    let stream = UnixStream::connect(home.path().join("velos.sock")).unwrap();
    stream.set_read_timeout(Some(secs(10))).unwrap();
    let mut conn = BufReader::new(stream);

    let reply = raw_request(&mut conn, b"this is not json\n");
    assert_eq!(reply["type"], "error");
    assert_eq!(reply["code"], "bad-request");
    assert_eq!(reply["v"], 1);

    let reply = raw_request(&mut conn, b"{\"v\":1,\"op\":\"juggle\"}\n");
    assert_eq!(reply["code"], "unknown-op");

    let reply = raw_request(&mut conn, b"{\"v\":99,\"op\":\"list\"}\n");
    assert_eq!(reply["code"], "unsupported-version");

    let reply = raw_request(&mut conn, b"{\"v\":1,\"op\":\"stop\"}\n");
    assert_eq!(reply["code"], "bad-request");

    // Oversized: 2 MiB on one line.
    let mut big = vec![b'x'; 2 * MAX_REQUEST_BYTES];
    big.push(b'\n');
    let reply = raw_request(&mut conn, &big);
    assert_eq!(reply["code"], "too-large");

    // The same connection still works.
    let reply = raw_request(&mut conn, b"{\"v\":1,\"op\":\"ping\"}\n");
    assert_eq!(reply["type"], "pong");
    assert!(reply["pid"].is_number());

    // A client that disconnects mid-line does not hurt the daemon.
    let mut half = UnixStream::connect(home.path().join("velos.sock")).unwrap();
    half.write_all(b"{\"v\":1,\"op\":").unwrap();
    drop(half);
    assert!(home.list().is_empty());
}

#[test]
fn clients_do_not_block_each_other() {
    let home = TestHome::new();
    home.ok(&[
        "start",
        "--name",
        "slow",
        "--kill-timeout",
        "3s",
        "--",
        "sh",
        "-c",
        "trap '' TERM; while true; do sleep 0.1; done",
    ]);
    for n in 0..9 {
        let name = format!("p{n}");
        home.ok(&["start", "--name", &name, "sleep", "300"]);
    }
    let velos_home = Home::new(home.path()).unwrap();

    // One client stops the process that ignores SIGTERM (3 s)…
    let stopper_home = velos_home.clone();
    let stopper = thread::spawn(move || {
        let mut client = Client::connect(&stopper_home).unwrap();
        let started = Instant::now();
        let reply = client
            .request(&Request::Stop {
                target: "slow".into(),
            })
            .unwrap();
        (reply, started.elapsed())
    });
    thread::sleep(Duration::from_millis(200));

    // …while two others poll the table like a TUI, and answer quickly.
    let pollers: Vec<_> = (0..2)
        .map(|_| {
            let home = velos_home.clone();
            thread::spawn(move || {
                let mut client = Client::connect(&home).unwrap();
                let mut slowest = Duration::ZERO;
                for _ in 0..20 {
                    let started = Instant::now();
                    let reply = client.request(&Request::List { history: true }).unwrap();
                    slowest = slowest.max(started.elapsed());
                    let Reply::Processes { processes } = reply else {
                        panic!("unexpected {reply:?}");
                    };
                    assert_eq!(processes.len(), 10);
                    thread::sleep(Duration::from_millis(50));
                }
                slowest
            })
        })
        .collect();
    for poller in pollers {
        let slowest = poller.join().unwrap();
        assert!(
            slowest < Duration::from_millis(500),
            "a list took {slowest:?}"
        );
    }
    let (reply, took) = stopper.join().unwrap();
    assert!(took >= Duration::from_millis(2500), "{took:?}");
    let Reply::Processes { processes } = reply else {
        panic!("unexpected {reply:?}");
    };
    assert_eq!(processes[0].status.as_str(), "stopped");

    // Errors through the typed client.
    let mut client = Client::connect(&velos_home).unwrap();
    let reply = client
        .request(&Request::Info {
            target: "nobody".into(),
        })
        .unwrap();
    assert!(matches!(
        reply,
        Reply::Error {
            code: ErrorCode::NotFound,
            ..
        }
    ));
}

#[test]
fn stale_socket_is_replaced_and_concurrent_starts_share_one_daemon() {
    let home = TestHome::new();
    std::fs::create_dir_all(home.path()).unwrap();
    // A socket nobody listens on, as a crashed daemon leaves it.
    let stale = std::os::unix::net::UnixListener::bind(home.path().join("velos.sock")).unwrap();
    drop(stale);
    assert!(home.path().join("velos.sock").exists());

    let velos_home = Home::new(home.path()).unwrap();
    let exe = std::path::PathBuf::from(common::VELOS);
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let home = velos_home.clone();
            let exe = exe.clone();
            thread::spawn(move || {
                let mut client = Client::connect_or_start_with(&home, &exe).unwrap();
                match client.request(&Request::Ping).unwrap() {
                    Reply::Pong { pid, .. } => pid,
                    other => panic!("unexpected {other:?}"),
                }
            })
        })
        .collect();
    let pids: Vec<u32> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    assert!(pids.windows(2).all(|w| w[0] == w[1]), "{pids:?}");
    assert_eq!(home.daemon_pid(), Some(pids[0] as i32));
    let log = std::fs::read_to_string(home.path().join("daemon.log")).unwrap();
    assert!(log.contains("stale socket"), "{log}");
}

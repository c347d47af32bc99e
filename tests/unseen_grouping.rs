//! Grouping on log shapes the loghub samples in ../shared do not hold:
//! lines written here in the style of supercomputer RAS logs, syslog
//! relayed through a cluster, a proxy client, macOS system.log, Windows
//! servicing logs, Android logcat and an OpenStack service. Each event is
//! written with many values in its variable slots; the header is learned
//! from the file as `velos logs` does, and grouping accuracy (GA) is
//! printed per shape.

mod common;

use std::collections::HashMap;

use common::{Picker, assert_grouping_scores};
use velos::analyze::patterns::{PatternConfig, TemplateCounts};
use velos::normalize::{HeaderLayout, normalize};

/// Values a `{name}` slot takes.
fn pool(name: &str) -> &'static [&'static str] {
    match name {
        "n" => &["0", "7", "42", "1893", "65535", "12", "3"],
        "node" => &[
            "R02-M1-N0-C:J12-U11",
            "R23-M0-NE-C:J05-U01",
            "R71-M1-N4-I:J18-U11",
        ],
        "host" => &["dn228", "an512", "bn73", "cn12", "tbird-sm1"],
        "user" => &["root", "news", "cyrus", "admin", "guest"],
        "prog" => &[
            "chrome.exe",
            "firefox.exe",
            "Skype.exe",
            "svchost.exe",
            "Dropbox.exe",
        ],
        "dest" => &[
            "www.google.com:443",
            "proxy.cse.example.edu:5070",
            "api.dropbox.com:443",
            "203.0.113.7:80",
            "clients1.google.com:443",
        ],
        "mac" => &[
            "calvisitor-10-105-160-95",
            "authorMacBook-Pro",
            "calvisitor-10-105-163-202",
        ],
        "path" => &[
            "C:\\Windows\\winsxs\\amd64_servicingstack_31bf3856ad364e35\\cbscore.dll",
            "C:\\Windows\\System32\\servicing\\cbscore.dll",
            "C:\\Windows\\Servicing\\Packages\\Package_for_KB2.mum",
        ],
        "pkg" => &["com.tencent.mm", "com.android.systemui", "com.example.app"],
        "req" => &[
            "req-38101a0b-2096-447d-96ea-a692162415ae",
            "req-9bc36dd9-91c5-4314-898a-47625eb93b09",
        ],
        "uri" => &[
            "/v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail",
            "/v2/e9746973ac574c6b8a9e8857f56a7608/servers/detail",
        ],
        _ => panic!("no pool {name}"),
    }
}

/// Lines of one shape: (event, line), `rounds` lines per event.
fn generate(events: &[&str], rounds: usize, seed: u64) -> Vec<(usize, String)> {
    let mut pick = Picker(seed);
    let mut lines = Vec::new();
    for r in 0..rounds {
        for (e, fmt) in events.iter().enumerate() {
            let mut line = String::new();
            let mut rest = *fmt;
            while let Some(open) = rest.find('{') {
                line.push_str(&rest[..open]);
                if rest[open + 1..].starts_with('{') {
                    // `{{` is a literal brace.
                    line.push('{');
                    rest = &rest[open + 2..];
                    continue;
                }
                let close = rest[open..].find('}').unwrap() + open;
                let p = pool(&rest[open + 1..close]);
                line.push_str(p[pick.next(p.len())]);
                rest = &rest[close + 1..];
            }
            line.push_str(rest);
            let _ = r;
            lines.push((e, line));
        }
    }
    lines
}

fn ga(lines: &[(usize, String)]) -> f64 {
    let layout = HeaderLayout::learn(lines.iter().map(|(_, l)| l.as_bytes()));
    let mut counts = TemplateCounts::new();
    let mut out = Vec::new();
    let ids: Vec<u64> = lines
        .iter()
        .enumerate()
        .map(|(i, (_, l))| {
            let id = normalize(layout.message(l.as_bytes()), &mut out);
            counts.observe(id, &out, i as u64);
            id
        })
        .collect();
    let patterns = counts.cluster(&PatternConfig::default());
    let predicted: Vec<u64> = ids
        .iter()
        .map(|&id| patterns.id_of(id).map_or(id, |p| p.0))
        .collect();
    if std::env::var_os("UNSEEN_VERBOSE").is_some() {
        for p in patterns.as_slice() {
            eprintln!("  {:5} {}", p.count, String::from_utf8_lossy(&p.text));
        }
    }
    let mut groups: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, &p) in predicted.iter().enumerate() {
        groups.entry(p).or_default().push(i);
    }
    let mut true_size: HashMap<usize, usize> = HashMap::new();
    for (e, _) in lines {
        *true_size.entry(*e).or_default() += 1;
    }
    let mut correct = 0;
    for members in groups.values() {
        let e = lines[members[0]].0;
        if members.iter().all(|&i| lines[i].0 == e) && true_size[&e] == members.len() {
            correct += members.len();
        }
    }
    correct as f64 / lines.len() as f64
}

/// (shape, events): every `{slot}` takes values from [`pool`].
const SHAPES: &[(&str, &[&str])] = &[
    (
        "supercomputer RAS",
        &[
            "- 1117838570 2005.06.03 {node} 2005-06-03-15.42.50.675872 {node} RAS KERNEL INFO instruction cache parity error corrected",
            "- 1117838570 2005.06.03 {node} 2005-06-03-15.42.50.675872 {node} RAS KERNEL INFO generating core.{n}",
            "- 1117838570 2005.06.03 {node} 2005-06-03-15.42.50.675872 {node} RAS APP FATAL ciod: failed to read message prefix on control stream (CioStream socket to 172.16.96.116:{n}",
            "- 1117838570 2005.06.03 {node} 2005-06-03-15.42.50.675872 {node} RAS KERNEL FATAL data TLB error interrupt",
        ],
    ),
    (
        "relayed syslog",
        &[
            "- 1131566461 2005.11.09 {host} Nov 9 12:01:01 {host}/{host} crond(pam_unix)[{n}]: session closed for user {user}",
            "- 1131566461 2005.11.09 {host} Nov 9 12:01:01 {host}/{host} crond(pam_unix)[{n}]: session opened for user {user} by (uid={n})",
            "- 1131566461 2005.11.09 {host} Nov 9 12:01:01 {host}/{host} sshd[{n}]: Accepted publickey for {user} from 10.100.4.{n} port {n} ssh2",
            "- 1131566461 2005.11.09 {host} Nov 9 12:01:01 {host}/{host} kernel: e1000: eth0: e1000_watchdog: NIC Link is Up 1000 Mbps Full Duplex",
        ],
    ),
    (
        "proxy client",
        &[
            "[10.30 16:49:06] {prog} - {dest} open through proxy proxy.cse.example.edu:5070 HTTPS",
            "[10.30 16:49:07] {prog} - {dest} close, {n} bytes sent, {n} bytes received, lifetime 00:{n}",
            "[10.30 16:49:08] {prog} - {dest} error : Could not connect through proxy proxy.cse.example.edu:5070 - Proxy server cannot establish a connection with the target, status code {n}",
        ],
    ),
    (
        "macOS system.log",
        &[
            "Jul  1 09:00:55 {mac} kernel[0]: ARPT: {n}.{n}: wl0: setup_keepalive: Remote IP: 17.249.28.{n}",
            "Jul  1 09:01:05 {mac} com.apple.CDScheduler[{n}]: Thermal pressure state: {n} Memory pressure state: {n}",
            "Jul  1 09:01:06 {mac} QQ[{n}]: FA||Url||taskID[{n}] dealloc",
            "Jul  1 09:02:26 {mac} kernel[0]: AppleCamIn::systemWakeCall - messageType = 0x{n}",
        ],
    ),
    (
        "Windows servicing",
        &[
            "2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1.7601.{n} with Core: {path}",
            "2016-09-28 04:30:31, Info                  CBS    Session: 30546174_{n} initialized by client WindowsUpdateAgent.",
            "2016-09-28 04:30:31, Info                  CBS    Read out cached package applicability for package: Package_for_KB{n}~31bf3856ad364e35~amd64~~6.1.1.{n}, ApplicableState: {n}, CurrentState:{n}",
            "2016-09-28 04:30:31, Info                  CBS    Failed to internally open package. [HRESULT = 0x800f0805 - CBS_E_INVALID_PACKAGE]",
        ],
    ),
    (
        "Android logcat",
        &[
            "03-17 16:13:38.811  1702  {n} D PowerManagerService: acquire lock={n}, flags=0x1, tag=\"View Lock\", name={pkg}, ws=null, uid={n}, pid={n}",
            "03-17 16:13:38.819  1702  {n} D PowerManagerService: release:lock={n}, flg=0x0, tag=\"RILJ_ACK_WL\", name={pkg}\", ws=null, uid={n}, pid={n}",
            "03-17 16:13:38.839  2227  {n} I StatusBar: onNotificationPosted key={pkg} isUpdate=true",
            "03-17 16:13:38.896  1702  {n} V WindowManager: Skipping AppWindowToken{{{n} token=Token{{{n}}} -- going to hide",
        ],
    ),
    (
        "OpenStack service",
        &[
            "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [{req} 113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed9335e4c35a9e - - -] 10.11.10.1 \"GET {uri} HTTP/1.1\" status: 200 len: {n} time: 0.{n}",
            "nova-compute.log.1.2017-05-16_13:55:31 2017-05-16 00:00:04.500 2931 INFO nova.compute.manager [{req} - - - - -] [instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] VM Started (Lifecycle Event)",
            "nova-compute.log.1.2017-05-16_13:55:31 2017-05-16 00:00:04.562 2931 INFO nova.virt.libvirt.imagecache [{req} - - - - -] image 0673dd71-34c5-4fbb-86c4-40623fbe45b4 at (/var/lib/nova/instances/_base/a489c868f0c37da93b76227c91bb03908ac0e742): checking",
        ],
    ),
];

#[test]
fn grouping_generalizes_to_unseen_log_shapes() {
    let mut scores = Vec::new();
    for (i, (shape, events)) in SHAPES.iter().enumerate() {
        let lines = generate(events, 40, 0x9E37_79B9_7F4A_7C15 ^ i as u64);
        let g = ga(&lines);
        eprintln!("{shape}: GA {g:.3}");
        scores.push((*shape, g));
    }
    assert_grouping_scores(&scores);
}

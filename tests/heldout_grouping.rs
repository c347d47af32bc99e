//! A held-out check of the grouping: log styles that neither the loghub
//! samples in ../shared nor the rules were written from — syslog from many
//! programs, an nginx access log, a Java service, Kubernetes klog,
//! PostgreSQL, a storage node with block ids and an OpenStack-style service
//! with request ids. Every line is written here from an event with values
//! drawn into its variable slots, so the ground truth is known; the file
//! goes through `velos logs FILE --json` like any user's file and each
//! record's `pattern` is compared with its event (grouping accuracy, GA).
//! `cargo test --test heldout_grouping -- --nocapture` prints GA per style.

mod common;

use common::{Picker, assert_grouping_scores, grouping_accuracy, json_lines, logs, write};

impl Picker {
    /// A value for the slot `{name}`.
    fn value(&mut self, name: &str) -> String {
        let n = self.next(1 << 20);
        let pick = |p: &[&str]| p[n % p.len()].to_string();
        match name {
            "n" => (n % 5000).to_string(),
            "big" => (n * 7919 + 100_000).to_string(),
            "ms" => format!("{}.{:03}", n % 900, n % 1000),
            "pid" => (1000 + n % 30000).to_string(),
            "ip" => format!("10.{}.{}.{}", n % 7, n % 251, n % 253 + 1),
            "port" => (1024 + n % 60000).to_string(),
            "hex" => format!("{:012x}", n as u64 * 0x9E37_79B9),
            "uuid" => format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                n * 2_654_435_761 % (1 << 32),
                n % 65536,
                n % 4096,
                n % 4000,
                n as u64 * 0x1_0000_0001
            ),
            "user" => pick(&[
                "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
            ]),
            "host" => pick(&[
                "web-01.prod.example.com",
                "db-7.internal",
                "cache3.eu-west.example.net",
                "api.example.org",
                "mail.example.com",
            ]),
            "hostname" => pick(&["web01", "web02", "db3", "worker-17", "edge-a"]),
            "unit" => pick(&[
                "nginx.service",
                "logrotate.service",
                "apt-daily.timer",
                "docker.service",
                "ssh.service",
            ]),
            "path" => pick(&[
                "/var/lib/app/data.db",
                "/etc/nginx/nginx.conf",
                "/home/alice/.cache/x",
                "/srv/www/index.html",
                "/tmp/upload-7f3a",
            ]),
            "url" => pick(&[
                "/api/v1/orders/{n}",
                "/static/app.js",
                "/images/logo.png",
                "/api/v1/users/{n}/cart",
                "/healthz",
                "/search?q=shoes&page={n}",
            ])
            .replace("{n}", &(n % 997).to_string()),
            "status" => pick(&["200", "200", "304", "404", "500", "201"]),
            "ua" => pick(&[
                "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
                "curl/8.4.0",
                "kube-probe/1.28",
                "Go-http-client/1.1",
            ]),
            "thread" => pick(&[
                "http-nio-8080-exec-1",
                "http-nio-8080-exec-7",
                "main",
                "scheduling-1",
                "pool-2-thread-3",
            ]),
            "item" => pick(&["SKU-1042", "SKU-77", "BK-9921", "TOY-3"]),
            "cache" => pick(&["products", "sessions", "prices", "userProfiles"]),
            "ns" => pick(&["default", "kube-system", "monitoring", "shop"]),
            "pod" => pick(&[
                "api-7d9f8c6b5-x2k4p",
                "coredns-5d78c9869d-mjw8t",
                "prometheus-0",
                "web-6b7f9d5c4-9qzrl",
            ]),
            "gofile" => pick(&["controller.go", "reconciler.go", "worker.go"]),
            "db" => pick(&["shop", "analytics", "postgres", "billing"]),
            "table" => pick(&["orders", "user_sessions", "invoice_lines", "carts"]),
            "app" => pick(&["psql", "pgbouncer", "web", "[unknown]"]),
            "blk" => format!(
                "blk_{}{}",
                if n.is_multiple_of(2) { "-" } else { "" },
                n as u64 * 104_729_003
            ),
            "req" => format!(
                "req-{:08x}-{:04x}-{:04x}",
                n * 2_654_435_761 % (1 << 32),
                n % 65536,
                n % 4099
            ),
            "level" => pick(&["INFO", "INFO", "INFO", "WARN"]),
            "key" => pick(&["session:42", "user:alice", "cart:9001", "rate:api"]),
            "backend" => pick(&["be_api/api1", "be_api/api2", "be_static/web3"]),
            "caller" => pick(&["server/http.go:88", "store/pg.go:120", "queue/kafka.go:43"]),
            "word" => pick(&["orders", "payments", "refunds", "search", "audit"]),
            other => panic!("no slot {other}"),
        }
    }
}

/// Fills `fmt`'s `{slot}`s with drawn values; `{{` and `}}` are braces.
fn fill(fmt: &str, pick: &mut Picker) -> String {
    let mut line = String::new();
    let mut rest = fmt;
    while let Some(at) = rest.find(['{', '}']) {
        line.push_str(&rest[..at]);
        let brace = &rest[at..at + 1];
        if rest[at + 1..].starts_with(brace) {
            line.push_str(brace);
            rest = &rest[at + 2..];
            continue;
        }
        let close = rest[at..].find('}').map(|c| c + at).expect("closed slot");
        line.push_str(&pick.value(&rest[at + 1..close]));
        rest = &rest[close + 1..];
    }
    line.push_str(rest);
    line
}

/// A log of one style: `header` (with its own slots, the time written by
/// the caller as `{time}`) before each event's message.
struct Style {
    name: &'static str,
    /// Formats a line from its time (seconds into the day) and message.
    header: fn(u32, &mut Picker) -> String,
    events: &'static [&'static str],
}

fn hms(s: u32) -> String {
    format!("{:02}:{:02}:{:02}", s / 3600 % 24, s / 60 % 60, s % 60)
}

const STYLES: &[Style] = &[
    Style {
        name: "syslog, many programs",
        header: |t, p| {
            let host = p.value("hostname");
            format!("Nov {:>2} {} {host} ", 1 + t / 86_400, hms(t))
        },
        events: &[
            "sshd[{pid}]: Accepted publickey for {user} from {ip} port {port} ssh2: RSA SHA256:{hex}",
            "sshd[{pid}]: Disconnected from user {user} {ip} port {port}",
            "sshd[{pid}]: Invalid user {user} from {ip} port {port}",
            "systemd[1]: Started {unit}.",
            "systemd[1]: Stopping {unit}...",
            "CRON[{pid}]: ({user}) CMD (/usr/local/bin/backup --quiet)",
            "kernel: [{ms}] EXT4-fs (sda{n}): mounted filesystem with ordered data mode",
            "kernel: [{ms}] eth0: renamed from veth{hex}",
            "dhclient[{pid}]: DHCPACK of {ip} from {ip}",
            "postfix/smtpd[{pid}]: connect from {host}[{ip}]",
            "postfix/smtpd[{pid}]: disconnect from {host}[{ip}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5",
            "dockerd[{pid}]: time=\"2026-11-29T10:00:00Z\" level=info msg=\"ignoring event\" module=libcontainerd namespace=moby",
        ],
    },
    Style {
        name: "nginx access",
        header: |_, _| String::new(),
        events: &[
            "{ip} - - [29/Nov/2026:10:00:{n} +0000] \"GET {url} HTTP/1.1\" {status} {n} \"-\" \"{ua}\"",
            "{ip} - {user} [29/Nov/2026:10:00:{n} +0000] \"POST {url} HTTP/1.1\" {status} {n} \"https://shop.example.com/\" \"{ua}\"",
            "{ip} - - [29/Nov/2026:10:00:{n} +0000] \"DELETE {url} HTTP/2.0\" {status} 0 \"-\" \"{ua}\"",
        ],
    },
    Style {
        name: "Java service",
        header: |t, p| {
            let level = p.value("level");
            let thread = p.value("thread");
            format!(
                "2026-11-29 {}.{:03} {level:<5} [{thread}] ",
                hms(t),
                t % 1000
            )
        },
        events: &[
            "c.e.shop.OrderService - Order {n} placed by customer {user} for {item}",
            "c.e.shop.OrderService - Order {n} cancelled: payment declined",
            "com.zaxxer.hikari.pool.HikariPool - HikariPool-1 - Connection is not available, request timed out after {n}ms.",
            "o.s.web.servlet.DispatcherServlet - Completed initialization in {n} ms",
            "c.e.shop.CacheJanitor - Evicted {n} entries from cache {cache}",
            "c.e.shop.InventoryClient - Stock for {item} is {n} units at warehouse {hostname}",
            "org.apache.kafka.clients.NetworkClient - [Consumer clientId=consumer-{n}, groupId=orders] Node {n} disconnected.",
            "c.e.shop.UploadController - Stored upload {uuid} at {path} ({n} bytes)",
        ],
    },
    Style {
        name: "Kubernetes klog",
        header: |t, p| {
            let pid = 1 + p.next(3);
            format!("I1129 {}.{:06}       {pid} ", hms(t), t * 37 % 1_000_000)
        },
        events: &[
            "{gofile}:{n}] \"Successfully synced\" key=\"{ns}/{pod}\"",
            "kubelet.go:{n}] \"SyncLoop (PLEG): event for pod\" pod=\"{ns}/{pod}\" event=\"ContainerStarted\" container={uuid}",
            "reflector.go:{n}] Failed to watch *v1.Pod: Get \"https://{ip}:6443/api/v1/pods?watch=true\": dial tcp {ip}:6443: connect: connection refused",
            "leaderelection.go:{n}] successfully acquired lease {ns}/kube-controller-manager",
            "event.go:{n}] Event occurred object=\"{ns}/{pod}\" kind=\"Pod\" reason=\"Scheduled\"",
            "server.go:{n}] \"Started kubelet\"",
        ],
    },
    Style {
        name: "PostgreSQL",
        header: |t, p| {
            let pid = p.value("pid");
            format!("2026-11-29 {}.{:03} UTC [{pid}] ", hms(t), t % 1000)
        },
        events: &[
            "LOG:  connection received: host={ip} port={port}",
            "LOG:  connection authorized: user={user} database={db} application_name={app}",
            "ERROR:  relation \"{table}\" does not exist at character {n}",
            "LOG:  duration: {ms} ms  statement: SELECT * FROM orders WHERE id = {n}",
            "LOG:  checkpoint starting: time",
            "LOG:  checkpoint complete: wrote {n} buffers ({ms}%); 0 WAL file(s) added, 0 removed, {n} recycled",
            "FATAL:  password authentication failed for user \"{user}\"",
            "LOG:  disconnection: session time: 0:00:{ms} user={user} database={db} host={ip} port={port}",
        ],
    },
    Style {
        name: "storage node, block ids",
        header: |t, p| {
            let pid = p.value("pid");
            format!("2026-11-29T{}.{:03}Z {pid} INFO ", hms(t), t % 1000)
        },
        events: &[
            "store.BlockReceiver: Receiving {blk} src: /{ip}:{port} dest: /{ip}:50010",
            "store.BlockReceiver: Received {blk} of size {big} from /{ip}",
            "store.Replicator: Replicating {blk} to {hostname} and {hostname}",
            "store.Scanner: Verification succeeded for {blk}",
            "store.Deleter: Deleting {blk} file /data/{n}/current/finalized/{blk}",
        ],
    },
    Style {
        name: "OpenStack-style service",
        header: |t, p| {
            let pid = p.value("pid");
            format!("2026-11-29 {}.{:03} {pid} INFO ", hms(t), t % 1000)
        },
        events: &[
            "neutron.agent.dhcp.agent [{req} - - - - -] DHCP configuration for ports {uuid} is completed",
            "neutron.wsgi [{req} {hex} {hex} - default default] {ip} \"GET /v2.0/ports?device_id={uuid} HTTP/1.1\" status: 200  len: {n} time: 0.{n}",
            "nova.compute.manager [{req} {hex} {hex} - - -] [instance: {uuid}] Took {ms} seconds to build instance.",
            "nova.scheduler.host_manager [{req} - - - - -] Successfully synced instances from host '{hostname}'.",
            "keystone.token.provider [{req} - - - - -] Token {hex} issued for user {user}",
        ],
    },
];

/// Styles written after the rules above were settled, as a second check
/// (see the README's GA section for what it showed).
const FRESH_STYLES: &[Style] = &[
    Style {
        name: "MySQL error log",
        header: |t, p| {
            let n = 1 + p.next(40);
            format!("2026-11-29T{}.{:06}Z {n} ", hms(t), t * 13 % 1_000_000)
        },
        events: &[
            "[Warning] [MY-010055] [Server] IP address '{ip}' could not be resolved: Name or service not known",
            "[Note] [MY-010914] [Server] Aborted connection {n} to db: '{db}' user: '{user}' host: '{ip}' (Got an error reading communication packets).",
            "[ERROR] [MY-012592] [InnoDB] Operating system error number {n} in a file operation.",
            "[System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections. Version: '8.0.{n}'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306",
        ],
    },
    Style {
        name: "Redis",
        header: |t, p| {
            let pid = p.value("pid");
            format!("{pid}:M 29 Nov 2026 {}.{:03} * ", hms(t), t % 1000)
        },
        events: &[
            "Background saving started by pid {pid}",
            "DB saved on disk",
            "{n} changes in 300 seconds. Saving...",
            "Accepted {ip}:{port}",
            "Client id={n} addr={ip}:{port} laddr={ip}:6379 fd={n} name= closed for overcoming of output buffer limits.",
        ],
    },
    Style {
        name: "nginx error log",
        header: |t, p| {
            let pid = p.value("pid");
            format!("2026/11/29 {} [error] {pid}#0: *{} ", hms(t), t % 9000)
        },
        events: &[
            "connect() failed (111: Connection refused) while connecting to upstream, client: {ip}, server: {host}, request: \"GET {url} HTTP/1.1\", upstream: \"http://{ip}:8080{url}\"",
            "open() \"{path}\" failed (2: No such file or directory), client: {ip}, server: {host}, request: \"GET {url} HTTP/1.1\"",
            "upstream timed out (110: Connection timed out) while reading response header from upstream, client: {ip}, server: {host}",
            "client intended to send too large body: {big} bytes, client: {ip}, server: {host}",
        ],
    },
    Style {
        name: "Go zap console",
        header: |t, p| {
            let level = p.value("level");
            format!("2026-11-29T{}.{:03}Z\t{level}\t", hms(t), t % 1000)
        },
        events: &[
            "{caller}\tserved request\t{{\"path\": \"{url}\", \"status\": {status}, \"latency\": \"{ms}ms\"}}",
            "{caller}\tcache miss\t{{\"key\": \"{key}\"}}",
            "{caller}\tconsumer lag\t{{\"topic\": \"{word}\", \"partition\": {n}, \"lag\": {big}}}",
            "{caller}\tretrying publish\t{{\"topic\": \"{word}\", \"attempt\": {n}}}",
        ],
    },
    Style {
        name: "HAProxy",
        header: |t, p| {
            let pid = p.value("pid");
            format!("Nov 29 {} lb1 haproxy[{pid}]: ", hms(t))
        },
        events: &[
            "{ip}:{port} [29/Nov/2026:10:00:00.{n}] fe_https~ {backend} 0/0/{n}/{n}/{n} {status} {n} - - ---- {n}/{n}/0/0/0 0/0 \"GET {url} HTTP/1.1\"",
            "Server {backend} is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: {n}ms. {n} active and 0 backup servers left.",
            "Server {backend} is UP, reason: Layer7 check passed, code: 200, check duration: {n}ms. {n} active and 0 backup servers online.",
            "Connect from {ip}:{port} to {ip}:443 (fe_https/HTTP)",
        ],
    },
];

/// Lines of a style with their true event, `rounds` lines per event in a
/// shuffled order.
fn generate(style: &Style, rounds: usize, seed: u64) -> Vec<(usize, String)> {
    let mut pick = Picker(seed);
    let mut lines = Vec::new();
    let mut t = 36_000;
    for _ in 0..rounds * style.events.len() {
        let e = pick.next(style.events.len());
        t += pick.next(3) as u32;
        let header = (style.header)(t, &mut pick);
        lines.push((e, format!("{header}{}", fill(style.events[e], &mut pick))));
    }
    lines
}

/// GA of every style, through `velos logs FILE --json` (printed).
fn scores(styles: &[Style], tag: &str) -> Vec<(&'static str, f64)> {
    let dir = tempfile::tempdir().unwrap();
    // `HELDOUT_KEEP=DIR` keeps the generated files there, to look at.
    let dir = std::env::var_os("HELDOUT_KEEP").map_or_else(|| dir.path().to_path_buf(), Into::into);
    let home = tempfile::tempdir().unwrap();
    let mut scores = Vec::new();
    for (i, style) in styles.iter().enumerate() {
        let lines = generate(style, 60, 0x2545_F491_4F6C_DD1D ^ (i as u64 + 1));
        let text: String = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
        let path = write(&dir, &format!("{tag}{i}.log"), text);
        let out = logs(home.path(), &path, &["--json", "-n", "0"]);
        assert!(out.status.success(), "{}", style.name);
        let records = json_lines(&out.stdout);
        assert_eq!(
            records.len(),
            lines.len(),
            "{}: one record a line",
            style.name
        );
        let predicted: Vec<String> = records
            .iter()
            .map(|r| r["pattern"].as_str().unwrap_or_default().to_string())
            .collect();
        let truth: Vec<String> = lines.iter().map(|(e, _)| e.to_string()).collect();
        let ga = grouping_accuracy(&predicted, &truth);
        eprintln!("{:<26} GA {ga:.3}", style.name);
        scores.push((style.name, ga));
    }
    scores
}

#[test]
fn grouping_holds_on_log_styles_it_was_not_written_from() {
    assert_grouping_scores(&scores(STYLES, "style"));
}

#[test]
fn grouping_holds_on_styles_measured_once() {
    assert_grouping_scores(&scores(FRESH_STYLES, "fresh"));
}

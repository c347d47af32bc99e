//! Synthetic service logs: a deterministic generator of realistic plain and
//! JSON-lines logs, shared by the `genlog` example, the normalizer bench and
//! the tests that need realistic messages.
//!
//! The generator owns a catalog of message templates (a few hundred, built
//! combinatorially from HTTP routes, database tables, queues, topics, cron
//! jobs…) whose variable parts are numbers, durations, sizes, IPs, UUIDs, hex
//! ids, user and host names, paths and dates. Every byte of output is a
//! function of the seed and the arguments: a splitmix64 stream drives all
//! choices and nothing depends on hash order or the wall clock.
//!
//! Time runs from `start` over 24 hours in proportion to the output written
//! (bytes for `--size`, lines for `--lines`), with a few milliseconds of
//! jitter that never makes a timestamp decrease. One five-minute window in
//! the middle of the day, chosen from the seed, has twenty times the usual
//! error rate.

use std::io::{self, Write};

use velos::level::Level;

/// Milliseconds in the 24 hours a generated file spans.
pub const DAY_MS: i64 = 86_400_000;
/// Length of the injected error burst.
pub const BURST_MS: i64 = 5 * 60_000;
/// How much more likely an error record is inside the burst.
pub const BURST_FACTOR: f64 = 20.0;

// Share of records per level outside the burst. Timeouts are drawn from their
// own pool (warn and error templates) so their share stays controlled.
const P_FATAL: f64 = 0.0003;
const P_ERROR: f64 = 0.012;
const P_TIMEOUT: f64 = 0.011;
const P_WARN: f64 = 0.042;
const P_DEBUG: f64 = 0.29;
/// Share of error records that carry a stack trace.
const P_TRACED: f64 = 0.15;

/// A small, fast, statistically decent PRNG (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5851_F42D_4C95_7F2D)
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    #[inline]
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `2026-01-10T00:00:00.123Z INFO  [service] message`, stack traces on
    /// the following lines.
    Plain,
    /// `{"ts":…,"lvl":"info","pid":…,"msg":"…","src":"stdout"}` per line.
    Json,
}

/// When to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Write at most this many bytes (stops before the record that would
    /// overflow).
    Bytes(u64),
    /// Write exactly this many lines (a stack trace counts its lines).
    Lines(u64),
}

/// Everything the output depends on.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    pub seed: u64,
    pub format: Format,
    /// Unix milliseconds of the first record.
    pub start_ms: i64,
    pub limit: Limit,
    /// Milliseconds the file spans (24 h by default).
    pub span_ms: i64,
}

/// Counts of what was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub bytes: u64,
    pub lines: u64,
    pub records: u64,
}

/// A variable part of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    /// 0..=99
    Small,
    /// 1..=99999
    Int,
    /// 1..=5000
    Count,
    /// 10^9..10^12 (offsets, timestamps in ids)
    Big,
    /// `23ms`
    Ms,
    /// `412us`
    Us,
    /// `1.5s`
    Secs,
    /// `10KB`, `3.2MB`, `512B`
    Bytes,
    /// `5%`, `87.5%`
    Pct,
    /// `12.34`
    Money,
    /// four digits of a card
    Card4,
    Ip4,
    Ip4Port,
    Ip6,
    Ip6Port,
    Port,
    Uuid,
    /// `0x1f3a`
    Hex,
    /// 8 lowercase hex digits
    Hex8,
    /// 16 lowercase hex digits
    Rid16,
    /// 32 lowercase hex digits
    Rid32,
    User,
    Host,
    Path,
    /// `2026-01-12T08:00:00Z`
    Date,
    /// `2026-01-12`
    Day,
    /// `v1.24.3`
    Ver,
    /// 200, 201, 204, 301, 304
    Status2,
    /// 400, 401, 403, 404, 409, 422, 429
    Status4,
    /// 500, 502, 503, 504
    Status5,
    /// A Java stack trace on the following lines.
    JavaTrace,
    /// A Python traceback on the following lines.
    PyTrace,
}

impl Var {
    fn from_name(name: &str) -> Option<Var> {
        Some(match name {
            "n" => Var::Small,
            "int" => Var::Int,
            "count" => Var::Count,
            "big" => Var::Big,
            "ms" => Var::Ms,
            "us" => Var::Us,
            "s" => Var::Secs,
            "bytes" => Var::Bytes,
            "pct" => Var::Pct,
            "money" => Var::Money,
            "card" => Var::Card4,
            "ip4" => Var::Ip4,
            "ip4port" => Var::Ip4Port,
            "ip6" => Var::Ip6,
            "ip6port" => Var::Ip6Port,
            "port" => Var::Port,
            "uuid" => Var::Uuid,
            "hex" => Var::Hex,
            "hex8" => Var::Hex8,
            "rid16" => Var::Rid16,
            "rid32" => Var::Rid32,
            "user" => Var::User,
            "host" => Var::Host,
            "path" => Var::Path,
            "date" => Var::Date,
            "day" => Var::Day,
            "ver" => Var::Ver,
            "st2" => Var::Status2,
            "st4" => Var::Status4,
            "st5" => Var::Status5,
            "java" => Var::JavaTrace,
            "python" => Var::PyTrace,
            _ => return None,
        })
    }

    fn is_trace(self) -> bool {
        matches!(self, Var::JavaTrace | Var::PyTrace)
    }
}

#[derive(Debug, Clone)]
enum Seg {
    Lit(Box<[u8]>),
    Var(Var),
}

/// One message template of the catalog.
#[derive(Debug, Clone)]
pub struct Template {
    pub level: Level,
    /// Index into [`SERVICES`].
    pub service: usize,
    /// Whether this template mentions a timeout (drawn from its own pool).
    pub timeout: bool,
    segs: Vec<Seg>,
}

impl Template {
    /// The template with every variable part written as `<*>` and traces
    /// left out: two templates with the same shape are the same event.
    pub fn shape(&self) -> String {
        let mut s = String::new();
        for seg in &self.segs {
            match seg {
                Seg::Lit(b) => s.push_str(&String::from_utf8_lossy(b)),
                Seg::Var(v) if v.is_trace() => {}
                Seg::Var(_) => s.push_str("<*>"),
            }
        }
        s
    }
}

/// Service names written in the header, with the pid each runs as.
pub const SERVICES: [&str; 10] = [
    "api-gateway",
    "auth-service",
    "orders",
    "payments",
    "inventory",
    "scheduler",
    "worker",
    "search",
    "notifier",
    "stream-consumer",
];

const GATEWAY: usize = 0;
const AUTH: usize = 1;
const ORDERS: usize = 2;
const PAYMENTS: usize = 3;
const INVENTORY: usize = 4;
const SCHEDULER: usize = 5;
const WORKER: usize = 6;
const SEARCH: usize = 7;
const NOTIFIER: usize = 8;
const STREAM: usize = 9;

const USERS: &[&str] = &[
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "oscar",
    "peggy",
    "trent",
    "victor",
    "walter",
    "j.smith",
    "m.garcia",
    "l.nguyen",
    "k.tanaka",
    "admin",
    "svc-backup",
    "svc-reports",
    "ops",
    "r.okafor",
    "s.müller",
];

const HOST_PREFIXES: &[&str] = &[
    "db", "cache", "api", "worker", "kafka", "search", "node", "lb",
];
const HOST_SUFFIXES: &[&str] = &[
    ".prod.internal",
    ".eu-west-1.compute.internal",
    ".svc.cluster.local",
    "",
];

/// Builds the catalog. The order is fixed; template weights are assigned
/// from the seed.
fn catalog() -> Vec<Template> {
    use Level::{Debug, Error, Fatal, Info, Warn};
    let mut out: Vec<Template> = Vec::new();
    let mut add = |level: Level, service: usize, text: &str| {
        out.push(parse_template(level, service, text));
    };

    // HTTP: routes × outcomes.
    let routes: &[(&str, &str, usize)] = &[
        ("GET", "/api/v1/users/{int}", AUTH),
        ("PUT", "/api/v1/users/{int}", AUTH),
        ("DELETE", "/api/v1/users/{int}", AUTH),
        ("GET", "/api/v1/users/{int}/orders", ORDERS),
        ("POST", "/api/v1/orders", ORDERS),
        ("GET", "/api/v1/orders/{uuid}", ORDERS),
        ("POST", "/api/v1/orders/{uuid}/cancel", ORDERS),
        ("GET", "/api/v1/products", INVENTORY),
        ("GET", "/api/v1/products/{int}", INVENTORY),
        ("GET", "/api/v1/search", SEARCH),
        ("POST", "/api/v1/auth/login", AUTH),
        ("POST", "/api/v1/auth/refresh", AUTH),
        ("POST", "/api/v1/auth/logout", AUTH),
        ("GET", "/api/v1/cart", ORDERS),
        ("POST", "/api/v1/cart/items", ORDERS),
        ("DELETE", "/api/v1/cart/items/{int}", ORDERS),
        ("POST", "/api/v1/payments", PAYMENTS),
        ("GET", "/api/v1/payments/{uuid}", PAYMENTS),
        ("POST", "/api/v1/webhooks/stripe", PAYMENTS),
        ("GET", "/static/js/app.{hex8}.js", GATEWAY),
        ("GET", "/api/v2/inventory/{int}", INVENTORY),
        ("PATCH", "/api/v2/inventory/{int}", INVENTORY),
        ("GET", "/api/v2/reports/{day}", WORKER),
        ("POST", "/api/v2/uploads", WORKER),
        ("GET", "/api/v2/uploads/{uuid}", WORKER),
        ("GET", "/api/v1/notifications", NOTIFIER),
        ("POST", "/api/v1/notifications/{int}/read", NOTIFIER),
    ];
    for &(method, route, upstream) in routes {
        add(
            Info,
            GATEWAY,
            &format!("{method} {route} {{st2}} {{ms}} {{bytes}} client={{ip4port}} req={{rid16}}"),
        );
        add(
            Debug,
            GATEWAY,
            &format!(
                "routing {method} {route} to {} at {{ip4port}}",
                SERVICES[upstream]
            ),
        );
        add(
            Warn,
            GATEWAY,
            &format!("{method} {route} {{st4}} {{ms}} client={{ip4}} req={{rid16}}"),
        );
        add(
            Warn,
            upstream,
            &format!("slow request: {method} {route} took {{s}} (threshold 1s)"),
        );
        add(
            Error,
            GATEWAY,
            &format!("{method} {route} {{st5}} upstream error after {{ms}} req={{rid16}}"),
        );
    }
    for (path, what) in [
        ("/healthz", "liveness"),
        ("/readyz", "readiness"),
        ("/metrics", "metrics"),
    ] {
        add(
            Debug,
            GATEWAY,
            &format!("GET {path} 200 {{us}} ({what} probe from {{ip4port}})"),
        );
    }

    // Database: tables × statements.
    let tables: &[(&str, usize)] = &[
        ("users", AUTH),
        ("sessions", AUTH),
        ("orders", ORDERS),
        ("order_items", ORDERS),
        ("products", INVENTORY),
        ("stock_levels", INVENTORY),
        ("payments", PAYMENTS),
        ("audit_log", WORKER),
    ];
    for &(t, svc) in tables {
        add(
            Debug,
            svc,
            &format!("query ok: SELECT * FROM {t} WHERE id = $1 ({{ms}}, {{count}} rows)"),
        );
        add(
            Debug,
            svc,
            &format!("query ok: INSERT INTO {t} ({{n}} columns) returning id {{int}} in {{ms}}"),
        );
        add(
            Debug,
            svc,
            &format!("query ok: UPDATE {t} SET updated_at = now() WHERE id = {{int}} ({{ms}})"),
        );
        add(
            Debug,
            svc,
            &format!("query ok: DELETE FROM {t} WHERE created_at < '{{day}}' ({{count}} rows)"),
        );
        add(
            Warn,
            svc,
            &format!("slow query on {t}: {{s}} for SELECT with {{n}} joins, plan cost {{int}}"),
        );
        add(
            Error,
            svc,
            &format!("query on {t} failed: connection reset by peer ({{ip4port}})"),
        );
        add(
            Info,
            WORKER,
            &format!("vacuum of table {t} finished: {{count}} dead tuples removed in {{s}}"),
        );
    }
    for svc in [AUTH, ORDERS, PAYMENTS, INVENTORY] {
        add(
            Debug,
            svc,
            "db pool stats: {n} active, {n} idle, {n} waiting, max 50",
        );
    }
    add(Debug, ORDERS, "acquired connection {hex} from pool in {us}");
    add(
        Warn,
        ORDERS,
        "deadlock detected, retrying transaction {rid16} (attempt {n})",
    );
    add(
        Info,
        INVENTORY,
        "migration {int}_add_index applied in {ms} (schema {ver})",
    );

    // Cache: key kinds × operations.
    for key in ["user", "session", "product", "cart", "ratelimit", "feature"] {
        add(
            Debug,
            GATEWAY,
            &format!("cache hit for {key}:{{int}} in {{us}}"),
        );
        add(
            Debug,
            GATEWAY,
            &format!("cache miss for {key}:{{int}}, loading from origin"),
        );
        add(
            Debug,
            GATEWAY,
            &format!("cache set {key}:{{int}} ttl={{n}}s size={{bytes}}"),
        );
        add(
            Info,
            GATEWAY,
            &format!("evicted {{count}} {key} entries from cache (memory {{pct}})"),
        );
    }

    // Authentication.
    add(
        Info,
        AUTH,
        "user {user} logged in from {ip4} (session {uuid})",
    );
    add(
        Info,
        AUTH,
        "user {user} logged in from {ip6} (session {uuid})",
    );
    add(Info, AUTH, "user {user} logged out after {s} idle");
    add(
        Info,
        AUTH,
        "token refreshed for user {user}, expires in {count}s",
    );
    add(
        Info,
        AUTH,
        "password reset requested for {user}@example.com from {ip4}",
    );
    add(Info, AUTH, "MFA challenge sent to {user} via sms");
    add(Info, AUTH, "MFA challenge passed for {user}");
    add(Debug, AUTH, "validating JWT kid={hex8} for {user}");
    add(Debug, AUTH, "loaded {count} roles for user {user} in {ms}");
    add(
        Warn,
        AUTH,
        "login failed for user {user} from {ip4}: invalid password",
    );
    add(
        Warn,
        AUTH,
        "login failed for unknown user {user} from {ip6port}",
    );
    add(
        Warn,
        AUTH,
        "account {user} locked after {n} failed attempts",
    );
    add(Warn, AUTH, "JWT validation failed: token expired at {date}");
    add(
        Warn,
        AUTH,
        "permission denied: user {user} lacks role admin for DELETE /api/v1/users/{int}",
    );
    add(Info, AUTH, "api key {rid16} revoked by {user}");
    add(
        Error,
        AUTH,
        "failed to verify signature of token {rid32}: key {hex8} not found",
    );

    // Queues and jobs.
    for q in [
        "emails",
        "thumbnails",
        "reports",
        "webhooks",
        "exports",
        "indexing",
    ] {
        add(
            Debug,
            WORKER,
            &format!("job {{uuid}} enqueued on {q} (depth {{count}})"),
        );
        add(
            Info,
            WORKER,
            &format!("job {{uuid}} from {q} started on worker-{{n}}"),
        );
        add(
            Info,
            WORKER,
            &format!("job {{uuid}} from {q} completed in {{s}}"),
        );
        add(
            Warn,
            WORKER,
            &format!("retrying job {{uuid}} from {q} in {{s}} (attempt {{n}}/5)"),
        );
        add(
            Error,
            WORKER,
            &format!("job {{uuid}} from {q} failed after 5 attempts, moved to {q}.dead"),
        );
    }
    add(Error, WORKER, "task {uuid} raised an exception{python}");
    add(
        Error,
        WORKER,
        "unhandled error in report builder for {user}{python}",
    );

    // Payments: currencies × outcomes.
    for cur in ["EUR", "USD", "GBP"] {
        add(
            Info,
            PAYMENTS,
            &format!("payment {{uuid}} authorized: amount={{money}} {cur} card=****{{card}}"),
        );
        add(
            Info,
            PAYMENTS,
            &format!("payment {{uuid}} captured: {{money}} {cur}"),
        );
        add(
            Info,
            PAYMENTS,
            &format!("refund {{uuid}} issued for order {{int}}: {{money}} {cur}"),
        );
        add(
            Warn,
            PAYMENTS,
            &format!("payment {{uuid}} declined: insufficient funds ({{money}} {cur})"),
        );
    }
    add(
        Error,
        PAYMENTS,
        "webhook signature verification failed for event evt_{rid16}",
    );
    add(
        Error,
        PAYMENTS,
        "unhandled exception while charging order {int}{java}",
    );

    // Scheduler.
    for job in [
        "cleanup-sessions",
        "rotate-logs",
        "sync-inventory",
        "send-digest",
        "compute-metrics",
        "backup-db",
    ] {
        add(
            Info,
            SCHEDULER,
            &format!("cron {job} triggered, next run at {{date}}"),
        );
        add(Info, SCHEDULER, &format!("cron {job} finished in {{s}}"));
        add(
            Warn,
            SCHEDULER,
            &format!("cron {job} skipped: previous run still active since {{date}}"),
        );
    }

    // gRPC.
    for m in [
        "user.v1.UserService/GetUser",
        "order.v1.OrderService/CreateOrder",
        "inventory.v1.InventoryService/Reserve",
        "payment.v1.PaymentService/Charge",
        "search.v1.SearchService/Query",
    ] {
        add(
            Debug,
            GATEWAY,
            &format!("grpc call /{m} ok in {{ms}} peer={{ip6port}}"),
        );
        add(
            Error,
            GATEWAY,
            &format!(
                "grpc call /{m} failed: code=Unavailable desc=connection refused peer={{ip4port}}"
            ),
        );
        add(
            Warn,
            GATEWAY,
            &format!("grpc call /{m} deadline exceeded after {{ms}}"),
        );
    }

    // Kafka.
    for topic in [
        "orders.events",
        "payments.events",
        "user.signups",
        "inventory.updates",
        "audit",
    ] {
        add(
            Debug,
            STREAM,
            &format!("fetched {{count}} records from {topic}-{{n}} at offset {{big}}"),
        );
        add(
            Debug,
            STREAM,
            &format!("committed offset {{big}} for {topic}-{{n}}"),
        );
        add(
            Info,
            STREAM,
            &format!("rebalance: assigned partitions [{{n}}, {{n}}] of {topic}"),
        );
        add(
            Warn,
            STREAM,
            &format!("consumer lag on {topic}-{{n}} is {{count}} messages"),
        );
    }

    // TLS.
    for (version, cipher) in [
        ("TLSv1.3", "TLS_AES_128_GCM_SHA256"),
        ("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256"),
        ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384"),
    ] {
        add(
            Debug,
            GATEWAY,
            &format!("TLS handshake completed with {{ip4port}} ({version}, {cipher})"),
        );
    }
    add(
        Warn,
        GATEWAY,
        "TLS handshake failed with {ip4port}: certificate verify failed",
    );
    add(
        Warn,
        GATEWAY,
        "certificate for {host} expires at {date} ({n} days left)",
    );
    add(
        Info,
        GATEWAY,
        "reloaded TLS certificate from /etc/velos/tls/{host}.pem",
    );

    // Runtime: GC and memory.
    for svc in [ORDERS, PAYMENTS, SEARCH] {
        add(
            Debug,
            svc,
            "GC pause (G1 Evacuation Pause) (young) {ms}, heap {int}M->{int}M({int}M)",
        );
    }
    add(
        Debug,
        SEARCH,
        "GC (Allocation Failure) {int}K->{int}K({int}K), {s}",
    );
    add(Warn, SEARCH, "full GC took {s}, freed {bytes}");
    add(Warn, ORDERS, "heap usage at {pct} of {bytes}");

    // Disks.
    for mount in ["/", "/var/lib/postgresql", "/data", "/var/log"] {
        add(
            Info,
            WORKER,
            &format!("disk usage on {mount} at {{pct}} ({{bytes}} free)"),
        );
        add(
            Warn,
            WORKER,
            &format!("disk usage on {mount} above 85%: {{pct}}"),
        );
    }
    add(Info, WORKER, "wrote snapshot to {path} ({bytes}) in {ms}");
    add(
        Error,
        WORKER,
        "I/O error on /dev/nvme0n1p{n}: sector {big} unreadable",
    );
    add(Debug, WORKER, "fsync of {path} took {us}");

    // Configuration.
    for key in [
        "max_connections",
        "pool_size",
        "rate_limit",
        "worker_threads",
        "batch_size",
    ] {
        add(
            Info,
            GATEWAY,
            &format!("config key {key} changed from {{int}} to {{int}}"),
        );
        add(
            Warn,
            GATEWAY,
            &format!("invalid value for {key}: expected integer, keeping {{int}}"),
        );
    }
    for svc in [GATEWAY, ORDERS, SCHEDULER] {
        add(
            Info,
            svc,
            "config reloaded from /etc/velos/app.toml ({n} keys changed)",
        );
    }
    add(
        Info,
        GATEWAY,
        "loaded feature flag new-checkout = true for {pct} of users",
    );

    // Health and upstreams.
    add(
        Debug,
        GATEWAY,
        "health check ok: {n}/{n} upstreams healthy, p99 {ms}",
    );
    add(
        Warn,
        GATEWAY,
        "upstream {host} marked unhealthy after {n} failures",
    );
    add(Info, GATEWAY, "upstream {host} back to healthy");

    // Retries.
    for op in ["fetch-profile", "charge-card", "send-email", "sync-stock"] {
        add(
            Warn,
            WORKER,
            &format!("retry {{n}}/5 for {op} after {{ms}} backoff"),
        );
        add(
            Info,
            WORKER,
            &format!("{op} retry succeeded after error on attempt {{n}}"),
        );
    }

    // Notifications and search.
    for channel in ["email", "sms", "push"] {
        add(
            Info,
            NOTIFIER,
            &format!("sent {channel} notification {{uuid}} to {{user}}"),
        );
        add(
            Warn,
            NOTIFIER,
            &format!("{channel} provider returned {{st4}} for notification {{uuid}}"),
        );
    }
    add(
        Debug,
        SEARCH,
        "search query took {ms}: {count} hits, {n} shards",
    );
    add(
        Info,
        SEARCH,
        "index segment {rid16} merged ({bytes}, {count} docs)",
    );

    // Info records with error-ish words in them.
    add(
        Info,
        WORKER,
        "batch {int} processed: {count} records, 0 errors",
    );
    add(Info, GATEWAY, "error budget remaining this month: {pct}");
    add(
        Info,
        SCHEDULER,
        "failover drill completed, no failures detected",
    );
    add(
        Info,
        WORKER,
        "cleared {count} stale error reports older than {day}",
    );
    add(
        Info,
        GATEWAY,
        "exception handler registered for /api/v1 (version {ver})",
    );
    add(
        Info,
        GATEWAY,
        "deprecated header X-Api-Version seen from {ip4}",
    );

    // Lifecycle.
    for svc in [GATEWAY, AUTH, ORDERS, PAYMENTS, WORKER] {
        add(
            Info,
            svc,
            "listening on {ip4port} (version {ver}, pid {int})",
        );
    }
    add(Debug, WORKER, "worker-{n} idle, polling again in {ms}");
    add(
        Error,
        ORDERS,
        "request {rid32} aborted: upstream closed connection{java}",
    );

    // Timeouts: a pool of their own.
    add(
        Warn,
        GATEWAY,
        "upstream timeout after {ms} for {host}, retrying",
    );
    add(Warn, ORDERS, "read timeout on {ip4port} after {s}");
    add(
        Warn,
        GATEWAY,
        "health check for {host} failed: connection timeout after {ms}",
    );
    add(
        Warn,
        STREAM,
        "producer send to orders.events failed: request timeout, retrying",
    );
    add(
        Error,
        ORDERS,
        "connection timeout to postgres at {ip4port} after {ms}",
    );
    add(
        Error,
        PAYMENTS,
        "payment provider timeout after {ms} for order {int}",
    );
    add(Error, GATEWAY, "gateway timeout for {uuid} after {s}{java}");

    // Fatal.
    add(
        Fatal,
        ORDERS,
        "out of memory: failed to allocate {bytes}, aborting",
    );
    add(
        Fatal,
        WORKER,
        "panic: index out of range [{n}] with length {n}",
    );
    add(
        Fatal,
        PAYMENTS,
        "database unreachable after {n} retries, shutting down",
    );
    add(
        Fatal,
        INVENTORY,
        "unrecoverable: corrupted WAL segment {rid16}",
    );
    add(
        Fatal,
        GATEWAY,
        "failed to bind {ip4port}: address already in use",
    );

    let mut catalog = out;
    for t in &mut catalog {
        t.timeout = t.shape().contains("timeout");
    }
    catalog
}

fn parse_template(level: Level, service: usize, text: &str) -> Template {
    let mut segs = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            segs.push(Seg::Lit(rest.as_bytes()[..open].into()));
        }
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .unwrap_or_else(|| panic!("unclosed placeholder in template {text:?}"));
        let name = &rest[open + 1..close];
        let var = Var::from_name(name)
            .unwrap_or_else(|| panic!("unknown placeholder {name:?} in {text:?}"));
        segs.push(Seg::Var(var));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        segs.push(Seg::Lit(rest.as_bytes().into()));
    }
    Template {
        level,
        service,
        timeout: false,
        segs,
    }
}

/// Weighted choice over a set of templates (cumulative weights, binary
/// search).
#[derive(Debug, Clone)]
struct Pool {
    ids: Vec<usize>,
    cumulative: Vec<u64>,
}

impl Pool {
    /// Zipf-like weights (rank r gets 1 / (r + 2)^0.9) over the given
    /// templates in a seed-shuffled order.
    fn new(mut ids: Vec<usize>, rng: &mut Rng) -> Pool {
        for i in (1..ids.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            ids.swap(i, j);
        }
        let weights: Vec<f64> = (0..ids.len())
            .map(|r| 1.0 / ((r + 2) as f64).powf(0.9))
            .collect();
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let cumulative = weights
            .iter()
            .map(|w| {
                acc += w;
                ((acc / total) * u64::MAX as f64) as u64
            })
            .collect();
        Pool { ids, cumulative }
    }

    #[inline]
    fn choose(&self, rng: &mut Rng) -> usize {
        let x = rng.next_u64();
        let i = self.cumulative.partition_point(|&c| c < x);
        self.ids[i.min(self.ids.len() - 1)]
    }
}

/// The generator: catalog, weighted pools, PRNG and reusable buffers.
pub struct Generator {
    cfg: Config,
    rng: Rng,
    catalog: Vec<Template>,
    /// Pools by level (index = `Level as usize`), timeouts excluded.
    pools: Vec<Pool>,
    timeouts: Pool,
    /// Error templates that carry a stack trace.
    traced: Pool,
    pids: [u32; SERVICES.len()],
    burst_start_ms: i64,
    prev_ts: i64,
    msg: Vec<u8>,
    trace: Vec<u8>,
    trace_lines: u64,
    rec: Vec<u8>,
}

impl Generator {
    pub fn new(cfg: Config) -> Generator {
        let mut rng = Rng::new(cfg.seed);
        let catalog = catalog();
        let pools = Level::ALL
            .iter()
            .map(|&level| {
                let ids = (0..catalog.len())
                    .filter(|&i| catalog[i].level == level && !catalog[i].timeout)
                    .collect();
                Pool::new(ids, &mut rng)
            })
            .collect();
        let timeouts = Pool::new(
            (0..catalog.len()).filter(|&i| catalog[i].timeout).collect(),
            &mut rng,
        );
        let traced = Pool::new(
            (0..catalog.len())
                .filter(|&i| {
                    catalog[i]
                        .segs
                        .iter()
                        .any(|s| matches!(s, Seg::Var(v) if v.is_trace()))
                })
                .collect(),
            &mut rng,
        );
        let mut pids = [0u32; SERVICES.len()];
        for pid in &mut pids {
            *pid = rng.range(1_000, 65_000) as u32;
        }
        // Somewhere between 9/24 and 15/24 of the span (9:00 to 15:00 of a day).
        let burst_start_ms = cfg.start_ms
            + cfg.span_ms * 9 / 24
            + rng.below((cfg.span_ms * 6 / 24).max(1) as u64) as i64;
        Generator {
            cfg,
            rng,
            catalog,
            pools,
            timeouts,
            traced,
            pids,
            burst_start_ms,
            prev_ts: cfg.start_ms,
            msg: Vec::with_capacity(256),
            trace: Vec::with_capacity(2048),
            trace_lines: 0,
            rec: Vec::with_capacity(4096),
        }
    }

    /// The catalog of templates the generator draws from.
    pub fn catalog(&self) -> &[Template] {
        &self.catalog
    }

    /// Start and end (exclusive) of the error burst, unix milliseconds.
    pub fn burst_window(&self) -> (i64, i64) {
        (self.burst_start_ms, self.burst_start_ms + BURST_MS)
    }

    /// Draws the next record at time `ts`: its level and template, with the
    /// message in `self.msg` and any stack trace in `self.trace`.
    fn draw(&mut self, ts: i64) -> usize {
        let in_burst = ts >= self.burst_start_ms && ts < self.burst_start_ms + BURST_MS;
        let p_error = if in_burst {
            P_ERROR * BURST_FACTOR
        } else {
            P_ERROR
        };
        let u = self.rng.unit();
        let id = if u < P_FATAL {
            self.pools[Level::Fatal as usize].choose(&mut self.rng)
        } else if u < P_FATAL + p_error * P_TRACED {
            self.traced.choose(&mut self.rng)
        } else if u < P_FATAL + p_error {
            self.pools[Level::Error as usize].choose(&mut self.rng)
        } else if u < P_FATAL + p_error + P_TIMEOUT {
            self.timeouts.choose(&mut self.rng)
        } else if u < P_FATAL + p_error + P_TIMEOUT + P_WARN {
            self.pools[Level::Warn as usize].choose(&mut self.rng)
        } else if u < P_FATAL + p_error + P_TIMEOUT + P_WARN + P_DEBUG {
            self.pools[Level::Debug as usize].choose(&mut self.rng)
        } else {
            self.pools[Level::Info as usize].choose(&mut self.rng)
        };
        self.msg.clear();
        self.trace.clear();
        self.trace_lines = 0;
        for seg in &self.catalog[id].segs {
            match seg {
                Seg::Lit(b) => self.msg.extend_from_slice(b),
                Seg::Var(Var::JavaTrace) => {
                    self.trace_lines = java_trace(&mut self.rng, &mut self.trace)
                }
                Seg::Var(Var::PyTrace) => {
                    self.trace_lines = python_trace(&mut self.rng, &mut self.trace)
                }
                Seg::Var(v) => render_var(*v, &mut self.rng, ts, &mut self.msg),
            }
        }
        id
    }

    /// Renders one message (no header, no trace) at time `ts`; used by
    /// benches and tests that need realistic messages.
    pub fn next_message(&mut self, ts: i64) -> (&Template, &[u8]) {
        let id = self.draw(ts);
        (&self.catalog[id], &self.msg)
    }

    /// Writes records to `w` until the limit is reached.
    pub fn write_to<W: Write>(&mut self, w: &mut W) -> io::Result<Stats> {
        let mut stats = Stats::default();
        loop {
            let progress = match self.cfg.limit {
                Limit::Bytes(max) => stats.bytes as f64 / max.max(1) as f64,
                Limit::Lines(max) => stats.lines as f64 / max.max(1) as f64,
            };
            if progress >= 1.0 {
                break;
            }
            let base = self.cfg.start_ms + (progress * self.cfg.span_ms as f64) as i64;
            let ts = (base + self.rng.below(40) as i64).max(self.prev_ts);
            self.prev_ts = ts;
            let id = self.draw(ts);
            // A JSON record is one line whatever its trace.
            let plain = self.cfg.format == Format::Plain;
            let mut lines = 1 + if plain { self.trace_lines } else { 0 };
            let remaining_lines = match self.cfg.limit {
                Limit::Lines(max) => max - stats.lines,
                Limit::Bytes(_) => u64::MAX,
            };
            if lines > remaining_lines {
                self.trace.clear();
                self.trace_lines = 0;
                lines = 1;
            }
            self.format_record(id, ts);
            if let Limit::Bytes(max) = self.cfg.limit {
                let left = max - stats.bytes;
                if self.rec.len() as u64 > left && self.trace_lines > 0 {
                    self.trace.clear();
                    self.trace_lines = 0;
                    lines = 1;
                    self.format_record(id, ts);
                }
                if self.rec.len() as u64 > left {
                    break;
                }
            }
            w.write_all(&self.rec)?;
            stats.bytes += self.rec.len() as u64;
            stats.lines += lines;
            stats.records += 1;
        }
        Ok(stats)
    }

    fn format_record(&mut self, id: usize, ts: i64) {
        let t = &self.catalog[id];
        let rec = &mut self.rec;
        rec.clear();
        match self.cfg.format {
            Format::Plain => {
                write_iso_ms(rec, ts);
                rec.push(b' ');
                rec.extend_from_slice(t.level.label().as_bytes());
                rec.extend_from_slice(b" [");
                rec.extend_from_slice(SERVICES[t.service].as_bytes());
                rec.extend_from_slice(b"] ");
                rec.extend_from_slice(&self.msg);
                rec.push(b'\n');
                rec.extend_from_slice(&self.trace);
            }
            Format::Json => {
                rec.extend_from_slice(b"{\"ts\":");
                write_u64(rec, ts.max(0) as u64);
                rec.extend_from_slice(b",\"lvl\":\"");
                rec.extend_from_slice(t.level.as_str().as_bytes());
                rec.extend_from_slice(b"\",\"pid\":");
                write_u64(rec, self.pids[t.service] as u64);
                rec.extend_from_slice(b",\"msg\":\"");
                json_escape(rec, &self.msg);
                if !self.trace.is_empty() {
                    rec.extend_from_slice(b"\\n");
                    let trace = self.trace.strip_suffix(b"\n").unwrap_or(&self.trace);
                    json_escape(rec, trace);
                }
                rec.extend_from_slice(b"\",\"src\":\"");
                rec.extend_from_slice(if t.level >= Level::Error {
                    b"stderr"
                } else {
                    b"stdout"
                });
                rec.extend_from_slice(b"\"}\n");
            }
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[inline]
fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[inline]
fn write_padded(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut n = n;
    while n > 0 {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let start = (buf.len() - width).min(i);
    out.extend_from_slice(&buf[start..]);
}

#[inline]
fn write_hex(out: &mut Vec<u8>, n: u64, digits: usize) {
    for k in (0..digits).rev() {
        out.push(HEX[((n >> (4 * k)) & 0xf) as usize]);
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u64, u64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn write_day(out: &mut Vec<u8>, ms: i64) {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    write_padded(out, y.max(0) as u64, 4);
    out.push(b'-');
    write_padded(out, m, 2);
    out.push(b'-');
    write_padded(out, d, 2);
}

fn write_hms(out: &mut Vec<u8>, ms: i64) {
    let in_day = ms.rem_euclid(DAY_MS) as u64;
    write_padded(out, in_day / 3_600_000, 2);
    out.push(b':');
    write_padded(out, in_day / 60_000 % 60, 2);
    out.push(b':');
    write_padded(out, in_day / 1000 % 60, 2);
}

/// `2026-01-10T00:00:00.123Z`
pub fn write_iso_ms(out: &mut Vec<u8>, ms: i64) {
    write_day(out, ms);
    out.push(b'T');
    write_hms(out, ms);
    out.push(b'.');
    write_padded(out, ms.rem_euclid(1000) as u64, 3);
    out.push(b'Z');
}

fn json_escape(out: &mut Vec<u8>, s: &[u8]) {
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\t' => b"\\t",
            b'\r' => b"\\r",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&s[start..i]);
        if esc.is_empty() {
            out.extend_from_slice(b"\\u00");
            write_hex(out, b as u64, 2);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&s[start..]);
}

fn render_var(v: Var, rng: &mut Rng, now_ms: i64, out: &mut Vec<u8>) {
    match v {
        Var::Small => write_u64(out, rng.below(100)),
        Var::Int => write_u64(out, rng.range(1, 99_999)),
        Var::Count => write_u64(out, rng.range(1, 5_000)),
        Var::Big => write_u64(out, rng.range(1_000_000_000, 999_999_999_999)),
        Var::Ms => {
            // Mostly fast, with a long tail.
            let ms = match rng.below(10) {
                0..=6 => rng.range(1, 80),
                7 | 8 => rng.range(80, 900),
                _ => rng.range(900, 30_000),
            };
            write_u64(out, ms);
            out.extend_from_slice(b"ms");
        }
        Var::Us => {
            write_u64(out, rng.range(15, 999));
            out.extend_from_slice(b"us");
        }
        Var::Secs => {
            let tenths = rng.range(1, 600);
            write_u64(out, tenths / 10);
            out.push(b'.');
            write_u64(out, tenths % 10);
            out.push(b's');
        }
        Var::Bytes => match rng.below(4) {
            0 => {
                write_u64(out, rng.range(1, 1023));
                out.push(b'B');
            }
            1 => {
                write_u64(out, rng.range(1, 1023));
                out.extend_from_slice(b"KB");
            }
            2 => {
                write_u64(out, rng.range(1, 999));
                out.push(b'.');
                write_u64(out, rng.below(10));
                out.extend_from_slice(b"MB");
            }
            _ => {
                write_u64(out, rng.range(1, 64));
                out.extend_from_slice(b"GiB");
            }
        },
        Var::Pct => {
            write_u64(out, rng.below(100));
            if rng.below(2) == 0 {
                out.push(b'.');
                write_u64(out, rng.below(10));
            }
            out.push(b'%');
        }
        Var::Money => {
            write_u64(out, rng.range(1, 2_000));
            out.push(b'.');
            write_padded(out, rng.below(100), 2);
        }
        Var::Card4 => write_padded(out, rng.below(10_000), 4),
        Var::Ip4 | Var::Ip4Port => {
            let n = rng.next_u64();
            // Private ranges mostly, some public clients.
            match n % 3 {
                0 => out.extend_from_slice(b"10."),
                1 => out.extend_from_slice(b"192.168."),
                _ => {
                    write_u64(out, 11 + (n >> 8) % 200);
                    out.push(b'.');
                }
            }
            if n % 3 != 1 {
                write_u64(out, (n >> 16) & 0xff);
                out.push(b'.');
            }
            write_u64(out, (n >> 24) & 0xff);
            out.push(b'.');
            write_u64(out, 1 + (n >> 32) % 254);
            if v == Var::Ip4Port {
                out.push(b':');
                write_u64(out, rng.range(1024, 65_535));
            }
        }
        Var::Ip6 | Var::Ip6Port => {
            if v == Var::Ip6Port {
                out.push(b'[');
            }
            let n = rng.next_u64();
            out.extend_from_slice(b"2001:db8:");
            write_hex_trim(out, n & 0xffff);
            out.push(b':');
            write_hex_trim(out, (n >> 16) & 0xffff);
            if n >> 63 == 0 {
                // Compressed: 2001:db8:a:b::c
                out.extend_from_slice(b"::");
            } else {
                // Full eight groups: 2001:db8:a:b:c:d:e:f
                for shift in [32, 40, 8] {
                    out.push(b':');
                    write_hex_trim(out, (n >> shift) & 0xfff);
                }
                out.push(b':');
            }
            write_hex_trim(out, (n >> 48) & 0x7fff);
            if v == Var::Ip6Port {
                out.extend_from_slice(b"]:");
                write_u64(out, rng.range(1024, 65_535));
            }
        }
        Var::Port => write_u64(out, rng.range(1024, 65_535)),
        Var::Uuid => {
            let a = rng.next_u64();
            let b = rng.next_u64();
            write_hex(out, a >> 32, 8);
            out.push(b'-');
            write_hex(out, (a >> 16) & 0xffff, 4);
            out.push(b'-');
            write_hex(out, 0x4000 | (a & 0x0fff), 4);
            out.push(b'-');
            write_hex(out, 0x8000 | (b >> 48 & 0x3fff), 4);
            out.push(b'-');
            write_hex(out, b & 0xffff_ffff_ffff, 12);
        }
        Var::Hex => {
            out.extend_from_slice(b"0x");
            write_hex_trim(out, rng.range(0x10, 0xff_ffff));
        }
        Var::Hex8 => write_hex(out, rng.next_u64(), 8),
        Var::Rid16 => write_hex(out, rng.next_u64(), 16),
        Var::Rid32 => {
            write_hex(out, rng.next_u64(), 16);
            write_hex(out, rng.next_u64(), 16);
        }
        Var::User => out.extend_from_slice(rng.pick(USERS).as_bytes()),
        Var::Host => {
            out.extend_from_slice(rng.pick(HOST_PREFIXES).as_bytes());
            out.push(b'-');
            write_u64(out, rng.range(1, 24));
            out.extend_from_slice(rng.pick(HOST_SUFFIXES).as_bytes());
        }
        Var::Path => match rng.below(4) {
            0 => {
                out.extend_from_slice(b"/srv/uploads/");
                render_var(Var::Uuid, rng, now_ms, out);
                out.extend_from_slice(b".jpg");
            }
            1 => {
                out.extend_from_slice(b"/var/lib/velos/blobs/");
                render_var(Var::Rid16, rng, now_ms, out);
            }
            2 => {
                out.extend_from_slice(b"/data/snapshots/snap-");
                write_u64(out, rng.range(1, 99_999));
                out.extend_from_slice(b".db");
            }
            _ => {
                out.extend_from_slice(b"/tmp/export-");
                write_day(out, now_ms);
                out.extend_from_slice(b".csv");
            }
        },
        Var::Date => {
            let at = now_ms + rng.range(60_000, 30 * DAY_MS as u64) as i64;
            let at = at - at.rem_euclid(1000);
            write_day(out, at);
            out.push(b'T');
            write_hms(out, at);
            out.push(b'Z');
        }
        Var::Day => write_day(out, now_ms - rng.below(90) as i64 * DAY_MS),
        Var::Ver => {
            out.push(b'v');
            write_u64(out, rng.range(1, 3));
            out.push(b'.');
            write_u64(out, rng.below(30));
            out.push(b'.');
            write_u64(out, rng.below(12));
        }
        Var::Status2 => write_u64(out, *rng.pick(&[200, 200, 200, 201, 204, 301, 304])),
        Var::Status4 => write_u64(out, *rng.pick(&[400, 401, 403, 404, 404, 409, 422, 429])),
        Var::Status5 => write_u64(out, *rng.pick(&[500, 502, 503, 504])),
        Var::JavaTrace | Var::PyTrace => {}
    }
}

#[inline]
fn write_hex_trim(out: &mut Vec<u8>, n: u64) {
    let digits = (((64 - n.leading_zeros()) as usize).div_ceil(4)).max(1);
    write_hex(out, n, digits);
}

/// Exception line, frames, `Caused by:` line (may be empty), its frames.
type JavaTrace = (
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static [&'static str],
);

const JAVA_TRACES: &[JavaTrace] = &[
    (
        "java.net.SocketTimeoutException: Read timed out",
        &[
            "java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:{})",
            "java.base/java.net.SocketInputStream.read(SocketInputStream.java:{})",
            "com.velos.shop.payments.StripeClient.post(StripeClient.java:{})",
            "com.velos.shop.payments.ChargeService.charge(ChargeService.java:{})",
            "com.velos.shop.orders.CheckoutController.submit(CheckoutController.java:{})",
        ],
        "Caused by: java.io.IOException: connection reset by peer",
        &[
            "java.base/sun.nio.ch.SocketDispatcher.read0(Native Method)",
            "java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:{})",
        ],
    ),
    (
        "org.springframework.dao.DataAccessResourceFailureException: could not obtain connection",
        &[
            "org.springframework.jdbc.datasource.DataSourceUtils.getConnection(DataSourceUtils.java:{})",
            "org.springframework.jdbc.core.JdbcTemplate.execute(JdbcTemplate.java:{})",
            "com.velos.shop.orders.OrderRepository.findById(OrderRepository.java:{})",
            "com.velos.shop.orders.OrderService.load(OrderService.java:{})",
            "com.velos.shop.orders.OrderController.get(OrderController.java:{})",
            "jdk.internal.reflect.GeneratedMethodAccessor42.invoke(Unknown Source)",
        ],
        "Caused by: org.postgresql.util.PSQLException: Connection to db-3.prod.internal:5432 refused",
        &[
            "org.postgresql.core.v3.ConnectionFactoryImpl.openConnectionImpl(ConnectionFactoryImpl.java:{})",
            "org.postgresql.core.ConnectionFactory.openConnection(ConnectionFactory.java:{})",
            "org.postgresql.jdbc.PgConnection.<init>(PgConnection.java:{})",
        ],
    ),
    (
        "java.lang.NullPointerException: Cannot invoke \"com.velos.shop.model.Cart.items()\" because \"cart\" is null",
        &[
            "com.velos.shop.orders.CartService.total(CartService.java:{})",
            "com.velos.shop.orders.CheckoutController.submit(CheckoutController.java:{})",
            "java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:{})",
            "java.base/java.lang.Thread.run(Thread.java:{})",
        ],
        "",
        &[],
    ),
];

/// Appends a Java stack trace (one `\n`-terminated line each) and returns
/// its line count.
fn java_trace(rng: &mut Rng, out: &mut Vec<u8>) -> u64 {
    let (head, frames, cause, cause_frames) = *rng.pick(JAVA_TRACES);
    let mut lines = 0;
    let frame = |out: &mut Vec<u8>, f: &str, rng: &mut Rng| {
        out.extend_from_slice(b"\tat ");
        match f.split_once("{}") {
            Some((a, b)) => {
                out.extend_from_slice(a.as_bytes());
                write_u64(out, rng.range(20, 900));
                out.extend_from_slice(b.as_bytes());
            }
            None => out.extend_from_slice(f.as_bytes()),
        }
        out.push(b'\n');
    };
    out.extend_from_slice(head.as_bytes());
    out.push(b'\n');
    lines += 1;
    for f in frames {
        frame(out, f, rng);
        lines += 1;
    }
    if !cause.is_empty() {
        out.extend_from_slice(cause.as_bytes());
        out.push(b'\n');
        lines += 1;
        for f in cause_frames {
            frame(out, f, rng);
            lines += 1;
        }
        out.extend_from_slice(b"\t... ");
        write_u64(out, rng.range(8, 40));
        out.extend_from_slice(b" more\n");
        lines += 1;
    }
    lines
}

/// A Python frame: file, function, source line.
type PyFrame = (&'static str, &'static str, &'static str);

const PY_TRACES: &[(&[PyFrame], &str)] = &[
    (
        &[
            ("/app/worker/tasks.py", "run", "result = handler(payload)"),
            (
                "/app/worker/handlers/report.py",
                "build_report",
                "rows = db.fetch_all(query, params)",
            ),
            (
                "/usr/lib/python3.12/site-packages/psycopg/cursor.py",
                "execute",
                "raise ex.with_traceback(None)",
            ),
        ],
        "psycopg.OperationalError: server closed the connection unexpectedly",
    ),
    (
        &[
            ("/app/worker/tasks.py", "run", "result = handler(payload)"),
            (
                "/app/worker/handlers/thumbnail.py",
                "resize",
                "img = Image.open(path)",
            ),
        ],
        "FileNotFoundError: [Errno 2] No such file or directory: '/srv/uploads/missing.jpg'",
    ),
    (
        &[
            ("/app/worker/tasks.py", "run", "result = handler(payload)"),
            (
                "/app/worker/handlers/export.py",
                "export_orders",
                "total += row[\"amount\"]",
            ),
        ],
        "KeyError: 'amount'",
    ),
];

/// Appends a Python traceback and returns its line count.
fn python_trace(rng: &mut Rng, out: &mut Vec<u8>) -> u64 {
    let (frames, last) = *rng.pick(PY_TRACES);
    out.extend_from_slice(b"Traceback (most recent call last):\n");
    for (file, func, code) in frames {
        out.extend_from_slice(b"  File \"");
        out.extend_from_slice(file.as_bytes());
        out.extend_from_slice(b"\", line ");
        write_u64(out, rng.range(10, 400));
        out.extend_from_slice(b", in ");
        out.extend_from_slice(func.as_bytes());
        out.extend_from_slice(b"\n    ");
        out.extend_from_slice(code.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(last.as_bytes());
    out.push(b'\n');
    2 + 2 * frames.len() as u64
}

/// Parses `1GiB`, `10M`, `512K`, `4096`: decimal `K/M/G` (also `KB`…) and
/// binary `KiB/MiB/GiB`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num
        .parse()
        .map_err(|_| format!("invalid size {s:?}: expected a number with an optional unit"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?} in {s:?}")),
    };
    Ok((num * mult as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate(seed: u64, format: Format, limit: Limit) -> (Vec<u8>, Generator) {
        let mut g = Generator::new(Config {
            seed,
            format,
            start_ms: 1_768_003_200_000,
            limit,
            span_ms: DAY_MS,
        });
        let mut out = Vec::new();
        g.write_to(&mut out).unwrap();
        (out, g)
    }

    /// Header records of a plain log: (ts string, level label, line).
    fn records(out: &[u8]) -> Vec<(String, String)> {
        String::from_utf8_lossy(out)
            .lines()
            .filter(|l| l.starts_with("2026-"))
            .map(|l| (l[..24].to_string(), l[25..30].trim().to_string()))
            .collect()
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let (a, _) = generate(7, Format::Plain, Limit::Bytes(300_000));
        let (b, _) = generate(7, Format::Plain, Limit::Bytes(300_000));
        let (c, _) = generate(8, Format::Plain, Limit::Bytes(300_000));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.len() <= 300_000 && a.len() > 299_000);
    }

    #[test]
    fn lines_limit_is_exact() {
        let (out, _) = generate(3, Format::Plain, Limit::Lines(5_000));
        assert_eq!(bytecount::count(&out, b'\n'), 5_000);
        let (out, _) = generate(3, Format::Json, Limit::Lines(1_234));
        assert_eq!(bytecount::count(&out, b'\n'), 1_234);
    }

    #[test]
    fn catalog_has_hundreds_of_distinct_templates() {
        let g = Generator::new(Config {
            seed: 1,
            format: Format::Plain,
            start_ms: 0,
            limit: Limit::Lines(1),
            span_ms: DAY_MS,
        });
        let shapes: std::collections::BTreeSet<String> =
            g.catalog().iter().map(Template::shape).collect();
        assert!(shapes.len() >= 200, "only {} templates", shapes.len());
    }

    #[test]
    fn level_mix_timeouts_and_tricky_info() {
        let (out, g) = generate(42, Format::Plain, Limit::Lines(200_000));
        let (b0, b1) = g.burst_window();
        let recs = records(&out);
        let n = recs.len() as f64;
        let share = |label: &str| recs.iter().filter(|(_, l)| l == label).count() as f64 / n;
        let (debug, info, warn, error, fatal) = (
            share("DEBUG"),
            share("INFO"),
            share("WARN"),
            share("ERROR"),
            share("FATAL"),
        );
        assert!(debug + info > 0.9, "debug {debug} info {info}");
        assert!(info > debug);
        assert!((0.02..0.08).contains(&warn), "warn {warn}");
        assert!((0.01..0.025).contains(&error), "error {error}");
        assert!(fatal > 0.0 && fatal < 0.002, "fatal {fatal}");
        let text = String::from_utf8_lossy(&out);
        let timeouts = text.lines().filter(|l| l.contains("timeout")).count() as f64 / n;
        assert!((0.005..0.02).contains(&timeouts), "timeout {timeouts}");
        let tricky = text
            .lines()
            .filter(|l| l.contains(" INFO  ") && (l.contains("error") || l.contains("failure")))
            .count();
        assert!(tricky > 100, "{tricky} info lines with error words");
        assert!(b0 > 1_768_003_200_000 && b1 < 1_768_003_200_000 + DAY_MS);
    }

    #[test]
    fn timestamps_never_decrease_and_span_a_day() {
        let (out, _) = generate(5, Format::Plain, Limit::Bytes(2_000_000));
        let recs = records(&out);
        for w in recs.windows(2) {
            assert!(w[0].0 <= w[1].0, "{} then {}", w[0].0, w[1].0);
        }
        assert!(recs[0].0.starts_with("2026-01-10T00:00:00"));
        assert!(recs.last().unwrap().0.starts_with("2026-01-10T23:5"));
    }

    #[test]
    fn error_burst_is_present() {
        let (out, g) = generate(11, Format::Json, Limit::Lines(300_000));
        let (b0, b1) = g.burst_window();
        let (mut inside, mut inside_err, mut outside, mut outside_err) = (0.0, 0.0, 0.0, 0.0);
        for line in String::from_utf8_lossy(&out).lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let ts = v["ts"].as_i64().unwrap();
            let err = v["lvl"] == "error";
            if (b0..b1).contains(&ts) {
                inside += 1.0;
                inside_err += err as u8 as f64;
            } else {
                outside += 1.0;
                outside_err += err as u8 as f64;
            }
        }
        assert!(inside > 500.0, "{inside} records in the burst");
        let ratio = (inside_err / inside) / (outside_err / outside);
        assert!(ratio > 8.0, "burst error ratio {ratio}");
    }

    #[test]
    fn stack_traces_follow_error_records() {
        let (out, _) = generate(9, Format::Plain, Limit::Lines(100_000));
        let text = String::from_utf8_lossy(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.iter().any(|l| l.starts_with("\tat com.velos.")));
        assert!(lines.iter().any(|l| l.starts_with("Caused by: ")));
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("\t... ") && l.ends_with(" more"))
        );
        let tb = lines
            .iter()
            .position(|l| *l == "Traceback (most recent call last):")
            .expect("a python traceback");
        assert!(lines[tb - 1].contains(" ERROR "));
        assert!(lines[tb + 1].starts_with("  File \"/app/"));
    }

    #[test]
    fn json_lines_parse_and_carry_traces_in_msg() {
        let (out, _) = generate(9, Format::Json, Limit::Lines(50_000));
        let mut with_trace = 0;
        for line in String::from_utf8_lossy(&out).lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v["ts"].is_i64() && v["pid"].is_u64());
            let lvl = v["lvl"].as_str().unwrap();
            assert!(Level::from_word(lvl.as_bytes()).is_some());
            let msg = v["msg"].as_str().unwrap();
            if msg.contains("\n\tat ") || msg.contains("\nTraceback") {
                with_trace += 1;
            }
        }
        assert!(with_trace > 5);
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("10M"), Ok(10_000_000));
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("1.5MB"), Ok(1_500_000));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5XB").is_err());
    }

    #[test]
    fn civil_dates() {
        let mut s = Vec::new();
        write_iso_ms(&mut s, 1_768_003_200_123);
        assert_eq!(s, b"2026-01-10T00:00:00.123Z");
        s.clear();
        write_iso_ms(&mut s, 951_782_400_000); // 2000-02-29
        assert_eq!(s, b"2000-02-29T00:00:00.000Z");
    }
}

//! The `[metrics]` and `[export.otlp]` sections of `config.toml`, checked
//! once when the daemon starts, and the standard `OTEL_EXPORTER_OTLP_*`
//! variables of the daemon's environment.
//!
//! ```toml
//! [metrics]
//! listen = "127.0.0.1:9615"   # GET /metrics; off when the section is absent
//! allow_remote = false        # true is required for a non-loopback address
//!
//! [export.otlp]
//! endpoint = "http://127.0.0.1:4318"   # /v1/logs is appended
//! protocol = "http/protobuf"           # or "http/json"
//! headers = { Authorization = "Bearer …" }
//! compression = "gzip"                 # or "none"
//! queue_size = "4MiB"                  # records held while the receiver is away
//! timeout = "10s"                      # per request
//! ```
//!
//! Every mistake is an error naming the key and the fix: the daemon refuses
//! to start rather than run without the metrics or export it was asked for.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use crate::config::{Config, ConfigError, MetricsSection, OtlpSection, SettingError};

/// Default `[export.otlp] queue_size`.
pub const DEFAULT_QUEUE_SIZE: u64 = 4 << 20;
/// Default `[export.otlp] endpoint` when neither the file nor the
/// environment names one.
pub const DEFAULT_ENDPOINT: &str = "http://localhost:4318";
/// Default `[export.otlp] timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Smallest accepted `queue_size`.
pub const MIN_QUEUE_SIZE: u64 = 64 << 10;

/// What is wrong with a fleet setting: the message names the key and the
/// fix; [`FleetConfig::from_file`] adds the file and the line.
#[derive(Debug)]
struct Problem {
    message: String,
    /// The key in its section and where its value is written, when the
    /// problem is a value of the file (not of the environment).
    key: Option<(&'static str, usize)>,
}

fn bad(message: impl Into<String>) -> Problem {
    Problem {
        message: message.into(),
        key: None,
    }
}

impl Problem {
    /// The problem of `key`'s value, written at `value`.
    fn of<T>(self, key: &'static str, value: &Spanned<T>) -> Problem {
        Problem {
            key: Some((key, value.span().start)),
            ..self
        }
    }
}

/// The daemon's fleet settings: both parts are off unless configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetConfig {
    /// Prometheus metrics, when `[metrics]` is present.
    pub metrics: Option<MetricsConfig>,
    /// OTLP log export, when `[export.otlp]` is present.
    pub otlp: Option<OtlpConfig>,
}

/// `[metrics]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Where `GET /metrics` is served.
    pub listen: SocketAddr,
}

/// Wire encoding of the export requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `http/protobuf`: binary protobuf.
    Protobuf,
    /// `http/json`: the OTLP JSON mapping.
    Json,
}

/// `[export.otlp]`, completed from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpConfig {
    /// The full URL requests are posted to (ends in `/v1/logs`).
    pub url: String,
    /// The encoding.
    pub protocol: Protocol,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// Gzip the request bodies.
    pub gzip: bool,
    /// Bytes of records held in memory while the receiver is slow or away.
    pub queue_size: u64,
    /// Time one request may take.
    pub timeout: Duration,
}

/// The variables read from the daemon's environment.
#[derive(Debug, Clone, Default)]
pub struct OtelEnv {
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: base URL, `/v1/logs` appended.
    pub endpoint: Option<String>,
    /// `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`: the full URL, used as is.
    pub logs_endpoint: Option<String>,
    /// `OTEL_EXPORTER_OTLP_HEADERS`: `key=value,key2=value2`, values
    /// percent-encoded.
    pub headers: Option<String>,
}

impl OtelEnv {
    /// Reads the process's environment (empty values count as unset).
    pub fn from_process() -> OtelEnv {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        OtelEnv {
            endpoint: var("OTEL_EXPORTER_OTLP_ENDPOINT"),
            logs_endpoint: var("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"),
            headers: var("OTEL_EXPORTER_OTLP_HEADERS"),
        }
    }
}

impl FleetConfig {
    /// The fleet settings of the configuration file read from `path`,
    /// completed from `env`.
    pub fn from_file(
        config: &Config,
        path: &Path,
        env: &OtelEnv,
    ) -> Result<FleetConfig, ConfigError> {
        // The line of the key at fault, else of the section.
        let invalid = |section: &str, at: usize, problem: Problem| {
            let (key, at) = match problem.key {
                Some((key, at)) => (format!("{section}.{key}"), at),
                None => (section.to_string(), at),
            };
            config.invalid(path, SettingError::new(key, at, problem.message))
        };
        let metrics = match &config.metrics {
            Some(section) => Some(
                metrics_config(section.get_ref())
                    .map_err(|p| invalid("metrics", section.span().start, p))?,
            ),
            None => None,
        };
        let otlp = match &config.export.otlp {
            Some(section) => Some(
                otlp_config(section.get_ref(), env)
                    .map_err(|p| invalid("export.otlp", section.span().start, p))?,
            ),
            None => None,
        };
        Ok(FleetConfig { metrics, otlp })
    }

    /// Parses the text of a config file.
    pub fn parse(text: &str, env: &OtelEnv) -> Result<FleetConfig, ConfigError> {
        let path = Path::new("config.toml");
        FleetConfig::from_file(&Config::parse(text, path)?, path, env)
    }

    /// Whether anything is on.
    pub fn is_on(&self) -> bool {
        self.metrics.is_some() || self.otlp.is_some()
    }
}

fn metrics_config(section: &MetricsSection) -> Result<MetricsConfig, Problem> {
    let Some(listen) = &section.listen else {
        return Err(bad(
            "[metrics] needs listen = \"host:port\", e.g. listen = \"127.0.0.1:9615\"",
        ));
    };
    let text = listen.get_ref();
    let addr = parse_listen(text).ok_or_else(|| {
        bad(format!(
            "[metrics] listen = {text:?} is not an address; use ip:port, e.g. \"127.0.0.1:9615\""
        ))
        .of("listen", listen)
    })?;
    if !addr.ip().is_loopback() && !section.allow_remote {
        return Err(bad(format!(
            "[metrics] listen = {text:?} is reachable from other hosts and the metrics name every process; \
             listen on 127.0.0.1, or set allow_remote = true in [metrics] to serve them on the network"
        ))
        .of("listen", listen));
    }
    Ok(MetricsConfig { listen: addr })
}

/// `ip:port`, `[ipv6]:port` or `localhost:port` (no name lookup).
fn parse_listen(text: &str) -> Option<SocketAddr> {
    let text = text.trim();
    if let Ok(addr) = text.parse() {
        return Some(addr);
    }
    let port: u16 = text.strip_prefix("localhost:")?.parse().ok()?;
    Some(SocketAddr::from(([127, 0, 0, 1], port)))
}

fn otlp_config(section: &OtlpSection, env: &OtelEnv) -> Result<OtlpConfig, Problem> {
    // The file wins; the environment fills what it leaves out.
    let url = match (&section.endpoint, &env.logs_endpoint, &env.endpoint) {
        (Some(endpoint), _, _) => logs_url(endpoint.get_ref(), "[export.otlp] endpoint", true)
            .map_err(|p| p.of("endpoint", endpoint))?,
        (None, Some(full), _) => logs_url(full, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", false)?,
        (None, None, Some(base)) => logs_url(base, "OTEL_EXPORTER_OTLP_ENDPOINT", true)?,
        (None, None, None) => logs_url(DEFAULT_ENDPOINT, "[export.otlp] endpoint", true)?,
    };
    let protocol = match section.protocol.as_ref().map(|p| (p.get_ref().as_str(), p)) {
        None | Some(("http/protobuf", _)) => Protocol::Protobuf,
        Some(("http/json", _)) => Protocol::Json,
        Some((other, value)) => {
            return Err(bad(format!(
                "[export.otlp] protocol = {other:?} is not supported; use \"http/protobuf\" or \"http/json\""
            ))
            .of("protocol", value));
        }
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(text) = &env.headers {
        headers = parse_env_headers(text)?;
    }
    if let Some(table) = &section.headers {
        for (key, value) in table.get_ref() {
            check_header(key, value, "[export.otlp] headers")
                .map_err(|p| p.of("headers", table))?;
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
            headers.push((key.clone(), value.clone()));
        }
    }
    let gzip = match section
        .compression
        .as_ref()
        .map(|c| (c.get_ref().as_str(), c))
    {
        None | Some(("gzip", _)) => true,
        Some(("none", _)) => false,
        Some((other, value)) => {
            return Err(bad(format!(
                "[export.otlp] compression = {other:?} is not supported; use \"gzip\" or \"none\""
            ))
            .of("compression", value));
        }
    };
    let queue_size = match &section.queue_size {
        None => DEFAULT_QUEUE_SIZE,
        Some(size) => {
            let bytes = size.get_ref().bytes().map_err(|err| {
                bad(format!("[export.otlp] queue_size: {err}")).of("queue_size", size)
            })?;
            if bytes < MIN_QUEUE_SIZE {
                return Err(bad(format!(
                    "[export.otlp] queue_size must be at least 64KiB, not {bytes} bytes; e.g. queue_size = \"4MiB\""
                ))
                .of("queue_size", size));
            }
            bytes
        }
    };
    let timeout = match &section.timeout {
        None => DEFAULT_TIMEOUT,
        Some(value) => {
            let text = value.get_ref();
            parse_seconds(text).ok_or_else(|| {
                bad(format!(
                    "[export.otlp] timeout = {text:?} is not a duration; use e.g. \"10s\" or \"500ms\""
                ))
                .of("timeout", value)
            })?
        }
    };
    Ok(OtlpConfig {
        url,
        protocol,
        headers,
        gzip,
        queue_size,
        timeout,
    })
}

/// Checks an endpoint and gives the URL to post to: `append` adds
/// `/v1/logs` to the path (a base endpoint), otherwise the URL is used as is.
fn logs_url(endpoint: &str, key: &str, append: bool) -> Result<String, Problem> {
    let text = endpoint.trim();
    let invalid = |why: &str| {
        bad(format!(
            "{key} = {endpoint:?} {why}; use an http:// URL such as \"http://127.0.0.1:4318\""
        ))
    };
    if text.starts_with("https://") {
        return Err(bad(format!(
            "{key} = {endpoint:?}: https is not supported; send to an OpenTelemetry Collector on this host \
             over http (e.g. \"http://127.0.0.1:4318\") and let it forward over TLS"
        )));
    }
    let uri: ureq::http::Uri = text.parse().map_err(|_| invalid("is not a URL"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(_) => return Err(invalid("has an unsupported scheme")),
        None => return Err(invalid("has no scheme")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("has no host"));
    }
    if uri.query().is_some() {
        return Err(invalid("must not have a query string"));
    }
    if !append {
        return Ok(text.to_string());
    }
    let base = text.trim_end_matches('/');
    Ok(format!("{base}/v1/logs"))
}

/// `key=value,key2=value2`, values percent-decoded (the OTLP exporter
/// convention).
fn parse_env_headers(text: &str) -> Result<Vec<(String, String)>, Problem> {
    let mut headers = Vec::new();
    for pair in text.split(',').filter(|p| !p.trim().is_empty()) {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(bad(format!(
                "OTEL_EXPORTER_OTLP_HEADERS: {pair:?} is not key=value; write e.g. \"Authorization=Bearer%20abc,X-Org=7\""
            )));
        };
        let key = key.trim().to_string();
        let value = percent_decode(value.trim()).ok_or_else(|| {
            bad(format!(
                "OTEL_EXPORTER_OTLP_HEADERS: the value of {key:?} has a bad %-escape; escape '%' as %25"
            ))
        })?;
        check_header(&key, &value, "OTEL_EXPORTER_OTLP_HEADERS")?;
        headers.push((key, value));
    }
    Ok(headers)
}

fn check_header(key: &str, value: &str, origin: &str) -> Result<(), Problem> {
    if ureq::http::HeaderName::from_bytes(key.as_bytes()).is_err() {
        return Err(bad(format!(
            "{origin}: {key:?} is not a valid header name; use letters, digits and '-'"
        )));
    }
    if ureq::http::HeaderValue::from_str(value).is_err() {
        return Err(bad(format!(
            "{origin}: the value of {key:?} is not a valid header value; remove control characters"
        )));
    }
    Ok(())
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `10s`, `1.5s`, `500ms`, `2m`.
fn parse_seconds(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.')?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "ms" => number / 1000.0,
        "s" => number,
        "m" => number * 60.0,
        _ => return None,
    };
    (seconds > 0.0 && seconds <= 3600.0).then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FleetConfig, String> {
        FleetConfig::parse(text, &OtelEnv::default()).map_err(|e| e.to_string())
    }

    #[test]
    fn off_by_default() {
        assert_eq!(parse("[logs]\nkeep = 2\n").unwrap(), FleetConfig::default());
        assert!(!parse("").unwrap().is_on());
    }

    #[test]
    fn metrics_address_rules() {
        let config = parse("[metrics]\nlisten = \"127.0.0.1:9615\"\n").unwrap();
        assert_eq!(config.metrics.unwrap().listen.port(), 9615);
        let err = parse("[metrics]\nlisten = \"0.0.0.0:9615\"\n").unwrap_err();
        assert!(err.contains("allow_remote = true"), "{err}");
        assert!(parse("[metrics]\nlisten = \"0.0.0.0:9615\"\nallow_remote = true\n").is_ok());
        let err = parse("[metrics]\nlisten = \"nowhere\"\n").unwrap_err();
        assert!(
            err.contains("[metrics] listen = \"nowhere\" is not an address"),
            "{err}"
        );
        let err = parse("[metrics]\nlisten = \"127.0.0.1:9615\"\nlisen = 1\n").unwrap_err();
        assert!(err.contains("lisen"), "{err}");
        assert!(parse("[metrics]\n").unwrap_err().contains("needs listen"));
    }

    #[test]
    fn otlp_defaults_and_keys() {
        let otlp = parse("[export.otlp]\n").unwrap().otlp.unwrap();
        assert_eq!(otlp.url, "http://localhost:4318/v1/logs");
        assert_eq!(otlp.protocol, Protocol::Protobuf);
        assert!(otlp.gzip);
        assert_eq!(otlp.queue_size, DEFAULT_QUEUE_SIZE);
        let otlp = parse(
            "[export.otlp]\nendpoint = \"http://collector:4318/\"\nprotocol = \"http/json\"\n\
             headers = { Authorization = \"Bearer x\" }\ncompression = \"none\"\nqueue_size = \"1MiB\"\ntimeout = \"500ms\"\n",
        )
        .unwrap()
        .otlp
        .unwrap();
        assert_eq!(otlp.url, "http://collector:4318/v1/logs");
        assert_eq!(otlp.protocol, Protocol::Json);
        assert_eq!(otlp.headers, [("Authorization".into(), "Bearer x".into())]);
        assert!(!otlp.gzip);
        assert_eq!(otlp.queue_size, 1 << 20);
        assert_eq!(otlp.timeout, Duration::from_millis(500));
    }

    #[test]
    fn otlp_bad_values_name_the_key() {
        for (text, key) in [
            ("endpoint = \"localhost:4318\"", "[export.otlp] endpoint"),
            ("endpoint = \"not a url\"", "[export.otlp] endpoint"),
            ("endpoint = \"https://x:4318\"", "https is not supported"),
            ("protocol = \"grpc\"", "[export.otlp] protocol"),
            ("compression = \"zstd\"", "[export.otlp] compression"),
            ("queue_size = \"1KiB\"", "[export.otlp] queue_size"),
            ("timeout = \"soon\"", "[export.otlp] timeout"),
            ("headers = { \"a b\" = \"x\" }", "[export.otlp] headers"),
        ] {
            let err = parse(&format!("[export.otlp]\n{text}\n")).unwrap_err();
            assert!(err.contains(key), "{text}: {err}");
        }
    }

    #[test]
    fn a_bad_value_names_the_line_of_its_key() {
        for (text, want) in [
            (
                "[export.otlp]\nendpoint = \"http://a:1\"\n\ntimeout = \"soon\"\n",
                "config.toml: line 4: export.otlp.timeout: ",
            ),
            (
                "[export.otlp]\nprotocol = \"http/json\"\ncompression = \"zstd\"\n",
                "config.toml: line 3: export.otlp.compression: ",
            ),
            (
                "[export.otlp]\nqueue_size = \"1KiB\"\n",
                "config.toml: line 2: export.otlp.queue_size: ",
            ),
            (
                "[export.otlp]\nheaders = { \"a b\" = \"x\" }\n",
                "config.toml: line 2: export.otlp.headers: ",
            ),
            (
                "[logs]\nkeep = 2\n[metrics]\nallow_remote = false\nlisten = \"nowhere\"\n",
                "config.toml: line 5: metrics.listen: ",
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.starts_with(want), "{text}: {err}");
        }
    }

    #[test]
    fn environment_fills_in() {
        let env = OtelEnv {
            endpoint: Some("http://otel:4318".into()),
            logs_endpoint: None,
            headers: Some("Authorization=Bearer%20abc, x-org = 7".into()),
        };
        let otlp = FleetConfig::parse("[export.otlp]\nheaders = { x-org = \"8\" }\n", &env)
            .unwrap()
            .otlp
            .unwrap();
        assert_eq!(otlp.url, "http://otel:4318/v1/logs");
        assert_eq!(
            otlp.headers,
            [
                ("Authorization".to_string(), "Bearer abc".to_string()),
                ("x-org".to_string(), "8".to_string())
            ]
        );
        let file_wins =
            FleetConfig::parse("[export.otlp]\nendpoint = \"http://a:1\"\n", &env).unwrap();
        assert_eq!(file_wins.otlp.unwrap().url, "http://a:1/v1/logs");
        let full = OtelEnv {
            logs_endpoint: Some("http://b:2/custom/logs".into()),
            ..OtelEnv::default()
        };
        let otlp = FleetConfig::parse("[export.otlp]\n", &full)
            .unwrap()
            .otlp
            .unwrap();
        assert_eq!(otlp.url, "http://b:2/custom/logs");
        let broken = OtelEnv {
            endpoint: Some("ftp://x".into()),
            ..OtelEnv::default()
        };
        // A problem of the environment names the section's line.
        let err = FleetConfig::parse("\n[export.otlp]\n", &broken)
            .unwrap_err()
            .to_string();
        assert!(err.contains("OTEL_EXPORTER_OTLP_ENDPOINT"), "{err}");
        assert!(
            err.starts_with("config.toml: line 2: export.otlp: "),
            "{err}"
        );
        let broken = OtelEnv {
            headers: Some("novalue".into()),
            ..OtelEnv::default()
        };
        let err = FleetConfig::parse("[export.otlp]\n", &broken)
            .unwrap_err()
            .to_string();
        assert!(err.contains("OTEL_EXPORTER_OTLP_HEADERS"), "{err}");
    }
}

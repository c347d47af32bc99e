//! OTLP log records from captured records: the request a batch becomes,
//! encoded as protobuf or as the OTLP JSON mapping.
//!
//! Per record: `timeUnixNano` (when the daemon read the line, the record's
//! `ts`), `observedTimeUnixNano` (when it was queued for export), severity
//! number and text, the message as body, and the attributes
//! `velos.pattern` (16 hex digits, [`super::pattern`]), `log.iostream`
//! (`stdout`/`stderr`) and `velos.continuation`. Per process run, the
//! resource: `service.name` (the velos name), `service.instance.id`
//! (`<host>/<velos id>`), `host.name`, `process.pid` and `velos.process.id`.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use super::config::Protocol;
use super::pattern::{hex, pattern_id};
use super::queue::{Entry, Origin};
use crate::level::Level;

/// The OTLP severity of a level.
pub fn severity(level: Level) -> (SeverityNumber, &'static str) {
    match level {
        Level::Debug => (SeverityNumber::Debug, "DEBUG"),
        Level::Info => (SeverityNumber::Info, "INFO"),
        Level::Warn => (SeverityNumber::Warn, "WARN"),
        Level::Error => (SeverityNumber::Error, "ERROR"),
        Level::Fatal => (SeverityNumber::Fatal, "FATAL"),
    }
}

fn string(key: &str, value: impl Into<String>) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.into())),
        }),
        ..KeyValue::default()
    }
}

fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(Value::IntValue(value)),
        }),
        ..KeyValue::default()
    }
}

fn boolean(key: &str, value: bool) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(Value::BoolValue(value)),
        }),
        ..KeyValue::default()
    }
}

fn resource(origin: &Origin, host: &str) -> Resource {
    Resource {
        attributes: vec![
            string("service.name", origin.name.clone()),
            string("service.instance.id", format!("{host}/{}", origin.id)),
            string("host.name", host),
            int("process.pid", i64::from(origin.pid)),
            int("velos.process.id", i64::from(origin.id)),
        ],
        ..Resource::default()
    }
}

fn log_record(entry: &Entry) -> LogRecord {
    let (number, text) = severity(entry.level);
    LogRecord {
        time_unix_nano: entry.ts_ms.saturating_mul(1_000_000),
        observed_time_unix_nano: entry.observed_ns,
        severity_number: number as i32,
        severity_text: text.to_string(),
        body: Some(AnyValue {
            value: Some(Value::StringValue(
                String::from_utf8_lossy(&entry.body).into_owned(),
            )),
        }),
        attributes: vec![
            string("velos.pattern", hex(pattern_id(&entry.body))),
            string("log.iostream", entry.src.as_str()),
            boolean("velos.continuation", entry.cont),
        ],
        ..LogRecord::default()
    }
}

/// The request for a batch: one resource per process run, in order of
/// first appearance, records in batch order.
pub fn request(batch: &[Entry], host: &str) -> ExportLogsServiceRequest {
    let mut groups: Vec<(Arc<Origin>, Vec<LogRecord>)> = Vec::new();
    for entry in batch {
        let record = log_record(entry);
        match groups
            .iter_mut()
            .find(|(origin, _)| Arc::ptr_eq(origin, &entry.origin) || **origin == *entry.origin)
        {
            Some((_, records)) => records.push(record),
            None => groups.push((entry.origin.clone(), vec![record])),
        }
    }
    let scope = InstrumentationScope {
        name: "velos".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        ..InstrumentationScope::default()
    };
    ExportLogsServiceRequest {
        resource_logs: groups
            .into_iter()
            .map(|(origin, log_records)| ResourceLogs {
                resource: Some(resource(&origin, host)),
                scope_logs: vec![ScopeLogs {
                    scope: Some(scope.clone()),
                    log_records,
                    ..ScopeLogs::default()
                }],
                ..ResourceLogs::default()
            })
            .collect(),
    }
}

/// Writes the request's body in `protocol` into `out` (cleared first) and
/// gives its content type.
pub fn encode_into(
    request: &ExportLogsServiceRequest,
    protocol: Protocol,
    out: &mut Vec<u8>,
) -> &'static str {
    out.clear();
    match protocol {
        Protocol::Protobuf => {
            out.reserve(request.encoded_len());
            // Encoding into a Vec with room reserved cannot fail.
            let _ = request.encode(out);
            "application/x-protobuf"
        }
        Protocol::Json => {
            // Serializing plain data to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, request);
            "application/json"
        }
    }
}

/// The records a receiver's successful answer says it rejected, and why
/// (OTLP partial success); `None` when it took them all or the answer is
/// empty or unreadable.
pub fn partial_success(answer: &[u8], protocol: Protocol) -> Option<(u64, String)> {
    if answer.is_empty() {
        return None;
    }
    let response: ExportLogsServiceResponse = match protocol {
        Protocol::Protobuf => ExportLogsServiceResponse::decode(answer).ok()?,
        Protocol::Json => serde_json::from_slice(answer).ok()?,
    };
    let partial = response.partial_success?;
    let rejected = u64::try_from(partial.rejected_log_records).ok()?;
    (rejected > 0).then_some((rejected, partial.error_message))
}

/// The request's body in `protocol`, and its content type.
pub fn encode(request: &ExportLogsServiceRequest, protocol: Protocol) -> (Vec<u8>, &'static str) {
    let mut out = Vec::new();
    let kind = encode_into(request, protocol, &mut out);
    (out, kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::logfile::Src;

    fn entry(origin: &Arc<Origin>, body: &str, level: Level, src: Src, cont: bool) -> Entry {
        Entry {
            origin: origin.clone(),
            ts_ms: 1_700_000_000_123,
            observed_ns: 1_700_000_000_124_000_000,
            level,
            src,
            cont,
            body: body.as_bytes().into(),
        }
    }

    fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> &'a Value {
        attrs
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| v.value.as_ref())
            .unwrap_or_else(|| panic!("no attribute {key}"))
    }

    #[test]
    fn records_grouped_by_process_with_every_field() {
        let web = Arc::new(Origin {
            name: "web".into(),
            id: 3,
            pid: 77,
        });
        let db = Arc::new(Origin {
            name: "db".into(),
            id: 4,
            pid: 78,
        });
        let batch = [
            entry(
                &web,
                "GET /users/1 took 5ms",
                Level::Info,
                Src::Stdout,
                false,
            ),
            entry(&db, "disk full", Level::Error, Src::Stderr, true),
            entry(
                &web,
                "GET /users/2 took 7ms",
                Level::Warn,
                Src::Stdout,
                false,
            ),
        ];
        let request = request(&batch, "box1");
        assert_eq!(request.resource_logs.len(), 2);
        let web_logs = &request.resource_logs[0];
        let attrs = &web_logs.resource.as_ref().unwrap().attributes;
        assert_eq!(
            attr(attrs, "service.name"),
            &Value::StringValue("web".into())
        );
        assert_eq!(
            attr(attrs, "service.instance.id"),
            &Value::StringValue("box1/3".into())
        );
        assert_eq!(attr(attrs, "process.pid"), &Value::IntValue(77));
        let records = &web_logs.scope_logs[0].log_records;
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].time_unix_nano, 1_700_000_000_123_000_000);
        assert_eq!(records[1].severity_number, SeverityNumber::Warn as i32);
        assert_eq!(
            attr(&records[0].attributes, "velos.pattern"),
            attr(&records[1].attributes, "velos.pattern")
        );
        let db_record = &request.resource_logs[1].scope_logs[0].log_records[0];
        assert_eq!(db_record.severity_text, "ERROR");
        assert_eq!(
            attr(&db_record.attributes, "log.iostream"),
            &Value::StringValue("stderr".into())
        );
        assert_eq!(
            attr(&db_record.attributes, "velos.continuation"),
            &Value::BoolValue(true)
        );
        let (bytes, kind) = encode(&request, Protocol::Protobuf);
        assert_eq!(kind, "application/x-protobuf");
        assert_eq!(
            ExportLogsServiceRequest::decode(bytes.as_slice()).unwrap(),
            request
        );
        let (json, _) = encode(&request, Protocol::Json);
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            value["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["timeUnixNano"],
            "1700000000123000000"
        );
    }

    #[test]
    fn partial_success_answers() {
        use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsPartialSuccess;
        let answer = ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: 3,
                error_message: "too old".into(),
            }),
        };
        assert_eq!(
            partial_success(&answer.encode_to_vec(), Protocol::Protobuf),
            Some((3, "too old".to_string()))
        );
        let json = serde_json::to_vec(&answer).unwrap();
        assert_eq!(
            partial_success(&json, Protocol::Json),
            Some((3, "too old".to_string()))
        );
        let all = ExportLogsServiceResponse {
            partial_success: None,
        };
        assert_eq!(
            partial_success(&all.encode_to_vec(), Protocol::Protobuf),
            None
        );
        assert_eq!(partial_success(b"", Protocol::Protobuf), None);
        assert_eq!(partial_success(b"{}", Protocol::Json), None);
    }
}

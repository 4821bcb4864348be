//! JSON views of events, for the CLI and people: one JSON object per event, enum symbols as strings,
//! timestamps as RFC 3339, bytes as base64. `tail` prints this and `produce` reads it back, so a
//! tailed line can be produced again unchanged.

use apache_avro::types::Value;
use base64::Engine;
use serde_json::{Map, Number, Value as Json};

use crate::codec::{EncodeError, to_resolved_value};
use crate::event::Event;
use crate::time::Timestamp;

/// A serde_json error of one line of a JSON lines file as `column C: <message>` (the message names
/// the field, e.g. "missing field `lead_id`"), without serde's own "line 1", which would be
/// misleading: the caller names the file's line.
pub fn describe_json_error(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    if e.column() == 0 {
        message.to_owned()
    } else {
        format!("column {}: {message}", e.column())
    }
}

/// Renders a decoded Avro value as JSON.
pub fn avro_to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Int(i) | Value::Date(i) | Value::TimeMillis(i) => Json::from(*i),
        Value::Long(l) | Value::TimeMicros(l) => Json::from(*l),
        Value::TimestampMillis(ms) | Value::LocalTimestampMillis(ms) => {
            Json::String(Timestamp(*ms).to_rfc3339())
        }
        Value::TimestampMicros(us) | Value::LocalTimestampMicros(us) => {
            Json::String(Timestamp(us.div_euclid(1000)).to_rfc3339())
        }
        Value::Float(f) => Number::from_f64(f64::from(*f)).map_or(Json::Null, Json::Number),
        Value::Double(d) => Number::from_f64(*d).map_or(Json::Null, Json::Number),
        Value::Bytes(b) | Value::Fixed(_, b) => {
            Json::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Value::String(s) | Value::Enum(_, s) => Json::String(s.clone()),
        Value::Uuid(u) => Json::String(u.to_string()),
        Value::Union(_, inner) => avro_to_json(inner),
        Value::Array(items) => Json::Array(items.iter().map(avro_to_json).collect()),
        Value::Map(m) => {
            let mut keys: Vec<_> = m.keys().collect();
            keys.sort();
            Json::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), avro_to_json(&m[k])))
                    .collect(),
            )
        }
        Value::Record(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), avro_to_json(v)))
                .collect::<Map<_, _>>(),
        ),
        other => Json::String(format!("{other:?}")),
    }
}

/// An event as the JSON `tail` prints.
pub fn event_to_json<E: Event>(event: &E) -> Result<Json, EncodeError> {
    Ok(avro_to_json(&to_resolved_value(event)?))
}

//! Documents: JSON objects with a unique string `_id` and an `_event_time` timestamp.

use chrono::DateTime;

use crate::error::{Result, StorageError};
use crate::value::{Object, Value};

/// Name of the document key field.
pub const ID_FIELD: &str = "_id";
/// Name of the event-time field.
pub const EVENT_TIME_FIELD: &str = "_event_time";

/// Makes `doc` a stored document: checks or generates `_id`, and sets `_event_time` to a
/// timestamp taken from `event_time_field` (or `_event_time`) when present, else `now_micros`.
pub fn normalize(doc: Value, event_time_field: Option<&str>, now_micros: i64) -> Result<Object> {
    let mut obj = match doc {
        Value::Object(o) => o,
        other => {
            return Err(StorageError::InvalidDocument(format!(
                "a document must be a JSON object, got {}",
                other.value_type().name()
            )))
        }
    };
    match obj.get(ID_FIELD) {
        None | Some(Value::Null) => {
            obj.insert(ID_FIELD.into(), Value::String(uuid::Uuid::new_v4().to_string()));
        }
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(other) => {
            return Err(StorageError::InvalidDocument(format!(
                "_id must be a non-empty string, got {}",
                other.value_type().name()
            )))
        }
    }
    let field = event_time_field.unwrap_or(EVENT_TIME_FIELD);
    let event_time = match obj.get(field) {
        Some(v) => event_time_of(v).map_err(|m| StorageError::InvalidDocument(format!("field '{field}': {m}")))?,
        None => now_micros,
    };
    obj.insert(EVENT_TIME_FIELD.into(), Value::Timestamp(event_time));
    Ok(obj)
}

/// Reads an event time: a timestamp, an integer of microseconds since the epoch, or an
/// RFC 3339 string.
pub fn event_time_of(v: &Value) -> std::result::Result<i64, String> {
    match v {
        Value::Timestamp(t) | Value::DateTime(t) => Ok(*t),
        Value::Int(i) => Ok(*i),
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp_micros())
            .map_err(|e| format!("'{s}' is not an RFC 3339 timestamp ({e})")),
        other => Err(format!(
            "an event time must be a timestamp, integer microseconds or RFC 3339 string, got {}",
            other.value_type().name()
        )),
    }
}

/// The `_id` of a stored document.
pub fn id_of(doc: &Object) -> Option<&str> {
    doc.get(ID_FIELD).and_then(Value::as_str)
}

/// The `_event_time` of a stored document.
pub fn stored_event_time(doc: &Object) -> Option<i64> {
    match doc.get(EVENT_TIME_FIELD) {
        Some(Value::Timestamp(t)) => Some(*t),
        _ => None,
    }
}

/// Current time in microseconds since the Unix epoch.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_id_and_event_time() {
        let doc = normalize(Value::from_json_str(r#"{"a":1}"#).unwrap(), None, 42).unwrap();
        assert_eq!(id_of(&doc).unwrap().len(), 36);
        assert_eq!(stored_event_time(&doc), Some(42));
    }

    #[test]
    fn takes_event_time_from_configured_field() {
        let doc = Value::from_json_str(r#"{"_id":"x","ts":"2024-01-01T00:00:00Z"}"#).unwrap();
        let doc = normalize(doc, Some("ts"), 0).unwrap();
        assert_eq!(stored_event_time(&doc), Some(1_704_067_200_000_000));
    }

    #[test]
    fn rejects_bad_ids_and_non_objects() {
        assert!(normalize(Value::from_json_str(r#"{"_id":5}"#).unwrap(), None, 0).is_err());
        assert!(normalize(Value::Array(vec![]), None, 0).is_err());
        assert!(normalize(Value::from_json_str(r#"{"_event_time":true}"#).unwrap(), None, 0).is_err());
    }
}

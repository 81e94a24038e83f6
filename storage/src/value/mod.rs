//! The value model: every stored value carries its own type.
//!
//! A missing field is *undefined* and is represented by absence (`Option<&Value>` is `None`),
//! never by a `Value` variant, so it stays distinct from `Value::Null`.

pub mod codec;
pub mod json;
pub mod keycode;
mod temporal;

use std::collections::BTreeMap;

pub use temporal::{format_date, format_datetime, format_time, format_timestamp};

/// A JSON object: field name to value, kept in key order.
pub type Object = BTreeMap<String, Value>;

/// A typed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL/JSON null.
    Null,
    /// true or false.
    Bool(bool),
    /// 64-bit signed integer.
    Int(i64),
    /// 64-bit IEEE float.
    Float(f64),
    /// UTF-8 string.
    String(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// Calendar date: days since 1970-01-01.
    Date(i32),
    /// Time of day: microseconds since midnight.
    Time(i64),
    /// Date and time without a zone: microseconds since 1970-01-01T00:00:00.
    DateTime(i64),
    /// Instant in UTC: microseconds since the Unix epoch.
    Timestamp(i64),
    /// Nested object.
    Object(Object),
    /// Array of values of any types.
    Array(Vec<Value>),
}

/// The type of a value; the order of the variants is the cross-type sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum ValueType {
    /// JSON null.
    Null = 0,
    /// `true` or `false`.
    Bool = 1,
    /// A 64-bit signed integer.
    Int = 2,
    /// A 64-bit float.
    Float = 3,
    /// UTF-8 text.
    String = 4,
    /// Bytes.
    Bytes = 5,
    /// A date.
    Date = 6,
    /// A time of day.
    Time = 7,
    /// A date and time without a time zone.
    DateTime = 8,
    /// An instant (UTC).
    Timestamp = 9,
    /// An object of named fields.
    Object = 10,
    /// An array.
    Array = 11,
}

impl ValueType {
    /// All types, in sort order.
    pub const ALL: [ValueType; 12] = [
        ValueType::Null,
        ValueType::Bool,
        ValueType::Int,
        ValueType::Float,
        ValueType::String,
        ValueType::Bytes,
        ValueType::Date,
        ValueType::Time,
        ValueType::DateTime,
        ValueType::Timestamp,
        ValueType::Object,
        ValueType::Array,
    ];

    /// The name `TYPEOF` reports.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Null => "null",
            ValueType::Bool => "bool",
            ValueType::Int => "int",
            ValueType::Float => "float",
            ValueType::String => "string",
            ValueType::Bytes => "bytes",
            ValueType::Date => "date",
            ValueType::Time => "time",
            ValueType::DateTime => "datetime",
            ValueType::Timestamp => "timestamp",
            ValueType::Object => "object",
            ValueType::Array => "array",
        }
    }

    /// Decodes the `repr(u8)` discriminant.
    pub fn from_u8(b: u8) -> Option<ValueType> {
        ValueType::ALL.get(b as usize).copied()
    }

    /// True for types that are not objects or arrays.
    pub fn is_scalar(self) -> bool {
        !matches!(self, ValueType::Object | ValueType::Array)
    }
}

impl Value {
    /// The value's type.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Null => ValueType::Null,
            Value::Bool(_) => ValueType::Bool,
            Value::Int(_) => ValueType::Int,
            Value::Float(_) => ValueType::Float,
            Value::String(_) => ValueType::String,
            Value::Bytes(_) => ValueType::Bytes,
            Value::Date(_) => ValueType::Date,
            Value::Time(_) => ValueType::Time,
            Value::DateTime(_) => ValueType::DateTime,
            Value::Timestamp(_) => ValueType::Timestamp,
            Value::Object(_) => ValueType::Object,
            Value::Array(_) => ValueType::Array,
        }
    }

    /// The object's fields, if this is an object.
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Total order across all values: the order of their key encodings
    /// (ints and floats compare numerically; across types, [`ValueType`] order).
    pub fn total_cmp(&self, other: &Value) -> std::cmp::Ordering {
        keycode::encode_key(self).cmp(&keycode::encode_key(other))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_order_across_types() {
        let mut vals = vec![
            Value::Array(vec![]),
            Value::from("b"),
            Value::Int(3),
            Value::Null,
            Value::Float(2.5),
            Value::Bool(true),
            Value::Timestamp(0),
            Value::Bool(false),
            Value::from("a"),
        ];
        vals.sort_by(Value::total_cmp);
        let want = vec![
            Value::Null,
            Value::Bool(false),
            Value::Bool(true),
            Value::Float(2.5),
            Value::Int(3),
            Value::from("a"),
            Value::from("b"),
            Value::Timestamp(0),
            Value::Array(vec![]),
        ];
        assert_eq!(vals, want);
    }
}

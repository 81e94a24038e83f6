//! JSON in and out of the value model without loss.
//!
//! Integers that fit in i64 stay ints (also beyond f64's 53-bit precision); other numbers
//! become floats. Nesting is limited to [`MAX_DEPTH`] levels. Parsing uses sonic-rs (SIMD).
//! Parse errors name the byte offset where the input went wrong.

use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::{format_date, format_datetime, format_time, format_timestamp, Object, Value};
use crate::error::{Result, StorageError};

/// Deepest nesting of arrays and objects accepted in JSON input.
pub const MAX_DEPTH: usize = 128;

impl Value {
    /// Parses one JSON value from bytes.
    pub fn from_json_slice(input: &[u8]) -> Result<Value> {
        let mut de = sonic_rs::Deserializer::from_slice(input);
        let value = Value::deserialize(&mut de).map_err(|e| json_error(input, e.line(), e.column(), &e))?;
        de.end().map_err(|e| json_error(input, e.line(), e.column(), &e))?;
        Ok(value)
    }

    /// Parses one JSON value from a string.
    pub fn from_json_str(input: &str) -> Result<Value> {
        Value::from_json_slice(input.as_bytes())
    }

    /// Serializes to compact JSON. Dates and times become ISO 8601 strings, bytes become
    /// `\x`-prefixed hex strings (PostgreSQL's bytea text form), non-finite floats become null.
    pub fn to_json_string(&self) -> String {
        // Serializing our own Value to a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Converts a parser error position (line, column) into a byte offset into `input`.
fn json_error(input: &[u8], line: usize, column: usize, e: &dyn fmt::Display) -> StorageError {
    let mut offset = 0usize;
    if line > 1 {
        let mut seen = 1;
        for (i, b) in input.iter().enumerate() {
            if *b == b'\n' {
                seen += 1;
                if seen == line {
                    offset = i + 1;
                    break;
                }
            }
        }
    }
    offset = (offset + column.saturating_sub(1)).min(input.len());
    let mut message = e.to_string();
    if let Some(pos) = message.find(" at line ") {
        message.truncate(pos);
    }
    StorageError::Json { offset, message }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        Nested(0).deserialize(deserializer)
    }
}

/// Reads one value at the given nesting depth, refusing containers deeper than [`MAX_DEPTH`].
#[derive(Clone, Copy)]
struct Nested(usize);

impl<'de> DeserializeSeed<'de> for Nested {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor(self.0))
    }
}

impl Nested {
    /// The seed for a container's children, or an error when that would nest too deep.
    fn child<E: de::Error>(self) -> Result<Nested, E> {
        if self.0 + 1 > MAX_DEPTH {
            return Err(E::custom("recursion limit exceeded"));
        }
        Ok(Nested(self.0 + 1))
    }
}

struct ValueVisitor(usize);

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map(Value::Int).unwrap_or(Value::Float(v as f64)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let seed = Nested(self.0).child()?;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(seed)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let seed = Nested(self.0).child()?;
        let mut obj = Object::new();
        while let Some(key) = map.next_key::<String>()? {
            let v = map.next_value_seed(seed)?;
            obj.insert(key, v);
        }
        Ok(Value::Object(obj))
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(_) => s.serialize_unit(),
            Value::String(v) => s.serialize_str(v),
            Value::Bytes(b) => s.serialize_str(&hex_bytes(b)),
            Value::Date(d) => s.serialize_str(&format_date(*d)),
            Value::Time(t) => s.serialize_str(&format_time(*t)),
            Value::DateTime(t) => s.serialize_str(&format_datetime(*t)),
            Value::Timestamp(t) => s.serialize_str(&format_timestamp(*t)),
            Value::Object(o) => {
                let mut m = s.serialize_map(Some(o.len()))?;
                for (k, v) in o {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            Value::Array(a) => {
                let mut q = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    q.serialize_element(v)?;
                }
                q.end()
            }
        }
    }
}

fn hex_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(2 + b.len() * 2);
    out.push_str("\\x");
    for byte in b {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_big_ints_unicode_and_nesting() {
        let text = r#"{"a":9007199254740993,"b":-9223372036854775808,"c":"héllo ✓ 𝄞","d":[1,2.5,null,true,{"e":[]}],"f":1.0}"#;
        let v = Value::from_json_str(text).unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj["a"], Value::Int(9_007_199_254_740_993));
        assert_eq!(obj["b"], Value::Int(i64::MIN));
        assert_eq!(obj["f"], Value::Float(1.0));
        assert_eq!(Value::from_json_str(&v.to_json_string()).unwrap(), v);
    }

    #[test]
    fn escapes_decode_and_bad_input_is_refused() {
        let v = Value::from_json_str(r#"["\ud83d\ude00","\u0000\n\"\\","\u00e9"]"#).unwrap();
        assert_eq!(
            v,
            Value::Array(vec![Value::String("😀".into()), Value::String("\0\n\"\\".into()), Value::String("é".into())])
        );
        for bad in ["[1,]", "{\"a\" 1}", "\"\\x\"", "tru", "[\"\u{1}\"]", "01"] {
            assert!(Value::from_json_str(bad).is_err(), "{bad}");
        }
        assert!(Value::from_json_slice(b"\"\xff\"").is_err());
    }

    #[test]
    fn u64_beyond_i64_becomes_float() {
        assert_eq!(Value::from_json_str("18446744073709551615").unwrap(), Value::Float(1.8446744073709552e19));
    }

    #[test]
    fn errors_name_the_byte_offset() {
        let err = Value::from_json_str("{\"a\": 1,\n \"b\": tru}").unwrap_err();
        match err {
            // The bad token `tru}` spans bytes 15..=18.
            StorageError::Json { offset, .. } => assert!((15..=18).contains(&offset), "{offset}"),
            other => panic!("unexpected {other}"),
        }
        let err = Value::from_json_str("[1, 2] x").unwrap_err();
        assert!(matches!(err, StorageError::Json { offset: 7 | 8, .. }), "{err}");
    }

    #[test]
    fn depth_limit_is_enforced() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(Value::from_json_str(&ok).is_ok());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        let err = Value::from_json_str(&deep).unwrap_err();
        assert!(err.to_string().contains("recursion limit"), "{err}");
    }

    #[test]
    fn typed_values_print_as_iso_text() {
        assert_eq!(Value::Date(19_000).to_json_string(), "\"2022-01-08\"");
        assert_eq!(Value::Bytes(vec![0, 255]).to_json_string(), "\"\\\\x00ff\"");
    }
}

//! Compact binary encoding of values for stored fragments (row index, column chunks).
//!
//! Not order-preserving (see [`super::keycode`] for that): a type byte, then varint-encoded
//! integers and lengths, raw floats. Objects and arrays nest.

use super::{Object, Value, ValueType};
use crate::error::{corrupt, Result};

/// Appends the encoding of `v` to `out`.
pub fn encode_value(v: &Value, out: &mut Vec<u8>) {
    out.push(v.value_type() as u8);
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push(*b as u8),
        Value::Int(i) => put_varint(zigzag(*i), out),
        Value::Float(f) => out.extend_from_slice(&f.to_le_bytes()),
        Value::String(s) => put_bytes(s.as_bytes(), out),
        Value::Bytes(b) => put_bytes(b, out),
        Value::Date(d) => put_varint(zigzag(*d as i64), out),
        Value::Time(t) | Value::DateTime(t) | Value::Timestamp(t) => put_varint(zigzag(*t), out),
        Value::Object(o) => {
            put_varint(o.len() as u64, out);
            for (k, v) in o {
                put_bytes(k.as_bytes(), out);
                encode_value(v, out);
            }
        }
        Value::Array(a) => {
            put_varint(a.len() as u64, out);
            for v in a {
                encode_value(v, out);
            }
        }
    }
}

/// Encodes into a fresh buffer.
pub fn encode_value_vec(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    encode_value(v, &mut out);
    out
}

/// Decodes one value from the front of `input`, returning it and the rest.
pub fn decode_value(input: &[u8]) -> Result<(Value, &[u8])> {
    let mut r = Reader { buf: input };
    let v = r.value(0)?;
    Ok((v, r.buf))
}

/// Decodes a buffer holding exactly one value.
pub fn decode_value_exact(input: &[u8]) -> Result<Value> {
    let (v, rest) = decode_value(input)?;
    if !rest.is_empty() {
        return Err(corrupt("value", "trailing bytes"));
    }
    Ok(v)
}

/// Decodes only what `fields` (a path of object fields below the encoded value) leads to,
/// skipping everything else without building it; None when the path does not exist.
pub fn decode_path(input: &[u8], fields: &[&str]) -> Result<Option<Value>> {
    let mut r = Reader { buf: input };
    for (depth, field) in fields.iter().enumerate() {
        if r.buf.first() != Some(&(ValueType::Object as u8)) {
            return Ok(None);
        }
        r.byte()?;
        let n = r.varint()?;
        let mut found = false;
        for _ in 0..n {
            if r.len_bytes()? == field.as_bytes() {
                found = true;
                break;
            }
            r.skip(depth + 1)?;
        }
        if !found {
            return Ok(None);
        }
    }
    r.value(fields.len()).map(Some)
}

/// ZigZag maps signed to unsigned so small magnitudes stay small.
pub fn zigzag(i: i64) -> u64 {
    ((i << 1) ^ (i >> 63)) as u64
}

/// Inverse of [`zigzag`].
pub fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// LEB128 varint.
pub fn put_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A varint length, then the bytes.
pub fn put_bytes(b: &[u8], out: &mut Vec<u8>) {
    put_varint(b.len() as u64, out);
    out.extend_from_slice(b);
}

/// A cursor over encoded bytes.
pub struct Reader<'a> {
    /// Bytes not yet consumed.
    pub buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads a LEB128 varint.
    pub fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.buf.split_first().ok_or_else(|| corrupt("value", "truncated varint"))?;
            self.buf = rest;
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(corrupt("value", "varint too long"))
    }

    /// Reads `n` raw bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.buf.len() < n {
            return Err(corrupt("value", "truncated bytes"));
        }
        let (a, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(a)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    fn len_bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.varint()? as usize;
        self.bytes(n)
    }

    fn string(&mut self) -> Result<String> {
        let b = self.len_bytes()?;
        std::str::from_utf8(b).map(str::to_owned).map_err(|_| corrupt("value", "string is not UTF-8"))
    }

    /// Moves past one value without building it.
    fn skip(&mut self, depth: usize) -> Result<()> {
        if depth > 1024 {
            return Err(corrupt("value", "nesting too deep"));
        }
        let t = ValueType::from_u8(self.byte()?).ok_or_else(|| corrupt("value", "unknown type byte"))?;
        match t {
            ValueType::Null => {}
            ValueType::Bool => {
                self.byte()?;
            }
            ValueType::Float => {
                self.bytes(8)?;
            }
            ValueType::Int | ValueType::Date | ValueType::Time | ValueType::DateTime | ValueType::Timestamp => {
                self.varint()?;
            }
            ValueType::String | ValueType::Bytes => {
                self.len_bytes()?;
            }
            ValueType::Object => {
                for _ in 0..self.varint()? {
                    self.len_bytes()?;
                    self.skip(depth + 1)?;
                }
            }
            ValueType::Array => {
                for _ in 0..self.varint()? {
                    self.skip(depth + 1)?;
                }
            }
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Value> {
        if depth > 1024 {
            return Err(corrupt("value", "nesting too deep"));
        }
        let t = ValueType::from_u8(self.byte()?).ok_or_else(|| corrupt("value", "unknown type byte"))?;
        Ok(match t {
            ValueType::Null => Value::Null,
            ValueType::Bool => Value::Bool(self.byte()? != 0),
            ValueType::Int => Value::Int(unzigzag(self.varint()?)),
            ValueType::Float => {
                let mut b = [0u8; 8];
                b.copy_from_slice(self.bytes(8)?);
                Value::Float(f64::from_le_bytes(b))
            }
            ValueType::String => Value::String(self.string()?),
            ValueType::Bytes => Value::Bytes(self.len_bytes()?.to_vec()),
            ValueType::Date => Value::Date(unzigzag(self.varint()?) as i32),
            ValueType::Time => Value::Time(unzigzag(self.varint()?)),
            ValueType::DateTime => Value::DateTime(unzigzag(self.varint()?)),
            ValueType::Timestamp => Value::Timestamp(unzigzag(self.varint()?)),
            ValueType::Object => {
                let n = self.varint()? as usize;
                let mut o = Object::new();
                for _ in 0..n {
                    let k = self.string()?;
                    let v = self.value(depth + 1)?;
                    o.insert(k, v);
                }
                Value::Object(o)
            }
            ValueType::Array => {
                let n = self.varint()? as usize;
                let mut a = Vec::with_capacity(n.min(1 << 16));
                for _ in 0..n {
                    a.push(self.value(depth + 1)?);
                }
                Value::Array(a)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let v = Value::from_json_str(r#"{"a":[1,-2,3.5,"x",null,false,{"b":{}}],"c":-9223372036854775808}"#).unwrap();
        assert_eq!(decode_value_exact(&encode_value_vec(&v)).unwrap(), v);
        for t in [Value::Date(-5), Value::Time(1), Value::DateTime(-7), Value::Timestamp(i64::MAX), Value::Bytes(vec![0, 1])] {
            assert_eq!(decode_value_exact(&encode_value_vec(&t)).unwrap(), t);
        }
    }

    #[test]
    fn path_decoding_skips_to_the_field() {
        let v = Value::from_json_str(r#"{"a":[1,{"x":2.5}],"b":{"c":"s","d":{"e":true}},"f":null}"#).unwrap();
        let enc = encode_value_vec(&v);
        assert_eq!(decode_path(&enc, &["b", "d", "e"]).unwrap(), Some(Value::Bool(true)));
        assert_eq!(decode_path(&enc, &["f"]).unwrap(), Some(Value::Null));
        assert_eq!(decode_path(&enc, &[]).unwrap(), Some(v));
        assert_eq!(decode_path(&enc, &["b", "c", "z"]).unwrap(), None);
        assert_eq!(decode_path(&enc, &["zz"]).unwrap(), None);
        assert!(decode_path(&enc[..enc.len() - 2], &["f"]).is_err());
    }

    #[test]
    fn truncated_input_is_an_error() {
        let enc = encode_value_vec(&Value::String("hello".into()));
        assert!(decode_value(&enc[..3]).is_err());
    }
}

//! Order-preserving ("memcomparable") binary encoding of typed values.
//!
//! `encode_key(a) < encode_key(b)` (bytewise) exactly when `a` sorts before `b`:
//! within one type byte order equals value order; ints and floats share one numeric order
//! (an int and a float of equal value are adjacent, the float first); across types the order
//! is fixed by the type tag. Strings and bytes are escaped (`00` → `00 FF`, end `00 01`), so an
//! encoded value may be followed by more key bytes and prefix scans on strings work.
//! Floats are canonicalised: `-0.0` encodes as `0.0`, every NaN as one NaN above +inf.

use super::{Object, Value};
use crate::error::{corrupt, Result};

/// Type tags; their order is the cross-type sort order.
pub mod tag {
    /// JSON null.
    pub const NULL: u8 = 0x10;
    /// `false`.
    pub const FALSE: u8 = 0x20;
    /// `true`.
    pub const TRUE: u8 = 0x21;
    /// Ints and floats, in one numeric order.
    pub const NUMBER: u8 = 0x30;
    /// Strings.
    pub const STRING: u8 = 0x40;
    /// Bytes.
    pub const BYTES: u8 = 0x50;
    /// Dates.
    pub const DATE: u8 = 0x60;
    /// Times of day.
    pub const TIME: u8 = 0x70;
    /// Datetimes without a time zone.
    pub const DATETIME: u8 = 0x80;
    /// Timestamps (UTC).
    pub const TIMESTAMP: u8 = 0x90;
    /// Objects.
    pub const OBJECT: u8 = 0xA0;
    /// Arrays.
    pub const ARRAY: u8 = 0xB0;
}

// Suffixes after a number's 8 float bytes, ordering values that share one f64 image.
const INT_BELOW: u8 = 0x01;
const FLOAT_EXACT: u8 = 0x02;
const INT_EXACT: u8 = 0x03;
const INT_ABOVE: u8 = 0x04;

/// Encodes a value into a fresh buffer.
pub fn encode_key(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    encode_key_into(v, &mut out);
    out
}

/// Appends the encoding of `v` to `out`.
pub fn encode_key_into(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(tag::NULL),
        Value::Bool(false) => out.push(tag::FALSE),
        Value::Bool(true) => out.push(tag::TRUE),
        Value::Int(i) => encode_int(*i, out),
        Value::Float(f) => {
            out.push(tag::NUMBER);
            out.extend_from_slice(&sortable_f64(*f).to_be_bytes());
            out.push(FLOAT_EXACT);
        }
        Value::String(s) => {
            out.push(tag::STRING);
            escape_into(s.as_bytes(), out);
        }
        Value::Bytes(b) => {
            out.push(tag::BYTES);
            escape_into(b, out);
        }
        Value::Date(d) => {
            out.push(tag::DATE);
            out.extend_from_slice(&((*d as u32) ^ 0x8000_0000).to_be_bytes());
        }
        Value::Time(t) => push_i64(tag::TIME, *t, out),
        Value::DateTime(t) => push_i64(tag::DATETIME, *t, out),
        Value::Timestamp(t) => push_i64(tag::TIMESTAMP, *t, out),
        Value::Object(o) => {
            out.push(tag::OBJECT);
            for (k, v) in o {
                out.push(0x01);
                escape_into(k.as_bytes(), out);
                encode_key_into(v, out);
            }
            out.push(0x00);
        }
        Value::Array(a) => {
            out.push(tag::ARRAY);
            for v in a {
                out.push(0x01);
                encode_key_into(v, out);
            }
            out.push(0x00);
        }
    }
}

/// Appends the escaped form of a string's bytes without the terminator: every encoded string
/// starting with `prefix` starts with these bytes (after the tag).
pub fn encode_string_prefix(prefix: &str, out: &mut Vec<u8>) {
    out.push(tag::STRING);
    for &b in prefix.as_bytes() {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
}

fn push_i64(t: u8, v: i64, out: &mut Vec<u8>) {
    out.push(t);
    out.extend_from_slice(&((v as u64) ^ (1 << 63)).to_be_bytes());
}

fn encode_int(i: i64, out: &mut Vec<u8>) {
    let f = i as f64;
    out.push(tag::NUMBER);
    out.extend_from_slice(&sortable_f64(f).to_be_bytes());
    // `f` is the double nearest to `i`; the residual tells ints that share it apart.
    let residual = i as i128 - f as i128;
    match residual.cmp(&0) {
        std::cmp::Ordering::Equal => out.push(INT_EXACT),
        std::cmp::Ordering::Less => {
            out.push(INT_BELOW);
            out.extend_from_slice(&((residual as i64 as u64) ^ (1 << 63)).to_be_bytes());
        }
        std::cmp::Ordering::Greater => {
            out.push(INT_ABOVE);
            out.extend_from_slice(&((residual as i64 as u64) ^ (1 << 63)).to_be_bytes());
        }
    }
}

fn sortable_f64(f: f64) -> u64 {
    let f = if f == 0.0 {
        0.0
    } else if f.is_nan() {
        f64::NAN
    } else {
        f
    };
    let bits = f.to_bits();
    if bits & (1 << 63) != 0 {
        !bits
    } else {
        bits ^ (1 << 63)
    }
}

fn unsortable_f64(u: u64) -> f64 {
    let bits = if u & (1 << 63) != 0 { u ^ (1 << 63) } else { !u };
    f64::from_bits(bits)
}

/// Appends the key encoding of a string given as bytes (valid UTF-8), without building a value.
pub fn encode_str_into(s: &[u8], out: &mut Vec<u8>) {
    out.push(tag::STRING);
    escape_into(s, out);
}

fn escape_into(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0x00, 0x01]);
}

/// Decodes one value from the front of `input`, returning it and the remaining bytes.
pub fn decode_key(input: &[u8]) -> Result<(Value, &[u8])> {
    let (&t, rest) = input.split_first().ok_or_else(|| corrupt("key", "empty value"))?;
    Ok(match t {
        tag::NULL => (Value::Null, rest),
        tag::FALSE => (Value::Bool(false), rest),
        tag::TRUE => (Value::Bool(true), rest),
        tag::NUMBER => decode_number(rest)?,
        tag::STRING => {
            let (b, rest) = unescape(rest)?;
            let s = String::from_utf8(b).map_err(|_| corrupt("key", "string is not UTF-8"))?;
            (Value::String(s), rest)
        }
        tag::BYTES => {
            let (b, rest) = unescape(rest)?;
            (Value::Bytes(b), rest)
        }
        tag::DATE => {
            let (b, rest) = take::<4>(rest)?;
            (Value::Date((u32::from_be_bytes(b) ^ 0x8000_0000) as i32), rest)
        }
        tag::TIME | tag::DATETIME | tag::TIMESTAMP => {
            let (b, rest) = take::<8>(rest)?;
            let v = (u64::from_be_bytes(b) ^ (1 << 63)) as i64;
            let v = match t {
                tag::TIME => Value::Time(v),
                tag::DATETIME => Value::DateTime(v),
                _ => Value::Timestamp(v),
            };
            (v, rest)
        }
        tag::OBJECT => {
            let mut obj = Object::new();
            let mut rest = rest;
            loop {
                let (&m, r) = rest.split_first().ok_or_else(|| corrupt("key", "unterminated object"))?;
                if m == 0 {
                    break (Value::Object(obj), r);
                }
                let (k, r) = unescape(r)?;
                let k = String::from_utf8(k).map_err(|_| corrupt("key", "field name is not UTF-8"))?;
                let (v, r) = decode_key(r)?;
                obj.insert(k, v);
                rest = r;
            }
        }
        tag::ARRAY => {
            let mut items = Vec::new();
            let mut rest = rest;
            loop {
                let (&m, r) = rest.split_first().ok_or_else(|| corrupt("key", "unterminated array"))?;
                if m == 0 {
                    break (Value::Array(items), r);
                }
                let (v, r) = decode_key(r)?;
                items.push(v);
                rest = r;
            }
        }
        other => return Err(corrupt("key", format!("unknown type tag {other:#x}"))),
    })
}

fn decode_number(rest: &[u8]) -> Result<(Value, &[u8])> {
    let (b, rest) = take::<8>(rest)?;
    let f = unsortable_f64(u64::from_be_bytes(b));
    let (&suffix, rest) = rest.split_first().ok_or_else(|| corrupt("key", "truncated number"))?;
    Ok(match suffix {
        FLOAT_EXACT => (Value::Float(f), rest),
        INT_EXACT => (Value::Int(f as i128 as i64), rest),
        INT_BELOW | INT_ABOVE => {
            let (r, rest) = take::<8>(rest)?;
            let residual = (u64::from_be_bytes(r) ^ (1 << 63)) as i64;
            (Value::Int((f as i128 + residual as i128) as i64), rest)
        }
        other => return Err(corrupt("key", format!("unknown number suffix {other:#x}"))),
    })
}

fn take<const N: usize>(input: &[u8]) -> Result<([u8; N], &[u8])> {
    if input.len() < N {
        return Err(corrupt("key", "truncated value"));
    }
    let (a, rest) = input.split_at(N);
    let mut buf = [0u8; N];
    buf.copy_from_slice(a);
    Ok((buf, rest))
}

fn unescape(input: &[u8]) -> Result<(Vec<u8>, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == 0 {
            match input.get(i + 1) {
                Some(0x01) => return Ok((out, &input[i + 2..])),
                Some(0xFF) => {
                    out.push(0);
                    i += 2;
                    continue;
                }
                _ => return Err(corrupt("key", "bad escape in string")),
            }
        }
        out.push(b);
        i += 1;
    }
    Err(corrupt("key", "unterminated string"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Ordering;

    /// Reference order: numeric across int/float, else by type order, then by value.
    fn model_cmp(a: &Value, b: &Value) -> Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Int(_) | Value::Float(_) => 2,
                other => other.value_type() as u8,
            }
        }
        match (a, b) {
            (Value::Int(x), Value::Int(y)) => x.cmp(y),
            (Value::Float(x), Value::Float(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
            (Value::Int(x), Value::Float(y)) => cmp_int_float(*x, *y),
            (Value::Float(x), Value::Int(y)) => cmp_int_float(*y, *x).reverse(),
            (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
            (Value::Bytes(x), Value::Bytes(y)) => x.cmp(y),
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            (Value::Date(x), Value::Date(y)) => x.cmp(y),
            (Value::Time(x), Value::Time(y)) | (Value::Timestamp(x), Value::Timestamp(y)) => x.cmp(y),
            (Value::Array(x), Value::Array(y)) => {
                for (p, q) in x.iter().zip(y) {
                    let o = model_cmp(p, q);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                x.len().cmp(&y.len())
            }
            _ => rank(a).cmp(&rank(b)),
        }
    }

    /// Int vs float, exactly; an equal int sorts after the float.
    fn cmp_int_float(i: i64, f: f64) -> Ordering {
        if f.is_nan() {
            return Ordering::Less;
        }
        if f >= 9.3e18 {
            return Ordering::Less;
        }
        if f <= -9.3e18 {
            return Ordering::Greater;
        }
        let fl = f.floor();
        match (i as i128).cmp(&(fl as i128)) {
            Ordering::Equal if fl == f => Ordering::Greater,
            Ordering::Equal => Ordering::Less,
            o => o,
        }
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            prop_oneof![Just(1i64 << 53), Just(i64::MAX), Just(i64::MIN), -5i64..5]
                .prop_flat_map(|b| (-3i64..3).prop_map(move |d| Value::Int(b.saturating_add(d)))),
            any::<f64>().prop_filter("no NaN", |f| !f.is_nan()).prop_map(Value::Float),
            prop_oneof![Just(9007199254740992.0f64), Just(-0.5), Just(0.0), Just(9.223372036854776e18)].prop_map(Value::Float),
            ".{0,6}".prop_map(Value::String),
            proptest::collection::vec(any::<u8>(), 0..6).prop_map(Value::Bytes),
            any::<i32>().prop_map(Value::Date),
            any::<i64>().prop_map(Value::Timestamp),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-c\u{0}]{0,2}", inner, 0..3).prop_map(Value::Object),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn byte_order_equals_value_order(a in scalar(), b in scalar()) {
            let (ka, kb) = (encode_key(&a), encode_key(&b));
            prop_assert_eq!(ka.cmp(&kb), model_cmp(&a, &b), "{:?} vs {:?}", a, b);
        }

        #[test]
        fn arrays_order_elementwise(a in proptest::collection::vec(scalar(), 0..4), b in proptest::collection::vec(scalar(), 0..4)) {
            let (a, b) = (Value::Array(a), Value::Array(b));
            prop_assert_eq!(encode_key(&a).cmp(&encode_key(&b)), model_cmp(&a, &b));
        }

        #[test]
        fn decode_inverts_encode(v in value()) {
            let k = encode_key(&v);
            let (back, rest) = decode_key(&k).unwrap();
            prop_assert!(rest.is_empty());
            let canonical = |v: &Value| encode_key(v);
            prop_assert_eq!(canonical(&back), k);
            if let Value::Int(_) = v { prop_assert_eq!(back, v); }
        }

        #[test]
        fn string_prefix_bounds_every_extension(p in ".{0,4}", s in ".{0,4}") {
            let mut pre = Vec::new();
            encode_string_prefix(&p, &mut pre);
            let full = encode_key(&Value::String(format!("{p}{s}")));
            prop_assert!(full.starts_with(&pre));
        }
    }

    #[test]
    fn int_and_float_interleave() {
        let vals = [Value::Float(-1.5), Value::Int(-1), Value::Float(0.0), Value::Int(0), Value::Float(0.5), Value::Int(1)];
        let keys: Vec<_> = vals.iter().map(encode_key).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(encode_key(&Value::Float(-0.0)), encode_key(&Value::Float(0.0)));
        let big = Value::Int((1 << 53) + 1);
        assert!(encode_key(&Value::Float(9007199254740992.0)) < encode_key(&big));
        assert_eq!(decode_key(&encode_key(&big)).unwrap().0, big);
        assert_eq!(decode_key(&encode_key(&Value::Int(i64::MAX))).unwrap().0, Value::Int(i64::MAX));
    }
}

//! The variant: how a value of any type travels through a query. Fields whose smart schema
//! holds objects, several types, or nulls beside missing values are *variant* columns: Arrow
//! `LargeBinary` holding each value in the storage engine's order-preserving key encoding, so
//! the value keeps its own type, byte order is Cairn's cross-type order (ORDER BY, MIN, MAX
//! and GROUP BY work on the bytes), and an Arrow null means the field is missing (undefined)
//! while a JSON null is an encoded null. Arrays are Arrow lists of variants.
//!
//! Plain Arrow columns take part too: an Arrow null there is a missing value.

use std::sync::Arc;

use arrow_array::builder::{LargeBinaryBuilder, StringBuilder};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, GenericListArray, Int64Array, LargeBinaryArray, ListArray, RecordBatch,
    StringArray,
};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef};
use cairn_storage::value::keycode::{decode_key, encode_key_into};
use cairn_storage::Value;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result as DFResult};

use crate::error::to_df;

/// The Arrow type of a variant value.
pub(crate) const VARIANT: DataType = DataType::LargeBinary;

/// The element field of an array column (a list of variants).
pub(crate) fn element_field() -> FieldRef {
    Arc::new(Field::new("item", VARIANT, true))
}

/// The Arrow type of an array column: a list of variants.
pub(crate) fn array_type() -> DataType {
    DataType::List(element_field())
}

/// Whether values of this Arrow type are variants.
pub(crate) fn is_variant(t: &DataType) -> bool {
    *t == VARIANT
}

/// Whether values of this Arrow type are arrays of variants.
pub(crate) fn is_variant_list(t: &DataType) -> bool {
    matches!(t, DataType::List(f) if is_variant(f.data_type()))
}

/// Whether this type needs Cairn's own operators (a variant or an array of variants).
pub(crate) fn is_dynamic(t: &DataType) -> bool {
    is_variant(t) || is_variant_list(t)
}

/// Decodes one variant value.
pub(crate) fn decode(bytes: &[u8]) -> DFResult<Value> {
    decode_key(bytes).map(|(v, _)| v).map_err(to_df)
}

/// Encodes one value as a variant.
pub(crate) fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    encode_key_into(v, &mut out);
    out
}

/// One value as a variant scalar: a literal or a bound parameter that keeps its own type.
pub fn variant_scalar(v: &Value) -> ScalarValue {
    ScalarValue::LargeBinary(Some(encode(v)))
}

/// The values of an array of any supported Arrow type; `None` is a missing (undefined) value.
pub(crate) fn values_of(array: &ArrayRef) -> DFResult<Vec<Option<Value>>> {
    let n = array.len();
    let nulls = |i: usize| array.is_null(i);
    let any = array.as_any();
    if let Some(a) = any.downcast_ref::<LargeBinaryArray>() {
        return (0..n).map(|i| if nulls(i) { Ok(None) } else { decode(a.value(i)).map(Some) }).collect();
    }
    if let Some(a) = any.downcast_ref::<Int64Array>() {
        return Ok((0..n).map(|i| (!nulls(i)).then(|| Value::Int(a.value(i)))).collect());
    }
    if let Some(a) = any.downcast_ref::<Float64Array>() {
        return Ok((0..n).map(|i| (!nulls(i)).then(|| Value::Float(a.value(i)))).collect());
    }
    if let Some(a) = any.downcast_ref::<StringArray>() {
        return Ok((0..n).map(|i| (!nulls(i)).then(|| Value::String(a.value(i).to_owned()))).collect());
    }
    if let Some(a) = any.downcast_ref::<BooleanArray>() {
        return Ok((0..n).map(|i| (!nulls(i)).then(|| Value::Bool(a.value(i)))).collect());
    }
    if let Some(list) = any.downcast_ref::<ListArray>() {
        return list_values(list);
    }
    (0..n)
        .map(|i| {
            if nulls(i) {
                return Ok(None);
            }
            scalar_to_value(ScalarValue::try_from_array(array, i)?).map(Some)
        })
        .collect()
}

fn list_values(list: &GenericListArray<i32>) -> DFResult<Vec<Option<Value>>> {
    let items = values_of(list.values())?;
    let offsets = list.value_offsets();
    Ok((0..list.len())
        .map(|i| {
            (!list.is_null(i)).then(|| {
                let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
                Value::Array(items[start..end].iter().map(|v| v.clone().unwrap_or(Value::Null)).collect())
            })
        })
        .collect())
}

/// A variant array of these values (`None` becomes an Arrow null: undefined).
pub(crate) fn variant_array<I: IntoIterator<Item = Option<Value>>>(values: I) -> ArrayRef {
    let mut b = LargeBinaryBuilder::new();
    let mut scratch = Vec::new();
    for v in values {
        match v {
            Some(v) => {
                scratch.clear();
                encode_key_into(&v, &mut scratch);
                b.append_value(&scratch);
            }
            None => b.append_null(),
        }
    }
    Arc::new(b.finish())
}

/// A list-of-variants array from one array value (or undefined) per row; non-arrays become
/// null.
pub(crate) fn list_array<I: IntoIterator<Item = Option<Value>>>(values: I) -> DFResult<ArrayRef> {
    let mut offsets = vec![0i32];
    let mut items = Vec::new();
    let mut valid = Vec::new();
    for v in values {
        match v {
            Some(Value::Array(elements)) => {
                items.extend(elements.into_iter().map(Some));
                valid.push(true);
            }
            _ => valid.push(false),
        }
        let len = i32::try_from(items.len()).map_err(|_| DataFusionError::Execution("array column too large".into()))?;
        offsets.push(len);
    }
    let list = ListArray::try_new(element_field(), OffsetBuffer::new(offsets.into()), variant_array(items), Some(valid.into()))?;
    Ok(Arc::new(list))
}

/// The value of a scalar (a literal) as a variant value; SQL NULL is `None`.
pub(crate) fn scalar_value(s: &ScalarValue) -> DFResult<Option<Value>> {
    if s.is_null() {
        return Ok(None);
    }
    match s {
        ScalarValue::LargeBinary(Some(b)) => decode(b).map(Some),
        other => values_of(&other.to_array()?).map(|mut v| v.pop().flatten()),
    }
}

/// The JSON text of every value of a variant or array-of-variants column (other columns are
/// returned unchanged): how dynamic values leave the engine.
pub(crate) fn render_json(array: &ArrayRef) -> DFResult<ArrayRef> {
    if !is_dynamic(array.data_type()) {
        return Ok(array.clone());
    }
    let mut b = StringBuilder::new();
    for v in values_of(array)? {
        match v {
            Some(v) => b.append_value(v.to_json_string()),
            None => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
}

/// Field metadata marking a result column that holds JSON text rendered from variants: a
/// PostgreSQL client sees it as `jsonb`.
pub const JSON_COLUMN: &str = "cairn.json";

/// The schema of a result set as it leaves the engine: each variant and array-of-variants
/// column becomes JSON text, marked with [`JSON_COLUMN`].
pub(crate) fn render_schema(schema: &SchemaRef) -> SchemaRef {
    if !schema.fields().iter().any(|f| is_dynamic(f.data_type())) {
        return schema.clone();
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match is_dynamic(f.data_type()) {
            true => Field::new(f.name(), DataType::Utf8, f.is_nullable())
                .with_metadata([(JSON_COLUMN.to_owned(), "true".to_owned())].into()),
            false => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// A result set with every variant and array-of-variants column as JSON text.
pub(crate) fn render_result(schema: &SchemaRef, batches: Vec<RecordBatch>) -> DFResult<(SchemaRef, Vec<RecordBatch>)> {
    let out_schema = render_schema(schema);
    if Arc::ptr_eq(&out_schema, schema) {
        return Ok((out_schema, batches));
    }
    let batches = batches
        .iter()
        .map(|b| {
            let cols = b.columns().iter().map(render_json).collect::<DFResult<Vec<_>>>()?;
            Ok(RecordBatch::try_new(out_schema.clone(), cols)?)
        })
        .collect::<DFResult<Vec<_>>>()?;
    Ok((out_schema, batches))
}

/// A SQL value as a storage value.
pub(crate) fn scalar_to_value(s: ScalarValue) -> DFResult<Value> {
    use ScalarValue as S;
    if s.is_null() {
        return Ok(Value::Null);
    }
    Ok(match s {
        S::Boolean(Some(b)) => Value::Bool(b),
        S::Int8(Some(i)) => Value::Int(i.into()),
        S::Int16(Some(i)) => Value::Int(i.into()),
        S::Int32(Some(i)) => Value::Int(i.into()),
        S::Int64(Some(i)) => Value::Int(i),
        S::UInt8(Some(i)) => Value::Int(i.into()),
        S::UInt16(Some(i)) => Value::Int(i.into()),
        S::UInt32(Some(i)) => Value::Int(i.into()),
        S::UInt64(Some(i)) => i64::try_from(i).map(Value::Int).unwrap_or(Value::Float(i as f64)),
        S::Float16(Some(f)) => Value::Float(f.to_f64()),
        S::Float32(Some(f)) => Value::Float(f.into()),
        S::Float64(Some(f)) => Value::Float(f),
        S::Decimal128(Some(v), _, scale) => Value::Float(v as f64 / 10f64.powi(scale.into())),
        S::Utf8(Some(s)) | S::LargeUtf8(Some(s)) | S::Utf8View(Some(s)) => Value::String(s),
        S::Binary(Some(b)) | S::BinaryView(Some(b)) => Value::Bytes(b),
        S::LargeBinary(Some(b)) => decode(&b)?,
        S::List(list) => {
            let list: ArrayRef = list;
            values_of(&list)?.pop().flatten().unwrap_or(Value::Null)
        }
        S::Date32(Some(d)) => Value::Date(d),
        S::Time64Microsecond(Some(t)) => Value::Time(t),
        S::TimestampMicrosecond(Some(t), tz) => timestamp(t, tz.is_some()),
        S::TimestampMillisecond(Some(t), tz) => timestamp(t.saturating_mul(1_000), tz.is_some()),
        S::TimestampSecond(Some(t), tz) => timestamp(t.saturating_mul(1_000_000), tz.is_some()),
        S::TimestampNanosecond(Some(t), tz) => timestamp(t / 1_000, tz.is_some()),
        other => {
            return Err(DataFusionError::NotImplemented(format!(
                "storing values of SQL type {} in a document",
                other.data_type()
            )))
        }
    })
}

fn timestamp(micros: i64, zoned: bool) -> Value {
    if zoned {
        Value::Timestamp(micros)
    } else {
        Value::DateTime(micros)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_round_trip_and_render_as_json() {
        let vals = vec![Some(Value::Int(1)), None, Some(Value::Null), Some(Value::from_json_str(r#"{"a":[1,"x"]}"#).unwrap())];
        let arr = variant_array(vals.clone());
        assert_eq!(values_of(&arr).unwrap(), vals);
        let json = render_json(&arr).unwrap();
        let json = json.as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(json.value(0), "1");
        assert!(json.is_null(1));
        assert_eq!(json.value(2), "null");
        assert_eq!(json.value(3), r#"{"a":[1,"x"]}"#);
    }

    #[test]
    fn lists_hold_variants() {
        let arr = list_array(vec![Some(Value::from_json_str("[1,null,\"b\"]").unwrap()), None]).unwrap();
        assert!(is_variant_list(arr.data_type()));
        let back = values_of(&arr).unwrap();
        assert_eq!(back[0], Some(Value::from_json_str("[1,null,\"b\"]").unwrap()));
        assert_eq!(back[1], None);
    }
}

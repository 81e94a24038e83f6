//! The values a client binds to a prepared statement's parameters, as engine values. A value
//! is read in the type the client declared for it, else the type the statement gives the
//! parameter, else as text (as PostgreSQL reads an untyped literal). `json`/`jsonb` values
//! are parsed into documents, so a bound JSON object is stored as an object.

use std::sync::Arc;

use bytes::Bytes;
use cairn_engine::{variant_scalar, SqlState};
use cairn_storage::Value;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion_postgres::arrow_pg::datatypes::df::deserialize_parameters_with_server_types;
use datafusion_postgres::pgwire::api::portal::{Format, Portal};
use datafusion_postgres::pgwire::api::stmt::StoredStatement;
use datafusion_postgres::pgwire::api::Type;
use datafusion_postgres::pgwire::error::PgWireResult;

use super::encode::refuse;

/// The values bound in `portal`, `$1` first; `inferred` holds the type the statement gives
/// each parameter.
pub(super) fn decode<S: Clone>(portal: &Portal<S>, inferred: &[Option<DataType>]) -> PgWireResult<Vec<ScalarValue>> {
    let n = portal.parameter_len();
    if let Format::Individual(codes) = &portal.parameter_format {
        if codes.len() != n {
            return Err(refuse(
                SqlState::ProtocolViolation,
                format!("bind message has {} parameter formats but {n} parameters", codes.len()),
            ));
        }
    }
    let declared: Vec<Option<Type>> = (0..n).map(|i| portal.statement.parameter_types.get(i).cloned().flatten()).collect();
    let is_json = |t: &Option<Type>| matches!(t, Some(Type::JSON | Type::JSONB));
    // arrow-pg reads every other type; JSON values are read here, and stand in as text NULLs.
    let mut others: Portal<()> = Portal::default();
    others.parameter_format = portal.parameter_format.clone();
    others.parameters = portal.parameters.iter().zip(&declared).map(|(p, t)| if is_json(t) { None } else { p.clone() }).collect();
    let types = declared.iter().map(|t| if is_json(t) { Some(Type::TEXT) } else { t.clone() }).collect();
    others.statement = Arc::new(StoredStatement::new(portal.statement.id.clone(), (), types));
    let inferred: Vec<Option<&DataType>> = (0..n).map(|i| inferred.get(i).and_then(Option::as_ref)).collect();
    // Where neither the client nor the statement decides, the value is text.
    let fallback: Vec<Option<&Type>> = inferred.iter().map(|t| if t.is_none() { Some(&Type::TEXT) } else { None }).collect();
    let values = deserialize_parameters_with_server_types(&others, &inferred, &fallback)?;
    let mut out = Vec::with_capacity(n);
    for (i, declared) in declared.iter().enumerate() {
        if is_json(declared) {
            let binary_jsonb = *declared == Some(Type::JSONB) && portal.parameter_format.is_binary(i);
            out.push(json(portal.parameters[i].as_ref(), binary_jsonb, i)?);
        } else {
            let value = values
                .get_placeholders_with_values(&format!("${}", i + 1))
                .map_err(|e| refuse(SqlState::ProtocolViolation, e.to_string()))?;
            out.push(value.value);
        }
    }
    Ok(out)
}

/// A bound JSON value (text, or jsonb's binary form: a version byte, then text) as a variant.
fn json(bytes: Option<&Bytes>, binary_jsonb: bool, i: usize) -> PgWireResult<ScalarValue> {
    let Some(bytes) = bytes else { return Ok(ScalarValue::LargeBinary(None)) };
    let text = match (binary_jsonb, bytes.split_first()) {
        (false, _) => &bytes[..],
        (true, Some((1, text))) => text,
        (true, _) => {
            return Err(refuse(SqlState::InvalidTextRepresentation, format!("parameter ${}: unsupported jsonb version", i + 1)))
        }
    };
    let text = std::str::from_utf8(text)
        .map_err(|e| refuse(SqlState::CharacterNotInRepertoire, format!("parameter ${}: {e}", i + 1)))?;
    let value = Value::from_json_str(text)
        .map_err(|e| refuse(SqlState::InvalidTextRepresentation, format!("parameter ${}: invalid JSON: {e}", i + 1)))?;
    Ok(variant_scalar(&value))
}

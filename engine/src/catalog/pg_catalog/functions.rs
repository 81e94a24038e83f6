//! Functions of PostgreSQL's catalog as Cairn answers them: `current_schema()` and
//! `current_setting()` from the session, `version()` and the server's settings, the type and
//! owner lookups tools make, and `session_user`.

use std::sync::Arc;

use arrow_array::{ArrayRef, ListArray, StringArray};
use arrow_schema::{DataType, Field};
use datafusion::common::{exec_err, Result as DFResult, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use cairn_storage::SUPERUSER;

use super::PG_CATALOG;

/// The PostgreSQL release whose protocol and catalog Cairn follows.
const PG_VERSION: &str = "16.6";
/// The version Cairn reports as PostgreSQL's `server_version`.
pub const SERVER_VERSION: &str = concat!("16.6 (Cairn ", env!("CARGO_PKG_VERSION"), ")");

/// `current_schema()` and `current_schemas(implicit)`: the session's workspace (the default
/// schema it plans under), then with `implicit` the system schemas searched before it.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CurrentSchema {
    list: bool,
    signature: Signature,
}

impl CurrentSchema {
    fn udf(list: bool) -> ScalarUDF {
        let signature = match list {
            true => Signature::exact(vec![DataType::Boolean], Volatility::Stable),
            false => Signature::exact(vec![], Volatility::Stable),
        };
        ScalarUDF::new_from_impl(CurrentSchema { list, signature })
    }
}

impl ScalarUDFImpl for CurrentSchema {
    fn name(&self) -> &str {
        if self.list {
            "current_schemas"
        } else {
            "current_schema"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DFResult<DataType> {
        Ok(match self.list {
            true => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            false => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DFResult<ColumnarValue> {
        let current = args.config_options.catalog.default_schema.clone();
        if !self.list {
            return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(current))));
        }
        let implicit = match args.args.first() {
            Some(ColumnarValue::Scalar(ScalarValue::Boolean(b))) => b.unwrap_or(false),
            _ => return exec_err!("current_schemas takes a constant boolean"),
        };
        let mut names = Vec::new();
        if implicit {
            names.push(PG_CATALOG.to_owned());
        }
        names.push(current);
        let values: ArrayRef = Arc::new(StringArray::from(names));
        let list = ListArray::new(
            Arc::new(Field::new("item", DataType::Utf8, true)),
            arrow_buffer::OffsetBuffer::from_lengths([values.len()]),
            values,
            None,
        );
        Ok(ColumnarValue::Scalar(ScalarValue::List(Arc::new(list))))
    }
}

/// `current_setting(name [, missing_ok])`: the server's settings tools ask for at connect
/// (`server_version_num`, `search_path`, …); an unknown one is an error unless `missing_ok`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CurrentSetting {
    signature: Signature,
}

impl CurrentSetting {
    fn udf() -> ScalarUDF {
        let signature = Signature::one_of(
            vec![
                datafusion::logical_expr::TypeSignature::Exact(vec![DataType::Utf8]),
                datafusion::logical_expr::TypeSignature::Exact(vec![DataType::Utf8, DataType::Boolean]),
            ],
            Volatility::Stable,
        );
        ScalarUDF::new_from_impl(CurrentSetting { signature })
    }

    /// The value of setting `name` (case-insensitive) in a session planning in `schema`.
    fn value(name: &str, schema: &str) -> Option<String> {
        let fixed = match name.to_ascii_lowercase().as_str() {
            "search_path" => return Some(format!("\"$user\", {schema}")),
            "server_version" => SERVER_VERSION,
            "server_version_num" => return Some(version_num()),
            "server_encoding" | "client_encoding" => "UTF8",
            "datestyle" => "ISO, MDY",
            "timezone" | "log_timezone" => "UTC",
            "intervalstyle" => "postgres",
            "standard_conforming_strings" | "integer_datetimes" => "on",
            "max_identifier_length" => "63",
            "block_size" => "8192",
            "default_transaction_isolation" | "transaction_isolation" => "read committed",
            "default_transaction_read_only" | "transaction_read_only" => "off",
            "lc_collate" | "lc_ctype" => "C.UTF-8",
            "application_name" => "",
            _ => return None,
        };
        Some(fixed.to_owned())
    }
}

/// `server_version_num` for [`PG_VERSION`]: 16.6 is 160006.
fn version_num() -> String {
    let mut parts = PG_VERSION.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major * 10000 + minor).to_string()
}

impl ScalarUDFImpl for CurrentSetting {
    fn name(&self) -> &str {
        "current_setting"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DFResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DFResult<ColumnarValue> {
        let name = match args.args.first() {
            Some(ColumnarValue::Scalar(ScalarValue::Utf8(Some(n)))) => n.clone(),
            _ => return exec_err!("current_setting takes a constant setting name"),
        };
        let missing_ok = matches!(args.args.get(1), Some(ColumnarValue::Scalar(ScalarValue::Boolean(Some(true)))));
        match CurrentSetting::value(&name, &args.config_options.catalog.default_schema) {
            Some(v) => Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(v)))),
            None if missing_ok => Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None))),
            None => exec_err!("unrecognized configuration parameter \"{name}\""),
        }
    }
}

/// PostgreSQL's built-in types by name (and their SQL spellings), with their oids.
const TYPE_OIDS: &[(&str, i32)] = &[
    ("bool", 16),
    ("boolean", 16),
    ("bytea", 17),
    ("char", 18),
    ("name", 19),
    ("int8", 20),
    ("bigint", 20),
    ("int2", 21),
    ("smallint", 21),
    ("int4", 23),
    ("integer", 23),
    ("int", 23),
    ("text", 25),
    ("oid", 26),
    ("json", 114),
    ("xml", 142),
    ("float4", 700),
    ("real", 700),
    ("float8", 701),
    ("double precision", 701),
    ("bpchar", 1042),
    ("character", 1042),
    ("varchar", 1043),
    ("character varying", 1043),
    ("date", 1082),
    ("time", 1083),
    ("time without time zone", 1083),
    ("timestamp", 1114),
    ("timestamp without time zone", 1114),
    ("timestamptz", 1184),
    ("timestamp with time zone", 1184),
    ("interval", 1186),
    ("numeric", 1700),
    ("decimal", 1700),
    ("uuid", 2950),
    ("jsonb", 3802),
    ("regclass", 2205),
    ("regtype", 2206),
];

/// `to_regtype(name)`: the oid of a built-in type, NULL for a type Cairn does not have (drivers
/// probe for extension types such as `hstore` this way).
fn to_regtype() -> ScalarUDF {
    datafusion::logical_expr::create_udf(
        "to_regtype",
        vec![DataType::Utf8],
        DataType::Int32,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let names = ColumnarValue::values_to_arrays(args)?;
            let names = names
                .first()
                .and_then(|a| a.as_any().downcast_ref::<StringArray>())
                .cloned()
                .unwrap_or_else(|| StringArray::from(Vec::<&str>::new()));
            let oids: arrow_array::Int32Array = names
                .iter()
                .map(|n| {
                    let n = n?.trim().trim_start_matches("pg_catalog.").to_ascii_lowercase();
                    TYPE_OIDS.iter().find(|(name, _)| *name == n).map(|(_, oid)| *oid)
                })
                .collect();
            Ok(ColumnarValue::Array(Arc::new(oids)))
        }),
    )
}

/// `pg_type_is_visible(oid)` and its kin: everything Cairn lists is on the search path.
fn visible(name: &str) -> ScalarUDF {
    fixed(name, vec![DataType::Int32], Volatility::Stable, ScalarValue::Boolean(Some(true)))
}

/// Descriptions and definitions of what Cairn does not have (column comments, indexes):
/// `col_description(oid, n)` and `pg_get_indexdef(oid, n, pretty)` are NULL.
fn undescribed() -> [ScalarUDF; 2] {
    let null = ScalarValue::Utf8(None);
    [
        fixed("col_description", vec![DataType::Int32, DataType::Int64], Volatility::Stable, null.clone()),
        fixed("pg_get_indexdef", vec![DataType::Int32, DataType::Int64, DataType::Boolean], Volatility::Stable, null),
    ]
}

/// `pg_get_userbyid(oid)`: every object is the superuser's.
fn owner() -> ScalarUDF {
    fixed("pg_get_userbyid", vec![DataType::Int32], Volatility::Stable, ScalarValue::Utf8(Some(SUPERUSER.to_owned())))
}

/// `version()`, as PostgreSQL words it (drivers and ORMs parse the release from it).
fn version() -> ScalarUDF {
    constant("version", format!("PostgreSQL {PG_VERSION} (Cairn {}) on x86_64-pc-linux-gnu, 64-bit", env!("CARGO_PKG_VERSION")))
}

/// `session_user` (and so `current_user`) answering `role`.
pub(crate) fn session_user(role: &str) -> ScalarUDF {
    constant("session_user", role.to_owned())
}

/// A function of no arguments returning `value`.
fn constant(name: &str, value: String) -> ScalarUDF {
    fixed(name, vec![], Volatility::Immutable, ScalarValue::Utf8(Some(value)))
}

/// A function of `args` answering `value` whatever they are: one value per row when it is
/// given a column, else one value.
fn fixed(name: &str, args: Vec<DataType>, volatility: Volatility, value: ScalarValue) -> ScalarUDF {
    let returns = value.data_type();
    datafusion::logical_expr::create_udf(
        name,
        args,
        returns,
        volatility,
        Arc::new(move |args: &[ColumnarValue]| match args.first() {
            Some(ColumnarValue::Array(a)) => Ok(ColumnarValue::Array(value.to_array_of_size(a.len())?)),
            _ => Ok(ColumnarValue::Scalar(value.clone())),
        }),
    )
}

/// Every function here, to register with a session.
pub(super) fn all() -> Vec<ScalarUDF> {
    let mut udfs = vec![
        CurrentSchema::udf(false),
        CurrentSchema::udf(true),
        version(),
        owner(),
        to_regtype(),
        session_user(SUPERUSER),
        CurrentSetting::udf(),
        crate::functions::pg_format::Format::udf(),
    ];
    udfs.extend(undescribed());
    udfs.extend(["pg_type_is_visible", "pg_function_is_visible"].map(visible));
    udfs
}

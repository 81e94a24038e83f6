//! A connection's settings, as session commands (see `statement::session_command`) change
//! them. Settings live in the connection's metadata under their canonical names (where pgwire
//! also keeps the startup parameters), so a value a client sent at startup is what `SHOW`
//! answers.

use std::collections::HashMap;
use std::time::Duration;

use cairn_engine::{ReadFence, Session, SqlState, SERVER_VERSION};
use datafusion_postgres::pgwire::types::format::FormatOptions;

use crate::statement::Refusal;

/// A setting PostgreSQL clients read or write: its canonical name, its default, whether
/// clients may change it, and whether a change is reported to the client (`ParameterStatus`).
struct Known {
    name: &'static str,
    default: &'static str,
    writable: bool,
    reported: bool,
}

const fn known(name: &'static str, default: &'static str, writable: bool, reported: bool) -> Known {
    Known { name, default, writable, reported }
}

/// The settings Cairn knows.
const KNOWN: &[Known] = &[
    known("application_name", "", true, true),
    known("bytea_output", "hex", true, false),
    known("client_encoding", "UTF8", true, true),
    known("client_min_messages", "notice", true, false),
    known("DateStyle", "ISO, MDY", true, true),
    known("default_transaction_isolation", "read committed", true, false),
    known("default_transaction_read_only", "off", true, true),
    known("extra_float_digits", "1", true, false),
    known("idle_in_transaction_session_timeout", "0", true, false),
    known("in_hot_standby", "off", false, true),
    known("integer_datetimes", "on", false, true),
    known("IntervalStyle", "postgres", true, true),
    known("is_superuser", "on", false, true),
    known("lc_collate", "C", false, false),
    known("lc_ctype", "C", false, false),
    known("lc_messages", "C", true, false),
    known("lc_monetary", "C", true, false),
    known("lc_numeric", "C", true, false),
    known("lc_time", "C", true, false),
    known("lock_timeout", "0", true, false),
    known("max_identifier_length", "63", false, false),
    known("search_path", "commons", true, false),
    known("server_encoding", "UTF8", false, true),
    known("server_version", SERVER_VERSION, false, true),
    known("server_version_num", "160006", false, false),
    known("standard_conforming_strings", "on", true, true),
    known("statement_timeout", "0", true, false),
    known("synchronous_commit", "on", true, false),
    known("TimeZone", "UTC", true, true),
    known("transaction_isolation", "read committed", true, false),
    known("transaction_read_only", "off", true, false),
    known("xmloption", "content", true, false),
];

/// The settings a client is told about when it connects, with their values.
pub(super) fn reported_at_startup() -> impl Iterator<Item = (&'static str, &'static str)> {
    KNOWN.iter().filter(|k| k.reported && k.name != "application_name").map(|k| (k.name, k.default))
}

fn find(name: &str) -> Option<&'static Known> {
    let name = if name.eq_ignore_ascii_case("time zone") { "TimeZone" } else { name };
    KNOWN.iter().find(|k| k.name.eq_ignore_ascii_case(name))
}

/// The connection's settings (its metadata).
pub(super) type Metadata = HashMap<String, String>;

/// The value of setting `name`: the session's, else the server's default.
pub(super) fn value(metadata: &Metadata, name: &str) -> Option<String> {
    let canonical = find(name).map(|k| k.name).unwrap_or(name);
    if let Some(v) = metadata.iter().find(|(k, _)| k.eq_ignore_ascii_case(canonical)).map(|(_, v)| v.clone()) {
        return Some(v);
    }
    match canonical {
        "session_authorization" => metadata.get("user").cloned(),
        _ => find(canonical).map(|k| k.default.to_owned()),
    }
}

/// Every known setting and its value.
pub(super) fn all(metadata: &Metadata) -> Vec<(&'static str, String)> {
    KNOWN.iter().map(|k| (k.name, value(metadata, k.name).unwrap_or_default())).collect()
}

/// Applies `SET name = value` (None: back to the default). Returns the setting's canonical
/// name and, if it is one clients are told about, its new value.
pub(super) fn set(metadata: &mut Metadata, name: &str, value: Option<String>) -> Result<(String, Option<String>), Refusal> {
    let known = find(name);
    let canonical = match known {
        Some(k) if !k.writable => {
            return Err(Refusal::new(SqlState::CantChangeRuntimeParam, format!("parameter \"{}\" cannot be changed", k.name)))
        }
        Some(k) => k.name.to_owned(),
        // PostgreSQL accepts any two-part name as a custom setting.
        None if name.contains('.') => name.to_ascii_lowercase(),
        None => return Err(unknown_setting(name)),
    };
    let value = match (canonical.as_str(), value) {
        ("client_encoding", Some(v)) if !matches!(v.to_ascii_uppercase().replace('-', "").as_str(), "UTF8" | "UNICODE") => {
            return Err(Refusal::new(
                SqlState::FeatureNotSupported,
                format!("client_encoding \"{v}\" is not supported: Cairn speaks UTF8"),
            ));
        }
        (READ_AFTER, Some(v)) => {
            ReadFence::parse_list(&v).map_err(|m| {
                Refusal::new(SqlState::InvalidParameterValue, format!("invalid value for parameter \"{READ_AFTER}\": {m}"))
            })?;
            Some(v)
        }
        ("statement_timeout" | "lock_timeout" | "idle_in_transaction_session_timeout", Some(v)) => {
            let ms = milliseconds(&v).ok_or_else(|| {
                Refusal::new(SqlState::InvalidParameterValue, format!("invalid value for parameter \"{canonical}\": \"{v}\""))
            })?;
            Some(show_ms(ms))
        }
        (_, v) => v,
    };
    metadata.retain(|k, _| !k.eq_ignore_ascii_case(&canonical));
    if let Some(v) = &value {
        metadata.insert(canonical.clone(), v.clone());
    }
    let reported = known.filter(|k| k.reported).and_then(|_| self::value(metadata, &canonical));
    Ok((canonical, reported))
}

/// The refusal of a setting Cairn does not know.
pub(super) fn unknown_setting(name: &str) -> Refusal {
    Refusal::new(SqlState::UndefinedObject, format!("unrecognized configuration parameter \"{name}\""))
}

/// Forgets every setting the session changed (`RESET ALL`).
pub(super) fn reset_all(metadata: &mut Metadata) {
    metadata.retain(|k, _| !KNOWN.iter().any(|known| known.writable && known.name.eq_ignore_ascii_case(k)) && !k.contains('.'));
}

/// A duration setting's value in milliseconds: a number (milliseconds) or a number with a
/// unit (`ms`, `s`, `min`, `h`, `d`).
fn milliseconds(v: &str) -> Option<u64> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (n, unit) = (v[..split].parse::<u64>().ok()?, v[split..].trim());
    let factor = match unit {
        "" | "ms" => 1,
        "s" => 1_000,
        "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(factor)
}

/// A millisecond duration as PostgreSQL shows it.
fn show_ms(ms: u64) -> String {
    match ms {
        0 => "0".to_owned(),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

/// The setting naming offsets every statement of the session waits for before it runs:
/// `SET cairn.read_after = 'shop.orders:1234'` (a write's `last_offset`).
pub(super) const READ_AFTER: &str = "cairn.read_after";

/// How long a statement waits for its read fences when the session set no statement
/// timeout.
const READ_AFTER_WAIT: Duration = Duration::from_secs(30);

/// The read fences the session set (checked when they were set) and how long to wait for
/// them: the statement timeout, else 30 seconds.
pub(super) fn read_after(metadata: &Metadata) -> (Vec<ReadFence>, Duration) {
    let fences = value(metadata, READ_AFTER).and_then(|v| ReadFence::parse_list(&v).ok()).unwrap_or_default();
    (fences, statement_timeout(metadata).unwrap_or(READ_AFTER_WAIT))
}

/// The statement timeout the session set; None when there is none.
pub(super) fn statement_timeout(metadata: &Metadata) -> Option<Duration> {
    let ms = value(metadata, "statement_timeout").and_then(|v| milliseconds(&v))?;
    (ms > 0).then(|| Duration::from_millis(ms))
}

/// How values are written as text for this session (DateStyle, IntervalStyle, bytea_output,
/// extra_float_digits).
pub(super) fn format_options(metadata: &Metadata) -> FormatOptions {
    let names = ["DateStyle", "IntervalStyle", "bytea_output", "extra_float_digits"];
    let lowercase: Metadata = names.iter().filter_map(|n| Some((n.to_ascii_lowercase(), value(metadata, n)?))).collect();
    FormatOptions::from_client_metadata(&lowercase)
}

/// The engine session of a connection: its search path's first workspace.
pub(super) fn session(metadata: &Metadata) -> Session {
    let path = value(metadata, "search_path").unwrap_or_default();
    let workspace = path
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .find(|s| !s.is_empty() && *s != "$user" && *s != "pg_catalog")
        .map(str::to_owned);
    let user = metadata.get(datafusion_postgres::pgwire::api::METADATA_USER).cloned();
    Session { workspace, user }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_validate_and_report() {
        let mut m = Metadata::new();
        assert_eq!(set(&mut m, "STATEMENT_TIMEOUT", Some("1500".into())).unwrap(), ("statement_timeout".into(), None));
        assert_eq!(value(&m, "statement_timeout").unwrap(), "1500ms");
        assert_eq!(statement_timeout(&m), Some(Duration::from_millis(1500)));
        set(&mut m, "statement_timeout", Some("2s".into())).unwrap();
        assert_eq!(statement_timeout(&m), Some(Duration::from_secs(2)));
        assert_eq!(set(&mut m, "statement_timeout", Some("soon".into())).unwrap_err().state, SqlState::InvalidParameterValue);
        assert_eq!(set(&mut m, "server_version", Some("1".into())).unwrap_err().state, SqlState::CantChangeRuntimeParam);
        assert_eq!(set(&mut m, "no_such_thing", Some("1".into())).unwrap_err().state, SqlState::UndefinedObject);
        assert_eq!(set(&mut m, "client_encoding", Some("LATIN1".into())).unwrap_err().state, SqlState::FeatureNotSupported);
        set(&mut m, "client_encoding", Some("utf-8".into())).unwrap();
        assert_eq!(set(&mut m, "datestyle", Some("ISO, DMY".into())).unwrap().1.as_deref(), Some("ISO, DMY"));
        assert_eq!(format_options(&m).date_style, "ISO, DMY");
        assert_eq!(set(&mut m, "search_path", Some("\"$user\", web".into())).unwrap().1, None);
        assert_eq!(session(&m).workspace.as_deref(), Some("web"));
        assert_eq!(set(&mut m, READ_AFTER, Some("orders".into())).unwrap_err().state, SqlState::InvalidParameterValue);
        set(&mut m, "CAIRN.READ_AFTER", Some("shop.orders:7".into())).unwrap();
        assert_eq!(read_after(&m).0, vec![ReadFence { workspace: Some("shop".into()), collection: "orders".into(), offset: 7 }]);
        assert_eq!(read_after(&m).1, Duration::from_secs(2), "the statement timeout bounds the wait");
        reset_all(&mut m);
        assert_eq!(read_after(&m).0, vec![]);
        assert_eq!(value(&m, "DateStyle").unwrap(), "ISO, MDY");
        assert_eq!(session(&m).workspace.as_deref(), Some("commons"));
        assert_eq!(statement_timeout(&m), None);
    }
}

//! Session commands PostgreSQL clients send around their queries: `SET`, `SHOW`, `RESET`,
//! `DISCARD` and transaction control. Settings live in the connection's metadata under their
//! canonical names (where pgwire also keeps the startup parameters), so a value a client sent
//! at startup is what `SHOW` answers. Every statement commits on its own: `BEGIN`, `COMMIT`
//! and `ROLLBACK` are accepted for drivers and ORMs but group nothing.

use std::collections::HashMap;
use std::time::Duration;

use cairn_engine::Session;

/// A session command, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Command {
    /// `SET name TO value` (None: `TO DEFAULT`), `SET TIME ZONE value`, `RESET name`.
    Set { name: String, value: Option<String> },
    /// `RESET ALL`, `DISCARD ALL`.
    ResetAll { tag: &'static str },
    /// `SHOW name`.
    Show(String),
    /// `SHOW ALL`.
    ShowAll,
    /// `BEGIN`, `START TRANSACTION`.
    Begin,
    /// `COMMIT`, `END`.
    Commit,
    /// `ROLLBACK`, `ABORT`.
    Rollback,
    /// Accepted and answered with this tag, changing nothing (`SET TRANSACTION …`,
    /// `SAVEPOINT`, `RELEASE`, `ROLLBACK TO`).
    Accept(&'static str),
}

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

use cairn_engine::SERVER_VERSION;
use datafusion_postgres::pgwire::types::format::FormatOptions;

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

/// Why a session command failed: the SQLSTATE and the message.
pub(super) type Refusal = (&'static str, String);

/// The command `sql` is, if it is a session command; the error if it is a malformed one.
pub(super) fn parse(sql: &str) -> Option<Result<Command, Refusal>> {
    let words = words(sql);
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    let first = lower.first()?.as_str();
    let second = lower.get(1).map(String::as_str);
    let command = match first {
        "begin" => Command::Begin,
        "start" if second == Some("transaction") => Command::Begin,
        "commit" | "end" => Command::Commit,
        "rollback" if second == Some("to") || lower.get(2).is_some_and(|w| w == "to") => Command::Accept("ROLLBACK"),
        "rollback" | "abort" => Command::Rollback,
        "savepoint" => Command::Accept("SAVEPOINT"),
        "release" => Command::Accept("RELEASE"),
        "discard" => Command::ResetAll { tag: "DISCARD ALL" },
        "reset" if second == Some("all") => Command::ResetAll { tag: "RESET" },
        "reset" => Command::Set { name: words.get(1..).unwrap_or_default().join(" "), value: None },
        "show" => match lower.get(1..).unwrap_or_default() {
            [] => return Some(Err(("42601", "SHOW needs a setting's name".to_owned()))),
            [all] if all == "all" => Command::ShowAll,
            // Listing tables and columns is the engine's (through information_schema).
            [what, ..] if matches!(what.as_str(), "tables" | "columns" | "functions") => return None,
            [time, zone] if time == "time" && zone == "zone" => Command::Show("TimeZone".to_owned()),
            [t, i, l] if t == "transaction" && i == "isolation" && l == "level" => {
                Command::Show("transaction_isolation".to_owned())
            }
            [_] => Command::Show(words[1].clone()),
            _ => return Some(Err(("42601", format!("cannot parse SHOW: {sql}")))),
        },
        "set" => return Some(parse_set(&words[1..], &lower[1..])),
        _ => return None,
    };
    Some(Ok(command))
}

/// `SET [SESSION | LOCAL] …` after the SET.
fn parse_set(words: &[String], lower: &[String]) -> Result<Command, Refusal> {
    let skip = usize::from(lower.first().is_some_and(|w| w == "session" || w == "local"));
    let (words, lower) = (&words[skip..], &lower[skip..]);
    match lower {
        [t, ..] if t == "transaction" => Ok(Command::Accept("SET")),
        [c, ..] if c == "characteristics" => Ok(Command::Accept("SET")),
        [t, z, ..] if t == "time" && z == "zone" => Ok(Command::Set { name: "TimeZone".into(), value: set_value(&words[2..]) }),
        [n, ..] if n == "names" => Ok(Command::Set { name: "client_encoding".into(), value: set_value(&words[1..]) }),
        [_, to, ..] if to == "to" || to == "=" => Ok(Command::Set { name: words[0].clone(), value: set_value(&words[2..]) }),
        _ => Err(("42601", format!("cannot parse SET {}", words.join(" ")))),
    }
}

/// The value of a SET: None for DEFAULT, a list's items joined by ", ".
fn set_value(words: &[String]) -> Option<String> {
    if words.len() == 1 && words[0].eq_ignore_ascii_case("default") {
        return None;
    }
    Some(words.iter().filter(|w| *w != ",").cloned().collect::<Vec<_>>().join(", "))
}

/// The words of a command: quotes removed from string literals and quoted identifiers, commas
/// and `=` their own words, a trailing semicolon dropped.
fn words(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = sql.trim().trim_end_matches(';').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            ',' | '=' => out.push(c.to_string()),
            '\'' | '"' => {
                let mut word = String::new();
                while let Some(n) = chars.next() {
                    if n == c {
                        if chars.peek() == Some(&c) {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    word.push(n);
                }
                out.push(word);
            }
            c => {
                let mut word = c.to_string();
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || n == ',' || n == '=' {
                        break;
                    }
                    word.push(n);
                    chars.next();
                }
                out.push(word);
            }
        }
    }
    out
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
        Some(k) if !k.writable => return Err(("55P02", format!("parameter \"{}\" cannot be changed", k.name))),
        Some(k) => k.name.to_owned(),
        // PostgreSQL accepts any two-part name as a custom setting.
        None if name.contains('.') => name.to_ascii_lowercase(),
        None => return Err(("42704", format!("unrecognized configuration parameter \"{name}\""))),
    };
    let value = match (canonical.as_str(), value) {
        ("client_encoding", Some(v)) if !matches!(v.to_ascii_uppercase().replace('-', "").as_str(), "UTF8" | "UNICODE") => {
            return Err(("0A000", format!("client_encoding \"{v}\" is not supported: Cairn speaks UTF8")));
        }
        ("statement_timeout" | "lock_timeout" | "idle_in_transaction_session_timeout", Some(v)) => {
            let ms = milliseconds(&v)
                .ok_or_else(|| ("22023", format!("invalid value for parameter \"{canonical}\": \"{v}\"")))?;
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

    fn ok(sql: &str) -> Command {
        parse(sql).unwrap().unwrap()
    }

    #[test]
    fn parses_the_forms_clients_send() {
        assert_eq!(ok("SET extra_float_digits = 3"), Command::Set { name: "extra_float_digits".into(), value: Some("3".into()) });
        assert_eq!(ok("set application_name to 'psql'"), Command::Set { name: "application_name".into(), value: Some("psql".into()) });
        assert_eq!(ok("SET SESSION TIME ZONE 'UTC'"), Command::Set { name: "TimeZone".into(), value: Some("UTC".into()) });
        assert_eq!(ok("SET search_path TO ws, \"$user\";"), Command::Set { name: "search_path".into(), value: Some("ws, $user".into()) });
        assert_eq!(ok("SET statement_timeout TO DEFAULT"), Command::Set { name: "statement_timeout".into(), value: None });
        assert_eq!(ok("RESET search_path"), Command::Set { name: "search_path".into(), value: None });
        assert_eq!(ok("SHOW TRANSACTION ISOLATION LEVEL"), Command::Show("transaction_isolation".into()));
        assert_eq!(ok("SHOW ALL"), Command::ShowAll);
        assert_eq!(ok("BEGIN ISOLATION LEVEL READ COMMITTED"), Command::Begin);
        assert_eq!(ok("START TRANSACTION"), Command::Begin);
        assert_eq!(ok("rollback to savepoint a"), Command::Accept("ROLLBACK"));
        assert_eq!(ok("ROLLBACK"), Command::Rollback);
        assert_eq!(ok("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE"), Command::Accept("SET"));
        assert!(parse("SELECT 1").is_none());
        assert!(parse("SHOW TABLES").is_none());
        assert!(parse("SET x").unwrap().is_err());
    }

    #[test]
    fn settings_validate_and_report() {
        let mut m = Metadata::new();
        assert_eq!(set(&mut m, "STATEMENT_TIMEOUT", Some("1500".into())).unwrap(), ("statement_timeout".into(), None));
        assert_eq!(value(&m, "statement_timeout").unwrap(), "1500ms");
        assert_eq!(statement_timeout(&m), Some(Duration::from_millis(1500)));
        set(&mut m, "statement_timeout", Some("2s".into())).unwrap();
        assert_eq!(statement_timeout(&m), Some(Duration::from_secs(2)));
        assert_eq!(set(&mut m, "statement_timeout", Some("soon".into())).unwrap_err().0, "22023");
        assert_eq!(set(&mut m, "server_version", Some("1".into())).unwrap_err().0, "55P02");
        assert_eq!(set(&mut m, "no_such_thing", Some("1".into())).unwrap_err().0, "42704");
        assert_eq!(set(&mut m, "client_encoding", Some("LATIN1".into())).unwrap_err().0, "0A000");
        set(&mut m, "client_encoding", Some("utf-8".into())).unwrap();
        assert_eq!(set(&mut m, "datestyle", Some("ISO, DMY".into())).unwrap().1.as_deref(), Some("ISO, DMY"));
        assert_eq!(format_options(&m).date_style, "ISO, DMY");
        assert_eq!(set(&mut m, "search_path", Some("\"$user\", web".into())).unwrap().1, None);
        assert_eq!(session(&m).workspace.as_deref(), Some("web"));
        reset_all(&mut m);
        assert_eq!(value(&m, "DateStyle").unwrap(), "ISO, MDY");
        assert_eq!(session(&m).workspace.as_deref(), Some("commons"));
        assert_eq!(statement_timeout(&m), None);
    }
}

//! Session commands PostgreSQL clients send around their queries: `SET`, `SHOW`, `RESET`,
//! `DISCARD` and transaction control, read from the text (the PostgreSQL frontend carries them
//! out on its connection, see `pg::settings`; REST has no sessions). Every statement commits
//! on its own: `BEGIN`, `COMMIT` and `ROLLBACK` are accepted for drivers and ORMs but group
//! nothing.

use cairn_engine::SqlState;

use super::Refusal;

/// A session command, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
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

/// The command `sql` is, if it is a session command; the error if it is a malformed one.
pub(crate) fn parse(sql: &str) -> Option<Result<Command, Refusal>> {
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
            [] => return Some(Err(Refusal::new(SqlState::SyntaxError, "SHOW needs a setting's name"))),
            [all] if all == "all" => Command::ShowAll,
            // Listing tables and columns is the engine's (through information_schema).
            [what, ..] if matches!(what.as_str(), "tables" | "columns" | "functions") => return None,
            [time, zone] if time == "time" && zone == "zone" => Command::Show("TimeZone".to_owned()),
            [t, i, l] if t == "transaction" && i == "isolation" && l == "level" => {
                Command::Show("transaction_isolation".to_owned())
            }
            [_] => Command::Show(words[1].clone()),
            _ => return Some(Err(Refusal::new(SqlState::SyntaxError, format!("cannot parse SHOW: {sql}")))),
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
        _ => Err(Refusal::new(SqlState::SyntaxError, format!("cannot parse SET {}", words.join(" ")))),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(sql: &str) -> Command {
        parse(sql).unwrap().unwrap()
    }

    #[test]
    fn parses_the_forms_clients_send() {
        assert_eq!(ok("SET extra_float_digits = 3"), Command::Set { name: "extra_float_digits".into(), value: Some("3".into()) });
        assert_eq!(
            ok("set application_name to 'psql'"),
            Command::Set { name: "application_name".into(), value: Some("psql".into()) }
        );
        assert_eq!(ok("SET SESSION TIME ZONE 'UTC'"), Command::Set { name: "TimeZone".into(), value: Some("UTC".into()) });
        assert_eq!(
            ok("SET search_path TO ws, \"$user\";"),
            Command::Set { name: "search_path".into(), value: Some("ws, $user".into()) }
        );
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
}

//! `CREATE COLLECTION … WITH (retention = '30 days', event_time_field = 'ts', shards = 4)`:
//! the settings a collection is created with, read from the clause's text.

use crate::error::{EngineError, Result};

/// What a `WITH (…)` clause sets; None for what it leaves to the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CollectionOptions {
    /// Number of shards.
    pub shards: Option<u32>,
    /// The field `_event_time` is taken from.
    pub event_time_field: Option<String>,
    /// The retention window, in microseconds of event time.
    pub retention_micros: Option<i64>,
}

/// The settings a `WITH (…)` clause gives (`text` starts at `WITH`).
pub(crate) fn collection_options(text: &str) -> Result<CollectionOptions> {
    let bad = |m: String| EngineError::Invalid(m);
    let text = text.trim();
    let rest = text.get(..4).filter(|w| w.eq_ignore_ascii_case("WITH")).map(|_| text[4..].trim_start());
    let inner = rest
        .and_then(|r| r.strip_prefix('('))
        .and_then(|r| r.trim_end().strip_suffix(')'))
        .ok_or_else(|| bad(format!("expected WITH (option = value, …) after the collection's name, got '{text}'")))?;
    let mut config = CollectionOptions::default();
    for item in split_outside_quotes(inner) {
        let (key, value) = item.split_once('=').ok_or_else(|| bad(format!("collection option '{item}' needs '= value'")))?;
        let key = key.trim().to_ascii_lowercase();
        let value = unquote(value.trim());
        match key.as_str() {
            "shards" => {
                let shards = value.parse().map_err(|_| bad(format!("shards must be a whole number, got '{value}'")))?;
                config.shards = Some(shards);
            }
            "event_time_field" => config.event_time_field = Some(value.to_owned()),
            "retention" => {
                let micros = interval_micros(value).ok_or_else(|| {
                    bad(format!("retention must be a positive interval such as '30 days' or '12 hours', got '{value}'"))
                })?;
                config.retention_micros = Some(micros);
            }
            other => return Err(bad(format!("unknown collection option '{other}' (shards, retention, event_time_field)"))),
        }
    }
    Ok(config)
}

/// The comma-separated items of `text`, commas inside single quotes kept.
pub(super) fn split_outside_quotes(text: &str) -> Vec<&str> {
    let (mut items, mut start, mut quoted) = (Vec::new(), 0, false);
    for (i, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            ',' if !quoted => {
                items.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(text[start..].trim());
    items.into_iter().filter(|i| !i.is_empty()).collect()
}

pub(super) fn unquote(v: &str) -> &str {
    v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).unwrap_or(v)
}

/// A positive interval (`'30 days'`, `'12 hours'`, `'90 min'`, `'3600'` seconds) in
/// microseconds.
fn interval_micros(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let n: i64 = text[..split].parse().ok().filter(|n| *n > 0)?;
    let seconds = match text[split..].trim().to_ascii_lowercase().as_str() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3_600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 604_800,
        _ => return None,
    };
    n.checked_mul(seconds)?.checked_mul(1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_read_and_checked() {
        let c = collection_options("with (Retention = '30 days', event_time_field = 'ts', SHARDS = 4)").unwrap();
        assert_eq!(
            (c.shards, c.event_time_field.as_deref(), c.retention_micros),
            (Some(4), Some("ts"), Some(30 * 86_400_000_000))
        );
        assert_eq!(collection_options("WITH (retention = '90 min')").unwrap().retention_micros, Some(5_400_000_000));
        for bad in [
            "WITH retention = 1",
            "WITH (retention = '0 days')",
            "WITH (retention = 'soon')",
            "WITH (color = 'red')",
            "WITH (shards = x)",
        ] {
            assert!(collection_options(bad).is_err(), "{bad}");
        }
    }
}

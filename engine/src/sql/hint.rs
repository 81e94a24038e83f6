//! `HINT(access_path=…)`, which forces how a query's collection scans read their documents
//! (see [`crate::scan`]): taken out of a statement's text before it is parsed, as SQL parsers
//! do not know it.

/// A forced access path (`HINT(access_path=…)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Hint {
    /// Always scan columns.
    ColumnScan,
    /// Use the index when a filter allows (fetch or chunk scan by cost).
    Index,
    /// Use the index and fetch by document number.
    IndexFetch,
    /// Use the index and read the column chunks holding the matches.
    IndexScan,
}

impl Hint {
    /// Parses a hint value.
    pub(crate) fn parse(s: &str) -> Option<Hint> {
        Some(match s.to_ascii_lowercase().as_str() {
            "column_scan" => Hint::ColumnScan,
            "index" | "index_filter" => Hint::Index,
            "index_fetch" => Hint::IndexFetch,
            "index_scan" => Hint::IndexScan,
            _ => return None,
        })
    }
}

/// Takes `HINT(access_path=…)` out of a statement's text (outside quoted strings), returning
/// the text without it and the hint; an unknown hint value is an error.
pub(crate) fn take_hint(sql: &str) -> std::result::Result<(String, Option<Hint>), String> {
    let lower = sql.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower[from..].find("hint(").map(|p| p + from) {
        let outside_quotes = sql[..pos].matches('\'').count().is_multiple_of(2);
        let word_start = pos == 0 || !sql.as_bytes()[pos - 1].is_ascii_alphanumeric() && sql.as_bytes()[pos - 1] != b'_';
        let Some(end) = lower[pos..].find(')').map(|e| e + pos) else { break };
        if outside_quotes && word_start {
            let body = sql[pos + 5..end].trim();
            let (key, value) = body.split_once('=').map(|(k, v)| (k.trim(), v.trim())).unwrap_or((body, ""));
            if !key.eq_ignore_ascii_case("access_path") {
                return Err(format!("unknown hint '{key}': the hint Cairn knows is access_path"));
            }
            let hint = Hint::parse(value)
                .ok_or_else(|| format!("unknown access_path '{value}': use column_scan, index, index_scan or index_fetch"))?;
            return Ok((format!("{}{}", &sql[..pos], &sql[end + 1..]), Some(hint)));
        }
        from = pos + 5;
    }
    Ok((sql.to_owned(), None))
}

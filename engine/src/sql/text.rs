//! The lexical shape of SQL text, for work done before parsing: where quoted strings, quoted
//! identifiers and comments are (so rewrites and splits leave them alone), and splitting a
//! query string holding several statements at its semicolons.

/// Where the non-code span starting at `i` ends (just past it), if one starts there: a quoted
/// string or identifier (a doubled quote is an escaped one), a `--` comment or a `/* */` comment.
pub(crate) fn skip_non_code(b: &[u8], i: usize) -> Option<usize> {
    match b[i] {
        b'\'' | b'"' => Some(skip_quoted(b, i)),
        b'-' if b.get(i + 1) == Some(&b'-') => Some(b[i..].iter().position(|c| *c == b'\n').map_or(b.len(), |p| i + p)),
        b'/' if b.get(i + 1) == Some(&b'*') => Some(find(b, i + 2, b"*/").map_or(b.len(), |p| p + 2)),
        _ => None,
    }
}

/// The index just past the quoted text starting at `i` (a doubled quote is an escaped one).
fn skip_quoted(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == q {
            if b.get(j + 1) == Some(&q) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| from + p)
}

/// The statements of a query string, split at semicolons outside strings, quoted identifiers
/// and comments; blank statements are dropped.
pub fn split_statements(sql: &str) -> Vec<&str> {
    let b = sql.as_bytes();
    let (mut out, mut start, mut i) = (Vec::new(), 0, 0);
    while i < b.len() {
        if let Some(end) = skip_non_code(b, i) {
            i = end;
            continue;
        }
        if b[i] == b';' {
            out.push(&sql[start..i]);
            start = i + 1;
        }
        i += 1;
    }
    out.push(&sql[start..]);
    out.retain(|s| !is_blank(s));
    out
}

/// True when `sql` holds nothing but whitespace and comments.
fn is_blank(sql: &str) -> bool {
    let b = sql.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match skip_non_code(b, i) {
            Some(end) if b[i] != b'\'' && b[i] != b'"' => i = end,
            _ if b[i].is_ascii_whitespace() => i += 1,
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_strings_and_comments() {
        assert_eq!(split_statements("SELECT 1; SELECT ';' -- ;\n; /* ; */ ;"), vec!["SELECT 1", " SELECT ';' -- ;\n"]);
        assert_eq!(split_statements("CREATE COLLECTION \"a;b\""), vec!["CREATE COLLECTION \"a;b\""]);
        assert!(split_statements(" ; -- nothing\n").is_empty());
    }
}

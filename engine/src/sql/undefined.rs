//! `x IS [NOT] UNDEFINED`, which SQL parsers do not know: before parsing, the words are
//! rewritten to `= cairn_undefined()` (`<>` for NOT), a comparison binding tighter than AND and
//! OR, which [`crate::plan::expr_planner`] then plans as a test for a missing value. Quoted strings,
//! quoted identifiers and comments are left alone.

use std::borrow::Cow;

use super::text::skip_non_code;

/// The SQL text with every `IS [NOT] UNDEFINED` rewritten.
pub(crate) fn rewrite_undefined(sql: &str) -> Cow<'_, str> {
    if !sql.to_ascii_lowercase().contains("undefined") {
        return Cow::Borrowed(sql);
    }
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 32);
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if let Some(end) = skip_non_code(b, i) {
            i = end;
            continue;
        }
        match b[i] {
            c if is_word(c) => {
                let start = i;
                while i < b.len() && is_word(b[i]) {
                    i += 1;
                }
                if !sql[start..i].eq_ignore_ascii_case("is") {
                    continue;
                }
                let (negated, end) = match next_word(sql, i) {
                    Some((w, e)) if w.eq_ignore_ascii_case("undefined") => (false, e),
                    Some((w, e)) if w.eq_ignore_ascii_case("not") => match next_word(sql, e) {
                        Some((w, e2)) if w.eq_ignore_ascii_case("undefined") => (true, e2),
                        _ => continue,
                    },
                    _ => continue,
                };
                out.push_str(&sql[copied..start]);
                out.push_str(if negated { "<> cairn_undefined()" } else { "= cairn_undefined()" });
                copied = end;
                i = end;
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied..]);
    Cow::Owned(out)
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The next word after whitespace from `i`, and where it ends.
fn next_word(sql: &str, mut i: usize) -> Option<(&str, usize)> {
    let b = sql.as_bytes();
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let start = i;
    while i < b.len() && is_word(b[i]) {
        i += 1;
    }
    (i > start).then(|| (&sql[start..i], i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_outside_strings_and_comments() {
        assert_eq!(
            rewrite_undefined("SELECT a FROM t WHERE a IS UNDEFINED OR b is not  undefined"),
            "SELECT a FROM t WHERE a = cairn_undefined() OR b <> cairn_undefined()"
        );
        let untouched = "SELECT 'x IS UNDEFINED', \"is undefined\" -- is undefined\nFROM t /* IS UNDEFINED */";
        assert_eq!(rewrite_undefined(untouched), untouched);
        assert_eq!(rewrite_undefined("SELECT this_undefined FROM t"), "SELECT this_undefined FROM t");
    }
}

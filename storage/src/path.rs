//! Field paths: `a.b.c` names nested fields, `a.*` the elements of array `a`.
//!
//! In the text form, a field name containing `.`, `*` or `\` has those characters escaped
//! with `\`, so every path has exactly one text form.

use crate::error::{Result, StorageError};
use crate::value::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A named field of an object.
    Field(String),
    /// Every element of an array (`*`).
    Elements,
}

/// A parsed field path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    /// Parses the text form (the empty text names a top-level field called "").
    pub fn parse(text: &str) -> Result<FieldPath> {
        fn finish(cur: &mut String, escaped: bool) -> Segment {
            if !escaped && cur == "*" {
                cur.clear();
                Segment::Elements
            } else {
                Segment::Field(std::mem::take(cur))
            }
        }
        let mut segs = Vec::new();
        let mut cur = String::new();
        let mut escaped = false;
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    let next = chars
                        .next()
                        .ok_or_else(|| StorageError::InvalidArgument(format!("field path '{text}' ends with '\\'")))?;
                    cur.push(next);
                    escaped = true;
                }
                '.' => {
                    segs.push(finish(&mut cur, escaped));
                    escaped = false;
                }
                c => cur.push(c),
            }
        }
        segs.push(finish(&mut cur, escaped));
        Ok(FieldPath(segs))
    }

    /// True when the path passes through array elements (`*`).
    pub fn has_elements(&self) -> bool {
        self.0.contains(&Segment::Elements)
    }

    /// The first segment's field name.
    pub fn top_field(&self) -> Option<&str> {
        match self.0.first() {
            Some(Segment::Field(f)) => Some(f),
            _ => None,
        }
    }

    /// The value at this path in `root` (an object), if every segment is a field that exists.
    pub fn get<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        self.get_from(root, 0)
    }

    /// Like [`FieldPath::get`], starting at segment `from`.
    fn get_from<'a>(&self, root: &'a Value, from: usize) -> Option<&'a Value> {
        let mut cur = root;
        for seg in &self.0[from..] {
            match (seg, cur) {
                (Segment::Field(f), Value::Object(o)) => cur = o.get(f)?,
                _ => return None,
            }
        }
        Some(cur)
    }
}

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Field(name) => push_field(&mut s, i == 0, name),
                Segment::Elements => push_elements(&mut s, i == 0),
            }
        }
        f.write_str(&s)
    }
}

/// Appends a field segment to a path in text form (`first` for the path's first segment).
pub fn push_field(path: &mut String, first: bool, name: &str) {
    if !first {
        path.push('.');
    }
    if name == "*" {
        path.push_str("\\*");
        return;
    }
    for c in name.chars() {
        if matches!(c, '.' | '\\') {
            path.push('\\');
        }
        path.push(c);
    }
}

/// Appends the array-elements segment `*` (`first` for the path's first segment).
pub fn push_elements(path: &mut String, first: bool) {
    if !first {
        path.push('.');
    }
    path.push('*');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips() {
        for segs in [
            vec![Segment::Field("a".into()), Segment::Elements, Segment::Field("b".into())],
            vec![Segment::Field("x.y".into()), Segment::Field("*".into()), Segment::Field("a\\b".into())],
            vec![Segment::Field("".into()), Segment::Field("*x".into())],
        ] {
            let p = FieldPath(segs);
            assert_eq!(FieldPath::parse(&p.to_string()).unwrap(), p, "{p}");
        }
        assert_eq!(FieldPath::parse("commit.record.langs.*").unwrap().to_string(), "commit.record.langs.*");
    }

    #[test]
    fn get_follows_fields() {
        let doc = Value::from_json_str(r#"{"a":{"b":[1]},"c":"s"}"#).unwrap();
        assert_eq!(FieldPath::parse("a.b").unwrap().get(&doc), Some(&Value::Array(vec![Value::Int(1)])));
        assert_eq!(FieldPath::parse("c.d").unwrap().get(&doc), None);
    }
}

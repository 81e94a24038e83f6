//! JSON Patch (RFC 6902: add, remove, replace, move, copy, test) plus `increment`, applied
//! atomically: either every operation applies or the document is unchanged.

use crate::error::{Result, StorageError};
use crate::value::{Object, Value};

/// One patch operation; paths are JSON Pointers (RFC 6901).
#[derive(Debug, Clone, PartialEq)]
pub enum PatchOp {
    /// Insert or set a value (`-` appends to an array).
    Add {
        /// A JSON Pointer to the target.
        path: String,
        /// The value.
        value: Value,
    },
    /// Remove the value at `path` (must exist).
    Remove {
        /// A JSON Pointer to the target.
        path: String,
    },
    /// Replace the value at `path` (must exist).
    Replace {
        /// A JSON Pointer to the target.
        path: String,
        /// The value.
        value: Value,
    },
    /// Remove from `from` and add at `path`.
    Move {
        /// A JSON Pointer to the source.
        from: String,
        /// A JSON Pointer to the target.
        path: String,
    },
    /// Copy `from` to `path`.
    Copy {
        /// A JSON Pointer to the source.
        from: String,
        /// A JSON Pointer to the target.
        path: String,
    },
    /// Fail unless the value at `path` equals `value`.
    Test {
        /// A JSON Pointer to the target.
        path: String,
        /// The value.
        value: Value,
    },
    /// Add `value` (a number) to the number at `path`; a missing field starts at 0.
    Increment {
        /// A JSON Pointer to the target.
        path: String,
        /// The value.
        value: Value,
    },
}

impl PatchOp {
    fn name(&self) -> &'static str {
        match self {
            PatchOp::Add { .. } => "add",
            PatchOp::Remove { .. } => "remove",
            PatchOp::Replace { .. } => "replace",
            PatchOp::Move { .. } => "move",
            PatchOp::Copy { .. } => "copy",
            PatchOp::Test { .. } => "test",
            PatchOp::Increment { .. } => "increment",
        }
    }

    /// Parses a JSON array of operations (`op` names are case-insensitive).
    pub fn parse_list(v: &Value) -> Result<Vec<PatchOp>> {
        let items = match v {
            Value::Array(a) => a,
            _ => return Err(bad(0, "patch", "a patch must be a JSON array of operations")),
        };
        items.iter().enumerate().map(|(i, item)| PatchOp::parse(i, item)).collect()
    }

    fn parse(index: usize, v: &Value) -> Result<PatchOp> {
        let o = v.as_object().ok_or_else(|| bad(index, "?", "an operation must be an object"))?;
        let op = o.get("op").and_then(Value::as_str).ok_or_else(|| bad(index, "?", "missing \"op\""))?;
        let op = op.to_ascii_lowercase();
        let s = |name: &str| -> Result<String> {
            o.get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| bad(index, &op, &format!("missing string \"{name}\"")))
        };
        let value = || o.get("value").cloned().ok_or_else(|| bad(index, &op, "missing \"value\""));
        Ok(match op.as_str() {
            "add" => PatchOp::Add { path: s("path")?, value: value()? },
            "remove" => PatchOp::Remove { path: s("path")? },
            "replace" => PatchOp::Replace { path: s("path")?, value: value()? },
            "move" => PatchOp::Move { from: s("from")?, path: s("path")? },
            "copy" => PatchOp::Copy { from: s("from")?, path: s("path")? },
            "test" => PatchOp::Test { path: s("path")?, value: value()? },
            "increment" => PatchOp::Increment { path: s("path")?, value: value().unwrap_or(Value::Int(1)) },
            other => return Err(bad(index, other, "unknown operation")),
        })
    }
}

fn bad(index: usize, op: &str, message: &str) -> StorageError {
    StorageError::Patch { index, op: op.to_owned(), message: message.to_owned() }
}

/// Applies `ops` to a copy of `doc`; returns the patched document or the first failure.
pub fn apply(doc: &Object, ops: &[PatchOp]) -> Result<Object> {
    let mut root = Value::Object(doc.clone());
    for (i, op) in ops.iter().enumerate() {
        apply_one(&mut root, op).map_err(|m| bad(i, op.name(), &m))?;
    }
    match root {
        Value::Object(o) => Ok(o),
        _ => Err(bad(0, "patch", "the patched document is no longer an object")),
    }
}

fn apply_one(root: &mut Value, op: &PatchOp) -> std::result::Result<(), String> {
    match op {
        PatchOp::Add { path, value } => add(root, path, value.clone()),
        PatchOp::Remove { path } => remove(root, path).map(drop),
        PatchOp::Replace { path, value } => {
            *get_mut(root, &pointer(path)?)? = value.clone();
            Ok(())
        }
        PatchOp::Move { from, path } => {
            if path.starts_with(&format!("{from}/")) {
                return Err(format!("cannot move '{from}' into itself"));
            }
            let v = remove(root, from)?;
            add(root, path, v)
        }
        PatchOp::Copy { from, path } => {
            let v = get_mut(root, &pointer(from)?)?.clone();
            add(root, path, v)
        }
        PatchOp::Test { path, value } => {
            let cur = get_mut(root, &pointer(path)?)?;
            if cur == value {
                Ok(())
            } else {
                Err(format!("value at '{path}' is {}, not {}", cur.to_json_string(), value.to_json_string()))
            }
        }
        PatchOp::Increment { path, value } => {
            let tokens = pointer(path)?;
            let exists = get_mut(root, &tokens).is_ok();
            if !exists {
                return add(root, path, value.clone()).and_then(|_| numeric(value).map(drop));
            }
            let cur = get_mut(root, &tokens)?;
            *cur = match (&*cur, value) {
                (Value::Int(a), Value::Int(b)) => Value::Int(a.checked_add(*b).ok_or("integer overflow")?),
                (a, b) => Value::Float(numeric(a)? + numeric(b)?),
            };
            Ok(())
        }
    }
}

fn numeric(v: &Value) -> std::result::Result<f64, String> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        other => Err(format!("increment needs numbers, found {}", other.value_type().name())),
    }
}

/// Splits a JSON Pointer into unescaped tokens.
fn pointer(p: &str) -> std::result::Result<Vec<String>, String> {
    if p.is_empty() {
        return Ok(vec![]);
    }
    if !p.starts_with('/') {
        return Err(format!("'{p}' is not a JSON Pointer (must start with '/')"));
    }
    Ok(p[1..].split('/').map(|t| t.replace("~1", "/").replace("~0", "~")).collect())
}

fn get_mut<'a>(root: &'a mut Value, tokens: &[String]) -> std::result::Result<&'a mut Value, String> {
    let mut cur = root;
    for t in tokens {
        cur = match cur {
            Value::Object(o) => o.get_mut(t).ok_or_else(|| format!("no field '{t}'"))?,
            Value::Array(a) => {
                let i = index(t, a.len())?;
                a.get_mut(i).ok_or_else(|| format!("index {t} out of bounds"))?
            }
            _ => return Err(format!("cannot descend into a scalar at '{t}'")),
        };
    }
    Ok(cur)
}

fn index(t: &str, len: usize) -> std::result::Result<usize, String> {
    if t.len() > 1 && t.starts_with('0') {
        return Err(format!("array index '{t}' has a leading zero"));
    }
    let i: usize = t.parse().map_err(|_| format!("'{t}' is not an array index"))?;
    if i > len {
        return Err(format!("index {i} out of bounds"));
    }
    Ok(i)
}

fn add(root: &mut Value, path: &str, value: Value) -> std::result::Result<(), String> {
    let tokens = pointer(path)?;
    let Some((last, parent)) = tokens.split_last() else {
        *root = value;
        return Ok(());
    };
    match get_mut(root, parent)? {
        Value::Object(o) => {
            o.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            let i = if last == "-" { a.len() } else { index(last, a.len())? };
            a.insert(i, value);
            Ok(())
        }
        _ => Err(format!("parent of '{path}' is not an object or array")),
    }
}

fn remove(root: &mut Value, path: &str) -> std::result::Result<Value, String> {
    let tokens = pointer(path)?;
    let (last, parent) = tokens.split_last().ok_or("cannot remove the whole document")?;
    match get_mut(root, parent)? {
        Value::Object(o) => o.remove(last).ok_or_else(|| format!("no field '{last}'")),
        Value::Array(a) => {
            let i = index(last, a.len())?;
            if i >= a.len() {
                return Err(format!("index {i} out of bounds"));
            }
            Ok(a.remove(i))
        }
        _ => Err(format!("parent of '{path}' is not an object or array")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(s: &str) -> Object {
        Value::from_json_str(s).unwrap().as_object().unwrap().clone()
    }

    fn ops(s: &str) -> Vec<PatchOp> {
        PatchOp::parse_list(&Value::from_json_str(s).unwrap()).unwrap()
    }

    #[test]
    fn rfc6902_operations() {
        let doc = obj(r#"{"a":{"b":[1,2]},"c":"x"}"#);
        let out = apply(
            &doc,
            &ops(r#"[{"op":"add","path":"/a/b/-","value":3},{"op":"ADD","path":"/a/b/0","value":0},
                     {"op":"replace","path":"/c","value":{"d":true}},{"op":"copy","from":"/c","path":"/e"},
                     {"op":"move","from":"/e/d","path":"/f"},{"op":"test","path":"/f","value":true},
                     {"op":"remove","path":"/a/b/1"},{"op":"increment","path":"/n","value":2},
                     {"op":"increment","path":"/n","value":0.5}]"#),
        )
        .unwrap();
        assert_eq!(
            Value::Object(out),
            Value::from_json_str(r#"{"a":{"b":[0,2,3]},"c":{"d":true},"e":{},"f":true,"n":2.5}"#).unwrap()
        );
    }

    #[test]
    fn failure_leaves_document_unchanged() {
        let doc = obj(r#"{"a":1}"#);
        let err = apply(&doc, &ops(r#"[{"op":"add","path":"/b","value":1},{"op":"test","path":"/a","value":2}]"#)).unwrap_err();
        assert!(matches!(err, StorageError::Patch { index: 1, .. }), "{err}");
        assert_eq!(doc, obj(r#"{"a":1}"#));
        assert!(apply(&doc, &ops(r#"[{"op":"remove","path":"/zz"}]"#)).is_err());
        assert!(apply(&doc, &ops(r#"[{"op":"increment","path":"/a","value":"x"}]"#)).is_err());
    }

    #[test]
    fn pointer_escapes() {
        let doc = obj(r#"{"a/b":{"~":1}}"#);
        let out = apply(&doc, &ops(r#"[{"op":"replace","path":"/a~1b/~0","value":2}]"#)).unwrap();
        assert_eq!(Value::Object(out), Value::from_json_str(r#"{"a/b":{"~":2}}"#).unwrap());
    }
}

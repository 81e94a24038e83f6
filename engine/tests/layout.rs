//! The engine's folders follow a statement's stages, and each uses only the stages before it
//! (ARCHITECTURE.md): a module that names a later stage (`crate::later::…`, a `crate::{…}`
//! group holding one, or `super::later` from a stage's own root) fails this test, so no two
//! folders import each other. Cycles between files of one folder are not checked here.

use std::path::{Path, PathBuf};

/// The stages in order; the root modules (`error`, `session`, `output`) come before all.
const STAGES: &[&str] = &["error", "session", "output", "sql", "types", "functions", "scan", "plan", "catalog", "engine"];

/// The crate root and the unit tests' fixtures may reach anything.
const EXEMPT: &[&str] = &["lib", "testing"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read engine/src") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `text` without its comments and without its unit tests (which may build plans with any
/// stage).
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// The names right after each `prefix` in `code`: one name, or each name of a `{…}` group.
fn names_after(code: &str, prefix: &str) -> Vec<String> {
    let word = |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    let mut names = Vec::new();
    for (i, _) in code.match_indices(prefix) {
        let rest = code[i + prefix.len()..].trim_start();
        match rest.strip_prefix('{') {
            Some(group) => {
                let (mut depth, mut start) = (0, 0);
                for (j, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            names.push(word(group[start..j].trim_start()));
                            break;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            names.push(word(group[start..j].trim_start()));
                            start = j + 1;
                        }
                        _ => {}
                    }
                }
            }
            None => names.push(word(rest)),
        }
    }
    names
}

#[test]
fn each_stage_uses_only_the_stages_before_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let rank = |stage: &str| STAGES.iter().position(|s| *s == stage);
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        let stage = parts[0].trim_end_matches(".rs").to_owned();
        if EXEMPT.contains(&stage.as_str()) {
            continue;
        }
        let Some(own) = rank(&stage) else {
            wrong.push(format!("{}: not in a known stage", relative.display()));
            continue;
        };
        let code = code_of(&std::fs::read_to_string(file).expect("read source"));
        let mut used = names_after(&code, "crate::");
        // In a top-level file or a stage's mod.rs, `super::` is the crate root.
        if parts.len() == 1 || (parts.len() == 2 && parts[1] == "mod.rs") {
            used.extend(names_after(&code, "super::"));
        }
        for name in used {
            if rank(&name).is_some_and(|r| r > own) {
                wrong.push(format!("{} ({stage}) uses {name}, a later stage", relative.display()));
            }
        }
    }
    assert!(files.len() > 30, "found only {} files under {}", files.len(), src.display());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn grouped_and_nested_imports_are_seen() {
    let code = code_of("use crate::{sql::Hint, plan::{a, b}};\nuse crate::scan;\n// use crate::engine;\nuse super::catalog::x;");
    assert_eq!(names_after(&code, "crate::"), ["sql", "plan", "scan"]);
    assert_eq!(names_after(&code, "super::"), ["catalog"]);
}

//! The source tree's shape, checked: `src/` is the pipeline, and no file imports from a later
//! stage or from a file that imports it back. Run alone with
//! `cargo test --test hermetic structure`.
//!
//! Every `crate::…`, `super::…` and child-module path in every file under `src/` (outside its
//! `#[cfg(test)]` part and comments) is resolved to the file it names: that is an edge. The
//! edges must point down the layers below, and must form no cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers, lowest first: a file may import from its own layer or a lower one.
const LAYERS: &[&[&str]] = &[
    &["error", "suggest", "paths", "notice", "files", "text"],
    &["profile", "lockfile", "bundle"],
    &["facts", "sources"],
    &["plan"],
    &["engine"],
    &["ui", "cli"],
    &["commands"],
    &[""], // lib.rs
];

fn layer_of(module: &str) -> usize {
    let top = module.split("::").next().unwrap_or("");
    LAYERS
        .iter()
        .position(|names| names.contains(&top))
        .unwrap_or_else(|| panic!("module `{module}` is in no layer: add it to LAYERS"))
}

/// `src/a/b.rs` → `a::b`, `src/a/mod.rs` → `a`, `src/lib.rs` → ``.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments and without its trailing `#[cfg(test)]` part.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expand a path tree starting at `text` (just after `prefix::`): `a::b`, `a::{b, c::d}`,
/// `{a, b}`; returns the full paths.
fn expand(prefix: &str, text: &str) -> Vec<String> {
    let text = text.trim_start();
    if let Some(rest) = text.strip_prefix('{') {
        let mut depth = 0;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    end = i;
                    break;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        let inner = &rest[..end];
        let mut items = Vec::new();
        let (mut depth, mut start) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&inner[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&inner[start..]);
        return items
            .into_iter()
            .filter(|i| !i.trim().is_empty())
            .flat_map(|i| expand(prefix, i))
            .collect();
    }
    let ident: String = text.chars().take_while(|c| is_ident(*c)).collect();
    if ident.is_empty() {
        return vec![prefix.to_string()];
    }
    let full = if prefix.is_empty() {
        ident.clone()
    } else {
        format!("{prefix}::{ident}")
    };
    let after = &text[ident.len()..];
    match after.trim_start().strip_prefix("::") {
        Some(rest) => expand(&full, rest),
        None => vec![full],
    }
}

/// Every path the file names, made absolute (`crate::`-relative, without `crate`).
fn paths_named(module: &str, is_mod_file: bool, code: &str, children: &[String]) -> Vec<String> {
    // `super` of `a::b` is `a`, whether the file is `a/b.rs` or `a/b/mod.rs`.
    let parent = module.rsplit_once("::").map(|(p, _)| p).unwrap_or("");
    let _ = is_mod_file;
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = code.char_indices().collect();
    for (n, &(i, c)) in chars.iter().enumerate() {
        if !is_ident(c) || (n > 0 && (is_ident(chars[n - 1].1) || chars[n - 1].1 == ':')) {
            continue;
        }
        let rest = &code[i..];
        let word: String = rest.chars().take_while(|c| is_ident(*c)).collect();
        let Some(after) = rest[word.len()..].strip_prefix("::") else {
            continue;
        };
        let base = match word.as_str() {
            "crate" => String::new(),
            "super" => parent.to_string(),
            w if children.iter().any(|ch| ch == w) => {
                if module.is_empty() {
                    w.to_string()
                } else {
                    format!("{module}::{w}")
                }
            }
            _ => continue,
        };
        out.extend(expand(&base, after));
    }
    out
}

/// The longest prefix of `path` that is a module file.
fn resolve<'a>(path: &str, modules: &'a BTreeSet<String>) -> Option<&'a String> {
    let mut candidate = path.to_string();
    loop {
        if let Some(m) = modules.get(&candidate) {
            return Some(m);
        }
        match candidate.rsplit_once("::") {
            Some((head, _)) => candidate = head.to_string(),
            None => return modules.get(""),
        }
    }
}

fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.retain(|f| !f.ends_with("main.rs"));
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        let text = code(&std::fs::read_to_string(file).unwrap());
        let children: Vec<String> = text
            .lines()
            .filter_map(|l| {
                let l = l.trim().strip_prefix("pub ").unwrap_or(l.trim());
                l.strip_prefix("mod ")?.strip_suffix(';').map(String::from)
            })
            .collect();
        let is_mod_file = file.ends_with("mod.rs") || file.ends_with("lib.rs");
        let edges: BTreeSet<String> = paths_named(&module, is_mod_file, &text, &children)
            .iter()
            .filter_map(|p| resolve(p, &modules))
            .filter(|m| **m != module)
            .cloned()
            .collect();
        graph.insert(module, edges);
    }
    graph
}

#[test]
fn no_file_imports_from_a_later_stage() {
    let graph = import_graph();
    assert!(graph.len() > 30, "the source walk found too few files");
    let mut wrong = Vec::new();
    for (from, edges) in &graph {
        for to in edges {
            if layer_of(to) > layer_of(from) {
                wrong.push(format!("{from} → {to}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point back up the pipeline:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_import_graph_has_no_cycle() {
    let graph = import_graph();
    // Depth-first search; a node met again while still on the stack closes a cycle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }
}

/// The checker itself finds what it must: a `super::{…}` group, a child path, and a cycle.
#[test]
fn the_checker_sees_grouped_and_child_imports() {
    let paths = paths_named(
        "plan::hardware::gpu",
        false,
        "use super::feature::{Check, Context};\nuse crate::{facts::EngineFacts, notice};\n",
        &[],
    );
    assert!(paths.contains(&"plan::hardware::feature::Check".to_string()));
    assert!(paths.contains(&"facts::EngineFacts".to_string()));
    assert!(paths.contains(&"notice".to_string()));
    let paths = paths_named(
        "plan",
        true,
        "let x = hardware::plan_all(&c);",
        &["hardware".into()],
    );
    assert_eq!(paths, vec!["plan::hardware::plan_all".to_string()]);
    let graph = import_graph();
    assert!(graph["plan::hardware"].contains("plan::hardware::gpu"));
    assert!(graph["plan::hardware::gpu"].contains("plan::hardware::feature"));
    assert!(graph["commands::doctor"].contains("plan::hardware"));
}

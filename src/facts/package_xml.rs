//! The workspace's ROS packages as their package.xml files declare them (formats 1, 2 and 3):
//! each dependency with its kind, its `condition`, and where it was written.

use super::workspace::colcon_packages;
use crate::error::{Error, Result, SourcePos};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a dependency is needed for. `depend` is build, build_export and exec at once;
/// format 1's `run_depend` is build_export and exec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DepKind {
    Build,
    BuildExport,
    Buildtool,
    BuildtoolExport,
    Exec,
    Test,
    Doc,
}

impl DepKind {
    pub fn name(self) -> &'static str {
        match self {
            DepKind::Build => "build",
            DepKind::BuildExport => "build_export",
            DepKind::Buildtool => "buildtool",
            DepKind::BuildtoolExport => "buildtool_export",
            DepKind::Exec => "exec",
            DepKind::Test => "test",
            DepKind::Doc => "doc",
        }
    }

    pub fn parse(name: &str) -> Option<DepKind> {
        [
            DepKind::Build,
            DepKind::BuildExport,
            DepKind::Buildtool,
            DepKind::BuildtoolExport,
            DepKind::Exec,
            DepKind::Test,
            DepKind::Doc,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// One `<…depend>` element.
#[derive(Clone, Debug, PartialEq)]
pub struct DeclaredDep {
    pub key: String,
    pub kinds: Vec<DepKind>,
    pub condition: Option<String>,
    pub pos: SourcePos,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub name: String,
    /// The package.xml file.
    pub path: PathBuf,
    pub format: u32,
    pub deps: Vec<DeclaredDep>,
    /// `<group_depend>`: groups whose members this package needs.
    pub group_depends: Vec<DeclaredDep>,
    /// `<member_of_group>`.
    pub groups: Vec<String>,
}

/// The element names of dependencies, and what each means, by format.
fn kinds_of(tag: &str, format: u32) -> Option<Vec<DepKind>> {
    use DepKind::*;
    Some(match (tag, format) {
        ("build_depend", _) => vec![Build],
        ("buildtool_depend", _) => vec![Buildtool],
        ("test_depend", _) => vec![Test],
        ("run_depend", 1) => vec![BuildExport, Exec],
        ("depend", f) if f >= 2 => vec![Build, BuildExport, Exec],
        ("build_export_depend", f) if f >= 2 => vec![BuildExport],
        ("buildtool_export_depend", f) if f >= 2 => vec![BuildtoolExport],
        ("exec_depend", f) if f >= 2 => vec![Exec],
        ("doc_depend", f) if f >= 2 => vec![Doc],
        _ => return None,
    })
}

fn pos_of(doc: &roxmltree::Document, node: roxmltree::Node, file: &str) -> SourcePos {
    let p = doc.text_pos_at(node.range().start);
    SourcePos {
        file: file.to_string(),
        line: p.row,
        column: p.col,
    }
}

fn bad(pos: SourcePos, field: &str, message: impl Into<String>) -> Error {
    Error::profile(pos, field, message, None)
}

/// Parse one package.xml. `shown` is how errors name the file.
pub fn parse(text: &str, path: &Path, shown: &str) -> Result<Manifest> {
    let doc = roxmltree::Document::parse(text).map_err(|e| {
        let p = e.pos();
        Error::profile(
            SourcePos {
                file: shown.to_string(),
                line: p.row,
                column: p.col,
            },
            "package.xml",
            format!("not well-formed XML: {e}"),
            Some("fix the XML (an editor with XML support shows where)".into()),
        )
    })?;
    let root = doc.root_element();
    let at_root = pos_of(&doc, root, shown);
    if root.tag_name().name() != "package" {
        return Err(bad(
            at_root,
            "package",
            format!(
                "the root element is <{}>, not <package>",
                root.tag_name().name()
            ),
        ));
    }
    let format = match root.attribute("format") {
        None => 1,
        Some(f) => match f.trim().parse::<u32>() {
            Ok(n @ 1..=3) => n,
            _ => {
                return Err(bad(
                    at_root,
                    "package.format",
                    format!("format \"{f}\" is not 1, 2 or 3"),
                ));
            }
        },
    };
    let mut name = None;
    let mut deps = Vec::new();
    let mut group_depends = Vec::new();
    let mut groups = Vec::new();
    for child in root.children().filter(|n| n.is_element()) {
        let tag = child.tag_name().name();
        let text = child.text().unwrap_or("").trim().to_string();
        let pos = pos_of(&doc, child, shown);
        if tag == "name" {
            if text.is_empty() {
                return Err(bad(pos, "name", "<name> is empty"));
            }
            name = Some(text);
            continue;
        }
        if tag == "member_of_group" && format >= 3 {
            groups.push(text);
            continue;
        }
        let is_group = tag == "group_depend" && format >= 3;
        let kinds = if is_group {
            Some(vec![DepKind::Build, DepKind::Exec])
        } else {
            kinds_of(tag, format)
        };
        let Some(kinds) = kinds else { continue };
        if text.is_empty() {
            return Err(bad(pos, tag, format!("<{tag}> names no package")));
        }
        let dep = DeclaredDep {
            key: text,
            kinds,
            condition: child.attribute("condition").map(str::to_string),
            pos,
        };
        if is_group {
            group_depends.push(dep);
        } else {
            deps.push(dep);
        }
    }
    let name = name.ok_or_else(|| bad(at_root, "name", "the package has no <name>"))?;
    Ok(Manifest {
        name,
        path: path.to_path_buf(),
        format,
        deps,
        group_depends,
        groups,
    })
}

/// Every ROS package of the workspace (directories with a package.xml, found as colcon finds
/// packages), each name once.
pub fn scan(root: &Path) -> Result<Vec<Manifest>> {
    let mut manifests: Vec<Manifest> = Vec::new();
    let mut by_name: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in colcon_packages(root) {
        let path = dir.join("package.xml");
        if !path.is_file() {
            continue;
        }
        let shown = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io_path("read", &path, e))?;
        let manifest = parse(&text, &path, &shown)?;
        if let Some(first) = by_name.get(&manifest.name) {
            return Err(Error::usage_with_help(
                format!(
                    "two packages are named \"{}\": {} and {}",
                    manifest.name,
                    first.strip_prefix(root).unwrap_or(first).display(),
                    shown
                ),
                "rename one, or put a COLCON_IGNORE file in the directory of the one to skip",
            ));
        }
        by_name.insert(manifest.name.clone(), path.clone());
        manifests.push(manifest);
    }
    Ok(manifests)
}

//! A vcstool `.repos` file (`repositories: {PATH: {type: git, url: URL, version: REF}}`) read
//! into checked `Repository` values, each with the file, line and column it came from. Parsed
//! with the profile's YAML reader, so a malformed file is reported exactly as a profile is.
//! Pure: nothing here runs git or looks at the workspace.

use crate::error::{Error, Result, SourcePos};
use crate::profile::grammar;
use crate::profile::sourced::Sourced;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::fmt;

/// One repository of a `.repos` file, its path joined to the directory the profile puts the
/// file's repositories under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repository {
    /// Relative to the workspace root, `/`-separated, without `.` parts: `src/driver`.
    pub path: String,
    pub url: String,
    /// A branch, a tag or a commit; `None`: the remote's default branch.
    pub version: Option<String>,
    /// Where the file names it (the path's key).
    pub declared_at: SourcePos,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    repositories: Option<Entries>,
}

/// The `repositories` map in the order written, each key with its position.
struct Entries(Vec<(Sourced<String>, Sourced<RawEntry>)>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    #[serde(rename = "type")]
    kind: Option<Sourced<String>>,
    url: Option<Sourced<String>>,
    version: Option<Sourced<Scalar>>,
}

/// A version as YAML may spell it: `main`, `2.1.0`, or a number such as `1.10` that a plain
/// YAML scalar would read as a float: taken as the text written, so the tag `1.10` stays
/// `1.10`.
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Text;
        impl Visitor<'_> for Text {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a branch, tag or commit")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_string(Text)
    }
}

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of repository paths to `{type, url, version}`")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<Sourced<String>>()? {
                    let value = map.next_value::<Sourced<RawEntry>>()?;
                    out.push((key, value));
                }
                Ok(Entries(out))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Entries, E> {
                Ok(Entries(Vec::new()))
            }
        }
        d.deserialize_map(InOrder)
    }
}

/// Read the `.repos` file's `text` (`shown` is its name in messages); its repositories' paths
/// are put under `into` (relative to the workspace root, already checked by the profile).
pub fn parse(text: &str, shown: &str, into: &str) -> Result<Vec<Repository>> {
    let raw: RawFile = crate::profile::yaml::from_str(text, shown)?;
    let start = SourcePos {
        file: shown.to_string(),
        line: 1,
        column: 1,
    };
    let Some(Entries(entries)) = raw.repositories else {
        return Err(Error::profile(
            start,
            "repositories",
            "the file has no `repositories` map",
            Some(HELP.into()),
        ));
    };
    let mut out: Vec<Repository> = Vec::new();
    for (key, entry) in entries {
        let field = format!("repositories.{}", key.value);
        let path = relative_path(&key.value).map_err(|m| at(&key, &field, m))?;
        let entry_value = entry.value;
        match &entry_value.kind {
            Some(k) if k.value == "git" => {}
            Some(k) => {
                return Err(at_help(
                    k,
                    &format!("{field}.type"),
                    format!(
                        "type `{}` is not supported: robodev imports git repositories",
                        k.value
                    ),
                    "write `type: git`, or import this repository another way",
                ));
            }
            None => {
                return Err(at_help(
                    &key,
                    &field,
                    "the repository has no `type`".into(),
                    "add `type: git`",
                ));
            }
        }
        let Some(url) = entry_value.url else {
            return Err(at_help(
                &key,
                &field,
                "the repository has no `url`".into(),
                HELP,
            ));
        };
        check_word(&url.value, "url").map_err(|m| at(&url, &format!("{field}.url"), m))?;
        let version = match entry_value.version {
            Some(v) => {
                check_word(&v.value.0, "version")
                    .map_err(|m| at(&v, &format!("{field}.version"), m))?;
                Some(v.value.0)
            }
            None => None,
        };
        let path = join(into, &path);
        if let Some(other) = out.iter().find(|r| nested(&r.path, &path)) {
            let message = if other.path == path {
                format!(
                    "`{path}` is named twice (also at line {})",
                    other.declared_at.line
                )
            } else {
                format!(
                    "`{path}` and `{}` (line {}) are inside one another",
                    other.path, other.declared_at.line
                )
            };
            return Err(at_help(
                &key,
                &field,
                message,
                "give each repository its own directory",
            ));
        }
        out.push(Repository {
            path,
            url: url.value,
            version,
            declared_at: key.pos,
        });
    }
    Ok(out)
}

const HELP: &str = "a vcstool file: `repositories:` then, per repository, `PATH: {type: git, \
                    url: URL, version: BRANCH|TAG|COMMIT}`";

/// A repository's key: relative, inside the directory, no `..`, nothing a shell or git option
/// could read otherwise.
fn relative_path(key: &str) -> std::result::Result<String, String> {
    grammar::safe_path(key, false)?;
    if key.starts_with('/') || key.starts_with('~') {
        return Err(format!("`{key}` is not a path inside the workspace"));
    }
    let parts: Vec<&str> = key
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() {
        return Err("the path names the directory itself, not a directory in it".into());
    }
    if parts.iter().any(|p| p.starts_with('-') || *p == ".git") {
        return Err(format!("`{key}` is not a directory robodev clones into"));
    }
    Ok(parts.join("/"))
}

/// A url or version reaches git as an argument: never one git would read as an option.
fn check_word(value: &str, what: &str) -> std::result::Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if value.starts_with('-') {
        return Err(format!("the {what} `{value}` starts with `-`"));
    }
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "the {what} `{value}` contains a space or a control character"
        ));
    }
    Ok(())
}

fn join(into: &str, path: &str) -> String {
    match into.trim_matches('/') {
        "" | "." => path.to_string(),
        into => format!("{into}/{path}"),
    }
}

/// `a` and `b` are the same directory or one holds the other.
pub fn nested(a: &str, b: &str) -> bool {
    a == b || b.starts_with(&format!("{a}/")) || a.starts_with(&format!("{b}/"))
}

fn at<T>(v: &Sourced<T>, field: &str, message: String) -> Error {
    Error::profile(v.pos.clone(), field, message, Some(HELP.into()))
}

fn at_help<T>(v: &Sourced<T>, field: &str, message: String, help: &str) -> Error {
    Error::profile(v.pos.clone(), field, message, Some(help.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse(text, "team.repos", "src").unwrap_err().to_string()
    }

    #[test]
    fn reads_entries_in_order_under_the_directory() {
        let text = "repositories:\n  zeta:\n    type: git\n    url: https://example.com/z.git\n    version: main\n  alpha/beta:\n    type: git\n    url: file:///srv/a\n    version: 1.0\n";
        let repos = parse(text, "team.repos", "src").unwrap();
        assert_eq!(repos[0].path, "src/zeta");
        assert_eq!(repos[0].version.as_deref(), Some("main"));
        assert_eq!(repos[0].declared_at.line, 2);
        assert_eq!(repos[1].path, "src/alpha/beta");
        assert_eq!(repos[1].version.as_deref(), Some("1.0"));
        assert_eq!(repos[1].declared_at.line, 6);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let dotdot = error("repositories:\n  ../escape:\n    type: git\n    url: u\n");
        assert!(
            dotdot.starts_with("team.repos:2:3: repositories.../escape:"),
            "{dotdot}"
        );
        assert!(dotdot.contains("`..`"), "{dotdot}");
        let svn = error("repositories:\n  a:\n    type: svn\n    url: u\n");
        assert!(
            svn.starts_with("team.repos:3:11: repositories.a.type:"),
            "{svn}"
        );
        let absolute = error("repositories:\n  /etc:\n    type: git\n    url: u\n");
        assert!(absolute.contains("team.repos:2:3"), "{absolute}");
        let typo = error("repositories:\n  a:\n    type: git\n    url: u\n    verison: main\n");
        assert!(typo.contains("team.repos:5:"), "{typo}");
        let broken = error("repositories:\n  a: [\n");
        assert!(broken.starts_with("team.repos:"), "{broken}");
        let twice = error(
            "repositories:\n  a:\n    type: git\n    url: u\n  ./a:\n    type: git\n    url: v\n",
        );
        assert!(twice.contains("named twice"), "{twice}");
        let option = error("repositories:\n  a:\n    type: git\n    url: --upload-pack=x\n");
        assert!(option.contains("starts with `-`"), "{option}");
        assert!(error("other: 1\n").contains("unknown field"));
    }
}

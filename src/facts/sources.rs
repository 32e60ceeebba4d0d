//! The workspace's files that a deploy build compiles: everything but what colcon makes
//! (`build/ install/ log/`), version control, robodev's and the editor's own folders, and what
//! the workspace's `.dockerignore` lists (Docker's rules: `*`, `?`, `**`, `!` to re-include,
//! a pattern that names a directory names everything below it). Each file is hashed as it is
//! read, so the deploy image is named by the sources' content.

use crate::error::{Error, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Never sent, whatever `.dockerignore` says.
pub const ALWAYS_EXCLUDED: &[&str] = &[
    "build",
    "install",
    "log",
    ".git",
    // The version control of the repositories a `.repos` file put inside the workspace (a
    // directory, or a submodule's `.git` file): their files are sources, their history is not.
    "**/.git",
    ".robodev",
    ".devcontainer",
];
/// The workspace's own exclusions.
pub const IGNORE_FILE: &str = ".dockerignore";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceFile {
    /// Relative to the workspace root, `/`-separated.
    pub path: String,
    pub mode: u32,
    /// `sha256` of the content; for a symlink, of its target.
    pub sha256: String,
    /// A symbolic link's target (sent as a link).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// One `.dockerignore` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    segments: Vec<String>,
    negated: bool,
}

impl Pattern {
    pub fn parse(line: &str) -> Option<Pattern> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let (negated, body) = match line.strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, line),
        };
        let segments: Vec<String> = body
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .map(String::from)
            .collect();
        (!segments.is_empty()).then_some(Pattern { segments, negated })
    }

    /// Whether the pattern names `path` or a directory above it.
    fn matches(&self, path: &[&str]) -> bool {
        (1..=path.len()).any(|n| segments_match(&self.segments, &path[..n]))
    }
}

fn segments_match(pattern: &[String], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "**" => {
            (0..=path.len()).any(|skip| segments_match(rest, &path[skip..]))
        }
        Some((first, rest)) => match path.split_first() {
            Some((name, more)) => {
                glob(first.as_bytes(), name.as_bytes()) && segments_match(rest, more)
            }
            None => false,
        },
    }
}

/// `*` and `?` within one path segment.
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob(&pattern[1..], name) || (!name.is_empty() && glob(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => glob(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => glob(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// The exclusion rules of a workspace: robodev's, then its `.dockerignore`'s, in order.
pub fn patterns(root: &Path) -> Result<Vec<Pattern>> {
    let mut out: Vec<Pattern> = ALWAYS_EXCLUDED
        .iter()
        .filter_map(|p| Pattern::parse(p))
        .collect();
    let file = root.join(IGNORE_FILE);
    match std::fs::read_to_string(&file) {
        Ok(text) => out.extend(text.lines().filter_map(Pattern::parse)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io_path("read", &file, e)),
    }
    // robodev's own exclusions cannot be re-included.
    out.extend(ALWAYS_EXCLUDED.iter().filter_map(|p| Pattern::parse(p)));
    Ok(out)
}

/// Whether `path` (relative, `/`-separated) is left out: the last pattern that names it
/// decides.
pub fn excluded(patterns: &[Pattern], path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let mut out = false;
    for p in patterns {
        if p.matches(&parts) {
            out = !p.negated;
        }
    }
    out
}

/// Every file of the workspace a deploy build gets, sorted by path. `own`: directories robodev
/// itself writes to (its state), never sources even when they sit inside the workspace.
pub fn scan(root: &Path, own: &[&Path]) -> Result<Vec<SourceFile>> {
    let patterns = patterns(root)?;
    let walk_ctx = Walk {
        root,
        patterns: &patterns,
        reincludes: patterns.iter().any(|p| p.negated),
        own,
    };
    let mut out = Vec::new();
    walk_ctx.walk(root, &mut out)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

struct Walk<'a> {
    root: &'a Path,
    patterns: &'a [Pattern],
    reincludes: bool,
    own: &'a [&'a Path],
}

impl Walk<'_> {
    fn walk(&self, dir: &Path, out: &mut Vec<SourceFile>) -> Result<()> {
        let (root, patterns, reincludes) = (self.root, self.patterns, self.reincludes);
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io_path("read", dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io_path("read", dir, e))?;
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let meta =
                std::fs::symlink_metadata(&path).map_err(|e| Error::io_path("read", &path, e))?;
            let is_excluded = excluded(patterns, &rel);
            if meta.is_dir() {
                // An excluded directory is skipped unless a `!` pattern may re-include below it.
                if (!is_excluded || reincludes) && !self.own.iter().any(|o| *o == path) {
                    self.walk(&path, out)?;
                }
                continue;
            }
            if is_excluded {
                continue;
            }
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o7777;
            if meta.file_type().is_symlink() {
                let target =
                    std::fs::read_link(&path).map_err(|e| Error::io_path("read", &path, e))?;
                let target = target.to_string_lossy().into_owned();
                out.push(SourceFile {
                    path: rel,
                    mode,
                    sha256: hex::encode(Sha256::digest(target.as_bytes())),
                    link: Some(target),
                });
            } else if meta.is_file() {
                let mut file =
                    std::fs::File::open(&path).map_err(|e| Error::io_path("read", &path, e))?;
                let mut hasher = Sha256::new();
                std::io::copy(&mut file, &mut hasher)
                    .map_err(|e| Error::io_path("read", &path, e))?;
                out.push(SourceFile {
                    path: rel,
                    mode,
                    sha256: hex::encode(hasher.finalize()),
                    link: None,
                });
            }
            // Sockets, fifos and devices are not sources.
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(lines: &[&str]) -> Vec<Pattern> {
        lines.iter().filter_map(|l| Pattern::parse(l)).collect()
    }

    #[test]
    fn dockerignore_rules_as_docker_reads_them() {
        let p = rules(&[
            "build",
            "**/*.key",
            "secrets/",
            "!secrets/README.md",
            "/docs/*.pdf",
            "# c",
        ]);
        assert!(excluded(&p, "build/x/y.o"));
        assert!(excluded(&p, "id.key"));
        assert!(excluded(&p, "src/pkg/deep/robot.key"));
        assert!(!excluded(&p, "src/pkg/robot.keys"));
        assert!(excluded(&p, "secrets/token"));
        assert!(!excluded(&p, "secrets/README.md"));
        assert!(excluded(&p, "docs/manual.pdf"));
        assert!(!excluded(&p, "src/docs/manual.pdf"));
        assert!(!excluded(&p, "src/pkg/CMakeLists.txt"));
        assert!(excluded(&rules(&["src/*/test_?"]), "src/a/test_1/x.py"));
    }

    #[test]
    fn the_scan_sends_sources_and_nothing_colcon_or_git_made() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "src/a/CMakeLists.txt",
            "src/a/id.key",
            "build/a/x.o",
            ".git/HEAD",
            "id.key",
            "README",
        ] {
            std::fs::create_dir_all(root.join(f).parent().unwrap()).unwrap();
            std::fs::write(root.join(f), f).unwrap();
        }
        std::fs::write(root.join(".dockerignore"), "*.key\n**/*.key\n!build\n").unwrap();
        let paths: Vec<String> = scan(root, &[])
            .unwrap()
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(paths, [".dockerignore", "README", "src/a/CMakeLists.txt"]);
    }

    #[test]
    fn imported_repositories_are_sent_without_their_history() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "src/driver/package.xml",
            "src/driver/.git/HEAD",
            "src/driver/vendor/lib/.git",
            "src/driver/vendor/lib/lib.c",
        ] {
            std::fs::create_dir_all(root.join(f).parent().unwrap()).unwrap();
            std::fs::write(root.join(f), f).unwrap();
        }
        let paths: Vec<String> = scan(root, &[])
            .unwrap()
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(
            paths,
            ["src/driver/package.xml", "src/driver/vendor/lib/lib.c"]
        );
    }
}

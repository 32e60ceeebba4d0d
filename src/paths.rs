//! Host paths written in profiles: `~` is the user's home, a relative path is relative to a base
//! directory (the workspace root, or the file that wrote it). One rule, used everywhere.

use std::path::{Path, PathBuf};

/// `~` and `~/x` become paths in `$HOME`; anything else is returned as written.
pub fn expand_home(path: &str) -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"));
    expand_home_in(path, &home)
}

fn expand_home_in(path: &str, home: &Path) -> PathBuf {
    match path.strip_prefix("~") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            home.join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(path),
    }
}

/// `path` with `.` and `..` resolved as written (no file system access: a link is not
/// followed), for comparing an absolute path with another.
pub fn normalized(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` with `~` expanded, and joined to `base` when it is relative.
pub fn resolve_against(base: &Path, path: &str) -> PathBuf {
    let home = expand_home("~");
    resolve_against_with_home(base, &home, path)
}

/// The same, with `~` meaning `home` (a dev container names the home of whoever opens it).
pub fn resolve_against_with_home(base: &Path, home: &Path, path: &str) -> PathBuf {
    let expanded = expand_home_in(path, home);
    // `${localEnv:HOME}/…` (a dev container's home) is as absolute as `/home/…`.
    let joined = if expanded.is_absolute() || expanded.to_string_lossy().starts_with("${") {
        expanded
    } else {
        base.join(expanded)
    };
    // `ws/.` and `ws/./src` are `ws` and `ws/src` (`..` is refused by validation).
    joined
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_absolute_and_home() {
        let base = Path::new("/ws");
        assert_eq!(resolve_against(base, "src"), PathBuf::from("/ws/src"));
        assert_eq!(resolve_against(base, "/data"), PathBuf::from("/data"));
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap();
        assert_eq!(resolve_against(base, "~/x"), home.join("x"));
        assert_eq!(expand_home("~user/x"), PathBuf::from("~user/x"));
        assert_eq!(resolve_against(base, "."), PathBuf::from("/ws"));
        assert_eq!(resolve_against(base, "./src/."), PathBuf::from("/ws/src"));
    }
}

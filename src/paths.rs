//! Host paths written in profiles: `~` is the user's home, a relative path is relative to a base
//! directory (the workspace root, or the file that wrote it). One rule, used everywhere.

use std::path::{Path, PathBuf};

/// `~` and `~/x` become paths in `$HOME`; anything else is returned as written.
pub fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/"));
            home.join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(path),
    }
}

/// `path` with `~` expanded, and joined to `base` when it is relative.
pub fn resolve_against(base: &Path, path: &str) -> PathBuf {
    let expanded = expand_home(path);
    if expanded.is_absolute() {
        expanded
    } else {
        base.join(expanded)
    }
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
    }
}

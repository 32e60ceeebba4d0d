//! The one rule that turns a directory or file name into a valid profile name (also used for
//! container names and mount points).

use std::path::Path;

/// Lowercase a directory or file name into a valid profile name.
pub fn sanitize(s: &str) -> String {
    let mut out: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    out = out.trim_start_matches(['.', '_', '-']).to_string();
    out.truncate(64);
    if out.is_empty() {
        "workspace".into()
    } else {
        out
    }
}

/// The name a directory gives a profile (and the workspace's container and mount point).
pub fn of_directory(dir: &Path) -> String {
    dir.file_name()
        .map(|n| sanitize(&n.to_string_lossy()))
        .unwrap_or_else(|| "workspace".into())
}

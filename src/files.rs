//! Writing generated files: whole or not at all (temp file + rename in the same directory),
//! with the permissions the user's umask gives any new file.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;

pub fn write_atomic(path: &Path, contents: &str) -> Result<()> {
    write_with_mode(path, contents, 0o666)
}

/// Like `write_atomic`, but executable.
pub fn write_atomic_executable(path: &Path, contents: &str) -> Result<()> {
    write_with_mode(path, contents, 0o777)
}

/// The temp file is created 0600; it gets `mode` less the umask before it takes the name, as
/// any file the user's tools create would.
fn write_with_mode(path: &Path, contents: &str, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = ensure_parent(path)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
        .map_err(|e| Error::io_path("create a file in", &dir, e))?;
    tmp.write_all(contents.as_bytes())
        .map_err(|e| Error::io_path("write", path, e))?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode & !umask()))
        .map_err(|e| Error::io_path("set the permissions of", path, e))?;
    tmp.persist(path)
        .map_err(|e| Error::io_path("write", path, e.error))?;
    Ok(())
}

/// This process's umask, from /proc (reading it with umask(2) would change it meanwhile);
/// 022 when it cannot be read.
pub fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// Create the directory `path` goes into; returns it (`.` for a bare file name).
pub fn ensure_parent(path: &std::path::Path) -> Result<PathBuf> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&parent).map_err(|e| Error::io_path("create directory", &parent, e))?;
    Ok(parent)
}

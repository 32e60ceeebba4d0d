//! Writing generated files: whole or not at all (temp file + rename in the same directory).

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;

pub fn write_atomic(path: &Path, contents: &str) -> Result<()> {
    let dir = ensure_parent(path)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
        .map_err(|e| Error::io_path("create a file in", &dir, e))?;
    tmp.write_all(contents.as_bytes())
        .map_err(|e| Error::io_path("write", path, e))?;
    tmp.persist(path)
        .map_err(|e| Error::io_path("write", path, e.error))?;
    Ok(())
}

/// Like `write_atomic`, but executable.
pub fn write_atomic_executable(path: &Path, contents: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    write_atomic(path, contents)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io_path("chmod", path, e))
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

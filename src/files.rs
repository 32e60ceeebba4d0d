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

fn write_with_mode(path: &Path, contents: &str, mode: u32) -> Result<()> {
    let mut file = AtomicFile::create(path, mode)?;
    file.write_all(contents.as_bytes())
        .map_err(|e| Error::io_path("write", path, e))?;
    file.commit()
}

/// A file written under a temporary name beside its place and renamed there by `commit`:
/// until then (an error, ^C, a crash) the path holds what it held before, never half a file.
/// The temp file is created 0600; it gets `mode` less the umask before it takes the name, as
/// any file the user's tools create would.
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    path: std::path::PathBuf,
    mode: u32,
}

impl AtomicFile {
    pub fn create(path: &Path, mode: u32) -> Result<AtomicFile> {
        let dir = ensure_parent(path)?;
        let tmp = tempfile::NamedTempFile::new_in(&dir)
            .map_err(|e| Error::io_path("create a file in", &dir, e))?;
        Ok(AtomicFile {
            tmp,
            path: path.to_path_buf(),
            mode,
        })
    }

    pub fn commit(self) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let path = &self.path;
        self.tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(self.mode & !umask()))
            .map_err(|e| Error::io_path("set the permissions of", path, e))?;
        self.tmp
            .persist(path)
            .map_err(|e| Error::io_path("write", path, e.error))?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tmp.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.tmp.flush()
    }
}

/// An exclusive lock on a file shared between processes, for a read-modify-write of it: a
/// `flock` on a sidecar beside it (`.NAME.lock`), held until dropped. Not on the file itself:
/// an atomic write renames a new file over it, and a lock on the old one would then guard
/// nothing. The sidecar is removed on release, so it never lingers in a workspace (nor in a
/// build context); a process that locked a sidecar the holder had just removed sees it is no
/// longer the one at that path and tries again.
pub struct ExclusiveLock {
    file: std::fs::File,
    sidecar: PathBuf,
}

impl ExclusiveLock {
    /// Wait until this process alone holds the lock of `path`.
    pub fn acquire(path: &Path) -> Result<ExclusiveLock> {
        use std::os::unix::fs::MetadataExt;
        let dir = ensure_parent(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let sidecar = dir.join(format!(".{name}.lock"));
        loop {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&sidecar)
                .map_err(|e| Error::io_path("create", &sidecar, e))?;
            match file.lock() {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // A file system without locks (some shared folders of a VM): write as before,
                // unguarded, rather than not at all.
                Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                    return Ok(ExclusiveLock { file, sidecar });
                }
                Err(e) => return Err(Error::io_path("lock", &sidecar, e)),
            }
            let held = file
                .metadata()
                .map_err(|e| Error::io_path("read", &sidecar, e))?;
            match std::fs::metadata(&sidecar) {
                Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => {
                    return Ok(ExclusiveLock { file, sidecar });
                }
                // Removed (or replaced) by the holder we waited for: lock the one there now.
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io_path("read", &sidecar, e)),
            }
        }
    }
}

impl Drop for ExclusiveLock {
    fn drop(&mut self) {
        // Removed while still held: a waiter then finds it gone and makes a new one.
        let _ = std::fs::remove_file(&self.sidecar);
        let _ = self.file.unlock();
    }
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

/// Every file robodev generates says so in its first lines; a file without this is the user's.
pub const GENERATED_MARKER: &str = "Generated by robodev";

/// A file robodev is about to write.
pub struct GeneratedFile {
    pub path: PathBuf,
    pub content: String,
    pub executable: bool,
}

/// Whether the file at `path` is one robodev wrote (or is absent).
fn ours_or_absent(path: &Path) -> bool {
    match std::fs::read(path) {
        Ok(bytes) => {
            let head: String = String::from_utf8_lossy(&bytes)
                .lines()
                .take(5)
                .collect::<Vec<_>>()
                .join("\n");
            head.contains(GENERATED_MARKER)
        }
        Err(_) => !path.exists(),
    }
}

/// Write a set of generated files, each atomically. Without `force`, nothing is written when
/// any of them exists and was not written by robodev (a hand-written Dockerfile stays).
pub fn write_generated(files: &[GeneratedFile], force: bool) -> Result<()> {
    if !force {
        let foreign: Vec<String> = files
            .iter()
            .filter(|f| !ours_or_absent(&f.path))
            .map(|f| f.path.display().to_string())
            .collect();
        if !foreign.is_empty() {
            return Err(Error::usage_with_help(
                format!(
                    "{} exist{} and robodev did not write {}",
                    foreign.join(", "),
                    if foreign.len() == 1 { "s" } else { "" },
                    if foreign.len() == 1 { "it" } else { "them" }
                ),
                "move them away, write elsewhere (`-o DIR`), or pass --force to replace them",
            ));
        }
    }
    for f in files {
        if f.executable {
            write_atomic_executable(&f.path, &f.content)?;
        } else {
            write_atomic(&f.path, &f.content)?;
        }
    }
    Ok(())
}

/// Write a file the user named on the command line (`-o FILE`): atomically, and never over an
/// existing file unless `force` (one with the same content is left as it is). Returns whether it
/// was written.
pub fn write_output(path: &Path, contents: &str, force: bool) -> Result<bool> {
    match std::fs::read(path) {
        Ok(existing) if existing == contents.as_bytes() => return Ok(false),
        Ok(_) if !force => {
            return Err(Error::usage_with_help(
                format!("{} exists", path.display()),
                "pass --force to replace it, or name another file",
            ));
        }
        Err(e) if path.is_dir() => return Err(Error::io_path("write", path, e)),
        _ => {}
    }
    if path.is_dir() {
        return Err(Error::usage(format!(
            "{} is a directory: name a file",
            path.display()
        )));
    }
    if let Some(parent) = path.parent().filter(|p| p.exists() && !p.is_dir()) {
        return Err(Error::usage(format!(
            "cannot write {}: {} is not a directory",
            path.display(),
            parent.display()
        )));
    }
    write_atomic(path, contents)?;
    Ok(true)
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

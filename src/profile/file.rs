//! A profile file: where it came from (a built-in or a path) and its text.

use super::name;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The workspace's own profile, at its root.
pub const WORKSPACE_FILE: &str = "robodev.yaml";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Builtin(&'static str),
    File(PathBuf),
}

impl Origin {
    pub fn display(&self) -> String {
        match self {
            Origin::Builtin(name) => format!("<built-in>/{name}.yaml"),
            Origin::File(p) => p.display().to_string(),
        }
    }
    /// The name of a profile whose file names none: the workspace directory's name for
    /// `robodev.yaml`, the file's stem otherwise, the built-in's own name.
    pub fn default_name(&self, workspace_root: &Path) -> String {
        match self {
            Origin::Builtin(n) => n.to_string(),
            Origin::File(p) if p.file_name().is_some_and(|f| f == WORKSPACE_FILE) => {
                name::of_directory(workspace_root)
            }
            Origin::File(p) => p
                .file_stem()
                .map(|s| name::sanitize(&s.to_string_lossy()))
                .unwrap_or_else(|| "profile".into()),
        }
    }

    pub(crate) fn dir(&self) -> Option<&Path> {
        match self {
            Origin::Builtin(_) => None,
            Origin::File(p) => p.parent(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ProfileFile {
    pub origin: Origin,
    pub text: String,
}

/// Profiles are small; anything larger is not one (and is not parsed).
pub const MAX_PROFILE_BYTES: u64 = 1 << 20;

/// Read a profile file. Not a file, too large, or not UTF-8 text: bad input (exit 2), said as
/// such. The origin is the canonical path, so `a/../a.yaml` and a symlinked directory are the
/// same file to the `extends:` cycle check.
pub fn read_file(path: &Path) -> Result<ProfileFile> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            Error::usage(format!("profile file {shown} does not exist"))
        }
        _ => Error::io_path("read", path, e),
    })?;
    if meta.is_dir() {
        return Err(Error::usage_with_help(
            format!("{shown} is a directory, not a profile file"),
            "name a .yaml file, or a profile by name (`robodev profiles` lists them)",
        ));
    }
    if meta.len() > MAX_PROFILE_BYTES {
        return Err(Error::usage(format!(
            "{shown} is {} bytes; a profile is at most {MAX_PROFILE_BYTES}",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io_path("read", path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::usage_with_help(
            format!(
                "{shown} is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
            "save the profile as UTF-8 (`iconv -f latin1 -t utf-8`, or your editor's encoding menu)",
        )
    })?;
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    Ok(ProfileFile {
        origin: Origin::File(canonical),
        text,
    })
}

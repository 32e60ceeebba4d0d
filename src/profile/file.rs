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

pub fn read_file(path: &Path) -> Result<ProfileFile> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            Error::usage(format!("profile file {} does not exist", path.display()))
        }
        _ => Error::io_path("read", path, e),
    })?;
    Ok(ProfileFile {
        origin: Origin::File(path.to_path_buf()),
        text,
    })
}

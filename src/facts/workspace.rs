//! The workspace: the directory robodev works for, found from the current directory, and the
//! names derived from it (container name, default mount point).

use crate::profile::{Profile, WORKSPACE_FILE, name};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq)]
pub struct Workspace {
    /// Absolute path of the workspace root.
    pub root: PathBuf,
    /// Its name in container names and the default mount point (the directory's name).
    pub name: String,
    /// What `~` means in the profile's host paths.
    pub home: PathBuf,
}

impl Workspace {
    /// The nearest ancestor of `start` holding a `robodev.yaml`, or `start` itself.
    pub fn discover(start: &Path) -> Workspace {
        let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
        let root = start
            .ancestors()
            .find(|dir| dir.join(WORKSPACE_FILE).is_file())
            .map(Path::to_path_buf)
            .unwrap_or(start);
        Workspace::at(root)
    }

    /// The workspace at `root`, for the user running robodev.
    pub fn at(root: PathBuf) -> Workspace {
        Workspace {
            name: name::of_directory(&root),
            home: crate::paths::expand_home("~"),
            root,
        }
    }

    fn dir_name(&self) -> String {
        self.name.clone()
    }

    /// `robodev-<profile>-<dir>-<6 hex of the absolute path>`: one container per
    /// (workspace, profile), readable in `docker ps`, unique across same-named directories.
    pub fn container_name(&self, profile: &str) -> String {
        let digest = hex::encode(Sha256::digest(self.root.display().to_string().as_bytes()));
        format!("robodev-{profile}-{}-{}", self.dir_name(), &digest[..6])
    }

    /// A host path from the profile: `~` expanded, relative paths against the root.
    pub fn resolve_host_path(&self, path: &str) -> PathBuf {
        crate::paths::resolve_against_with_home(&self.root, &self.home, path)
    }

    pub fn host_path(&self, profile: &Profile) -> PathBuf {
        match &profile.workspace_path {
            Some(p) => self.resolve_host_path(p),
            None => self.root.clone(),
        }
    }

    pub fn mount_point(&self, profile: &Profile) -> String {
        profile
            .workspace_mount
            .clone()
            .unwrap_or_else(|| format!("/workspaces/{}", self.dir_name()))
    }
}

/// Files that make a directory a package for colcon (ROS, Python, CMake).
const PACKAGE_FILES: &[&str] = &[
    "package.xml",
    "setup.py",
    "setup.cfg",
    "pyproject.toml",
    "CMakeLists.txt",
];
/// Files that make colcon (or catkin, ament) skip a directory.
const IGNORE_FILES: &[&str] = &["COLCON_IGNORE", "CATKIN_IGNORE", "AMENT_IGNORE"];

/// The package directories of a workspace as colcon finds them: under `src/` (or the root when
/// there is none), a directory holding a package file is a package and is not descended into;
/// directories with an ignore marker, hidden ones and symlinked ones are skipped.
pub fn colcon_packages(root: &Path) -> Vec<PathBuf> {
    let src = root.join("src");
    let start = if src.is_dir() {
        src
    } else {
        root.to_path_buf()
    };
    let mut found = Vec::new();
    crawl(&start, 0, &mut found);
    found.sort();
    found
}

fn crawl(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    // A bound against pathological trees; real workspaces are a few levels deep.
    if depth > 16 || IGNORE_FILES.iter().any(|f| dir.join(f).exists()) {
        return;
    }
    if depth > 0 && PACKAGE_FILES.iter().any(|f| dir.join(f).is_file()) {
        found.push(dir.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !hidden && entry.file_type().is_ok_and(|t| t.is_dir()) {
            crawl(&entry.path(), depth + 1, found);
        }
    }
}

/// `git` asked about the workspace, when it is a repository and git is installed.
fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The commit checked out (for the deploy image's `org.opencontainers.image.revision`), with
/// `-dirty` after it when the files differ from it (changed, staged or new files that are not
/// ignored): the image is then not that commit's, and its label must not say so.
pub fn git_revision(root: &Path) -> Option<String> {
    let head = git(root, &["rev-parse", "HEAD"])?;
    // `git` prints nothing for a clean tree: `None` here is clean (or git failed: not said).
    let dirty = git(root, &["status", "--porcelain", "--untracked-files=normal"]).is_some();
    Some(if dirty { format!("{head}-dirty") } else { head })
}

/// When the checked-out commit was made (RFC 3339): the deploy image's
/// `org.opencontainers.image.created`. The commit's time, not the build's, so the same sources
/// make the same image (as `SOURCE_DATE_EPOCH` does for reproducible builds).
pub fn git_commit_time(root: &Path) -> Option<String> {
    git(root, &["log", "-1", "--format=%cI"])
}

/// Where the workspace's repository lives (`org.opencontainers.image.source`); a URL with
/// credentials in it is not repeated.
pub fn git_origin(root: &Path) -> Option<String> {
    git(root, &["config", "--get", "remote.origin.url"])
        .filter(|u| !u.contains('@') || u.starts_with("git@"))
}

/// The vcstool `.repos` files at the workspace root, by name, sorted: a profile without
/// `sources:` does not use them, and robodev says that they are there.
pub fn repos_files_at_root(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".repos"))
        .collect();
    names.sort();
    names
}

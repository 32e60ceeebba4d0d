//! Where profiles come from.
//!
//! Search order for a name: `robodev.yaml` at the workspace root (when its `name` matches),
//! the user's profile directory, then the built-in profiles embedded in the binary. An explicit
//! path (anything containing `/` or ending in `.yaml`/`.yml`) is read as is.

use super::file::{Origin, ProfileFile, WORKSPACE_FILE, read_file};
use super::yaml::parse;
use crate::error::{Error, Result};
use crate::suggest;
use std::path::PathBuf;

pub static BUILTIN: &[(&str, &str)] = &[
    ("debian", include_str!("../../profiles/debian.yaml")),
    ("humble", include_str!("../../profiles/humble.yaml")),
    ("jazzy", include_str!("../../profiles/jazzy.yaml")),
    ("kilted", include_str!("../../profiles/kilted.yaml")),
    ("noetic", include_str!("../../profiles/noetic.yaml")),
    ("rolling", include_str!("../../profiles/rolling.yaml")),
];

/// Where to look for profiles.
#[derive(Clone, Debug)]
pub struct ProfileSearch {
    pub workspace_root: PathBuf,
    pub user_dir: Option<PathBuf>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ProfileEntry {
    pub name: String,
    pub source: String,
    pub origin: &'static str,
}

impl ProfileEntry {
    /// The reference that loads this entry again (`None`: the workspace's own profile).
    pub fn reference(&self) -> Option<&str> {
        match self.origin {
            "workspace" => None,
            "built-in" => Some(self.name.as_str()),
            _ => Some(self.source.as_str()),
        }
    }
}

impl ProfileSearch {
    pub fn new(workspace_root: PathBuf) -> Self {
        let user_dir = std::env::var_os("ROBODEV_CONFIG_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                directories::ProjectDirs::from("", "", "robodev")
                    .map(|d| d.config_dir().to_path_buf())
            })
            .map(|d| d.join("profiles"));
        ProfileSearch {
            workspace_root,
            user_dir,
        }
    }

    pub fn workspace_file(&self) -> PathBuf {
        self.workspace_root.join(WORKSPACE_FILE)
    }

    pub(crate) fn workspace_file_or_help(&self) -> Result<ProfileFile> {
        let path = self.workspace_file();
        if !path.exists() {
            return Err(Error::usage_with_help(
                format!(
                    "no profile given and no {WORKSPACE_FILE} in {}",
                    self.workspace_root.display()
                ),
                "name a profile (`robodev up humble`; `robodev profiles` lists them) or create one with `robodev init`",
            ));
        }
        read_file(&path)
    }

    /// The name the workspace's `robodev.yaml` is known by, if there is one.
    fn workspace_profile(&self) -> Option<(ProfileFile, String)> {
        let file = read_file(&self.workspace_file()).ok()?;
        let name = parse(&file)
            .ok()
            .and_then(|r| r.name.map(|n| n.value))
            .unwrap_or_else(|| file.origin.default_name(&self.workspace_root));
        Some((file, name))
    }

    /// Find a profile by name. `skip` is the file doing the asking, so a user profile named
    /// `humble` can extend the built-in `humble` instead of itself.
    pub(crate) fn find_by_name(&self, name: &str, skip: Option<&Origin>) -> Result<ProfileFile> {
        if let Some((file, ws_name)) = self.workspace_profile()
            && ws_name == name
            && skip != Some(&file.origin)
        {
            return Ok(file);
        }
        if let Some(dir) = &self.user_dir {
            for ext in ["yaml", "yml"] {
                let path = dir.join(format!("{name}.{ext}"));
                let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                if path.exists() && skip != Some(&Origin::File(canonical)) {
                    return read_file(&path);
                }
            }
        }
        if let Some((builtin, text)) = BUILTIN.iter().find(|(n, _)| *n == name)
            && skip != Some(&Origin::Builtin(builtin))
        {
            return Ok(ProfileFile {
                origin: Origin::Builtin(builtin),
                text: text.to_string(),
            });
        }
        let names: Vec<String> = self.list().into_iter().map(|e| e.name).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        Err(Error::usage_with_help(
            format!("no profile named \"{name}\""),
            format!(
                "{}; `robodev profiles` lists them, and a path (./my.yaml) works too",
                suggest::did_you_mean(name, &refs)
            ),
        ))
    }

    /// Every profile robodev can find: the workspace's, the user's, the built-in ones.
    pub fn list(&self) -> Vec<ProfileEntry> {
        let mut out: Vec<ProfileEntry> = Vec::new();
        if let Some((file, name)) = self.workspace_profile() {
            out.push(ProfileEntry {
                name,
                source: file.origin.display(),
                origin: "workspace",
            });
        }
        if let Some(dir) = &self.user_dir
            && let Ok(entries) = std::fs::read_dir(dir)
        {
            let mut user: Vec<ProfileEntry> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .filter_map(|p| {
                    Some(ProfileEntry {
                        name: p.file_stem()?.to_string_lossy().into_owned(),
                        source: p.display().to_string(),
                        origin: "user",
                    })
                })
                .collect();
            user.sort_by(|a, b| a.name.cmp(&b.name));
            out.extend(user);
        }
        out.extend(BUILTIN.iter().map(|(name, _)| ProfileEntry {
            name: name.to_string(),
            source: Origin::Builtin(name).display(),
            origin: "built-in",
        }));
        out
    }
}

pub(crate) fn looks_like_path(reference: &str) -> bool {
    reference.contains('/') || reference.ends_with(".yaml") || reference.ends_with(".yml")
}

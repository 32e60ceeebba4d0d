//! Where profiles come from and how `extends:` chains are read.
//!
//! Search order for a name: `robodev.yaml` at the workspace root (when its `name` matches),
//! the user's profile directory, then the built-in profiles embedded in the binary. An explicit
//! path (anything containing `/` or ending in `.yaml`/`.yml`) is read as is.

use crate::error::{Error, Result, SourcePos};
use crate::profile_raw::{FIELDS, RawProfile};
use crate::sourced::{self, Sourced};
use crate::suggest;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

pub const WORKSPACE_FILE: &str = "robodev.yaml";

pub static BUILTIN: &[(&str, &str)] = &[
    ("debian", include_str!("../profiles/debian.yaml")),
    ("humble", include_str!("../profiles/humble.yaml")),
    ("jazzy", include_str!("../profiles/jazzy.yaml")),
    ("kilted", include_str!("../profiles/kilted.yaml")),
    ("noetic", include_str!("../profiles/noetic.yaml")),
    ("rolling", include_str!("../profiles/rolling.yaml")),
];

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
    fn dir(&self) -> Option<&Path> {
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

/// A profile read with its whole `extends:` chain, merged.
#[derive(Clone, Debug)]
pub struct LoadedProfile {
    pub raw: RawProfile,
    /// The name the profile is known by.
    pub name: String,
    /// The files it was composed from, child first.
    pub chain: Vec<Origin>,
}

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

    fn workspace_file(&self) -> PathBuf {
        self.workspace_root.join(WORKSPACE_FILE)
    }

    /// Load a profile by reference (name or path), or the workspace's `robodev.yaml` when none.
    pub fn load(&self, reference: Option<&str>) -> Result<LoadedProfile> {
        let file = match reference {
            Some(r) if looks_like_path(r) => read_file(&resolve_relative(&self.workspace_root, r))?,
            Some(name) => self.find_by_name(name, None)?,
            None => {
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
                read_file(&path)?
            }
        };
        let mut chain = Vec::new();
        let raw = self.load_chain(file, &mut chain)?;
        let name = raw
            .name
            .as_ref()
            .map(|n| n.value.clone())
            .unwrap_or_else(|| self.default_name(&chain[0]));
        Ok(LoadedProfile { raw, name, chain })
    }

    /// The name of a profile whose file gives none: the workspace directory's name for
    /// `robodev.yaml`, the file's stem otherwise.
    fn default_name(&self, origin: &Origin) -> String {
        match origin {
            Origin::Builtin(n) => n.to_string(),
            Origin::File(p) if p.file_name().is_some_and(|f| f == WORKSPACE_FILE) => self
                .workspace_root
                .file_name()
                .map(|n| sanitize_name(&n.to_string_lossy()))
                .unwrap_or_else(|| "workspace".into()),
            Origin::File(p) => p
                .file_stem()
                .map(|s| sanitize_name(&s.to_string_lossy()))
                .unwrap_or_else(|| "profile".into()),
        }
    }

    /// The name the workspace's `robodev.yaml` is known by, if there is one.
    fn workspace_profile(&self) -> Option<(ProfileFile, String)> {
        let file = read_file(&self.workspace_file()).ok()?;
        let name = parse(&file)
            .ok()
            .and_then(|r| r.name.map(|n| n.value))
            .unwrap_or_else(|| self.default_name(&file.origin));
        Some((file, name))
    }

    fn load_chain(&self, file: ProfileFile, chain: &mut Vec<Origin>) -> Result<RawProfile> {
        let raw = parse(&file)?;
        chain.push(file.origin.clone());
        let Some(parent_ref) = raw.extends.clone() else {
            return Ok(raw);
        };
        let parent = if looks_like_path(&parent_ref.value) {
            let base = file.origin.dir().unwrap_or(&self.workspace_root);
            read_file(&resolve_relative(base, &parent_ref.value))
                .map_err(|e| at(&parent_ref, "extends", e.to_string(), None))?
        } else {
            self.find_by_name(&parent_ref.value, Some(&file.origin))
                .map_err(|e| {
                    at(
                        &parent_ref,
                        "extends",
                        e.to_string(),
                        e.help().map(String::from),
                    )
                })?
        };
        if chain.contains(&parent.origin) {
            let cycle: Vec<String> = chain
                .iter()
                .chain(std::iter::once(&parent.origin))
                .map(Origin::display)
                .collect();
            return Err(at(
                &parent_ref,
                "extends",
                format!(
                    "profiles extend each other in a cycle: {}",
                    cycle.join(" → ")
                ),
                Some("remove one of the `extends:` lines".into()),
            ));
        }
        let parent_raw = self.load_chain(parent, chain)?;
        Ok(parent_raw.merged_with(raw))
    }

    /// Find a profile by name. `skip` is the file doing the asking, so a user profile named
    /// `humble` can extend the built-in `humble` instead of itself.
    fn find_by_name(&self, name: &str, skip: Option<&Origin>) -> Result<ProfileFile> {
        if let Some((file, ws_name)) = self.workspace_profile()
            && ws_name == name
            && skip != Some(&file.origin)
        {
            return Ok(file);
        }
        if let Some(dir) = &self.user_dir {
            for ext in ["yaml", "yml"] {
                let path = dir.join(format!("{name}.{ext}"));
                if path.exists() && skip != Some(&Origin::File(path.clone())) {
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

fn looks_like_path(reference: &str) -> bool {
    reference.contains('/') || reference.ends_with(".yaml") || reference.ends_with(".yml")
}

fn resolve_relative(base: &Path, reference: &str) -> PathBuf {
    let expanded = crate::host::expand_home(reference);
    if expanded.is_absolute() {
        expanded
    } else {
        base.join(expanded)
    }
}

/// Lowercase a directory or file name into a valid profile name.
pub fn sanitize_name(s: &str) -> String {
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

fn at<T>(value: &Sourced<T>, field: &str, message: String, help: Option<String>) -> Error {
    Error::profile(value.pos.clone(), field, message, help)
}

/// Parse one profile file, turning serde-saphyr errors into errors with a field path.
pub fn parse(file: &ProfileFile) -> Result<RawProfile> {
    let display = file.origin.display();
    let path = RefCell::new(String::new());
    let result: std::result::Result<RawProfile, serde_saphyr::Error> =
        sourced::with_file(&display, || {
            serde_saphyr::with_deserializer_from_str(&file.text, |de| {
                serde_path_to_error::deserialize(de).map_err(|e| {
                    *path.borrow_mut() = e.path().to_string();
                    e.into_inner()
                })
            })
        });
    let raw = result.map_err(|e| yaml_error(&display, &path.into_inner(), &e))?;
    check_version(&display, &raw)?;
    Ok(raw)
}

fn check_version(display: &str, raw: &RawProfile) -> Result<()> {
    match &raw.version {
        Some(v) if v.value == 1 => Ok(()),
        Some(v) => Err(at(
            v,
            "version",
            format!(
                "schema version {} is not supported; this robodev reads version 1",
                v.value
            ),
            Some("upgrade robodev, or write the profile for `version: 1`".into()),
        )),
        None => Err(Error::profile(
            SourcePos {
                file: display.to_string(),
                line: 1,
                column: 1,
            },
            "version",
            "the profile has no `version`",
            Some("add `version: 1` as the first line".into()),
        )),
    }
}

fn yaml_error(file: &str, path: &str, e: &serde_saphyr::Error) -> Error {
    let (line, column) = e
        .location()
        .map(|l| (l.line() as u32, l.column() as u32))
        .unwrap_or((0, 0));
    let first = e.to_string().lines().next().unwrap_or_default().to_string();
    // serde-saphyr prefixes "error: line L column C: "; we print the position ourselves.
    let message = first
        .split_once(": ")
        .and_then(|(_, rest)| {
            rest.strip_prefix("line ")
                .and_then(|r| r.split_once(": "))
                .map(|(_, m)| m.to_string())
        })
        .unwrap_or(first);
    let message = plain_message(&message);
    let mut field = field_path(path);
    if let Some(key) = message.strip_prefix("duplicate key ") {
        // serde_path_to_error has no path for a duplicate key; the key itself is the best name.
        field = key.trim_matches('`').to_string();
    }
    let field = if field.is_empty() || field == "." || field == "?" {
        "(document)".to_string()
    } else {
        field
    };
    let help = unknown_field_help(&message, &field);
    Error::profile(
        SourcePos {
            file: file.to_string(),
            line,
            column,
        },
        field,
        message,
        help,
    )
}

/// The parser's wording, in the words of someone writing a profile.
fn plain_message(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(',').next().unwrap_or(rest).trim();
        return format!("duplicate key `{key}`");
    }
    match message {
        "expected sequence start" => "expected a list (`[a, b]`, or one `- item` per line)".into(),
        "expected mapping start" => "expected a map (`key: value` lines, or `{key: value}`)".into(),
        other => other.to_string(),
    }
}

/// serde_path_to_error's path, without the `value` segments that `Sourced` (via serde-saphyr's
/// `Spanned`) adds after every wrapped node. An env variable named `value` is kept.
fn field_path(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('.') {
        if segment == "value" && kept.last().is_some_and(|prev| *prev != "env") {
            continue;
        }
        kept.push(segment);
    }
    kept.join(".")
}

/// serde says "unknown field `devics`, expected one of a, b, c": turn it into a suggestion.
fn unknown_field_help(message: &str, field: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (name, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest
        .split_once("expected one of ")
        .map(|(_, list)| list.split(", ").map(|s| s.trim_matches('`')).collect())
        .or_else(|| {
            rest.split_once("expected ")
                .map(|(_, one)| vec![one.trim_matches('`')])
        })
        .unwrap_or_else(|| {
            if field.contains('.') {
                vec![]
            } else {
                FIELDS.to_vec()
            }
        });
    let suggestion = suggest::closest(name, expected.iter().copied());
    Some(match suggestion {
        Some(s) => format!("unknown field \"{name}\", did you mean \"{s}\"?"),
        None => format!("valid fields here: {}", expected.join(", ")),
    })
}

//! The validated workspace profile: every value checked against its grammar, enums resolved,
//! defaults applied. Built from a `LoadedProfile`; planning only ever sees this type.

use crate::distro::{Distro, Variant};
use crate::error::{Error, Result, SourcePos};
use crate::grammar;
use crate::profile_raw::RawProfile;
use crate::profile_source::{LoadedProfile, Origin};
use crate::sourced::Sourced;
use crate::suggest;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserMode {
    /// The host user's name, uid and gid.
    Host,
    Root,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Sh,
}

impl Shell {
    pub const NAMES: [&str; 4] = ["bash", "zsh", "fish", "sh"];
    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
            Shell::Sh => "sh",
        }
    }
    pub fn path(self) -> &'static str {
        match self {
            Shell::Bash => "/bin/bash",
            Shell::Zsh => "/bin/zsh",
            Shell::Fish => "/usr/bin/fish",
            Shell::Sh => "/bin/sh",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GpuMode {
    None,
    Auto,
    Nvidia,
    Dri,
}

impl GpuMode {
    pub const NAMES: [&str; 4] = ["none", "auto", "nvidia", "dri"];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HotplugClass {
    Serial,
    Usb,
    Video,
    Input,
}

impl HotplugClass {
    pub const NAMES: [&str; 4] = ["serial", "usb", "video", "input"];
    pub fn name(self) -> &'static str {
        match self {
            HotplugClass::Serial => "serial",
            HotplugClass::Usb => "usb",
            HotplugClass::Video => "video",
            HotplugClass::Input => "input",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeviceSpec {
    pub path: String,
    /// Path inside the container; the host path when not given.
    pub inside: Option<String>,
    pub optional: bool,
    #[serde(skip)]
    pub declared_at: SourcePos,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "type")]
pub enum MountSpec {
    /// A host path (may start with `~`, relative to the workspace root otherwise).
    Bind {
        source: String,
        target: String,
        readonly: bool,
    },
    /// A named volume, kept by `down` unless `--volumes`.
    Volume {
        source: String,
        target: String,
        readonly: bool,
    },
    Tmpfs {
        target: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Profile {
    pub name: String,
    /// The files this profile was composed from, child first.
    pub chain: Vec<String>,
    #[serde(serialize_with = "distro_name")]
    pub distro: &'static Distro,
    pub variant: Variant,
    pub base_image: String,
    pub platform: Option<String>,
    /// Apt packages that are not ROS packages.
    pub apt: Vec<String>,
    /// The variant's packages and `ros-<distro>-*` packages.
    pub ros_packages: Vec<String>,
    pub pip: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub mounts: Vec<MountSpec>,
    /// Host path of the workspace, relative to the workspace root; `None` = the root itself.
    pub workspace_path: Option<String>,
    /// Mount point inside; `None` = `/workspaces/<root's name>`.
    pub workspace_mount: Option<String>,
    pub user: UserMode,
    pub shell: Shell,
    pub network: String,
    pub ipc: Option<String>,
    pub shm_size: Option<u64>,
    pub privileged: bool,
    pub gpu: GpuMode,
    pub devices: Vec<DeviceSpec>,
    pub hotplug: Vec<HotplugClass>,
    pub x11: bool,
    pub wayland: bool,
    pub audio: bool,
    pub ssh_agent: bool,
    pub git_config: bool,
    /// Directory of template overrides, absolute.
    pub templates: Option<String>,
    /// Things worth telling the user that are not errors (end of life, privileged).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

fn distro_name<S: serde::Serializer>(
    d: &&'static Distro,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(d.name)
}

fn bad<T>(v: &Sourced<T>, field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::profile(v.pos.clone(), field, message, None)
}

fn bad_help<T>(
    v: &Sourced<T>,
    field: impl Into<String>,
    message: impl Into<String>,
    help: String,
) -> Error {
    Error::profile(v.pos.clone(), field, message, Some(help))
}

/// The index of `list[i]` among the entries of the same file: after `extends:` merging, lists
/// hold the parents' entries first, but an error must name the index the user wrote.
fn local_index<T>(list: &[Sourced<T>], i: usize) -> usize {
    list[..i]
        .iter()
        .filter(|x| x.pos.file == list[i].pos.file)
        .count()
}

fn check<T>(
    v: &Sourced<T>,
    field: impl Into<String>,
    result: std::result::Result<(), String>,
) -> Result<()> {
    result.map_err(|m| bad(v, field, m))
}

/// Pick one of `names` or fail with a suggestion.
fn one_of<'a>(v: &Sourced<String>, field: &str, names: &[&'a str]) -> Result<&'a str> {
    names
        .iter()
        .find(|n| **n == v.value)
        .copied()
        .ok_or_else(|| {
            bad_help(
                v,
                field,
                format!("\"{}\" is not a valid {field}", v.value),
                suggest::did_you_mean(&v.value, names),
            )
        })
}

impl Profile {
    pub fn from_loaded(loaded: &LoadedProfile, today: &str) -> Result<Profile> {
        let raw = &loaded.raw;
        let chain: Vec<String> = loaded.chain.iter().map(Origin::display).collect();
        let top_file = chain.first().cloned().unwrap_or_default();
        let mut warnings = Vec::new();

        if let Some(n) = &raw.name {
            check(n, "name", grammar::profile_name(&n.value))?;
        }

        let (distro, variant) = ros(raw, &top_file)?;
        if let Some(w) = distro.life_warning(today) {
            warnings.push(w);
        }

        let base_image = match &raw.base_image {
            Some(img) => {
                check(img, "base_image", grammar::image_reference(&img.value))?;
                img.value.clone()
            }
            None => distro.base_image(variant),
        };
        let platform = match &raw.platform {
            Some(p) => {
                check(p, "platform", grammar::platform(&p.value))?;
                Some(p.value.clone())
            }
            None => None,
        };

        let mut apt = Vec::new();
        let mut ros_packages = distro.variant_packages(variant);
        for (i, p) in raw.apt.iter().enumerate() {
            let i = local_index(&raw.apt, i);
            check(p, format!("apt[{i}]"), grammar::apt_package(&p.value))?;
            let list = if distro.is_ros_package(&p.value) {
                &mut ros_packages
            } else {
                &mut apt
            };
            if !list.contains(&p.value) {
                list.push(p.value.clone());
            }
        }
        let mut pip = Vec::new();
        for (i, p) in raw.pip.iter().enumerate() {
            let i = local_index(&raw.pip, i);
            check(p, format!("pip[{i}]"), grammar::pip_requirement(&p.value))?;
            if !pip.contains(&p.value) {
                pip.push(p.value.clone());
            }
        }

        let mut env = BTreeMap::new();
        for (k, v) in &raw.env {
            check(v, format!("env.{k}"), grammar::env_name(k))?;
            check(v, format!("env.{k}"), grammar::env_value(&v.value))?;
            env.insert(k.clone(), v.value.clone());
        }

        let mut mounts = Vec::new();
        for (i, m) in raw.mounts.iter().enumerate() {
            mounts.push(mount(m, local_index(&raw.mounts, i))?);
        }
        let targets: Vec<&str> = mounts.iter().map(MountSpec::target).collect();
        for (i, t) in targets.iter().enumerate() {
            if targets[..i].contains(t) {
                return Err(bad(
                    &raw.mounts[i],
                    format!("mounts[{i}].target"),
                    format!("`{t}` is mounted twice"),
                ));
            }
        }

        let (workspace_path, workspace_mount) = match &raw.workspace {
            Some(ws) => {
                if let Some(p) = &ws.path {
                    check(p, "workspace.path", grammar::safe_path(&p.value, false))?;
                }
                if let Some(m) = &ws.mount {
                    check(m, "workspace.mount", grammar::safe_path(&m.value, true))?;
                    if m.value == "/" {
                        return Err(bad(
                            m,
                            "workspace.mount",
                            "the workspace cannot be mounted over `/`",
                        ));
                    }
                }
                (
                    ws.path.as_ref().map(|p| p.value.clone()),
                    ws.mount.as_ref().map(|m| m.value.clone()),
                )
            }
            None => (None, None),
        };

        let user = match &raw.user {
            Some(u) => match one_of(u, "user", &["host", "root"])? {
                "root" => UserMode::Root,
                _ => UserMode::Host,
            },
            None => UserMode::Host,
        };
        let shell = match &raw.shell {
            Some(s) => match one_of(s, "shell", &Shell::NAMES)? {
                "zsh" => Shell::Zsh,
                "fish" => Shell::Fish,
                "sh" => Shell::Sh,
                _ => Shell::Bash,
            },
            None => Shell::Bash,
        };
        let network = match &raw.network {
            Some(n) => one_of(n, "network", &["host", "none", "bridge"])?.to_string(),
            None => "host".to_string(),
        };
        let ipc = match &raw.ipc {
            Some(i) => {
                Some(one_of(i, "ipc", &["host", "private", "shareable", "none"])?.to_string())
            }
            None => None,
        };
        let shm_size = match &raw.shm_size {
            Some(s) => Some(grammar::byte_size(&s.value).map_err(|m| bad(s, "shm_size", m))?),
            None => None,
        };
        let privileged = raw.privileged.as_ref().is_some_and(|p| p.value);
        if privileged {
            warnings.push(
                "privileged: true gives the container every device and capability of the host and \
                 disables its seccomp and AppArmor confinement; prefer `devices:` and `hotplug:`"
                    .to_string(),
            );
        }
        let gpu = match &raw.gpu {
            Some(g) => match one_of(g, "gpu", &GpuMode::NAMES)? {
                "auto" => GpuMode::Auto,
                "nvidia" => GpuMode::Nvidia,
                "dri" => GpuMode::Dri,
                _ => GpuMode::None,
            },
            None => GpuMode::None,
        };

        let mut devices = Vec::new();
        for (i, d) in raw.devices.iter().enumerate() {
            let i = local_index(&raw.devices, i);
            check(
                d,
                format!("devices[{i}].path"),
                grammar::safe_path(&d.value.path, true),
            )?;
            if !d.value.path.starts_with("/dev/") && !d.value.path.starts_with("/tmp/") {
                // /tmp is allowed so tests and udev-less setups can hand over nodes made with mknod.
                return Err(bad_help(
                    d,
                    format!("devices[{i}].path"),
                    format!("`{}` is not under /dev", d.value.path),
                    "devices are character or block device nodes such as /dev/ttyUSB0; use `mounts:` for files".into(),
                ));
            }
            if let Some(inside) = &d.value.inside {
                check(
                    d,
                    format!("devices[{i}].as"),
                    grammar::safe_path(inside, true),
                )?;
            }
            devices.push(DeviceSpec {
                path: d.value.path.clone(),
                inside: d.value.inside.clone(),
                optional: d.value.optional,
                declared_at: d.pos.clone(),
            });
        }
        let mut hotplug = Vec::new();
        for (i, h) in raw.hotplug.iter().enumerate() {
            let i = local_index(&raw.hotplug, i);
            let class = match one_of(h, &format!("hotplug[{i}]"), &HotplugClass::NAMES)? {
                "serial" => HotplugClass::Serial,
                "usb" => HotplugClass::Usb,
                "video" => HotplugClass::Video,
                _ => HotplugClass::Input,
            };
            if !hotplug.contains(&class) {
                hotplug.push(class);
            }
        }
        hotplug.sort();

        let flag = |f: &Option<Sourced<bool>>| f.as_ref().is_some_and(|v| v.value);
        let templates = match &raw.templates {
            Some(t) => {
                let base = std::path::Path::new(&t.pos.file)
                    .parent()
                    .unwrap_or(std::path::Path::new("."));
                let dir = base.join(crate::host::expand_home(&t.value));
                if !dir.is_dir() {
                    return Err(bad(
                        t,
                        "templates",
                        format!("`{}` is not a directory", dir.display()),
                    ));
                }
                Some(dir.display().to_string())
            }
            None => None,
        };

        Ok(Profile {
            name: loaded.name.clone(),
            chain,
            distro,
            variant,
            base_image,
            platform,
            apt,
            ros_packages,
            pip,
            env,
            mounts,
            workspace_path,
            workspace_mount,
            user,
            shell,
            network,
            ipc,
            shm_size,
            privileged,
            gpu,
            devices,
            hotplug,
            x11: flag(&raw.x11),
            wayland: flag(&raw.wayland),
            audio: flag(&raw.audio),
            ssh_agent: flag(&raw.ssh_agent),
            git_config: flag(&raw.git_config),
            templates,
            warnings,
        })
    }
}

fn ros(raw: &RawProfile, top_file: &str) -> Result<(&'static Distro, Variant)> {
    let ros = raw.ros.clone().unwrap_or_default();
    let Some(distro_value) = ros.distro else {
        return Err(Error::profile(
            SourcePos {
                file: top_file.to_string(),
                line: 1,
                column: 1,
            },
            "ros.distro",
            "the profile names no ROS distro",
            Some(format!(
                "add `ros: {{distro: humble}}` or `extends: humble`; known distros: {}",
                Distro::names().join(", ")
            )),
        ));
    };
    let distro = Distro::find(&distro_value.value).ok_or_else(|| {
        bad_help(
            &distro_value,
            "ros.distro",
            format!("unknown ROS distro \"{}\"", distro_value.value),
            format!(
                "{}known distros: {}",
                suggest::closest(&distro_value.value, Distro::names())
                    .map(|c| format!("did you mean \"{c}\"? "))
                    .unwrap_or_default(),
                Distro::names().join(", ")
            ),
        )
    })?;
    let variant = match ros.variant {
        Some(v) => {
            let names: Vec<&str> = distro.variants.iter().map(|v| v.name()).collect();
            let name = one_of(&v, "ros.variant", &names).map_err(|e| match e {
                Error::Profile {
                    pos, field, help, ..
                } => Error::Profile {
                    pos,
                    field,
                    message: format!("\"{}\" is not a variant of {}", v.value, distro.name),
                    help,
                },
                other => other,
            })?;
            Variant::parse(name).unwrap_or(Variant::RosBase)
        }
        None => Variant::RosBase,
    };
    Ok((distro, variant))
}

fn mount(m: &Sourced<crate::profile_raw::RawMount>, i: usize) -> Result<MountSpec> {
    let field = |f: &str| format!("mounts[{i}].{f}");
    check(
        m,
        field("target"),
        grammar::safe_path(&m.value.target, true),
    )?;
    let kind = m.value.kind.as_deref().unwrap_or("bind");
    let source = m.value.source.clone();
    let target = m.value.target.clone();
    let readonly = m.value.readonly;
    match kind {
        "bind" => {
            let source =
                source.ok_or_else(|| bad(m, field("source"), "a bind mount needs a `source`"))?;
            check(m, field("source"), grammar::safe_path(&source, false))?;
            Ok(MountSpec::Bind {
                source,
                target,
                readonly,
            })
        }
        "volume" => {
            let source = source.ok_or_else(|| {
                bad(
                    m,
                    field("source"),
                    "a volume mount needs a `source` (the volume name)",
                )
            })?;
            let ok = source.starts_with(|c: char| c.is_ascii_alphanumeric())
                && source
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            if !ok {
                return Err(bad(
                    m,
                    field("source"),
                    format!("`{source}` is not a volume name"),
                ));
            }
            Ok(MountSpec::Volume {
                source,
                target,
                readonly,
            })
        }
        "tmpfs" => Ok(MountSpec::Tmpfs { target }),
        other => Err(bad_help(
            m,
            field("type"),
            format!("\"{other}\" is not a mount type"),
            suggest::did_you_mean(other, &["bind", "volume", "tmpfs"]),
        )),
    }
}

impl MountSpec {
    pub fn target(&self) -> &str {
        match self {
            MountSpec::Bind { target, .. }
            | MountSpec::Volume { target, .. }
            | MountSpec::Tmpfs { target } => target,
        }
    }
}

//! From a merged `RawProfile` to a `Profile`: one function per profile section, each checking
//! its values against their grammar and giving errors at the value's file:line:column.

use super::distro::{Distro, Variant};
use super::extends::LoadedProfile;
use super::file::Origin;
use super::grammar;
use super::model::{
    DEFAULT_SOURCES_DIR, DEPLOY_USER, Dependencies, Deploy, DeviceSpec, GpuMode, HotplugClass,
    MountSpec, Profile, Rmw, Security, Shell, SourcesFile, UserMode,
};
use super::raw::{RawMount, RawProfile, RawSourcesFile};
use super::search::BUILTIN;
use super::sourced::Sourced;
use crate::error::{Error, Result, SourcePos};
use crate::notice::Notice;
use crate::suggest;
use std::collections::BTreeMap;

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
        let rmw = rmw(raw, distro)?;
        if let Some(w) = distro.life_warning(today) {
            warnings.push(Notice::warning(w));
        }
        let (base_image, platform) = image(raw, distro, variant)?;
        let deploy = deploy(raw, distro, rmw, &base_image)?;
        let Packages {
            apt,
            apt_layers,
            ros,
            pip,
        } = packages(raw, distro, variant, rmw)?;
        let (workspace_path, workspace_mount, workspace_remote_path) = workspace(raw)?;
        let runtime = runtime(raw)?;
        if runtime.privileged {
            warnings.push(Notice::warning(
                "privileged: true gives the container every device and capability of the host and \
                 disables its seccomp and AppArmor confinement; prefer `devices:` and `hotplug:`",
            ));
        }
        let flag = |f: &Option<Sourced<bool>>| f.as_ref().is_some_and(|v| v.value);
        let shadows_builtin = shadowed_builtins(&loaded.chain);
        for path in &shadows_builtin {
            warnings.push(Notice::warning(format!(
                "{path} is used for an `extends:` instead of the built-in profile of that name; \
                 teammates without this file get the built-in one"
            )));
        }

        Ok(Profile {
            name: loaded.name.clone(),
            chain,
            distro,
            variant,
            rmw,
            base_image,
            platform,
            apt,
            apt_layers,
            ros_packages: ros,
            pip,
            env: env(raw, rmw)?,
            mounts: mounts(raw)?,
            workspace_path,
            workspace_mount,
            workspace_remote_path,
            workspace_sync: raw
                .workspace
                .as_ref()
                .and_then(|w| w.sync.as_ref())
                .is_some_and(|s| s.value),
            user: runtime.user,
            shell: runtime.shell,
            network: runtime.network,
            ipc: runtime.ipc,
            shm_size: runtime.shm_size,
            privileged: runtime.privileged,
            gpu: gpu(raw)?,
            devices: devices(raw)?,
            hotplug: hotplug(raw)?,
            x11: flag(&raw.x11),
            wayland: flag(&raw.wayland),
            audio: flag(&raw.audio),
            ssh_agent: flag(&raw.ssh_agent),
            git_config: flag(&raw.git_config),
            templates: templates(raw)?,
            security: security(raw)?,
            dependencies: dependencies(raw)?,
            registry: match &raw.registry {
                Some(r) => {
                    check(r, "registry", grammar::registry(&r.value))?;
                    Some(r.value.trim_end_matches('/').to_string())
                }
                None => None,
            },
            deploy,
            warnings,
            shadows_builtin,
            sources: sources(raw)?,
            secrets: super::secrets::secrets(raw)?,
            apt_repositories: super::secrets::apt_repositories(raw)?,
            ssh: flag(&raw.ssh),
        })
    }
}

/// Parent files (reached by `extends:`) named like a built-in profile.
fn shadowed_builtins(chain: &[Origin]) -> Vec<String> {
    chain
        .iter()
        .skip(1)
        .filter_map(|origin| match origin {
            Origin::File(path) => {
                let stem = path.file_stem()?.to_string_lossy();
                BUILTIN
                    .iter()
                    .any(|(name, _)| *name == stem)
                    .then(|| path.display().to_string())
            }
            Origin::Builtin(_) => None,
        })
        .collect()
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

/// `ros:` — the distro (required, directly or through `extends:`) and its variant.
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

/// `ros.rmw` — a ROS 2 middleware; ROS 1 has none to choose.
fn rmw(raw: &RawProfile, distro: &Distro) -> Result<Option<Rmw>> {
    let Some(value) = raw.ros.as_ref().and_then(|r| r.rmw.as_ref()) else {
        return Ok(None);
    };
    let rmw = Rmw::parse(one_of(value, "ros.rmw", &Rmw::NAMES)?);
    if distro.ros_version != 2 {
        let ros2: Vec<&str> = super::distro::DISTROS
            .iter()
            .filter(|d| d.ros_version == 2)
            .map(|d| d.name)
            .collect();
        let help = if distro.name == "debian" {
            format!(
                "Debian's archive has ROS 1 and no RMW packages; pick a ROS 2 distro ({}), or \
                 install a DDS library itself with `apt:` (libfastrtps-dev, cyclonedds-dev)",
                ros2.join(", ")
            )
        } else {
            format!("remove `rmw`, or pick a ROS 2 distro ({})", ros2.join(", "))
        };
        return Err(bad_help(
            value,
            "ros.rmw",
            format!(
                "{} is ROS 1, which has no middleware layer to choose (nodes talk TCPROS \
                 through the master)",
                distro.name
            ),
            help,
        ));
    }
    Ok(rmw)
}

/// `base_image:` and `platform:`.
fn image(raw: &RawProfile, distro: &Distro, variant: Variant) -> Result<(String, Option<String>)> {
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
    Ok((base_image, platform))
}

struct Packages {
    apt: Vec<String>,
    apt_layers: Vec<Vec<String>>,
    ros: Vec<String>,
    pip: Vec<String>,
}

/// `apt:` (split into system and ROS packages) and `pip:`, without duplicates; the package of
/// `ros.rmw` goes to the ROS layer.
fn packages(
    raw: &RawProfile,
    distro: &Distro,
    variant: Variant,
    rmw: Option<Rmw>,
) -> Result<Packages> {
    let mut apt: Vec<String> = Vec::new();
    // One layer per profile file, parent first: a team profile adding a package rebuilds its
    // own small layer, not the built-in profile's toolchain below it.
    let mut apt_layers: Vec<(String, Vec<String>)> = Vec::new();
    let mut ros = distro.variant_packages(variant);
    if let Some(rmw) = rmw {
        ros.push(rmw.package(distro.name));
    }
    for (i, p) in raw.apt.iter().enumerate() {
        let i = local_index(&raw.apt, i);
        check(p, format!("apt[{i}]"), grammar::apt_package(&p.value))?;
        if distro.is_ros_package(&p.value) {
            if !ros.contains(&p.value) {
                ros.push(p.value.clone());
            }
            continue;
        }
        if !apt.contains(&p.value) {
            apt.push(p.value.clone());
        }
        // A package a parent installs too stays in this file's layer (a no-op for apt): the
        // layers' shape then depends on each file alone.
        match apt_layers.last_mut() {
            Some((file, layer)) if *file == p.pos.file => {
                if !layer.contains(&p.value) {
                    layer.push(p.value.clone());
                }
            }
            _ => apt_layers.push((p.pos.file.clone(), vec![p.value.clone()])),
        }
    }
    let apt_layers = apt_layers.into_iter().map(|(_, layer)| layer).collect();
    let mut pip = Vec::new();
    for (i, p) in raw.pip.iter().enumerate() {
        let i = local_index(&raw.pip, i);
        check(p, format!("pip[{i}]"), grammar::pip_requirement(&p.value))?;
        if !pip.contains(&p.value) {
            pip.push(p.value.clone());
        }
    }
    Ok(Packages {
        apt,
        apt_layers,
        ros,
        pip,
    })
}

/// `env:`, with `RMW_IMPLEMENTATION` from `ros.rmw` (the two may not disagree).
fn env(raw: &RawProfile, rmw: Option<Rmw>) -> Result<BTreeMap<String, String>> {
    let mut env = BTreeMap::new();
    for (k, v) in &raw.env {
        check(v, format!("env.{k}"), grammar::env_name(k))?;
        check(v, format!("env.{k}"), grammar::env_value(&v.value))?;
        env.insert(k.clone(), v.value.clone());
    }
    if let Some(rmw) = rmw {
        if let Some(v) = raw.env.get(RMW_VARIABLE)
            && v.value != rmw.name()
        {
            return Err(bad_help(
                v,
                format!("env.{RMW_VARIABLE}"),
                format!("`{}` disagrees with `ros.rmw: {}`", v.value, rmw.name()),
                "name the middleware once, in `ros.rmw` (it sets RMW_IMPLEMENTATION and installs \
                 its package)"
                    .into(),
            ));
        }
        env.insert(RMW_VARIABLE.to_string(), rmw.name().to_string());
    }
    Ok(env)
}

/// The variable ROS 2 reads to choose its middleware.
const RMW_VARIABLE: &str = "RMW_IMPLEMENTATION";

/// `mounts:`, each target at most once.
fn mounts(raw: &RawProfile) -> Result<Vec<MountSpec>> {
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
    Ok(mounts)
}

fn mount(m: &Sourced<RawMount>, i: usize) -> Result<MountSpec> {
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
    if m.value.shared && kind != "volume" {
        return Err(bad(
            m,
            field("shared"),
            "only a volume (`type: volume`) can be shared",
        ));
    }
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
            check(m, field("source"), grammar::volume_name(&source))?;
            Ok(MountSpec::Volume {
                source,
                target,
                readonly,
                shared: m.value.shared,
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

/// `workspace:` — the host path and the mount point.
fn workspace(raw: &RawProfile) -> Result<(Option<String>, Option<String>, Option<String>)> {
    let Some(ws) = &raw.workspace else {
        return Ok((None, None, None));
    };
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
    if let Some(r) = &ws.remote_path {
        check(
            r,
            "workspace.remote_path",
            grammar::safe_path(&r.value, true),
        )?;
        if r.value == "/" {
            return Err(bad(
                r,
                "workspace.remote_path",
                "`/` is not a workspace: name the directory on the engine's machine",
            ));
        }
    }
    Ok((
        ws.path.as_ref().map(|p| p.value.clone()),
        ws.mount.as_ref().map(|m| m.value.clone()),
        ws.remote_path.as_ref().map(|r| r.value.clone()),
    ))
}

struct Runtime {
    user: UserMode,
    shell: Shell,
    network: String,
    ipc: Option<String>,
    shm_size: Option<u64>,
    privileged: bool,
}

/// `user:`, `shell:`, `network:`, `ipc:`, `shm_size:`, `privileged:`.
fn runtime(raw: &RawProfile) -> Result<Runtime> {
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
        Some(i) => Some(one_of(i, "ipc", &["host", "private", "shareable", "none"])?.to_string()),
        None => None,
    };
    let shm_size = match &raw.shm_size {
        Some(s) => Some(grammar::byte_size(&s.value).map_err(|m| bad(s, "shm_size", m))?),
        None => None,
    };
    Ok(Runtime {
        user,
        shell,
        network,
        ipc,
        shm_size,
        privileged: raw.privileged.as_ref().is_some_and(|p| p.value),
    })
}

/// `gpu:`.
fn gpu(raw: &RawProfile) -> Result<GpuMode> {
    Ok(match &raw.gpu {
        Some(g) => match one_of(g, "gpu", &GpuMode::NAMES)? {
            "auto" => GpuMode::Auto,
            "nvidia" => GpuMode::Nvidia,
            "dri" => GpuMode::Dri,
            _ => GpuMode::None,
        },
        None => GpuMode::None,
    })
}

/// `devices:` — device nodes, each remembering the line that declared it.
fn devices(raw: &RawProfile) -> Result<Vec<DeviceSpec>> {
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
    Ok(devices)
}

/// `hotplug:` — classes, sorted, each once.
fn hotplug(raw: &RawProfile) -> Result<Vec<HotplugClass>> {
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
    Ok(hotplug)
}

/// `dependencies:` — rosdep keys to skip or add, rules files, ccache.
fn dependencies(raw: &RawProfile) -> Result<Dependencies> {
    let Some(deps) = &raw.dependencies else {
        return Ok(Dependencies::default());
    };
    let keys = |list: &[Sourced<String>], field: &str| -> Result<Vec<String>> {
        let mut out = Vec::new();
        for (i, k) in list.iter().enumerate() {
            let field = format!("dependencies.{field}[{}]", local_index(list, i));
            check(k, field, grammar::rosdep_key(&k.value))?;
            if !out.contains(&k.value) {
                out.push(k.value.clone());
            }
        }
        Ok(out)
    };
    let mut sources = Vec::new();
    for (i, src) in deps.sources.iter().enumerate() {
        let field = format!("dependencies.sources[{}]", local_index(&deps.sources, i));
        check(src, field.clone(), grammar::safe_path(&src.value, false))?;
        let base = std::path::Path::new(&src.pos.file)
            .parent()
            .unwrap_or(std::path::Path::new("."));
        let path = crate::paths::resolve_against(base, &src.value);
        if !path.is_file() {
            return Err(bad_help(
                src,
                field,
                format!("`{}` is not a file", path.display()),
                "a rosdep rules file (YAML: `key: {debian: [package]}`), relative to this profile"
                    .into(),
            ));
        }
        sources.push(path.display().to_string());
    }
    Ok(Dependencies {
        skip: keys(&deps.skip, "skip")?,
        keys: keys(&deps.keys, "keys")?,
        sources,
        ccache: deps.ccache.as_ref().is_none_or(|c| c.value),
    })
}

/// The image of `variant` for the deploy image's runtime stage, from the same place as the
/// profile's `base_image`: a team that mirrors `ros:humble-ros-base` as
/// `registry.lab/mirror/ros:humble-ros-base` gets `registry.lab/mirror/ros:humble-ros-core`,
/// never the public registry's.
fn mirrored(base_image: &str, distro: &Distro, variant: Variant) -> String {
    let official = distro.base_image(variant);
    for v in distro.variants {
        let dev = distro.base_image(*v);
        // The mirror keeps the official name after its own prefix (`…/ros:…` or `…/osrf/ros:…`).
        if let Some(prefix) = base_image.strip_suffix(dev.as_str())
            && prefix.ends_with('/')
        {
            return format!("{prefix}{official}");
        }
    }
    official
}

/// `deploy:` — every value reaches a Dockerfile only through a quoting filter, and is refused
/// here when it holds control characters, so no value can add an instruction.
fn deploy(
    raw: &RawProfile,
    distro: &'static Distro,
    rmw: Option<Rmw>,
    base_image: &str,
) -> Result<Option<Deploy>> {
    let Some(d) = &raw.deploy else {
        return Ok(None);
    };
    let words = |list: &Option<Vec<Sourced<String>>>,
                 field: &str,
                 rule: &dyn Fn(&str) -> std::result::Result<(), String>|
     -> Result<Vec<String>> {
        let Some(list) = list else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (i, w) in list.iter().enumerate() {
            check(
                w,
                format!("deploy.{field}[{}]", local_index(list, i)),
                rule(&w.value),
            )?;
            out.push(w.value.clone());
        }
        Ok(out)
    };
    let command = words(&d.command, "command", &grammar::argument)?;
    if let Some(list) = &d.command
        && let Some(first) = list.first()
        && command.first().is_some_and(|c| c.is_empty())
    {
        return Err(bad(first, "deploy.command[0]", "the program is empty"));
    }
    let packages = words(&d.packages, "packages", &grammar::ros_package)?;
    let cmake_args = words(&d.cmake_args, "cmake_args", &|a: &str| {
        grammar::argument(a)?;
        if a.starts_with('-') {
            Ok(())
        } else {
            Err(format!(
                "`{a}` is not a CMake option (e.g. -DCMAKE_BUILD_TYPE=Release)"
            ))
        }
    })?;
    let variant_image = |v: Variant| mirrored(base_image, distro, v);
    let base = match &d.base {
        None => variant_image(Variant::RosCore),
        Some(b) => match Variant::parse(&b.value) {
            Some(v) if distro.variants.contains(&v) => variant_image(v),
            Some(_) => {
                return Err(bad(
                    b,
                    "deploy.base",
                    format!("{} has no variant `{}`", distro.name, b.value),
                ));
            }
            None if !b.value.contains([':', '/', '@']) => {
                // A bare word is meant as a variant: a misspelt one is not an image named so.
                let names: Vec<&str> = distro.variants.iter().map(|v| v.name()).collect();
                return Err(bad_help(
                    b,
                    "deploy.base",
                    format!("`{}` is not a variant of {}", b.value, distro.name),
                    format!(
                        "{} (or an image reference with its tag, e.g. `ros:{}-ros-core`)",
                        suggest::did_you_mean(&b.value, &names),
                        distro.name
                    ),
                ));
            }
            None => {
                check(b, "deploy.base", grammar::image_reference(&b.value))?;
                b.value.clone()
            }
        },
    };
    let mut env = BTreeMap::new();
    for (k, v) in &d.env {
        check(v, format!("deploy.env.{k}"), grammar::env_name(k))?;
        check(v, format!("deploy.env.{k}"), grammar::env_value(&v.value))?;
        env.insert(k.clone(), v.value.clone());
    }
    // The robot's image has the package of `ros.rmw` (the ROS layer); its nodes use it too
    // unless `deploy.env` says otherwise.
    if let Some(rmw) = rmw {
        env.entry(RMW_VARIABLE.to_string())
            .or_insert_with(|| rmw.name().to_string());
    }
    let user = match &d.user {
        None => DEPLOY_USER.to_string(),
        Some(u) => {
            check(u, "deploy.user", grammar::user_name(&u.value))?;
            if u.value == "root" {
                return Err(bad_help(
                    u,
                    "deploy.user",
                    "the deploy image does not run as root",
                    format!("name the robot's user (default `{DEPLOY_USER}`)"),
                ));
            }
            u.value.clone()
        }
    };
    Ok(Some(Deploy {
        command,
        packages,
        cmake_args,
        base,
        env,
        user,
    }))
}

fn security(raw: &RawProfile) -> Result<Security> {
    let defaults = Security::default();
    let Some(sec) = &raw.security else {
        return Ok(defaults);
    };
    let cap_drop = match &sec.cap_drop {
        None => defaults.cap_drop,
        Some(list) => {
            let mut caps = Vec::new();
            for (i, c) in list.iter().enumerate() {
                let name = c.value.trim_start_matches("CAP_").to_ascii_uppercase();
                let field = format!("security.cap_drop[{}]", local_index(list, i));
                if !grammar::CAPABILITIES.contains(&name.as_str()) {
                    return Err(bad_help(
                        c,
                        field,
                        format!("\"{}\" is not a Linux capability", c.value),
                        suggest::did_you_mean(&name, grammar::CAPABILITIES),
                    ));
                }
                if !caps.contains(&name) {
                    caps.push(name);
                }
            }
            caps
        }
    };
    Ok(Security {
        debug: sec.debug.as_ref().map_or(defaults.debug, |v| v.value),
        sudo: sec.sudo.as_ref().map_or(defaults.sudo, |v| v.value),
        cap_drop,
    })
}

/// `sources:` — `.repos` files, relative to the file that names them, and the directory (relative
/// to the workspace root, inside it) their repositories go under.
fn sources(raw: &RawProfile) -> Result<Vec<SourcesFile>> {
    let mut out: Vec<SourcesFile> = Vec::new();
    for (i, entry) in raw.sources.iter().enumerate() {
        let field = format!("sources[{}]", local_index(&raw.sources, i));
        let RawSourcesFile { file, into } = &entry.value;
        check(
            entry,
            format!("{field}.file"),
            grammar::safe_path(file, false),
        )?;
        let into = into.as_deref().unwrap_or(DEFAULT_SOURCES_DIR);
        check(
            entry,
            format!("{field}.into"),
            grammar::safe_path(into, false),
        )?;
        if into.starts_with('/') || into.starts_with('~') {
            return Err(bad_help(
                entry,
                format!("{field}.into"),
                format!("`{into}` is not inside the workspace"),
                "a directory relative to the workspace root, such as `src`".into(),
            ));
        }
        let base = std::path::Path::new(&entry.pos.file)
            .parent()
            .unwrap_or(std::path::Path::new("."));
        let path = crate::paths::resolve_against(base, file);
        if !path.is_file() {
            return Err(bad_help(
                entry,
                format!("{field}.file"),
                format!("`{}` is not a file", path.display()),
                "a vcstool `.repos` file (`repositories: {src/path: {type: git, url: …, \
                 version: …}}`), relative to this profile"
                    .into(),
            ));
        }
        let into = into
            .trim_end_matches('/')
            .trim_start_matches("./")
            .to_string();
        let file = path.display().to_string();
        if !out.iter().any(|s| s.file == file && s.into == into) {
            out.push(SourcesFile {
                file,
                into,
                declared_at: entry.pos.clone(),
            });
        }
    }
    Ok(out)
}

/// `templates:` — a directory, relative to the file that names it.
fn templates(raw: &RawProfile) -> Result<Option<String>> {
    let Some(t) = &raw.templates else {
        return Ok(None);
    };
    let base = std::path::Path::new(&t.pos.file)
        .parent()
        .unwrap_or(std::path::Path::new("."));
    let dir = crate::paths::resolve_against(base, &t.value);
    if !dir.is_dir() {
        return Err(bad(
            t,
            "templates",
            format!("`{}` is not a directory", dir.display()),
        ));
    }
    Ok(Some(dir.display().to_string()))
}

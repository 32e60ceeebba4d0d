//! The raw workspace profile: exactly what the YAML says, every leaf with its position.
//! Nothing here is validated beyond its shape; `profile.rs` turns it into a checked model.

use super::sourced::Sourced;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The top-level field names, for "did you mean" suggestions.
pub const FIELDS: &[&str] = &[
    "version",
    "name",
    "extends",
    "ros",
    "base_image",
    "platform",
    "apt",
    "pip",
    "env",
    "mounts",
    "workspace",
    "user",
    "shell",
    "network",
    "ipc",
    "shm_size",
    "privileged",
    "gpu",
    "devices",
    "hotplug",
    "x11",
    "wayland",
    "audio",
    "ssh_agent",
    "git_config",
    "templates",
    "security",
    "dependencies",
    "registry",
    "deploy",
    "sources",
    "secrets",
    "apt_repositories",
    "ssh",
];

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    pub version: Option<Sourced<u32>>,
    pub name: Option<Sourced<String>>,
    pub extends: Option<Sourced<String>>,
    pub ros: Option<RawRos>,
    pub base_image: Option<Sourced<String>>,
    pub platform: Option<Sourced<String>>,
    #[serde(default)]
    pub apt: Vec<Sourced<String>>,
    #[serde(default)]
    pub pip: Vec<Sourced<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, Sourced<String>>,
    #[serde(default)]
    pub mounts: Vec<Sourced<RawMount>>,
    pub workspace: Option<RawWorkspace>,
    pub user: Option<Sourced<String>>,
    pub shell: Option<Sourced<String>>,
    pub network: Option<Sourced<String>>,
    pub ipc: Option<Sourced<String>>,
    pub shm_size: Option<Sourced<String>>,
    pub privileged: Option<Sourced<bool>>,
    pub gpu: Option<Sourced<String>>,
    #[serde(default)]
    pub devices: Vec<Sourced<RawDevice>>,
    #[serde(default)]
    pub hotplug: Vec<Sourced<String>>,
    pub x11: Option<Sourced<bool>>,
    pub wayland: Option<Sourced<bool>>,
    pub audio: Option<Sourced<bool>>,
    pub ssh_agent: Option<Sourced<bool>>,
    pub git_config: Option<Sourced<bool>>,
    /// A directory of templates overriding the shipped ones by name (relative to the profile).
    pub templates: Option<Sourced<String>>,
    pub security: Option<RawSecurity>,
    pub dependencies: Option<RawDependencies>,
    /// `REGISTRY/NAMESPACE` the team's images are pushed to and pulled from.
    pub registry: Option<Sourced<String>>,
    pub deploy: Option<RawDeploy>,
    /// vcstool `.repos` files (relative to the profile) and where their repositories go.
    #[serde(default)]
    pub sources: Vec<Sourced<RawSourcesFile>>,
    /// Build secrets: ids and where their values are on this machine (`profile/secrets.rs`).
    #[serde(default)]
    pub secrets: Vec<Sourced<RawSecret>>,
    /// One-line apt sources added before robodev's apt steps.
    #[serde(default)]
    pub apt_repositories: Vec<Sourced<String>>,
    /// Forward the user's ssh agent to the build's pip steps (`git+ssh://` requirements).
    pub ssh: Option<Sourced<bool>>,
}

/// `- {id: team_apt, env: TEAM_APT_AUTH, for: apt}` or `file: ~/.config/team/apt-auth.conf`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecret {
    pub id: String,
    pub env: Option<String>,
    pub file: Option<String>,
    #[serde(rename = "for")]
    pub used_for: Option<String>,
}

/// `- team.repos` or `- {file: drivers.repos, into: src/drivers}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RawSourcesFile {
    pub file: String,
    /// The directory its repositories' paths are under, relative to the workspace root.
    pub into: Option<String>,
}

impl<'de> Deserialize<'de> for RawSourcesFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Long {
            file: String,
            #[serde(default)]
            into: Option<String>,
        }
        let long = d.deserialize_any(ShortOrLong::<Long>(Default::default(), |s| {
            Ok(Long {
                file: s.to_string(),
                into: None,
            })
        }))?;
        Ok(RawSourcesFile {
            file: long.file,
            into: long.into,
        })
    }
}

/// `deploy:` — the runtime image `robodev deploy build` makes of the workspace.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeploy {
    /// Exec form: the program, then its arguments (a string is refused: no shell).
    pub command: Option<Vec<Sourced<String>>>,
    /// `colcon build --packages-up-to` these (default: every package).
    pub packages: Option<Vec<Sourced<String>>>,
    pub cmake_args: Option<Vec<Sourced<String>>>,
    /// The runtime stage's base: a variant of the distro (`ros-core`) or an image reference.
    pub base: Option<Sourced<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, Sourced<String>>,
    /// The fixed user the command runs as (never the developer's uid).
    pub user: Option<Sourced<String>>,
}

/// `dependencies:` — how the workspace's rosdep keys are resolved and installed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDependencies {
    /// Keys not to install (provided some other way).
    #[serde(default)]
    pub skip: Vec<Sourced<String>>,
    /// Keys to install although no package.xml names them.
    #[serde(default)]
    pub keys: Vec<Sourced<String>>,
    /// rosdep rules files (YAML), relative to the profile, read besides the image's sources.
    #[serde(default)]
    pub sources: Vec<Sourced<String>>,
    /// A compiler cache volume per environment for colcon's CMake builds (default true).
    pub ccache: Option<Sourced<bool>>,
}

/// `security:` — what the environment may do beyond an ordinary container.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecurity {
    /// ptrace any process and no seccomp filter (gdb -p, perf, strace).
    pub debug: Option<Sourced<bool>>,
    /// Passwordless sudo for the container user.
    pub sudo: Option<Sourced<bool>>,
    /// Capabilities to drop; replaces the parent's list rather than adding to it.
    pub cap_drop: Option<Vec<Sourced<String>>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRos {
    pub distro: Option<Sourced<String>>,
    pub variant: Option<Sourced<String>>,
    /// The ROS 2 middleware: `RMW_IMPLEMENTATION`, and its package installed.
    pub rmw: Option<Sourced<String>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkspace {
    /// Host path, relative to the workspace root.
    pub path: Option<Sourced<String>>,
    /// Mount point inside the container.
    pub mount: Option<Sourced<String>>,
    /// On a remote engine: where the workspace already is on the engine's machine.
    pub remote_path: Option<Sourced<String>>,
    /// On a remote engine: keep a copy of the workspace in a volume there (`robodev sync`).
    pub sync: Option<Sourced<bool>>,
}

/// `- /dev/ttyUSB0` or `- {path: /dev/serial/by-id/…, as: /dev/lidar, optional: true}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RawDevice {
    pub path: String,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub inside: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// `- ~/data:/data:ro` or `- {source: ~/data, target: /data, readonly: true, type: bind}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RawMount {
    pub source: Option<String>,
    pub target: String,
    #[serde(default)]
    pub readonly: bool,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// A volume shared by every environment on the engine (default: one per environment).
    #[serde(default)]
    pub shared: bool,
}

/// Accept a plain string or a map for list entries that have a short form.
struct ShortOrLong<T>(std::marker::PhantomData<T>, fn(&str) -> Result<T, String>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ShortOrLong<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or a map")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.1)(v).map_err(E::custom)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map))
    }
}

impl<'de> Deserialize<'de> for RawDevice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Long {
            path: String,
            #[serde(rename = "as", default)]
            inside: Option<String>,
            #[serde(default)]
            optional: bool,
        }
        let long = d.deserialize_any(ShortOrLong::<Long>(Default::default(), |s| {
            Ok(Long {
                path: s.to_string(),
                inside: None,
                optional: false,
            })
        }))?;
        Ok(RawDevice {
            path: long.path,
            inside: long.inside,
            optional: long.optional,
        })
    }
}

impl<'de> Deserialize<'de> for RawMount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let long = d.deserialize_any(ShortOrLong::<MountLong>(
            Default::default(),
            parse_short_mount,
        ))?;
        Ok(RawMount {
            source: long.source,
            target: long.target,
            readonly: long.readonly,
            kind: long.kind,
            shared: long.shared,
        })
    }
}

/// `SOURCE:TARGET` or `SOURCE:TARGET:ro|rw`.
fn parse_short_mount(s: &str) -> Result<MountLong, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [s, t] => (*s, *t, None),
        [s, t, m] => (*s, *t, Some(*m)),
        _ => {
            return Err(format!(
                "mount `{s}` is not `SOURCE:TARGET` or `SOURCE:TARGET:ro`"
            ));
        }
    };
    let readonly = match mode {
        None | Some("rw") => false,
        Some("ro") => true,
        Some(other) => return Err(format!("mount mode `{other}` is not `ro` or `rw`")),
    };
    Ok(MountLong {
        source: Some(source.to_string()),
        target: target.to_string(),
        readonly,
        kind: None,
        shared: false,
    })
}

/// The long form of a mount; the short-form parser builds the same shape.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MountLong {
    source: Option<String>,
    target: String,
    #[serde(default)]
    readonly: bool,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    shared: bool,
}

impl RawProfile {
    /// Compose `self` (the parent) with `child`: maps merge, lists append, scalars override
    /// (except `name` and `extends`, which belong to the child alone).
    pub fn merged_with(self, child: RawProfile) -> RawProfile {
        let mut env = self.env;
        env.extend(child.env);
        RawProfile {
            version: child.version.or(self.version),
            // A name is the profile's identity, not a setting: it is never inherited, or a profile
            // extending `jazzy` would share the `jazzy` environment's container and image name.
            name: child.name,
            extends: child.extends,
            ros: merge_option(self.ros, child.ros, |p, c| RawRos {
                distro: c.distro.or(p.distro),
                variant: c.variant.or(p.variant),
                rmw: c.rmw.or(p.rmw),
            }),
            base_image: child.base_image.or(self.base_image),
            platform: child.platform.or(self.platform),
            apt: [self.apt, child.apt].concat(),
            pip: [self.pip, child.pip].concat(),
            env,
            mounts: [self.mounts, child.mounts].concat(),
            workspace: merge_option(self.workspace, child.workspace, |p, c| RawWorkspace {
                path: c.path.or(p.path),
                mount: c.mount.or(p.mount),
                remote_path: c.remote_path.or(p.remote_path),
                sync: c.sync.or(p.sync),
            }),
            user: child.user.or(self.user),
            shell: child.shell.or(self.shell),
            network: child.network.or(self.network),
            ipc: child.ipc.or(self.ipc),
            shm_size: child.shm_size.or(self.shm_size),
            privileged: child.privileged.or(self.privileged),
            gpu: child.gpu.or(self.gpu),
            devices: [self.devices, child.devices].concat(),
            hotplug: [self.hotplug, child.hotplug].concat(),
            x11: child.x11.or(self.x11),
            wayland: child.wayland.or(self.wayland),
            audio: child.audio.or(self.audio),
            ssh_agent: child.ssh_agent.or(self.ssh_agent),
            git_config: child.git_config.or(self.git_config),
            templates: child.templates.or(self.templates),
            security: merge_option(self.security, child.security, |p, c| RawSecurity {
                debug: c.debug.or(p.debug),
                sudo: c.sudo.or(p.sudo),
                cap_drop: c.cap_drop.or(p.cap_drop),
            }),
            registry: child.registry.or(self.registry),
            deploy: merge_option(self.deploy, child.deploy, |p, c| RawDeploy {
                command: c.command.or(p.command),
                packages: c.packages.or(p.packages),
                cmake_args: c.cmake_args.or(p.cmake_args),
                base: c.base.or(p.base),
                env: p.env.into_iter().chain(c.env).collect(),
                user: c.user.or(p.user),
            }),
            sources: [self.sources, child.sources].concat(),
            secrets: [self.secrets, child.secrets].concat(),
            apt_repositories: [self.apt_repositories, child.apt_repositories].concat(),
            ssh: child.ssh.or(self.ssh),
            dependencies: merge_option(self.dependencies, child.dependencies, |p, c| {
                RawDependencies {
                    skip: [p.skip, c.skip].concat(),
                    keys: [p.keys, c.keys].concat(),
                    sources: [p.sources, c.sources].concat(),
                    ccache: c.ccache.or(p.ccache),
                }
            }),
        }
    }
}

fn merge_option<T>(
    parent: Option<T>,
    child: Option<T>,
    merge: impl FnOnce(T, T) -> T,
) -> Option<T> {
    match (parent, child) {
        (Some(p), Some(c)) => Some(merge(p, c)),
        (p, c) => c.or(p),
    }
}

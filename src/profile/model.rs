//! The validated workspace profile: every value checked against its grammar, enums resolved,
//! defaults applied. `validate.rs` builds it from a `LoadedProfile`; planning only sees this.

use super::distro::{Distro, Variant};
use crate::error::SourcePos;
use crate::notice::Notice;
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

    /// Whether planning must ask the engine about itself (NVIDIA runtime, CDI) for this mode.
    pub fn needs_engine_facts(self) -> bool {
        matches!(self, GpuMode::Auto | GpuMode::Nvidia)
    }
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

/// `ros.rmw`: the ROS 2 middleware (RMW implementation) the environment's nodes load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Rmw {
    #[serde(rename = "rmw_fastrtps_cpp")]
    FastRtps,
    #[serde(rename = "rmw_cyclonedds_cpp")]
    CycloneDds,
    #[serde(rename = "rmw_zenoh_cpp")]
    Zenoh,
}

impl Rmw {
    pub const NAMES: [&str; 3] = ["rmw_fastrtps_cpp", "rmw_cyclonedds_cpp", "rmw_zenoh_cpp"];

    /// What every ROS 2 distro loads when `RMW_IMPLEMENTATION` is not set.
    pub const DEFAULT: Rmw = Rmw::FastRtps;

    pub fn name(self) -> &'static str {
        match self {
            Rmw::FastRtps => "rmw_fastrtps_cpp",
            Rmw::CycloneDds => "rmw_cyclonedds_cpp",
            Rmw::Zenoh => "rmw_zenoh_cpp",
        }
    }

    pub fn parse(name: &str) -> Option<Rmw> {
        [Rmw::FastRtps, Rmw::CycloneDds, Rmw::Zenoh]
            .into_iter()
            .find(|r| r.name() == name)
    }

    /// Its apt package in a ROS 2 distro's archive: `ros-jazzy-rmw-cyclonedds-cpp`.
    pub fn package(self, distro: &str) -> String {
        format!("ros-{distro}-{}", self.name().replace('_', "-"))
    }
}

/// The variables with which a profile configures Fast DDS's transports itself (a UDP-only
/// profile, `FASTDDS_BUILTIN_TRANSPORTS=UDPv4`): robodev then assumes it does not rely on
/// shared memory.
pub const FAST_DDS_TRANSPORT_VARIABLES: [&str; 3] = [
    "FASTDDS_BUILTIN_TRANSPORTS",
    "FASTRTPS_DEFAULT_PROFILES_FILE",
    "FASTDDS_DEFAULT_PROFILES_FILE",
];

/// `deploy:` of the profile: what `robodev deploy build` makes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Deploy {
    /// Exec form; empty when the profile names none (then `deploy build` says so).
    pub command: Vec<String>,
    /// `--packages-up-to`; empty: every package.
    pub packages: Vec<String>,
    pub cmake_args: Vec<String>,
    /// The runtime stage's base image.
    pub base: String,
    pub env: BTreeMap<String, String>,
    pub user: String,
}

/// The deploy image's user and group id: fixed, so files and devices on every robot agree, and
/// never the developer's.
pub const DEPLOY_UID: u32 = 10001;
pub const DEPLOY_USER: &str = "robot";

/// `dependencies:` of the profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dependencies {
    pub skip: Vec<String>,
    pub keys: Vec<String>,
    /// rosdep rules files, absolute.
    pub sources: Vec<String>,
    pub ccache: bool,
}

impl Default for Dependencies {
    fn default() -> Dependencies {
        Dependencies {
            skip: Vec::new(),
            keys: Vec::new(),
            sources: Vec::new(),
            ccache: true,
        }
    }
}

/// What the environment may do beyond an ordinary container. The defaults are the safer set;
/// `debug: true` restores what debuggers attaching to running processes need.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Security {
    /// SYS_PTRACE and no seccomp filter.
    pub debug: bool,
    /// Passwordless sudo for the container user.
    pub sudo: bool,
    /// Capabilities dropped from the container (without the `CAP_` prefix).
    pub cap_drop: Vec<String>,
}

impl Default for Security {
    fn default() -> Security {
        Security {
            debug: false,
            // Installing a package to try it is everyday work, and the dev container's device
            // groups are set with it. It grants no more than the docker group already does on
            // the host; NET_RAW is dropped so root inside cannot sniff a host network.
            sudo: true,
            cap_drop: vec!["NET_RAW".to_string()],
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
    /// A named volume, kept by `down` unless `--volumes`. One per environment (the name is
    /// prefixed with the container's) unless `shared`.
    Volume {
        source: String,
        target: String,
        readonly: bool,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        shared: bool,
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
    /// `ros.rmw` as the profile names it; `RMW_IMPLEMENTATION` in `env` is set from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rmw: Option<Rmw>,
    pub base_image: String,
    pub platform: Option<String>,
    /// Apt packages that are not ROS packages.
    pub apt: Vec<String>,
    /// The same packages grouped by the profile file that asked for them, parent first: one
    /// image layer each.
    #[serde(skip)]
    pub apt_layers: Vec<Vec<String>>,
    /// The variant's packages and `ros-<distro>-*` packages.
    pub ros_packages: Vec<String>,
    pub pip: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub mounts: Vec<MountSpec>,
    /// Host path of the workspace, relative to the workspace root; `None` = the root itself.
    pub workspace_path: Option<String>,
    /// Mount point inside; `None` = `/workspaces/<root's name>`.
    pub workspace_mount: Option<String>,
    /// On a remote engine, the workspace's path on the engine's machine (a clone, NFS).
    pub workspace_remote_path: Option<String>,
    /// On a remote engine, a copy of the workspace in a volume there, kept by `robodev sync`.
    pub workspace_sync: bool,
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
    pub security: Security,
    pub dependencies: Dependencies,
    /// `REGISTRY/NAMESPACE` images are shared through, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    /// `deploy:`, when the profile has one.
    pub deploy: Option<Deploy>,
    pub registry: Option<String>,
    /// Things worth telling the user that are not errors (end of life, privileged).
    #[serde(skip)]
    pub warnings: Vec<Notice>,
    /// Files of this user that an `extends: NAME` reached instead of the built-in `NAME`:
    /// teammates without them get the built-in.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shadows_builtin: Vec<String>,
    /// `sources:`: the `.repos` files whose repositories the workspace is made of.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<SourcesFile>,
    /// `secrets:`: build secrets by id, and where their values are on this machine.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<super::secrets::BuildSecret>,
    /// `apt_repositories:`: one-line apt sources.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub apt_repositories: Vec<String>,
    /// `ssh: true`: the user's ssh agent reaches the build's pip steps (never a key).
    pub ssh: bool,
}

/// One `.repos` file of `sources:` and the directory its repositories go under.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourcesFile {
    /// The file, absolute.
    pub file: String,
    /// The directory, relative to the workspace root (`src` by default).
    pub into: String,
    #[serde(skip)]
    pub declared_at: SourcePos,
}

/// Where a `.repos` file's repositories go when the profile does not say.
pub const DEFAULT_SOURCES_DIR: &str = "src";

impl Profile {
    /// The profile without what needs this host's hardware (display, sound, devices, GPU):
    /// for `run --no-hardware` on a CI runner or over ssh.
    pub fn without_hardware(&self) -> Profile {
        Profile {
            gpu: GpuMode::None,
            devices: Vec::new(),
            hotplug: Vec::new(),
            x11: false,
            wayland: false,
            audio: false,
            ..self.clone()
        }
    }

    /// The profile uses the hardware of the machine its container runs on (device nodes, the
    /// GPU, hotplug classes, its display and sound): planning needs that machine's facts.
    pub fn uses_machine_hardware(&self) -> bool {
        self.gpu != GpuMode::None
            || !self.devices.is_empty()
            || !self.hotplug.is_empty()
            || self.x11
            || self.wayland
            || self.audio
    }

    /// The RMW implementation the environment's ROS 2 nodes load: the profile's
    /// `RMW_IMPLEMENTATION` (which `ros.rmw` sets), else the distro's default; `None` for ROS 1,
    /// which has no middleware layer (nodes talk TCPROS through the master).
    pub fn rmw_implementation(&self) -> Option<&str> {
        if self.distro.ros_version != 2 {
            return None;
        }
        Some(
            self.env
                .get("RMW_IMPLEMENTATION")
                .map_or(Rmw::DEFAULT.name(), String::as_str),
        )
    }

    /// Whether the environment's ROS 2 nodes send to peers on the same host through shared
    /// memory in /dev/shm: Fast DDS does by default (UDP carries only the first discovery
    /// messages), unless the profile configures its transports.
    pub fn ros_uses_shared_memory(&self) -> bool {
        self.rmw_implementation()
            .is_some_and(|rmw| rmw.starts_with("rmw_fastrtps"))
            && !FAST_DDS_TRANSPORT_VARIABLES
                .iter()
                .any(|v| self.env.contains_key(*v))
    }

    /// The host device paths the profile asks for, for host probing.
    pub fn device_paths(&self) -> Vec<&str> {
        self.devices.iter().map(|d| d.path.as_str()).collect()
    }
}

fn distro_name<S: serde::Serializer>(
    d: &&'static Distro,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(d.name)
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

//! The container half of a plan: everything `docker create` would be told, as plain data.
//! `base` fills in what every environment gets; each file of `hardware/` adds its feature.

use super::image::{CCACHE_DIR, ImagePlan};
use super::labels;
use super::user::ContainerUser;
use crate::facts::Workspace;
use crate::notice::{Notice, Problem};
use crate::profile::{MountSpec, Profile};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// How long `stop` gives the container's processes before they are killed.
pub const STOP_TIMEOUT_SECS: i32 = 5;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    Bind,
    Volume,
    Tmpfs,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mount {
    pub kind: MountKind,
    pub source: String,
    pub target: String,
    pub readonly: bool,
    /// A system path of the machine the engine runs on (`/dev`, `/run/udev`), named from that
    /// machine's facts: bound there whichever machine that is, unlike the user's own files.
    /// Planning's annotation, not the container's: left out of the config hash.
    #[serde(skip)]
    pub machine_path: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Device {
    pub host: String,
    pub container: String,
    /// The device cgroup permissions: read, write, mknod.
    pub permissions: String,
}

impl Device {
    pub fn read_write(host: impl Into<String>, container: impl Into<String>) -> Device {
        Device {
            host: host.into(),
            container: container.into(),
            permissions: "rwm".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GpuRequest {
    pub driver: String,
    pub count: i64,
    pub device_ids: Vec<String>,
    pub capabilities: Vec<Vec<String>>,
}

/// A named volume robodev creates (labelled, so `down --volumes` removes only its own).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VolumePlan {
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

/// The source name of the environment's ccache volume (the engine's: `CONTAINER-ccache`).
pub const CCACHE_VOLUME: &str = "ccache";

/// The engine's name for a profile's volume: one per environment (prefixed with the
/// container's name), or the name as written when it is `shared`.
pub fn volume_name(container: &str, source: &str, shared: bool) -> String {
    if shared {
        source.to_string()
    } else {
        format!("{container}-{source}")
    }
}

/// A file robodev writes on the host before every start (the X11 cookie).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct X11Cookie {
    pub host_file: String,
    pub display: String,
    /// The user's Xauthority file the cookie is copied from, if there is one.
    pub source: Option<String>,
    /// The container runs as a uid other than the host user's (a deploy image's fixed user):
    /// the file is readable by others, inside a directory only the host user can enter.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub for_other_uid: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContainerPlan {
    pub name: String,
    pub image: String,
    pub user: ContainerUser,
    pub working_dir: String,
    pub workspace_host: String,
    pub workspace_target: String,
    pub env: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub mounts: Vec<Mount>,
    pub devices: Vec<Device>,
    pub device_cgroup_rules: Vec<String>,
    /// Supplementary groups by gid, as the engine takes them.
    pub group_add: Vec<String>,
    /// The host groups the features asked for by name (`dialout`, `render`): a dev container
    /// resolves them on whichever machine opens it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_names: Vec<String>,
    pub network_mode: String,
    pub ipc_mode: Option<String>,
    pub shm_size: Option<u64>,
    pub privileged: bool,
    pub init: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub security_opt: Vec<String>,
    pub gpu_requests: Vec<GpuRequest>,
    pub runtime: Option<String>,
    /// The user namespace mode (`keep-id` on rootless Podman).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userns_mode: Option<String>,
    /// The named volumes to create before the container.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<VolumePlan>,
    pub x11_cookie: Option<X11Cookie>,
    /// What robodev decided and why (`gpu: auto → none`), and what will not work as asked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Notice>,
    /// Host requirements that are not met: creating this container fails with the first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

impl ContainerPlan {
    pub fn push_mount(
        &mut self,
        kind: MountKind,
        source: impl Into<String>,
        target: impl Into<String>,
        readonly: bool,
    ) {
        let target = target.into();
        if self.mounts.iter().any(|m| m.target == target) {
            return;
        }
        self.mounts.push(Mount {
            kind,
            source: source.into(),
            target,
            readonly,
            machine_path: false,
        });
    }

    /// Bind a system path of the engine's machine (a device directory, a display socket):
    /// it is that machine's whichever machine that is.
    pub fn push_machine_mount(&mut self, source: &str, target: &str, readonly: bool) {
        self.push_mount(MountKind::Bind, source, target, readonly);
        if let Some(m) = self.mounts.iter_mut().find(|m| m.target == target) {
            m.machine_path = true;
        }
    }

    /// A host group by name, with its gid on this host when it has one.
    pub fn add_group(&mut self, name: &str, gid: Option<u32>) {
        if !self.group_names.iter().any(|n| n == name) {
            self.group_names.push(name.to_string());
        }
        if let Some(gid) = gid {
            self.add_gid(gid);
        }
    }

    /// A supplementary group by gid (a device node's group).
    pub fn add_gid(&mut self, gid: u32) {
        let gid = gid.to_string();
        if !self.group_add.contains(&gid) {
            self.group_add.push(gid);
        }
    }

    /// A digest of everything that shapes the container; stored as a label so `up` can tell
    /// when the profile changed since the container was made.
    pub fn config_hash(&self) -> String {
        let mut copy = self.clone();
        copy.labels.remove(labels::CONFIG);
        copy.notices.clear();
        copy.problems.clear();
        let bytes = serde_json::to_vec(&copy).unwrap_or_default();
        hex::encode(Sha256::digest(bytes))[..16].to_string()
    }

    /// `user` for the engine: numeric, so it works whatever names the image has.
    pub fn user_spec(&self) -> String {
        self.user.spec()
    }

    /// A problem for each bind-mount source that does not exist on the host (`exists` asks the
    /// host): the engine would refuse it only after the build, in its own words. The X11
    /// cookie is written right before the start, so it is not asked about.
    pub fn missing_bind_sources(&self, exists: impl Fn(&str) -> bool) -> Vec<Problem> {
        let cookie = self.x11_cookie.as_ref().map(|c| c.host_file.as_str());
        self.mounts
            .iter()
            .filter(|m| m.kind == MountKind::Bind && Some(m.source.as_str()) != cookie)
            .filter(|m| !exists(&m.source))
            .map(|m| {
                Problem::new(
                    format!(
                        "the mount source {} (for {}) does not exist on this host",
                        m.source, m.target
                    ),
                    "create it, or fix `mounts:`/`workspace.path` in the profile",
                )
            })
            .collect()
    }

    /// Whether the container's /dev/shm is the host's: the host's IPC, or a bind mount of it
    /// (what Fast DDS's shared memory needs to reach the host's nodes).
    pub fn shares_host_shm(&self) -> bool {
        self.ipc_mode.as_deref() == Some("host")
            || self.mounts.iter().any(|m| {
                m.kind == MountKind::Bind && m.source == "/dev/shm" && m.target == "/dev/shm"
            })
    }

    /// The first unmet host requirement, as the error that stops creating the container.
    pub fn require_host(&self) -> crate::error::Result<()> {
        match self.problems.first() {
            Some(p) => Err(p.clone().into()),
            None => Ok(()),
        }
    }

    /// The same container as a throw-away one (`robodev run`): not `managed`, so `ls` and
    /// `clean` do not count it as an environment; the engine names it.
    pub fn throwaway(&self) -> ContainerPlan {
        let mut plan = self.clone();
        plan.labels.insert(labels::RUN.into(), "true".into());
        plan.labels.remove(labels::MANAGED);
        plan
    }
}

/// A throw-away container of robodev's own (the dependency resolver): root, the host network,
/// the image's entrypoint bypassed, labelled as a run of robodev so `ls` and `clean` skip it.
pub fn base_for_tool(image: &str, purpose: &str) -> ContainerPlan {
    ContainerPlan {
        name: String::new(),
        image: image.to_string(),
        user: ContainerUser {
            name: "root".into(),
            uid: 0,
            gid: 0,
            home: "/root".into(),
        },
        working_dir: "/".into(),
        workspace_host: String::new(),
        workspace_target: String::new(),
        env: BTreeMap::new(),
        labels: BTreeMap::from([
            (labels::RUN.to_string(), "true".to_string()),
            ("robodev.tool".to_string(), purpose.to_string()),
        ]),
        mounts: Vec::new(),
        devices: Vec::new(),
        device_cgroup_rules: Vec::new(),
        group_add: Vec::new(),
        group_names: Vec::new(),
        network_mode: super::image::BUILD_NETWORK.to_string(),
        ipc_mode: None,
        shm_size: None,
        privileged: false,
        init: true,
        cap_add: Vec::new(),
        cap_drop: Vec::new(),
        security_opt: Vec::new(),
        gpu_requests: Vec::new(),
        runtime: None,
        userns_mode: None,
        volumes: Vec::new(),
        x11_cookie: None,
        notices: Vec::new(),
        problems: Vec::new(),
    }
}

/// `security.debug`: attaching a debugger or a profiler to a running process (gdb -p, perf,
/// strace) needs ptrace of any process; starting a program under gdb does not.
fn security_caps(profile: &Profile) -> Vec<String> {
    if profile.security.debug {
        vec!["SYS_PTRACE".to_string()]
    } else {
        Vec::new()
    }
}

/// No seccomp filter for `debug`; without sudo, nothing in the container can gain privileges.
fn security_opts(profile: &Profile) -> Vec<String> {
    let mut opts = Vec::new();
    if profile.security.debug {
        opts.push("seccomp=unconfined".to_string());
    }
    if !profile.security.sudo {
        opts.push("no-new-privileges=true".to_string());
    }
    opts
}

/// What every environment gets before the hardware features add theirs: the workspace and the
/// profile's mounts, the user, environment, labels, network, ipc, shm, debugging rights.
pub fn base(
    profile: &Profile,
    workspace: &Workspace,
    image: &ImagePlan,
    user: &ContainerUser,
) -> ContainerPlan {
    let ws_host = workspace.host_path(profile).display().to_string();
    let ws_target = workspace.mount_point(profile);
    let name = workspace.container_name(&profile.name);
    let mut env = BTreeMap::from([
        ("ROBODEV_WORKSPACE".to_string(), ws_target.clone()),
        ("ROBODEV_PROFILE".to_string(), profile.name.clone()),
        ("HOME".to_string(), user.home.clone()),
        ("USER".to_string(), user.name.clone()),
    ]);
    env.insert("SHELL".to_string(), profile.shell.path().to_string());
    let labels = BTreeMap::from([
        (labels::MANAGED.to_string(), "true".to_string()),
        (
            labels::WORKSPACE.to_string(),
            workspace.root.display().to_string(),
        ),
        (labels::PROFILE.to_string(), profile.name.clone()),
        (labels::IMAGE.to_string(), image.tag.clone()),
    ]);
    let mut plan = ContainerPlan {
        name,
        image: image.tag.clone(),
        user: user.clone(),
        working_dir: ws_target.clone(),
        workspace_host: ws_host.clone(),
        workspace_target: ws_target.clone(),
        env,
        labels,
        mounts: Vec::new(),
        devices: Vec::new(),
        device_cgroup_rules: Vec::new(),
        group_add: Vec::new(),
        group_names: Vec::new(),
        network_mode: profile.network.clone(),
        ipc_mode: ipc_mode(profile),
        shm_size: profile.shm_size,
        privileged: profile.privileged,
        init: true,
        cap_add: security_caps(profile),
        cap_drop: profile.security.cap_drop.clone(),
        security_opt: security_opts(profile),
        gpu_requests: Vec::new(),
        runtime: None,
        userns_mode: None,
        volumes: Vec::new(),
        x11_cookie: None,
        notices: Vec::new(),
        problems: Vec::new(),
    };
    plan.push_mount(MountKind::Bind, ws_host, ws_target, false);
    for m in &profile.mounts {
        match m {
            MountSpec::Bind {
                source,
                target,
                readonly,
            } => {
                let path = workspace.resolve_host_path(source);
                plan.push_mount(
                    MountKind::Bind,
                    path.display().to_string(),
                    target.clone(),
                    *readonly,
                );
            }
            MountSpec::Volume {
                source,
                target,
                readonly,
                shared,
            } => add_volume(
                &mut plan, profile, workspace, source, target, *readonly, *shared,
            ),
            MountSpec::Tmpfs { target } => {
                plan.push_mount(MountKind::Tmpfs, "", target.clone(), false)
            }
        }
    }
    if profile.dependencies.ccache {
        // colcon's CMake builds go through ccache (CMake reads these variables), into a
        // volume of this environment, so a clean rebuild of the workspace is fast.
        add_volume(
            &mut plan,
            profile,
            workspace,
            CCACHE_VOLUME,
            CCACHE_DIR,
            false,
            false,
        );
        plan.env.insert("CCACHE_DIR".into(), CCACHE_DIR.into());
        for var in ["CMAKE_C_COMPILER_LAUNCHER", "CMAKE_CXX_COMPILER_LAUNCHER"] {
            plan.env.insert(var.into(), "ccache".into());
        }
    }
    for (k, v) in &profile.env {
        plan.env.insert(k.clone(), v.clone());
    }
    let notices = ipc_notices(profile, &plan);
    plan.notices.extend(notices);
    plan
}

/// `ipc:` as the profile writes it; unset, `host` when the network is the host's. On the
/// host's network Fast DDS (ROS 2's default middleware) sees that its peers run on this host
/// and sends to them through shared memory in /dev/shm: an environment with an IPC namespace
/// and a /dev/shm of its own then exchanges no data with the host's nodes or other
/// environments' (tests/engine/ros_traffic.rs measures it). With the host's IPC it talks to
/// them as a process on the host does; what that shares is in the README's security model.
fn ipc_mode(profile: &Profile) -> Option<String> {
    match &profile.ipc {
        Some(ipc) => Some(ipc.clone()),
        None if profile.network == "host" => Some("host".to_string()),
        None => None,
    }
}

/// What will not work as asked with this IPC mode: ROS 2 traffic over Fast DDS's shared
/// memory without the host's /dev/shm, or a `shm_size` for a /dev/shm the host owns.
fn ipc_notices(profile: &Profile, plan: &ContainerPlan) -> Vec<Notice> {
    let mut notices = Vec::new();
    let ipc = plan.ipc_mode.as_deref();
    if profile.network == "host"
        && !plan.shares_host_shm()
        && profile.ros_uses_shared_memory()
        && let Some(rmw) = profile.rmw_implementation()
    {
        notices.push(Notice::warning(format!(
            "ipc: {} with network: host: {rmw} (Fast DDS) sends to ROS 2 nodes on this host \
             through shared memory, which this environment does not share with them: no data \
             arrives from or to the host's nodes and other environments'. Leave `ipc:` out \
             (host is the default with network: host), or use \
             `ros: {{rmw: rmw_cyclonedds_cpp}}`, or give Fast DDS a UDP-only profile \
             (FASTRTPS_DEFAULT_PROFILES_FILE; FASTDDS_BUILTIN_TRANSPORTS=UDPv4 from Jazzy on)",
            ipc.unwrap_or("private")
        )));
    }
    if plan.shares_host_shm()
        && let Some(size) = profile.shm_size
    {
        notices.push(Notice::warning(format!(
            "shm_size: {} is not applied: the environment's /dev/shm is the host's ({}); \
             `ipc: private` without a mount of /dev/shm gives it one of its own of that size",
            byte_size(size),
            if ipc == Some("host") {
                "ipc: host"
            } else {
                "a mount"
            }
        )));
    }
    notices
}

/// `2g`, `512m`, or bytes: a size as a profile writes it.
fn byte_size(bytes: u64) -> String {
    match bytes {
        b if b % (1 << 30) == 0 => format!("{}g", b >> 30),
        b if b % (1 << 20) == 0 => format!("{}m", b >> 20),
        b if b % (1 << 10) == 0 => format!("{}k", b >> 10),
        b => b.to_string(),
    }
}

/// A named volume robodev creates for this environment (or shared by all), labelled as its.
fn add_volume(
    plan: &mut ContainerPlan,
    profile: &Profile,
    workspace: &Workspace,
    source: &str,
    target: &str,
    readonly: bool,
    shared: bool,
) {
    let name = volume_name(&plan.name, source, shared);
    let mut volume_labels = BTreeMap::from([
        (labels::MANAGED.to_string(), "true".to_string()),
        (labels::PROFILE.to_string(), profile.name.clone()),
    ]);
    if shared {
        volume_labels.insert(labels::SHARED.to_string(), "true".to_string());
    } else {
        volume_labels.insert(labels::CONTAINER.to_string(), plan.name.clone());
        volume_labels.insert(
            labels::WORKSPACE.to_string(),
            workspace.root.display().to_string(),
        );
    }
    plan.volumes.push(VolumePlan {
        name: name.clone(),
        labels: volume_labels,
    });
    plan.push_mount(MountKind::Volume, name, target, readonly);
}

//! The container half of a plan: everything `docker create` would be told, as plain data.
//! Hardware passthrough (`gpu.rs`, `devices.rs`, `display.rs`) adds to it.

use crate::devices;
use crate::display;
use crate::error::Result;
use crate::gpu::{self, DaemonFacts};
use crate::host::HostFacts;
use crate::image_plan::{ContainerUser, ImagePlan};
use crate::profile::{GpuMode, MountSpec, Profile};
use crate::workspace::Workspace;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

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
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Device {
    pub host: String,
    pub container: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GpuRequest {
    pub driver: String,
    pub count: i64,
    pub device_ids: Vec<String>,
    pub capabilities: Vec<Vec<String>>,
}

/// A file robodev writes on the host before every start (the X11 cookie).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct X11Cookie {
    pub host_file: String,
    pub display: String,
    /// The user's Xauthority file the cookie is copied from, if there is one.
    pub source: Option<String>,
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
    pub group_add: Vec<String>,
    pub network_mode: String,
    pub ipc_mode: Option<String>,
    pub shm_size: Option<u64>,
    pub privileged: bool,
    pub init: bool,
    pub cap_add: Vec<String>,
    pub security_opt: Vec<String>,
    pub gpu_requests: Vec<GpuRequest>,
    pub runtime: Option<String>,
    pub x11_cookie: Option<X11Cookie>,
    /// What robodev decided and why (e.g. "gpu: auto → none"); printed by `up`.
    pub notes: Vec<String>,
    /// Things that will not work as asked but do not stop the container (optional devices).
    pub warnings: Vec<String>,
}

pub const LABEL_MANAGED: &str = "robodev.managed";
pub const LABEL_WORKSPACE: &str = "robodev.workspace";
pub const LABEL_PROFILE: &str = "robodev.profile";
pub const LABEL_CONFIG: &str = "robodev.config";
pub const LABEL_IMAGE: &str = "robodev.image";

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
        });
    }

    pub fn add_group(&mut self, gid: u32) {
        let gid = gid.to_string();
        if !self.group_add.contains(&gid) {
            self.group_add.push(gid);
        }
    }

    /// A digest of everything that shapes the container; stored as a label so `up` can tell
    /// when the profile changed since the container was made.
    pub fn config_hash(&self) -> String {
        let mut copy = self.clone();
        copy.labels.remove(LABEL_CONFIG);
        copy.notes.clear();
        copy.warnings.clear();
        let bytes = serde_json::to_vec(&copy).unwrap_or_default();
        hex::encode(Sha256::digest(bytes))[..16].to_string()
    }

    /// `user` for the engine: numeric, so it works whatever names the image has.
    pub fn user_spec(&self) -> String {
        format!("{}:{}", self.user.uid, self.user.gid)
    }
}

pub fn plan_container(
    profile: &Profile,
    host: &HostFacts,
    daemon: &DaemonFacts,
    workspace: &Workspace,
    image: &ImagePlan,
    user: &ContainerUser,
    gpu: GpuMode,
) -> Result<ContainerPlan> {
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
        (LABEL_MANAGED.to_string(), "true".to_string()),
        (
            LABEL_WORKSPACE.to_string(),
            workspace.root.display().to_string(),
        ),
        (LABEL_PROFILE.to_string(), profile.name.clone()),
        (LABEL_IMAGE.to_string(), image.tag.clone()),
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
        network_mode: profile.network.clone(),
        ipc_mode: profile.ipc.clone(),
        shm_size: profile.shm_size,
        privileged: profile.privileged,
        init: true,
        // Debuggers (gdb, lldb) need ptrace; this is what VS Code's C++ debugging expects too.
        cap_add: vec!["SYS_PTRACE".to_string()],
        security_opt: vec!["seccomp=unconfined".to_string()],
        gpu_requests: Vec::new(),
        runtime: None,
        x11_cookie: None,
        notes: Vec::new(),
        warnings: Vec::new(),
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
            } => plan.push_mount(MountKind::Volume, source.clone(), target.clone(), *readonly),
            MountSpec::Tmpfs { target } => {
                plan.push_mount(MountKind::Tmpfs, "", target.clone(), false)
            }
        }
    }
    for (k, v) in &profile.env {
        plan.env.insert(k.clone(), v.clone());
    }

    gpu::apply(gpu, host, daemon, &mut plan);
    devices::apply(profile, host, &mut plan)?;
    display::apply(profile, host, &mut plan)?;

    let hash = plan.config_hash();
    plan.labels.insert(LABEL_CONFIG.to_string(), hash);
    Ok(plan)
}

//! A plan for an engine on another machine. A bind mount names a path on the engine's machine,
//! so the workspace is mounted from `workspace.remote_path` (where it already is there: a
//! clone, NFS), never from this machine's path; any other bind mount of this machine's files is
//! a problem that stops `up`, with the way out. The user is the one the engine's machine knows
//! (the ssh user); devices and groups are that machine's (its facts come from a probe there),
//! and this machine's display and sockets are not used.

use super::Plan;
use super::container::MountKind;
use crate::notice::{Notice, Problem};

/// The volume that holds a synced copy of the workspace on a remote engine.
pub fn workspace_volume(container: &str) -> String {
    format!("{container}-workspace")
}

pub fn on_remote_engine(plan: &mut Plan, engine: &str, chosen_by: &str) {
    let container = &mut plan.container;
    let local_workspace = container.workspace_host.clone();
    container.notices.push(Notice::once(format!(
        "the engine at {engine} ({chosen_by}) is on another machine: the container user is {} \
         (uid {}) there, and its devices are that machine's; this machine's display and sockets \
         are not used",
        container.user.name, container.user.uid
    )));
    let synced = plan.profile.workspace_sync && plan.profile.workspace_remote_path.is_none();
    if synced {
        // A volume of its own, filled and kept by `robodev sync` through the archive API.
        let volume = workspace_volume(&container.name);
        for m in &mut container.mounts {
            if m.kind == MountKind::Bind && m.source == local_workspace {
                m.kind = MountKind::Volume;
                m.source = volume.clone();
            }
        }
        container.volumes.push(super::container::VolumePlan {
            name: volume.clone(),
            labels: [
                (super::labels::MANAGED.to_string(), "true".to_string()),
                (super::labels::CONTAINER.to_string(), container.name.clone()),
                (
                    super::labels::PROFILE.to_string(),
                    plan.profile.name.clone(),
                ),
                (
                    super::labels::WORKSPACE.to_string(),
                    local_workspace.clone(),
                ),
            ]
            .into_iter()
            .collect(),
        });
        container.workspace_host = volume;
    }
    // A remote path wins over sync (`synced` is false then).
    if let Some(remote) = &plan.profile.workspace_remote_path {
        for m in &mut container.mounts {
            if m.kind == MountKind::Bind && m.source == local_workspace {
                m.source = remote.clone();
            }
        }
        container.workspace_host = remote.clone();
    }
    let problems = mount_problems(plan, engine);
    plan.container.problems.extend(problems);
}

/// What a remote plan would bind-mount from this machine: the workspace when the profile
/// says neither where it is there nor to sync it, and any other file of this machine
/// (a system path of the engine's machine, `/dev`, is that machine's and fine).
pub fn mount_problems(plan: &Plan, engine: &str) -> Vec<Problem> {
    let container = &plan.container;
    let mut problems = Vec::new();
    let workspace = &container.workspace_host;
    let placed = plan.profile.workspace_sync || plan.profile.workspace_remote_path.is_some();
    if !placed {
        problems.push(Problem::new(
            format!(
                "the engine at {engine} is on another machine: it cannot bind-mount the \
                 workspace {workspace} from this one"
            ),
            "add `workspace: {remote_path: /path/on/that/machine}` where the workspace is \
             there (a clone, NFS), or `workspace: {sync: true}` to keep a copy there \
             (`robodev sync`), or run robodev on that machine",
        ));
    }
    let foreign = container
        .mounts
        .iter()
        .filter(|m| m.kind == MountKind::Bind && m.source != *workspace && !m.machine_path);
    for m in foreign {
        problems.push(Problem::new(
            format!(
                "the engine at {engine} is on another machine: the bind mount of {} \
                 would name a path there, not this machine's file",
                m.source
            ),
            "use a volume (`type: volume`) for it, or run robodev on that machine",
        ));
    }
    problems
}

//! A plan for an engine on another machine. A bind mount names a path on the engine's machine,
//! so the workspace is mounted from `workspace.remote_path` (where it already is there: a
//! clone, NFS), never from this machine's path; any other bind mount of this machine's files is
//! a problem that stops `up`, with the way out. The user is the one the engine's machine knows
//! (the ssh user), and this machine's devices and display are not that machine's.

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
    container.notices.push(Notice::info(format!(
        "the engine at {engine} ({chosen_by}) is on another machine: the container user is {} \
         (uid {}) there; this machine's devices, display and sockets are not used",
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
    match &plan.profile.workspace_remote_path {
        _ if synced => {}
        Some(remote) => {
            for m in &mut container.mounts {
                if m.kind == MountKind::Bind && m.source == local_workspace {
                    m.source = remote.clone();
                }
            }
            container.workspace_host = remote.clone();
        }
        None => container.problems.push(Problem::new(
            format!(
                "the engine at {engine} is on another machine: it cannot bind-mount the \
                 workspace {local_workspace} from this one"
            ),
            "add `workspace: {remote_path: /path/on/that/machine}` where the workspace is \
             there (a clone, NFS), or `workspace: {sync: true}` to keep a copy there \
             (`robodev sync`), or run robodev on that machine",
        )),
    }
    let workspace = container.workspace_host.clone();
    let foreign: Vec<String> = container
        .mounts
        .iter()
        .filter(|m| m.kind == MountKind::Bind && m.source != workspace)
        .map(|m| m.source.clone())
        .collect();
    for source in foreign {
        container.problems.push(Problem::new(
            format!(
                "the engine at {engine} is on another machine: the bind mount of {source} \
                 would name a path there, not this machine's file"
            ),
            "use a volume (`type: volume`) for it, or run robodev on that machine",
        ));
    }
}

//! Where an engine differs from Docker: Podman and rootless engines.

use crate::exports::{RIG, nvidia_engine, rig_host};
use crate::support::*;
use robodev::facts::EngineFacts;

/// Podman and rootless engines: the plan adapts and says so (tests/engine/podman.rs runs the
/// lifecycle against the real Podman service).
#[test]
fn podman_gets_cdi_gpu_names_and_a_rootless_engine_no_cgroup_rules() {
    let profile = profile_from(RIG).unwrap();
    let podman = EngineFacts {
        podman: Some("4.3.1".into()),
        rootless: true,
        ..Default::default()
    };
    let plan = plan_for(&profile, &rig_host(), &podman).unwrap();
    let c = &plan.container;
    assert!(c.gpu_requests.is_empty(), "{:?}", c.gpu_requests);
    assert!(c.devices.iter().any(|d| d.host == "nvidia.com/gpu=all"));
    assert!(c.device_cgroup_rules.is_empty());
    assert_eq!(c.userns_mode.as_deref(), Some("keep-id"));
    assert!(c.notices.iter().any(|n| n.text.contains("rootless")));
    assert!(c.notices.iter().any(|n| n.text.contains("CDI")));

    let docker = plan_for(&profile, &rig_host(), &nvidia_engine()).unwrap();
    assert!(!docker.container.device_cgroup_rules.is_empty());
    assert_eq!(docker.container.userns_mode, None);
    assert_eq!(docker.container.gpu_requests[0].driver, "nvidia");
}

/// `yaml`'s plan on this laptop, made for an engine on another machine.
fn remote_plan(yaml: &str) -> robodev::plan::Plan {
    let mut plan = plan_for(
        &profile_from(yaml).unwrap(),
        &laptop(),
        &EngineFacts::default(),
    )
    .unwrap();
    robodev::plan::remote::on_remote_engine(&mut plan, "ssh://robot@rover", "--host");
    plan
}

/// An engine on another machine: the local workspace is never bind-mounted into it.
#[test]
fn a_remote_engine_gets_the_remote_path_a_synced_volume_or_a_problem() {
    use robodev::plan::container::MountKind;
    let base = "version: 1\nextends: humble\nname: rover\n";
    let plan = remote_plan(base);
    assert!(
        plan.container.problems[0]
            .message
            .contains("cannot bind-mount the workspace")
    );
    assert!(plan.container.problems[0].fix.contains("remote_path"));

    let remote = format!("{base}workspace: {{remote_path: /home/robot/ws}}\n");
    let plan = remote_plan(&remote);
    assert!(
        plan.container.problems.is_empty(),
        "{:?}",
        plan.container.problems
    );
    assert!(
        plan.container
            .mounts
            .iter()
            .any(|m| m.source == "/home/robot/ws" && m.target == plan.container.workspace_target)
    );

    let synced = format!("{base}workspace: {{sync: true}}\n");
    let plan = remote_plan(&synced);
    assert!(
        plan.container.problems.is_empty(),
        "{:?}",
        plan.container.problems
    );
    let ws = plan
        .container
        .mounts
        .iter()
        .find(|m| m.target == plan.container.workspace_target)
        .unwrap();
    assert_eq!(ws.kind, MountKind::Volume);
    assert!(plan.container.volumes.iter().any(|v| v.name == ws.source));

    let bad = format!("{base}workspace: {{remote_path: relative/ws}}\n");
    assert!(
        profile_from(&bad)
            .unwrap_err()
            .to_string()
            .contains("workspace.remote_path")
    );
}

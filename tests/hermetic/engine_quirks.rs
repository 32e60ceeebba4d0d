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

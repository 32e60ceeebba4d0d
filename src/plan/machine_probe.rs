//! The throw-away container that reads another machine's facts through its engine: an image
//! the engine already has, the machine's root mounted read-only at `/host`, no network, and
//! `facts::machine_report::PROBE_SCRIPT`, which only reads. The profile's device paths are the
//! script's arguments, never part of its text.

use super::container::{ContainerPlan, MountKind, base_for_tool};
use crate::facts::machine_report::{HOST_ROOT, PROBE_SCRIPT};

pub struct ProbePlan {
    pub container: ContainerPlan,
    pub cmd: Vec<String>,
}

/// The probe for the devices at `device_paths` and the display sockets of the user `uid`.
pub fn probe(image: &str, device_paths: &[String], uid: u32) -> ProbePlan {
    let mut container = base_for_tool(image, "machine-probe");
    container
        .env
        .insert("ROBODEV_PROBE_UID".into(), uid.to_string());
    container.network_mode = "none".into();
    container.init = false;
    container.push_mount(MountKind::Bind, "/", HOST_ROOT, true);
    let mut cmd = vec![
        "/bin/sh".to_string(),
        "-c".to_string(),
        PROBE_SCRIPT.to_string(),
        "probe".to_string(),
    ];
    cmd.extend(device_paths.iter().cloned());
    ProbePlan { container, cmd }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_paths_are_arguments_and_the_root_is_read_only() {
        let evil = "/dev/x\"; rm -rf / #".to_string();
        let p = probe("ros:humble", std::slice::from_ref(&evil), 1000);
        assert_eq!(p.cmd.last(), Some(&evil));
        assert!(!p.cmd[2].contains("rm -rf"));
        let root = &p.container.mounts[0];
        assert_eq!((root.source.as_str(), root.target.as_str()), ("/", "/host"));
        assert!(root.readonly);
        assert_eq!(p.container.network_mode, "none");
    }
}

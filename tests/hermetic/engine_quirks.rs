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

/// A robot's devices come from its probe report, not from this laptop: the node the profile
/// names is resolved there (by-id symlink → ttyUSB), its group there is added, the hotplug
/// class binds that machine's /dev (a system path there, not a foreign bind mount), and an
/// absent device is named with what that machine has instead.
#[test]
fn a_remote_plan_takes_the_devices_of_the_engines_machine() {
    let yaml = "version: 1\nextends: humble\nname: rover\nworkspace: {sync: true}\n\
                hotplug: [serial]\ndevices: [/dev/serial/by-id/usb-lidar, /dev/ttyUSB5]\n";
    let profile = profile_from(yaml).unwrap();
    let paths: Vec<String> = profile
        .device_paths()
        .iter()
        .map(|p| p.to_string())
        .collect();
    let host = robot_facts(
        "== read /etc/group
root:x:0:
dialout:x:27:robot
== read /proc/devices
Character devices:
188 ttyUSB
166 ttyACM

== list /dev
ttyACM4
ttyUSB0
== list /dev/serial/by-id
usb-lidar
== exists /run/udev
== device /dev/serial/by-id/usb-lidar
character special file|bc|0|0|27|660|/host/dev/ttyUSB0
== device /dev/ttyUSB5
",
        &paths,
    );
    let mut plan = plan_for(&profile, &host, &EngineFacts::default()).unwrap();
    robodev::plan::remote::on_remote_engine(&mut plan, "ssh://robot@rover", "--host");
    let c = &plan.container;
    assert_eq!(c.user.uid, 4343);
    assert!(
        c.devices
            .iter()
            .any(|d| d.host == "/dev/ttyUSB0" && d.container == "/dev/serial/by-id/usb-lidar"),
        "{:?}",
        c.devices
    );
    assert!(c.group_add.contains(&"27".to_string()), "{:?}", c.group_add);
    assert!(c.device_cgroup_rules.contains(&"c 188:* rmw".to_string()));
    assert!(
        c.mounts
            .iter()
            .any(|m| m.source == "/dev" && m.machine_path)
    );
    // Only the absent device stops `up`, named on that machine with what it has instead.
    assert_eq!(c.problems.len(), 1, "{:?}", c.problems);
    assert!(c.problems[0].message.contains("/dev/ttyUSB5"));
    assert!(
        c.problems[0]
            .message
            .contains("not present on ssh://robot@rover")
    );
    assert!(
        c.problems[0].fix.contains("/dev/ttyUSB0"),
        "{}",
        c.problems[0].fix
    );
    assert!(robodev::plan::remote::mount_problems(&plan, "ssh://robot@rover").is_empty());
}

/// `robot`'s facts on rover from a probe report (`report` after the magic line).
fn robot_facts(report: &str, device_paths: &[String]) -> robodev::facts::HostFacts {
    use robodev::facts::machine_report::MachineReport;
    let report = MachineReport::parse(&format!("robodev-machine-report 1\n{report}")).unwrap();
    let robot = robodev::facts::HostUser {
        name: "robot".into(),
        uid: 4343,
        gid: 4343,
        home: "/home/robot".into(),
    };
    let display = report.display(robot.uid);
    robodev::facts::HostFacts::of_machine(
        &report,
        robot,
        display,
        device_paths,
        Some("ssh://robot@rover".into()),
    )
}

/// On a robot with a desktop, windows and sound are that machine's: its X server's socket
/// (no cookie of the developer's, nothing of this laptop's), its Wayland and PulseAudio
/// sockets of robot's runtime directory. On a headless robot the container starts without
/// them, and says so.
#[test]
fn a_robots_display_and_sound_are_its_own_and_optional() {
    let yaml = "version: 1\nextends: humble\nname: rover\nworkspace: {sync: true}\n\
                x11: true\nwayland: true\naudio: true\n";
    let profile = profile_from(yaml).unwrap();
    let desktop = robot_facts(
        "== list /tmp/.X11-unix\nX5\n== list /run/user/4343\nwayland-0\npulse\n\
         == list /run/user/4343/pulse\nnative\n",
        &[],
    );
    let mut plan = plan_for(&profile, &desktop, &EngineFacts::default()).unwrap();
    robodev::plan::remote::on_remote_engine(&mut plan, "ssh://robot@rover", "--host");
    let c = &plan.container;
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    assert_eq!(c.env.get("DISPLAY").map(String::as_str), Some(":5"));
    assert_eq!(c.env.get("XAUTHORITY"), None);
    assert_eq!(c.x11_cookie, None);
    for (source, target) in [
        ("/tmp/.X11-unix", "/tmp/.X11-unix"),
        ("/run/user/4343/wayland-0", "/run/user/4343/wayland-0"),
        ("/run/user/4343/pulse/native", "/run/user/4343/pulse/native"),
    ] {
        assert!(
            c.mounts
                .iter()
                .any(|m| m.source == source && m.target == target && m.machine_path),
            "{source}: {:?}",
            c.mounts
        );
    }
    assert!(
        c.notices
            .iter()
            .any(|n| n.text.contains("xhost +SI:localuser:robot")),
        "{:?}",
        c.notices
    );

    let headless = robot_facts("== list /dev\nnull\n", &[]);
    let mut plan = plan_for(&profile, &headless, &EngineFacts::default()).unwrap();
    robodev::plan::remote::on_remote_engine(&mut plan, "ssh://robot@rover", "--host");
    let c = &plan.container;
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    assert_eq!(c.env.get("DISPLAY"), None);
    assert!(
        c.notices
            .iter()
            .any(|n| n.text.contains("ssh://robot@rover has no X server")
                && n.text.contains("starts without it")),
        "{:?}",
        c.notices
    );
    // The same profile on this laptop without a display stops `up`, as before.
    let mut laptop = laptop();
    laptop.display = Default::default();
    let plan = plan_for(&profile, &laptop, &EngineFacts::default()).unwrap();
    assert!(
        plan.container
            .problems
            .iter()
            .any(|p| p.message.contains("DISPLAY is not set on this host"))
    );
}

/// Docker 25–27 (API ≥ 1.44) report CDI only with `features.cdi` in daemon.json: on a host with
/// /dev/nvidia* and an engine that reports no CDI spec dirs, `doctor` names that setting and
/// NVIDIA's spec; an older engine gets the runtime's fix only.
#[test]
fn doctor_names_the_cdi_setting_of_docker_25_to_27() {
    let mut host = laptop();
    host.nvidia_nodes = vec!["/dev/nvidia0".into(), "/dev/nvidiactl".into()];
    let gpu_check = |yaml: &str, engine: &EngineFacts| {
        robodev::plan::hardware_checks(&profile_from(yaml).unwrap(), &host, engine)
            .into_iter()
            .find(|c| c.name.starts_with("gpu"))
            .unwrap()
    };
    let nvidia = "version: 1\nextends: humble\nname: g\ngpu: nvidia\n";
    let auto = "version: 1\nextends: humble\nname: g\ngpu: auto\n";
    let docker26 = EngineFacts {
        api_version: "1.45".into(),
        runtimes: vec!["runc".into()],
        ..Default::default()
    };
    for yaml in [nvidia, auto] {
        let check = gpu_check(yaml, &docker26);
        let fix = check.fix.unwrap_or_default();
        assert!(
            fix.contains("\"features\": {\"cdi\": true}")
                && fix.contains("nvidia-ctk cdi generate"),
            "{yaml}: {fix}"
        );
    }
    let docker20 = EngineFacts {
        api_version: "1.41".into(),
        ..docker26.clone()
    };
    let fix = gpu_check(nvidia, &docker20).fix.unwrap_or_default();
    assert!(
        !fix.contains("features") && fix.contains("nvidia-ctk runtime configure"),
        "{fix}"
    );
    // CDI on, with NVIDIA's spec: nothing to fix.
    let cdi = EngineFacts {
        cdi_spec_dirs: vec!["/etc/cdi".into()],
        ..docker26.clone()
    };
    host.cdi_nvidia = true;
    let check = robodev::plan::hardware_checks(&profile_from(nvidia).unwrap(), &host, &cdi);
    assert!(check.iter().all(|c| c.fix.is_none()), "{check:?}");
}

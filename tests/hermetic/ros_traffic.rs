//! How an environment's ROS nodes reach the host's and other environments': the host's IPC
//! (Fast DDS's shared memory) by default with the host's network, `ros.rmw`, and the doctor
//! line that says it. The traffic itself is measured in tests/engine/ros_traffic.rs.

use crate::support::*;
use robodev::notice::Level;
use robodev::profile::Profile;

fn warnings(profile: &Profile) -> Vec<String> {
    plan(profile)
        .container
        .notices
        .iter()
        .filter(|n| n.level == Level::Warning)
        .map(|n| n.text.clone())
        .collect()
}

#[test]
fn the_hosts_network_comes_with_the_hosts_ipc() {
    for name in ["humble", "jazzy", "kilted", "rolling", "noetic", "debian"] {
        let plan = plan(&builtin(name));
        assert_eq!(plan.container.network_mode, "host", "{name}");
        assert_eq!(plan.container.ipc_mode.as_deref(), Some("host"), "{name}");
        assert!(
            plan.container.notices.is_empty(),
            "{name}: {:?}",
            plan.container.notices
        );
    }
    // Without the host's network there is no host peer to share memory with: the engine's
    // default (a private IPC namespace).
    for network in ["bridge", "none"] {
        let p = profile_from(&format!(
            "version: 1\nextends: humble\nnetwork: {network}\n"
        ))
        .unwrap();
        assert_eq!(plan(&p).container.ipc_mode, None, "{network}");
        assert!(warnings(&p).is_empty(), "{network}");
    }
}

#[test]
fn a_private_ipc_on_the_hosts_network_warns_when_fast_dds_would_use_shared_memory() {
    for ipc in ["private", "shareable", "none"] {
        let p = profile_from(&format!("version: 1\nextends: humble\nipc: {ipc}\n")).unwrap();
        assert_eq!(plan(&p).container.ipc_mode.as_deref(), Some(ipc));
        let said = warnings(&p);
        assert_eq!(said.len(), 1, "{ipc}: {said:?}");
        for needle in [
            &format!("ipc: {ipc} with network: host"),
            "rmw_fastrtps_cpp",
            "no data arrives",
            "rmw_cyclonedds_cpp",
        ] {
            assert!(said[0].contains(needle), "{needle:?} in {said:?}");
        }
    }
    // The middleware talks UDP, the profile configures Fast DDS itself, or ROS 1: nothing to say.
    for quiet in [
        "version: 1\nextends: jazzy\nipc: private\nros: {rmw: rmw_cyclonedds_cpp}\n",
        "version: 1\nextends: jazzy\nipc: private\nenv: {RMW_IMPLEMENTATION: rmw_cyclonedds_cpp}\n",
        "version: 1\nextends: jazzy\nipc: private\nenv: {FASTDDS_BUILTIN_TRANSPORTS: UDPv4}\n",
        "version: 1\nextends: humble\nipc: private\nenv: {FASTRTPS_DEFAULT_PROFILES_FILE: /ws/udp.xml}\n",
        "version: 1\nextends: noetic\nipc: private\n",
        "version: 1\nextends: debian\nipc: private\n",
        // The host's /dev/shm, without its IPC namespace: what Fast DDS needs (a rootless
        // engine on a machine without /dev/mqueue cannot join the host's IPC).
        "version: 1\nextends: humble\nipc: private\nmounts: [\"/dev/shm:/dev/shm\"]\n",
    ] {
        let p = profile_from(quiet).unwrap();
        assert_eq!(plan(&p).container.ipc_mode.as_deref(), Some("private"));
        assert!(warnings(&p).is_empty(), "{quiet}: {:?}", warnings(&p));
    }
}

#[test]
fn shm_size_with_the_hosts_ipc_says_it_is_not_applied() {
    let p = profile_from("version: 1\nextends: humble\nshm_size: 2g\n").unwrap();
    assert_eq!(plan(&p).container.ipc_mode.as_deref(), Some("host"));
    let said = warnings(&p);
    assert!(
        said.iter()
            .any(|w| w.contains("shm_size: 2g is not applied")
                && w.contains("(ipc: host)")
                && w.contains("`ipc: private` without a mount of /dev/shm")),
        "{said:?}"
    );
    // A /dev/shm of its own gets the size, quietly.
    let own = profile_from("version: 1\nextends: debian\nipc: private\nshm_size: 512m\n").unwrap();
    assert_eq!(plan(&own).container.shm_size, Some(512 << 20));
    assert!(warnings(&own).is_empty(), "{:?}", warnings(&own));
}

#[test]
fn ros_rmw_sets_the_implementation_and_installs_its_package() {
    for (distro, rmw) in [
        ("humble", "rmw_cyclonedds_cpp"),
        ("jazzy", "rmw_zenoh_cpp"),
        ("rolling", "rmw_fastrtps_cpp"),
    ] {
        let p = profile_from(&format!(
            "version: 1\nextends: {distro}\nros: {{rmw: {rmw}}}\n"
        ))
        .unwrap();
        let package = format!("ros-{distro}-{}", rmw.replace('_', "-"));
        assert!(p.ros_packages.contains(&package), "{:?}", p.ros_packages);
        assert!(
            !p.apt.contains(&package),
            "the ROS layer, not the system one"
        );
        let plan = plan(&p);
        assert_eq!(
            plan.container
                .env
                .get("RMW_IMPLEMENTATION")
                .map(String::as_str),
            Some(rmw)
        );
        let lines = instructions(&plan.image.dockerfile);
        assert!(
            lines.iter().any(
                |l| l.starts_with("RUN apt-get -o Acquire::Retries=3 update")
                    && l.contains(&package)
            ),
            "{lines:#?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l == &format!("ENV RMW_IMPLEMENTATION=\"{rmw}\"")
                    || l == &format!("ENV RMW_IMPLEMENTATION={rmw}")),
            "{lines:#?}"
        );
        assert_eq!(p.rmw_implementation(), Some(rmw));
    }
    // Without `ros.rmw`: the distro's default, nothing installed or set.
    let humble = builtin("humble");
    assert_eq!(humble.rmw_implementation(), Some("rmw_fastrtps_cpp"));
    assert!(!humble.env.contains_key("RMW_IMPLEMENTATION"));
    assert_eq!(builtin("noetic").rmw_implementation(), None);
}

#[test]
fn ros_rmw_is_inherited_overridden_and_reaches_the_deploy_image() {
    let dir = ProfileDir::new(&[
        (
            "team.yaml",
            "version: 1\nextends: jazzy\nros: {rmw: rmw_cyclonedds_cpp}\n",
        ),
        (
            "robodev.yaml",
            "version: 1\nextends: ./team.yaml\nname: rover\ndeploy: {command: [ros2, launch, x, y.py]}\n",
        ),
        (
            "zenoh.yaml",
            "version: 1\nextends: ./team.yaml\nros: {rmw: rmw_zenoh_cpp}\n",
        ),
        (
            "robot.yaml",
            "version: 1\nextends: ./team.yaml\ndeploy: {command: [x], env: {RMW_IMPLEMENTATION: rmw_fastrtps_cpp}}\n",
        ),
    ]);
    let rover = dir.load(None).unwrap();
    assert_eq!(rover.rmw_implementation(), Some("rmw_cyclonedds_cpp"));
    let deploy = rover.deploy.as_ref().unwrap();
    assert_eq!(
        deploy.env.get("RMW_IMPLEMENTATION").map(String::as_str),
        Some("rmw_cyclonedds_cpp")
    );
    let zenoh = dir.load(Some("./zenoh.yaml")).unwrap();
    assert_eq!(zenoh.rmw_implementation(), Some("rmw_zenoh_cpp"));
    assert!(
        zenoh
            .ros_packages
            .contains(&"ros-jazzy-rmw-zenoh-cpp".to_string())
    );
    assert!(
        !zenoh
            .ros_packages
            .contains(&"ros-jazzy-rmw-cyclonedds-cpp".to_string())
    );
    // The robot's own choice stands.
    let robot = dir.load(Some("./robot.yaml")).unwrap();
    assert_eq!(
        robot
            .deploy
            .unwrap()
            .env
            .get("RMW_IMPLEMENTATION")
            .map(String::as_str),
        Some("rmw_fastrtps_cpp")
    );
}

#[test]
fn a_bad_ros_rmw_is_refused_at_its_line_with_what_to_do() {
    for (yaml, needles) in [
        (
            "version: 1\nextends: humble\nros:\n  rmw: rmw_fastdds_cpp\n",
            &[
                "robodev.yaml:4",
                "ros.rmw",
                "is not a valid ros.rmw",
                "rmw_fastrtps_cpp",
            ][..],
        ),
        (
            "version: 1\nextends: debian\nros:\n  rmw: rmw_cyclonedds_cpp\n",
            &[
                "robodev.yaml:4",
                "ros.rmw",
                "debian is ROS 1",
                "Debian's archive has ROS 1 and no RMW packages",
                "cyclonedds-dev",
            ][..],
        ),
        (
            "version: 1\nextends: noetic\nros: {rmw: rmw_fastrtps_cpp}\n",
            &[
                "ros.rmw",
                "noetic is ROS 1",
                "humble, jazzy, kilted, rolling",
            ][..],
        ),
        (
            "version: 1\nextends: jazzy\nros: {rmw: rmw_zenoh_cpp}\nenv:\n  RMW_IMPLEMENTATION: rmw_cyclonedds_cpp\n",
            &[
                "robodev.yaml:5",
                "env.RMW_IMPLEMENTATION",
                "disagrees with `ros.rmw: rmw_zenoh_cpp`",
            ][..],
        ),
    ] {
        let err = profile_from(yaml).unwrap_err();
        let report = err.report();
        assert_eq!(err.exit_code(), 2, "{report}");
        for needle in needles {
            assert!(report.contains(needle), "{needle:?} in\n{report}");
        }
    }
    // Saying the same thing twice is fine.
    let same = profile_from(
        "version: 1\nextends: jazzy\nros: {rmw: rmw_zenoh_cpp}\nenv: {RMW_IMPLEMENTATION: rmw_zenoh_cpp}\n",
    )
    .unwrap();
    assert_eq!(same.rmw_implementation(), Some("rmw_zenoh_cpp"));
}

/// `robodev doctor --json`'s "ROS traffic" check for a profile (no engine needed).
fn doctor_line(yaml: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("robodev.yaml"), yaml).unwrap();
    let out = robodev(dir.path())
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let checks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ROS traffic")
        .unwrap_or_else(|| panic!("no ROS traffic check in {checks:#}"))
        .clone()
}

#[test]
fn doctor_says_how_the_environment_talks_to_the_others() {
    for (yaml, status, needles) in [
        (
            "version: 1\nname: a\nextends: humble\n",
            "ok",
            &[
                "rmw_fastrtps_cpp (humble's default)",
                "ROS_DOMAIN_ID 0 (the default)",
                "shared memory in the host's /dev/shm",
                "shares the host's IPC namespace and /dev/shm (ipc: host)",
            ][..],
        ),
        (
            "version: 1\nname: a\nextends: jazzy\nros: {rmw: rmw_cyclonedds_cpp}\nipc: private\nenv: {ROS_DOMAIN_ID: \"7\"}\n",
            "ok",
            &["rmw_cyclonedds_cpp (ros.rmw), ROS_DOMAIN_ID 7", "over UDP"][..],
        ),
        (
            "version: 1\nname: a\nextends: jazzy\nros: {rmw: rmw_zenoh_cpp}\n",
            "ok",
            &["rmw_zenoh_cpp (ros.rmw)", "Zenoh router", "rmw_zenohd"][..],
        ),
        (
            "version: 1\nname: a\nextends: humble\nipc: private\n",
            "warn",
            &["ipc: private", "no data arrives"][..],
        ),
        (
            "version: 1\nname: a\nextends: humble\nipc: private\nmounts: [\"/dev/shm:/dev/shm\"]\n",
            "ok",
            &[
                "shared memory in the host's /dev/shm",
                "shares the host's /dev/shm (a mount)",
            ][..],
        ),
        (
            "version: 1\nname: a\nextends: humble\nnetwork: bridge\n",
            "warn",
            &["bridge network", "not found"][..],
        ),
        (
            "version: 1\nname: a\nextends: noetic\n",
            "ok",
            &["ROS 1", "http://localhost:11311"][..],
        ),
    ] {
        let check = doctor_line(yaml);
        assert_eq!(check["status"], status, "{yaml}: {check:#}");
        let text = format!("{} {}", check["detail"], check["fix"]);
        for needle in needles {
            assert!(text.contains(needle), "{needle:?} in {text}");
        }
    }
}

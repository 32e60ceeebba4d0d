//! The plan for every built-in profile, snapshotted: Dockerfile text and container config.

use crate::support::*;
use robodev::facts::EngineFacts;
use robodev::notice::Level;
use robodev::profile::GpuMode;

const BUILTINS: &[&str] = &["debian", "humble", "jazzy", "kilted", "noetic", "rolling"];

#[test]
fn dockerfile_of_every_builtin_profile() {
    for name in BUILTINS {
        let plan = plan(&builtin(name));
        insta::assert_snapshot!(format!("dockerfile_{name}"), plan.image.dockerfile);
    }
}

#[test]
fn container_config_of_every_builtin_profile() {
    for name in BUILTINS {
        let plan = plan(&builtin(name));
        insta::assert_json_snapshot!(format!("container_{name}"), plan.container);
    }
}

#[test]
fn rendering_is_deterministic() {
    let a = plan(&builtin("humble"));
    let b = plan(&builtin("humble"));
    assert_eq!(a.image.dockerfile, b.image.dockerfile);
    assert_eq!(a.image.hash, b.image.hash);
    assert_eq!(a.container.config_hash(), b.container.config_hash());
}

#[test]
fn layers_go_from_least_to_most_often_changing() {
    let profile = profile_from(
        "version: 1\nextends: humble\napt: [ros-humble-rviz2, htop]\npip: [numpy]\nenv: {ROS_DOMAIN_ID: \"7\"}\n",
    )
    .unwrap();
    let df = plan(&profile).image.dockerfile;
    let pos = |needle: &str| {
        df.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing from\n{df}"))
    };
    // Regression (a new user's `tree` rebuilt 1.1 GB): robodev's tooling, then ROS, then the
    // profile's packages, one layer per profile file, then pip (with python3-pip in its own
    // RUN, so adding a pip package leaves the apt layers alone), then the user.
    assert!(pos("FROM ") < pos("# robodev's tooling"));
    assert!(pos("# robodev's tooling") < pos("# ROS packages"));
    assert!(pos("# ROS packages") < pos("# System packages"));
    let humble_layer = df[pos("# System packages")..]
        .find("build-essential")
        .unwrap();
    let child_layer = df.rfind("# System packages").unwrap();
    assert!(
        pos("# System packages") + humble_layer < child_layer,
        "two apt layers:\n{df}"
    );
    assert!(df[child_layer..].find("htop").unwrap() < df[child_layer..].find("# Python").unwrap());
    assert!(
        !df[..pos("# Python packages")].contains("python3-pip"),
        "{df}"
    );
    assert!(pos("# System packages") < pos("# Python packages"));
    assert!(pos("# Python packages") < pos("# The user"));
    assert!(pos("# The user") < pos("ENV ROS_DOMAIN_ID"));
    // Every apt layer cleans its lists in the same RUN.
    let apt_layers: Vec<String> = instructions(&df)
        .into_iter()
        .filter(|i| i.contains("apt-get -o Acquire::Retries=3 install"))
        .collect();
    assert!(apt_layers.len() >= 2, "{df}");
    for ins in &apt_layers {
        assert!(ins.contains("rm -rf /var/lib/apt/lists/*"), "{ins}");
    }
    // Nothing from the workspace is copied in: the only COPY is robodev's entrypoint.
    let copies: Vec<_> = instructions(&df)
        .into_iter()
        .filter(|i| i.starts_with("COPY"))
        .collect();
    assert_eq!(
        copies,
        vec!["COPY robodev-entrypoint /usr/local/bin/robodev-entrypoint".to_string()]
    );
}

#[test]
fn ros_packages_and_system_packages_are_split() {
    let profile =
        profile_from("version: 1\nextends: humble\napt: [ros-humble-rviz2, htop]\n").unwrap();
    assert!(
        profile
            .ros_packages
            .contains(&"ros-humble-rviz2".to_string())
    );
    assert!(profile.apt.contains(&"htop".to_string()));
}

#[test]
fn host_user_is_mapped_and_root_is_root() {
    let p = plan(&builtin("jazzy"));
    assert_eq!(p.container.user_spec(), "1000:1000");
    assert_eq!(p.image.build_args.get("ROBODEV_USER").unwrap(), "alice");
    let mut host = laptop();
    host.user.uid = 0;
    host.user.gid = 0;
    host.user.name = "root".into();
    let p = plan_for(&builtin("jazzy"), &host, &EngineFacts::default()).unwrap();
    assert_eq!(p.container.user_spec(), "0:0");
    assert!(p.image.build_args.is_empty());
    let p = plan(&profile_from("version: 1\nextends: jazzy\nuser: root\n").unwrap());
    assert_eq!(p.container.user_spec(), "0:0");
}

#[test]
fn user_creation_handles_an_existing_uid_1000_user() {
    let df = plan(&builtin("jazzy")).image.dockerfile;
    // noble images ship `ubuntu` as 1000:1000: the existing user is renamed, not duplicated.
    assert!(
        df.contains(r#"usermod -l "$ROBODEV_USER" -d "/home/$ROBODEV_USER" -m "$existing""#),
        "{df}"
    );
    assert!(df.contains("NOPASSWD:ALL"));
}

#[test]
fn image_hash_covers_build_args() {
    let mut other = laptop();
    other.user.uid = 1001;
    let a = plan(&builtin("humble"));
    let b = plan_for(&builtin("humble"), &other, &EngineFacts::default()).unwrap();
    assert_eq!(a.image.dockerfile, b.image.dockerfile);
    assert_ne!(a.image.hash, b.image.hash);
    assert!(a.image.tag.starts_with("robodev/humble:"));
}

#[test]
fn workspace_is_mounted_read_write_at_a_stable_place() {
    let p = plan(&builtin("humble"));
    let ws = &p.container.mounts[0];
    assert_eq!(ws.source, "/home/alice/robot_ws");
    assert_eq!(ws.target, "/workspaces/robot_ws");
    assert!(!ws.readonly);
    assert_eq!(p.container.network_mode, "host");
    assert!(p.container.name.starts_with("robodev-humble-robot_ws-"));
}

#[test]
fn gpu_nvidia_requests_all_gpus_and_glvnd() {
    let p = plan(&profile_from("version: 1\nextends: humble\ngpu: nvidia\n").unwrap());
    let r = &p.container.gpu_requests[0];
    assert_eq!((r.driver.as_str(), r.count), ("nvidia", -1));
    assert_eq!(r.capabilities, vec![vec!["gpu".to_string()]]);
    assert_eq!(
        p.container.env.get("NVIDIA_DRIVER_CAPABILITIES").unwrap(),
        "all"
    );
    assert!(p.image.dockerfile.contains("libegl1"));
}

#[test]
fn gpu_nvidia_uses_cdi_when_the_daemon_offers_it_and_the_runtime_on_jetson() {
    let profile = profile_from("version: 1\nextends: humble\ngpu: nvidia\n").unwrap();
    let mut host = laptop();
    host.cdi_nvidia = true;
    let daemon = EngineFacts {
        api_version: "1.47".into(),
        cdi_spec_dirs: vec!["/etc/cdi".into()],
        ..Default::default()
    };
    let p = plan_for(&profile, &host, &daemon).unwrap();
    assert_eq!(p.container.gpu_requests[0].driver, "cdi");
    assert_eq!(
        p.container.gpu_requests[0].device_ids,
        vec!["nvidia.com/gpu=all".to_string()]
    );

    let mut jetson = laptop();
    jetson.tegra = true;
    let daemon = EngineFacts {
        runtimes: vec!["nvidia".into(), "runc".into()],
        ..Default::default()
    };
    let p = plan_for(&profile, &jetson, &daemon).unwrap();
    assert_eq!(p.container.runtime.as_deref(), Some("nvidia"));
    assert!(p.container.gpu_requests.is_empty());
}

#[test]
fn gpu_auto_picks_and_says_why() {
    let profile = profile_from("version: 1\nextends: humble\ngpu: auto\n").unwrap();
    let p = plan(&profile);
    assert_eq!(p.gpu, GpuMode::Dri);
    // A decision shown to the user as such, not a detail recognised by its prefix.
    assert_eq!(p.container.notices[0].level, Level::Info);
    assert!(p.container.notices[0].text.starts_with("gpu: auto → dri"));
    let mut bare = laptop();
    bare.dri_nodes.clear();
    let p = plan_for(&profile, &bare, &EngineFacts::default()).unwrap();
    assert_eq!(p.gpu, GpuMode::None);
    assert!(p.container.notices[0].text.starts_with("gpu: auto → none"));
    let mut nv = laptop();
    nv.nvidia_nodes = vec!["/dev/nvidia0".into()];
    let daemon = EngineFacts {
        runtimes: vec!["nvidia".into()],
        ..Default::default()
    };
    assert_eq!(
        plan_for(&profile, &nv, &daemon).unwrap().gpu,
        GpuMode::Nvidia
    );
}

#[test]
fn gpu_dri_passes_render_nodes_and_groups() {
    let p = plan(&profile_from("version: 1\nextends: humble\ngpu: dri\n").unwrap());
    let hosts: Vec<_> = p
        .container
        .devices
        .iter()
        .map(|d| d.host.as_str())
        .collect();
    assert_eq!(hosts, vec!["/dev/dri/card0", "/dev/dri/renderD128"]);
    assert_eq!(
        p.container.group_add,
        vec!["44".to_string(), "105".to_string()]
    );
}

#[test]
fn hotplug_uses_the_hosts_majors_and_groups() {
    let p = plan(&profile_from("version: 1\nextends: humble\nhotplug: [serial, video]\n").unwrap());
    let rules = &p.container.device_cgroup_rules;
    // ttyACM's major comes from the host; ttyUSB is not loaded there, so its registered major.
    assert!(rules.contains(&"c 166:* rmw".to_string()), "{rules:?}");
    assert!(rules.contains(&"c 188:* rmw".to_string()), "{rules:?}");
    assert!(rules.contains(&"c 81:* rmw".to_string()), "{rules:?}");
    assert!(
        p.container
            .notices
            .iter()
            .any(|n| n.level == Level::Detail && n.text.contains("ttyUSB driver is not loaded"))
    );
    assert!(
        p.container
            .mounts
            .iter()
            .any(|m| m.source == "/dev" && m.target == "/dev")
    );
    assert!(
        p.container
            .mounts
            .iter()
            .any(|m| m.target == "/run/udev" && m.readonly)
    );
    assert!(p.container.group_add.contains(&"20".to_string()));
    assert!(!p.container.privileged);
}

#[test]
fn x11_gets_a_wildcard_cookie_and_no_xhost() {
    let p = plan(&profile_from("version: 1\nextends: humble\nx11: true\n").unwrap());
    let c = &p.container;
    assert_eq!(c.env.get("DISPLAY").unwrap(), ":1");
    assert_eq!(c.env.get("QT_X11_NO_MITSHM").unwrap(), "1");
    assert_eq!(c.env.get("XAUTHORITY").unwrap(), "/tmp/.robodev.xauth");
    let cookie = c.x11_cookie.as_ref().unwrap();
    assert!(cookie.host_file == format!("/home/alice/.cache/robodev/x11/{}.xauth", c.name));
    assert!(c.mounts.iter().any(|m| m.target == "/tmp/.X11-unix"));
    let mut headless = laptop();
    headless.display.display = None;
    // Planning succeeds without a display (build and devcontainer need none); creating the
    // container refuses it.
    let headless_plan = plan_for(&p.profile, &headless, &EngineFacts::default()).unwrap();
    let err = headless_plan.container.require_host().unwrap_err();
    assert!(err.to_string().contains("DISPLAY is not set"), "{err}");
}

#[test]
fn wayland_audio_ssh_and_git() {
    let p = plan(&profile_from("version: 1\nextends: jazzy\nwayland: true\naudio: true\nssh_agent: true\ngit_config: true\n").unwrap());
    let c = &p.container;
    assert_eq!(c.env.get("WAYLAND_DISPLAY").unwrap(), "wayland-0");
    assert_eq!(c.env.get("XDG_RUNTIME_DIR").unwrap(), "/run/user/1000");
    assert!(
        c.mounts
            .iter()
            .any(|m| m.target == "/run/user/1000/wayland-0")
    );
    assert_eq!(
        c.env.get("PULSE_SERVER").unwrap(),
        "unix:/run/user/1000/pulse/native"
    );
    assert_eq!(
        c.env.get("SSH_AUTH_SOCK").unwrap(),
        "/run/robodev/ssh-agent.sock"
    );
    assert!(
        c.mounts
            .iter()
            .any(|m| m.target == "/home/alice/.gitconfig" && m.readonly)
    );
}

#[test]
fn devices_resolve_missing_fail_optional_warn() {
    use robodev::facts::DeviceNode;
    let profile = profile_from(
        "version: 1\nextends: humble\ndevices:\n  - {path: /dev/serial/by-id/usb-FTDI-1, as: /dev/lidar}\n  - {path: /dev/ttyUSB3, optional: true}\n",
    )
    .unwrap();
    let mut host = laptop();
    host.devices.insert(
        "/dev/serial/by-id/usb-FTDI-1".into(),
        Some(DeviceNode {
            real_path: "/dev/ttyUSB0".into(),
            kind: 'c',
            major: 188,
            minor: 0,
            uid: 0,
            gid: 20,
            mode: 0o660,
        }),
    );
    host.devices.insert("/dev/ttyUSB3".into(), None);
    let p = plan_for(&profile, &host, &EngineFacts::default()).unwrap();
    assert_eq!(p.container.devices[0].host, "/dev/ttyUSB0");
    assert_eq!(p.container.devices[0].container, "/dev/lidar");
    // Regression: a `root:dialout 0660` node needs its group, with or without `hotplug:`.
    assert_eq!(p.container.group_add, vec!["20".to_string()]);
    let warnings: Vec<_> = p
        .container
        .notices
        .iter()
        .filter(|n| n.level == Level::Warning)
        .collect();
    assert!(
        warnings[0]
            .text
            .contains("optional device /dev/ttyUSB3 is not present")
    );

    let required = profile_from("version: 1\nextends: humble\ndevices: [/dev/ttyUSB0]\n").unwrap();
    let mut host = laptop();
    host.devices.insert("/dev/ttyUSB0".into(), None);
    host.device_alternatives
        .insert("/dev/ttyUSB0".into(), vec!["/dev/ttyACM0".into()]);
    let err = plan_for(&required, &host, &EngineFacts::default())
        .unwrap()
        .container
        .require_host()
        .unwrap_err();
    let text = err.report();
    assert!(text.contains("device /dev/ttyUSB0"), "{text}");
    assert!(text.contains("robodev.yaml:3:"), "{text}");
    assert!(text.contains("present instead: /dev/ttyACM0"), "{text}");
    assert_eq!(err.exit_code(), 1);
}

#[test]
fn profile_change_changes_the_container_config_hash() {
    let a = plan(&builtin("humble"));
    let b =
        plan(&profile_from("version: 1\nextends: humble\nname: humble\nenv: {A: b}\n").unwrap());
    assert_ne!(a.container.config_hash(), b.container.config_hash());
}

#[test]
fn zsh_users_get_the_ros_environment_too() {
    let df = plan(&profile_from("version: 1\nextends: jazzy\nshell: zsh\n").unwrap())
        .image
        .dockerfile;
    assert!(df.contains("/opt/ros/jazzy/setup.zsh"), "{df}");
    assert!(df.contains(">> /etc/zsh/zshrc"));
    assert!(
        df.contains("      zsh \\\n") || df.contains("      zsh\n") || df.contains(" zsh "),
        "zsh is installed: {df}"
    );
    let bash = plan(&builtin("jazzy")).image.dockerfile;
    assert!(!bash.contains("zshrc"));
}

#[test]
fn exec_and_shell_come_from_the_plan() {
    use robodev::plan::exec::{ENTRYPOINT, Terminal};
    let p = plan(&builtin("humble"));
    let piped = Terminal {
        stdin_tty: false,
        stdout_tty: false,
        env: vec!["TERM=xterm-256color".into()],
    };
    let on_terminal = Terminal {
        stdin_tty: true,
        stdout_tty: true,
        ..piped.clone()
    };
    let command = vec!["colcon".to_string(), "build".to_string()];
    insta::assert_json_snapshot!(
        "exec_humble",
        serde_json::json!({
            "plan": p.exec,
            "shell_on_terminal": p.exec.shell(&on_terminal),
            "command_piped": p.exec.command(command.clone(), &piped),
            "command_on_terminal": p.exec.command(command, &on_terminal),
        })
    );
    // The entrypoint `exec` runs through is the one the image installs.
    assert!(
        p.image
            .dockerfile
            .contains(&format!("ENTRYPOINT [\"{ENTRYPOINT}\"]"))
    );
    assert_eq!(p.exec.container, p.container.name);
    assert_eq!(p.exec.user, p.container.user);
}

#[test]
fn each_instruction_belongs_to_the_profile_section_that_made_it() {
    let profile = profile_from(
        "version: 1\nextends: humble\nname: sections\napt: [tree]\npip: [pyserial]\nenv: {A: b}\n",
    )
    .unwrap();
    let plan = plan(&profile);
    let sections: Vec<String> = robodev::plan::image::instruction_sections(&plan.image.dockerfile)
        .into_iter()
        .map(|(instruction, section)| {
            let word = instruction
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string();
            format!("{section}: {word}")
        })
        .collect();
    insta::assert_snapshot!("instruction_sections", sections.join("\n"));
}

/// The image's `robodev.workspace` label names a workspace under the home directory as `~/…`:
/// a pushed image carries no one's home path or user name to the teammates who pull it.
#[test]
fn the_images_workspace_label_carries_no_home_path() {
    let plan = plan_for(&builtin("humble"), &laptop(), &EngineFacts::default()).unwrap();
    assert_eq!(plan.image.labels["robodev.workspace"], "~/robot_ws");
    assert!(
        !plan
            .image
            .labels
            .values()
            .any(|v| v.contains("/home/alice")),
        "{:?}",
        plan.image.labels
    );
    // Outside the home directory: the path as it is.
    assert_eq!(
        robodev::plan::home_relative(
            std::path::Path::new("/srv/ws"),
            std::path::Path::new("/home/alice")
        ),
        "/srv/ws"
    );
    assert_eq!(
        robodev::plan::home_relative(std::path::Path::new("/srv/ws"), std::path::Path::new("/")),
        "/srv/ws"
    );
}

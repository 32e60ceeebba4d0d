//! Building blocks for hermetic tests: a made-up host, profiles from text, plans.

use robodev::facts::EngineFacts;
use robodev::facts::{Display, HostFacts, HostUser, Workspace};
use robodev::plan::{self, Plan, PlanInputs};
use robodev::profile::Profile;
use robodev::profile::ProfileSearch;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const TODAY: &str = "2026-11-23";

/// A developer laptop: alice (1000:1000), an Intel GPU, an X server on :1.
pub fn laptop() -> HostFacts {
    HostFacts {
        user: HostUser {
            name: "alice".into(),
            uid: 1000,
            gid: 1000,
            home: "/home/alice".into(),
        },
        groups: BTreeMap::from([
            ("dialout".into(), 20),
            ("plugdev".into(), 46),
            ("video".into(), 44),
            ("render".into(), 105),
            ("input".into(), 104),
        ]),
        char_majors: vec![
            (4, "tty".into()),
            (13, "input".into()),
            (81, "video4linux".into()),
            (166, "ttyACM".into()),
            (189, "usb_device".into()),
        ],
        display: Display {
            display: Some(":1".into()),
            x11_socket: Some("/tmp/.X11-unix/X1".into()),
            xauthority: Some("/home/alice/.Xauthority".into()),
            wayland_socket: Some("/run/user/1000/wayland-0".into()),
            pulse_socket: Some("/run/user/1000/pulse/native".into()),
            pulse_cookie: Some("/home/alice/.config/pulse/cookie".into()),
            ssh_agent_socket: Some("/run/user/1000/ssh-agent.socket".into()),
            gitconfig: Some("/home/alice/.gitconfig".into()),
        },
        dri_nodes: vec!["/dev/dri/card0".into(), "/dev/dri/renderD128".into()],
        nvidia_nodes: vec![],
        devices: BTreeMap::new(),
        device_alternatives: BTreeMap::new(),
        run_udev: true,
        tegra: false,
        cdi_nvidia: false,
        state_dir: "/home/alice/.cache/robodev".into(),
        machine: None,
    }
}

pub fn workspace() -> Workspace {
    Workspace::at(PathBuf::from("/home/alice/robot_ws"))
}

/// A profile directory in a temp dir: `files` are (relative path, text).
pub struct ProfileDir {
    pub dir: tempfile::TempDir,
}

impl ProfileDir {
    pub fn new(files: &[(&str, &str)]) -> ProfileDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        ProfileDir { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn search(&self) -> ProfileSearch {
        ProfileSearch {
            workspace_root: self.root().to_path_buf(),
            user_dir: Some(self.root().join("user")),
        }
    }

    pub fn load(&self, reference: Option<&str>) -> robodev::error::Result<Profile> {
        let loaded = self.search().load(reference)?;
        Profile::from_loaded(&loaded, TODAY)
    }
}

pub fn profile_from(yaml: &str) -> robodev::error::Result<Profile> {
    ProfileDir::new(&[("robodev.yaml", yaml)]).load(None)
}

pub fn builtin(name: &str) -> Profile {
    let dir = ProfileDir::new(&[]);
    dir.load(Some(name)).unwrap()
}

pub fn plan_for(
    profile: &Profile,
    host: &HostFacts,
    engine: &EngineFacts,
) -> robodev::error::Result<Plan> {
    plan::make(PlanInputs {
        profile,
        host,
        engine,
        workspace: &workspace(),
        templates: None,
        pins: Default::default(),
    })
}

pub fn plan(profile: &Profile) -> Plan {
    plan_for(profile, &laptop(), &EngineFacts::default()).unwrap()
}

/// The Dockerfile's instructions: continuation lines joined, comments and blank lines dropped.
pub fn instructions(dockerfile: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        if current.is_empty() && (line.trim().is_empty() || line.trim_start().starts_with('#')) {
            continue;
        }
        if let Some(body) = line.strip_suffix('\\') {
            current.push_str(body);
            current.push(' ');
        } else {
            current.push_str(line);
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The robodev binary in `dir`, with its own config and state dirs and no engine reachable.
pub fn robodev(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("robodev").unwrap();
    cmd.current_dir(dir)
        .env("ROBODEV_CONFIG_DIR", dir.join(".robodev-config"))
        .env("ROBODEV_STATE_DIR", dir.join(".robodev-state"))
        .env("NO_COLOR", "1")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    cmd
}

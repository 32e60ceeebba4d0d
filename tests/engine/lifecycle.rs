//! build → up → exec → stop/up → down, the user mapping, `run`, and the errors on the way.

use crate::support::*;
use std::os::unix::fs::MetadataExt;

#[test]
fn the_debian_environment_end_to_end() {
    if !engine() {
        return;
    }
    let mut ws = Ws::new(DEBIAN);
    ws.ok(&["build"]);
    let status: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    let tag = status["image"].as_str().unwrap().to_string();
    let created = stdout(&docker(&["image", "inspect", "-f", "{{.Created}}", &tag]));

    // A second build makes no build call: it says so, and the image is the very same.
    let out = ws.run(&["build"]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("up to date (no build needed)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        created,
        stdout(&docker(&["image", "inspect", "-f", "{{.Created}}", &tag]))
    );

    ws.ok(&["up", "-d"]);
    let name = ws.container();
    let id = ws.ok(&["exec", "--", "id", "-u"]);
    let me = std::fs::metadata("/proc/self").unwrap().uid();
    assert_eq!(id.trim(), me.to_string());
    assert!(
        ws.ok(&["exec", "--", "colcon", "--help"])
            .contains("usage: colcon")
    );
    assert!(
        ws.ok(&[
            "exec",
            "--",
            "sh",
            "-c",
            "command -v rosdep && dpkg -s catkin ros-base-dev | grep -c installed"
        ])
        .contains("rosdep")
    );

    // Exit codes and stdin pass through.
    assert_eq!(
        ws.run(&["exec", "--", "sh", "-c", "exit 7"]).status.code(),
        Some(7)
    );
    let mut child = ws
        .cmd(&["exec", "--", "cat"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"through the pipe\n").unwrap();
    drop(child.stdin.take());
    assert_eq!(
        stdout(&child.wait_with_output().unwrap()),
        "through the pipe\n"
    );

    // A file written in the workspace from inside is owned by the host user outside.
    ws.ok(&["exec", "--", "sh", "-c", "echo hi > made-inside.txt"]);
    let meta = std::fs::metadata(ws.path().join("made-inside.txt")).unwrap();
    assert_eq!(meta.uid(), me);

    // Changes elsewhere in the container survive stop/up.
    ws.ok(&["exec", "--", "sh", "-c", "echo kept > $HOME/state.txt"]);
    ws.ok(&["stop"]);
    assert_eq!(docker_inspect(&name)["State"]["Running"], false);
    ws.ok(&["up", "-d"]);
    assert_eq!(
        ws.ok(&["exec", "--", "sh", "-c", "cat $HOME/state.txt"])
            .trim(),
        "kept"
    );

    // Re-attaching to a running environment makes no new container.
    let before = docker_inspect(&name)["Id"].clone();
    ws.ok(&["up", "-d"]);
    assert_eq!(docker_inspect(&name)["Id"], before);

    // A changed profile is noticed; --recreate applies it.
    std::fs::write(
        ws.path().join("robodev.yaml"),
        format!("{DEBIAN}env: {{TEAM: robots}}\n"),
    )
    .unwrap();
    let out = ws.run(&["up", "-d"]);
    assert!(stderr(&out).contains("profile changed"), "{}", stderr(&out));
    ws.ok(&["up", "-d", "--recreate"]);
    assert_eq!(
        ws.ok(&["exec", "--", "sh", "-c", "echo $TEAM"]).trim(),
        "robots"
    );

    // down removes the container and leaves the workspace.
    ws.ok(&["down"]);
    assert!(!docker(&["inspect", &name]).status.success());
    assert!(ws.path().join("made-inside.txt").exists());
    assert!(ws.path().join("robodev.yaml").exists());
}

#[test]
fn run_is_a_throwaway_container() {
    if !engine() {
        return;
    }
    let ws = Ws::new(DEBIAN);
    // Only this workspace's containers: other tests create and remove theirs meanwhile.
    let label = format!("label=robodev.workspace={}", ws.path().display());
    let ours = || {
        stdout(&docker(&["ps", "-aq", "--filter", &label]))
            .lines()
            .count()
    };
    assert!(
        ws.ok(&["run", "--", "colcon", "--help"])
            .contains("usage: colcon")
    );
    assert_eq!(
        ws.run(&["run", "--", "sh", "-c", "exit 3"]).status.code(),
        Some(3)
    );
    assert_eq!(ours(), 0, "run left a container behind");
}

#[test]
fn a_foreign_container_with_our_name_is_not_touched() {
    if !engine() {
        return;
    }
    let mut ws = Ws::new(DEBIAN);
    let name = ws.container();
    assert!(
        docker(&[
            "create",
            "--name",
            &name,
            "--network",
            "host",
            "debian:bookworm",
            "true"
        ])
        .status
        .success()
    );
    let out = ws.run(&["up", "-d"]);
    assert_fails(&out, 1, &["not created by robodev"]);
    assert!(
        docker(&["inspect", &name]).status.success(),
        "the foreign container must survive"
    );
}

#[test]
fn a_base_image_that_cannot_be_pulled_is_explained() {
    if !engine() {
        return;
    }
    let ws = Ws::new("version: 1\nextends: debian\nbase_image: robodev-test/does-not-exist:1\n");
    let out = ws.run(&["build"]);
    assert_fails(
        &out,
        1,
        &["robodev-test/does-not-exist:1 is not available locally"],
    );
}

#[test]
fn a_failing_build_step_shows_its_last_lines() {
    if !engine() {
        return;
    }
    let ws = Ws::new("version: 1\nextends: debian\napt: [robodev-no-such-package]\n");
    let out = ws.run(&["build"]);
    assert_fails(
        &out,
        1,
        &[
            "failed at step",
            "Unable to locate package robodev-no-such-package",
        ],
    );
}

/// robodev as an ordinary user in the docker group: the container user is that user.
#[test]
fn an_ordinary_user_is_mapped() {
    if !engine() {
        return;
    }
    let Some(user) = ordinary_user() else { return };
    let ws = Ws::new(DEBIAN);
    give_to(user, ws.path());
    let robodev = |args: &[&str]| as_user(user, ws.path(), &bin(), args);
    assert!(robodev(&["up", "-d"]).status.success());
    let out = robodev(&[
        "exec",
        "--",
        "sh",
        "-c",
        "id -un; id -u; id -g; touch from-inside",
    ]);
    assert!(out.status.success());
    let lines: Vec<String> = stdout(&out).lines().map(String::from).collect();
    assert_eq!(lines[0], user);
    assert_eq!(lines[1], "4242");
    let meta = std::fs::metadata(ws.path().join("from-inside")).unwrap();
    assert_eq!(meta.uid(), 4242);
    assert!(
        robodev(&["exec", "--", "sudo", "-n", "true"])
            .status
            .success(),
        "passwordless sudo"
    );
    assert!(robodev(&["down"]).status.success());
}

#[test]
fn up_without_detach_runs_the_shell_on_piped_input() {
    if !engine() {
        return;
    }
    let mut ws = Ws::new(DEBIAN);
    let mut child = ws
        .cmd(&["up"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        b"echo in-the-shell $ROBODEV_PROFILE\nexit 4\n",
    )
    .unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stdout(&out).contains("in-the-shell debian"));
    ws.container();
}

#[test]
fn ls_logs_clean_and_down_volumes() {
    if !engine() {
        return;
    }
    let profile = |x: &str| {
        format!(
            "{DEBIAN}env: {{STAMP: \"{x}\"}}\nmounts: [{{source: robodev-e2e-cache, target: /cache, type: volume}}]\n"
        )
    };
    let mut ws = Ws::new(&profile("one"));
    ws.ok(&["up", "-d"]);
    let name = ws.container();
    let old: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    let old_tag = old["image"].as_str().unwrap().to_string();

    let listed: serde_json::Value = serde_json::from_str(&ws.ok(&["ls", "--json"])).unwrap();
    let me = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name.as_str())
        .expect("ls lists the environment");
    assert_eq!(me["profile"], "debian");
    assert_eq!(me["workspace"], ws.path().to_str().unwrap());
    assert!(ws.ok(&["ls"]).contains(&name));
    assert!(ws.run(&["logs", "--tail", "5"]).status.success());

    // The profile moves on: the old image is used by the container until it is recreated.
    std::fs::write(ws.path().join("robodev.yaml"), profile("two")).unwrap();
    ws.ok(&["build"]);
    assert!(
        !ws.ok(&["clean", "--dry-run"]).contains(&old_tag),
        "an image a container uses is kept"
    );
    ws.ok(&["up", "-d", "--recreate"]);
    let new: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    let dry = ws.ok(&["clean", "--dry-run"]);
    assert!(dry.contains(&old_tag), "{dry}");
    assert!(!dry.contains(new["image"].as_str().unwrap()), "{dry}");

    ws.ok(&["exec", "--", "sh", "-c", "echo cached > /cache/file"]);
    // The volume is this environment's own: its name starts with the container's.
    let volume = format!("{name}-robodev-e2e-cache");
    let out = ws.run(&["down"]);
    assert!(
        stderr(&out).contains(&format!("kept volumes {volume}")),
        "{}",
        stderr(&out)
    );
    assert!(docker(&["volume", "inspect", &volume]).status.success());
    ws.ok(&["up", "-d"]);
    assert_eq!(
        ws.ok(&["exec", "--", "cat", "/cache/file"]).trim(),
        "cached"
    );
    ws.ok(&["down", "--volumes"]);
    assert!(!docker(&["volume", "inspect", &volume]).status.success());
    let _ = docker(&["rmi", &old_tag]);
}

#[test]
fn no_permission_on_the_socket_points_at_the_docker_group() {
    if !engine() || !is_root() {
        return;
    }
    let user = "robodev-e2e-nodocker";
    let _ = std::process::Command::new("useradd")
        .args(["-m", user])
        .status();
    let _ = std::process::Command::new("chmod")
        .args(["660", "/var/run/docker.sock"])
        .status();
    let ws = Ws::new(DEBIAN);
    give_to(user, ws.path());
    let out = as_user(user, ws.path(), &bin(), &["build"]);
    assert_fails(&out, 1, &["permission denied", "usermod -aG docker"]);
}

#[test]
fn concurrent_ups_share_one_container() {
    if !engine() {
        return;
    }
    let mut ws = Ws::new(DEBIAN);
    ws.ok(&["build"]);
    let children: Vec<_> = (0..3)
        .map(|_| ws.cmd(&["-q", "up", "-d"]).spawn().unwrap())
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let name = ws.container();
    let same_name = stdout(&docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("name=^{name}$"),
        "-q",
    ]));
    assert_eq!(same_name.lines().count(), 1);
    assert_eq!(docker_inspect(&name)["State"]["Running"], true);
}

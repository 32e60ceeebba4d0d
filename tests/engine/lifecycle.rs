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
    // A user of this run's own, in no docker group: one that was already there may be in it.
    let nosocket = TestUser::new("rd-nosocket", &[]);
    let user = nosocket.name.as_str();
    assert!(
        !groups_of(user).iter().any(|g| g == "docker"),
        "{user} must not be in the docker group"
    );
    must("chmod", &["660", "/var/run/docker.sock"]);
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

/// Item 13: Ctrl-C (SIGINT) on `exec` as an ordinary user ends the command inside. Its
/// processes are found by their environment, which only their own user can read (root in a
/// container has no CAP_SYS_PTRACE): searched for as root, nothing was found and `sleep` lived
/// on.
#[test]
fn ctrl_c_on_exec_as_an_ordinary_user_ends_the_command_inside() {
    if !engine() {
        return;
    }
    let mut ws = Ws::new(DEBIAN);
    // As root: the tests' ordinary user; otherwise this run is an ordinary user's already.
    let user = ordinary_user();
    if let Some(user) = user {
        give_to(user, ws.path());
    }
    // `program args…` in the workspace, as that user.
    let dir = ws.path().to_path_buf();
    let as_the_user = |argv: &[&str]| -> std::process::Command {
        let mut c = match user {
            Some(user) => {
                let mut c = std::process::Command::new("runuser");
                c.args(["-u", user, "--"])
                    .args(argv)
                    .env("HOME", format!("/home/{user}"))
                    .env("USER", user);
                c
            }
            None => {
                let mut c = std::process::Command::new(argv[0]);
                c.args(&argv[1..]);
                c
            }
        };
        c.current_dir(&dir)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null());
        c
    };
    let robodev = bin().display().to_string();
    let out = as_the_user(&[&robodev, "up", "-d"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = as_the_user(&[&robodev, "status", "--json"])
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let name = status["container"].as_str().unwrap().to_string();
    ws.containers.push(name.clone());
    let processes = || stdout(&docker(&["top", &name, "-o", "pid,user,args"]));

    // `timeout -s INT` as the user sends robodev SIGINT, as Ctrl-C does (runuser itself would
    // pass on SIGTERM).
    let child = as_the_user(&[
        "timeout",
        "--preserve-status",
        "-s",
        "INT",
        "6",
        &robodev,
        "exec",
        "--",
        "sleep",
        "77",
    ])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let running = |want: bool| {
        let mut seen = String::new();
        for _ in 0..50 {
            seen = processes();
            if seen.contains("sleep 77") == want {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        seen
    };
    let seen = running(true);
    assert!(seen.contains("sleep 77"), "the command never ran: {seen}");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let left = running(false);
    assert!(
        !left.contains("sleep 77"),
        "sleep 77 still runs 5 s after robodev passed SIGINT on:\n{left}"
    );
    let out = as_the_user(&[&robodev, "down"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Item 14: `up` racing `down`. Whatever the order, `up` says what the engine says: the
/// environment runs (it made it again if `down` removed it meanwhile), or another robodev
/// removed it; never the engine's raw "marked for removal".
#[test]
fn up_racing_down_answers_as_the_engine_does() {
    if !engine() {
        return;
    }
    let mut ws = Ws::new(DEBIAN);
    ws.ok(&["up", "-d"]);
    let name = ws.container();
    let spawn = |args: &[&str]| {
        ws.cmd(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Each order, `down` or `up` first by 0 to 100 ms.
    for round in 0..10u64 {
        let lead = std::time::Duration::from_millis(25 * (round / 2));
        let (up, down) = if round % 2 == 0 {
            let up = spawn(&["up", "-d"]);
            std::thread::sleep(lead);
            (up, spawn(&["down"]))
        } else {
            let down = spawn(&["down"]);
            std::thread::sleep(lead);
            (spawn(&["up", "-d"]), down)
        };
        let (up, down) = (
            up.wait_with_output().unwrap(),
            down.wait_with_output().unwrap(),
        );
        let said = stderr(&up);
        eprintln!(
            "round {round}: up -d said\n{said}down said\n{}",
            stderr(&down)
        );
        assert!(down.status.success(), "{}", stderr(&down));
        assert!(!said.contains("marked for removal"), "{said}");
        match up.status.code() {
            Some(0) => assert!(said.contains("is running"), "{said}"),
            Some(1) => assert!(said.contains("another robodev removed it"), "{said}"),
            other => panic!("up -d exited {other:?}: {said}"),
        }
        ws.ok(&["up", "-d"]);
        assert_eq!(docker_inspect(&name)["State"]["Running"], true);
    }
    ws.ok(&["down"]);
}

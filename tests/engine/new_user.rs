//! A new user's first day on the real engine (issue "What a new user hit"): the regressions
//! that need a daemon, each named after what it pins. The hermetic halves are in
//! tests/hermetic/new_user.rs.

use crate::support::*;
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};

const CPP_PACKAGE: &[(&str, &str)] = &[
    (
        "src/hello_cpp/package.xml",
        r#"<?xml version="1.0"?>
<package format="3">
  <name>hello_cpp</name>
  <version>0.1.0</version>
  <description>A C++ executable</description>
  <maintainer email="dev@example.com">dev</maintainer>
  <license>MIT</license>
  <export><build_type>cmake</build_type></export>
</package>
"#,
    ),
    (
        "src/hello_cpp/CMakeLists.txt",
        "cmake_minimum_required(VERSION 3.10)\nproject(hello_cpp CXX)\nadd_executable(hello_cpp main.cpp)\ninstall(TARGETS hello_cpp DESTINATION bin)\n",
    ),
    (
        "src/hello_cpp/main.cpp",
        "#include <iostream>\nint main() { std::cout << \"hello from c++\" << std::endl; }\n",
    ),
];

const PY_PACKAGE: &[(&str, &str)] = &[
    (
        "src/hello_py/package.xml",
        r#"<?xml version="1.0"?>
<package format="3">
  <name>hello_py</name>
  <version>0.1.0</version>
  <description>A Python executable</description>
  <maintainer email="dev@example.com">dev</maintainer>
  <license>MIT</license>
  <export><build_type>ament_python</build_type></export>
</package>
"#,
    ),
    (
        "src/hello_py/setup.py",
        "from setuptools import setup\nsetup(\n    name='hello_py',\n    version='0.1.0',\n    packages=['hello_py'],\n    data_files=[('share/hello_py', ['package.xml'])],\n    entry_points={'console_scripts': ['hello_py = hello_py.main:main']},\n)\n",
    ),
    ("src/hello_py/hello_py/__init__.py", ""),
    (
        "src/hello_py/hello_py/main.py",
        "def main():\n    print('hello from python')\n",
    ),
];

/// Items 1 and 2: on the debian profile, as an ordinary user, `robodev exec -- colcon build`
/// builds a C++ and a Python package and both results run (the first suite never noticed that
/// colcon found 0 packages and exited 0).
#[test]
fn a_two_package_colcon_workspace_builds_and_runs_as_an_ordinary_user() {
    if !engine() {
        return;
    }
    let Some(user) = ordinary_user() else { return };
    let ws = Ws::new(DEBIAN);
    write_files(ws.path(), CPP_PACKAGE);
    write_files(ws.path(), PY_PACKAGE);
    give_to(user, ws.path());
    let robodev = |args: &[&str]| as_user(user, ws.path(), &bin(), args);
    assert!(robodev(&["up", "-d"]).status.success());
    let listed = robodev(&["exec", "--", "colcon", "list", "--names-only"]);
    assert!(listed.status.success());
    assert_eq!(
        stdout(&listed).lines().collect::<Vec<_>>(),
        ["hello_cpp", "hello_py"]
    );
    let built = robodev(&["exec", "--", "colcon", "build"]);
    assert!(built.status.success());
    assert!(
        stderr(&built).contains("2 packages finished")
            || stdout(&built).contains("2 packages finished"),
        "colcon built both packages"
    );
    // The entrypoint sources install/setup.bash: both executables are on the PATH.
    let cpp = robodev(&["exec", "--", "hello_cpp"]);
    assert_eq!(stdout(&cpp).trim(), "hello from c++");
    let py = robodev(&["exec", "--", "hello_py"]);
    assert_eq!(stdout(&py).trim(), "hello from python");
    // The results belong to the user outside.
    let meta = std::fs::metadata(ws.path().join("install")).unwrap();
    assert_eq!(meta.uid(), 4242);
    // Item 16: exec starts in the matching subdirectory of the workspace.
    let inside = as_user(
        user,
        &ws.path().join("src/hello_py"),
        &bin(),
        &["exec", "--", "pwd"],
    );
    assert!(
        stdout(&inside).trim().ends_with("/src/hello_py"),
        "{}",
        stdout(&inside)
    );
    assert!(robodev(&["down"]).status.success());
}

fn layers(tag: &str) -> Vec<String> {
    let out = docker(&["image", "inspect", "-f", "{{json .RootFS.Layers}}", tag]);
    assert!(out.status.success(), "inspect {tag}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn image_of(ws: &Ws) -> String {
    let status: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    status["image"].as_str().unwrap().to_string()
}

/// Item 12: adding one apt package rebuilds only from its layer up; everything below (base,
/// tooling, ROS, the built-in profile's packages) comes from the build cache.
#[test]
fn adding_an_apt_package_keeps_the_layers_below() {
    if !engine() {
        return;
    }
    // An image of its own (a stamp in the environment, which adds no layer): never one another
    // builder made earlier under the same tag, whose layers this builder's cache does not hold.
    let stamp = format!("{:?}", std::time::SystemTime::now());
    let profile = format!("{DEBIAN}env: {{LAYERS_TEST: \"{stamp}\"}}\n");
    let ws = Ws::new(&profile);
    ws.ok(&["build"]);
    let before = layers(&image_of(&ws));
    std::fs::write(
        ws.path().join("robodev.yaml"),
        format!("{profile}apt: [tree]\n"),
    )
    .unwrap();
    let out = ws.run(&["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stderr(&out);
    let after = layers(&image_of(&ws));
    // base, robodev's tooling, ROS, the debian profile's packages: their steps come from the
    // cache; `tree`'s step is new (run here, or from this engine's cache of an earlier run). (Not their layer ids: when another
    // build ran --no-cache meanwhile, the cache holds two equal results and BuildKit may take
    // either.)
    for step in ["[2/8]", "[3/8]", "[4/8]"] {
        assert!(
            said.lines()
                .any(|l| l.trim_start().starts_with(step) && l.trim_end().ends_with("CACHED")),
            "{step} was built again:\n{said}"
        );
    }
    assert_eq!(after.len(), before.len() + 1, "one new layer for `tree`");
    assert_ne!(before.last(), after.last());
}

/// Items 3 and 4: a committed profile with a display and a device builds on a machine without
/// them; `up` refuses before building; `run --no-hardware` runs; piped stdin reaches `run`.
#[test]
fn a_ci_runner_builds_and_runs_a_hardware_profile() {
    if !engine() {
        return;
    }
    let stamp = format!("{:?}", std::time::SystemTime::now());
    let ws = Ws::new(&format!(
        "{DEBIAN}x11: true\ndevices: [/dev/ttyUSB63]\nenv: {{STAMP: \"{stamp}\"}}\n"
    ));
    // `up` says what is missing before any build: the image does not exist afterwards.
    let out = ws
        .cmd(&["up", "-d"])
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    assert_fails(&out, 1, &["device /dev/ttyUSB63"]);
    let tag = image_of(&ws);
    assert!(
        !docker(&["image", "inspect", &tag]).status.success(),
        "no build before the host check"
    );

    let out = ws.cmd(&["build"]).env_remove("DISPLAY").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = ws
        .cmd(&["run", "--", "true"])
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    assert_fails(&out, 1, &["--no-hardware"]);

    let mut child = ws
        .cmd(&["run", "--no-hardware", "--", "bash"])
        .env_remove("DISPLAY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        b"echo from the script; echo $STAMP; exit 5\n",
    )
    .unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(stdout(&out), format!("from the script\n{stamp}\n"));
    // The environment's own image, the one `build` made: no build call.
    let said = stderr(&out);
    assert!(!said.contains("✓ built") && !said.contains("[1/"), "{said}");
    let _ = docker(&["rmi", &tag]);
}

/// Item 5: SIGTERM/SIGINT to `exec` or `run` without a terminal (a cancelled CI job) reach the
/// process inside; robodev exits 128+signal; `run` leaves no container.
#[test]
fn signals_reach_the_process_inside_and_set_the_exit_code() {
    if !engine() {
        return;
    }
    let mut ws = Ws::new(DEBIAN);
    ws.ok(&["up", "-d"]);
    let name = ws.container();
    let label = format!("label=robodev.workspace={}", ws.path().display());
    for (args, signal, code) in [
        (vec!["exec", "--", "sleep", "311"], "TERM", 143),
        (vec!["run", "--", "sleep", "312"], "INT", 130),
        (vec!["run", "--", "sleep", "313"], "HUP", 129),
    ] {
        let child = ws
            .cmd(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_secs(3));
        Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?} after SIG{signal}");
        let sleeper = args[3];
        let top = stdout(&docker(&["top", &name]));
        assert!(!top.contains(&format!("sleep {sleeper}")), "{top}");
        let left = stdout(&docker(&[
            "ps",
            "-aq",
            "--filter",
            &label,
            "--filter",
            "label=robodev.run=true",
        ]));
        assert!(left.trim().is_empty(), "run left {left}");
    }
}

/// Items 10 and 11: a `root:dialout 0660` device without `hotplug:` opens for the user; a named
/// volume is the user's and this environment's own.
#[test]
fn devices_and_volumes_are_usable_by_an_ordinary_user() {
    if !engine() || !is_root() {
        return;
    }
    let Some(user) = ordinary_user() else { return };
    let node = "/tmp/ttyUSB41";
    let _ = std::fs::remove_file(node);
    assert!(
        Command::new("mknod")
            .args([node, "c", "188", "41"])
            .status()
            .unwrap()
            .success()
    );
    Command::new("chgrp")
        .args(["dialout", node])
        .status()
        .unwrap();
    Command::new("chmod").args(["660", node]).status().unwrap();
    let ws = Ws::new(&format!(
        "{DEBIAN}devices: [{node}]\nmounts: [{{source: cache, target: /cache, type: volume}}]\n"
    ));
    give_to(user, ws.path());
    let robodev = |args: &[&str]| as_user(user, ws.path(), &bin(), args);
    assert!(robodev(&["up", "-d"]).status.success());
    let out = robodev(&[
        "exec",
        "--",
        "sh",
        "-c",
        &format!("exec 3<>{node} && echo opened"),
    ]);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!said.contains("Permission denied"), "{said}");
    let doctor = robodev(&["doctor"]);
    assert!(
        stdout(&doctor).contains("usable by the container user"),
        "{}",
        stdout(&doctor)
    );

    let out = robodev(&[
        "exec",
        "--",
        "sh",
        "-c",
        "touch /cache/x && stat -c %u /cache",
    ]);
    assert!(out.status.success(), "the volume is writable");
    assert_eq!(stdout(&out).trim(), "4242");
    let volumes = stdout(&docker(&[
        "volume",
        "ls",
        "-q",
        "--filter",
        "label=robodev.managed=true",
    ]));
    let ours: Vec<&str> = volumes.lines().filter(|v| v.ends_with("-cache")).collect();
    let container = stdout(&docker(&[
        "ps",
        "-a",
        "--format",
        "{{.Names}}",
        "--filter",
        &format!("label=robodev.workspace={}", ws.path().display()),
    ]));
    let volume = format!("{}-cache", container.trim());
    assert!(ours.contains(&volume.as_str()), "{volumes}");
    assert!(robodev(&["down", "--volumes"]).status.success());
    assert!(!docker(&["volume", "inspect", &volume]).status.success());
}

/// Items 13, 14 and 15: a stale environment is named on exec; doctor finds a missing mount
/// source; a missing device lists what is there.
#[test]
fn stale_environments_missing_sources_and_devices_are_explained() {
    if !engine() || !is_root() {
        return;
    }
    let mut ws = Ws::new(DEBIAN);
    ws.ok(&["up", "-d"]);
    ws.container();
    std::fs::write(
        ws.path().join("robodev.yaml"),
        format!("{DEBIAN}env: {{MOVED_ON: \"1\"}}\n"),
    )
    .unwrap();
    let out = ws.run(&["exec", "--", "true"]);
    assert!(out.status.success());
    assert!(stderr(&out).contains("older profile"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("robodev up --recreate"),
        "{}",
        stderr(&out)
    );

    std::fs::write(
        ws.path().join("robodev.yaml"),
        format!("{DEBIAN}mounts: [\"./not-there:/data\"]\n"),
    )
    .unwrap();
    let doctor = ws.run(&["doctor"]);
    assert_eq!(doctor.status.code(), Some(1));
    assert!(
        stdout(&doctor).contains("mount source"),
        "{}",
        stdout(&doctor)
    );
    let out = ws.run(&["up", "-d", "--recreate"]);
    assert_fails(&out, 1, &["not-there", "does not exist"]);

    let present = "/dev/ttyACM61";
    let _ = std::fs::remove_file(present);
    assert!(
        Command::new("mknod")
            .args([present, "c", "166", "61"])
            .status()
            .unwrap()
            .success()
    );
    std::fs::write(
        ws.path().join("robodev.yaml"),
        format!("{DEBIAN}devices: [/dev/ttyUSB61]\n"),
    )
    .unwrap();
    let out = ws.run(&["up", "-d", "--recreate"]);
    let _ = std::fs::remove_file(present);
    assert_fails(&out, 1, &["/dev/ttyUSB61", "present instead", present]);
}

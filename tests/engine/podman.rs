//! The lifecycle against Podman's Docker-compatible service (Debian's podman, rootful, on a
//! socket of its own): build through the classic build endpoint, up, exec, stop/up, status,
//! ls, down; doctor names Podman.

use crate::support::*;
use std::process::{Command, Stdio};
use std::time::Duration;

struct PodmanService {
    socket: std::path::PathBuf,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl PodmanService {
    fn start() -> PodmanService {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("podman.sock");
        let child = Command::new("podman")
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("podman (the README's test command installs it)");
        for _ in 0..100 {
            if socket.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        PodmanService {
            socket,
            child,
            _dir: dir,
        }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }
}

impl Drop for PodmanService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_lifecycle_passes_against_podman() {
    if !engine() || !is_root() {
        return;
    }
    let podman = PodmanService::start();
    // The same base image as the Docker engine's, in Podman's store.
    let has_base = Command::new("podman")
        .args(["image", "exists", "debian:bookworm"])
        .status()
        .unwrap()
        .success();
    if !has_base {
        let mut save = Command::new("docker")
            .args(["save", "debian:bookworm"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let ok = Command::new("podman")
            .args(["load", "-q"])
            .stdin(save.stdout.take().unwrap())
            .status()
            .unwrap()
            .success();
        assert!(save.wait().unwrap().success() && ok);
    }
    let ws = Ws::new("version: 1\nname: onpodman\nextends: debian\n");
    let run = |args: &[&str]| {
        let out = ws
            .cmd(args)
            .env("DOCKER_HOST", podman.host())
            .output()
            .unwrap();
        eprintln!("$ robodev {args:?}\n{}{}", stdout(&out), stderr(&out));
        out
    };
    let out = run(&["doctor"]);
    assert!(stdout(&out).contains("Podman 4"), "{}", stdout(&out));

    let out = run(&["up", "-d"]);
    assert!(out.status.success());
    let out = run(&[
        "exec",
        "--",
        "sh",
        "-c",
        "id -u; touch \"$ROBODEV_WORKSPACE/from-podman\" && echo wrote",
    ]);
    let uid = stdout(&Command::new("id").arg("-u").output().unwrap());
    assert_eq!(
        stdout(&out).lines().collect::<Vec<_>>(),
        [uid.trim(), "wrote"]
    );
    assert!(ws.path().join("from-podman").exists());
    // The labels robodev reads back work on Podman too.
    let listed = stdout(&run(&["ls"]));
    assert!(listed.contains("robodev-onpodman"), "{listed}");
    assert!(run(&["stop"]).status.success());
    assert!(
        stdout(&run(&["status"])).contains("exited")
            || stdout(&run(&["status"])).contains("stopped")
    );
    assert!(run(&["up", "-d"]).status.success());
    assert!(stdout(&run(&["status"])).contains("running"));
    let out = run(&["exec", "--", "true"]);
    assert!(out.status.success());
    assert!(run(&["down"]).status.success());
    assert!(!stdout(&run(&["ls"])).contains("robodev-onpodman"));
    assert!(
        ws.path().join("from-podman").exists(),
        "down never touches the workspace"
    );
    // robodev's image is Podman's now: a second up makes no build.
    let out = run(&["build"]);
    assert!(stderr(&out).contains("up to date"), "{}", stderr(&out));
}

//! The lifecycle against Podman's Docker-compatible service (Debian's podman, rootful, on a
//! socket of its own): build through the classic build endpoint, up, exec, stop/up, status,
//! ls, down; doctor names Podman. And a user's own rootless Podman: keep-id, files the user's.

use crate::support::*;
use std::process::{Command, Stdio};
use std::time::Duration;

struct PodmanService {
    socket: std::path::PathBuf,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

/// `podman` (a command, perhaps run as another user) serving the Docker API on `socket`,
/// once the socket is there.
fn serve(mut podman: Command, socket: &std::path::Path) -> std::process::Child {
    let child = podman
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
    child
}

impl PodmanService {
    fn start() -> PodmanService {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("podman.sock");
        let child = serve(Command::new("podman"), &socket);
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

/// A user's own Podman service, rootless (user namespaces from /etc/subuid, storage on
/// fuse-overlayfs in a directory of the test's): robodev sees that it is rootless and maps the
/// user with keep-id, so the container user is the user's uid and what it writes in the
/// workspace is the user's here.
#[test]
fn the_lifecycle_passes_against_a_users_rootless_podman() {
    if !engine() || !is_root() {
        return;
    }
    let Some(user) = ordinary_user() else {
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("robodev-rootless-")
        .tempdir_in("/tmp")
        .unwrap();
    let d = dir.path();
    let conf = d.join("storage.conf");
    std::fs::write(
        &conf,
        format!(
            "[storage]\ndriver = \"overlay\"\nrunroot = \"{d}/run\"\ngraphroot = \"{d}/storage\"\n\
             [storage.options.overlay]\nmount_program = \"/usr/bin/fuse-overlayfs\"\n",
            d = d.display()
        ),
    )
    .unwrap();
    let xdg = d.join("xdg");
    std::fs::create_dir_all(&xdg).unwrap();
    assert!(
        Command::new("docker")
            .args(["save", "-o"])
            .arg(d.join("base.tar"))
            .arg("debian:bookworm")
            .status()
            .unwrap()
            .success()
    );
    give_to(user, d);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&xdg, std::fs::Permissions::from_mode(0o700)).unwrap();
    let socket = d.join("podman.sock");
    let env = [
        ("HOME", format!("/home/{user}")),
        ("USER", user.to_string()),
        ("XDG_RUNTIME_DIR", xdg.display().to_string()),
        ("CONTAINERS_STORAGE_CONF", conf.display().to_string()),
        ("DOCKER_HOST", format!("unix://{}", socket.display())),
        ("NO_COLOR", "1".to_string()),
    ];
    // As the user, without a session in between (setpriv execs): killing it stops Podman.
    let as_the_user = |program: &str| {
        let mut c = Command::new("setpriv");
        c.args(["--reuid", user, "--regid", user, "--init-groups", program])
            .envs(env.iter().map(|(k, v)| (k, v.as_str())))
            .current_dir(d);
        c
    };
    let loaded = as_the_user("podman")
        .args(["load", "-q", "-i"])
        .arg(d.join("base.tar"))
        .output()
        .unwrap();
    assert!(loaded.status.success(), "{}", stderr(&loaded));
    let _service = Background(serve(as_the_user("podman"), &socket));

    let ws = Ws::new("version: 1\nname: rootless\nextends: debian\n");
    give_to(user, ws.path());
    let robodev = |args: &[&str]| {
        let out = as_the_user(bin().to_str().unwrap())
            .args(args)
            .current_dir(ws.path())
            .output()
            .unwrap();
        eprintln!("$ robodev {args:?}\n{}{}", stdout(&out), stderr(&out));
        out
    };
    let out = robodev(&["doctor"]);
    assert!(
        stdout(&out).contains("Podman 4") && stdout(&out).contains("rootless"),
        "{}",
        stdout(&out)
    );
    assert!(robodev(&["up", "-d"]).status.success());
    let out = robodev(&[
        "exec",
        "--",
        "sh",
        "-c",
        "id -u; touch \"$ROBODEV_WORKSPACE/from-rootless\" && echo wrote",
    ]);
    assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), ["4242", "wrote"]);
    let made = std::fs::metadata(ws.path().join("from-rootless")).unwrap();
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&made),
        4242,
        "keep-id: the file is the user's here, not a subordinate uid's"
    );
    assert!(robodev(&["stop"]).status.success());
    assert!(robodev(&["up", "-d"]).status.success());
    assert!(robodev(&["exec", "--", "true"]).status.success());
    assert!(stdout(&robodev(&["ls"])).contains("robodev-rootless"));
    assert!(robodev(&["down"]).status.success());
    assert!(!stdout(&robodev(&["ls"])).contains("robodev-rootless"));
    assert!(ws.path().join("from-rootless").exists());
}

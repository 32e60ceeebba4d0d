//! Engines beyond the local socket, for real: a second `dockerd` behind TLS (certificates made
//! with openssl here), and one "on another machine" reached through Debian's sshd on
//! 127.0.0.1 as an ordinary user `robot`. Each failure to connect errors in seconds with its
//! own message.

use crate::support::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (the README's test command installs it)");
    assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate signed by it, in `dir`
/// (`ca.pem`, `server-cert.pem`, `server-key.pem`, `cert.pem`, `key.pem`), the layout
/// DOCKER_CERT_PATH expects on the client side.
fn certificates(dir: &Path, name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let subject = format!("/CN={name}");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            &subject,
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for (who, ext) in [("server", "server.ext"), ("client", "client.ext")] {
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{who}-key.pem"),
                "-out",
                &format!("{who}.csr"),
                "-subj",
                &format!("/CN={who}"),
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{who}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca-key.pem",
                "-CAcreateserial",
                "-out",
                &format!("{who}-cert.pem"),
                "-days",
                "2",
                "-extfile",
                ext,
            ],
        );
    }
    std::fs::copy(dir.join("client-cert.pem"), dir.join("cert.pem")).unwrap();
    std::fs::copy(dir.join("client-key.pem"), dir.join("key.pem")).unwrap();
}

#[test]
fn a_tls_engine_runs_the_lifecycle_and_a_wrong_ca_is_named() {
    if !engine() || !is_root() {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let good = certs.path().join("good");
    certificates(&good, "robodev-test-ca");
    let port = free_port();
    let url = format!("tcp://127.0.0.1:{port}");
    let d = |f: &str| good.join(f).display().to_string();
    let tls = PrivateEngine::start_with(vec![
        "-H".into(),
        url.clone(),
        "--tlsverify".into(),
        format!("--tlscacert={}", d("ca.pem")),
        format!("--tlscert={}", d("server-cert.pem")),
        format!("--tlskey={}", d("server-key.pem")),
    ]);

    // The same plan as here (a TLS engine on loopback is this machine): the image built on the
    // main engine is copied over, so nothing is built twice.
    let mut ws = Ws::new(DEBIAN);
    ws.ok(&["build"]);
    let status: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    tls.load(status["image"].as_str().unwrap());

    let over_tls = |ws: &Ws, args: &[&str], certs: &Path| {
        let out = ws
            .cmd(&[&["--host", url.as_str()][..], args].concat())
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", certs)
            .output()
            .unwrap();
        eprintln!(
            "$ robodev --host {url} {args:?}\n{}{}",
            stdout(&out),
            stderr(&out)
        );
        out
    };
    let out = over_tls(&ws, &["up", "-d"], &good);
    assert!(out.status.success());
    assert!(
        !stderr(&out).contains("building"),
        "nothing is built: {}",
        stderr(&out)
    );
    let out = over_tls(
        &ws,
        &[
            "exec",
            "--",
            "sh",
            "-c",
            "id -u; touch \"$ROBODEV_WORKSPACE/over-tls\"",
        ],
        &good,
    );
    assert!(out.status.success());
    assert_eq!(
        stdout(&out).trim(),
        stdout(&Command::new("id").arg("-u").output().unwrap()).trim()
    );
    assert!(ws.path().join("over-tls").exists());
    let out = over_tls(&ws, &["status"], &good);
    assert!(
        stdout(&out).contains(&format!("engine     {url} (--host)")),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("running") || stdout(&out).contains("Up"),
        "{}",
        stdout(&out)
    );
    // The container is on the TLS engine, not the main one.
    let name = ws.container();
    assert!(tls.docker(&["inspect", &name]).status.success());
    assert!(!docker(&["inspect", &name]).status.success());
    assert!(over_tls(&ws, &["down"], &good).status.success());
    assert!(!tls.docker(&["inspect", &name]).status.success());
    assert!(
        ws.path().join("over-tls").exists(),
        "down never touches the workspace"
    );

    // Another CA: refused in seconds, and said to be about the certificate.
    let wrong = certs.path().join("wrong");
    certificates(&wrong, "some-other-ca");
    let started = Instant::now();
    let out = over_tls(&ws, &["ls"], &wrong);
    assert_fails(&out, 1, &["certificate"]);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // No certificates where DOCKER_CERT_PATH points: named.
    let out = over_tls(&ws, &["ls"], &certs.path().join("none"));
    assert_fails(&out, 1, &["DOCKER_CERT_PATH", "ca.pem"]);
}

#[test]
fn dead_ports_fail_in_seconds_with_their_own_message() {
    let ws = Ws::new(DEBIAN);
    for (host, needle) in [
        (format!("tcp://127.0.0.1:{}", free_port()), "refused"),
        (
            format!("ssh://robot@127.0.0.1:{}", free_port()),
            "unreachable",
        ),
    ] {
        let started = Instant::now();
        let out = ws.run(&["--host", &host, "ls"]);
        assert_fails(&out, 1, &[needle]);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{host}: {:?}",
            started.elapsed()
        );
    }
    let out = ws.run(&["--host", "ftp://x", "ls"]);
    assert_fails(&out, 2, &["ftp://x", "ssh://USER@HOST"]);
}

/// A user of this run's own in the docker group (the robot's engine socket is the docker
/// group's), who can log in over ssh with a key.
fn add_user(prefix: &str) -> TestUser {
    let user = TestUser::new(prefix, &["docker"]);
    // No password, but not locked: sshd (without PAM) refuses locked accounts even with a key.
    must("usermod", &["-p", "*", &user.name]);
    user
}

/// The profile every phase of the ssh test starts from (one image on the robot for all): an X
/// client to show that windows reach the robot's X server.
const ROBOT_PROFILE: &str = "version: 1\nname: onrobot\nextends: debian\nsecurity: {sudo: false}\n\
                             dependencies: {ccache: false}\napt: [x11-utils]\n";

/// As a developer would from a laptop: `robodev --host ssh://robot@…` against a second engine
/// that only `robot` reaches, on "another machine" (sshd on 127.0.0.1).
#[test]
fn an_engine_over_ssh_builds_runs_as_the_remote_user_and_names_each_failure() {
    if !engine() || !is_root() {
        return;
    }
    // The developer's ~/.ssh is rewritten below: a user of this run's own, so that another run
    // of this test cannot swap the key under this one (ssh would refuse it).
    let laptop_user = TestUser::new("rd-developer", &["docker"]);
    let developer = laptop_user.name.as_str();
    // Users of this run's own: a `robot` that was already there may lack the docker group.
    let robot = add_user("rd-robot");
    let nodocker = add_user("rd-robot-nodocker");
    // A serial port only the robot has: a node on a tmpfs in its engine's mount namespace,
    // mounted over a directory that is empty here.
    let robot_dev = Path::new("/tmp").join(format!("robodev-robot-dev-{}", std::process::id()));
    std::fs::create_dir_all(&robot_dev).unwrap();

    let lidar = format!("{}/ttyUSB9", robot_dev.display());
    // And a desktop of its own: an X server on a display nothing holds here (its abstract
    // socket and lock are this machine's too), whose socket only the robot sees. Its engine
    // does not start unless that server did.
    std::fs::create_dir_all("/tmp/.X11-unix").unwrap();
    let xvfb_pid = robot_dev.with_extension("xvfb.pid");
    let n = free_display();
    let _machine = RobotMachine {
        dir: robot_dev.clone(),
        display: n,
    };
    let remote = PrivateEngine::start_on_machine(&format!(
        "mount -t tmpfs tmpfs {dir}\nmknod {lidar} c 188 9\nchgrp dialout {lidar}\nchmod 660 {lidar}\n\
         mount -t tmpfs -o mode=1777 tmpfs /tmp/.X11-unix\n\
         Xvfb :{n} -nolisten tcp >{log} 2>&1 &\necho $! > {pid}\n\
         for i in $(seq 50); do [ -S /tmp/.X11-unix/X{n} ] && break; sleep 0.1; done\n\
         [ -S /tmp/.X11-unix/X{n} ] && [ \"$(cat /tmp/.X{n}-lock)\" -eq \"$(cat {pid})\" ] \
         || {{ echo \"the robot's Xvfb :{n} did not start:\"; cat {log}; exit 1; }} >&2",
        dir = robot_dev.display(),
        pid = xvfb_pid.display(),
        log = robot_dev.with_extension("xvfb.log").display()
    ));
    remote.load("debian:bookworm");
    let sshd = Sshd::start();

    // The developer's key and ssh config (host key accepted on first use, as a first `ssh`
    // would ask).
    let home = Path::new("/home").join(developer);
    let ssh_dir = home.join(".ssh");
    let _ = std::fs::remove_dir_all(&ssh_dir);
    std::fs::create_dir_all(&ssh_dir).unwrap();
    let key = ssh_dir.join("id_ed25519");
    assert!(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key)
            .status()
            .unwrap()
            .success()
    );
    std::fs::write(
        ssh_dir.join("config"),
        "Host 127.0.0.1\n  StrictHostKeyChecking accept-new\n",
    )
    .unwrap();
    give_to(developer, &ssh_dir);
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let docker_host = format!("DOCKER_HOST={}", remote.host());
    sshd.authorize(&robot.name, &public, &[&docker_host]);
    sshd.authorize(
        &nodocker.name,
        &public,
        &[&docker_host, "PATH=/nonexistent"],
    );

    // The workspace is already on the robot (a clone there).
    let remote_ws = robot.home.join("ws");
    let remote_ws = remote_ws.as_path();
    std::fs::create_dir_all(remote_ws).unwrap();
    give_to(&robot.name, remote_ws);

    let host = format!("ssh://{}@127.0.0.1:{}", robot.name, sshd.port);
    let ws = Ws::new(ROBOT_PROFILE);
    give_to(developer, ws.path());
    let robodev = |args: &[&str]| {
        let mut all = vec!["--host", host.as_str()];
        all.extend_from_slice(args);
        as_user(developer, ws.path(), &bin(), &all)
    };

    // Without a remote path: refused before anything is built, with the way out.
    let out = robodev(&["up", "-d"]);
    assert_fails(&out, 1, &["cannot bind-mount the workspace", "remote_path"]);
    // Whose machine and user: said the first time.
    assert!(
        stderr(&out).contains("on another machine"),
        "{}",
        stderr(&out)
    );

    std::fs::write(
        ws.path().join("robodev.yaml"),
        format!(
            "{ROBOT_PROFILE}workspace: {{remote_path: {}}}\n",
            remote_ws.display()
        ),
    )
    .unwrap();
    let out = robodev(&["up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Said once: the next commands on the same engine and user say it only with -v.
    assert!(
        !stderr(&out).contains("on another machine"),
        "{}",
        stderr(&out)
    );
    let out = robodev(&["-v", "up", "-d"]);
    assert!(
        stderr(&out).contains("on another machine"),
        "{}",
        stderr(&out)
    );
    let out = robodev(&[
        "exec",
        "--",
        "sh",
        "-c",
        "id -u; touch \"$ROBODEV_WORKSPACE/from-the-robot\" && echo wrote",
    ]);
    assert_eq!(
        stdout(&out).lines().collect::<Vec<_>>(),
        [robot.uid.to_string().as_str(), "wrote"],
        "{}",
        stderr(&out)
    );
    let made = remote_ws.join("from-the-robot");
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&made).unwrap()),
        robot.uid
    );
    assert!(!ws.path().join("from-the-robot").exists());
    let out = robodev(&["status"]);
    assert!(
        stdout(&out).contains(&format!("engine     {host} (--host)")),
        "{}",
        stdout(&out)
    );
    // The container is on the robot's engine only.
    let listed = stdout(&remote.docker(&["ps", "--format", "{{.Names}}"]));
    assert!(listed.contains("robodev-onrobot"), "{listed}");
    assert!(robodev(&["down"]).status.success());
    assert!(stdout(&remote.docker(&["ps", "-aq"])).trim().is_empty());
    assert!(made.exists(), "down never touches the workspace");

    // Or a copy of the workspace in a volume there, kept by `robodev sync`: only what changed
    // travels; build results come back with --pull.
    std::fs::write(
        ws.path().join("robodev.yaml"),
        format!("{ROBOT_PROFILE}workspace: {{sync: true}}\n"),
    )
    .unwrap();
    std::fs::create_dir_all(ws.path().join("src/pkg")).unwrap();
    std::fs::write(ws.path().join("src/pkg/a.txt"), "one\n").unwrap();
    std::fs::write(ws.path().join("src/pkg/b.txt"), "two\n").unwrap();
    std::fs::create_dir_all(ws.path().join("build")).unwrap();
    std::fs::write(ws.path().join("build/local-only"), "x").unwrap();
    give_to(developer, ws.path());
    let out = robodev(&["up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("3 file(s) sent"), "{}", stderr(&out));
    let inside = |cmd: &str| {
        let out = robodev(&["exec", "--", "sh", "-c", cmd]);
        eprintln!("inside: {}", stderr(&out));
        stdout(&out)
    };
    assert_eq!(
        inside(
            "cat src/pkg/a.txt src/pkg/b.txt; test -e build/local-only || echo no-build; touch new && echo writable"
        ),
        "one\ntwo\nno-build\nwritable\n"
    );
    std::fs::write(ws.path().join("src/pkg/a.txt"), "changed\n").unwrap();
    std::fs::remove_file(ws.path().join("src/pkg/b.txt")).unwrap();
    let out = robodev(&["sync"]);
    assert!(stderr(&out).contains("1 file(s) sent"), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 deleted"), "{}", stderr(&out));
    assert_eq!(
        inside("cat src/pkg/a.txt; test -e src/pkg/b.txt || echo gone"),
        "changed\ngone\n"
    );
    let out = robodev(&["sync"]);
    assert!(stderr(&out).contains("0 file(s) sent"), "{}", stderr(&out));
    inside("mkdir -p build/pkg && echo built > build/pkg/result.txt");
    let out = robodev(&["sync", "--pull", "build/pkg"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(ws.path().join("build/pkg/result.txt")).unwrap(),
        "built\n"
    );
    let out = robodev(&["sync", "--pull", "../etc"]);
    assert_fails(&out, 2, &["inside the workspace"]);
    assert!(robodev(&["down"]).status.success());
    let volumes = stdout(&remote.docker(&["volume", "ls", "-q"]));
    assert!(
        volumes.contains("workspace"),
        "down keeps the copy: {volumes}"
    );
    assert!(robodev(&["down", "--volumes"]).status.success());
    let volumes = stdout(&remote.docker(&["volume", "ls", "-q"]));
    assert!(!volumes.contains("workspace"), "{volumes}");

    // The robot's own devices: the node is not here, and robodev does not look here for it.
    // (The profile also asks for X11, as a desktop profile does: the robot's display.)
    // A probe container on the robot's engine finds it; `doctor` judges it for robot's uid,
    // and the container gets it with its group there.
    assert!(!Path::new(&lidar).exists());
    std::fs::write(
        ws.path().join("robodev.yaml"),
        format!(
            "{ROBOT_PROFILE}workspace: {{sync: true}}\n\
             devices: [{{path: {lidar}, as: /dev/lidar}}]\nx11: true\n"
        ),
    )
    .unwrap();
    give_to(developer, ws.path());
    let here = as_user(developer, ws.path(), &bin(), &["doctor"]);
    assert!(
        stdout(&here).contains(&format!("device {lidar} (devices[0] at")),
        "{}",
        stdout(&here)
    );
    assert!(stdout(&here).contains("not present on this host"));
    let out = robodev(&["doctor"]);
    assert!(
        stdout(&out).contains(&format!(
            "device {lidar}: present ({lidar} 188:9), usable by the container user"
        )),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("the devices below are that machine's"),
        "{}",
        stdout(&out)
    );
    let out = robodev(&["up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Windows open on the robot's own X server (here there is none: no DISPLAY, no socket).
    assert!(
        stderr(&out).contains(&format!("windows open on the display :{n} of {host}")),
        "{}",
        stderr(&out)
    );
    assert!(!Path::new(&format!("/tmp/.X11-unix/X{n}")).exists());
    assert_eq!(
        inside("echo $DISPLAY; xdpyinfo | grep -c dimensions:"),
        format!(":{n}\n1\n")
    );
    let seen = inside("stat -c '%t:%T %g' /dev/lidar; id -G");
    let mut lines = seen.lines();
    assert_eq!(lines.next(), Some("bc:9 20"), "{seen}");
    assert!(
        lines
            .next()
            .unwrap_or_default()
            .split(' ')
            .any(|g| g == "20"),
        "robot's container user has the node's group (dialout there): {seen}"
    );
    assert!(robodev(&["down", "--volumes"]).status.success());

    // Another identity there, named with --remote-user: the container user and the synced
    // copy's files are that uid's.
    let as_4400 = |args: &[&str]| robodev(&[&["--remote-user", "4400:4400"][..], args].concat());
    let out = as_4400(&["up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = as_4400(&[
        "exec",
        "--",
        "sh",
        "-c",
        "id -u; id -g; stat -c %u src/pkg/a.txt",
    ]);
    assert_eq!(stdout(&out), "4400\n4400\n4400\n", "{}", stderr(&out));
    assert!(as_4400(&["down", "--volumes"]).status.success());

    // Each failure in seconds, with its own message.
    for (user, needle) in [
        ("root", "refused"),
        (nodocker.name.as_str(), "no docker CLI"),
    ] {
        let started = Instant::now();
        let out = as_user(
            developer,
            ws.path(),
            &bin(),
            &[
                "--host",
                &format!("ssh://{user}@127.0.0.1:{}", sshd.port),
                "ls",
            ],
        );
        assert!(
            stderr(&out).contains(needle),
            "ssh as {user}: expected {needle:?}; sshd said:\n{}",
            sshd.log()
        );
        assert_fails(&out, 1, &[needle]);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{user}: {:?}",
            started.elapsed()
        );
    }
    let _ = std::fs::remove_dir_all(remote_ws);
}

/// What the robot's "machine" leaves on this one (`DIR`, `DIR.xvfb.pid`, `DIR.xvfb.log`, its
/// X server and that server's lock), removed however the test ends; dropped after its engine.
struct RobotMachine {
    dir: std::path::PathBuf,
    display: u32,
}

impl Drop for RobotMachine {
    fn drop(&mut self) {
        let pid_file = self.dir.with_extension("xvfb.pid");
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            let pid = pid.trim();
            let _ = Command::new("kill").args(["-TERM", pid]).status();
            let alive = || Path::new(&format!("/proc/{pid}")).exists();
            for _ in 0..20 {
                if !alive() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if alive() {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
            // A server that could not clean up leaves its lock: the display stays taken.
            let lock = format!("/tmp/.X{}-lock", self.display);
            if std::fs::read_to_string(&lock).is_ok_and(|held| held.trim() == pid) {
                let _ = std::fs::remove_file(&lock);
            }
        }
        let _ = std::fs::remove_file(&pid_file);
        let _ = std::fs::remove_file(self.dir.with_extension("xvfb.log"));
        let _ = std::fs::remove_dir(&self.dir);
    }
}

//! The hardening suite (issue "Hardening"): a private engine killed mid-build and mid-session,
//! an engine that never answers, concurrent `up`s before the image exists, `clean` and `down
//! --volumes` against images and volumes robodev did not make, the security defaults.

use crate::support::*;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A templates directory whose user step sleeps: a build that is still running when killed.
fn slow_templates(ws: &Path, seconds: u32) -> PathBuf {
    let dir = ws.join(format!("tpl-{seconds}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("user.j2"), format!("RUN sleep {seconds}\n")).unwrap();
    dir
}

#[test]
fn an_engine_killed_mid_build_and_mid_session_is_reported_and_recovered_from() {
    if !engine() || !is_root() {
        return;
    }
    let mut private = PrivateEngine::start();
    private.load("debian:bookworm");
    let ws = Ws::new("version: 1\nname: fault\nextends: debian\n");
    let tpl = slow_templates(ws.path(), 60);
    let host = private.host();
    let cmd = |args: &[&str]| {
        let mut c = ws.cmd(args);
        c.env("DOCKER_HOST", &host);
        c
    };

    // Mid-build: robodev fails within seconds, in its own words, and leaves no tag behind.
    let tag = {
        let out = cmd(&[
            "--templates",
            tpl.to_str().unwrap(),
            "generate",
            "-o",
            "gen",
        ])
        .output()
        .unwrap();
        assert!(out.status.success());
        let text = stderr(&out);
        text.split("image tag ")
            .nth(1)
            .unwrap()
            .trim_end_matches(")\n")
            .to_string()
    };
    let build = cmd(&["--templates", tpl.to_str().unwrap(), "build"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(8));
    let killed = Instant::now();
    private.kill();
    let out = build.wait_with_output().unwrap();
    assert!(
        killed.elapsed() < Duration::from_secs(10),
        "{:?}",
        killed.elapsed()
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(said.contains("error:"), "{said}");
    assert!(
        !said.contains("error reading a body"),
        "library wording: {said}"
    );
    private.launch();
    assert!(
        !private.docker(&["image", "inspect", &tag]).status.success(),
        "no tag left by a killed build"
    );

    // The next build recovers; up works. The killed engine's BuildKit leaves the step it was
    // running (an apt step) to finish on its own, holding apt's lock in robodev's apt cache
    // mount until then: a build meanwhile fails with apt's own words, and the next one after it
    // ends succeeds.
    let quick = slow_templates(ws.path(), 1);
    let started = Instant::now();
    let out = loop {
        let out = cmd(&["--templates", quick.to_str().unwrap(), "build"])
            .output()
            .unwrap();
        let said = stderr(&out);
        if out.status.success() || started.elapsed() > Duration::from_secs(240) {
            break out;
        }
        // apt's own line ("Could not get lock …") is in the log when BuildKit sent it before
        // the step's failure; the step is always named.
        assert!(
            said.contains("failed at step") && said.contains("Acquire::Retries=3 install"),
            "not the killed build's apt holding the cache: {said}"
        );
        std::thread::sleep(Duration::from_secs(5));
    };
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cmd(&["up", "-d"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // Mid-session: an engine gone is said in seconds; after a restart `up` brings it back.
    private.kill();
    let started = Instant::now();
    let out = cmd(&["status"]).output().unwrap();
    // The socket file stays behind a killed daemon: "refused", in seconds.
    assert_fails(&out, 1, &["cannot connect to the Docker engine", "refused"]);
    assert!(started.elapsed() < Duration::from_secs(3));
    private.launch();
    let out = cmd(&["up", "-d"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cmd(&["exec", "--", "true"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn an_engine_that_never_answers_is_an_error_in_seconds() {
    let path = format!("/tmp/robodev-hung-{}.sock", std::process::id());
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    // Accept every connection and never answer.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let ws = Ws::new(DEBIAN);
    for args in [&["status"][..], &["ls"], &["up", "-d"]] {
        let started = Instant::now();
        let out = ws
            .cmd(args)
            .env("DOCKER_HOST", format!("unix://{path}"))
            .output()
            .unwrap();
        let took = started.elapsed();
        assert_fails(&out, 1, &["did not answer within 5 s", &path]);
        assert!(took < Duration::from_secs(8), "{args:?} took {took:?}");
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn concurrent_ups_before_the_image_exists_make_one_build() {
    if !engine() {
        return;
    }
    let stamp = format!("{:?}", std::time::SystemTime::now());
    let mut ws = Ws::new(&format!("{DEBIAN}env: {{BUILT_ONCE: \"{stamp}\"}}\n"));
    let children: Vec<Child> = (0..4)
        .map(|_| {
            ws.cmd(&["up", "-d"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert!(out.status.success(), "{}", stderr(out));
    }
    let built = outputs
        .iter()
        .filter(|o| stderr(o).contains("✓ built"))
        .count();
    assert_eq!(built, 1, "one build, the others waited and reused it");
    let name = ws.container();
    let status: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    let tag = status["image"].as_str().unwrap();
    let hash = stdout(&docker(&[
        "image",
        "inspect",
        "-f",
        "{{index .Config.Labels \"robodev.hash\"}}",
        tag,
    ]));
    // Top-level images only (`-a` would list each build's intermediate steps).
    let images = stdout(&docker(&[
        "images",
        "-q",
        "--filter",
        &format!("label=robodev.hash={}", hash.trim()),
    ]));
    assert_eq!(
        images
            .split_whitespace()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        1,
        "no duplicate images"
    );
    // The container runs the tag's image.
    let running = stdout(&docker(&["inspect", "-f", "{{.Image}}", &name]));
    let tagged = stdout(&docker(&["image", "inspect", "-f", "{{.Id}}", tag]));
    assert_eq!(running.trim(), tagged.trim());
    ws.ok(&["down"]);
    let _ = docker(&["rmi", tag]);
}

#[test]
fn clean_and_down_never_delete_what_robodev_did_not_make() {
    if !engine() {
        return;
    }
    let stamp = format!("{:?}", std::time::SystemTime::now());
    let mut ws = Ws::new(&format!(
        "{DEBIAN}env: {{OLD: \"{stamp}\"}}\nmounts: [{{source: robodev-e2e-teamdata, target: /team, type: volume, shared: true}}]\n"
    ));
    // The team's volume exists before robodev: it is only mounted.
    let _ = docker(&["volume", "rm", "robodev-e2e-teamdata"]);
    assert!(
        docker(&["volume", "create", "robodev-e2e-teamdata"])
            .status
            .success()
    );
    ws.ok(&["up", "-d"]);
    let name = ws.container();
    let status: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    let old_tag = status["image"].as_str().unwrap().to_string();
    // Other names for robodev's image, and images derived from it.
    let snapshot = format!("local/snapshot:{}", std::process::id());
    let alias = format!("local/alias:{}", std::process::id());
    let derived = format!("myteam/ci:{}", std::process::id());
    assert!(docker(&["commit", &name, &snapshot]).status.success());
    assert!(docker(&["tag", &old_tag, &alias]).status.success());
    let ctx = ws.path().join("derived");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM {old_tag}\nLABEL team=ci\n"),
    )
    .unwrap();
    assert!(
        Command::new("docker")
            .args(["build", "-q", "--network=host", "-t", &derived])
            .arg(&ctx)
            .status()
            .unwrap()
            .success()
    );

    // down --volumes keeps the volume robodev did not create.
    let out = ws.run(&["down", "--volumes"]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("kept volume robodev-e2e-teamdata"),
        "{}",
        stderr(&out)
    );
    assert!(
        docker(&["volume", "inspect", "robodev-e2e-teamdata"])
            .status
            .success()
    );

    // The profile moves on: the old image is robodev's, unused, not current.
    std::fs::write(
        ws.path().join("robodev.yaml"),
        format!("{DEBIAN}env: {{NEW: \"{stamp}\"}}\n"),
    )
    .unwrap();
    let out = ws.run(&["clean"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains(&format!("removed {old_tag}")),
        "{}",
        stdout(&out)
    );
    assert!(
        !docker(&["image", "inspect", &old_tag]).status.success(),
        "robodev's tag is gone"
    );
    for other in [&snapshot, &alias, &derived] {
        assert!(
            docker(&["image", "inspect", other]).status.success(),
            "{other} was touched"
        );
    }
    // The alias still names the very image.
    let out = ws.run(&["clean", "--dry-run", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!rows.to_string().contains("local/"), "{rows}");
    for other in [&snapshot, &alias, &derived] {
        let _ = docker(&["rmi", other]);
    }
    let _ = docker(&["volume", "rm", "robodev-e2e-teamdata"]);
}

#[test]
fn clean_leaves_other_users_images_unless_all() {
    if !engine() {
        return;
    }
    let Some(user) = ordinary_user() else { return };
    let stamp = format!("{:?}", std::time::SystemTime::now());
    let theirs = Ws::new(&format!("{DEBIAN}env: {{THEIRS: \"{stamp}\"}}\n"));
    give_to(user, theirs.path());
    let out = as_user(user, theirs.path(), &bin(), &["build"]);
    assert!(out.status.success());
    let out = as_user(user, theirs.path(), &bin(), &["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tag = status["image"].as_str().unwrap().to_string();
    // Their profile is gone: the image is unused and nobody's current one.
    std::fs::write(theirs.path().join("robodev.yaml"), DEBIAN).unwrap();
    let mine = Ws::new(DEBIAN);
    let rows = |args: &[&str]| -> serde_json::Value {
        serde_json::from_slice(&mine.run(args).stdout).unwrap()
    };
    let row = |v: &serde_json::Value| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|r| r["image"] == tag.as_str())
            .cloned()
            .unwrap()
    };
    let default = row(&rows(&["clean", "--dry-run", "--json"]));
    assert!(
        default["action"]
            .as_str()
            .unwrap()
            .contains("another user's"),
        "{default}"
    );
    assert!(default["owner"].as_str().unwrap().starts_with(user));
    assert_eq!(default["workspace"], theirs.path().to_str().unwrap());
    let all = row(&rows(&["clean", "--dry-run", "--all", "--json"]));
    assert_eq!(all["action"], "would remove");
    let _ = docker(&["rmi", &tag]);
}

#[test]
fn the_default_security_keeps_root_inside_from_raw_sockets() {
    if !engine() {
        return;
    }
    let Some(user) = ordinary_user() else { return };
    let raw = "import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW); print('raw ok')";
    for (security, raw_allowed) in [("", false), ("security: {cap_drop: []}\n", true)] {
        let ws = Ws::new(&format!("{DEBIAN}{security}"));
        give_to(user, ws.path());
        let robodev = |args: &[&str]| as_user(user, ws.path(), &bin(), args);
        assert!(robodev(&["up", "-d"]).status.success());
        let out = robodev(&["exec", "--", "sudo", "-n", "python3", "-c", raw]);
        assert_eq!(
            stdout(&out).contains("raw ok"),
            raw_allowed,
            "{security}: {}",
            stderr(&out)
        );
        let doctor = robodev(&["doctor"]);
        assert!(stdout(&doctor).contains("security:"), "{}", stdout(&doctor));
        assert!(robodev(&["down"]).status.success());
    }
    let ws = Ws::new(&format!("{DEBIAN}security: {{sudo: false}}\n"));
    give_to(user, ws.path());
    let robodev = |args: &[&str]| as_user(user, ws.path(), &bin(), args);
    assert!(robodev(&["up", "-d"]).status.success());
    assert!(
        !robodev(&["exec", "--", "sudo", "-n", "true"])
            .status
            .success()
    );
    assert!(robodev(&["down"]).status.success());
}

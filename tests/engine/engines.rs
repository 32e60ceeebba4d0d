//! The engine matrix: the team and robot journeys on the engines users run, beside the host's
//! Docker 20.10 (every other suite): Docker 26.1 with the graph-driver store, Docker 26.1 with
//! the containerd image store refusing API < 1.44 (as Docker 29), and Podman 5.4, all from
//! Debian trixie, and the host's own Podman 4.3 (Debian bookworm's) with stores of its own, all
//! started by `scripts/engines.sh` (the README's test command runs it). Each engine kind has a
//! second instance of its own kind: the teammate, or the robot.
//!
//! Per engine, with a profile whose image installs nothing (seconds to build): build, a no-op
//! build (no build call), up, exec as an ordinary user, stop/up/down, image history, push →
//! the second engine pulls by digest with no build, save → load into the second engine →
//! `up --offline` there with no build, clean.

use crate::support::*;
use std::process::Command;

/// A profile whose image installs nothing: its own base, no sudo, no ccache.
fn tiny(name: &str, registry: &str) -> String {
    format!(
        "version: 1\nname: {name}\nros: {{distro: humble}}\nbase_image: debian:bookworm\n\
         security: {{sudo: false}}\ndependencies: {{ccache: false}}\nregistry: {registry}/team\n"
    )
}

fn journeys(kind: &str, port: u16) {
    if !engine() || !is_root() {
        return;
    }
    let (Some(host), Some(second)) = (matrix_engine(kind), matrix_engine(&format!("{kind}-2")))
    else {
        return;
    };
    let registry = Registry::start_at(port, None);
    let name = format!("mx{kind}{}", std::process::id());
    let ws = Ws::new(&tiny(&name, &registry.address()));
    // Nothing of this profile on either engine yet.
    for h in [&host, &second] {
        let _ = on(&ws, h, &["down"]);
        let _ = on(&ws, h, &["image", "rm"]);
    }

    // Build, then a no-op build: no build call.
    let said = ok_on(&ws, &host, &["build", "--build"]);
    assert!(said.contains("built "), "{said}");
    let said = ok_on(&ws, &host, &["build"]);
    assert!(
        said.contains("up to date") && !said.contains("building"),
        "{said}"
    );

    // The image's history, sections named on every engine.
    let history = stdout(&on(&ws, &host, &["image", "history"]));
    assert!(history.contains("base image"), "{history}");

    // up, exec as an ordinary user (the files it writes are that user's), stop/up, down.
    if let Some(user) = ordinary_user() {
        give_to(user, ws.path());
        // robodev run by `user` in the workspace, on this engine, with state of its own.
        let as_user = |args: &[&str]| {
            let out = Command::new("runuser")
                .args(["-u", user, "--"])
                .arg(bin())
                .args(args)
                .current_dir(ws.path())
                .env("HOME", format!("/home/{user}"))
                .env("DOCKER_HOST", &host)
                .env("NO_COLOR", "1")
                .env("ROBODEV_STATE_DIR", ws.path().join(".state-user"))
                .env("ROBODEV_CONFIG_DIR", ws.path().join(".config-user"))
                .output()
                .unwrap();
            eprintln!("$ ({user}) robodev {}\n{}", args.join(" "), stderr(&out));
            out
        };
        // Podman builds for the user again (another uid, another image).
        assert!(
            as_user(&["up", "-d"]).status.success(),
            "up as {user} on {kind}"
        );
        let out = as_user(&["exec", "--", "sh", "-c", "id -u; touch written-inside"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out).trim(), "4242", "exec runs as the user's uid");
        let owner = std::os::unix::fs::MetadataExt::uid(
            &std::fs::metadata(ws.path().join("written-inside")).unwrap(),
        );
        assert_eq!(owner, 4242, "a file written in the workspace is the user's");
        assert!(as_user(&["down"]).status.success(), "down as {user}");
    }
    ok_on(&ws, &host, &["up", "-d"]);
    let out = on(&ws, &host, &["exec", "--", "cat", "/etc/debian_version"]);
    assert!(out.status.success());
    ok_on(&ws, &host, &["stop"]);
    ok_on(&ws, &host, &["up", "-d"]);
    ok_on(&ws, &host, &["down"]);

    // Push: the digest robodev.lock records is the one the registry stores, and a teammate's
    // engine of the same kind pulls it by that digest with no build.
    let said = ok_on(&ws, &host, &["push"]);
    let lock = std::fs::read_to_string(ws.path().join("robodev.lock")).unwrap();
    let digest = lock
        .split_whitespace()
        .find(|w| w.starts_with("sha256:") && lock.contains("images:"))
        .map(str::to_string);
    let pushed = said
        .lines()
        .find(|l| l.contains("pushed "))
        .and_then(|l| l.split_whitespace().find_map(|w| w.split_once('@')))
        .map(|(_, d)| d.to_string())
        .unwrap();
    assert!(lock.contains(&pushed), "the lock records {pushed}: {lock}");
    let _ = digest;
    let tag = pushed_tag(&ws, &host);
    let stored = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--format", "{{.Digest}}"])
        .arg(format!("docker://{}/team/{name}:{tag}", registry.address()))
        .output()
        .unwrap();
    assert_eq!(
        stdout(&stored).trim(),
        pushed,
        "the registry stores what the lock records"
    );
    let said = ok_on(&ws, &second, &["build"]);
    assert!(
        said.contains(&format!(
            "pulled {}/team/{name}@{pushed}",
            registry.address()
        )) && !said.contains("built "),
        "the teammate pulls by digest, no build: {said}"
    );

    // Save → load into the robot (its copy removed first) → up --offline: no build, no pull.
    let bundle = ws.path().join("env.tar.zst");
    ok_on(&ws, &host, &["save", "-o", &bundle.display().to_string()]);
    ok_on(&ws, &second, &["image", "rm"]);
    let said = ok_on(&ws, &second, &["load", &bundle.display().to_string()]);
    assert!(said.contains("loaded "), "{said}");
    let said = ok_on(&ws, &second, &["up", "-d", "--offline"]);
    assert!(
        !said.contains("built ") && !said.contains("pulling"),
        "a build or pull was made: {said}"
    );
    let out = on(&ws, &second, &["exec", "--", "true"]);
    assert!(out.status.success());
    ok_on(&ws, &second, &["down"]);

    // clean: this profile's current image is kept.
    ok_on(&ws, &host, &["clean"]);
    let said = ok_on(&ws, &host, &["build"]);
    assert!(
        said.contains("up to date"),
        "clean kept the current image: {said}"
    );
    for h in [&host, &second] {
        let _ = on(&ws, h, &["image", "rm"]);
    }
}

/// The 12-character hash tag of the profile's image.
fn pushed_tag(ws: &Ws, host: &str) -> String {
    let out = on(ws, host, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let image = v["image"].as_str().unwrap_or_default().to_string();
    image.rsplit_once(':').unwrap().1.to_string()
}

#[test]
fn journeys_on_docker_26_graph_store() {
    journeys("d26", 5081);
}

#[test]
fn journeys_on_docker_26_containerd_store_min_api_1_44() {
    journeys("d26c", 5082);
}

#[test]
fn journeys_on_podman_5() {
    journeys("p5", 5083);
}

#[test]
fn journeys_on_podman_4() {
    journeys("p4", 5084);
}

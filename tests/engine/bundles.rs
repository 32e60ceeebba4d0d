//! Bundles for air-gapped robots: `robodev save` on a workstation, `robodev load` on a robot's
//! engine (an empty second engine, with no base image and no registry), then `up` there makes no
//! build call. A truncated or altered bundle is refused and leaves no tagged image.

use crate::support::*;
use robodev::bundle::BundleInfo;
use std::io::Write;
use std::path::Path;

/// A bundle made by hand: the info entry (saying `info`) in front of `docker save` of `image`.
fn hand_made_bundle(info: &BundleInfo, image: &str, path: &Path) {
    let mut file = std::fs::File::create(path).unwrap();
    file.write_all(&info.tar_entry()).unwrap();
    let out = docker(&["save", image]);
    assert!(out.status.success());
    file.write_all(&out.stdout).unwrap();
}

/// A one-layer image of a few files, made without a build.
fn tiny_image(name: &str) -> String {
    let mut import = std::process::Command::new("docker")
        .args(["import", "-", name])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(6);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, "hello", &b"hello\n"[..]).unwrap();
    import
        .stdin
        .take()
        .unwrap()
        .write_all(&tar.into_inner().unwrap())
        .unwrap();
    let out = import.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn robot_tags(robot: &PrivateEngine) -> String {
    stdout(&robot.docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]))
}

fn load_on(ws: &Ws, robot: &PrivateEngine, file: &Path) -> std::process::Output {
    let out = ws
        .cmd(&["load", &file.display().to_string()])
        .env("DOCKER_HOST", robot.host())
        .output()
        .unwrap();
    eprintln!("$ robodev load {}\n{}", file.display(), stderr(&out));
    out
}

#[test]
fn a_saved_environment_loads_on_an_empty_engine_and_comes_up_offline_without_a_build() {
    if !engine() || !is_root() {
        return;
    }
    let ws = Ws::new(DEBIAN);
    let bundle = ws.path().join("debian.tar.zst");
    let out = ws.run(&["save", "-o", &bundle.display().to_string()]);
    assert!(out.status.success());
    let said = stderr(&out);
    assert!(said.contains("saved robodev/debian:"), "{said}");
    let raw = std::fs::read(&bundle).map(|b| b[..4].to_vec()).unwrap();
    assert_eq!(raw, robodev::bundle::ZSTD_MAGIC, "a .zst name compresses");

    // The robot: an engine with nothing on it, not even the base image.
    let robot = PrivateEngine::start();
    let out = load_on(&ws, &robot, &bundle);
    assert!(out.status.success());
    assert!(stderr(&out).contains("loaded robodev/debian:"));
    let tags = robot_tags(&robot);
    assert_eq!(tags.lines().count(), 1, "one image, one name: {tags}");

    let out = ws
        .cmd(&["up", "-d", "--offline"])
        .env("DOCKER_HOST", robot.host())
        .output()
        .unwrap();
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        !said.contains("✓ built") && !said.contains("[1/") && !said.contains("pulling"),
        "a build or pull was made: {said}"
    );
    let out = ws
        .cmd(&["exec", "--", "cat", "/etc/debian_version"])
        .env("DOCKER_HOST", robot.host())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // Loading it again finds it there.
    let out = load_on(&ws, &robot, &bundle);
    assert!(out.status.success());
    assert!(stderr(&out).contains("already on this engine"));

    // Cut short: refused (the zstd frame ends early), nothing is named.
    let out = ws
        .cmd(&["down"])
        .env("DOCKER_HOST", robot.host())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(robot.docker(&["rmi", tags.trim()]).status.success());
    let data = std::fs::read(&bundle).unwrap();
    let cut = ws.path().join("cut.tar.zst");
    std::fs::write(&cut, &data[..data.len() / 2]).unwrap();
    drop(data);
    let out = load_on(&ws, &robot, &cut);
    assert_fails(&out, 2, &["truncated or damaged", "nothing was tagged"]);
    assert_eq!(robot_tags(&robot).trim(), "", "no half-tagged image");
}

#[test]
fn a_truncated_or_altered_bundle_is_refused_and_tags_nothing() {
    if !engine() || !is_root() {
        return;
    }
    let ws = Ws::new(DEBIAN);
    let name = format!("robodev-e2e-tiny:{}", std::process::id());
    let id = tiny_image(&name);
    let robot = PrivateEngine::start();

    let hash = format!("0123456789ab{}", "c".repeat(52));
    let tag = format!("robodev/debian:{}", &hash[..12]);
    // The info records another image than the archive holds.
    let other = BundleInfo::new(
        "debian",
        &hash,
        &format!("sha256:{}", "0".repeat(64)),
        &tag,
        "linux/amd64",
        None,
    );
    let altered = ws.path().join("altered.tar");
    hand_made_bundle(&other, &id, &altered);
    let out = load_on(&ws, &robot, &altered);
    assert_fails(
        &out,
        2,
        &["refusing", "but its robodev-bundle.json records"],
    );
    assert_eq!(robot_tags(&robot).trim(), "");
    assert!(
        stdout(&robot.docker(&["images", "-aq"])).trim().is_empty(),
        "the unchecked image was removed again"
    );

    // The right id, but not a robodev image of that hash.
    let unlabelled = BundleInfo::new("debian", &hash, &id, &tag, "linux/amd64", None);
    hand_made_bundle(&unlabelled, &id, &altered);
    let out = load_on(&ws, &robot, &altered);
    assert_fails(&out, 2, &["is not robodev's image 0123456789ab"]);
    assert_eq!(robot_tags(&robot).trim(), "");
    assert!(stdout(&robot.docker(&["images", "-aq"])).trim().is_empty());

    // A bundle may name nothing but robodev's REPOSITORY:<hash12> for the hash it records:
    // not a base image, not another hash, not a malformed name. Refused before any byte
    // reaches the engine.
    for crafted in [
        "debian:bookworm".to_string(),
        "robodev/debian:ffffffffffff".to_string(),
        "justname".to_string(),
        format!("Bad Name:{}", &hash[..12]),
    ] {
        let mut info = unlabelled.clone();
        info.tag = crafted.clone();
        let bundle = ws.path().join("crafted.tar");
        hand_made_bundle(&info, &id, &bundle);
        let out = load_on(&ws, &robot, &bundle);
        assert_fails(&out, 2, &["is not robodev's name for the image it records"]);
        assert!(
            stdout(&robot.docker(&["images", "-aq"])).trim().is_empty(),
            "{crafted}: nothing loaded"
        );
    }

    // An archive that would name images itself (saved by name): refused before it loads, as a
    // tag in it would rename whatever image has that name on the robot.
    let named = ws.path().join("named.tar");
    hand_made_bundle(&unlabelled, &name, &named);
    let out = load_on(&ws, &robot, &named);
    assert_fails(&out, 2, &["names images", &name]);
    assert!(stdout(&robot.docker(&["images", "-aq"])).trim().is_empty());

    // Cut in the middle of its layer: the engine refuses it.
    let data = std::fs::read(&altered).unwrap();
    let cut = ws.path().join("cut.tar");
    std::fs::write(&cut, &data[..data.len() - 2048]).unwrap();
    let out = load_on(&ws, &robot, &cut);
    assert_fails(&out, 2, &["truncated or damaged"]);
    assert_eq!(robot_tags(&robot).trim(), "");

    // Not a bundle at all.
    let plain = ws.path().join("plain.tar");
    std::fs::write(&plain, docker(&["save", &name]).stdout).unwrap();
    let out = load_on(&ws, &robot, &plain);
    assert_fails(&out, 2, &["is not a robodev bundle", "docker load"]);
    let _ = docker(&["rmi", &name]);
}

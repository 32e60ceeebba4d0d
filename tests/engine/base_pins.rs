//! Base images pinned through a real registry: `robodev lock` records the digest the registry
//! gives the base tag, builds start from it, a tag that moves is kept until `--update`, and a
//! base built on this machine (no registry digest) is said to be unpinned.

use crate::support::*;

fn lock_text(ws: &Ws) -> String {
    std::fs::read_to_string(ws.path().join("robodev.lock")).unwrap_or_default()
}

/// Push `image` as `name`; returns the registry's digest for it.
fn push_as(image: &str, name: &str) -> String {
    assert!(docker(&["tag", image, name]).status.success());
    let out = docker(&["push", name]);
    assert!(out.status.success(), "docker push {name}: {}", stderr(&out));
    let digests = stdout(&docker(&[
        "image",
        "inspect",
        "--format",
        "{{range .RepoDigests}}{{println .}}{{end}}",
        name,
    ]));
    let repo = name.rsplit_once(':').unwrap().0;
    digests
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{repo}@")))
        .unwrap_or_else(|| panic!("no digest of {repo} in {digests}"))
        .to_string()
}

#[test]
fn lock_pins_the_base_image_to_its_registry_digest_until_update() {
    if !engine() || !is_root() {
        return;
    }
    let registry = Registry::start(None);
    let base = format!("{}/base/debian:bookworm", registry.address());
    let first = push_as("debian:bookworm", &base);
    let ws = Ws::new(&format!("{DEBIAN}base_image: {base}\n"));

    let out = ws.run(&["lock"]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains(&format!("pinned base image {base} to {first}")),
        "{}",
        stderr(&out)
    );
    let lock = lock_text(&ws);
    assert!(
        lock.contains(&format!("image: {base}\n    digest: {first}")),
        "{lock}"
    );

    // The build starts from the digest (the generated Dockerfile says so), and works.
    ws.ok(&["generate", "-o", "gen"]);
    let dockerfile = std::fs::read_to_string(ws.path().join("gen/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains(&format!("FROM {base}@{first}")),
        "{dockerfile}"
    );
    let out = ws.run(&["build", "--locked"]);
    assert!(out.status.success(), "{}", stderr(&out));
    ws.ok(&["lock", "--locked"]);

    // Someone pushes another image under the tag: the lock keeps what it pinned...
    let moved_image = format!("robodev-e2e-moved:{}", std::process::id());
    let mut build = std::process::Command::new("docker")
        .args(["build", "--network", "host", "-q", "-t", &moved_image, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    build
        .stdin
        .take()
        .unwrap()
        .write_all(b"FROM debian:bookworm\nLABEL robodev.test.moved=yes\n")
        .unwrap();
    assert!(build.wait().unwrap().success());
    let second = push_as(&moved_image, &base);
    assert_ne!(first, second);
    let out = ws.run(&["lock"]);
    assert!(out.status.success());
    assert!(stderr(&out).contains("is up to date"), "{}", stderr(&out));
    assert!(lock_text(&ws).contains(&first));

    // ...until `--update`, which says it moved.
    let out = ws.run(&["lock", "--update"]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains(&format!("moved: {first} → {second}")),
        "{}",
        stderr(&out)
    );
    assert!(lock_text(&ws).contains(&second));
    let _ = docker(&["rmi", &moved_image, &base]);
}

#[test]
fn a_base_built_on_this_machine_is_said_to_be_unpinned() {
    if !engine() {
        return;
    }
    // debian:bookworm is made here by mmdebstrap | docker import: no registry has it.
    let ws = Ws::new(DEBIAN);
    let out = ws.run(&["lock"]);
    assert!(out.status.success());
    let said = stderr(&out);
    assert!(
        said.contains("base image debian:bookworm is not pinned")
            && said.contains("has no digest a registry is known to hold"),
        "{said}"
    );
    let lock = lock_text(&ws);
    assert!(lock.contains("image: debian:bookworm\n"), "{lock}");
    assert!(!lock.contains("digest:"), "{lock}");
    ws.ok(&["lock", "--locked"]);
}

/// The deploy image's runtime base: pinned by `lock` through the registry like the development
/// base, taken from the same mirror when the base image is a mirror's, and built from the digest.
#[test]
fn lock_pins_the_deploy_runtime_base_from_the_mirror() {
    if !engine() || !is_root() {
        return;
    }
    let registry = Registry::start(None);
    // A mirror of the official images: ros:humble-ros-base for development, ros:humble-ros-core
    // for the robot (debian:bookworm stands in for both here).
    let mirror = format!("{}/mirror", registry.address());
    let dev = push_as("debian:bookworm", &format!("{mirror}/ros:humble-ros-base"));
    let runtime = push_as("debian:bookworm", &format!("{mirror}/ros:humble-ros-core"));
    let ws = Ws::new(&format!(
        "version: 1\nname: rover\nextends: humble\nbase_image: {mirror}/ros:humble-ros-base\n\
         deploy:\n  command: [hello]\n"
    ));
    let out = ws.run(&["lock"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "pinned deploy runtime base {mirror}/ros:humble-ros-core to {runtime}"
        )),
        "{}",
        stderr(&out)
    );
    let lock = lock_text(&ws);
    assert!(
        lock.contains(&format!(
            "deploy_base:\n  rover:\n    image: {mirror}/ros:humble-ros-core\n    digest: {runtime}"
        )),
        "{lock}"
    );
    assert!(lock.contains(&format!("digest: {dev}")), "{lock}");
    ws.ok(&["generate", "--deploy"]);
    let dockerfile = std::fs::read_to_string(ws.path().join(".robodev/deploy/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains(&format!(
            "{mirror}/ros:humble-ros-core@{runtime} AS runtime"
        )),
        "{dockerfile}"
    );
    ws.ok(&["lock", "--locked"]);
}

//! BuildKit through the Engine API on every Docker engine of the matrix (the host's 20.10,
//! 26.1 with either image store), the classic builder where asked for, and Podman's buildah:
//! the same image hash everywhere, BuildKit's progress (one line per step, CACHED or DONE),
//! the failing step's log, and the apt cache mounts — used by the builders that read them,
//! never part of the image.

use crate::support::*;
use std::process::Command;

/// A profile whose image installs `apt` packages on the plain Debian base, nothing else.
fn profile(name: &str, apt: &[&str]) -> String {
    format!(
        "version: 1\nname: {name}\nros: {{distro: humble}}\nbase_image: debian:bookworm\n\
         security: {{sudo: false}}\ndependencies: {{ccache: false}}\napt: [{}]\n",
        apt.join(", ")
    )
}

/// The engine API's answer for `path` on the engine at `host` (`unix://…`).
fn api(host: &str, path: &str) -> serde_json::Value {
    let socket = host.strip_prefix("unix://").unwrap();
    let out = Command::new("curl")
        .args(["-sf", "--max-time", "30", "--unix-socket", socket])
        .arg(format!("http://x{path}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "GET {path} on {host}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The tag `robodev build` reported ("built robodev/NAME:HASH" or "… is up to date").
fn built_tag(said: &str, repository: &str) -> String {
    let start = said
        .find(&format!("{repository}:"))
        .unwrap_or_else(|| panic!("no {repository}:… in {said}"));
    said[start..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .to_string()
}

fn remove(ws: &Ws, host: &str) {
    let _ = on(ws, host, &["image", "rm"]);
}

const HOST: &str = "unix:///var/run/docker.sock";

#[test]
fn buildkit_builds_with_step_lines_and_the_same_hash_as_the_classic_builder() {
    if !engine() || !is_root() {
        return;
    }
    let name = format!("bk{}", std::process::id());
    let repository = format!("robodev/{name}");
    let ws = Ws::new(&profile(&name, &["tree"]));
    remove(&ws, HOST);

    // The host's Docker 20.10 prefers the classic builder, but has BuildKit: robodev uses it.
    let said = ok_on(&ws, HOST, &["build", "--build"]);
    let tag = built_tag(&said, &repository);
    assert!(
        said.contains("RUN apt-get -o Acquire::Retries=3 update"),
        "{said}"
    );
    assert!(
        said.contains(" DONE ") || said.contains(" CACHED"),
        "BuildKit's progress: {said}"
    );
    assert!(
        !said.contains("--mount="),
        "cache mounts are not shown in a step: {said}"
    );
    let image = docker_inspect(&tag);
    let history = docker(&["history", "--no-trunc", "--format", "{{.CreatedBy}}", &tag]);
    assert!(
        stdout(&history).contains("# buildkit"),
        "built by BuildKit: {}",
        stdout(&history)
    );
    // The cache mounts are no part of the image: no apt lists, no .deb, no robodev cache id.
    let inside = Command::new("docker")
        .args([
            "run",
            "--rm",
            "--network=host",
            "--entrypoint",
            "sh",
            &tag,
            "-c",
        ])
        .arg("ls /var/lib/apt/lists; ls /var/cache/robodev-apt; command -v tree")
        .output()
        .unwrap();
    let listing = stdout(&inside);
    assert!(inside.status.success(), "{}", stderr(&inside));
    assert!(listing.contains("/usr/bin/tree"), "{listing}");
    assert!(
        !listing.contains("Packages") && !listing.contains(".deb"),
        "{listing}"
    );
    assert!(
        !image.to_string().contains("robodev-debian"),
        "a cache id in the image's config: {image}"
    );

    // A no-op build makes no build call, whichever builder.
    let said = ok_on(&ws, HOST, &["build"]);
    assert!(
        said.contains("up to date") && !said.contains("building"),
        "{said}"
    );
    let said = ok_on(&ws, HOST, &["build", "--classic-builder"]);
    assert!(
        said.contains("up to date") && !said.contains("building"),
        "{said}"
    );

    // The classic builder gives the image the same name: the hash does not depend on the
    // builder, and its Dockerfile has no cache mounts (20.10's classic builder refuses them).
    remove(&ws, HOST);
    let said = ok_on(&ws, HOST, &["build", "--build", "--classic-builder"]);
    assert_eq!(built_tag(&said, &repository), tag);
    let history = docker(&["history", "--no-trunc", "--format", "{{.CreatedBy}}", &tag]);
    assert!(
        !stdout(&history).contains("# buildkit"),
        "{}",
        stdout(&history)
    );
    remove(&ws, HOST);

    // An ordinary user in the docker group: robodev's BuildKit session on the same socket.
    if let Some(user) = ordinary_user() {
        give_to(user, ws.path());
        let out = as_user(user, ws.path(), &bin(), &["build", "--build"]);
        let said = stderr(&out);
        assert!(out.status.success(), "as {user}: {said}");
        assert!(
            said.contains(" DONE ") || said.contains(" CACHED"),
            "as {user}: {said}"
        );
        let _ = as_user(user, ws.path(), &bin(), &["image", "rm"]);
    }
}

#[test]
fn a_rebuild_after_one_more_apt_package_takes_apts_files_from_the_cache_mounts() {
    if !engine() || !is_root() {
        return;
    }
    let name = format!("bkapt{}", std::process::id());
    let base = own_base("bkbase", &name, &[]);
    let profile = |apt: &[&str]| profile(&name, apt).replace("debian:bookworm", &base);
    let ws = Ws::new(&profile(&["tree"]));
    // -v: the whole log, where apt says `Get:… tree amd64 …` for each .deb it downloads and
    // `Get:… amd64 Packages` for each index.
    let downloaded = |log: &str, what: &str| {
        log.lines()
            .any(|l| l.starts_with("Get:") && l.contains(what))
    };
    ok_on(&ws, HOST, &["-v", "build", "--build"]);
    std::fs::write(ws.path().join("robodev.yaml"), profile(&["tree", "jq"])).unwrap();
    let second = ok_on(&ws, HOST, &["-v", "build", "--build"]);
    assert!(
        second.contains("Unpacking tree"),
        "the apt step ran again: {second}"
    );
    assert!(
        !downloaded(&second, " tree amd64 "),
        "tree's .deb came from the apt archive cache mount: {second}"
    );
    assert!(
        !downloaded(&second, "amd64 Packages"),
        "apt's indexes came from the lists cache mount: {second}"
    );
    // Under the classic builder (no mounts) the same build downloads both again: what the
    // checks above look for is there when nothing is cached.
    let classic = ok_on(
        &ws,
        HOST,
        &["-v", "build", "--build", "--classic-builder", "--no-cache"],
    );
    assert!(downloaded(&classic, " tree amd64 "), "{classic}");
    assert!(downloaded(&classic, "amd64 Packages"), "{classic}");
    remove(&ws, HOST);
    let _ = docker(&["rmi", &base]);
}

#[test]
fn a_failing_step_under_buildkit_names_the_step_and_shows_its_log() {
    if !engine() || !is_root() {
        return;
    }
    let name = format!("bkfail{}", std::process::id());
    let ws = Ws::new(&profile(&name, &["no-such-package-robodev"]));
    let out = on(&ws, HOST, &["build", "--build"]);
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("RUN apt-get -o Acquire::Retries=3 update")
            && said.contains("no-such-package-robodev"),
        "the failing step: {said}"
    );
    assert!(
        said.contains("last lines of the failing step")
            && said.contains("Unable to locate package no-such-package-robodev"),
        "its log: {said}"
    );
    assert!(!said.contains("--mount="), "{said}");
}

/// The same profile on Docker 26.1 (both image stores: BuildKit), Podman 5.4 and Podman 4.3
/// (buildah, which reads the cache mounts itself): one image name everywhere, and the cache
/// mounts used where the builder has them.
#[test]
fn every_engine_of_the_matrix_builds_the_same_image_name() {
    if !engine() || !is_root() {
        return;
    }
    let name = format!("bkmx{}", std::process::id());
    let repository = format!("robodev/{name}");
    let ws = Ws::new(&profile(&name, &["tree"]));
    let mut tags = Vec::new();
    for kind in ["d26", "d26c", "p5", "p4"] {
        let Some(host) = matrix_engine(kind) else {
            continue;
        };
        let _ = on(&ws, &host, &["image", "rm"]);
        let said = ok_on(&ws, &host, &["build", "--build"]);
        let tag = built_tag(&said, &repository);
        let podman = kind.starts_with('p');
        if podman {
            // buildah shows the instruction as written; robodev hides the mounts there too.
            assert!(
                said.contains("RUN apt-get -o Acquire::Retries=3 update"),
                "{kind}: {said}"
            );
        } else {
            assert!(
                said.contains(" DONE ") || said.contains(" CACHED"),
                "{kind}: {said}"
            );
        }
        assert!(!said.contains("--mount="), "{kind}: {said}");
        // The image has tree and no apt lists (they stayed in the cache mount).
        let id = api(&host, &format!("/images/{tag}/json"))["Id"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(!id.is_empty());
        let said = ok_on(&ws, &host, &["build"]);
        assert!(said.contains("up to date"), "{kind}: {said}");
        tags.push((kind, tag));
        let _ = on(&ws, &host, &["image", "rm"]);
    }
    for (kind, tag) in &tags {
        assert_eq!(tag, &tags[0].1, "{kind} names the image as {}", tags[0].0);
    }
}

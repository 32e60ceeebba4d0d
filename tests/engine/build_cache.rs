//! The team's build cache in the registry: `robodev push` (on Docker 26.1, either image store)
//! publishes the image with BuildKit's inline cache as `REPOSITORY:buildcache`, and a build on an
//! engine that has none of the profile's layers (a fresh CI runner: a second Docker 26.1 of the
//! same store) takes the unchanged ones from it after the profile gained one apt package. (Both sides run the same Docker: the
//! cache keys of Docker 20.10's Dockerfile frontend are not 26.1's, measured here.)

use crate::support::*;
use std::process::Command;

#[test]
fn an_empty_engine_builds_only_the_changed_layer_with_the_registry_cache() {
    registry_cache_journey("d26", 5091);
}

/// The same on Docker's containerd image store (the default from Docker 29).
#[test]
fn an_empty_engine_of_the_containerd_store_builds_with_the_registry_cache() {
    registry_cache_journey("d26c", 5095);
}

/// The developer on the engine `kind`, the empty runner on `kind-2`; the registry on `port`
/// (this suite's ports: 5091–5095).
fn registry_cache_journey(kind: &str, port: u16) {
    if !engine() || !is_root() {
        return;
    }
    let developer_socket = format!("/run/robodev-engines/{kind}.sock");
    let runner_socket = format!("/run/robodev-engines/{kind}-2.sock");
    let (developer_socket, runner_socket) = (developer_socket.as_str(), runner_socket.as_str());
    for socket in [developer_socket, runner_socket] {
        if !std::path::Path::new(socket).exists() {
            assert!(
                std::env::var("CI").is_err(),
                "CI=true but {socket} is not there (scripts/engines.sh up {kind} {kind}-2)"
            );
            return;
        }
    }
    let developer = format!("unix://{developer_socket}");
    let runner = format!("unix://{runner_socket}");
    let pid = std::process::id();
    let registry = Registry::start_at(port, None);

    // A base of this test's own, on both engines: no layer of another run can be cached.
    let base = own_base(
        "bkcachebase",
        &format!("{kind}-{pid}"),
        &[developer_socket, runner_socket],
    );

    let name = format!("bkcache{kind}{pid}");
    let profile = |apt: &str| {
        format!(
            "version: 1\nname: {name}\nros: {{distro: humble}}\nbase_image: {base}\n\
             security: {{sudo: true}}\ndependencies: {{ccache: false}}\napt: [{apt}]\n\
             registry: {}/team\n",
            registry.address()
        )
    };
    let ws = Ws::new(&profile("tree"));
    let on = |host: &str, args: &[&str]| {
        let out = ws.cmd(args).env("DOCKER_HOST", host).output().unwrap();
        let said = format!("{}{}", stdout(&out), stderr(&out));
        eprintln!("$ DOCKER_HOST={host} robodev {}\n{said}", args.join(" "));
        assert!(out.status.success(), "robodev {args:?} on {host}");
        said
    };
    on(&developer, &["push"]);
    let cache = format!("{}/team/{name}:buildcache", registry.address());
    let manifest = registry.http(
        "GET",
        &format!("/v2/team/{name}/manifests/buildcache"),
        "application/vnd.docker.distribution.manifest.v2+json",
    );
    assert!(
        manifest.contains("layers"),
        "push published {cache}: {manifest}"
    );

    // The profile gains one apt package; the runner has none of its layers.
    std::fs::write(ws.path().join("robodev.yaml"), profile("tree, jq")).unwrap();
    let said = on(&runner, &["build"]);
    // A step's lines: when it begins, and `CACHED` or `DONE` when it ends.
    let cached = |needle: &str| {
        said.lines()
            .any(|l| l.contains(needle) && l.trim_end().ends_with("CACHED"))
    };
    assert!(
        cached("sudo"),
        "the tooling layer came from the registry's cache: {said}"
    );
    assert!(!cached("tree jq"), "the changed layer was built: {said}");

    for h in [developer.as_str(), runner.as_str()] {
        let _ = ws.cmd(&["image", "rm"]).env("DOCKER_HOST", h).output();
    }
    let _ = docker(&["rmi", &base]);
    for socket in [developer_socket, runner_socket] {
        for image in [base.clone(), cache.clone()] {
            let _ = Command::new("curl")
                .args(["-sf", "--unix-socket", socket, "-X", "DELETE"])
                .arg(format!("http://x/images/{image}?force=1"))
                .output();
        }
    }
}

/// The engine's build-cache records: (type, description).
fn build_cache_records(socket: &str) -> Vec<(String, String)> {
    let out = Command::new("curl")
        .args(["-sf", "--unix-socket", socket])
        .arg("http://x/system/df?type=build-cache")
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["BuildCache"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            (
                r["Type"].as_str().unwrap_or_default().to_string(),
                r["Description"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn clean_build_cache_prunes_robodevs_cache_mounts_and_nothing_else() {
    if !engine() || !is_root() {
        return;
    }
    let socket = "/run/robodev-engines/d26-2.sock";
    if !std::path::Path::new(socket).exists() {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true but d26-2 is not running"
        );
        return;
    }
    let host = format!("unix://{socket}");
    let pid = std::process::id();
    // Someone else's cache mount on the same engine (a plain BuildKit build, no robodev).
    let foreign = format!("/foreign-cache-{pid}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!(
            "FROM debian:bookworm\nRUN --mount=type=cache,target={foreign} touch {foreign}/x\n"
        ),
    )
    .unwrap();
    must(
        "tar",
        &[
            "-C",
            dir.path().to_str().unwrap(),
            "-cf",
            dir.path().join("ctx.tar").to_str().unwrap(),
            "Dockerfile",
        ],
    );
    let built = Command::new("curl")
        .args([
            "-sf",
            "--unix-socket",
            socket,
            "-X",
            "POST",
            "-H",
            "Content-Type: application/x-tar",
        ])
        .arg("--data-binary")
        .arg(format!("@{}", dir.path().join("ctx.tar").display()))
        .arg(format!(
            "http://x/build?version=2&networkmode=host&t=robodev-e2e/foreign-cache:{pid}"
        ))
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", stderr(&built));
    let foreign_there =
        |records: &[(String, String)]| records.iter().any(|(_, d)| d.contains(&foreign));
    assert!(foreign_there(&build_cache_records(socket)));

    // robodev's: a build with apt cache mounts, on a base of its own so that its apt step runs
    // (a build all from the cache makes no cache mount).
    let base = own_base("bkcleanbase", &pid.to_string(), &[socket]);
    let name = format!("bkclean{pid}");
    let ws = Ws::new(&format!(
        "version: 1\nname: {name}\nros: {{distro: humble}}\nbase_image: {base}\n\
         security: {{sudo: false}}\ndependencies: {{ccache: false}}\napt: [tree]\n"
    ));
    let run = |args: &[&str]| {
        let out = ws.cmd(args).env("DOCKER_HOST", &host).output().unwrap();
        let said = format!("{}{}", stdout(&out), stderr(&out));
        eprintln!("$ robodev {}\n{said}", args.join(" "));
        assert!(out.status.success(), "robodev {args:?}");
        said
    };
    run(&["build", "--build"]);
    let robodevs = |records: &[(String, String)]| {
        records
            .iter()
            .filter(|(kind, d)| kind == "exec.cachemount" && d.contains("/var/cache/robodev-apt"))
            .count()
    };
    assert!(robodevs(&build_cache_records(socket)) > 0);

    let said = run(&["clean", "--dry-run"]);
    assert!(said.contains("robodev's build cache holds"), "{said}");
    let said = run(&["clean", "--build-cache", "--dry-run"]);
    assert!(said.contains("would prune robodev's build cache"), "{said}");
    assert!(
        robodevs(&build_cache_records(socket)) > 0,
        "a dry run prunes nothing"
    );

    let said = run(&["clean", "--build-cache"]);
    assert!(said.contains("pruned robodev's build cache"), "{said}");
    let after = build_cache_records(socket);
    assert_eq!(robodevs(&after), 0, "{after:?}");
    assert!(foreign_there(&after), "another cache mount was kept");
    let _ = ws.cmd(&["image", "rm"]).env("DOCKER_HOST", &host).output();
    // This test's own foreign cache mount and image go too.
    let _ = Command::new("curl")
        .args(["-sf", "--unix-socket", socket, "-X", "DELETE"])
        .arg(format!(
            "http://x/images/robodev-e2e/foreign-cache:{pid}?force=1"
        ))
        .output();
    let _ = Command::new("curl")
        .args(["-sf", "--unix-socket", socket, "-X", "POST", "-G"])
        .arg("--data-urlencode")
        .arg(format!("filters={{\"description\":[\"{foreign}\"]}}"))
        .arg("http://x/build/prune")
        .output();
    let _ = Command::new("curl")
        .args(["-sf", "--unix-socket", socket, "-X", "DELETE"])
        .arg(format!("http://x/images/{base}?force=1"))
        .output();
    let _ = docker(&["rmi", &base]);
}

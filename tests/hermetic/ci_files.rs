//! The CI files `robodev ci github|gitlab` writes, as a CI engineer reads them (issue "ROS 2
//! traffic…, devcontainers on every host, CI files a CI engineer accepts"): the repository's
//! default branch, no failure where a fork's pull request has no secrets, robodev installed once
//! and then cached, GitLab runner tags only when asked, a warning for a registry no runner
//! reaches, and a `--check` that shows the lines that differ. Their scripts run here under bash
//! with a stand-in `robodev` and `cargo` on PATH; the validators run in tests/engine/exports.rs.

use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const PROFILE: &str = "version: 1\nextends: debian\nname: rig\nregistry: ghcr.io/my-team\n";

fn workspace(profile: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("robodev.yaml"), profile).unwrap();
    dir
}

fn generate(dir: &Path, args: &[&str]) -> (Value, String) {
    let out = robodev(dir).arg("ci").args(args).assert().success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let file = if args[0] == "github" {
        ".github/workflows/robodev.yml"
    } else {
        ".gitlab-ci.yml"
    };
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    (serde_saphyr::from_str(&text).unwrap(), stderr)
}

fn step<'a>(job: &'a Value, id: &str) -> &'a Value {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in {job:#}"))
}

/// A folder of stand-in programs that write their name and arguments (and what reaches them on
/// stdin with `--password-stdin`) to `calls`.
fn stand_ins(dir: &Path, names: &[&str]) -> (PathBuf, PathBuf) {
    let bin = dir.join("stand-ins");
    std::fs::create_dir_all(&bin).unwrap();
    let calls = dir.join("calls");
    for name in names {
        let path = bin.join(name);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho \"{name} $*\" >> '{calls}'\n\
                 case \" $* \" in *\" --password-stdin \"*) cat >> '{calls}'; echo >> '{calls}';; esac\n",
                calls = calls.display()
            ),
        )
        .unwrap();
        executable(&path);
    }
    (bin, calls)
}

fn executable(path: &Path) {
    let mut perms = std::fs::metadata(path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(path, perms).unwrap();
}

/// `script` under `bash -e -o pipefail` (as both services run it) with `env`, the stand-ins
/// first on PATH. Returns what the stand-ins were called with, and stdout.
fn run_script(dir: &Path, bin: &Path, calls: &Path, script: &str, env: &[(&str, &str)]) -> String {
    let _ = std::fs::remove_file(calls);
    let mut cmd = Command::new("bash");
    cmd.args(["-e", "-o", "pipefail", "-c", script])
        .current_dir(dir)
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
        );
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "`{script}` failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(calls).unwrap_or_default()
}

/// Regression: the trigger branch was `main` whatever the repository's default branch is.
#[test]
fn the_pipelines_follow_the_repositorys_default_branch_unless_one_is_named() {
    let dir = workspace(PROFILE);
    let (github, _) = generate(dir.path(), &["github"]);
    let text = std::fs::read_to_string(dir.path().join(".github/workflows/robodev.yml")).unwrap();
    assert!(!text.contains("main"), "{text}");
    assert_eq!(github["on"]["push"]["branches"][0], "**");
    let job = &github["jobs"]["test"];
    assert_eq!(
        job["if"],
        "github.event_name != 'push' || github.ref == format('refs/heads/{0}', github.event.repository.default_branch)"
    );
    assert!(text.contains("pushed from the default branch"), "{text}");

    let (gitlab, _) = generate(dir.path(), &["gitlab"]);
    let job = &gitlab["robodev-test"];
    assert_eq!(
        job["rules"][1]["if"],
        "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"
    );
    assert_eq!(job["variables"]["PUSH_BRANCH"], "$CI_DEFAULT_BRANCH");

    // A named branch: the trigger itself, then no job condition is needed.
    let (github, _) = generate(
        dir.path(),
        &["github", "--branch", "release/2.x", "--force"],
    );
    assert_eq!(github["on"]["push"]["branches"][0], "release/2.x");
    assert!(github["jobs"]["test"].get("if").is_none());
    let (gitlab, _) = generate(
        dir.path(),
        &["gitlab", "--branch", "release/2.x", "--force"],
    );
    let job = &gitlab["robodev-test"];
    assert_eq!(
        job["rules"][1]["if"],
        "$CI_COMMIT_BRANCH == \"release/2.x\""
    );
    assert_eq!(job["variables"]["PUSH_BRANCH"], "release/2.x");
    // The --check that goes with it names the branch too.
    robodev(dir.path())
        .args(["ci", "gitlab", "--branch", "release/2.x", "--check"])
        .assert()
        .success();
    // A pattern or an expression is not a branch name.
    for bad in ["feature/*", "a\"b", "-x", "a b", "a..b"] {
        robodev(dir.path())
            .args(["ci", "github", &format!("--branch={bad}"), "--force"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("--branch"));
    }
}

/// Regression: a fork's pull request (no secrets) piped an empty password to `robodev login`,
/// which failed the job; and `packages: write` was granted to the whole workflow.
#[test]
fn without_credentials_the_jobs_build_and_test_and_skip_login_and_push() {
    let dir = workspace(PROFILE);
    let (bin, calls) = stand_ins(dir.path(), &["robodev"]);
    let (github, _) = generate(dir.path(), &["github"]);
    let job = &github["jobs"]["test"];
    let login = step(job, "login");
    let script = login["run"].as_str().unwrap();
    let output = dir.path().join("github-output");
    let output_env = output.to_str().unwrap();
    // A fork's pull request: GitHub gives empty secrets.
    let seen = run_script(
        dir.path(),
        &bin,
        &calls,
        script,
        &[
            ("REGISTRY", "registry.example.com"),
            ("REGISTRY_USER", ""),
            ("REGISTRY_PASSWORD", ""),
            ("GITHUB_OUTPUT", output_env),
        ],
    );
    assert_eq!(seen, "", "no login without credentials");
    assert!(
        !std::fs::read_to_string(&output)
            .unwrap_or_default()
            .contains("logged-in")
    );
    // The team's own run: logged in with the password on stdin, and said so to the push step.
    let seen = run_script(
        dir.path(),
        &bin,
        &calls,
        script,
        &[
            ("REGISTRY", "registry.example.com"),
            ("REGISTRY_USER", "ci-bot"),
            ("REGISTRY_PASSWORD", "s3cret"),
            ("GITHUB_OUTPUT", output_env),
        ],
    );
    assert_eq!(
        seen,
        "robodev login registry.example.com -u ci-bot --password-stdin\ns3cret\n"
    );
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "logged-in=true\n"
    );
    let push = job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("robodev push"))
        })
        .unwrap();
    assert!(
        push["if"]
            .as_str()
            .unwrap()
            .contains("steps.login.outputs.logged-in == 'true'"),
        "{push:#}"
    );
    // Build and test have no condition: they run with or without credentials.
    for s in job["steps"].as_array().unwrap() {
        if let Some(run) = s["run"].as_str()
            && (run.starts_with("robodev build") || run.starts_with("robodev test"))
        {
            assert!(s.get("if").is_none(), "{s:#}");
        }
    }
    // `packages: write` on the job that pushes to ghcr.io only, never for the whole workflow.
    assert_eq!(
        github["permissions"],
        serde_json::json!({"contents": "read"})
    );
    assert_eq!(job["permissions"]["packages"], "write");
    let other = workspace("version: 1\nextends: debian\nregistry: registry.example.com/team\n");
    let (github, _) = generate(other.path(), &["github"]);
    assert!(
        github["jobs"]["test"].get("permissions").is_none(),
        "{github:#}"
    );
    let none = workspace("version: 1\nextends: debian\n");
    let (github, _) = generate(none.path(), &["github"]);
    assert!(!serde_json::to_string(&github).unwrap().contains("packages"));

    // GitLab: one shell runs the job's lines, so the login line tells the push line.
    let (gitlab, _) = generate(dir.path(), &["gitlab"]);
    let job = &gitlab["robodev-test"];
    let lines: Vec<&str> = job["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .filter(|l| l.contains("REGISTRY") || l.contains("robodev push"))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let script = lines.join("\n");
    let default_branch = [
        ("REGISTRY", "registry.example.com"),
        ("PROFILE", "rig"),
        ("CI_COMMIT_BRANCH", "trunk"),
        ("CI_DEFAULT_BRANCH", "trunk"),
        ("PUSH_BRANCH", "trunk"),
    ];
    // Secrets are protected variables: a merge request's pipeline (or a fork's) has none.
    let seen = run_script(dir.path(), &bin, &calls, &script, &default_branch);
    assert_eq!(seen, "", "no login and no push without credentials");
    let with_secrets: Vec<(&str, &str)> = default_branch
        .iter()
        .copied()
        .chain([
            ("ROBODEV_REGISTRY_USER", "ci-bot"),
            ("ROBODEV_REGISTRY_PASSWORD", "s3cret"),
        ])
        .collect();
    let seen = run_script(dir.path(), &bin, &calls, &script, &with_secrets);
    assert_eq!(
        seen,
        "robodev login registry.example.com -u ci-bot --password-stdin\ns3cret\nrobodev push rig\n"
    );
    // Another branch: logged in (to pull), never pushed.
    let mut on_a_branch = with_secrets.clone();
    on_a_branch[2] = ("CI_COMMIT_BRANCH", "feature");
    let seen = run_script(dir.path(), &bin, &calls, &script, &on_a_branch);
    assert!(!seen.contains("robodev push"), "{seen}");
}

/// Regression: `cargo install` compiled robodev in every job.
#[test]
fn robodev_is_installed_once_and_then_comes_from_the_cache() {
    let dir = workspace(PROFILE);
    let install =
        "cargo install --locked --git https://git.example.com/robodev --tag v0.1.0 robodev";
    let (github, _) = generate(dir.path(), &["github", "--install", install]);
    let job = &github["jobs"]["test"];
    let cache = step(job, "robodev-cache");
    assert_eq!(cache["uses"], "actions/cache@v4");
    assert_eq!(cache["with"]["path"], "~/.cargo/bin/robodev");
    let key = cache["with"]["key"].as_str().unwrap();
    assert!(
        key.starts_with(&format!("robodev-{}-", env!("CARGO_PKG_VERSION")))
            && key.ends_with("-${{ runner.os }}-${{ runner.arch }}"),
        "{key}"
    );
    let installing = step(job, "install");
    assert_eq!(installing["run"], install);
    assert_eq!(
        installing["if"],
        "steps.robodev-cache.outputs.cache-hit != 'true'"
    );
    // Another install command is another cache entry.
    let (other, _) = generate(
        dir.path(),
        &[
            "github",
            "--install",
            &format!("{install} --features x"),
            "--force",
        ],
    );
    assert_ne!(
        step(&other["jobs"]["test"], "robodev-cache")["with"]["key"],
        key
    );

    let (gitlab, _) = generate(dir.path(), &["gitlab", "--install", install]);
    let job = &gitlab["robodev-test"];
    assert_eq!(job["cache"][0]["paths"][0], ".robodev-install/");
    let key = job["cache"][0]["key"].as_str().unwrap();
    assert!(key.ends_with("-$ARCH") && !key.contains('/'), "{key}");
    assert_eq!(
        job["variables"]["CARGO_INSTALL_ROOT"],
        "$CI_PROJECT_DIR/.robodev-install"
    );
    // The job's set-up, as GitLab runs it: cargo only when the cache brought no robodev.
    let (bin, calls) = stand_ins(dir.path(), &["cargo"]);
    let before: Vec<&str> = job["before_script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let script = before.join("\n");
    let root = dir.path().join(".robodev-install");
    let env = [
        ("CARGO_INSTALL_ROOT", root.to_str().unwrap()),
        ("CI_PROJECT_DIR", dir.path().to_str().unwrap()),
    ];
    let seen = run_script(dir.path(), &bin, &calls, &script, &env);
    assert_eq!(
        seen,
        format!("cargo {}\n", install.strip_prefix("cargo ").unwrap())
    );
    std::fs::create_dir_all(root.join("bin")).unwrap();
    let cached = root.join("bin/robodev");
    std::fs::write(&cached, "#!/bin/sh\n").unwrap();
    executable(&cached);
    let seen = run_script(dir.path(), &bin, &calls, &script, &env);
    assert_eq!(seen, "", "a cached robodev is not built again");

    // A command that is not a `cargo install` runs as it is: nothing to cache.
    let (github, _) = generate(
        dir.path(),
        &[
            "github",
            "--install",
            "pipx install robodev-shim",
            "--force",
        ],
    );
    let job = &github["jobs"]["test"];
    assert!(
        !serde_json::to_string(job)
            .unwrap()
            .contains("actions/cache")
    );
    assert!(step(job, "install").get("if").is_none());
}

/// Regression: the default was `cargo install --locked robodev --version …`, and the name
/// `robodev` on crates.io is another project's: it failed (no such version), and without the
/// version it would install a stranger's program.
#[test]
fn the_default_install_never_takes_robodev_from_crates_io_by_name() {
    let dir = workspace(PROFILE);
    let (github, stderr) = generate(dir.path(), &["github"]);
    let install = step(&github["jobs"]["test"], "install")["run"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !install.contains("cargo install --locked robodev"),
        "{install}"
    );
    if env!("CARGO_PKG_REPOSITORY").is_empty() {
        // This build does not know where robodev is published: said now, and the step says it
        // again, failing, instead of installing something else.
        assert!(stderr.contains("--install COMMAND"), "{stderr}");
        assert!(install.contains("--install COMMAND") && install.ends_with("exit 1"));
    } else {
        assert!(
            install.contains("--git ") && install.contains("--tag v"),
            "{install}"
        );
    }
    // With --install, nothing to warn about.
    let (_, stderr) = generate(
        dir.path(),
        &[
            "github",
            "--install",
            "cargo install --locked --path robodev",
            "--force",
        ],
    );
    assert!(!stderr.contains("warning"), "{stderr}");
}

/// Regression: every GitLab job carried GitLab.com's hosted runner tags, so self-managed
/// runners never picked them up.
#[test]
fn gitlab_jobs_have_runner_tags_only_when_asked() {
    let dir = workspace(PROFILE);
    let both = "linux/amd64,linux/arm64";
    let (gitlab, _) = generate(dir.path(), &["gitlab", "--platform", both]);
    let job = &gitlab["robodev-test"];
    assert!(job.get("tags").is_none(), "{job:#}");
    assert!(!serde_json::to_string(job).unwrap().contains("saas-"));

    let (gitlab, _) = generate(
        dir.path(),
        &[
            "gitlab",
            "--platform",
            both,
            "--runner-tag",
            "docker",
            "--force",
        ],
    );
    assert_eq!(
        gitlab["robodev-test"]["tags"],
        serde_json::json!(["docker"])
    );

    let args = [
        "gitlab",
        "--platform",
        both,
        "--runner-tag",
        "docker",
        "--runner-tag",
        "linux/amd64=saas-linux-small-amd64",
        "--runner-tag",
        "linux/arm64=saas-linux-small-arm64",
    ];
    let (gitlab, _) = generate(dir.path(), &[&args[..], &["--force"]].concat());
    let job = &gitlab["robodev-test"];
    assert_eq!(job["tags"], serde_json::json!(["docker", "$RUNNER_TAG"]));
    let matrix = job["parallel"]["matrix"].as_array().unwrap();
    for entry in matrix {
        let arch = entry["ARCH"].as_str().unwrap();
        assert_eq!(entry["RUNNER_TAG"], format!("saas-linux-small-{arch}"));
    }
    // The --check with the same arguments agrees.
    robodev(dir.path())
        .arg("ci")
        .args(args)
        .arg("--check")
        .assert()
        .success();

    for (bad, says) in [
        (&["--runner-tag", "linux/arm64=arm"][..], "linux/amd64=TAG"),
        (
            &["--runner-tag", "linux/riscv64=rv"][..],
            "no job runs on linux/riscv64",
        ),
        (&["--runner-tag", "linux/amd64="][..], "names no tag"),
        (
            &[
                "--runner-tag",
                "linux/amd64=a",
                "--runner-tag",
                "linux/amd64=b",
            ][..],
            "two tags",
        ),
    ] {
        robodev(dir.path())
            .args(["ci", "gitlab", "--platform", both, "--force"])
            .args(bad)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(says));
    }
    robodev(dir.path())
        .args(["ci", "github", "--runner-tag", "docker", "--force"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("GitLab"));
}

/// Regression: a `localhost` registry went into the pipeline without a word; no hosted runner
/// reaches it.
#[test]
fn a_registry_on_this_machine_is_warned_about() {
    for registry in [
        "localhost:5000/team",
        "127.0.0.1:5000/team",
        "localhost/team",
    ] {
        let dir = workspace(&format!(
            "version: 1\nextends: debian\nname: rig\nregistry: {registry}\n"
        ));
        let host = registry.split('/').next().unwrap();
        for pipeline in ["github", "gitlab"] {
            let (_, stderr) = generate(
                dir.path(),
                &[
                    pipeline,
                    "--install",
                    "cargo install --locked --path robodev",
                ],
            );
            assert!(
                stderr.contains("warning:")
                    && stderr.contains(&format!("registry {host} is on this machine"))
                    && stderr.contains("CI runner cannot reach"),
                "{registry}: {stderr}"
            );
        }
    }
    let dir = workspace(PROFILE);
    let (_, stderr) = generate(
        dir.path(),
        &[
            "github",
            "--install",
            "cargo install --locked --path robodev",
        ],
    );
    assert!(!stderr.contains("warning"), "{stderr}");
}

/// Regression: `--check` printed unchanged lines as `-`/`+` from the first difference on and
/// cut off the line that differed; replacing a file without `--force` advised naming another
/// file, which `ci` cannot.
#[test]
fn check_shows_the_lines_that_differ_and_replacing_needs_force() {
    let dir = workspace(PROFILE);
    let install = ["--install", "cargo install --locked --path robodev"];
    robodev(dir.path())
        .args(["ci", "gitlab"])
        .args(install)
        .assert()
        .success();
    let path = dir.path().join(".gitlab-ci.yml");
    let generated = std::fs::read_to_string(&path).unwrap();
    let edited = generated
        .replace("timeout: 90m", "timeout: 30m")
        .replace("- test-results/\n", "- test-results/\n    - extra/\n");
    std::fs::write(&path, &edited).unwrap();
    let out = robodev(dir.path())
        .args(["ci", "gitlab", "--check"])
        .args(install)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    // The report indents the difference; its own lines are `  - `, `  + ` or context.
    let marked: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("    "))
        .filter(|l| l.starts_with("- ") || l.starts_with("+ "))
        .collect();
    assert_eq!(
        marked,
        ["-   timeout: 30m", "+   timeout: 90m", "-     - extra/"],
        "{stderr}"
    );
    assert!(stderr.contains("@@ -"), "{stderr}");
    // Unchanged neighbours are shown as context, unmarked.
    assert!(stderr.contains("    parallel:"), "{stderr}");

    let out = robodev(dir.path())
        .args(["ci", "gitlab"])
        .args(install)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("--force"), "{stderr}");
    assert!(!stderr.contains("another file"), "{stderr}");
    robodev(dir.path())
        .args(["ci", "gitlab", "--force"])
        .args(install)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), generated);
}

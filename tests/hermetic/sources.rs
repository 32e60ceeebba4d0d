//! Multi-repo workspaces without a git server: the profile's `sources:` key, `.repos` files that
//! are malformed or lead outside the workspace (errors at file:line:col), the notice for a
//! `.repos` file the profile does not name, and robodev.lock's `sources` section (kept across
//! rewrites with what a newer robodev added). Imports from `file://` repositories run the real
//! git; the git servers (daemon, ssh) and vcstool are in `tests/engine/sources.rs`.

use crate::support::*;
use robodev::lockfile::LockFile;
use robodev::lockfile::sources::LockedSource;
use std::path::Path;
use std::process::Command;

const PROFILE: &str = "version: 1\nextends: debian\nsources: [team.repos]\n";

fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn fails(dir: &Path, args: &[&str], code: i32) -> String {
    let out = robodev(dir).args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(code), "{err}");
    err
}

#[test]
fn malformed_repos_files_are_errors_at_file_line_and_column() {
    let cases: &[(&str, &str)] = &[
        (
            "repositories:\n  ../outside:\n    type: git\n    url: file:///x\n",
            "team.repos:2:3: repositories.../outside: `../outside` contains `..`",
        ),
        (
            "repositories:\n  a:\n    type: hg\n    url: https://example.com/a\n",
            "team.repos:3:11: repositories.a.type: type `hg` is not supported",
        ),
        (
            "repositories:\n  /etc/x:\n    type: git\n    url: file:///x\n",
            "team.repos:2:3: repositories./etc/x: `/etc/x` is not a path inside the workspace",
        ),
        (
            "repositories:\n  a:\n    type: git\n",
            "team.repos:2:3: repositories.a: the repository has no `url`",
        ),
        ("repositories:\n  a: {type: git, url: [\n", "team.repos:"),
        (
            "repositories:\n  a:\n    type: git\n    url: file:///x\n    branch: main\n",
            "team.repos:5:5",
        ),
        ("repos:\n  a: {}\n", "team.repos:1:1"),
    ];
    for (text, expected) in cases {
        let dir = workspace(&[("robodev.yaml", PROFILE), ("team.repos", text)]);
        for command in ["import", "status"] {
            let err = fails(dir.path(), &["sources", command], 2);
            assert!(
                err.contains(expected),
                "{text:?}: expected {expected:?} in\n{err}"
            );
        }
    }
}

#[test]
fn a_path_through_a_symbolic_link_out_of_the_workspace_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    let dir = workspace(&[
        ("robodev.yaml", PROFILE),
        (
            "team.repos",
            "repositories:\n  link/a:\n    type: git\n    url: file:///x\n",
        ),
    ]);
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("src/link")).unwrap();
    let err = fails(dir.path(), &["sources", "import"], 2);
    assert!(
        err.contains("team.repos:2:3") && err.contains("outside the workspace"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn the_profile_key_is_checked_where_it_is_written() {
    let cases: &[(&str, &str)] = &[
        (
            "version: 1\nextends: debian\nsources: [nothere.repos]\n",
            "robodev.yaml:3:11: sources[0].file: `",
        ),
        (
            "version: 1\nextends: debian\nsources:\n  - {file: team.repos, into: /opt/src}\n",
            "robodev.yaml:4:5: sources[0].into: `/opt/src` is not inside the workspace",
        ),
        (
            "version: 1\nextends: debian\nsources:\n  - {file: team.repos, into: ../src}\n",
            "sources[0].into: `../src` contains `..`",
        ),
        (
            "version: 1\nextends: debian\nsources:\n  - {file: team.repos, int: src}\n",
            "unknown field `int`",
        ),
    ];
    for (profile, expected) in cases {
        let dir = workspace(&[
            ("robodev.yaml", profile),
            ("team.repos", "repositories: {}\n"),
        ]);
        let err = fails(dir.path(), &["sources", "status"], 2);
        assert!(
            err.contains(expected),
            "{profile:?}: expected {expected:?} in\n{err}"
        );
    }
}

#[test]
fn repos_files_the_profile_does_not_name_are_said_to_be_there() {
    let dir = workspace(&[
        ("robodev.yaml", "version: 1\nextends: debian\n"),
        ("team.repos", "repositories: {}\n"),
    ]);
    let err = fails(dir.path(), &["sources", "import"], 2);
    assert!(
        err.contains("names no .repos files") && err.contains("add `sources: [team.repos]`"),
        "{err}"
    );
}

/// `git` for the test's own repositories, with an identity.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A bare repository with one commit on `main`; its `file://` url and the commit.
fn bare_repo(root: &Path, name: &str) -> (String, String) {
    let bare = root.join(format!("{name}.git"));
    let work = root.join(format!("{name}-work"));
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(
        work.join("package.xml"),
        format!("<package><name>{name}</name></package>\n"),
    )
    .unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "one"]);
    git(
        root,
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    (
        format!("file://{}", bare.display()),
        git(&work, &["rev-parse", "HEAD"]),
    )
}

/// A `file://` import records each commit in robodev.lock, beside what a newer robodev wrote
/// there (an unknown section, an unknown field of an entry), which survives the rewrite; the
/// imported packages are the workspace's like any other (colcon's crawl finds them).
#[test]
fn an_import_records_commits_and_keeps_what_it_does_not_know() {
    let forge = tempfile::tempdir().unwrap();
    let (a_url, a_commit) = bare_repo(forge.path(), "pkg_a");
    let (b_url, b_commit) = bare_repo(forge.path(), "pkg_b");
    let repos = format!(
        "repositories:\n  pkg_a:\n    type: git\n    url: {a_url}\n    version: main\n  \
         group/pkg_b:\n    type: git\n    url: {b_url}\n"
    );
    let lock = format!(
        "version: 1\nattestations:\n  x: {{signed: true}}\nsources:\n  src/pkg_a:\n    url: {a_url}\n    \
         version: main\n    commit: {a_commit}\n    reviewed_by: someone\n"
    );
    let dir = workspace(&[
        ("robodev.yaml", PROFILE),
        ("team.repos", &repos),
        ("robodev.lock", &lock),
    ]);
    let out = robodev(dir.path())
        .args(["sources", "import"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("src/pkg_a") && err.contains("src/group/pkg_b"),
        "{err}"
    );

    let read = LockFile::read(dir.path()).unwrap();
    assert_eq!(
        read.source("src/group/pkg_b"),
        Some(&LockedSource {
            url: b_url.clone(),
            version: None,
            commit: b_commit.clone(),
        })
    );
    assert_eq!(read.source("src/pkg_a").unwrap().commit, a_commit);
    let text = std::fs::read_to_string(dir.path().join("robodev.lock")).unwrap();
    assert!(text.contains("reviewed_by: someone"), "{text}");
    assert!(text.contains("attestations:"), "{text}");

    let packages = robodev::facts::workspace::colcon_packages(dir.path());
    let names: Vec<String> = packages
        .iter()
        .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
        .collect();
    assert_eq!(names, ["src/group/pkg_b", "src/pkg_a"]);

    // Status as JSON; a second import changes nothing.
    let out = robodev(dir.path())
        .args(["sources", "status", "--json"])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["path"], "src/pkg_a");
    assert_eq!(rows[0]["commit"], a_commit.as_str());
    assert_eq!(rows[0]["lock"], "matches");
    assert_eq!(rows[1]["branch"], "main");
    robodev(dir.path())
        .args(["sources", "import"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("robodev.lock")).unwrap(),
        text
    );

    // An entry no file names any more is forgotten by a whole import; the directory stays.
    std::fs::write(
        dir.path().join("team.repos"),
        format!("repositories:\n  pkg_a:\n    type: git\n    url: {a_url}\n    version: main\n"),
    )
    .unwrap();
    robodev(dir.path())
        .args(["sources", "import"])
        .assert()
        .success();
    let read = LockFile::read(dir.path()).unwrap();
    assert!(read.source("src/group/pkg_b").is_none());
    assert!(dir.path().join("src/group/pkg_b/package.xml").is_file());
}

/// `build` (as `up` does) clones the repositories that are missing before it plans, at their
/// locked commits, and records the new ones; without `sources:` it clones nothing.
#[test]
fn build_clones_what_is_missing_first() {
    use crate::command_layer::{PROFILE as PLAIN, Ws};
    use crate::fake_engine::FakeEngine;
    let forge = tempfile::tempdir().unwrap();
    let (url, commit) = bare_repo(forge.path(), "pkg_a");
    let repos =
        format!("repositories:\n  pkg_a:\n    type: git\n    url: {url}\n    version: main\n");

    let ws = Ws::new(&format!("{PLAIN}sources: [team.repos]\n"));
    std::fs::write(ws.path().join("team.repos"), &repos).unwrap();
    let engine = FakeEngine::new();
    assert_eq!(ws.run(&engine, &["build"]), 0);
    assert!(ws.path().join("src/pkg_a/package.xml").is_file());
    let lock = LockFile::read(ws.path()).unwrap();
    assert_eq!(lock.source("src/pkg_a").unwrap().commit, commit);
    // A clone that is there is the user's: a second build leaves it as it is.
    std::fs::write(ws.path().join("src/pkg_a/WORK"), "mine\n").unwrap();
    assert_eq!(ws.run(&engine, &["build"]), 0);
    assert!(ws.path().join("src/pkg_a/WORK").is_file());

    let plain = Ws::new(PLAIN);
    std::fs::write(plain.path().join("team.repos"), &repos).unwrap();
    assert_eq!(plain.run(&engine, &["build"]), 0);
    assert!(!plain.path().join("src/pkg_a").exists());
}

/// The CI pipelines import the repositories at their locked commits before anything is built.
#[test]
fn ci_pipelines_import_the_sources_before_building() {
    let dir = workspace(&[
        ("robodev.yaml", PROFILE),
        ("team.repos", "repositories: {}\n"),
        ("robodev.lock", "version: 1\n"),
    ]);
    for (pipeline, file) in [
        ("github", ".github/workflows/robodev.yml"),
        ("gitlab", ".gitlab-ci.yml"),
    ] {
        robodev(dir.path())
            .args(["ci", pipeline, "--install", "cargo install robodev"])
            .assert()
            .success();
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let import = text
            .find("robodev sources import --locked --profile \"$PROFILE\"")
            .unwrap_or_else(|| panic!("{pipeline}: no import step in\n{text}"));
        let build = text.find("robodev build --locked").unwrap();
        assert!(import < build, "{text}");
    }
}

/// A locked commit the remote no longer has (its history was rewritten) fails by name, and
/// leaves no half-made clone behind that a later import would take for someone's work.
#[test]
fn a_locked_commit_that_is_gone_fails_and_leaves_nothing_behind() {
    let forge = tempfile::tempdir().unwrap();
    let (url, commit) = bare_repo(forge.path(), "pkg_a");
    let gone = "0123456789abcdef0123456789abcdef01234567";
    let repos =
        format!("repositories:\n  pkg_a:\n    type: git\n    url: {url}\n    version: main\n");
    let lock = format!(
        "version: 1\nsources:\n  src/pkg_a:\n    url: {url}\n    version: main\n    commit: {gone}\n"
    );
    let dir = workspace(&[
        ("robodev.yaml", PROFILE),
        ("team.repos", &repos),
        ("robodev.lock", &lock),
    ]);
    let err = fails(dir.path(), &["sources", "import"], 1);
    assert!(
        err.contains("src/pkg_a")
            && err.contains(&format!("commit {gone} (robodev.lock) is not on")),
        "{err}"
    );
    assert!(!dir.path().join("src/pkg_a").exists());
    // `update` takes the branch's tip instead and records it.
    robodev(dir.path())
        .args(["sources", "update"])
        .assert()
        .success();
    assert_eq!(
        LockFile::read(dir.path())
            .unwrap()
            .source("src/pkg_a")
            .unwrap()
            .commit,
        commit
    );
}

/// `deploy build` clones what is missing first, and the deploy image's labels name the commit
/// of each repository it was built from.
#[test]
fn the_deploy_image_names_the_commits_it_was_built_from() {
    use crate::command_layer::{PROFILE as PLAIN, Ws};
    use crate::fake_engine::FakeEngine;
    let forge = tempfile::tempdir().unwrap();
    let (url, commit) = bare_repo(forge.path(), "pkg_a");
    let ws = Ws::new(&format!(
        "{PLAIN}sources: [team.repos]\ndeploy: {{command: [pkg_a]}}\n"
    ));
    std::fs::write(
        ws.path().join("team.repos"),
        format!("repositories:\n  pkg_a:\n    type: git\n    url: {url}\n"),
    )
    .unwrap();
    let engine = FakeEngine::new();
    assert_eq!(ws.run(&engine, &["deploy", "build"]), 0);
    let state = engine.state();
    let deploy = state
        .images
        .iter()
        .find(|i| {
            i.labels
                .iter()
                .any(|(k, v)| k == "robodev.deploy" && v == "true")
        })
        .expect("a deploy image");
    let label = deploy.labels.get("robodev.source.src/pkg_a").cloned();
    assert_eq!(label, Some(commit));
}

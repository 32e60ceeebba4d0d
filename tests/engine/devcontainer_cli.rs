//! The official Dev Containers CLI accepts what `robodev devcontainer` writes and starts a
//! working environment from it on the local engine.

use crate::support::*;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::process::Output;

/// `@devcontainers/cli`, installed locally with npm (cached in target/). Installed once per
/// test process: two tests installing into one directory at once break each other's
/// `node_modules/.bin` (seen on a fresh clone, where nothing was cached yet).
fn devcontainer_cli() -> PathBuf {
    static INSTALLED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/devcontainers-cli");
            let bin = dir.join("node_modules/.bin/devcontainer");
            if !bin.exists() {
                std::fs::create_dir_all(&dir).unwrap();
                let ok = Command::new("npm")
                    .args([
                        "install",
                        "--no-audit",
                        "--no-fund",
                        "--loglevel=error",
                        "--prefix",
                    ])
                    .arg(&dir)
                    .arg("@devcontainers/cli")
                    .status()
                    .expect("npm");
                assert!(ok.success(), "npm install @devcontainers/cli failed");
            }
            assert!(bin.exists(), "npm installed no {}", bin.display());
            bin
        })
        .clone()
}

/// Removes the dev container when the test ends.
struct Cleanup(Option<String>);
impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(id) = &self.0 {
            let _ = Command::new("docker").args(["rm", "-f", id]).output();
        }
    }
}

/// `robodev devcontainer`, then `devcontainer up` and `exec`, each through `run` (which runs a
/// program as the user under test). Returns `id -un`, `id -u`, and the host owner of a file
/// made inside the workspace.
fn up_and_probe(ws: &Ws, run: &dyn Fn(&Path, &[&str]) -> Output) -> (String, String, u32) {
    let cli = devcontainer_cli();
    let folder = ws.path().to_str().unwrap().to_string();
    assert!(run(&bin(), &["devcontainer"]).status.success());
    let up = run(
        &cli,
        &[
            "up",
            "--workspace-folder",
            &folder,
            "--remove-existing-container",
        ],
    );
    let container = stdout(&up)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v["containerId"].as_str().map(String::from));
    let _cleanup = Cleanup(container);
    assert!(
        up.status.success(),
        "devcontainer up failed:\n{}{}",
        stdout(&up),
        stderr(&up)
    );
    let exec = |cmd: &[&str]| {
        let args: Vec<&str> = ["exec", "--workspace-folder", folder.as_str()]
            .into_iter()
            .chain(cmd.iter().copied())
            .collect();
        let out = run(&cli, &args);
        assert!(
            out.status.success(),
            "devcontainer exec {cmd:?}: {}",
            stderr(&out)
        );
        stdout(&out)
    };
    assert!(exec(&["colcon", "--help"]).contains("usage: colcon"));
    assert!(
        exec(&["sh", "-c", "pwd"])
            .trim()
            .starts_with("/workspaces/")
    );
    let ids = exec(&["sh", "-c", "id -un; id -u; touch made-in-devcontainer"]);
    let mut lines = ids.lines().map(String::from);
    let owner = std::fs::metadata(ws.path().join("made-in-devcontainer"))
        .unwrap()
        .uid();
    (
        lines.next().unwrap_or_default(),
        lines.next().unwrap_or_default(),
        owner,
    )
}

#[test]
fn devcontainers_cli_runs_the_generated_files() {
    if !engine() {
        return;
    }
    let ws = Ws::new("version: 1\nname: dc\nextends: debian\n");
    let me = std::fs::metadata("/proc/self").unwrap().uid();
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let run = |program: &Path, args: &[&str]| {
        Command::new(program)
            .args(args)
            .current_dir(ws.path())
            .env("USER", &user)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let (_, uid, owner) = up_and_probe(&ws, &run);
    assert_eq!(uid, me.to_string());
    assert_eq!(owner, me);
}

/// A committed devcontainer.json names no uid: an ordinary user gets their own name and uid.
#[test]
fn devcontainers_cli_maps_an_ordinary_user() {
    if !engine() {
        return;
    }
    let Some(user) = ordinary_user() else { return };
    let ws = Ws::new("version: 1\nname: dcu\nextends: debian\n");
    give_to(user, ws.path());
    let run = |program: &Path, args: &[&str]| as_user(user, ws.path(), program, args);
    let (name, uid, owner) = up_and_probe(&ws, &run);
    assert_eq!(name, user);
    assert_eq!(uid, "4242");
    assert_eq!(owner, 4242);
}

/// Regression (issue "ROS 2 traffic…, devcontainers on every host, CI files a CI engineer
/// accepts"): where USER is unset (Windows sets USERNAME; many CI containers set neither) the
/// CLI stopped at `groupadd: '' is not a valid group name`, exit 3. The user is `dev` there.
/// The profile's `gpu: auto` is an optional GPU: a machine without one (this one) opens it.
#[test]
fn devcontainers_cli_runs_where_user_is_unset() {
    if !engine() {
        return;
    }
    let ws = Ws::new("version: 1\nname: dcnouser\nextends: debian\ngpu: auto\n");
    // An ordinary user when this run is root (so the workspace is writable by the mapped uid),
    // else this one.
    let user = if is_root() { ordinary_user() } else { None };
    if let Some(user) = user {
        give_to(user, ws.path());
    }
    let run = |program: &Path, args: &[&str]| {
        let mut cmd = match user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--", "env", "-u", "USER"])
                    .arg(program)
                    .env("HOME", format!("/home/{user}"));
                c
            }
            None => {
                let mut c = Command::new(program);
                c.env_remove("USER");
                c
            }
        };
        let out = cmd
            .args(args)
            .current_dir(ws.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        eprintln!("{}{}", stdout(&out), stderr(&out));
        out
    };
    let expected_uid = if user.is_some() {
        4242
    } else {
        std::fs::metadata("/proc/self").unwrap().uid()
    };
    let (name, uid, owner) = up_and_probe(&ws, &run);
    assert_eq!(name, "dev");
    assert_eq!(uid, expected_uid.to_string());
    assert_eq!(owner, expected_uid);
    let text = std::fs::read_to_string(ws.path().join(".devcontainer/devcontainer.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(text.split_once('\n').unwrap().1).unwrap();
    assert_eq!(doc["hostRequirements"]["gpu"], "optional");
    assert_eq!(doc["remoteUser"], "${localEnv:USER:dev}");
}

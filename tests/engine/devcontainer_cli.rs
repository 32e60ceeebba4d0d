//! The official Dev Containers CLI accepts what `robodev devcontainer` writes and starts a
//! working environment from it on the local engine.

use crate::support::*;
use std::path::PathBuf;
use std::process::Command;

/// `@devcontainers/cli`, installed locally with npm (cached in target/).
fn devcontainer_cli() -> PathBuf {
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
    bin
}

#[test]
fn devcontainers_cli_runs_the_generated_files() {
    if !engine() {
        return;
    }
    let cli = devcontainer_cli();
    let ws = Ws::new("version: 1\nname: dc\nextends: debian\n");
    ws.ok(&["devcontainer"]);
    let folder = ws.path().to_str().unwrap().to_string();
    let user = std::env::var("USER").unwrap_or_else(|_| {
        if is_root() {
            "root".into()
        } else {
            "dev".into()
        }
    });
    let up = Command::new(&cli)
        .args([
            "up",
            "--workspace-folder",
            &folder,
            "--remove-existing-container",
        ])
        .env("USER", &user)
        .output()
        .unwrap();
    let up_out = format!("{}{}", stdout(&up), stderr(&up));
    let container = stdout(&up)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v["containerId"].as_str().map(String::from));
    struct Cleanup(Option<String>);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            if let Some(id) = &self.0 {
                let _ = Command::new("docker").args(["rm", "-f", id]).output();
            }
        }
    }
    let _cleanup = Cleanup(container.clone());
    assert!(up.status.success(), "devcontainer up failed:\n{up_out}");
    let exec = |cmd: &[&str]| {
        let out = Command::new(&cli)
            .args(["exec", "--workspace-folder", &folder])
            .args(cmd)
            .env("USER", &user)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "devcontainer exec {cmd:?}: {}",
            stderr(&out)
        );
        stdout(&out)
    };
    let id = exec(&["id", "-u"]);
    assert_eq!(
        id.trim(),
        std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
            .unwrap()
            .to_string()
    );
    assert!(exec(&["colcon", "--help"]).contains("usage: colcon"));
    assert!(
        exec(&["sh", "-c", "pwd"])
            .trim()
            .starts_with("/workspaces/")
    );
}

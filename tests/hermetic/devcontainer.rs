//! The generated devcontainer.json: deterministic, derived from the plan, valid by the official
//! JSON schema of the Dev Container spec (which rejects unknown properties).

use crate::support::*;
use std::path::PathBuf;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/schemas/devContainer.base.schema.json")
}

fn json_of(files: &robodev::plan::devcontainer::DevcontainerFiles) -> serde_json::Value {
    // The file starts with a `//` comment line (JSONC, as VS Code writes it).
    let body = files.devcontainer_json.split_once('\n').unwrap().1;
    serde_json::from_str(body).unwrap()
}

#[test]
fn generated_files_pass_the_official_schema() {
    let path = schema_path();
    let schema_text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            assert!(
                std::env::var("CI").is_err(),
                "schema missing in CI: {} ({e})",
                path.display()
            );
            eprintln!("skipped: {} not found", path.display());
            return;
        }
    };
    let schema: serde_json::Value = serde_json::from_str(&schema_text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let profiles = [
        "version: 1\nextends: humble\n",
        "version: 1\nextends: noetic\n",
        "version: 1\nextends: jazzy\ngpu: nvidia\nx11: true\nhotplug: [serial, usb]\nipc: host\nshm_size: 1g\nmounts: [\"~/data:/data:ro\", {source: ccache, target: /ccache, type: volume}]\n",
        "version: 1\nextends: debian\ngpu: dri\nwayland: true\naudio: true\nprivileged: true\n",
    ];
    for yaml in profiles {
        let p = plan(&profile_from(yaml).unwrap());
        let doc = json_of(
            &robodev::plan::devcontainer::for_profile(&p.profile, None, Default::default())
                .unwrap(),
        );
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{yaml}\n{errors:#?}\n{doc:#}");
    }
    // The schema really rejects unknown properties, so the check above means something.
    let bad = serde_json::json!({"build": {"dockerfile": "Dockerfile"}, "notAProperty": 1});
    assert!(!validator.is_valid(&bad));
}

#[test]
fn devcontainer_agrees_with_the_plan() {
    let p = plan(
        &profile_from("version: 1\nextends: jazzy\ngpu: nvidia\nhotplug: [serial]\nx11: true\nsecurity: {debug: true}\n")
            .unwrap(),
    );
    let files =
        robodev::plan::devcontainer::for_profile(&p.profile, None, Default::default()).unwrap();
    assert_eq!(files.dockerfile, p.image.dockerfile);
    let doc = json_of(&files);
    // The folder's own name on the machine that opens it, not the generating machine's.
    assert_eq!(
        doc["workspaceFolder"],
        "/workspaces/${localWorkspaceFolderBasename}"
    );
    assert_eq!(doc["build"]["options"][0], "--network=host");
    assert_eq!(doc["hostRequirements"]["gpu"], true);
    let run_args: Vec<&str> = doc["runArgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(run_args.contains(&"--network=host"));
    assert!(run_args.contains(&"--gpus=all"));
    assert!(
        run_args
            .iter()
            .any(|a| a.starts_with("--device-cgroup-rule=c 188:* rmw"))
    );
    assert_eq!(doc["capAdd"][0], "SYS_PTRACE");
    assert_eq!(doc["securityOpt"][0], "seccomp=unconfined");
    let ext: Vec<&str> = doc["customizations"]["vscode"]["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(ext.contains(&"Ranch-Hand-Robotics.rde-ros-2"));
    assert!(
        !ext.iter().any(|e| e.starts_with("ms-iot.")),
        "ms-iot.vscode-ros is deprecated"
    );
    // No uid is hard-coded: the user is matched at container creation.
    assert_eq!(doc["updateRemoteUserUID"], true);
    assert!(!files.devcontainer_json.contains("1000"));
    assert_eq!(
        doc["initializeCommand"],
        serde_json::json!([
            "sh",
            "${localWorkspaceFolder}/.devcontainer/robodev-initialize"
        ])
    );
    let initialize = &files
        .context
        .iter()
        .find(|(n, _, _)| n == "robodev-initialize")
        .unwrap()
        .1;
    assert!(initialize.contains("ffff"), "{initialize}");
}

#[test]
fn generation_is_deterministic() {
    let a = robodev::plan::devcontainer::for_profile(&builtin("humble"), None, Default::default())
        .unwrap()
        .devcontainer_json;
    let b = robodev::plan::devcontainer::for_profile(&builtin("humble"), None, Default::default())
        .unwrap()
        .devcontainer_json;
    assert_eq!(a, b);
    insta::assert_snapshot!("devcontainer_humble", a);
}

/// Regression (issue "What a new user hit", 6 and 7): the committed files held the generating
/// user's home, gids and whether /dev/dri existed there, and the X11 cookie went to a shared,
/// predictable /tmp path.
#[test]
fn the_committed_files_are_the_same_for_every_teammate() {
    let profile = profile_from(
        "version: 1\nextends: jazzy\ngpu: dri\nx11: true\nwayland: true\naudio: true\nssh_agent: true\ngit_config: true\nhotplug: [serial]\ndevices: [/dev/ttyUSB0, {path: /dev/video9, optional: true}]\nmounts: [\"~/datasets:/data:ro\", \"maps:/maps\"]\n",
    )
    .unwrap();
    let files =
        robodev::plan::devcontainer::for_profile(&profile, None, Default::default()).unwrap();
    let all: String = std::iter::once(files.devcontainer_json.clone())
        .chain(files.context.iter().map(|(_, c, _)| c.clone()))
        .collect();
    let home = std::env::var("HOME").unwrap();
    for needle in [
        home.as_str(),
        "/home/alice",
        "--group-add",
        "/tmp/.robodev-",
    ] {
        assert!(
            !all.contains(needle),
            "{needle:?} in the committed files:\n{all}"
        );
    }
    let doc = json_of(&files);
    let mounts: Vec<&str> = doc["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    for wanted in [
        "source=${localEnv:HOME}/datasets,target=/data,type=bind,readonly",
        "source=${localWorkspaceFolder}/maps,target=/maps,type=bind",
        "source=${localEnv:XDG_RUNTIME_DIR}/${localEnv:WAYLAND_DISPLAY},target=/run/user/1000/${localEnv:WAYLAND_DISPLAY},type=bind",
        "source=${localEnv:SSH_AUTH_SOCK},target=/run/robodev/ssh-agent.sock,type=bind",
        "source=${localEnv:HOME}/.gitconfig,target=/home/${localEnv:USER}/.gitconfig,type=bind,readonly",
    ] {
        assert!(mounts.contains(&wanted), "{wanted} not in {mounts:#?}");
    }
    // The cookie and the host's gids live in the opening user's private cache directory.
    let state = mounts
        .iter()
        .find(|m| m.contains("target=/run/robodev/devcontainer"))
        .unwrap();
    assert!(
        state.starts_with("source=${localEnv:HOME}/.cache/robodev/devcontainer-"),
        "{state}"
    );
    let initialize = &files
        .context
        .iter()
        .find(|(n, _, _)| n == "robodev-initialize")
        .unwrap()
        .1;
    assert!(initialize.contains("chmod 0700"), "{initialize}");
    assert!(initialize.contains("getent group dialout"), "{initialize}");
    assert!(initialize.contains("getent group render"), "{initialize}");
    assert!(
        initialize.contains("stat -L -c %g /dev/ttyUSB0"),
        "{initialize}"
    );
    let run_args = doc["runArgs"].to_string();
    assert!(
        run_args.contains("--device=/dev/dri:/dev/dri"),
        "{run_args}"
    );
    assert!(
        run_args.contains("--device=/dev/ttyUSB0:/dev/ttyUSB0"),
        "{run_args}"
    );
    assert!(
        !run_args.contains("video9"),
        "an optional device is left out: {run_args}"
    );
}

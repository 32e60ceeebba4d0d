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
        "version: 1\nextends: humble\ngpu: auto\ngit_config: true\n",
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
        "source=${localEnv:HOME}/.gitconfig,target=/home/${localEnv:USER:dev}/.gitconfig,type=bind,readonly",
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

/// The Dev Containers tools' substitution of `${localEnv:…}`, as the official CLI does it: a
/// variable ends at its first `}` (`\$\{(.*?)\}`), `NAME:default` gives the default when the
/// variable is unset. Other variables are left as they are.
fn substitute_local_env(text: &str, env: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let inner = &rest[start + 2..start + len];
        let parts: Vec<&str> = inner.split(':').collect();
        match parts.as_slice() {
            ["localEnv", name, args @ ..] => {
                let value = env.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
                out.push_str(value.or(args.first().copied()).unwrap_or(""));
            }
            _ => out.push_str(&rest[start..=start + len]),
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// Regression (issue "ROS 2 traffic…, devcontainers on every host, CI files a CI engineer
/// accepts"): the user was `${localEnv:USER}`, empty on Windows (which sets USERNAME) and in CI
/// containers without USER, where the official CLI stopped with `groupadd: '' is not a valid
/// group name`. It has a default now, and one the tools can read (they do not nest variables).
#[test]
fn the_user_has_a_name_where_the_opening_machine_sets_no_user() {
    let profile =
        profile_from("version: 1\nextends: jazzy\ngit_config: true\nssh_agent: true\n").unwrap();
    let files =
        robodev::plan::devcontainer::for_profile(&profile, None, Default::default()).unwrap();
    let doc = json_of(&files);
    let opening = robodev::plan::devcontainer::OPENING_USER;
    assert_eq!(opening, "${localEnv:USER:dev}");
    assert_eq!(doc["build"]["args"]["ROBODEV_USER"], opening);
    assert_eq!(doc["containerUser"], opening);
    assert_eq!(doc["remoteUser"], opening);
    // Every mention of the user has the default; no variable holds another (the tools would
    // cut it at the inner `}`).
    let text = &files.devcontainer_json;
    assert!(!text.contains("${localEnv:USER}"), "{text}");
    for (i, _) in text.match_indices("${") {
        let end = i + text[i..].find('}').unwrap();
        let inner = &text[i + 2..end];
        assert!(!inner.contains("${"), "a nested variable: ${{{inner}}}");
    }
    // As the tools read it: Linux and macOS (USER set), Windows (USERNAME only), a CI container.
    for (env, user) in [
        (&[("USER", "alice"), ("HOME", "/home/alice")][..], "alice"),
        (
            &[("USERNAME", "alice"), ("HOME", "/c/Users/alice")][..],
            "dev",
        ),
        (&[][..], "dev"),
    ] {
        let seen: serde_json::Value =
            serde_json::from_str(&substitute_local_env(&json_of_text(&files), env)).unwrap();
        assert_eq!(seen["build"]["args"]["ROBODEV_USER"], user, "{env:?}");
        assert_eq!(seen["remoteUser"], user, "{env:?}");
        let mounts = seen["mounts"].to_string();
        assert!(
            mounts.contains(&format!("target=/home/{user}/.gitconfig")),
            "{mounts}"
        );
    }
}

fn json_of_text(files: &robodev::plan::devcontainer::DevcontainerFiles) -> String {
    files
        .devcontainer_json
        .split_once('\n')
        .unwrap()
        .1
        .to_string()
}

/// Regression (same issue): `hostRequirements.gpu` was `true` for every GPU profile, so a
/// teammate without a GPU could not open the folder. `gpu: auto` asks for an optional GPU
/// (the tools add `--gpus all` where the engine has the NVIDIA runtime); `gpu: nvidia`
/// requires one.
#[test]
fn gpu_auto_is_an_optional_gpu_and_nvidia_a_required_one() {
    let doc_for = |gpu: &str| {
        let profile = profile_from(&format!("version: 1\nextends: jazzy\ngpu: {gpu}\n")).unwrap();
        json_of(
            &robodev::plan::devcontainer::for_profile(&profile, None, Default::default()).unwrap(),
        )
    };
    let auto = doc_for("auto");
    assert_eq!(auto["hostRequirements"]["gpu"], "optional", "{auto:#}");
    assert!(
        !auto["runArgs"].to_string().contains("--gpus"),
        "no GPU is asked of the engine itself: {}",
        auto["runArgs"]
    );
    assert_eq!(auto["containerEnv"]["NVIDIA_DRIVER_CAPABILITIES"], "all");
    let nvidia = doc_for("nvidia");
    assert_eq!(nvidia["hostRequirements"]["gpu"], true);
    assert!(nvidia["runArgs"].to_string().contains("--gpus=all"));
    for gpu in ["none", "dri"] {
        let doc = doc_for(gpu);
        assert!(doc.get("hostRequirements").is_none(), "gpu: {gpu}: {doc:#}");
    }
}

//! The VS Code dev container, derived from the same plan as `robodev up`, so the two agree.
//! Built with serde_json (not a text template); deterministic and idempotent.

use super::Plan;
use super::container::MountKind;
use super::hardware::x11::XAUTH_INSIDE;
use serde_json::{Map, Value, json};

/// Files written into `.devcontainer/`.
pub struct DevcontainerFiles {
    pub devcontainer_json: String,
    pub dockerfile: String,
    /// (file name, content, executable)
    pub context: Vec<(String, String, bool)>,
}

/// Environment variables the dev container sets itself or that name the host user.
const SKIP_ENV: &[&str] = &["HOME", "USER", "SHELL", "DISPLAY", "XAUTHORITY"];

fn extensions(plan: &Plan) -> Vec<&'static str> {
    let ros = if plan.profile.distro.ros_version == 1 {
        "Ranch-Hand-Robotics.rde-ros-1"
    } else {
        "Ranch-Hand-Robotics.rde-ros-2"
    };
    vec![
        ros,
        "ms-vscode.cpptools-extension-pack",
        "ms-python.python",
        "ms-vscode.cmake-tools",
        "redhat.vscode-xml",
        "redhat.vscode-yaml",
    ]
}

fn mount_string(kind: &MountKind, source: &str, target: &str, readonly: bool) -> String {
    let kind = match kind {
        MountKind::Bind => "bind",
        MountKind::Volume => "volume",
        MountKind::Tmpfs => "tmpfs",
    };
    let mut s = if source.is_empty() {
        format!("target={target},type={kind}")
    } else {
        format!("source={source},target={target},type={kind}")
    };
    if readonly {
        s.push_str(",readonly");
    }
    s
}

pub fn generate(plan: &Plan) -> DevcontainerFiles {
    let c = &plan.container;
    let user = &plan.user;
    let mut build_args = Map::new();
    if !user.is_root() {
        // The user's name comes from the machine that opens the folder; its uid/gid are matched
        // to that user by `updateRemoteUserUID`, so the committed file is the same for everyone.
        build_args.insert("ROBODEV_USER".into(), json!("${localEnv:USER}"));
    }
    let remote_user = if user.is_root() {
        "root"
    } else {
        "${localEnv:USER}"
    };

    let mut run_args: Vec<String> = vec![format!("--network={}", c.network_mode)];
    if let Some(ipc) = &c.ipc_mode {
        run_args.push(format!("--ipc={ipc}"));
    }
    if let Some(shm) = c.shm_size {
        run_args.push(format!("--shm-size={shm}"));
    }
    for d in &c.devices {
        run_args.push(format!("--device={}:{}", d.host, d.container));
    }
    for rule in &c.device_cgroup_rules {
        run_args.push(format!("--device-cgroup-rule={rule}"));
    }
    for gid in &c.group_add {
        run_args.push(format!("--group-add={gid}"));
    }
    for g in &c.gpu_requests {
        if g.driver == "cdi" {
            run_args.extend(g.device_ids.iter().map(|id| format!("--device={id}")));
        } else {
            run_args.push("--gpus=all".into());
        }
    }
    if let Some(runtime) = &c.runtime {
        run_args.push(format!("--runtime={runtime}"));
    }

    let mut mounts: Vec<String> = Vec::new();
    let mut initialize: Option<String> = None;
    let mut env: Map<String, Value> = c
        .env
        .iter()
        .filter(|(k, _)| !SKIP_ENV.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    for m in c.mounts.iter().filter(|m| m.target != c.workspace_target) {
        if plan
            .container
            .x11_cookie
            .as_ref()
            .is_some_and(|x| x.host_file == m.source)
        {
            continue;
        }
        mounts.push(mount_string(&m.kind, &m.source, &m.target, m.readonly));
    }
    if c.x11_cookie.is_some() {
        // The dev container is started by VS Code, not robodev: make the cookie on the host right
        // before each start, with the wildcard family so the container's hostname does not matter.
        let cookie = format!("/tmp/.robodev-{}.xauth", plan.profile.name);
        initialize = Some(format!(
            "touch {cookie} && xauth nlist \"$DISPLAY\" | sed -e 's/^..../ffff/' | xauth -f {cookie} nmerge -"
        ));
        mounts.push(mount_string(&MountKind::Bind, &cookie, XAUTH_INSIDE, true));
        env.insert("DISPLAY".into(), json!("${localEnv:DISPLAY}"));
        env.insert("XAUTHORITY".into(), json!(XAUTH_INSIDE));
    }

    let ws_relative = plan.profile.workspace_path.as_deref().filter(|p| *p != ".");
    let ws_source = match ws_relative {
        Some(p) if p.starts_with('/') || p.starts_with('~') => p.to_string(),
        Some(p) => format!("${{localWorkspaceFolder}}/{p}"),
        None => "${localWorkspaceFolder}".to_string(),
    };

    let mut settings = Map::new();
    settings.insert(
        "terminal.integrated.defaultProfile.linux".into(),
        json!(plan.profile.shell.name()),
    );
    settings.insert(
        "C_Cpp.default.compileCommands".into(),
        json!(format!(
            "{}/build/compile_commands.json",
            c.workspace_target
        )),
    );
    settings.insert("cmake.configureOnOpen".into(), json!(false));
    settings.insert(
        "files.associations".into(),
        json!({"*.launch": "xml", "*.xacro": "xml", "*.urdf": "xml", "*.sdf": "xml"}),
    );

    let mut doc = Map::new();
    doc.insert(
        "name".into(),
        json!(format!("robodev: {}", plan.profile.name)),
    );
    doc.insert(
        "build".into(),
        json!({
            "dockerfile": "Dockerfile",
            "context": ".",
            "args": build_args,
            "options": ["--network=host"],
        }),
    );
    doc.insert("containerUser".into(), json!(remote_user));
    doc.insert("remoteUser".into(), json!(remote_user));
    doc.insert("updateRemoteUserUID".into(), json!(true));
    doc.insert("workspaceFolder".into(), json!(c.workspace_target));
    doc.insert(
        "workspaceMount".into(),
        json!(format!(
            "source={ws_source},target={},type=bind",
            c.workspace_target
        )),
    );
    doc.insert("containerEnv".into(), Value::Object(env));
    doc.insert("mounts".into(), json!(mounts));
    doc.insert("runArgs".into(), json!(run_args));
    if !c.gpu_requests.is_empty() || c.runtime.is_some() {
        doc.insert("hostRequirements".into(), json!({"gpu": true}));
    }
    doc.insert("init".into(), json!(c.init));
    doc.insert("privileged".into(), json!(c.privileged));
    doc.insert("capAdd".into(), json!(c.cap_add));
    doc.insert("securityOpt".into(), json!(c.security_opt));
    if let Some(cmd) = initialize {
        doc.insert("initializeCommand".into(), json!(cmd));
    }
    doc.insert(
        "postCreateCommand".into(),
        json!(
            "if command -v rosdep >/dev/null && [ -d src ]; then \
             (rosdep update && rosdep install --from-paths src --ignore-src -y -r) \
             || echo 'robodev: rosdep skipped (offline?)'; fi"
        ),
    );
    doc.insert(
        "customizations".into(),
        json!({"vscode": {"extensions": extensions(plan), "settings": settings}}),
    );

    let mut json_text = serde_json::to_string_pretty(&Value::Object(doc)).unwrap_or_default();
    json_text.push('\n');
    let header = "// Generated by robodev from the workspace profile; run `robodev devcontainer` to update.\n";
    DevcontainerFiles {
        devcontainer_json: format!("{header}{json_text}"),
        dockerfile: plan.image.dockerfile.clone(),
        context: plan
            .image
            .context_files()
            .map(|f| (f.name.to_string(), f.content.to_string(), f.executable))
            .collect(),
    }
}

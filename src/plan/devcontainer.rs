//! The VS Code dev container, derived from the same planning as `robodev up`, so the two
//! agree. The files are committed and opened on other machines: they are planned for a
//! *portable host* — whoever opens the folder, named by the variables the Dev Containers tools
//! substitute there (`${localEnv:HOME}`, `${localWorkspaceFolder}`) — never for the machine that
//! generated them. Host group ids are looked up on the opening machine at each start
//! (`robodev-initialize`, the initializeCommand) and applied inside (`robodev-groups`, the
//! postStartCommand). Built with serde_json; deterministic and idempotent.

use super::container::{ContainerPlan, MountKind};
use super::render::Renderer;
use super::user::PORTABLE_USER;
use super::{Pins, Plan, PlanInputs};
use crate::error::Result;
use crate::facts::{DeviceNode, Display, EngineFacts, HostFacts, HostUser, Workspace};
use crate::profile::{GpuMode, Profile};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where the opening user's private state directory (host gids, the groups script, the X11
/// cookie) appears in the container.
const STATE_INSIDE: &str = "/run/robodev/devcontainer";

/// The name of whoever opens the folder, as the Dev Containers tools substitute it. `USER` is
/// unset on Windows (which sets `USERNAME`) and in many CI containers, and an empty name stops
/// the image's user step (`groupadd: '' is not a valid group name`), so it has a default. One
/// default only: the tools end a variable at its first `}` (the official CLI's pattern is
/// `\$\{(.*?)\}`), so `${localEnv:USER:${localEnv:USERNAME:dev}}` is not a nested default but
/// broken text. `dev` is also the name robodev gives a host user whose name is not portable.
pub const OPENING_USER: &str = "${localEnv:USER:dev}";

/// The machine that opens the folder, as variables: its user, home, display and sockets.
/// Required devices are taken as present at their path; `gpu: auto` plans no GPU here (what it
/// picks depends on each machine): the file asks the Dev Containers tools for an optional one,
/// which they give where the opening machine's engine has the NVIDIA runtime.
pub fn portable_host(profile: &Profile) -> HostFacts {
    let home = PathBuf::from("${localEnv:HOME}");
    let runtime = "${localEnv:XDG_RUNTIME_DIR}";
    let devices = profile
        .devices
        .iter()
        .map(|d| {
            let node = (!d.optional).then(|| DeviceNode {
                real_path: d.path.clone(),
                kind: 'c',
                major: 0,
                minor: 0,
                uid: 0,
                gid: 0,
                mode: 0o660,
            });
            (d.path.clone(), node)
        })
        .collect();
    HostFacts {
        user: HostUser {
            name: PORTABLE_USER.into(),
            uid: 1000,
            gid: 1000,
            home: home.clone(),
        },
        groups: BTreeMap::new(),
        char_majors: Vec::new(),
        display: Display {
            display: Some("${localEnv:DISPLAY}".into()),
            x11_socket: Some("/tmp/.X11-unix".into()),
            xauthority: None,
            wayland_socket: Some(format!("{runtime}/${{localEnv:WAYLAND_DISPLAY}}").into()),
            pulse_socket: Some(format!("{runtime}/pulse/native").into()),
            pulse_cookie: None,
            ssh_agent_socket: Some("${localEnv:SSH_AUTH_SOCK}".into()),
            gitconfig: Some(home.join(".gitconfig")),
        },
        dri_nodes: if profile.gpu == GpuMode::Dri {
            vec!["/dev/dri".into()]
        } else {
            Vec::new()
        },
        nvidia_nodes: Vec::new(),
        devices,
        device_alternatives: BTreeMap::new(),
        run_udev: true,
        tegra: false,
        cdi_nvidia: false,
        state_dir: home.join(".cache/robodev"),
        machine: None,
    }
}

/// The folder being opened, as variables.
pub fn portable_workspace() -> Workspace {
    Workspace {
        root: "${localWorkspaceFolder}".into(),
        name: "${localWorkspaceFolderBasename}".into(),
        home: "${localEnv:HOME}".into(),
    }
}

/// The `.devcontainer/` files for a profile, with what robodev.lock pins for it.
pub fn for_profile(
    profile: &Profile,
    templates: Option<PathBuf>,
    pins: Pins<'_>,
) -> Result<DevcontainerFiles> {
    let engine = EngineFacts::default();
    let plan = super::make(PlanInputs {
        profile,
        host: &portable_host(profile),
        engine: &engine,
        workspace: &portable_workspace(),
        templates: templates.clone(),
        pins,
    })?;
    generate(
        &plan,
        &Renderer::for_profile(templates, profile),
        pins.dependencies.is_some(),
    )
}

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

/// `hostRequirements.gpu`: `true` when the plan hands the container a GPU (`gpu: nvidia`: the
/// Dev Containers tools warn, and VS Code asks, on a machine without one); `"optional"` for
/// `gpu: auto`, so a teammate without a GPU opens the folder as it is and one with the NVIDIA
/// runtime gets `--gpus all` from the tools.
fn gpu_requirement(plan: &Plan, gives_gpu: bool) -> Option<Value> {
    if gives_gpu {
        Some(json!(true))
    } else if plan.profile.gpu == GpuMode::Auto {
        Some(json!("optional"))
    } else {
        None
    }
}

/// Every string of the file with the plan's portable user (`PORTABLE_USER`, in the names,
/// homes and mount targets planning made for it) as `OPENING_USER`, its default included.
fn with_opening_user(value: &mut Value) {
    match value {
        Value::String(s) if s.contains(PORTABLE_USER) => {
            *s = s.replace(PORTABLE_USER, OPENING_USER);
        }
        Value::Array(items) => items.iter_mut().for_each(with_opening_user),
        Value::Object(fields) => fields.values_mut().for_each(with_opening_user),
        _ => {}
    }
}

/// The files for a plan made with `portable_host` and `portable_workspace`.
/// `dependencies_locked`: robodev.lock's dependencies are in the image, so no rosdep at create.
pub fn generate(
    plan: &Plan,
    renderer: &Renderer,
    dependencies_locked: bool,
) -> Result<DevcontainerFiles> {
    // Every field named: a new one does not compile until this file decides what to do with it.
    let ContainerPlan {
        name,
        // The dev container builds its image from the Dockerfile written beside it.
        image: _,
        user,
        working_dir,
        workspace_host,
        workspace_target,
        env,
        // robodev's ownership labels: VS Code manages this container, and `robodev ls`/`down`
        // must not count it as theirs.
        labels: _,
        mounts: container_mounts,
        devices,
        device_cgroup_rules,
        // The gids of the machine that planned; `robodev-initialize` looks up `group_names`
        // (and the devices' groups) on the machine that opens the folder, at each start.
        group_add: _,
        group_names,
        network_mode,
        ipc_mode,
        shm_size,
        privileged,
        init,
        cap_add,
        cap_drop,
        security_opt,
        gpu_requests,
        runtime,
        userns_mode,
        // The engine makes a mount's named volume on first use; robodev's labels on it would
        // make `robodev down --volumes` remove what VS Code's container uses.
        volumes: _,
        x11_cookie,
        // What planning decided for the portable host, not the container's configuration.
        notices: _,
        // Requirements of the portable host (its devices taken as present), not of a machine.
        problems: _,
    } = &plan.container;
    let mut build_args = Map::new();
    if !user.is_root() {
        // The user's name comes from the machine that opens the folder; its uid/gid are matched
        // to that user by `updateRemoteUserUID`, so the committed file is the same for everyone.
        build_args.insert("ROBODEV_USER".into(), json!(user.name));
    }
    let remote_user = if user.is_root() { "root" } else { &user.name };

    let mut run_args: Vec<String> = vec![format!("--network={network_mode}")];
    if let Some(ipc) = ipc_mode {
        run_args.push(format!("--ipc={ipc}"));
    }
    if let Some(shm) = shm_size {
        run_args.push(format!("--shm-size={shm}"));
    }
    // VS Code opens the workspace folder; the container's own directory only when it differs.
    if working_dir != workspace_target {
        run_args.push(format!("--workdir={working_dir}"));
    }
    for d in devices {
        // `rwm` is the engine's default, left unsaid.
        if d.permissions == "rwm" {
            run_args.push(format!("--device={}:{}", d.host, d.container));
        } else {
            run_args.push(format!(
                "--device={}:{}:{}",
                d.host, d.container, d.permissions
            ));
        }
    }
    for rule in device_cgroup_rules {
        run_args.push(format!("--device-cgroup-rule={rule}"));
    }
    for g in gpu_requests {
        if g.driver == "cdi" {
            run_args.extend(g.device_ids.iter().map(|id| format!("--device={id}")));
        } else {
            run_args.push("--gpus=all".into());
        }
    }
    for cap in cap_drop {
        run_args.push(format!("--cap-drop={cap}"));
    }
    if let Some(runtime) = runtime {
        run_args.push(format!("--runtime={runtime}"));
    }
    // `keep-id` (rootless Podman): the opening user's files keep their owner inside.
    if let Some(userns) = userns_mode {
        run_args.push(format!("--userns={userns}"));
    }

    let mut mounts: Vec<String> = Vec::new();
    let mut env: Map<String, Value> = env
        .iter()
        .filter(|(k, _)| !SKIP_ENV.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    for m in container_mounts
        .iter()
        .filter(|m| m.target != *workspace_target)
    {
        if x11_cookie.as_ref().is_some_and(|x| x.host_file == m.source) {
            continue;
        }
        // An environment's own volume: named after the dev container on the opening machine
        // (`${devcontainerId}`), not after a container name robodev would give.
        let own_prefix = format!("{name}-");
        let source = match m.source.strip_prefix(&own_prefix) {
            Some(rest) if m.kind == MountKind::Volume => {
                format!("robodev-${{devcontainerId}}-{rest}")
            }
            _ => m.source.clone(),
        };
        mounts.push(mount_string(&m.kind, &source, &m.target, m.readonly));
    }
    // The dev container is started by VS Code, not robodev: what depends on the opening
    // machine is made there right before each start by `robodev-initialize`, in a directory of
    // that user's cache named after what it holds (so two workspaces never share one by chance).
    let devices: Vec<&str> = devices.iter().map(|d| d.host.as_str()).collect();
    let x11 = x11_cookie.is_some();
    let key = serde_json::to_vec(&json!([group_names, devices, x11])).unwrap_or_default();
    let digest = hex::encode(Sha256::digest(&key));
    let state_dir = format!("devcontainer-{}-{}", plan.profile.name, &digest[..8]);
    mounts.push(mount_string(
        &MountKind::Bind,
        &format!("${{localEnv:HOME}}/.cache/robodev/{state_dir}"),
        STATE_INSIDE,
        true,
    ));
    if plan.profile.gpu == GpuMode::Auto {
        // What `gpu: nvidia` sets: with the optional GPU, OpenGL programs (RViz, Gazebo) get
        // the driver's graphics libraries too, not only CUDA's. Inert without one.
        env.insert("NVIDIA_DRIVER_CAPABILITIES".into(), json!("all"));
    }
    if x11 {
        env.insert("DISPLAY".into(), json!("${localEnv:DISPLAY}"));
        env.insert("XAUTHORITY".into(), json!(format!("{STATE_INSIDE}/xauth")));
    }
    let script_vars = json!({
        "group_names": group_names,
        "devices": devices,
        "x11": x11,
        "state_dir": state_dir,
        "groups_file": format!("{STATE_INSIDE}/host-groups"),
    });
    let initialize_script = renderer.render("devcontainer-initialize.j2", &script_vars)?;
    let groups_script = renderer.render("devcontainer-groups.j2", &script_vars)?;

    let ws_source = workspace_host.trim_end_matches("/.").to_string();

    let mut settings = Map::new();
    settings.insert(
        "terminal.integrated.defaultProfile.linux".into(),
        json!(plan.profile.shell.name()),
    );
    settings.insert(
        "C_Cpp.default.compileCommands".into(),
        json!(format!("{workspace_target}/build/compile_commands.json")),
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
    doc.insert("workspaceFolder".into(), json!(workspace_target));
    doc.insert(
        "workspaceMount".into(),
        json!(format!(
            "source={ws_source},target={workspace_target},type=bind"
        )),
    );
    doc.insert("containerEnv".into(), Value::Object(env));
    doc.insert("mounts".into(), json!(mounts));
    doc.insert("runArgs".into(), json!(run_args));
    if let Some(gpu) = gpu_requirement(plan, !gpu_requests.is_empty() || runtime.is_some()) {
        doc.insert("hostRequirements".into(), json!({ "gpu": gpu }));
    }
    doc.insert("init".into(), json!(init));
    doc.insert("privileged".into(), json!(privileged));
    doc.insert("capAdd".into(), json!(cap_add));
    doc.insert("securityOpt".into(), json!(security_opt));
    doc.insert(
        "initializeCommand".into(),
        json!([
            "sh",
            "${localWorkspaceFolder}/.devcontainer/robodev-initialize"
        ]),
    );
    doc.insert(
        "postStartCommand".into(),
        json!(["sh", format!("{STATE_INSIDE}/robodev-groups")]),
    );
    // With robodev.lock the image already has the workspace's dependencies.
    if !dependencies_locked {
        doc.insert(
            "postCreateCommand".into(),
            json!(
                "if command -v rosdep >/dev/null && [ -d src ]; then \
                 (rosdep update && rosdep install --from-paths src --ignore-src -y -r) \
                 || echo 'robodev: rosdep skipped (offline?)'; fi"
            ),
        );
    }
    doc.insert(
        "customizations".into(),
        json!({"vscode": {"extensions": extensions(plan), "settings": settings}}),
    );

    let mut doc = Value::Object(doc);
    with_opening_user(&mut doc);
    let mut json_text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    json_text.push('\n');
    let header = "// Generated by robodev from the workspace profile; run `robodev devcontainer` to update.\n";
    let mut context: Vec<(String, String, bool)> = plan
        .image
        .context_files()
        .map(|f| (f.name.to_string(), f.content.to_string(), f.executable))
        .collect();
    context.push(("robodev-initialize".into(), initialize_script, true));
    context.push(("robodev-groups".into(), groups_script, true));
    Ok(DevcontainerFiles {
        devcontainer_json: format!("{header}{json_text}"),
        dockerfile: plan.image.dockerfile.clone(),
        context,
    })
}

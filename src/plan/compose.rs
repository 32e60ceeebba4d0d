//! `robodev export compose`: the container `robodev up` would create on this machine, as a
//! Compose file: the same image, user, mounts, devices, groups, environment, network, security
//! and GPU. What Compose cannot say is written as a comment at the top, never dropped silently.

use super::container::{ContainerPlan, MountKind};
use super::labels;
use crate::files::GENERATED_MARKER;
use serde_json::{Map, Value, json};

/// A Compose file's text, and what it could not express (also in its comments).
#[derive(Clone, Debug, PartialEq)]
pub struct ComposeFile {
    pub text: String,
    pub left_out: Vec<String>,
}

/// The Compose service for `container`, running `image` (a digest reference when the lock has
/// one), named after the profile.
pub fn compose_file(profile: &str, container: &ContainerPlan, image: &str) -> ComposeFile {
    // Every field named: a new one does not compile until this file decides what to do with it.
    let ContainerPlan {
        // Compose names the container after its project and service; robodev's name would
        // collide with the container `robodev up` makes.
        name: _,
        // Replaced by `image`, the digest reference robodev.lock records when it has one.
        image: _,
        user,
        working_dir,
        // Both are in `mounts` (the workspace's bind mount).
        workspace_host: _,
        workspace_target: _,
        env,
        // robodev's ownership labels: `robodev down` must not think it made this container
        // (the service gets `robodev.exported-from` instead).
        labels: _,
        mounts: planned_mounts,
        devices,
        device_cgroup_rules,
        group_add,
        // Their gids on this machine are in `group_add`.
        group_names: _,
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
        volumes: planned_volumes,
        x11_cookie,
        // What planning decided, shown by the command that planned; not the container's.
        notices: _,
        problems,
    } = container;
    let mut left_out = Vec::new();
    let mut service = Map::new();
    service.insert("image".into(), json!(image));
    service.insert("user".into(), json!(user.spec()));
    service.insert("working_dir".into(), json!(working_dir));
    service.insert("init".into(), json!(init));
    service.insert("tty".into(), json!(true));
    service.insert("stdin_open".into(), json!(true));
    service.insert("network_mode".into(), json!(network_mode));
    if let Some(ipc) = ipc_mode {
        service.insert("ipc".into(), json!(ipc));
    }
    if let Some(shm) = shm_size {
        service.insert("shm_size".into(), json!(shm));
    }
    if *privileged {
        service.insert("privileged".into(), json!(true));
    }
    if let Some(runtime) = runtime {
        service.insert("runtime".into(), json!(runtime));
    }
    if let Some(userns) = userns_mode {
        service.insert("userns_mode".into(), json!(userns));
    }
    let non_empty = |service: &mut Map<String, Value>, key: &str, list: &[String]| {
        if !list.is_empty() {
            service.insert(key.into(), json!(list));
        }
    };
    non_empty(&mut service, "cap_add", cap_add);
    non_empty(&mut service, "cap_drop", cap_drop);
    non_empty(&mut service, "security_opt", security_opt);
    let devices: Vec<String> = devices
        .iter()
        .map(|d| format!("{}:{}:{}", d.host, d.container, d.permissions))
        .collect();
    non_empty(&mut service, "devices", &devices);
    non_empty(&mut service, "device_cgroup_rules", device_cgroup_rules);
    non_empty(&mut service, "group_add", group_add);
    if !env.is_empty() {
        service.insert("environment".into(), json!(env));
    }

    let mut volumes = Map::new();
    let mut mounts = Vec::new();
    for m in planned_mounts {
        mounts.push(match m.kind {
            MountKind::Bind => json!({
                "type": "bind", "source": m.source, "target": m.target, "read_only": m.readonly,
            }),
            MountKind::Tmpfs => json!({"type": "tmpfs", "target": m.target}),
            MountKind::Volume => {
                let planned = planned_volumes.iter().find(|v| v.name == m.source);
                let mut volume = json!({"name": m.source});
                if let Some(v) = planned {
                    volume["labels"] = json!(v.labels);
                } else {
                    // Shared with other environments, made by whoever came first.
                    volume["external"] = json!(true);
                }
                volumes.insert(m.source.clone(), volume);
                json!({
                    "type": "volume", "source": m.source, "target": m.target,
                    "read_only": m.readonly,
                })
            }
        });
    }
    if !mounts.is_empty() {
        service.insert("volumes".into(), json!(mounts));
    }

    let mut gpus = Vec::new();
    for g in gpu_requests {
        if g.driver == "cdi" {
            left_out.push(format!(
                "the GPU as CDI devices ({}): Compose 1.x has no CDI; start it with `robodev up`, \
                 or use `runtime: nvidia`",
                g.device_ids.join(", ")
            ));
            continue;
        }
        let mut device = json!({
            "driver": g.driver,
            "capabilities": g.capabilities.first().cloned().unwrap_or_else(|| vec!["gpu".into()]),
        });
        if g.device_ids.is_empty() {
            device["count"] = if g.count < 0 {
                json!("all")
            } else {
                json!(g.count)
            };
        } else {
            device["device_ids"] = json!(g.device_ids);
        }
        gpus.push(device);
    }
    if !gpus.is_empty() {
        service.insert(
            "deploy".into(),
            json!({"resources": {"reservations": {"devices": gpus}}}),
        );
    }
    service.insert(
        "stop_grace_period".into(),
        json!(format!("{}s", super::container::STOP_TIMEOUT_SECS)),
    );
    // Not robodev's ownership labels: `robodev down` must not think it made this container.
    service.insert("labels".into(), json!({ labels::EXPORTED_FROM: profile }));

    if let Some(cookie) = x11_cookie {
        left_out.push(format!(
            "the X11 cookie {} is written by robodev before each start (`robodev export compose` \
             wrote it now); after the X server restarts, run the export again",
            cookie.host_file
        ));
    }
    for p in problems {
        left_out.push(format!(
            "not met on this machine: {} ({})",
            p.message, p.fix
        ));
    }

    let mut doc = Map::new();
    doc.insert("services".into(), json!({ profile: service }));
    if !volumes.is_empty() {
        doc.insert("volumes".into(), Value::Object(volumes));
    }
    let body = crate::text::yaml(&Value::Object(doc));
    let mut text = format!(
        "# {GENERATED_MARKER} (`robodev export compose {profile}`): the container `robodev up` \
         would create,\n# for this machine (its user, devices and display). Start: \
         `docker-compose up -d`; the image comes from\n# `robodev build` (or the team's \
         registry). robodev does not manage this container: `robodev ls`\n# and `robodev down` \
         leave it to `docker-compose down`.\n"
    );
    for item in &left_out {
        text.push_str(&format!(
            "# Not in this file: {}\n",
            item.replace('\n', " ")
        ));
    }
    text.push_str(&body);
    ComposeFile { text, left_out }
}

//! `robodev export k8s`: the environment as a Pod (or the deploy image as a Deployment) plus a
//! PersistentVolumeClaim for the workspace, as typed Kubernetes objects (k8s-openapi, API 1.33).
//! A cluster has no X display or host sockets of this machine, and devices need either a device
//! plugin or privilege: what is left out is said, and privilege is granted only when asked (the
//! profile's `privileged: true`, or `--devices privileged`).

use super::container::{ContainerPlan, MountKind};
use super::labels;
use crate::files::GENERATED_MARKER;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, EnvVar, HostPathVolumeSource,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, Pod,
    PodSecurityContext, PodSpec, PodTemplateSpec, ResourceRequirements, SecurityContext, Volume,
    VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use std::collections::BTreeMap;

/// The Kubernetes API version the objects are written for and validated against.
pub const KUBERNETES_VERSION: &str = "1.33";

/// How devices reach the pod. There is no unprivileged way without a device plugin, so the
/// choice is the user's, never made silently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceAccess {
    /// Left out, said so (a device plugin on the node can provide them).
    Omit,
    /// A privileged container with each device node mounted from the node.
    Privileged,
}

pub struct KubernetesOptions {
    pub namespace: Option<String>,
    /// An existing claim to mount as the workspace; otherwise one is written.
    pub workspace_claim: Option<String>,
    pub workspace_size: String,
    pub devices: DeviceAccess,
}

/// The objects as YAML documents, and what was left out (also in the header comments).
#[derive(Clone, Debug, PartialEq)]
pub struct Manifests {
    pub text: String,
    pub left_out: Vec<String>,
}

/// A DNS-1123 label from robodev's names (`robodev-ws-1a2b-humble`): lowercase alphanumerics
/// and `-`, at most 63 characters, starting and ending alphanumeric.
pub fn object_name(name: &str) -> String {
    let mut out: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    out.truncate(63);
    let trimmed = out.trim_matches('-').to_string();
    if trimmed.is_empty() {
        "robodev".into()
    } else {
        trimmed
    }
}

/// Variables naming this machine's display, sound, agent or cookie: left out of a pod, and what
/// each one stood for (said, when it does not go with another).
const HOST_ONLY_ENV: &[(&str, Option<&str>)] = &[
    ("DISPLAY", Some("an X display")),
    ("WAYLAND_DISPLAY", Some("a Wayland compositor")),
    ("PULSE_SERVER", Some("a sound server")),
    ("SSH_AUTH_SOCK", Some("an ssh agent")),
    ("XAUTHORITY", None),
];

struct PodParts {
    spec: PodSpec,
    left_out: Vec<String>,
    /// Why the container is privileged (the profile, `--devices privileged`); empty when not.
    privileged_by: Vec<&'static str>,
}

/// Why a container is privileged, as the header says it.
const PRIVILEGED_BY_PROFILE: &str = "the profile's `privileged: true`";
const PRIVILEGED_BY_DEVICES: &str = "--devices privileged";

/// What the pod takes from the container plan: user, env, security, GPU, shm, devices, and
/// (unless `workspace` is `None`) the workspace claim at its place.
fn pod_parts(
    container: &ContainerPlan,
    image: &str,
    workspace: Option<&str>,
    options: &KubernetesOptions,
) -> PodParts {
    // Every field named: a new one does not compile until this file decides what to do with it.
    let ContainerPlan {
        // The object's name: `dev_pod` takes it from the plan, a Deployment from the profile.
        name: _,
        // Replaced by `image`, the reference a cluster pulls.
        image: _,
        user,
        working_dir,
        // A cluster has no folder of this machine: the workspace is a claim at its target.
        workspace_host: _,
        workspace_target,
        env,
        // robodev's ownership labels of a local container; the objects get selector labels.
        labels: _,
        mounts: planned_mounts,
        devices,
        device_cgroup_rules,
        group_add,
        // Their gids are in `group_add`.
        group_names: _,
        network_mode,
        ipc_mode,
        shm_size,
        privileged: privileged_profile,
        init,
        cap_add,
        cap_drop,
        security_opt,
        gpu_requests,
        runtime,
        // `keep-id` maps this machine's user for its bind mounts (rootless Podman); a pod has
        // none of this machine's files.
        userns_mode: _,
        // The engine's named volumes: each mount of one is an emptyDir below, and said so.
        volumes: _,
        // The cookie is a bind mount of this machine's file: said with the other bind mounts,
        // and DISPLAY with the host-only variables.
        x11_cookie: _,
        // What planning decided, shown by the command that planned; not the container's.
        notices: _,
        // Requirements of this machine; a cluster node is another machine.
        problems: _,
    } = container;
    let mut left_out = Vec::new();
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    let mut limits = BTreeMap::new();

    if let Some(claim) = workspace {
        volumes.push(Volume {
            name: "workspace".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim.into(),
                read_only: None,
            }),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name: "workspace".into(),
            mount_path: workspace_target.clone(),
            ..Default::default()
        });
    }
    // With the host's IPC namespace the pod shares the host's /dev/shm (Fast DDS's shared
    // memory with the host's nodes): a memory volume over it would cut that.
    let host_ipc = ipc_mode.as_deref() == Some("host");
    if let Some(shm) = shm_size.as_ref().filter(|_| !host_ipc) {
        volumes.push(Volume {
            name: "shm".into(),
            empty_dir: Some(EmptyDirVolumeSource {
                medium: Some("Memory".into()),
                size_limit: Some(Quantity(shm.to_string())),
            }),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name: "shm".into(),
            mount_path: "/dev/shm".into(),
            ..Default::default()
        });
    }
    for (i, m) in planned_mounts.iter().enumerate() {
        if m.target == *workspace_target {
            continue;
        }
        match m.kind {
            MountKind::Volume | MountKind::Tmpfs => {
                let name = format!("scratch-{i}");
                volumes.push(Volume {
                    name: name.clone(),
                    empty_dir: Some(EmptyDirVolumeSource {
                        medium: (m.kind == MountKind::Tmpfs).then(|| "Memory".into()),
                        size_limit: None,
                    }),
                    ..Default::default()
                });
                mounts.push(VolumeMount {
                    name,
                    mount_path: m.target.clone(),
                    read_only: m.readonly.then_some(true),
                    ..Default::default()
                });
                if m.kind == MountKind::Volume {
                    left_out.push(format!(
                        "the volume {} at {} is an emptyDir: kept for the pod's life only",
                        m.source, m.target
                    ));
                }
            }
            MountKind::Bind => left_out.push(format!(
                "{} (mounted from this machine at {}): a cluster node has no such file",
                m.source, m.target
            )),
        }
    }

    // The profile's `privileged: true` holds whichever way devices reach the pod.
    let mut privileged_by = Vec::new();
    if *privileged_profile {
        privileged_by.push(PRIVILEGED_BY_PROFILE);
    }
    if !devices.is_empty() {
        match options.devices {
            DeviceAccess::Omit => {
                let names = devices
                    .iter()
                    .map(|d| d.host.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                left_out.push(if *privileged_profile {
                    format!(
                        "the devices {names} at their paths in the profile: the privileged \
                         container sees its node's devices at the node's paths; \
                         `--devices privileged` mounts each where the profile puts it"
                    )
                } else {
                    format!(
                        "the devices {names}: a device plugin on the node provides them, or \
                         `--devices privileged` mounts them into a privileged container"
                    )
                });
            }
            DeviceAccess::Privileged => {
                privileged_by.push(PRIVILEGED_BY_DEVICES);
                for (i, d) in devices.iter().enumerate() {
                    let name = format!("device-{i}");
                    volumes.push(Volume {
                        name: name.clone(),
                        host_path: Some(HostPathVolumeSource {
                            path: d.host.clone(),
                            type_: Some("CharDevice".into()),
                        }),
                        ..Default::default()
                    });
                    mounts.push(VolumeMount {
                        name,
                        mount_path: d.container.clone(),
                        ..Default::default()
                    });
                }
            }
        }
    }
    let privileged = !privileged_by.is_empty();
    if !device_cgroup_rules.is_empty() && !privileged {
        left_out.push(
            "device cgroup rules (hot-plugged devices): Kubernetes has none; only a privileged \
             container sees devices plugged in later"
                .into(),
        );
    }
    if !gpu_requests.is_empty() {
        limits.insert("nvidia.com/gpu".to_string(), Quantity("1".into()));
        if gpu_requests.iter().any(|g| g.count < 0) {
            left_out.push(
                "\"all GPUs\": a pod asks for a number (nvidia.com/gpu: 1 here; raise it for more)"
                    .into(),
            );
        }
    }
    for (key, why) in HOST_ONLY_ENV {
        if let Some(why) = why
            && env.contains_key(*key)
        {
            left_out.push(format!("{why} of this machine ({key})"));
        }
    }
    let env: Vec<EnvVar> = env
        .iter()
        .filter(|(k, _)| !HOST_ONLY_ENV.iter().any(|(h, _)| h == k))
        .map(|(k, v)| EnvVar {
            name: k.clone(),
            value: Some(v.clone()),
            value_from: None,
        })
        .collect();

    let mut no_new_privileges = false;
    let mut seccomp_unconfined = false;
    for option in security_opt {
        match option.as_str() {
            "no-new-privileges" | "no-new-privileges:true" | "no-new-privileges=true" => {
                no_new_privileges = true
            }
            // The default.
            "no-new-privileges:false" | "no-new-privileges=false" => {}
            "seccomp=unconfined" => seccomp_unconfined = true,
            other => left_out.push(format!(
                "the security option {other}: a pod's securityContext has no such setting"
            )),
        }
    }
    if privileged && no_new_privileges {
        left_out.push(
            "no-new-privileges (`security.sudo: false`): Kubernetes lets a privileged container \
             always gain privileges"
                .into(),
        );
    }
    let security = SecurityContext {
        privileged: privileged.then_some(true),
        // A privileged container may always escalate: Kubernetes refuses `false` with it.
        allow_privilege_escalation: Some(privileged || !no_new_privileges),
        capabilities: Some(Capabilities {
            add: (!cap_add.is_empty()).then(|| cap_add.clone()),
            drop: (!cap_drop.is_empty()).then(|| cap_drop.clone()),
        }),
        seccomp_profile: seccomp_unconfined.then(|| k8s_openapi::api::core::v1::SeccompProfile {
            type_: "Unconfined".into(),
            localhost_profile: None,
        }),
        ..Default::default()
    };
    let groups: Vec<i64> = group_add.iter().filter_map(|g| g.parse().ok()).collect();
    // `bridge` is a pod's own network; `private` and `shareable` its own IPC namespace.
    if network_mode == "none" {
        left_out.push("`network: none`: a pod always has the cluster's network".into());
    }
    if ipc_mode.as_deref() == Some("none") {
        left_out.push("`ipc: none`: a pod always has its own IPC namespace and /dev/shm".into());
    }
    let uid = i64::from(user.uid);
    let gid = i64::from(user.gid);
    let spec = PodSpec {
        host_network: (network_mode == "host").then_some(true),
        host_ipc: (ipc_mode.as_deref() == Some("host")).then_some(true),
        // Docker's `--init` in a pod: with one process namespace the pod's pause process is
        // PID 1, and reaps the orphans of builds and launches as tini would.
        share_process_namespace: init.then_some(true),
        // Docker's `--runtime`: the cluster's RuntimeClass of that name (the NVIDIA GPU
        // Operator makes `nvidia`).
        runtime_class_name: runtime.clone(),
        security_context: Some(PodSecurityContext {
            run_as_user: Some(uid),
            run_as_group: Some(gid),
            fs_group: Some(gid),
            supplemental_groups: (!groups.is_empty()).then_some(groups),
            ..Default::default()
        }),
        containers: vec![Container {
            name: "robodev".into(),
            image: Some(image.into()),
            working_dir: Some(working_dir.clone()),
            env: (!env.is_empty()).then_some(env),
            volume_mounts: (!mounts.is_empty()).then_some(mounts),
            resources: (!limits.is_empty()).then(|| ResourceRequirements {
                limits: Some(limits),
                ..Default::default()
            }),
            security_context: Some(security),
            stdin: Some(true),
            tty: Some(true),
            ..Default::default()
        }],
        volumes: (!volumes.is_empty()).then_some(volumes),
        ..Default::default()
    };
    PodParts {
        spec,
        left_out,
        privileged_by,
    }
}

fn metadata(name: &str, profile: &str, options: &KubernetesOptions) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: options.namespace.clone(),
        labels: Some(selector_labels(profile)),
        ..Default::default()
    }
}

fn selector_labels(profile: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".into(), object_name(profile)),
        ("app.kubernetes.io/managed-by".into(), "robodev".into()),
    ])
}

fn claim(name: &str, profile: &str, options: &KubernetesOptions) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: metadata(name, profile, options),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".into(),
                    Quantity(options.workspace_size.clone()),
                )])),
                limits: None,
            }),
            ..Default::default()
        }),
        status: None,
    }
}

fn document<T: serde::Serialize>(object: &T) -> String {
    crate::text::yaml(object)
}

fn finish(
    command: &str,
    documents: Vec<String>,
    left_out: Vec<String>,
    privileged_by: &[&str],
) -> Manifests {
    let mut text = format!(
        "# {GENERATED_MARKER} (`{command}`), for Kubernetes {KUBERNETES_VERSION}: \
         `kubectl apply -f FILE`.\n"
    );
    if !privileged_by.is_empty() {
        let verb = if privileged_by.len() == 1 {
            "gives"
        } else {
            "give"
        };
        text.push_str(&format!(
            "# PRIVILEGED: {} {verb} the container every device of its node.\n",
            privileged_by.join(" and ")
        ));
    }
    for item in &left_out {
        text.push_str(&format!(
            "# Not in this file: {}\n",
            item.replace('\n', " ")
        ));
    }
    for doc in documents {
        text.push_str("---\n");
        text.push_str(&doc);
    }
    Manifests { text, left_out }
}

/// The development environment as a Pod with the workspace claim mounted (plus the claim,
/// unless an existing one is named).
pub fn dev_pod(
    profile: &str,
    container: &ContainerPlan,
    image: &str,
    options: &KubernetesOptions,
) -> Manifests {
    let name = object_name(&container.name);
    let claim_name = options.workspace_claim.clone().unwrap_or_else(|| {
        format!(
            "{}-workspace",
            object_name(&name.chars().take(53).collect::<String>())
        )
    });
    let parts = pod_parts(container, image, Some(&claim_name), options);
    let mut meta = metadata(&name, profile, options);
    meta.labels
        .get_or_insert_default()
        .insert(labels::EXPORTED_FROM.into(), object_name(profile));
    let pod = Pod {
        metadata: meta,
        spec: Some(parts.spec),
        status: None,
    };
    let mut documents = Vec::new();
    if options.workspace_claim.is_none() {
        documents.push(document(&claim(&claim_name, profile, options)));
    }
    documents.push(document(&pod));
    finish(
        &format!("robodev export k8s {profile}"),
        documents,
        parts.left_out,
        &parts.privileged_by,
    )
}

/// The deploy image as a one-replica Deployment, with the profile's hardware; no workspace.
pub fn deploy_deployment(
    profile: &str,
    container: &ContainerPlan,
    image: &str,
    options: &KubernetesOptions,
) -> Manifests {
    let name = object_name(&format!("{profile}-deploy"));
    let parts = pod_parts(container, image, None, options);
    let labels = selector_labels(&format!("{profile}-deploy"));
    let deployment = Deployment {
        metadata: metadata(&name, &format!("{profile}-deploy"), options),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                match_expressions: None,
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..Default::default()
                }),
                spec: Some(parts.spec),
            },
            ..Default::default()
        }),
        status: None,
    };
    finish(
        &format!("robodev export k8s {profile} --deploy"),
        vec![document(&deployment)],
        parts.left_out,
        &parts.privileged_by,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_dns_labels() {
        assert_eq!(
            object_name("robodev-My_WS-1a2b-humble"),
            "robodev-my-ws-1a2b-humble"
        );
        assert_eq!(object_name(&"x".repeat(80)).len(), 63);
        assert_eq!(object_name("--a--"), "a");
        assert_eq!(object_name("__"), "robodev");
    }
}

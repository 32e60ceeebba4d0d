//! Where the engine is not Docker as the rest of the plan assumes, said and adapted here, in one
//! place: Podman takes GPUs as CDI device names in `Devices` (it has no device requests for
//! the nvidia driver), a rootless engine can add no device cgroup rules nor always join the
//! host's IPC namespace, and rootless Podman maps the user's own uid into the container with
//! `keep-id`.

use super::container::{ContainerPlan, Device};
use crate::facts::EngineFacts;
use crate::notice::Notice;

pub fn adapt(container: &mut ContainerPlan, engine: &EngineFacts) {
    if let Some(version) = &engine.podman {
        let nvidia: Vec<_> = container
            .gpu_requests
            .iter()
            .filter(|g| g.driver == "nvidia" || g.driver == "cdi")
            .cloned()
            .collect();
        if !nvidia.is_empty() {
            container
                .gpu_requests
                .retain(|g| g.driver != "nvidia" && g.driver != "cdi");
            let names: Vec<String> = nvidia
                .iter()
                .flat_map(|g| {
                    if g.device_ids.is_empty() {
                        vec!["nvidia.com/gpu=all".to_string()]
                    } else {
                        g.device_ids.clone()
                    }
                })
                .collect();
            for name in &names {
                container
                    .devices
                    .push(Device::read_write(name.clone(), name.clone()));
            }
            container.notices.push(Notice::info(format!(
                "Podman {version}: the GPU as CDI devices ({}); it needs NVIDIA's CDI spec \
                 (`sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`)",
                names.join(", ")
            )));
        }
        if engine.rootless {
            container.userns_mode = Some("keep-id".into());
        }
    }
    if engine.rootless && container.ipc_mode.as_deref() == Some("host") {
        // Joining the host's IPC namespace from a user namespace needs the machine's
        // /dev/mqueue (systemd mounts it; a bare VM has none: `statfs /dev/mqueue`). What ROS 2
        // needs of it is the shared memory: the machine's /dev/shm, mounted, does the same.
        container.ipc_mode = None;
        container.push_machine_mount("/dev/shm", "/dev/shm", false);
        container.notices.push(Notice::detail(
            "the engine is rootless: the host's /dev/shm is mounted instead of joining its IPC \
             namespace (shared-memory transports work the same)",
        ));
    }
    if engine.rootless && !container.device_cgroup_rules.is_empty() {
        container.device_cgroup_rules.clear();
        container.notices.push(Notice::warning(
            "the engine is rootless: it cannot add device cgroup rules, so a device plugged in \
             after `up` needs `robodev up --recreate` (a rootful engine follows hotplug)",
        ));
    }
}

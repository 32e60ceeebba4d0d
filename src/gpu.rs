//! GPU passthrough: NVIDIA (device requests, CDI, or the Jetson runtime) and DRI (Intel/AMD).

use crate::container_plan::{ContainerPlan, Device, GpuRequest};
use crate::host::HostFacts;
use crate::profile::GpuMode;
use serde::Serialize;

/// What the engine told us about itself (`docker info` / `docker version`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DaemonFacts {
    pub server_version: String,
    pub api_version: String,
    pub runtimes: Vec<String>,
    pub cdi_spec_dirs: Vec<String>,
}

impl DaemonFacts {
    pub fn has_nvidia_runtime(&self) -> bool {
        self.runtimes.iter().any(|r| r == "nvidia")
    }

    /// CDI device requests arrived in API 1.44 (Docker 25).
    pub fn supports_cdi(&self) -> bool {
        !self.cdi_spec_dirs.is_empty() && api_at_least(&self.api_version, 1, 44)
    }
}

pub fn api_at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

/// Turn `auto` into a concrete mode, with a sentence saying what was chosen and why.
pub fn resolve(mode: GpuMode, host: &HostFacts, daemon: &DaemonFacts) -> (GpuMode, Option<String>) {
    if mode != GpuMode::Auto {
        return (mode, None);
    }
    let nvidia_engine = daemon.has_nvidia_runtime() || (daemon.supports_cdi() && host.cdi_nvidia);
    if nvidia_engine && (!host.nvidia_nodes.is_empty() || host.tegra) {
        (GpuMode::Nvidia, Some("gpu: auto → nvidia (the engine has the NVIDIA runtime or CDI, and /dev/nvidia* is present)".into()))
    } else if !host.dri_nodes.is_empty() {
        (
            GpuMode::Dri,
            Some("gpu: auto → dri (/dev/dri is present, no NVIDIA runtime)".into()),
        )
    } else {
        (GpuMode::None, Some("gpu: auto → none (no NVIDIA runtime or CDI in the engine, no /dev/dri on the host)".into()))
    }
}

pub fn apply(gpu: GpuMode, host: &HostFacts, daemon: &DaemonFacts, plan: &mut ContainerPlan) {
    match gpu {
        GpuMode::None | GpuMode::Auto => {}
        GpuMode::Nvidia => {
            if host.tegra && daemon.has_nvidia_runtime() {
                // Jetson: the nvidia runtime mounts the L4T driver stack; it takes no device requests.
                plan.runtime = Some("nvidia".into());
            } else if daemon.supports_cdi() && host.cdi_nvidia {
                plan.gpu_requests.push(GpuRequest {
                    driver: "cdi".into(),
                    count: 0,
                    device_ids: vec!["nvidia.com/gpu=all".into()],
                    capabilities: Vec::new(),
                });
            } else {
                plan.gpu_requests.push(GpuRequest {
                    driver: "nvidia".into(),
                    count: -1,
                    device_ids: Vec::new(),
                    capabilities: vec![vec!["gpu".into()]],
                });
            }
            plan.env
                .insert("NVIDIA_VISIBLE_DEVICES".into(), "all".into());
            plan.env
                .insert("NVIDIA_DRIVER_CAPABILITIES".into(), "all".into());
        }
        GpuMode::Dri => {
            for node in &host.dri_nodes {
                plan.devices.push(Device {
                    host: node.clone(),
                    container: node.clone(),
                });
            }
            for group in ["video", "render"] {
                match host.gid_of(group) {
                    Some(gid) => plan.add_group(gid),
                    None => plan
                        .notes
                        .push(format!("gpu: dri: the host has no `{group}` group")),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions() {
        assert!(api_at_least("1.44", 1, 44));
        assert!(api_at_least("1.47", 1, 44));
        assert!(!api_at_least("1.41", 1, 44));
    }
}

//! GPU passthrough: NVIDIA (device requests, CDI, or the Jetson runtime) and DRI (Intel/AMD).

use super::feature::{Check, Context, Feature};
use crate::facts::{EngineFacts, HostFacts};
use crate::notice::Notice;
use crate::plan::container::{ContainerPlan, Device, GpuRequest};
use crate::profile::GpuMode;

/// Libraries OpenGL programs (RViz, Gazebo) need when the NVIDIA runtime injects the driver.
const GLVND_PACKAGES: &[&str] = &["libglvnd0", "libgl1", "libglx0", "libegl1", "libgles2"];

const TOOLKIT_FIX: &str = "install the NVIDIA Container Toolkit and run \
    `sudo nvidia-ctk runtime configure --runtime=docker`, then restart the engine";

pub struct Gpu;

/// The engine can hand NVIDIA GPUs to containers: the nvidia runtime, or CDI with NVIDIA's spec.
fn engine_gives_nvidia(host: &HostFacts, engine: &EngineFacts) -> bool {
    engine.has_nvidia_runtime() || (engine.supports_cdi() && host.cdi_nvidia)
}

/// What to do when the engine cannot hand NVIDIA GPUs over. A Docker engine of API ≥ 1.44
/// (Docker 25–27) that reports no CDI spec directories has CDI turned off: it is on only with
/// `features.cdi` in daemon.json (Docker 28 turns it on by default).
fn engine_fix(host: &HostFacts, engine: &EngineFacts) -> String {
    let cdi_off = engine.podman.is_none()
        && engine.cdi_spec_dirs.is_empty()
        && crate::facts::engine::api_at_least(&engine.api_version, 1, 44)
        && host_has_nvidia(host);
    if !cdi_off {
        return TOOLKIT_FIX.to_string();
    }
    format!(
        "this engine (API {}) reports no CDI spec directories: Docker 25–27 use CDI only with \
         `{{\"features\": {{\"cdi\": true}}}}` in /etc/docker/daemon.json (then restart it), \
         with NVIDIA's spec written by `sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`; \
         or {TOOLKIT_FIX}",
        engine.api_version
    )
}

/// The host has an NVIDIA driver: `/dev/nvidia*`, or a Jetson (L4T).
fn host_has_nvidia(host: &HostFacts) -> bool {
    !host.nvidia_nodes.is_empty() || host.tegra
}

/// What the host alone suggests, before the engine is asked (`init`'s default).
pub fn host_suggestion(host: &HostFacts) -> GpuMode {
    if host_has_nvidia(host) {
        GpuMode::Nvidia
    } else if !host.dri_nodes.is_empty() {
        GpuMode::Dri
    } else {
        GpuMode::None
    }
}

/// Turn `auto` into a concrete mode, with a sentence saying what was chosen and why.
pub fn resolve(mode: GpuMode, host: &HostFacts, engine: &EngineFacts) -> (GpuMode, Option<Notice>) {
    if mode != GpuMode::Auto {
        return (mode, None);
    }
    let (mode, why) = if engine_gives_nvidia(host, engine) && host_has_nvidia(host) {
        (
            GpuMode::Nvidia,
            "gpu: auto → nvidia (the engine has the NVIDIA runtime or CDI, and /dev/nvidia* is present)",
        )
    } else if !host.dri_nodes.is_empty() {
        (
            GpuMode::Dri,
            "gpu: auto → dri (/dev/dri is present, no NVIDIA runtime)",
        )
    } else {
        (
            GpuMode::None,
            "gpu: auto → none (no NVIDIA runtime or CDI in the engine, no /dev/dri on the host)",
        )
    };
    (mode, Some(Notice::info(why)))
}

impl Feature for Gpu {
    fn system_packages(&self, ctx: &Context) -> Vec<&'static str> {
        if ctx.gpu == GpuMode::Nvidia {
            GLVND_PACKAGES.to_vec()
        } else {
            Vec::new()
        }
    }

    fn plan(&self, ctx: &Context, plan: &mut ContainerPlan) {
        let (host, engine) = (ctx.host, ctx.engine);
        match ctx.gpu {
            GpuMode::None | GpuMode::Auto => {}
            GpuMode::Nvidia => {
                if host.tegra && engine.has_nvidia_runtime() {
                    // Jetson: the nvidia runtime mounts the L4T driver stack; no device requests.
                    plan.runtime = Some("nvidia".into());
                } else if engine.supports_cdi() && host.cdi_nvidia {
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
                    plan.devices.push(Device::read_write(node, node));
                }
                for group in ["video", "render"] {
                    let gid = host.gid_of(group);
                    if gid.is_none() {
                        plan.notices.push(Notice::detail(format!(
                            "gpu: dri: the host has no `{group}` group"
                        )));
                    }
                    plan.add_group(group, gid);
                }
            }
        }
    }

    fn checks(&self, ctx: &Context) -> Vec<Check> {
        let host = ctx.host;
        match ctx.profile.gpu {
            GpuMode::None => Vec::new(),
            GpuMode::Auto => {
                let (mode, note) = resolve(GpuMode::Auto, host, ctx.engine);
                let detail = note.map(|n| n.text).unwrap_or_default();
                // An NVIDIA GPU the engine cannot hand over: how to make it able to.
                let unused_nvidia = mode != GpuMode::Nvidia && host_has_nvidia(host);
                vec![if mode == GpuMode::None || unused_nvidia {
                    Check::warn(
                        "gpu",
                        detail,
                        unused_nvidia.then(|| engine_fix(host, ctx.engine)),
                    )
                } else {
                    Check::ok("gpu", detail)
                }]
            }
            GpuMode::Nvidia => {
                let engine_ok = engine_gives_nvidia(host, ctx.engine);
                let engine_check = if engine_ok {
                    Check::ok(
                        "gpu: NVIDIA runtime or CDI",
                        "the engine can hand GPUs to containers",
                    )
                } else {
                    Check::fail(
                        "gpu: NVIDIA runtime or CDI",
                        "the engine has no nvidia runtime and no NVIDIA CDI spec",
                        engine_fix(host, ctx.engine),
                    )
                };
                let driver_check = if host_has_nvidia(host) {
                    Check::ok(
                        "gpu: NVIDIA driver",
                        format!("{} present", host.nvidia_nodes.join(", ")),
                    )
                } else {
                    Check::fail(
                        "gpu: NVIDIA driver",
                        "no /dev/nvidia* devices",
                        "install the NVIDIA driver (`nvidia-smi` should work on the host)",
                    )
                };
                vec![engine_check, driver_check]
            }
            GpuMode::Dri => vec![if host.dri_nodes.is_empty() {
                Check::fail(
                    "gpu: /dev/dri",
                    "no /dev/dri devices",
                    "load the GPU's kernel driver (i915, amdgpu), or set `gpu: none`",
                )
            } else {
                Check::ok("gpu: /dev/dri", host.dri_nodes.join(", "))
            }],
        }
    }
}

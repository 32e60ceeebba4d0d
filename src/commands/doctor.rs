//! `robodev doctor`: one line per check, ✓/✗ and the fix; non-zero when a required check fails.

use super::Session;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::host::HostFacts;
use crate::profile::{GpuMode, Profile};
use serde::Serialize;

#[derive(Debug, Serialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn check(
    name: impl Into<String>,
    status: Status,
    detail: impl Into<String>,
    fix: Option<String>,
) -> Check {
    Check {
        name: name.into(),
        status,
        detail: detail.into(),
        fix,
    }
}

/// Free bytes on the filesystem holding `path` (via `df`, which every host has).
fn free_bytes(path: &str) -> Option<u64> {
    let out = std::process::Command::new("df")
        .args(["-Pk", path])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().nth(1)?;
    line.split_whitespace()
        .nth(3)?
        .parse::<u64>()
        .ok()
        .map(|k| k * 1024)
}

pub async fn doctor(s: &Session, reference: Option<&str>, json: bool) -> Result<i32> {
    let profile = match reference {
        Some(r) => Some(s.profile(Some(r))?),
        None if s
            .workspace
            .root
            .join(crate::profile_source::WORKSPACE_FILE)
            .exists() =>
        {
            Some(s.profile(None)?)
        }
        None => None,
    };
    let mut checks = Vec::new();
    let engine = match Engine::connect().await {
        Ok(engine) => Some(engine),
        Err(e) => {
            let (detail, fix) = match &e {
                Error::Engine { message, help, .. } => (message.clone(), help.clone()),
                other => (other.to_string(), None),
            };
            let name = if detail.contains("permission") {
                "engine socket permission"
            } else {
                "engine reachable"
            };
            checks.push(check(name, Status::Fail, detail, fix));
            None
        }
    };
    let daemon = match &engine {
        Some(engine) => {
            let facts = engine.daemon_facts().await?;
            checks.push(check(
                "engine reachable",
                Status::Ok,
                format!(
                    "Docker {} (API {})",
                    facts.server_version, facts.api_version
                ),
                None,
            ));
            checks.push(check(
                "engine socket permission",
                Status::Ok,
                "this user can use the engine",
                None,
            ));
            facts
        }
        None => Default::default(),
    };
    const NEED: u64 = 10 << 30;
    match free_bytes("/var/lib/docker").or_else(|| free_bytes("/")) {
        Some(free) if free >= NEED => checks.push(check(
            "disk space",
            Status::Ok,
            format!("{} GiB free for images", free >> 30),
            None,
        )),
        Some(free) => checks.push(check(
            "disk space",
            Status::Warn,
            format!(
                "only {} GiB free; a ROS desktop image needs several",
                free >> 30
            ),
            Some("free space, or run `robodev clean` and `docker system prune`".into()),
        )),
        None => {}
    }
    if let Some(profile) = &profile {
        profile_checks(profile, &HostFacts::probe(profile), &daemon, &mut checks);
    }

    let failed = checks.iter().any(|c| c.status == Status::Fail);
    if json {
        crate::ui::print_out(&serde_json::to_string_pretty(&checks).unwrap_or_default());
    } else {
        let mut text = String::new();
        if let Some(p) = &profile {
            text.push_str(&format!("robodev doctor — profile {}\n", p.name));
        }
        for c in &checks {
            let mark = match c.status {
                Status::Ok => s.ui.check_mark(true),
                Status::Warn => "!".to_string(),
                Status::Fail => s.ui.check_mark(false),
            };
            text.push_str(&format!("{mark} {}: {}\n", c.name, c.detail));
            if let Some(fix) = &c.fix {
                text.push_str(&format!("    fix: {fix}\n"));
            }
        }
        crate::ui::print_out(&text);
    }
    Ok(if failed { 1 } else { 0 })
}

fn profile_checks(
    profile: &Profile,
    host: &HostFacts,
    daemon: &crate::gpu::DaemonFacts,
    checks: &mut Vec<Check>,
) {
    match profile.gpu {
        GpuMode::None => {}
        GpuMode::Auto => {
            let (mode, note) = crate::gpu::resolve(GpuMode::Auto, host, daemon);
            checks.push(check(
                "gpu",
                if mode == GpuMode::None {
                    Status::Warn
                } else {
                    Status::Ok
                },
                note.unwrap_or_default(),
                None,
            ));
        }
        GpuMode::Nvidia => {
            let engine_ok =
                daemon.has_nvidia_runtime() || (daemon.supports_cdi() && host.cdi_nvidia);
            checks.push(check(
                "gpu: NVIDIA runtime or CDI",
                if engine_ok { Status::Ok } else { Status::Fail },
                if engine_ok { "the engine can hand GPUs to containers".to_string() } else { "the engine has no nvidia runtime and no NVIDIA CDI spec".to_string() },
                (!engine_ok).then(|| "install the NVIDIA Container Toolkit and run `sudo nvidia-ctk runtime configure --runtime=docker`, then restart the engine".into()),
            ));
            let nodes = !host.nvidia_nodes.is_empty() || host.tegra;
            checks.push(check(
                "gpu: NVIDIA driver",
                if nodes { Status::Ok } else { Status::Fail },
                if nodes {
                    format!("{} present", host.nvidia_nodes.join(", "))
                } else {
                    "no /dev/nvidia* devices".into()
                },
                (!nodes).then(|| {
                    "install the NVIDIA driver (`nvidia-smi` should work on the host)".into()
                }),
            ));
        }
        GpuMode::Dri => {
            let ok = !host.dri_nodes.is_empty();
            checks.push(check(
                "gpu: /dev/dri",
                if ok { Status::Ok } else { Status::Fail },
                if ok {
                    host.dri_nodes.join(", ")
                } else {
                    "no /dev/dri devices".into()
                },
                (!ok).then(|| {
                    "load the GPU's kernel driver (i915, amdgpu), or set `gpu: none`".into()
                }),
            ));
        }
    }
    for d in &profile.devices {
        match host.devices.get(&d.path).cloned().flatten() {
            Some(node) => checks.push(check(
                format!("device {}", d.path),
                Status::Ok,
                format!("present ({} {}:{})", node.real_path, node.major, node.minor),
                None,
            )),
            None => {
                let alternatives = host
                    .device_alternatives
                    .get(&d.path)
                    .cloned()
                    .unwrap_or_default();
                let detail = if alternatives.is_empty() {
                    "not present".to_string()
                } else {
                    format!("not present; present instead: {}", alternatives.join(", "))
                };
                checks.push(check(
                    format!("device {}", d.path),
                    if d.optional { Status::Warn } else { Status::Fail },
                    detail,
                    Some("plug it in (see `dmesg`), fix the path in the profile, or mark it `optional: true`".into()),
                ));
            }
        }
    }
    if profile.x11 {
        let d = &host.display;
        match (&d.display, &d.x11_socket) {
            (None, _) => checks.push(check(
                "x11 display",
                Status::Fail,
                "DISPLAY is not set",
                Some("run from a graphical session or `export DISPLAY=:0`".into()),
            )),
            (Some(disp), None) if disp.starts_with(':') => checks.push(check(
                "x11 display",
                Status::Fail,
                format!("DISPLAY={disp}, but /tmp/.X11-unix has no socket for it"),
                Some("start the X server, or fix DISPLAY".into()),
            )),
            (Some(disp), _) => {
                checks.push(check(
                    "x11 display",
                    Status::Ok,
                    format!("DISPLAY={disp}"),
                    None,
                ));
                let cookie = d
                    .xauthority
                    .as_ref()
                    .and_then(|p| std::fs::read(p).ok())
                    .map(|bytes| !crate::display::wildcard_cookie(&bytes, disp).is_empty())
                    .unwrap_or(false);
                checks.push(check(
                    "x11 cookie",
                    if cookie { Status::Ok } else { Status::Warn },
                    if cookie { "an Xauthority cookie exists for the display".to_string() } else { "no Xauthority cookie for the display (fine for a server without access control)".to_string() },
                    None,
                ));
            }
        }
    }
    if profile.wayland {
        let ok = host.display.wayland_socket.is_some();
        checks.push(check(
            "wayland socket",
            if ok { Status::Ok } else { Status::Fail },
            host.display
                .wayland_socket
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "no $XDG_RUNTIME_DIR/$WAYLAND_DISPLAY socket".into()),
            (!ok).then(|| {
                "run from a Wayland session (WAYLAND_DISPLAY and XDG_RUNTIME_DIR set)".into()
            }),
        ));
    }
    if profile.audio {
        let ok = host.display.pulse_socket.is_some();
        checks.push(check(
            "audio socket",
            if ok { Status::Ok } else { Status::Fail },
            host.display
                .pulse_socket
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "no PulseAudio/PipeWire socket".into()),
            (!ok).then(|| {
                "start pulseaudio or pipewire-pulse (or set PULSE_SERVER=unix:/path)".into()
            }),
        ));
    }
}

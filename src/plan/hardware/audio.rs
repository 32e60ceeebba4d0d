//! `audio: true` — the PulseAudio (or pipewire-pulse) socket and cookie.

use super::feature::{Check, Context, Feature};
use crate::notice::Problem;
use crate::plan::container::{ContainerPlan, MountKind};
use std::path::PathBuf;

pub struct Audio;

/// Where the cookie appears inside the container.
const COOKIE_INSIDE: &str = "/run/robodev/pulse-cookie";

fn socket(ctx: &Context) -> Result<PathBuf, Problem> {
    ctx.host.display.pulse_socket.clone().ok_or_else(|| {
        Problem::new(
            "audio: true, but no PulseAudio/PipeWire socket was found ($XDG_RUNTIME_DIR/pulse/native or PULSE_SERVER)",
            "start pulseaudio or pipewire-pulse (or set PULSE_SERVER=unix:/path), or set `audio: false`",
        )
    })
}

impl Feature for Audio {
    fn plan(&self, ctx: &Context, plan: &mut ContainerPlan) {
        if !ctx.profile.audio {
            return;
        }
        let socket = match socket(ctx) {
            Ok(s) => s,
            Err(problem) => return super::feature::absent_on_machine(ctx, plan, problem),
        };
        let runtime_dir = plan.user.runtime_dir();
        let inside = format!("{runtime_dir}/pulse/native");
        plan.push_machine_mount(&socket.display().to_string(), &inside, false);
        plan.env
            .insert("PULSE_SERVER".into(), format!("unix:{inside}"));
        if let Some(cookie) = &ctx.host.display.pulse_cookie {
            plan.push_mount(
                MountKind::Bind,
                cookie.display().to_string(),
                COOKIE_INSIDE,
                true,
            );
            plan.env.insert("PULSE_COOKIE".into(), COOKIE_INSIDE.into());
        }
        plan.env.insert("XDG_RUNTIME_DIR".into(), runtime_dir);
    }

    fn checks(&self, ctx: &Context) -> Vec<Check> {
        if !ctx.profile.audio {
            return Vec::new();
        }
        vec![super::feature::display_check(
            ctx,
            Check::of("audio socket", &socket(ctx), |p| p.display().to_string()),
        )]
    }
}

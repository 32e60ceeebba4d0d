//! `wayland: true` — the compositor's socket in the container user's private runtime directory.

use super::feature::{Check, Context, Feature};
use crate::notice::Problem;
use crate::plan::container::ContainerPlan;
use std::path::PathBuf;

pub struct Wayland;

fn socket(ctx: &Context) -> Result<PathBuf, Problem> {
    ctx.host.display.wayland_socket.clone().ok_or_else(|| {
        Problem::new(
            "wayland: true, but no Wayland socket was found (WAYLAND_DISPLAY in XDG_RUNTIME_DIR)",
            "run robodev from a Wayland session (WAYLAND_DISPLAY and XDG_RUNTIME_DIR set), or set `wayland: false`",
        )
    })
}

impl Feature for Wayland {
    fn plan(&self, ctx: &Context, plan: &mut ContainerPlan) {
        if !ctx.profile.wayland {
            return;
        }
        let socket = match socket(ctx) {
            Ok(s) => s,
            Err(problem) => return super::feature::absent_on_machine(ctx, plan, problem),
        };
        let runtime_dir = plan.user.runtime_dir();
        let name = socket
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "wayland-0".into());
        plan.push_machine_mount(
            &socket.display().to_string(),
            &format!("{runtime_dir}/{name}"),
            false,
        );
        plan.env.insert("WAYLAND_DISPLAY".into(), name);
        plan.env.insert("XDG_RUNTIME_DIR".into(), runtime_dir);
    }

    fn checks(&self, ctx: &Context) -> Vec<Check> {
        if !ctx.profile.wayland {
            return Vec::new();
        }
        vec![super::feature::display_check(
            ctx,
            Check::of("wayland socket", &socket(ctx), |p| p.display().to_string()),
        )]
    }
}

//! `git_config: true` — the host user's `~/.gitconfig`, read-only, in the container user's home.

use super::feature::{Check, Context, Feature};
use crate::notice::Notice;
use crate::plan::container::{ContainerPlan, MountKind};

pub struct GitConfig;

const ABSENT: &str = "git_config: true, but there is no ~/.gitconfig on the host";

impl Feature for GitConfig {
    fn plan(&self, ctx: &Context, plan: &mut ContainerPlan) {
        if !ctx.profile.git_config {
            return;
        }
        match &ctx.host.display.gitconfig {
            Some(cfg) => {
                let target = format!("{}/.gitconfig", plan.user.home);
                plan.push_mount(MountKind::Bind, cfg.display().to_string(), target, true);
            }
            None => plan.notices.push(Notice::warning(ABSENT)),
        }
    }

    fn checks(&self, ctx: &Context) -> Vec<Check> {
        if !ctx.profile.git_config {
            return Vec::new();
        }
        vec![match &ctx.host.display.gitconfig {
            Some(cfg) => Check::ok("git config", cfg.display().to_string()),
            None => Check::warn("git config", ABSENT, None),
        }]
    }
}

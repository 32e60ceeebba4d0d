//! `ssh_agent: true` — the host's SSH agent socket, so `git` over ssh works inside.

use super::feature::{Check, Context, Feature};
use crate::notice::Notice;
use crate::plan::container::{ContainerPlan, MountKind};

pub struct SshAgent;

const SOCKET_INSIDE: &str = "/run/robodev/ssh-agent.sock";
const ABSENT: &str =
    "ssh_agent: true, but SSH_AUTH_SOCK is not set to a socket; no agent forwarded";

impl Feature for SshAgent {
    fn plan(&self, ctx: &Context, plan: &mut ContainerPlan) {
        if !ctx.profile.ssh_agent {
            return;
        }
        match &ctx.host.display.ssh_agent_socket {
            Some(sock) => {
                plan.push_mount(
                    MountKind::Bind,
                    sock.display().to_string(),
                    SOCKET_INSIDE,
                    false,
                );
                plan.env
                    .insert("SSH_AUTH_SOCK".into(), SOCKET_INSIDE.into());
            }
            None => plan.notices.push(Notice::warning(ABSENT)),
        }
    }

    fn checks(&self, ctx: &Context) -> Vec<Check> {
        if !ctx.profile.ssh_agent {
            return Vec::new();
        }
        vec![match &ctx.host.display.ssh_agent_socket {
            Some(sock) => Check::ok("ssh agent", sock.display().to_string()),
            None => Check::warn(
                "ssh agent",
                ABSENT,
                Some("start an agent (`eval $(ssh-agent)`, `ssh-add`) before robodev".into()),
            ),
        }]
    }
}

//! How `shell`, `exec` and `up` run a process in an environment's container. Needs only the
//! profile, the workspace and the host user (no device or display probing), so `exec` keeps
//! working when an optional device went away.

use super::user::ContainerUser;
use crate::facts::{HostUser, Workspace};
use crate::profile::Profile;
use serde::Serialize;
use std::path::Path;

/// Where the image keeps the script that sources the ROS setup, then `exec`s its arguments.
/// The Dockerfile template copies it there under this name.
pub const ENTRYPOINT: &str = "/usr/local/bin/robodev-entrypoint";

/// The environment's container and how processes run in it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExecPlan {
    pub container: String,
    pub user: ContainerUser,
    pub working_dir: String,
    pub shell: String,
}

/// What robodev's own terminal is: whether stdin/stdout are terminals, and the variables
/// (`TERM`, `LANG`, …) passed on to the process.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Terminal {
    pub stdin_tty: bool,
    pub stdout_tty: bool,
    pub env: Vec<String>,
}

impl Terminal {
    /// A TTY for the process when both ends are terminals.
    pub fn tty(&self) -> bool {
        self.stdin_tty && self.stdout_tty
    }

    /// Whether our stdin goes to the process: piped input always (`robodev run -- bash <
    /// script.sh`), a terminal only when we also drive a TTY.
    pub fn attach_stdin(&self) -> bool {
        self.tty() || !self.stdin_tty
    }
}

/// What to run in a container, and how to connect the terminal.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExecSpec {
    pub cmd: Vec<String>,
    pub user: String,
    pub working_dir: String,
    pub env: Vec<String>,
    pub tty: bool,
    pub stdin: bool,
}

impl ExecPlan {
    /// `cwd`: where robodev runs; inside the workspace, the process starts in the same
    /// subdirectory of the mount (`cd src/pkg && robodev exec -- ls` lists `src/pkg`).
    pub fn new(
        profile: &Profile,
        workspace: &Workspace,
        host_user: &HostUser,
        cwd: Option<&Path>,
    ) -> ExecPlan {
        let mount = workspace.mount_point(profile);
        let relative = cwd.and_then(|cwd| cwd.strip_prefix(workspace.host_path(profile)).ok());
        let working_dir = match relative {
            Some(rel) if !rel.as_os_str().is_empty() => {
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                format!("{}/{}", mount.trim_end_matches('/'), parts.join("/"))
            }
            _ => mount,
        };
        ExecPlan {
            container: workspace.container_name(&profile.name),
            user: ContainerUser::for_profile(profile, host_user),
            working_dir,
            shell: profile.shell.path().to_string(),
        }
    }

    /// An interactive shell: a TTY when both ends are terminals, stdin always attached.
    pub fn shell(&self, term: &Terminal) -> ExecSpec {
        ExecSpec {
            cmd: vec![self.shell.clone()],
            user: self.user.spec(),
            working_dir: self.working_dir.clone(),
            env: term.env.clone(),
            tty: term.tty(),
            stdin: true,
        }
    }

    /// A command, through the entrypoint so the ROS environment is set up.
    pub fn command(&self, cmd: Vec<String>, term: &Terminal) -> ExecSpec {
        let mut full = vec![ENTRYPOINT.to_string()];
        full.extend(cmd);
        ExecSpec {
            cmd: full,
            user: self.user.spec(),
            working_dir: self.working_dir.clone(),
            env: term.env.clone(),
            tty: term.tty(),
            stdin: term.attach_stdin(),
        }
    }
}

//! An engine on another machine, reached as the docker CLI does: `ssh HOST docker system
//! dial-stdio`, each HTTP connection one stream over the system's `ssh` (its config, keys and
//! agent apply). One ssh master connection is kept (ControlMaster, for a minute after the last
//! use), so every request after the first costs a multiplexed channel, not a handshake.
//! A first check over that master says plainly what is wrong: the host unreachable, the key
//! refused, no docker CLI on the remote, or its user not allowed on the engine's socket.

use crate::error::{Error, Result};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// `ssh://[USER@]HOST[:PORT]`, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshTarget {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl SshTarget {
    pub fn parse(url: &str) -> Result<SshTarget> {
        let bad = || {
            Error::usage_with_help(
                format!("`{url}` is not an ssh engine address"),
                "write it as ssh://USER@HOST or ssh://USER@HOST:PORT",
            )
        };
        let rest = url.strip_prefix("ssh://").ok_or_else(bad)?;
        let rest = rest.trim_end_matches('/');
        let (user, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_string()), h),
            None => (None, rest),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.contains(']') || h.ends_with(']') => {
                (h.to_string(), Some(p.parse::<u16>().map_err(|_| bad())?))
            }
            _ => (hostport.to_string(), None),
        };
        let ok = |s: &str| {
            !s.is_empty()
                && !s.starts_with('-')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-[]:".contains(c))
        };
        if !ok(&host) || user.as_deref().is_some_and(|u| !ok(u)) {
            return Err(bad());
        }
        Ok(SshTarget { user, host, port })
    }

    /// `ssh` with the master-connection options, the target, and `--` before `remote`.
    fn command(&self, control_dir: &std::path::Path, remote: &[&str]) -> Command {
        let mut c = Command::new("ssh");
        c.args(["-o", "BatchMode=yes", "-o", "ConnectTimeout=5"])
            .args(["-o", "ServerAliveInterval=15", "-o", "ControlMaster=auto"])
            .arg("-o")
            .arg(format!("ControlPath={}/%C", control_dir.display()))
            .args(["-o", "ControlPersist=60"]);
        if let Some(port) = self.port {
            c.arg("-p").arg(port.to_string());
        }
        if let Some(user) = &self.user {
            c.arg("-l").arg(user);
        }
        c.arg(&self.host).arg("--").args(remote);
        c.kill_on_drop(true);
        c
    }
}

/// Over ssh (starting the master connection), in one remote command: ask the remote's docker
/// CLI for the engine's API version, then who the ssh user is there (the container user on
/// that machine is this one, not the local user). Each failure gets its own message, within
/// seconds.
pub async fn check(
    target: &SshTarget,
    control_dir: &std::path::Path,
) -> Result<crate::facts::host::HostUser> {
    std::fs::create_dir_all(control_dir).map_err(|e| Error::io_path("create", control_dir, e))?;
    let mut cmd = target.command(
        control_dir,
        &[
            "sh",
            "-c",
            "'docker version --format {{.Server.APIVersion}} >/dev/null && id -u && id -g && id -un && echo \"$HOME\"'",
        ],
    );
    cmd.stdin(Stdio::null());
    let output = tokio::time::timeout(Duration::from_secs(15), cmd.output())
        .await
        .map_err(|_| ssh_error(target, "no answer within 15 s", None))?
        .map_err(|e| {
            ssh_error(
                target,
                &format!("cannot run ssh: {e}"),
                Some(
                    "install an OpenSSH client (Debian/Ubuntu: `sudo apt install openssh-client`)",
                ),
            )
        })?;
    if output.status.success() {
        return identity(target, &String::from_utf8_lossy(&output.stdout));
    }
    let said = String::from_utf8_lossy(&output.stderr).to_string();
    let lower = said.to_ascii_lowercase();
    let (message, help) = if lower.contains("permission denied (") {
        (
            "the ssh login was refused (no key it accepts)".to_string(),
            "check `ssh USER@HOST` works without a password: the key in your agent or \
             ~/.ssh, and the remote's authorized_keys",
        )
    } else if lower.contains("connection refused")
        || lower.contains("timed out")
        || lower.contains("no route to host")
        || lower.contains("could not resolve")
        || lower.contains("network is unreachable")
    {
        (
            format!("the host is unreachable ({})", first_line(&said)),
            "is the machine on, and sshd listening on that port?",
        )
    } else if output.status.code() == Some(127) || lower.contains("command not found") {
        (
            "there is no docker CLI on the remote machine (robodev runs `docker system \
             dial-stdio` there, as the docker CLI does)"
                .to_string(),
            "install the docker CLI on the remote (Debian/Ubuntu: `sudo apt install docker.io`)",
        )
    } else if lower.contains("permission denied") && lower.contains("docker") {
        (
            "the remote user may not use the engine's socket".to_string(),
            "on the remote: `sudo usermod -aG docker USER`, then log in again",
        )
    } else if lower.contains("cannot connect to the docker daemon") {
        (
            "no engine is running on the remote machine".to_string(),
            "start it there (`sudo systemctl start docker`)",
        )
    } else {
        (
            first_line(&said),
            "try `ssh USER@HOST docker version` to see more",
        )
    };
    Err(ssh_error(target, &message, Some(help)))
}

/// `id -u`, `id -g`, `id -un` and `$HOME`, one per line, as the remote said them.
fn identity(target: &SshTarget, text: &str) -> Result<crate::facts::host::HostUser> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let parsed = (lines.len() >= 4)
        .then(|| Some((lines[0].parse().ok()?, lines[1].parse().ok()?)))
        .flatten();
    let Some((uid, gid)) = parsed else {
        return Err(ssh_error(
            target,
            &format!(
                "cannot tell the remote user's uid and gid (`id` said: {})",
                first_line(text)
            ),
            None,
        ));
    };
    Ok(crate::facts::host::HostUser {
        name: lines[2].to_string(),
        uid,
        gid,
        home: PathBuf::from(lines[3]),
    })
}

fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("ssh failed")
        .trim()
        .to_string()
}

fn ssh_error(target: &SshTarget, message: &str, help: Option<&str>) -> Error {
    Error::Engine {
        action: format!("cannot reach the Docker engine on {} over ssh", target.host),
        message: message.to_string(),
        help: help.map(String::from),
    }
}

/// Opens one `docker system dial-stdio` stream per HTTP connection.
#[derive(Clone)]
pub struct SshConnector {
    pub target: SshTarget,
    pub control_dir: PathBuf,
}

pub struct SshStream {
    _child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

impl AsyncRead for SshStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stdout).poll_read(cx, buf)
    }
}

impl AsyncWrite for SshStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stdin).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stdin).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stdin).poll_shutdown(cx)
    }
}

impl Connection for SshStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl tower_service::Service<hyper::Uri> for SshConnector {
    type Response = TokioIo<SshStream>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<TokioIo<SshStream>>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let mut cmd = self
            .target
            .command(&self.control_dir, &["docker", "system", "dial-stdio"]);
        Box::pin(async move {
            let mut child = cmd
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()?;
            let stdin = child.stdin.take().expect("piped");
            let stdout = child.stdout.take().expect("piped");
            Ok(TokioIo::new(SshStream {
                _child: child,
                stdin,
                stdout,
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_addresses_with_and_without_user_and_port() {
        let t = SshTarget::parse("ssh://robot@127.0.0.1:2222").unwrap();
        assert_eq!(
            t,
            SshTarget {
                user: Some("robot".into()),
                host: "127.0.0.1".into(),
                port: Some(2222)
            }
        );
        let t = SshTarget::parse("ssh://build-server").unwrap();
        assert_eq!((t.user, t.port), (None, None));
        assert!(SshTarget::parse("ssh://-oProxyCommand=x").is_err());
        assert!(SshTarget::parse("ssh://a@b:notaport").is_err());
        assert!(SshTarget::parse("ssh://a;b@c").is_err());
    }
}

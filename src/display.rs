//! Display and sound: X11 (with a per-container cookie, never `xhost +`), Wayland, PulseAudio,
//! and the conveniences rocker users rely on (SSH agent, git config).

use crate::container_plan::{ContainerPlan, MountKind, X11Cookie};
use crate::error::{Error, Result};
use crate::host::HostFacts;
use crate::profile::Profile;

/// Where the cookie appears inside the container.
pub const XAUTH_INSIDE: &str = "/tmp/.robodev.xauth";

pub fn apply(profile: &Profile, host: &HostFacts, plan: &mut ContainerPlan) -> Result<()> {
    let runtime_dir = format!("/run/user/{}", plan.user.uid);
    if profile.x11 {
        let display = host.display.display.clone().ok_or_else(|| {
            Error::host(
                "x11: true, but DISPLAY is not set on this host",
                "run robodev from a graphical session (or `export DISPLAY=:0`), or set `x11: false`",
            )
        })?;
        if host.display.x11_socket.is_none() && display.starts_with(':') {
            return Err(Error::host(
                format!(
                    "x11: true, but the X server for DISPLAY={display} has no socket in /tmp/.X11-unix"
                ),
                "start the X server (or fix DISPLAY), or set `x11: false`",
            ));
        }
        let cookie_file = host
            .state_dir
            .join("x11")
            .join(format!("{}.xauth", plan.name));
        plan.push_mount(MountKind::Bind, "/tmp/.X11-unix", "/tmp/.X11-unix", false);
        plan.push_mount(
            MountKind::Bind,
            cookie_file.display().to_string(),
            XAUTH_INSIDE,
            true,
        );
        plan.env.insert("DISPLAY".into(), display.clone());
        plan.env.insert("XAUTHORITY".into(), XAUTH_INSIDE.into());
        plan.env.insert("QT_X11_NO_MITSHM".into(), "1".into());
        plan.x11_cookie = Some(X11Cookie {
            host_file: cookie_file.display().to_string(),
            display,
            source: host
                .display
                .xauthority
                .as_ref()
                .map(|p| p.display().to_string()),
        });
    }
    if profile.wayland {
        let socket = host.display.wayland_socket.clone().ok_or_else(|| {
            Error::host(
                "wayland: true, but no Wayland socket was found (WAYLAND_DISPLAY in XDG_RUNTIME_DIR)",
                "run robodev from a Wayland session, or set `wayland: false`",
            )
        })?;
        let name = socket
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "wayland-0".into());
        plan.push_mount(
            MountKind::Bind,
            socket.display().to_string(),
            format!("{runtime_dir}/{name}"),
            false,
        );
        plan.env.insert("WAYLAND_DISPLAY".into(), name);
        plan.env
            .insert("XDG_RUNTIME_DIR".into(), runtime_dir.clone());
    }
    if profile.audio {
        let socket = host.display.pulse_socket.clone().ok_or_else(|| {
            Error::host(
                "audio: true, but no PulseAudio/PipeWire socket was found ($XDG_RUNTIME_DIR/pulse/native or PULSE_SERVER)",
                "start PulseAudio or pipewire-pulse, or set `audio: false`",
            )
        })?;
        let inside = format!("{runtime_dir}/pulse/native");
        plan.push_mount(
            MountKind::Bind,
            socket.display().to_string(),
            inside.clone(),
            false,
        );
        plan.env
            .insert("PULSE_SERVER".into(), format!("unix:{inside}"));
        if let Some(cookie) = &host.display.pulse_cookie {
            plan.push_mount(
                MountKind::Bind,
                cookie.display().to_string(),
                "/run/robodev/pulse-cookie",
                true,
            );
            plan.env
                .insert("PULSE_COOKIE".into(), "/run/robodev/pulse-cookie".into());
        }
        plan.env
            .insert("XDG_RUNTIME_DIR".into(), runtime_dir.clone());
    }
    if profile.ssh_agent {
        match &host.display.ssh_agent_socket {
            Some(sock) => {
                plan.push_mount(
                    MountKind::Bind,
                    sock.display().to_string(),
                    "/run/robodev/ssh-agent.sock",
                    false,
                );
                plan.env
                    .insert("SSH_AUTH_SOCK".into(), "/run/robodev/ssh-agent.sock".into());
            }
            None => plan.warnings.push(
                "ssh_agent: true, but SSH_AUTH_SOCK is not set to a socket; no agent forwarded"
                    .into(),
            ),
        }
    }
    if profile.git_config {
        match &host.display.gitconfig {
            Some(cfg) => {
                let target = format!("{}/.gitconfig", plan.user.home);
                plan.push_mount(MountKind::Bind, cfg.display().to_string(), target, true);
            }
            None => plan
                .warnings
                .push("git_config: true, but there is no ~/.gitconfig on the host".into()),
        }
    }
    Ok(())
}

/// The X11 cookie for `display`, rewritten to the wildcard family (0xffff) so it matches
/// whatever hostname the container has. Input and output are Xauthority files.
pub fn wildcard_cookie(xauthority: &[u8], display: &str) -> Vec<u8> {
    let number = crate::host::display_number(display)
        .map(|n| n.to_string())
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut rest = xauthority;
    while let Some((entry, tail)) = read_entry(rest) {
        rest = tail;
        if entry.number == number.as_bytes() {
            out.extend_from_slice(&0xffffu16.to_be_bytes());
            for field in [&entry.address, &entry.number, &entry.name, &entry.data] {
                out.extend_from_slice(&(field.len() as u16).to_be_bytes());
                out.extend_from_slice(field);
            }
        }
    }
    out
}

struct XauthEntry {
    address: Vec<u8>,
    number: Vec<u8>,
    name: Vec<u8>,
    data: Vec<u8>,
}

fn read_entry(bytes: &[u8]) -> Option<(XauthEntry, &[u8])> {
    fn field(b: &[u8]) -> Option<(Vec<u8>, &[u8])> {
        let len = u16::from_be_bytes([*b.first()?, *b.get(1)?]) as usize;
        let body = b.get(2..2 + len)?;
        Some((body.to_vec(), &b[2 + len..]))
    }
    let rest = bytes.get(2..)?;
    let (address, rest) = field(rest)?;
    let (number, rest) = field(rest)?;
    let (name, rest) = field(rest)?;
    let (data, rest) = field(rest)?;
    Some((
        XauthEntry {
            address,
            number,
            name,
            data,
        },
        rest,
    ))
}

/// Write the cookie in place (same inode), because the container bind-mounts this very file.
pub fn refresh_cookie(cookie: &X11Cookie) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let source = cookie
        .source
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .unwrap_or_default();
    let bytes = wildcard_cookie(&source, &cookie.display);
    let path = std::path::Path::new(&cookie.host_file);
    crate::files::ensure_parent(path)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io_path("write the X11 cookie", path, e))?;
    file.write_all(&bytes)
        .map_err(|e| Error::io_path("write the X11 cookie", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(family: u16, addr: &str, num: &str) -> Vec<u8> {
        let mut v = family.to_be_bytes().to_vec();
        for f in [
            addr.as_bytes(),
            num.as_bytes(),
            b"MIT-MAGIC-COOKIE-1",
            &[7u8; 16],
        ] {
            v.extend_from_slice(&(f.len() as u16).to_be_bytes());
            v.extend_from_slice(f);
        }
        v
    }

    #[test]
    fn cookie_is_rewritten_to_wildcard_for_the_display_only() {
        let mut file = entry(256, "myhost", "0");
        file.extend(entry(256, "myhost", "99"));
        let out = wildcard_cookie(&file, ":99");
        assert_eq!(&out[..2], &[0xff, 0xff]);
        let (e, rest) = read_entry(&out).unwrap();
        assert_eq!(e.number, b"99");
        assert!(rest.is_empty());
    }
}

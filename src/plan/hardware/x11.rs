//! `x11: true` — the X server's socket and a per-container cookie (never `xhost +`). The cookie
//! is the wildcard-family copy of the user's, written in place before every start. On an
//! engine on another machine, that machine's X server (windows open on its screen), without a
//! cookie: the user's cookie there is a secret robodev does not read; the server accepts the
//! user's uid once `xhost +SI:localuser:USER` allows it.

use super::feature::{Check, Context, Feature};
use crate::error::{Error, Result};
use crate::facts::host::display_number;
use crate::notice::{Notice, Problem};
use crate::plan::container::{ContainerPlan, MountKind, X11Cookie};

/// Where the cookie appears inside the container.
pub const XAUTH_INSIDE: &str = "/tmp/.robodev.xauth";

pub struct X11;

/// The display to forward, or why there is none.
fn display(ctx: &Context) -> std::result::Result<String, Problem> {
    let display = ctx.host.display.display.clone().ok_or_else(|| match &ctx.host.machine {
        None => Problem::new(
            "x11: true, but DISPLAY is not set on this host",
            "run robodev from a graphical session (or `export DISPLAY=:0`), or set `x11: false`",
        ),
        Some(machine) => Problem::new(
            format!("x11: true, but {machine} has no X server (no socket in /tmp/.X11-unix)"),
            "log in to its desktop, or set `x11: false`",
        ),
    })?;
    if ctx.host.display.x11_socket.is_none() && display.starts_with(':') {
        return Err(Problem::new(
            format!(
                "x11: true, but the X server for DISPLAY={display} has no socket in /tmp/.X11-unix"
            ),
            "start the X server (or fix DISPLAY), or set `x11: false`",
        ));
    }
    Ok(display)
}

impl Feature for X11 {
    fn plan(&self, ctx: &Context, plan: &mut ContainerPlan) {
        if !ctx.profile.x11 {
            return;
        }
        let display = match display(ctx) {
            Ok(d) => d,
            Err(problem) => return super::feature::absent_on_machine(ctx, plan, problem),
        };
        plan.push_machine_mount("/tmp/.X11-unix", "/tmp/.X11-unix", false);
        plan.env.insert("DISPLAY".into(), display.clone());
        plan.env.insert("QT_X11_NO_MITSHM".into(), "1".into());
        if let Some(machine) = &ctx.host.machine {
            plan.notices.push(Notice::info(format!(
                "x11: windows open on the display {display} of {machine}; its X server must \
                 accept uid {uid} (`xhost +SI:localuser:{user}` in the desktop session there)",
                uid = plan.user.uid,
                user = ctx.host.user.name
            )));
            return;
        }
        let cookie_file = ctx
            .host
            .state_dir
            .join("x11")
            .join(format!("{}.xauth", plan.name));
        plan.push_mount(
            MountKind::Bind,
            cookie_file.display().to_string(),
            XAUTH_INSIDE,
            true,
        );
        plan.env.insert("XAUTHORITY".into(), XAUTH_INSIDE.into());
        plan.x11_cookie = Some(X11Cookie {
            host_file: cookie_file.display().to_string(),
            display,
            for_other_uid: false,
            source: ctx
                .host
                .display
                .xauthority
                .as_ref()
                .map(|p| p.display().to_string()),
        });
    }

    fn checks(&self, ctx: &Context) -> Vec<Check> {
        if !ctx.profile.x11 {
            return Vec::new();
        }
        let display = display(ctx);
        let mut checks = vec![super::feature::display_check(
            ctx,
            Check::of("x11 display", &display, |d| format!("DISPLAY={d}")),
        )];
        if let Ok(display) = display
            && ctx.host.machine.is_none()
        {
            let cookie = ctx
                .host
                .display
                .xauthority
                .as_ref()
                .and_then(|p| std::fs::read(p).ok())
                .is_some_and(|bytes| !wildcard_cookie(&bytes, &display).is_empty());
            checks.push(if cookie {
                Check::ok("x11 cookie", "an Xauthority cookie exists for the display")
            } else {
                Check::warn(
                    "x11 cookie",
                    "no Xauthority cookie for the display (fine for a server without access control)",
                    None,
                )
            });
        }
        checks
    }
}

/// The X11 cookie for `display`, rewritten to the wildcard family (0xffff) so it matches
/// whatever hostname the container has. Input and output are Xauthority files.
pub fn wildcard_cookie(xauthority: &[u8], display: &str) -> Vec<u8> {
    let number = display_number(display)
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
    let write = |e| Error::io_path("write the X11 cookie", path, e);
    if let Some(dir) = path.parent() {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(write)?;
    }
    let mode = if cookie.for_other_uid { 0o644 } else { 0o600 };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(write)?;
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(write)?;
    }
    file.write_all(&bytes).map_err(write)
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

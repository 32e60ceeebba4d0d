//! Facts about the host that planning needs: the user, its groups, the device majors in use,
//! the display and sound sockets, the devices a profile asks for. Gathered once, here; every
//! planning function takes them as plain data so tests can make up any host they like.

use crate::profile::Profile;
use serde::Serialize;
use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeviceNode {
    /// The path after following symlinks (`/dev/serial/by-id/…` → `/dev/ttyUSB0`).
    pub real_path: String,
    pub kind: char,
    pub major: u32,
    pub minor: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Display {
    /// `$DISPLAY`.
    pub display: Option<String>,
    /// The X server's socket, `/tmp/.X11-unix/X<n>`, when it exists.
    pub x11_socket: Option<PathBuf>,
    /// The user's Xauthority file when it exists.
    pub xauthority: Option<PathBuf>,
    /// `$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY` when it is a socket.
    pub wayland_socket: Option<PathBuf>,
    pub pulse_socket: Option<PathBuf>,
    pub pulse_cookie: Option<PathBuf>,
    pub ssh_agent_socket: Option<PathBuf>,
    pub gitconfig: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostFacts {
    pub user: HostUser,
    /// Group name → gid, from /etc/group.
    pub groups: BTreeMap<String, u32>,
    /// Character device majors in use, from /proc/devices: (major, driver name).
    pub char_majors: Vec<(u32, String)>,
    pub display: Display,
    /// `/dev/dri/*` nodes.
    pub dri_nodes: Vec<String>,
    /// `/dev/nvidia*` nodes.
    pub nvidia_nodes: Vec<String>,
    /// Each device path the profile asks for, resolved, or `None` when absent.
    pub devices: BTreeMap<String, Option<DeviceNode>>,
    /// For each absent device: similar devices that are present (`/dev/ttyACM0` for `/dev/ttyUSB0`).
    pub device_alternatives: BTreeMap<String, Vec<String>>,
    /// `/run/udev` exists (hotplug mounts it so libudev can enumerate devices).
    pub run_udev: bool,
    /// A Jetson (L4T) host: `/etc/nv_tegra_release` exists.
    pub tegra: bool,
    /// An NVIDIA CDI specification in /etc/cdi or /var/run/cdi.
    pub cdi_nvidia: bool,
    /// Where robodev keeps per-container state on the host (X11 cookies).
    pub state_dir: PathBuf,
}

pub fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/"));
            home.join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(path),
    }
}

fn is_socket(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.file_type().is_socket())
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl HostFacts {
    /// The user robodev runs as: uid and gid of this process, name and home from /etc/passwd.
    pub fn current_user() -> HostUser {
        let meta = std::fs::metadata("/proc/self").ok();
        let uid = meta.as_ref().map(|m| m.uid()).unwrap_or(0);
        let gid = meta.as_ref().map(|m| m.gid()).unwrap_or(0);
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let entry = passwd
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() >= 7 && f[2].parse::<u32>().ok() == Some(uid));
        let name = entry
            .as_ref()
            .map(|f| f[0].to_string())
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| format!("user{uid}"));
        let home = env_path("HOME")
            .or_else(|| entry.as_ref().map(|f| PathBuf::from(f[5])))
            .unwrap_or_else(|| PathBuf::from("/"));
        HostUser {
            name,
            uid,
            gid,
            home,
        }
    }

    /// Read the facts `profile` needs from this machine.
    pub fn probe(profile: &Profile) -> HostFacts {
        let user = Self::current_user();
        let home = user.home.clone();
        let groups = parse_groups(&std::fs::read_to_string("/etc/group").unwrap_or_default());
        let char_majors =
            parse_proc_devices(&std::fs::read_to_string("/proc/devices").unwrap_or_default());

        let runtime_dir = env_path("XDG_RUNTIME_DIR");
        let display_var = std::env::var("DISPLAY").ok().filter(|d| !d.is_empty());
        let x11_socket = display_var
            .as_deref()
            .and_then(display_number)
            .map(|n| PathBuf::from(format!("/tmp/.X11-unix/X{n}")))
            .filter(|p| is_socket(p));
        let xauthority = env_path("XAUTHORITY")
            .or_else(|| Some(home.join(".Xauthority")))
            .filter(|p| p.is_file());
        let wayland_socket = std::env::var("WAYLAND_DISPLAY")
            .ok()
            .filter(|w| !w.is_empty())
            .map(|w| {
                let p = PathBuf::from(&w);
                if p.is_absolute() {
                    p
                } else {
                    runtime_dir.clone().unwrap_or_default().join(w)
                }
            })
            .filter(|p| is_socket(p));
        let pulse_socket = std::env::var("PULSE_SERVER")
            .ok()
            .and_then(|s| s.strip_prefix("unix:").map(PathBuf::from))
            .or_else(|| runtime_dir.as_ref().map(|d| d.join("pulse/native")))
            .filter(|p| is_socket(p));
        let pulse_cookie = env_path("PULSE_COOKIE")
            .or_else(|| Some(home.join(".config/pulse/cookie")))
            .filter(|p| p.is_file());
        let ssh_agent_socket = env_path("SSH_AUTH_SOCK").filter(|p| is_socket(p));
        let gitconfig = Some(home.join(".gitconfig")).filter(|p| p.is_file());

        let devices: BTreeMap<String, Option<DeviceNode>> = profile
            .devices
            .iter()
            .map(|d| (d.path.clone(), resolve_device(Path::new(&d.path))))
            .collect();
        let device_alternatives = devices
            .iter()
            .filter(|(_, node)| node.is_none())
            .map(|(path, _)| (path.clone(), similar_devices(path)))
            .collect();
        let cdi_nvidia = ["/etc/cdi", "/var/run/cdi"]
            .iter()
            .flat_map(|d| list_dir(d))
            .any(|p| p.contains("nvidia"));

        let state_dir = env_path("ROBODEV_STATE_DIR")
            .or_else(|| {
                directories::ProjectDirs::from("", "", "robodev")
                    .map(|d| d.cache_dir().to_path_buf())
            })
            .unwrap_or_else(|| std::env::temp_dir().join("robodev"));

        HostFacts {
            user,
            groups,
            char_majors,
            display: Display {
                display: display_var,
                x11_socket,
                xauthority,
                wayland_socket,
                pulse_socket,
                pulse_cookie,
                ssh_agent_socket,
                gitconfig,
            },
            dri_nodes: list_dir("/dev/dri"),
            nvidia_nodes: list_matching("/dev", "nvidia"),
            devices,
            device_alternatives,
            run_udev: Path::new("/run/udev").is_dir(),
            tegra: Path::new("/etc/nv_tegra_release").exists(),
            cdi_nvidia,
            state_dir,
        }
    }

    pub fn gid_of(&self, group: &str) -> Option<u32> {
        self.groups.get(group).copied()
    }
}

/// `:1`, `:1.0`, `localhost:10.0` → the display number (local sockets only for `:N`).
pub fn display_number(display: &str) -> Option<u32> {
    let after = display.rsplit_once(':')?.1;
    after.split('.').next()?.parse().ok()
}

pub fn resolve_device(path: &Path) -> Option<DeviceNode> {
    let real = std::fs::canonicalize(path).ok()?;
    let meta = std::fs::metadata(&real).ok()?;
    let kind = if meta.file_type().is_char_device() {
        'c'
    } else if meta.file_type().is_block_device() {
        'b'
    } else {
        return None;
    };
    let rdev = meta.rdev();
    Some(DeviceNode {
        real_path: real.display().to_string(),
        kind,
        major: (((rdev >> 32) & 0xffff_f000) | ((rdev >> 8) & 0xfff)) as u32,
        minor: (((rdev >> 12) & 0xffff_ff00) | (rdev & 0xff)) as u32,
    })
}

fn list_dir(dir: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path().display().to_string())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn list_matching(dir: &str, prefix: &str) -> Vec<String> {
    list_dir(dir)
        .into_iter()
        .filter(|p| {
            Path::new(p)
                .file_name()
                .is_some_and(|f| f.to_string_lossy().starts_with(prefix))
        })
        .collect()
}

pub fn parse_groups(text: &str) -> BTreeMap<String, u32> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some((f.first()?.to_string(), f.get(2)?.parse().ok()?))
        })
        .collect()
}

/// The "Character devices:" section of /proc/devices.
pub fn parse_proc_devices(text: &str) -> Vec<(u32, String)> {
    text.lines()
        .skip_while(|l| !l.starts_with("Character devices"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("Block"))
        .filter_map(|l| {
            let (major, name) = l.trim().split_once(' ')?;
            Some((major.parse().ok()?, name.trim().to_string()))
        })
        .collect()
}

/// Devices of a kind present on the host, for "what is there instead" hints.
pub fn similar_devices(path: &str) -> Vec<String> {
    let name = Path::new(path)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem: String = name
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .to_string();
    let families: &[&str] = if ["ttyUSB", "ttyACM", "ttyTHS", "ttyS"].contains(&stem.as_str()) {
        &["ttyUSB", "ttyACM", "ttyTHS"]
    } else if stem == "video" {
        &["video"]
    } else {
        &[]
    };
    let mut found: Vec<String> = list_dir("/dev")
        .into_iter()
        .filter(|p| {
            let f = Path::new(p)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            families.iter().any(|fam| {
                f.starts_with(fam)
                    && f[fam.len()..].chars().all(|c| c.is_ascii_digit())
                    && f.len() > fam.len()
            })
        })
        .collect();
    found.extend(list_dir("/dev/serial/by-id"));
    found.retain(|p| p != path);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_devices() {
        let text = "Character devices:\n  1 mem\n  4 tty\n188 ttyUSB\n\nBlock devices:\n  7 loop\n";
        assert_eq!(
            parse_proc_devices(text),
            vec![(1, "mem".into()), (4, "tty".into()), (188, "ttyUSB".into())]
        );
    }

    #[test]
    fn displays() {
        assert_eq!(display_number(":99"), Some(99));
        assert_eq!(display_number(":1.0"), Some(1));
        assert_eq!(display_number("nonsense"), None);
    }

    #[test]
    fn groups() {
        let g = parse_groups("root:x:0:\ndialout:x:20:alice\n");
        assert_eq!(g.get("dialout"), Some(&20));
    }
}

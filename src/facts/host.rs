//! Facts about the host that planning needs: the user, its groups, the device majors in use,
//! the display and sound sockets, the devices a profile asks for. Gathered once, here.

use super::devices::{offered_devices, parse_proc_devices, similar_devices};
use super::machine_files::{DeviceNode, LocalFiles, MachineFiles};
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
    /// The machine these facts describe when it is not this one (the engine's machine,
    /// `robot@jetson`), for messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
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

    /// Read this machine's facts, resolving the device paths a profile asks for.
    pub fn probe(device_paths: &[&str]) -> HostFacts {
        let paths: Vec<String> = device_paths.iter().map(|p| p.to_string()).collect();
        let user = Self::current_user();
        let display = local_display(&user.home);
        Self::of_machine(&LocalFiles, user, display, &paths, None)
    }

    /// The facts of the machine whose files `files` reads, for `user` there: groups, device
    /// majors, the devices a profile asks for (with what is present instead), GPU nodes.
    pub fn of_machine(
        files: &dyn MachineFiles,
        user: HostUser,
        display: Display,
        device_paths: &[String],
        machine: Option<String>,
    ) -> HostFacts {
        let groups = parse_groups(&files.read("/etc/group"));
        let char_majors = parse_proc_devices(&files.read("/proc/devices"));
        let devices: BTreeMap<String, Option<DeviceNode>> = device_paths
            .iter()
            .map(|p| (p.clone(), files.device(p)))
            .collect();
        let device_alternatives = devices
            .iter()
            .filter(|(_, node)| node.is_none())
            .map(|(path, _)| {
                let similar = similar_devices(files, path);
                // Nothing of the same family: what serial and video devices are there at all.
                let found = if similar.is_empty() {
                    offered_devices(files)
                } else {
                    similar
                };
                (path.clone(), found)
            })
            .collect();
        let cdi_nvidia = ["/etc/cdi", "/run/cdi", "/var/run/cdi"]
            .iter()
            .flat_map(|d| files.list(d))
            .any(|p| p.contains("nvidia"));
        let nvidia_nodes = files
            .list("/dev")
            .into_iter()
            .filter(|p| {
                Path::new(p)
                    .file_name()
                    .is_some_and(|f| f.to_string_lossy().starts_with("nvidia"))
            })
            .collect();
        HostFacts {
            user,
            groups,
            char_majors,
            display,
            dri_nodes: files.list("/dev/dri"),
            nvidia_nodes,
            devices,
            device_alternatives,
            run_udev: files.exists("/run/udev"),
            tegra: files.exists("/etc/nv_tegra_release"),
            cdi_nvidia,
            state_dir: state_dir(),
            machine,
        }
    }

    /// "this host", or the machine the facts were read from.
    pub fn machine_name(&self) -> String {
        match &self.machine {
            Some(m) => m.clone(),
            None => "this host".to_string(),
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

/// X servers listening on an abstract unix socket (`@/tmp/.X11-unix/X0`), by display number.
/// Such a socket belongs to the network namespace, not the file system: every container on the
/// host network reaches it, whether or not it mounts `/tmp/.X11-unix`.
pub fn x11_abstract_displays() -> Vec<u32> {
    std::fs::read_to_string("/proc/net/unix")
        .map(|table| abstract_x11_displays_in(&table))
        .unwrap_or_default()
}

/// The display numbers of the listening abstract X sockets in `/proc/net/unix`'s text.
pub fn abstract_x11_displays_in(table: &str) -> Vec<u32> {
    let mut displays: Vec<u32> = table
        .lines()
        .filter_map(|line| line.split_whitespace().last())
        .filter_map(|path| path.strip_prefix("@/tmp/.X11-unix/X"))
        .filter_map(|n| n.parse().ok())
        .collect();
    displays.sort_unstable();
    displays.dedup();
    displays
}

/// This machine's display, sound and agent sockets, as this process's environment names them.
fn local_display(home: &Path) -> Display {
    let runtime_dir = env_path("XDG_RUNTIME_DIR");
    let display = std::env::var("DISPLAY").ok().filter(|d| !d.is_empty());
    let x11_socket = display
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
    Display {
        display,
        x11_socket,
        xauthority,
        wayland_socket,
        pulse_socket,
        pulse_cookie,
        ssh_agent_socket: env_path("SSH_AUTH_SOCK").filter(|p| is_socket(p)),
        gitconfig: Some(home.join(".gitconfig")).filter(|p| p.is_file()),
    }
}

pub fn parse_groups(text: &str) -> BTreeMap<String, u32> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some((f.first()?.to_string(), f.get(2)?.parse().ok()?))
        })
        .collect()
}

/// robodev's own state on this machine (build locks, X11 cookies, ssh master sockets):
/// `$ROBODEV_STATE_DIR`, else the user's cache directory.
pub fn state_dir() -> PathBuf {
    env_path("ROBODEV_STATE_DIR")
        .or_else(|| {
            directories::ProjectDirs::from("", "", "robodev").map(|d| d.cache_dir().to_path_buf())
        })
        .unwrap_or_else(|| std::env::temp_dir().join("robodev"))
}

#[cfg(test)]
mod tests {

    #[test]
    fn abstract_x_sockets_are_read_from_proc_net_unix() {
        let table = "Num       RefCount Protocol Flags    Type St Inode Path\n\
                     0000000000000000: 00000002 00000000 00010000 0001 01 31337 @/tmp/.X11-unix/X0\n\
                     0000000000000000: 00000002 00000000 00010000 0001 01 31338 /tmp/.X11-unix/X0\n\
                     0000000000000000: 00000003 00000000 00000000 0001 03 31339 @/tmp/.X11-unix/X0\n\
                     0000000000000000: 00000002 00000000 00010000 0001 01 31340 @/tmp/.X11-unix/X97\n\
                     0000000000000000: 00000002 00000000 00010000 0001 01 31341 @/tmp/.ICE-unix/12\n";
        assert_eq!(abstract_x11_displays_in(table), vec![0, 97]);
    }

    use super::*;

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

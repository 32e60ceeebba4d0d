//! The facts of another machine, as a throw-away probe container on its engine reports them:
//! the machine's root is mounted read-only at `/host`, and `PROBE_SCRIPT` prints what host
//! facts need (groups, device majors, device directories, the nodes a profile names) as
//! sections that `MachineReport` reads back. The script and its reader are one contract, so
//! they live side by side. The profile's device paths reach the script only as arguments.

use super::host::Display;
use super::machine_files::{DeviceNode, MachineFiles};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Where the probe container sees the machine's root.
pub const HOST_ROOT: &str = "/host";

/// The first line of every report: a probe that printed something else did not run.
const MAGIC: &str = "robodev-machine-report 1";

/// Run as `sh -c PROBE_SCRIPT probe DEVICE…`. Symlinks are followed inside the machine's root
/// (an absolute target names a path there, not in the probe's own filesystem).
pub const PROBE_SCRIPT: &str = r#"set -u
root=/host
echo 'robodev-machine-report 1'
echo '== read /etc/group'; cat "$root/etc/group" 2>/dev/null
echo '== read /proc/devices'; cat /proc/devices
for d in /dev /dev/serial/by-id /dev/v4l/by-id /dev/dri /etc/cdi /run/cdi /tmp/.X11-unix \
    ${ROBODEV_PROBE_UID:+/run/user/$ROBODEV_PROBE_UID /run/user/$ROBODEV_PROBE_UID/pulse}; do
  if [ -d "$root$d" ]; then echo "== list $d"; ls -1A "$root$d"; fi
done
for f in /run/udev /etc/nv_tegra_release; do
  if [ -e "$root$f" ]; then echo "== exists $f"; fi
done
for p in "$@"; do
  echo "== device $p"
  n=0
  while [ -L "$root$p" ] && [ "$n" -lt 20 ]; do
    t=$(readlink "$root$p")
    case "$t" in /*) p="$t" ;; *) p="$(dirname "$p")/$t" ;; esac
    n=$((n+1))
  done
  r=$(readlink -f "$root$p") || continue
  if [ -b "$r" ] || [ -c "$r" ]; then stat -c '%F|%t|%T|%u|%g|%a|%n' "$r"; fi
done
"#;

/// A probe's report, read back. Implements `MachineFiles`, so the machine's facts are
/// computed by the same code as this machine's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MachineReport {
    texts: BTreeMap<String, String>,
    lists: BTreeMap<String, Vec<String>>,
    present: BTreeSet<String>,
    devices: BTreeMap<String, Option<DeviceNode>>,
}

impl MachineReport {
    /// Read a report; `None` when the output is not one (the probe did not run its script).
    pub fn parse(output: &str) -> Option<MachineReport> {
        let mut lines = output.lines();
        if lines.next()?.trim() != MAGIC {
            return None;
        }
        let mut report = MachineReport::default();
        let mut section: Option<(String, String)> = None;
        let mut body: Vec<&str> = Vec::new();
        for line in lines.chain(std::iter::once("== end")) {
            let Some(header) = line.strip_prefix("== ") else {
                body.push(line);
                continue;
            };
            if let Some((kind, path)) = section.take() {
                report.add(&kind, path, &body);
            }
            body.clear();
            section = header
                .split_once(' ')
                .map(|(k, p)| (k.to_string(), p.to_string()));
        }
        Some(report)
    }

    /// Whether the report answers for each of these device paths (a kept report may have
    /// been made for another profile's devices).
    pub fn covers(&self, device_paths: &[String]) -> bool {
        device_paths.iter().all(|p| self.devices.contains_key(p))
    }

    fn add(&mut self, kind: &str, path: String, body: &[&str]) {
        match kind {
            "read" => {
                self.texts.insert(path, body.join("\n"));
            }
            "list" => {
                let mut entries: Vec<String> = body
                    .iter()
                    .filter(|e| !e.is_empty())
                    .map(|e| format!("{}/{e}", path.trim_end_matches('/')))
                    .collect();
                entries.sort();
                self.lists.insert(path, entries);
            }
            "exists" => {
                self.present.insert(path);
            }
            "device" => {
                let node = body.first().and_then(|l| parse_stat(l));
                self.devices.insert(path, node);
            }
            _ => {}
        }
    }
}

/// `character special file|bc|0|0|20|660|/host/dev/ttyUSB0` (stat's `%F|%t|%T|%u|%g|%a|%n`,
/// major and minor in hex, mode in octal).
fn parse_stat(line: &str) -> Option<DeviceNode> {
    let f: Vec<&str> = line.splitn(7, '|').collect();
    if f.len() != 7 {
        return None;
    }
    let kind = match f[0] {
        "character special file" => 'c',
        "block special file" => 'b',
        _ => return None,
    };
    let real = f[6].strip_prefix(HOST_ROOT).unwrap_or(f[6]);
    Some(DeviceNode {
        real_path: if real.is_empty() { "/" } else { real }.to_string(),
        kind,
        major: u32::from_str_radix(f[1], 16).ok()?,
        minor: u32::from_str_radix(f[2], 16).ok()?,
        uid: f[3].parse().ok()?,
        gid: f[4].parse().ok()?,
        mode: u32::from_str_radix(f[5], 8).ok()?,
    })
}

impl MachineReport {
    /// The display and sound of the machine for the user with `uid` there: its lowest X
    /// server (`/tmp/.X11-unix/X0` → `:0`), and the Wayland and PulseAudio sockets in the
    /// user's runtime directory. No cookies: those are the user's secrets there, and the
    /// servers accept the user's own uid over their sockets (X11 once `xhost
    /// +SI:localuser:USER` allows it).
    pub fn display(&self, uid: u32) -> Display {
        let x11 = self
            .list("/tmp/.X11-unix")
            .into_iter()
            .filter_map(|p| {
                let n: u32 = p.strip_prefix("/tmp/.X11-unix/X")?.parse().ok()?;
                Some((n, p))
            })
            .min();
        let runtime = format!("/run/user/{uid}");
        let listed = |dir: &str, name: &str| {
            let path = format!("{dir}/{name}");
            self.list(dir).contains(&path).then(|| PathBuf::from(path))
        };
        Display {
            display: x11.as_ref().map(|(n, _)| format!(":{n}")),
            x11_socket: x11.map(|(_, p)| PathBuf::from(p)),
            wayland_socket: listed(&runtime, "wayland-0"),
            pulse_socket: listed(&format!("{runtime}/pulse"), "native"),
            ..Display::default()
        }
    }
}

impl MachineFiles for MachineReport {
    fn list(&self, dir: &str) -> Vec<String> {
        // /var/run is /run on every distribution the probe meets.
        let dir = dir
            .strip_prefix("/var")
            .filter(|d| d.starts_with("/run/"))
            .unwrap_or(dir);
        self.lists.get(dir).cloned().unwrap_or_default()
    }

    fn device(&self, path: &str) -> Option<DeviceNode> {
        self.devices.get(path).cloned().flatten()
    }

    fn exists(&self, path: &str) -> bool {
        self.present.contains(path)
    }

    fn read(&self, path: &str) -> String {
        self.texts.get(path).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "robodev-machine-report 1
== read /etc/group
root:x:0:
dialout:x:20:robot
== read /proc/devices
Character devices:
  1 mem
188 ttyUSB

Block devices:
  7 loop
== list /dev
null
ttyUSB0
ttyACM1
== list /dev/dri
card0
renderD128
== exists /run/udev
== device /dev/serial/by-id/usb-lidar
character special file|bc|0|0|20|660|/host/dev/ttyUSB0
== device /dev/ttyUSB3
";

    #[test]
    fn a_report_reads_back_as_machine_files() {
        let r = MachineReport::parse(REPORT).unwrap();
        assert!(r.read("/etc/group").contains("dialout:x:20:robot"));
        assert!(r.read("/proc/devices").contains("188 ttyUSB"));
        assert_eq!(
            r.list("/dev/dri"),
            ["/dev/dri/card0", "/dev/dri/renderD128"]
        );
        assert_eq!(r.list("/dev/v4l/by-id"), Vec::<String>::new());
        assert!(r.exists("/run/udev"));
        assert!(!r.exists("/etc/nv_tegra_release"));
        let node = r.device("/dev/serial/by-id/usb-lidar").unwrap();
        assert_eq!(
            (node.real_path.as_str(), node.kind, node.major, node.minor),
            ("/dev/ttyUSB0", 'c', 188, 0)
        );
        assert_eq!((node.gid, node.mode), (20, 0o660));
        assert_eq!(r.device("/dev/ttyUSB3"), None);
    }

    #[test]
    fn output_that_is_not_a_report_is_refused() {
        assert_eq!(MachineReport::parse(""), None);
        assert_eq!(MachineReport::parse("sh: not found\n"), None);
    }

    #[test]
    fn the_machines_lowest_x_server_and_the_users_sockets_are_its_display() {
        let r = MachineReport::parse(
            "robodev-machine-report 1\n== list /tmp/.X11-unix\nX10\nX1\n\
             == list /run/user/4343\nbus\nwayland-0\npulse\n== list /run/user/4343/pulse\nnative\n",
        )
        .unwrap();
        let d = r.display(4343);
        assert_eq!(d.display.as_deref(), Some(":1"));
        assert_eq!(d.x11_socket, Some(PathBuf::from("/tmp/.X11-unix/X1")));
        assert_eq!(
            d.wayland_socket,
            Some(PathBuf::from("/run/user/4343/wayland-0"))
        );
        assert_eq!(
            d.pulse_socket,
            Some(PathBuf::from("/run/user/4343/pulse/native"))
        );
        assert_eq!((d.xauthority, d.pulse_cookie), (None, None));
        assert_eq!(
            r.display(1000),
            Display {
                display: Some(":1".into()),
                x11_socket: Some(PathBuf::from("/tmp/.X11-unix/X1")),
                ..Display::default()
            }
        );
    }

    #[test]
    fn var_run_is_run() {
        let r = MachineReport::parse("robodev-machine-report 1\n== list /run/cdi\nnvidia.yaml\n")
            .unwrap();
        assert_eq!(r.list("/var/run/cdi"), ["/run/cdi/nvidia.yaml"]);
    }
}

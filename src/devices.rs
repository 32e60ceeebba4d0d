//! Devices: explicit device nodes, and hotplug by class without `--privileged`.
//!
//! Hotplug works the way udev-aware tools expect: the relevant /dev subtree is bind-mounted (so
//! nodes that appear later are visible), device cgroup rules allow the class's majors (so they
//! are usable), `/run/udev` is shared read-only (so libudev can enumerate), and the container
//! user joins the host groups that own such nodes.

use crate::container_plan::{ContainerPlan, Device, MountKind};
use crate::error::{Error, Result};
use crate::host::HostFacts;
use crate::profile::{HotplugClass, Profile};

pub struct ClassInfo {
    /// Driver names as /proc/devices lists them, with the major the kernel registry
    /// (Documentation/admin-guide/devices.txt) assigns them, used when the driver is not loaded
    /// yet: usbserial loads only when the first adapter is plugged in.
    pub drivers: &'static [(&'static str, u32)],
    /// Host directory to bind-mount; `/dev` when nodes appear directly in it.
    pub mount: &'static str,
    pub group: &'static str,
}

pub fn class_info(class: HotplugClass) -> ClassInfo {
    match class {
        HotplugClass::Serial => ClassInfo {
            drivers: &[("ttyUSB", 188), ("ttyACM", 166)],
            mount: "/dev",
            group: "dialout",
        },
        HotplugClass::Usb => ClassInfo {
            drivers: &[("usb_device", 189)],
            mount: "/dev/bus/usb",
            group: "plugdev",
        },
        HotplugClass::Video => ClassInfo {
            drivers: &[("video4linux", 81)],
            mount: "/dev",
            group: "video",
        },
        HotplugClass::Input => ClassInfo {
            drivers: &[("input", 13)],
            mount: "/dev/input",
            group: "input",
        },
    }
}

pub fn apply(profile: &Profile, host: &HostFacts, plan: &mut ContainerPlan) -> Result<()> {
    for (i, d) in profile.devices.iter().enumerate() {
        let inside = d.inside.clone().unwrap_or_else(|| d.path.clone());
        match host.devices.get(&d.path).cloned().flatten() {
            Some(node) => {
                if node.real_path != d.path {
                    plan.notes
                        .push(format!("device {} → {}", d.path, node.real_path));
                }
                plan.devices.push(Device {
                    host: node.real_path,
                    container: inside,
                });
            }
            None if d.optional => plan.warnings.push(format!(
                "optional device {} is not present; the container starts without it",
                d.path
            )),
            None => {
                let alternatives = host
                    .device_alternatives
                    .get(&d.path)
                    .cloned()
                    .unwrap_or_default();
                let mut help = if alternatives.is_empty() {
                    "plug the device in (check `dmesg` for it), ".to_string()
                } else {
                    format!("present instead: {}; ", alternatives.join(", "))
                };
                help.push_str("or mark it `optional: true` to start without it");
                return Err(Error::host(
                    format!(
                        "device {} (devices[{i}] at {}) is not present on this host",
                        d.path, d.declared_at
                    ),
                    help,
                ));
            }
        }
    }

    let mut mounted_dev = false;
    for class in &profile.hotplug {
        let info = class_info(*class);
        for (driver, registered) in info.drivers {
            let majors: Vec<u32> = host
                .char_majors
                .iter()
                .filter(|(_, name)| name == driver)
                .map(|(m, _)| *m)
                .collect();
            let majors = if majors.is_empty() {
                plan.notes.push(format!(
                    "hotplug {}: the {driver} driver is not loaded on the host yet; allowing its registered major {registered}",
                    class.name()
                ));
                vec![*registered]
            } else {
                majors
            };
            for major in majors {
                let rule = format!("c {major}:* rmw");
                if !plan.device_cgroup_rules.contains(&rule) {
                    plan.device_cgroup_rules.push(rule);
                }
            }
        }
        if info.mount == "/dev" {
            mounted_dev = true;
        }
        match host.gid_of(info.group) {
            Some(gid) => plan.add_group(gid),
            None => plan.notes.push(format!(
                "hotplug {}: the host has no `{}` group",
                class.name(),
                info.group
            )),
        }
    }
    if !profile.hotplug.is_empty() {
        if mounted_dev {
            plan.push_mount(MountKind::Bind, "/dev", "/dev", false);
        } else {
            for class in &profile.hotplug {
                let m = class_info(*class).mount;
                plan.push_mount(MountKind::Bind, m, m, false);
            }
        }
        if host.run_udev {
            plan.push_mount(MountKind::Bind, "/run/udev", "/run/udev", true);
        }
    }
    Ok(())
}

//! `hotplug:` — devices plugged in after the container started, without `--privileged`.
//!
//! Works the way udev-aware tools expect: the relevant /dev subtree is bind-mounted (so nodes
//! that appear later are visible), device cgroup rules allow the class's majors (so they are
//! usable), `/run/udev` is shared read-only (so libudev can enumerate), and the container user
//! joins the host groups that own such nodes.

use super::feature::{Check, Context, Feature};
use crate::notice::Notice;
use crate::plan::container::ContainerPlan;
use crate::profile::HotplugClass;

pub struct Hotplug;

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

/// The majors to allow for a driver: the host's, or the registered one when not loaded yet.
fn majors(ctx: &Context, driver: &str, registered: u32) -> (Vec<u32>, bool) {
    let loaded: Vec<u32> = ctx
        .host
        .char_majors
        .iter()
        .filter(|(_, name)| name == driver)
        .map(|(m, _)| *m)
        .collect();
    if loaded.is_empty() {
        (vec![registered], false)
    } else {
        (loaded, true)
    }
}

impl Feature for Hotplug {
    fn plan(&self, ctx: &Context, plan: &mut ContainerPlan) {
        let classes = &ctx.profile.hotplug;
        let mut mounted_dev = false;
        for class in classes {
            let info = class_info(*class);
            for (driver, registered) in info.drivers {
                let (majors, loaded) = majors(ctx, driver, *registered);
                if !loaded {
                    plan.notices.push(Notice::detail(format!(
                        "hotplug {}: the {driver} driver is not loaded on the host yet; allowing its registered major {registered}",
                        class.name()
                    )));
                }
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
            let gid = ctx.host.gid_of(info.group);
            if gid.is_none() {
                plan.notices.push(Notice::detail(format!(
                    "hotplug {}: the host has no `{}` group",
                    class.name(),
                    info.group
                )));
            }
            plan.add_group(info.group, gid);
        }
        if classes.is_empty() {
            return;
        }
        if mounted_dev {
            plan.push_machine_mount("/dev", "/dev", false);
        } else {
            for class in classes {
                let m = class_info(*class).mount;
                plan.push_machine_mount(m, m, false);
            }
        }
        if ctx.host.run_udev {
            plan.push_machine_mount("/run/udev", "/run/udev", true);
        }
    }

    fn checks(&self, ctx: &Context) -> Vec<Check> {
        ctx.profile
            .hotplug
            .iter()
            .map(|class| {
                let info = class_info(*class);
                let name = format!("hotplug {}", class.name());
                let group = ctx.host.gid_of(info.group);
                let detail = format!(
                    "{} bind-mounted, {}",
                    info.mount,
                    match group {
                        Some(gid) => format!("group {} ({gid})", info.group),
                        None => format!("the host has no `{}` group", info.group),
                    }
                );
                if group.is_some() {
                    Check::ok(name, detail)
                } else {
                    Check::warn(name, detail, None)
                }
            })
            .collect()
    }
}

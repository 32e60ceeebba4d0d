//! `devices:` — explicit device nodes, symlinks resolved on the host, optionally renamed.

use super::feature::{Check, Context, Feature};
use crate::facts::DeviceNode;
use crate::notice::{Notice, Problem};
use crate::plan::container::{ContainerPlan, Device};
use crate::profile::DeviceSpec;

pub struct Devices;

/// The node behind a declared device, `Ok(None)` for an optional one that is absent, and the
/// problem (with what is present instead) for a required one that is absent.
fn node(ctx: &Context, index: usize, d: &DeviceSpec) -> Result<Option<DeviceNode>, Problem> {
    match ctx.host.devices.get(&d.path).cloned().flatten() {
        Some(node) => Ok(Some(node)),
        None if d.optional => Ok(None),
        None => {
            let alternatives = ctx
                .host
                .device_alternatives
                .get(&d.path)
                .cloned()
                .unwrap_or_default();
            let machine = ctx.host.machine_name();
            let mut fix = if alternatives.is_empty() {
                format!(
                    "no serial or video device is present on {machine}: plug the device in \
                     (check `dmesg` for it), "
                )
            } else {
                format!("present instead: {}; ", alternatives.join(", "))
            };
            fix.push_str(
                "fix the path in the profile, or mark it `optional: true` to start without it",
            );
            Err(Problem::new(
                format!(
                    "device {} (devices[{index}] at {}) is not present on {machine}",
                    d.path, d.declared_at
                ),
                fix,
            ))
        }
    }
}

fn optional_absent(d: &DeviceSpec) -> String {
    format!(
        "optional device {} is not present; the container starts without it",
        d.path
    )
}

impl Feature for Devices {
    fn plan(&self, ctx: &Context, plan: &mut ContainerPlan) {
        for (i, d) in ctx.profile.devices.iter().enumerate() {
            match node(ctx, i, d) {
                Ok(Some(node)) => {
                    if node.real_path != d.path {
                        plan.notices.push(Notice::detail(format!(
                            "device {} → {}",
                            d.path, node.real_path
                        )));
                    }
                    let inside = d.inside.clone().unwrap_or_else(|| d.path.clone());
                    // The node keeps its host group inside (`root:dialout 0660` for a serial
                    // port): the user needs that group to open it, `hotplug:` or not.
                    if node.gid != 0 {
                        plan.add_gid(node.gid);
                    }
                    plan.devices
                        .push(Device::read_write(node.real_path, inside));
                }
                Ok(None) => plan.notices.push(Notice::warning(optional_absent(d))),
                Err(problem) => plan.problems.push(problem),
            }
        }
    }

    fn checks(&self, ctx: &Context) -> Vec<Check> {
        let mut checks = Vec::new();
        for (i, d) in ctx.profile.devices.iter().enumerate() {
            let name = format!("device {}", d.path);
            checks.push(match node(ctx, i, d) {
                Ok(Some(node)) => {
                    let present =
                        format!("present ({} {}:{})", node.real_path, node.major, node.minor);
                    let groups = [ctx.user.gid, node.gid];
                    if node.usable_by(ctx.user.uid, &groups) {
                        Check::ok(name, format!("{present}, usable by the container user"))
                    } else {
                        Check::fail(
                            name,
                            format!(
                                "{present}, but the container user (uid {}) cannot open it: \
                                 mode {:o}, owner {}:{}",
                                ctx.user.uid, node.mode, node.uid, node.gid
                            ),
                            "give the node a group with read-write access, e.g. a udev rule \
                             `KERNEL==\"ttyUSB*\", GROUP=\"dialout\", MODE=\"0660\"`",
                        )
                    }
                }
                Ok(None) => Check::warn(name, optional_absent(d), None),
                Err(problem) => Check::fail(name, problem.message, problem.fix),
            });
        }
        checks
    }
}

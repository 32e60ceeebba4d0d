//! Hardware and host integration, one file per feature. Each feature owns everything about
//! itself: the system packages it needs in the image, what it adds to the container plan, and
//! its `doctor` checks, both computed by the same functions so they cannot disagree.
//!
//! A new feature (a CAN bus, a camera with udev rules) is a new file here implementing
//! `Feature`, its entry in `FEATURES`, and its field in the profile (`profile/raw.rs`,
//! `profile/model.rs`, `profile/validate.rs`).

pub mod audio;
pub mod devices;
pub mod feature;
pub mod git_config;
pub mod gpu;
pub mod hotplug;
pub mod ssh_agent;
pub mod wayland;
pub mod x11;

pub use feature::{Check, Context, Feature, Status};

use super::container::ContainerPlan;

/// Every feature, in the order they add to the plan.
pub static FEATURES: &[&dyn Feature] = &[
    &gpu::Gpu,
    &devices::Devices,
    &hotplug::Hotplug,
    &x11::X11,
    &wayland::Wayland,
    &audio::Audio,
    &ssh_agent::SshAgent,
    &git_config::GitConfig,
];

pub fn system_packages(ctx: &Context) -> Vec<&'static str> {
    FEATURES
        .iter()
        .flat_map(|f| f.system_packages(ctx))
        .collect()
}

pub fn plan_all(ctx: &Context, plan: &mut ContainerPlan) {
    for feature in FEATURES {
        feature.plan(ctx, plan);
    }
}

pub fn checks(ctx: &Context) -> Vec<Check> {
    FEATURES.iter().flat_map(|f| f.checks(ctx)).collect()
}

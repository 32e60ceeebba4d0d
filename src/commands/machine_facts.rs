//! The facts of an engine's machine that is not this one (the robot, a build server): learnt
//! through that engine, never from this machine. The user is the one the engine's machine
//! knows (the ssh user); its groups, device majors, device nodes and GPU come from a
//! throw-away probe container there (`plan/machine_probe.rs`), run only when the profile uses
//! the machine's devices, so a profile without hardware costs no extra round trips.

use super::image_pull::pull_image;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::facts::HostFacts;
use crate::facts::machine_report::MachineReport;
use crate::plan::labels;
use crate::profile::Profile;
use crate::ui::Ui;

pub async fn of_engine_machine(ui: Ui, engine: &Engine, profile: &Profile) -> Result<HostFacts> {
    let user = engine
        .remote_user()
        .cloned()
        .unwrap_or_else(HostFacts::current_user);
    let machine = engine.endpoint.url.clone();
    let paths: Vec<String> = profile
        .device_paths()
        .iter()
        .map(|p| p.to_string())
        .collect();
    if !profile.uses_machine_devices() {
        return Ok(HostFacts::unprobed(user, &paths, machine));
    }
    let image = probe_image(ui, engine, profile).await?;
    let probe = crate::plan::machine_probe::probe(&image, &paths);
    ui.note(format!(
        "reading the devices of {machine} (a probe container of {image})"
    ));
    let out = engine.run_captured(&probe.container, probe.cmd).await?;
    let report = MachineReport::parse(&out.stdout)
        .filter(|_| out.code == 0)
        .ok_or_else(|| Error::Engine {
            action: format!("read the devices of {machine}"),
            message: format!(
                "the probe container of {image} exited with {}: {}",
                out.code,
                out.stderr.lines().last().unwrap_or("no output")
            ),
            help: Some(
                "the probe needs /bin/sh, readlink and stat in the image; `robodev doctor` \
                 shows what the engine has"
                    .into(),
            ),
        })?;
    Ok(HostFacts::of_machine(
        &report,
        user,
        Default::default(),
        &paths,
        Some(machine),
    ))
}

/// An image the engine has that can run the probe: the profile's base image, else an image
/// robodev built for this profile there (a robot loaded from a bundle has no base image),
/// else the base image pulled (the first build needs it anyway).
async fn probe_image(ui: Ui, engine: &Engine, profile: &Profile) -> Result<String> {
    let base = &profile.base_image;
    if engine.image_exists(base).await? {
        return Ok(base.clone());
    }
    let built = engine
        .labelled_images()
        .await?
        .into_iter()
        .filter(|i| i.labels.get(labels::PROFILE) == Some(&profile.name))
        .max_by_key(|i| i.created);
    if let Some(image) = built {
        return Ok(image.id);
    }
    ui.info(format!(
        "pulling {base} on {} to read that machine's devices",
        engine.endpoint.url
    ));
    pull_image(ui, engine, base, None).await?;
    Ok(base.clone())
}

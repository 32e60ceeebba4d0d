//! The facts of an engine's machine that is not this one (the robot, a build server): learnt
//! through that engine, never from this machine. The user is the one the engine's machine
//! knows (`Session::engine_user`: `--remote-user`, else the ssh user); its groups, device
//! majors, device nodes, GPU and display sockets come from a throw-away probe container there
//! (`plan/machine_probe.rs`), run only when the profile uses the machine's hardware, so a
//! profile without any costs no extra round trips. A fresh report is kept for a few minutes,
//! for what only compares (is the container stale? which volume is synced?): `exec` then
//! costs no probe; creating or starting a container probes.

use super::image_pull::pull_image;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::facts::machine_report::MachineReport;
use crate::facts::{HostFacts, HostUser};
use crate::plan::labels;
use crate::profile::Profile;
use crate::ui::Ui;

/// How recent the machine's facts must be.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Freshness {
    /// Asked now: before a container is created or started, and for `doctor`.
    Now,
    /// A report of the last few minutes will do (comparing plans, naming things).
    Recent,
}

/// How long a report stands in for a fresh one where `Recent` will do.
const RECENT: std::time::Duration = std::time::Duration::from_secs(600);

pub async fn of_engine_machine(
    ui: Ui,
    engine: &dyn Engine,
    profile: &Profile,
    user: HostUser,
    base: &str,
    freshness: Freshness,
) -> Result<HostFacts> {
    let machine = engine.endpoint().url.clone();
    let paths: Vec<String> = profile
        .device_paths()
        .iter()
        .map(|p| p.to_string())
        .collect();
    if !profile.uses_machine_hardware() {
        // Nothing to ask the machine: facts of an empty report (no devices, no display).
        return Ok(HostFacts::of_machine(
            &MachineReport::default(),
            user,
            Default::default(),
            &paths,
            Some(machine),
        ));
    }
    let kept = report_file(&machine);
    let recent = match freshness {
        Freshness::Recent => recent_report(&kept).filter(|r| r.covers(&paths)),
        Freshness::Now => None,
    };
    let report = match recent {
        Some(report) => report,
        None => {
            let (report, text) =
                probe(ui, engine, profile, base, &machine, &paths, user.uid).await?;
            // Only a speed-up: a report that cannot be kept is asked again next time.
            if let Some(dir) = kept.parent()
                && std::fs::create_dir_all(dir).is_ok()
            {
                let _ = crate::files::write_atomic(&kept, &text);
            }
            report
        }
    };
    let display = report.display(user.uid);
    Ok(HostFacts::of_machine(
        &report,
        user,
        display,
        &paths,
        Some(machine),
    ))
}

/// Where the last report of the machine behind `engine_url` is kept.
fn report_file(engine_url: &str) -> std::path::PathBuf {
    use sha2::{Digest, Sha256};
    let key = hex::encode(Sha256::digest(engine_url.as_bytes()));
    crate::facts::host::state_dir()
        .join("machines")
        .join(format!("{}.report", &key[..16]))
}

fn recent_report(path: &std::path::Path) -> Option<MachineReport> {
    let age = std::fs::metadata(path)
        .ok()?
        .modified()
        .ok()?
        .elapsed()
        .ok()?;
    if age > RECENT {
        return None;
    }
    MachineReport::parse(&std::fs::read_to_string(path).ok()?)
}

/// Run the probe on the engine's machine: its report, and the text to keep.
async fn probe(
    ui: Ui,
    engine: &dyn Engine,
    profile: &Profile,
    base: &str,
    machine: &str,
    paths: &[String],
    uid: u32,
) -> Result<(MachineReport, String)> {
    let image = probe_image(ui, engine, profile, base).await?;
    let probe = crate::plan::machine_probe::probe(&image, paths, uid);
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
    Ok((report, out.stdout))
}

/// An image the engine has that can run the probe: the base image the build uses (`base`, by
/// its locked digest when the workspace has a lock), else an image robodev built for this
/// profile there (a robot loaded from a bundle has no base image), else `base` pulled (the
/// first build needs it anyway).
async fn probe_image(ui: Ui, engine: &dyn Engine, profile: &Profile, base: &str) -> Result<String> {
    if engine.image_exists(base).await? {
        return Ok(base.to_string());
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
        engine.endpoint().url
    ));
    pull_image(ui, engine, base, None).await?;
    Ok(base.to_string())
}

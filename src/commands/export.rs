//! `robodev export compose|k8s`: the environment (or the deploy image) for the other places a
//! team runs it, from the same plan `up` and `deploy run` use.

use super::session::Session;
use crate::error::Result;
use crate::facts::engine::oci_arch;
use crate::files::write_output;
use crate::lockfile::LockFile;
use crate::plan::compose::compose_file;
use crate::plan::hardware::x11;
use crate::plan::image::ImagePlan;
use crate::plan::kubernetes::{self, DeviceAccess, KubernetesOptions};
use std::path::Path;

/// The reference a machine elsewhere runs: the pushed digest robodev.lock records for this image
/// and platform, else its tag (said, when the place cannot pull it from this machine).
fn image_reference(s: &Session, image: &ImagePlan) -> Result<(String, bool)> {
    let platform = image
        .platform
        .clone()
        .unwrap_or_else(|| format!("linux/{}", oci_arch(std::env::consts::ARCH)));
    let lock = LockFile::read(&s.workspace.root)?;
    Ok(match lock.image(&image.hash, &platform) {
        Some(locked) => (format!("{}@{}", locked.repository, locked.digest), true),
        None => (image.tag.clone(), false),
    })
}

/// Print `text`, or write it to `output` (never over a file without `force`).
fn emit(s: &Session, text: &str, output: Option<&Path>, force: bool, what: &str) -> Result<()> {
    match output {
        None => {
            print!("{text}");
            Ok(())
        }
        Some(path) => {
            if write_output(path, text, force)? {
                s.ui.success(format!("wrote {what} to {}", crate::ui::shown_path(path)));
            } else {
                s.ui.note(format!("{} is up to date", crate::ui::shown_path(path)));
            }
            Ok(())
        }
    }
}

/// `robodev export compose [PROFILE] [-o FILE] [--force]`.
pub async fn compose(
    s: &Session,
    reference: Option<&str>,
    output: Option<&Path>,
    force: bool,
) -> Result<i32> {
    let profile = s.profile(reference)?;
    let engine = if profile.gpu.needs_engine_facts() {
        Some(s.engine().await?)
    } else {
        None
    };
    let plan = s.plan(&profile, engine).await?;
    let (image, _) = image_reference(s, &plan.image)?;
    let file = compose_file(&profile.name, &plan.container, &image);
    if let Some(cookie) = &plan.container.x11_cookie {
        x11::refresh_cookie(cookie)?;
    }
    for item in &file.left_out {
        s.ui.warn(format!("not in the compose file: {item}"));
    }
    emit(s, &file.text, output, force, "the compose file")?;
    Ok(0)
}

pub struct K8sArgs<'a> {
    pub deploy: bool,
    pub namespace: Option<String>,
    pub workspace_claim: Option<String>,
    pub workspace_size: String,
    pub devices: DeviceAccess,
    pub output: Option<&'a Path>,
    pub force: bool,
}

/// `robodev export k8s [PROFILE] [--deploy] …`: planned for a cluster, so no engine is asked.
pub async fn k8s(s: &Session, reference: Option<&str>, args: K8sArgs<'_>) -> Result<i32> {
    let profile = s.profile(reference)?;
    let inputs = s
        .facts(&profile, None, super::machine_facts::Freshness::Now)
        .await?;
    let plan = s.plan_from(&profile, None, &inputs)?;
    let options = KubernetesOptions {
        namespace: args.namespace,
        workspace_claim: args.workspace_claim,
        workspace_size: args.workspace_size,
        devices: args.devices,
    };
    let manifests = if args.deploy {
        let section = crate::plan::deploy::section(&profile)?.clone();
        let image = super::deploy::plan_image(s, &profile, &inputs, None)?;
        let (reference, pushed) = image_reference(s, &image)?;
        if !pushed {
            s.ui.warn(format!(
                "{} is not in a registry yet: a cluster cannot pull it from this machine \
                 (`robodev deploy build --push` pushes it and records its digest)",
                image.tag
            ));
        }
        let container = crate::plan::deploy::runtime_container(&plan.container, &image, &section);
        kubernetes::deploy_deployment(&profile.name, &container, &reference, &options)
    } else {
        let (reference, pushed) = image_reference(s, &plan.image)?;
        if !pushed {
            s.ui.warn(format!(
                "{} is not in a registry yet: a cluster cannot pull it from this machine \
                 (`robodev push` pushes it and records its digest)",
                plan.image.tag
            ));
        }
        kubernetes::dev_pod(&profile.name, &plan.container, &reference, &options)
    };
    if args.devices == DeviceAccess::Privileged && !plan.container.devices.is_empty() {
        s.ui.warn(
            "--devices privileged: the container is privileged, with every device of its node",
        );
    }
    for item in &manifests.left_out {
        s.ui.warn(format!("not in the manifests: {item}"));
    }
    emit(s, &manifests.text, args.output, args.force, "the manifests")?;
    Ok(0)
}

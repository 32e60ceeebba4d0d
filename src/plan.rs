//! A whole plan: profile + host facts + engine facts → image plan and container plan.
//! Pure; `robodev generate`, `devcontainer`, the snapshots and the engine all start here.

use crate::container_plan::{ContainerPlan, plan_container};
use crate::error::Result;
use crate::gpu::{self, DaemonFacts};
use crate::host::HostFacts;
use crate::image_plan::{ContainerUser, ImagePlan, plan_image};
use crate::profile::{GpuMode, Profile};
use crate::render::Renderer;
use crate::workspace::Workspace;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Plan {
    pub profile: Profile,
    pub user: ContainerUser,
    /// The GPU mode after `auto` was resolved.
    pub gpu: GpuMode,
    pub image: ImagePlan,
    pub container: ContainerPlan,
}

pub struct PlanInputs<'a> {
    pub profile: &'a Profile,
    pub host: &'a HostFacts,
    pub daemon: &'a DaemonFacts,
    pub workspace: &'a Workspace,
    /// `--templates`; the profile's `templates:` applies when this is `None`.
    pub templates: Option<PathBuf>,
}

/// The image half alone: what `clean` needs to know which tag a profile builds now, even where
/// the container half cannot be planned (a device unplugged).
pub struct ImageOnly {
    pub user: ContainerUser,
    pub gpu: GpuMode,
    pub gpu_note: Option<String>,
    pub image: ImagePlan,
}

pub fn image_only(
    profile: &Profile,
    host: &HostFacts,
    daemon: &DaemonFacts,
    templates: Option<PathBuf>,
) -> Result<ImageOnly> {
    let templates = templates.or_else(|| profile.templates.as_ref().map(PathBuf::from));
    let renderer = Renderer::new(templates);
    let user = ContainerUser::for_profile(profile, &host.user);
    let (gpu, gpu_note) = gpu::resolve(profile.gpu, host, daemon);
    let image = plan_image(profile, &user, gpu, &renderer)?;
    Ok(ImageOnly {
        user,
        gpu,
        gpu_note,
        image,
    })
}

pub fn make(inputs: PlanInputs<'_>) -> Result<Plan> {
    let PlanInputs {
        profile,
        host,
        daemon,
        workspace,
        templates,
    } = inputs;
    let ImageOnly {
        user,
        gpu: gpu_mode,
        gpu_note,
        image,
    } = image_only(profile, host, daemon, templates)?;
    let mut container = plan_container(profile, host, daemon, workspace, &image, &user, gpu_mode)?;
    if let Some(note) = gpu_note {
        container.notes.insert(0, note);
    }
    Ok(Plan {
        profile: profile.clone(),
        user,
        gpu: gpu_mode,
        image,
        container,
    })
}

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

pub fn make(inputs: PlanInputs<'_>) -> Result<Plan> {
    let PlanInputs {
        profile,
        host,
        daemon,
        workspace,
        templates,
    } = inputs;
    let templates = templates.or_else(|| profile.templates.as_ref().map(PathBuf::from));
    let renderer = Renderer::new(templates);
    let user = ContainerUser::for_profile(profile, &host.user);
    let (gpu_mode, gpu_note) = gpu::resolve(profile.gpu, host, daemon);
    let image = plan_image(profile, &user, gpu_mode, &renderer)?;
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

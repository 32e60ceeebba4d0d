//! A whole plan: profile + host facts + engine facts → image plan, container plan, exec plan.
//! Pure data, snapshot-tested; `generate`, `devcontainer`, the exports and the engine start here.
//!
//! `image` renders the Dockerfile (`render`, templates), `container` holds what `docker create`
//! is told, `hardware/` adds one feature per file to both, `exec` says how processes run in the
//! container, `devcontainer` turns the plan into `.devcontainer/`.

pub mod container;
pub mod dependencies;
pub mod devcontainer;
pub mod exec;
pub mod hardware;
pub mod image;
pub mod labels;
pub mod render;
pub mod user;

use crate::error::Result;
use crate::facts::{EngineFacts, HostFacts, Workspace};
use crate::lockfile::dependencies::{LockedDependencies, LockedKey};
use crate::notice::Notice;
use crate::profile::{GpuMode, Profile};
use container::ContainerPlan;
use exec::ExecPlan;
use hardware::Context;
use image::{DependencyLayer, ImagePlan, plan_image};
use render::Renderer;
use std::path::PathBuf;
use user::ContainerUser;

#[derive(Clone, Debug)]
pub struct Plan {
    pub profile: Profile,
    pub user: ContainerUser,
    /// The GPU mode after `auto` was resolved.
    pub gpu: GpuMode,
    pub image: ImagePlan,
    pub container: ContainerPlan,
    pub exec: ExecPlan,
}

pub struct PlanInputs<'a> {
    pub profile: &'a Profile,
    pub host: &'a HostFacts,
    pub engine: &'a EngineFacts,
    pub workspace: &'a Workspace,
    /// `--templates`; the profile's `templates:` applies when this is `None`.
    pub templates: Option<PathBuf>,
    /// The workspace's locked dependencies for this profile (robodev.lock), if any.
    pub dependencies: Option<&'a LockedDependencies>,
}

/// The image half alone: what `clean` needs to know which tag a profile builds now.
pub struct ImageOnly {
    pub user: ContainerUser,
    pub gpu: GpuMode,
    pub gpu_note: Option<Notice>,
    pub image: ImagePlan,
}

/// The dependency layer of the development image: every locked key but documentation-only ones.
pub fn dependency_layer(locked: Option<&LockedDependencies>) -> DependencyLayer {
    let Some(locked) = locked else {
        return DependencyLayer::default();
    };
    let needed = |k: &LockedKey| k.types.iter().any(|t| t != "doc");
    DependencyLayer {
        apt: locked.apt(needed),
        pip: locked.pip(needed),
    }
}

pub fn image_only(
    profile: &Profile,
    host: &HostFacts,
    engine: &EngineFacts,
    templates: Option<PathBuf>,
    dependencies: Option<&LockedDependencies>,
) -> Result<ImageOnly> {
    let templates = templates.or_else(|| profile.templates.as_ref().map(PathBuf::from));
    let renderer = Renderer::new(templates);
    let user = ContainerUser::for_profile(profile, &host.user);
    let (ctx, gpu_note) = context(profile, host, engine, &user);
    let packages = hardware::system_packages(&ctx);
    let gpu = ctx.gpu;
    let deps = dependency_layer(dependencies);
    let mut image = plan_image(profile, &user, &packages, &deps, &renderer)?;
    // Not part of the hash: who built it, for `clean` on a shared engine.
    image.labels.insert(
        labels::OWNER.to_string(),
        format!("{}:{}", host.user.name, host.user.uid),
    );
    Ok(ImageOnly {
        user,
        gpu,
        gpu_note,
        image,
    })
}

/// What the hardware features see, with `gpu: auto` resolved (and the note saying how).
fn context<'a>(
    profile: &'a Profile,
    host: &'a HostFacts,
    engine: &'a EngineFacts,
    user: &'a ContainerUser,
) -> (Context<'a>, Option<Notice>) {
    let (gpu, note) = hardware::gpu::resolve(profile.gpu, host, engine);
    let ctx = Context {
        profile,
        host,
        engine,
        user,
        gpu,
    };
    (ctx, note)
}

/// The whole plan. Unmet host requirements (a device absent, no display) do not fail here:
/// they are in `container.problems`, and only creating the container refuses them.
pub fn make(inputs: PlanInputs<'_>) -> Result<Plan> {
    let PlanInputs {
        profile,
        host,
        engine,
        workspace,
        templates,
        dependencies,
    } = inputs;
    let ImageOnly {
        user,
        gpu,
        gpu_note,
        image,
    } = image_only(profile, host, engine, templates, dependencies)?;
    let mut image = image;
    // Not part of the hash either: which workspace built it, for `clean` on a shared engine.
    image.labels.insert(
        labels::WORKSPACE.to_string(),
        workspace.root.display().to_string(),
    );
    let mut container = container::base(profile, workspace, &image, &user);
    hardware::plan_all(&context(profile, host, engine, &user).0, &mut container);
    if let Some(note) = gpu_note {
        container.notices.insert(0, note);
    }
    let hash = container.config_hash();
    container.labels.insert(labels::CONFIG.to_string(), hash);
    Ok(Plan {
        profile: profile.clone(),
        exec: ExecPlan::new(profile, workspace, &host.user, None),
        user,
        gpu,
        image,
        container,
    })
}

/// The hardware features' system packages for a profile (the resolver's tooling layer must
/// be the environment's).
pub fn tooling_features(
    profile: &Profile,
    host: &HostFacts,
    engine: &EngineFacts,
) -> Vec<&'static str> {
    let user = ContainerUser::for_profile(profile, &host.user);
    hardware::system_packages(&context(profile, host, engine, &user).0)
}

/// `doctor`'s hardware lines for a profile on this host and engine: the same functions that
/// plan the container decide them.
pub fn hardware_checks(
    profile: &Profile,
    host: &HostFacts,
    engine: &EngineFacts,
) -> Vec<hardware::Check> {
    let user = ContainerUser::for_profile(profile, &host.user);
    hardware::checks(&context(profile, host, engine, &user).0)
}

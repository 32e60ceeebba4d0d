//! A whole plan: profile + host facts + engine facts → image plan, container plan, exec plan.
//! Pure data, snapshot-tested; `generate`, `devcontainer`, the exports and the engine start here.
//!
//! `image` renders the Dockerfile (`render`, templates), `container` holds what `docker create`
//! is told, `hardware/` adds one feature per file to both, `exec` says how processes run in the
//! container, `devcontainer` turns the plan into `.devcontainer/`.

pub mod ci;
pub mod compose;
pub mod container;
pub mod dependencies;
pub mod deploy;
pub mod devcontainer;
pub mod engine_quirks;
pub mod exec;
pub mod hardware;
pub mod image;
pub mod kubernetes;
pub mod labels;
pub mod machine_probe;
pub mod remote;
pub mod render;
pub mod sync;
pub mod test_run;
pub mod user;

use crate::error::Result;
use crate::facts::{EngineFacts, HostFacts, Workspace};
use crate::lockfile::LockFile;
use crate::lockfile::base::LockedBase;
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
    /// What robodev.lock pins for this profile.
    pub pins: Pins<'a>,
}

/// What robodev.lock pins for one profile: its dependencies and its base image's digest.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pins<'a> {
    pub dependencies: Option<&'a LockedDependencies>,
    /// Only when it pins the image the profile names now: a pin of another image is stale and
    /// never used.
    pub base: Option<&'a LockedBase>,
    /// The deploy image's runtime base, on the same terms.
    pub deploy_base: Option<&'a LockedBase>,
}

impl<'a> Pins<'a> {
    pub fn of(lock: &'a LockFile, profile: &Profile) -> Pins<'a> {
        Pins {
            dependencies: lock.dependencies(&profile.name),
            base: lock
                .base(&profile.name)
                .filter(|b| b.image == profile.base_image),
            deploy_base: lock
                .deploy_base(&profile.name)
                .filter(|b| profile.deploy.as_ref().is_some_and(|d| b.image == d.base)),
        }
    }

    /// What the deploy image's runtime stage's `FROM` names (`None`: the profile has no
    /// `deploy:`).
    pub fn runtime_reference(&self, profile: &Profile) -> Option<String> {
        let deploy = profile.deploy.as_ref()?;
        Some(match self.deploy_base {
            Some(b) => b.from_reference(),
            None => deploy.base.clone(),
        })
    }

    /// What the Dockerfile's `FROM` names.
    pub fn from_reference(&self, profile: &Profile) -> String {
        match self.base {
            Some(b) => b.from_reference(),
            None => profile.base_image.clone(),
        }
    }
}

/// `path` as `~/…` when it is under `home` (not `/`), else as it is.
pub fn home_relative(path: &std::path::Path, home: &std::path::Path) -> String {
    match path.strip_prefix(home) {
        Ok(rest) if home.components().count() > 1 => format!("~/{}", rest.display()),
        _ => path.display().to_string(),
    }
}

/// Why a base image named by a moving tag should be pinned, when it is not.
pub fn moving_base_warning(profile: &Profile, pins: &Pins<'_>) -> Option<Notice> {
    let base = &profile.base_image;
    if pins.base.is_some_and(|b| b.digest.is_some()) || base.contains('@') {
        return None;
    }
    let name = base.rsplit('/').next().unwrap_or(base);
    let tag = name.split_once(':').map(|(_, t)| t);
    let why = match tag {
        None => "has no tag, so it means `latest`",
        Some("latest") => "uses the tag `latest`",
        Some(_) => return None,
    };
    Some(Notice::warning(format!(
        "base_image {base} {why}, which moves: two machines building this profile can get \
         different images. `robodev lock` pins it to a digest, which names exactly one image \
         (or name a release tag)"
    )))
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
    pins: Pins<'_>,
) -> Result<ImageOnly> {
    let renderer = Renderer::for_profile(templates, profile);
    let user = ContainerUser::for_profile(profile, &host.user);
    let (ctx, gpu_note) = context(profile, host, engine, &user);
    let packages = hardware::system_packages(&ctx);
    let gpu = ctx.gpu;
    let deps = dependency_layer(pins.dependencies);
    let from = pins.from_reference(profile);
    let mut image = plan_image(profile, &from, &user, &packages, &deps, &renderer)?;
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
        pins,
    } = inputs;
    let ImageOnly {
        user,
        gpu,
        gpu_note,
        image,
    } = image_only(profile, host, engine, templates, pins)?;
    let mut image = image;
    // Not part of the hash either: which workspace built it, for `clean` on a shared engine.
    // Under the home directory it is written `~/…`: a pushed image carries no one's home path
    // (or user name) to the teammates who pull it.
    image.labels.insert(
        labels::WORKSPACE.to_string(),
        home_relative(&workspace.root, &host.user.home),
    );
    let mut container = container::base(profile, workspace, &image, &user);
    hardware::plan_all(&context(profile, host, engine, &user).0, &mut container);
    engine_quirks::adapt(&mut container, engine);
    if let Some(note) = gpu_note {
        container.notices.insert(0, note);
    }
    container
        .notices
        .extend(moving_base_warning(profile, &pins));
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

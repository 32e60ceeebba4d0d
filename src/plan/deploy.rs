//! The deploy image: a multistage Dockerfile from the profile and robodev.lock. Stage `build`
//! repeats the development image's layers (so their cache is shared), copies the workspace's
//! sources and runs colcon; stage `runtime` starts from a slim base, installs only the locked
//! **exec** dependencies, copies `install/`, and runs the profile's command as a fixed user.
//! No compiler, no source, no build-only dependency ships.

use super::image::{
    DependencyLayer, ImagePlan, SOURCES_DIR, SourceTree, finish_with_sources, tooling_packages,
};
use super::labels;
use super::render::Renderer;
use crate::error::{Error, Result};
use crate::lockfile::dependencies::{LockedDependencies, LockedKey};
use crate::profile::Profile;
use crate::profile::model::{DEPLOY_UID, Deploy};
use serde_json::json;
use std::collections::BTreeMap;

/// Where the workspace is built and installed, in both stages (colcon's setup files name it).
pub const WS_INSIDE: &str = "/ws";
pub const DEPLOY_ENTRYPOINT: &str = "/usr/local/bin/robodev-deploy-entrypoint";
/// The entrypoint's name in the context robodev sends.
const ENTRYPOINT_FILE: &str = "robodev-deploy-entrypoint";
/// Where `generate --deploy` writes its files, relative to the workspace root (which is the
/// build context there).
pub const GENERATED_DIR: &str = ".robodev/deploy";

/// The runtime stage's dependencies: the locked keys a package needs to run.
pub fn runtime_dependencies(locked: Option<&LockedDependencies>) -> DependencyLayer {
    let Some(locked) = locked else {
        return DependencyLayer::default();
    };
    let exec = |k: &LockedKey| k.types.iter().any(|t| t == "exec");
    DependencyLayer {
        apt: locked.apt(exec),
        pip: locked.pip(exec),
    }
}

/// The profile's `deploy:` section, or an error saying how to add one.
pub fn section(profile: &Profile) -> Result<&Deploy> {
    let deploy = profile.deploy.as_ref().ok_or_else(|| {
        Error::usage_with_help(
            format!("profile {} has no `deploy:` section", profile.name),
            "add one, e.g.\n    deploy:\n      command: [ros2, launch, rover_bringup, robot.launch.py]",
        )
    })?;
    if deploy.command.is_empty() {
        return Err(Error::usage_with_help(
            format!("profile {}'s `deploy:` names no command", profile.name),
            "add `command: [PROGRAM, ARG, …]` (exec form: a list, no shell)",
        ));
    }
    Ok(deploy)
}

/// What a deploy Dockerfile is rendered from besides the profile.
pub struct DeployInputs<'a> {
    /// The build stage's `FROM` (the base image, pinned when robodev.lock pins it).
    pub from: &'a str,
    /// The runtime stage's `FROM` (`deploy.base`, pinned when robodev.lock pins it).
    pub runtime_from: &'a str,
    /// Where a generated Dockerfile and its files are written (`sources: None`), relative to
    /// the workspace root, which is its build context: its `COPY` of the entrypoint names it.
    pub generated_dir: &'a str,
    /// The hardware features' system packages: the build stage's tooling layer is the
    /// development image's, so its cache is shared.
    pub feature_packages: &'a [&'a str],
    /// The development image's dependency layer (every locked key but documentation).
    pub build_deps: &'a DependencyLayer,
    pub runtime_deps: &'a DependencyLayer,
    /// The workspace's files for robodev's own build; `None` for `generate --deploy`, whose
    /// context is the workspace directory itself.
    pub sources: Option<SourceTree>,
    /// `org.opencontainers.image.*` labels (not part of the hash).
    pub oci_labels: BTreeMap<String, String>,
}

/// The deploy image's repository: the environment's, with `-deploy`.
pub fn repository(profile: &Profile) -> String {
    format!("{}-deploy", super::image::repository(profile))
}

pub fn plan_deploy(
    profile: &Profile,
    inputs: DeployInputs<'_>,
    renderer: &Renderer,
) -> Result<ImagePlan> {
    let deploy = section(profile)?;
    let generated = inputs.sources.is_none();
    let env: Vec<serde_json::Value> = deploy
        .env
        .iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    let vars = json!({
        "profile": profile.name,
        "distro": profile.distro.name,
        "base_image": inputs.from,
        "runtime_base": inputs.runtime_from,
        "platform": profile.platform,
        "tooling_packages": tooling_packages(profile, inputs.feature_packages),
        "ros_packages": profile.ros_packages,
        "deps_apt": inputs.build_deps.apt,
        "deps_pip": inputs.build_deps.pip,
        "apt_layers": profile.apt_layers,
        "pip_packages": profile.pip,
        "runtime_apt": inputs.runtime_deps.apt,
        "runtime_pip": inputs.runtime_deps.pip,
        "setup_dir": profile.distro.setup_dir,
        "ws": WS_INSIDE,
        "sources": if generated { ".".to_string() } else { format!("{SOURCES_DIR}/") },
        "packages": deploy.packages,
        "cmake_args": deploy.cmake_args,
        "user": deploy.user,
        "uid": DEPLOY_UID,
        "env": env,
        "entrypoint": DEPLOY_ENTRYPOINT,
        "entrypoint_src": if generated {
            format!("{}/{ENTRYPOINT_FILE}", inputs.generated_dir)
        } else {
            ENTRYPOINT_FILE.to_string()
        },
        "command": serde_json::to_string(&deploy.command).unwrap_or_default(),
        "ccache": profile.dependencies.ccache,
    });
    let (dockerfile, cache_mount_dockerfile) =
        super::image::render_dockerfiles(renderer, "deploy.j2", vars.clone(), profile)?;
    let vars = super::image::with_cache_mounts(vars, profile, false);
    let context = BTreeMap::from([(
        ENTRYPOINT_FILE.to_string(),
        renderer.render("deploy-entrypoint.j2", &vars)?,
    )]);
    let mut image = finish_with_sources(
        profile,
        &repository(profile),
        dockerfile,
        context,
        BTreeMap::new(),
        inputs.sources,
    );
    image.cache_mount_dockerfile = cache_mount_dockerfile;
    image
        .labels
        .insert(labels::DEPLOY.to_string(), "true".to_string());
    image.labels.extend(inputs.oci_labels);
    Ok(image)
}

/// The container `robodev deploy run` starts: the environment's hardware (devices, their
/// groups, GPU, display, network) around the deploy image, as the robot runs it — the fixed
/// user, no workspace mount, no volumes, none of robodev's development variables.
pub fn runtime_container(
    dev: &super::container::ContainerPlan,
    image: &ImagePlan,
    deploy: &Deploy,
) -> super::container::ContainerPlan {
    use super::container::MountKind;
    let mut plan = dev.throwaway();
    plan.name = String::new();
    plan.image = image.tag.clone();
    plan.user = super::user::ContainerUser {
        name: deploy.user.clone(),
        uid: DEPLOY_UID,
        gid: DEPLOY_UID,
        home: "/nonexistent".into(),
    };
    plan.working_dir = WS_INSIDE.into();
    let workspace = dev.workspace_target.clone();
    plan.mounts.retain(|m| {
        m.kind != MountKind::Volume
            && m.target != workspace
            && !m.target.starts_with(&format!("{workspace}/"))
    });
    plan.volumes.clear();
    // The fixed user must read the X11 cookie: a copy of its own, readable by that uid.
    if let Some(cookie) = &mut plan.x11_cookie {
        let own = cookie.host_file.replace(".xauth", "-deploy.xauth");
        for m in &mut plan.mounts {
            if m.source == cookie.host_file {
                m.source = own.clone();
            }
        }
        cookie.host_file = own;
        cookie.for_other_uid = true;
    }
    plan.env.retain(|k, _| {
        !k.starts_with("ROBODEV_") && !k.starts_with("CCACHE") && !k.starts_with("CMAKE_")
    });
    plan.workspace_host = String::new();
    plan.workspace_target = String::new();
    plan
}

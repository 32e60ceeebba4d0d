//! `robodev deploy build|run` and `generate --deploy`: the workspace as a slim runtime image for
//! the robot, planned from the same profile and robodev.lock as the environment.

use super::lock::LockMode;
use super::machine_facts::Freshness;
use super::registry::{
    PushedPlatform, image_platform, push_and_record, push_index_and_record, require_registry,
};
use super::resolve::resolve;
use super::session::{Inputs, Session, ensure_image, prepare_start, terminal};
use crate::cli::BuildFlags;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::facts::{sources, workspace};
use crate::files::write_generated;
use crate::plan::deploy::{self, DeployInputs, GENERATED_DIR};
use crate::plan::image::{ImagePlan, SourceTree};
use crate::plan::render::Renderer;
use crate::plan::{self, Pins};
use crate::profile::Profile;
use indicatif::HumanBytes;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The deploy image's plan. `with_sources`: read the workspace's files (robodev's own build);
/// without, the Dockerfile is for a build whose context is the workspace itself.
pub(super) fn plan_image(
    s: &Session,
    profile: &Profile,
    inputs: &Inputs,
    generated_dir: Option<&str>,
) -> Result<ImagePlan> {
    // This machine's state dir stays out of the sources, whichever machine builds.
    let state_dir = crate::facts::host::state_dir();
    let pins = Pins::of(&inputs.lock, profile);
    let features = plan::tooling_features(profile, &inputs.host, &inputs.engine);
    let build_deps = plan::dependency_layer(pins.dependencies);
    let runtime_deps = deploy::runtime_dependencies(pins.dependencies);
    let root = &s.workspace.root;
    let sources = if generated_dir.is_none() {
        Some(SourceTree {
            root: root.clone(),
            files: sources::scan(root, &[state_dir.as_path()])?,
        })
    } else {
        None
    };
    let mut oci = BTreeMap::new();
    if let Some(rev) = workspace::git_revision(root) {
        oci.insert("org.opencontainers.image.revision".into(), rev);
    }
    if let Some(time) = workspace::git_commit_time(root) {
        oci.insert("org.opencontainers.image.created".into(), time);
    }
    if let Some(url) = workspace::git_origin(root) {
        oci.insert("org.opencontainers.image.source".into(), url);
    }
    oci.insert(
        "org.opencontainers.image.title".into(),
        deploy::repository(profile),
    );
    oci.extend(super::sources::commit_labels(s, profile));
    let from = pins.from_reference(profile);
    // No `deploy:` at all: `plan_deploy` says how to add one.
    let runtime_from = pins.runtime_reference(profile).unwrap_or_default();
    let mut image = deploy::plan_deploy(
        profile,
        DeployInputs {
            from: &from,
            runtime_from: &runtime_from,
            generated_dir: generated_dir.unwrap_or(GENERATED_DIR),
            feature_packages: &features,
            build_deps: &build_deps,
            runtime_deps: &runtime_deps,
            sources,
            oci_labels: oci,
        },
        &Renderer::for_profile(s.global.templates.clone(), profile),
    )?;
    image.labels.insert(
        "org.opencontainers.image.version".into(),
        image.short_tag().to_string(),
    );
    Ok(image)
}

/// The deploy image of `profile` (for its `platform`), built unless the engine has it.
pub(super) async fn built_image(
    s: &Session,
    engine: &dyn Engine,
    profile: &Profile,
    inputs: &Inputs,
    flags: BuildFlags,
) -> Result<ImagePlan> {
    let image = plan_image(s, profile, inputs, None)?;
    s.ui.note(format!(
        "{} workspace file(s) in the build context",
        image.sources.as_ref().map_or(0, |t| t.files.len())
    ));
    ensure_image(s, engine, &image, flags).await?;
    Ok(image)
}

/// `-o DIR` of `generate --deploy`, as a directory inside the workspace (the build context the
/// Dockerfile's `COPY` names its entrypoint from), or an error saying why not.
fn inside_workspace(root: &Path, output: &Path) -> Result<PathBuf> {
    let cwd = std::env::current_dir().map_err(|e| Error::io_path("read", Path::new("."), e))?;
    let absolute = crate::paths::normalized(&cwd.join(output));
    let root = crate::paths::normalized(root);
    if absolute == root || !absolute.starts_with(&root) {
        return Err(Error::usage_with_help(
            format!(
                "generate --deploy -o {}: the directory must be inside the workspace {}",
                output.display(),
                root.display()
            ),
            "the workspace root is the deploy build's context: its Dockerfile copies its \
             entrypoint from there (e.g. `-o docker/deploy`)",
        ));
    }
    Ok(absolute)
}

/// The platforms of `--platform A[,B…]` (each checked), or the profile's own.
fn platforms(profile: &Profile, flag: Option<&str>) -> Result<Vec<Option<String>>> {
    let Some(flag) = flag else {
        return Ok(vec![profile.platform.clone()]);
    };
    let list = crate::profile::grammar::platform_list(flag)
        .map_err(|m| Error::usage(format!("--platform: {m}")))?;
    Ok(list.into_iter().map(Some).collect())
}

/// `robodev deploy build [PROFILE] [--platform P[,P…]] [--push]`. With several platforms and
/// `--push`, each image is pushed by digest, then one index names them all.
pub async fn build(
    s: &Session,
    reference: Option<&str>,
    flags: BuildFlags,
    platform: Option<String>,
    push: bool,
) -> Result<i32> {
    let mut profile = s.profile(reference)?;
    deploy::section(&profile)?;
    super::sources::ensure_present(s, &profile, flags.locked)?;
    let platforms = platforms(&profile, platform.as_deref())?;
    if push {
        require_registry(&profile)?;
    }
    let engine = s.engine().await?;
    // Resolve once, then plan and execute per platform.
    let inputs = resolve(s, engine, &profile, LockMode::from_flags(&flags), false).await?;
    let mut pushed = Vec::new();
    let mut repository = String::new();
    for platform in &platforms {
        profile.platform = platform.clone();
        let image = built_image(s, engine, &profile, &inputs, flags).await?;
        let size = engine
            .identity(&image.tag)
            .await?
            .map(|i| HumanBytes(i.size.max(0) as u64).to_string())
            .unwrap_or_default();
        let platform = image_platform(engine, &image).await?;
        s.ui.success(format!(
            "deploy image {} ({platform}, {size}): `robodev deploy run` starts it here, \
             `robodev save` or a registry takes it to the robot",
            image.tag
        ));
        if push {
            let digest = push_and_record(s, engine, &image, &platform).await?;
            repository = image.repository.clone();
            pushed.push(PushedPlatform {
                platform,
                hash: image.hash.clone(),
                digest,
            });
        }
    }
    if pushed.len() > 1 {
        push_index_and_record(s, engine, &repository, &pushed).await?;
    } else if platforms.len() > 1 {
        s.ui.note("a multi-platform index is made in the registry: add --push to make one");
    }
    Ok(0)
}

/// `robodev deploy run [PROFILE] [-- CMD…]`: the deploy image with the profile's hardware.
pub async fn run(
    s: &Session,
    reference: Option<&str>,
    flags: BuildFlags,
    cmd: Vec<String>,
) -> Result<i32> {
    let profile = s.profile(reference)?;
    let section = deploy::section(&profile)?.clone();
    let engine = s.engine().await?;
    // Resolve, plan, execute.
    let inputs = resolve(s, engine, &profile, LockMode::from_flags(&flags), false).await?;
    let dev = s.plan_from(&profile, Some(engine), &inputs)?;
    dev.container.require_host()?;
    let image = plan_image(s, &profile, &inputs, None)?;
    ensure_image(s, engine, &image, flags).await?;
    let container = deploy::runtime_container(&dev.container, &image, &section);
    let mut dev = dev;
    dev.container = container.clone();
    prepare_start(s, &dev)?;
    let term = terminal();
    engine
        .run_image_command(
            &container,
            (!cmd.is_empty()).then_some(cmd),
            term.tty(),
            term.attach_stdin(),
        )
        .await
}

/// `robodev generate --deploy [-o DIR]`: the multistage Dockerfile and its entrypoint, for a
/// team that builds elsewhere (`docker build -f .robodev/deploy/Dockerfile .` from the
/// workspace root). The workspace root is the build context, so DIR must be inside it.
pub async fn generate(
    s: &Session,
    reference: Option<&str>,
    output: Option<PathBuf>,
    force: bool,
) -> Result<i32> {
    let profile = s.profile(reference)?;
    deploy::section(&profile)?;
    let root = &s.workspace.root;
    let dir = match output {
        None => root.join(GENERATED_DIR),
        Some(o) => inside_workspace(root, &o)?,
    };
    let relative = dir
        .strip_prefix(root)
        .unwrap_or(&dir)
        .to_string_lossy()
        .into_owned();
    let inputs = s.facts(&profile, None, Freshness::Now).await?;
    let image = plan_image(s, &profile, &inputs, Some(&relative))?;
    write_generated(&super::profiles::image_files(&image, &dir), force)?;
    s.ui.success(format!(
        "wrote {}/Dockerfile and its entrypoint; build from the workspace root: \
         `docker build -f {relative}/Dockerfile .` (keep build/ install/ log/ .git in \
         your .dockerignore)",
        crate::ui::shown_path(&dir)
    ));
    Ok(0)
}

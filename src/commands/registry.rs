//! Team images: `robodev push`, and pulling the image the team already built (by the digest
//! robodev.lock records, or the hash tag) instead of building it.

use super::lock::LockMode;
use super::resolve::resolve;
use super::session::{Session, ensure_image};
use super::transfer_progress::TransferProgress;
use crate::cli::BuildFlags;
use crate::engine::Engine;
use crate::engine::image_index::{self, PlatformImage};
use crate::error::{Error, RegistryProblem, Result};
use crate::facts::credentials::{self, RegistryAuth};
use crate::lockfile::LockFile;
use crate::lockfile::images::LockedImage;
use crate::plan::Plan;
use crate::plan::image::ImagePlan;
use crate::plan::labels;
use std::time::Instant;

/// The platform an image is for: the profile's, or the engine's own.
pub async fn image_platform(engine: &dyn Engine, image: &ImagePlan) -> Result<String> {
    match &image.platform {
        Some(p) => Ok(p.clone()),
        None => Ok(super::engine_facts::of(engine).await?.platform),
    }
}

fn auth_for(repository: &str) -> Result<Option<RegistryAuth>> {
    credentials::for_registry(credentials::registry_host(repository))
}

/// `robodev push`: build if needed, push `REGISTRY/NAMESPACE/NAME:HASH`, record its digest in
/// robodev.lock.
pub async fn push(s: &Session, reference: Option<&str>, flags: BuildFlags) -> Result<i32> {
    let profile = s.profile(reference)?;
    require_registry(&profile)?;
    let engine = s.engine().await?;
    // Resolve (what is pushed for the team starts from a pinned base), plan, execute.
    let inputs = resolve(s, engine, &profile, LockMode::from_flags(&flags), true).await?;
    let plan = s.plan_from(&profile, Some(engine), &inputs)?;
    ensure_image(s, engine, &plan.image, flags).await?;
    let platform = image_platform(engine, &plan.image).await?;
    push_and_record(s, engine, &plan.image, &platform).await?;
    push_build_cache(s, engine, &plan.image).await?;
    Ok(0)
}

/// Publish the image as the team's build cache (`REPOSITORY:buildcache`): BuildKit's inline
/// cache is in it, so a build on an empty engine (a CI runner) takes its unchanged layers from
/// the registry instead of building them.
async fn push_build_cache(s: &Session, engine: &dyn Engine, image: &ImagePlan) -> Result<()> {
    let Some(cache) = &image.registry_cache else {
        return Ok(());
    };
    // Only BuildKit writes the inline cache into an image: elsewhere there is nothing to share.
    if !super::engine_facts::of(engine).await?.buildkit {
        return Ok(());
    }
    let tag = crate::plan::image::BUILD_CACHE_TAG;
    engine.tag_image(&image.tag, &image.repository, tag).await?;
    let auth = auth_for(&image.repository)?;
    let mut progress = TransferProgress::new(s.ui);
    engine
        .push(&image.repository, tag, auth.as_ref(), &mut progress)
        .await?;
    s.ui.success(format!("pushed the build cache {cache}"));
    Ok(())
}

/// Push an image robodev built to its repository and record the digest in robodev.lock's
/// `images` section (by image hash and platform), saying so. Returns the digest.
pub async fn push_and_record(
    s: &Session,
    engine: &dyn Engine,
    image: &ImagePlan,
    platform: &str,
) -> Result<String> {
    let repository = &image.repository;
    let tag = image.short_tag();
    let auth = auth_for(repository)?;
    let started = Instant::now();
    let mut progress = TransferProgress::new(s.ui);
    let digest = engine
        .push(repository, tag, auth.as_ref(), &mut progress)
        .await?;
    let mut lock = LockFile::read(&s.workspace.root)?;
    let pushed = LockedImage {
        repository: repository.clone(),
        digest: digest.clone(),
    };
    let recorded = if lock.image(&image.hash, platform) == Some(&pushed) {
        format!("{} already records it", crate::lockfile::LOCK_FILE)
    } else {
        lock.set_image(&image.hash, platform, pushed);
        lock.write()?;
        format!("recorded in {} (commit it)", crate::lockfile::LOCK_FILE)
    };
    s.ui.success(format!(
        "pushed {repository}@{digest} ({platform}) in {:.1}s; {recorded}",
        started.elapsed().as_secs_f64(),
    ));
    Ok(digest)
}

/// One platform's image of a multi-platform push: its plan hash and pushed digest.
pub struct PushedPlatform {
    pub platform: String,
    pub hash: String,
    pub digest: String,
}

/// The tag of a multi-platform index: the same hash rule as an image's tag, over the
/// platforms' image hashes, so the same images always get the same tag.
pub fn index_hash(images: &[PushedPlatform]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for image in images {
        h.update(format!("{}={}\n", image.platform, image.hash));
    }
    hex::encode(h.finalize())
}

/// Push a multi-platform index of `images` (already pushed to `repository`) under a tag made
/// from their hashes, record its digest in robodev.lock (under that hash, platforms joined by
/// commas), and say how a robot pulls it. Returns the index reference.
pub async fn push_index_and_record(
    s: &Session,
    engine: &dyn Engine,
    repository: &str,
    images: &[PushedPlatform],
) -> Result<String> {
    let hash = index_hash(images);
    let tag = &hash[..12];
    let registry = credentials::registry_host(repository);
    let plain = image_index::plain_http(registry, &engine.facts().await?.insecure_registries);
    let entries: Vec<PlatformImage> = images
        .iter()
        .map(|i| PlatformImage {
            platform: i.platform.clone(),
            digest: i.digest.clone(),
        })
        .collect();
    let digest = image_index::push_index(
        repository,
        tag,
        &entries,
        auth_for(repository)?.as_ref(),
        plain,
    )
    .await?;
    let platforms: Vec<&str> = images.iter().map(|i| i.platform.as_str()).collect();
    let mut lock = LockFile::read(&s.workspace.root)?;
    lock.set_image(
        &hash,
        &platforms.join(","),
        LockedImage {
            repository: repository.to_string(),
            digest: digest.clone(),
        },
    );
    lock.write()?;
    s.ui.success(format!(
        "pushed the index {repository}:{tag} ({}) as {digest}; a robot of either architecture \
         pulls its own image: `docker pull {repository}@{digest}`",
        platforms.join(", ")
    ));
    Ok(format!("{repository}@{digest}"))
}

/// The profile's registry, or an error saying how to name one.
pub fn require_registry(profile: &crate::profile::Profile) -> Result<()> {
    if profile.registry.is_none() {
        return Err(Error::usage_with_help(
            format!("profile {} names no registry", profile.name),
            "add `registry: REGISTRY/NAMESPACE` to the profile (e.g. `registry: ghcr.io/my-team`)",
        ));
    }
    Ok(())
}

/// When the plan's image is not on the engine and the profile shares images through a
/// registry: pull it (by the locked digest, else the hash tag), check it is this profile's
/// image, and name it as robodev would. `Ok(false)`: build instead (said why). A digest or hash
/// that does not match is an error: such an image is never run.
pub async fn pull_instead_of_build(
    s: &Session,
    engine: &dyn Engine,
    plan: &Plan,
    flags: BuildFlags,
) -> Result<bool> {
    if plan.profile.registry.is_none()
        || flags.build
        || flags.offline
        || flags.no_cache
        || flags.pull
        || engine.identity(&plan.image.tag).await?.is_some()
    {
        return Ok(false);
    }
    let repository = &plan.image.repository;
    let short = plan.image.short_tag();
    let lock = LockFile::read(&s.workspace.root)?;
    let platform = image_platform(engine, &plan.image).await?;
    let locked = lock.image(&plan.image.hash, &platform).cloned();
    let reference = match &locked {
        Some(l) if l.repository == *repository => l.digest.clone(),
        _ => short.to_string(),
    };
    let auth = auth_for(repository)?;
    let started = Instant::now();
    let mut progress = TransferProgress::new(s.ui);
    s.ui.info(format!(
        "pulling {repository} ({reference}) instead of building"
    ));
    match engine
        .pull(repository, &reference, None, auth.as_ref(), &mut progress)
        .await
    {
        Ok(()) => {}
        Err(Error::Registry {
            problem, message, ..
        }) if problem != RegistryProblem::Mismatch => {
            let why = match problem {
                RegistryProblem::Unreachable => "the registry is unreachable",
                RegistryProblem::Unauthorized => {
                    "the registry refused the credentials (`docker login` to fix)"
                }
                RegistryProblem::Missing => "the registry does not have it",
                _ => "the pull failed",
            };
            s.ui.warn(format!(
                "{why} ({}): building {} instead",
                message.lines().next().unwrap_or(""),
                plan.image.tag
            ));
            if problem == RegistryProblem::Missing
                && locked.is_none()
                && lock
                    .image_digests()
                    .iter()
                    .any(|i| i.repository == *repository)
            {
                let user = &plan.container.user;
                s.ui.warn(format!(
                    "robodev.lock records the team's images of {repository}, but none for this \
                     one: the profile changed since they were pushed, or they were built for \
                     another container user — the image includes its user, and yours is {} \
                     (uid {}, gid {}), so a teammate's image for another uid or name is built \
                     here instead. To share one image: the same uid, gid and name on every \
                     machine, or `user: root` in the profile",
                    user.name, user.uid, user.gid
                ));
            }
            return Ok(false);
        }
        Err(e) => return Err(e),
    }
    let pulled = if reference.starts_with("sha256:") {
        format!("{repository}@{reference}")
    } else {
        format!("{repository}:{reference}")
    };
    verify(engine, &pulled, plan, locked.as_ref()).await?;
    if reference.starts_with("sha256:") {
        engine.tag_image(&pulled, repository, short).await?;
    }
    s.ui.success(format!(
        "pulled {pulled} in {:.1}s (no build)",
        started.elapsed().as_secs_f64()
    ));
    Ok(true)
}

/// The environment's image on the engine: already there, pulled from the team's registry, or
/// built.
pub async fn ensure_environment_image(
    s: &Session,
    engine: &dyn Engine,
    plan: &Plan,
    flags: BuildFlags,
) -> Result<()> {
    if !pull_instead_of_build(s, engine, plan, flags).await? {
        ensure_image(s, engine, &plan.image, flags).await?;
    }
    require_the_locked_digest(s, engine, plan, flags).await
}

/// When robodev.lock records the digest the team pushed for this image, the image here must
/// carry it (a same-named image built or tagged here is not the team's): pulled by that
/// digest otherwise. `--build` (a local build, asked for) and `--offline` (say so) aside.
async fn require_the_locked_digest(
    s: &Session,
    engine: &dyn Engine,
    plan: &Plan,
    flags: BuildFlags,
) -> Result<()> {
    if plan.profile.registry.is_none() || flags.build || flags.no_cache || flags.pull {
        return Ok(());
    }
    let repository = &plan.image.repository;
    let lock = LockFile::read(&s.workspace.root)?;
    let platform = image_platform(engine, &plan.image).await?;
    let Some(locked) = lock
        .image(&plan.image.hash, &platform)
        .filter(|l| l.repository == *repository)
        .cloned()
    else {
        return Ok(());
    };
    let pinned = format!("{repository}@{}", locked.digest);
    let identity = engine.identity(&plan.image.tag).await?.unwrap_or_default();
    if identity.repo_digests.contains(&pinned) {
        return Ok(());
    }
    if flags.offline {
        s.ui.note(format!(
            "{} here does not carry the digest robodev.lock records ({}); --offline: using it \
             (its hash label is the profile's; a loaded bundle was checked when loaded)",
            plan.image.tag, locked.digest
        ));
        return Ok(());
    }
    s.ui.info(format!(
        "{} here is not the image robodev.lock records ({pinned}): pulling that one",
        plan.image.tag
    ));
    let auth = auth_for(repository)?;
    let mut progress = TransferProgress::new(s.ui);
    match engine
        .pull(
            repository,
            &locked.digest,
            None,
            auth.as_ref(),
            &mut progress,
        )
        .await
    {
        Ok(()) => {}
        // A robot without its registry: the image's hash label is the profile's.
        Err(Error::Registry {
            problem: RegistryProblem::Unreachable,
            message,
            ..
        }) => {
            s.ui.warn(format!(
                "the registry is unreachable ({}): using {} as it is (its hash label is the \
                 profile's; `--offline` says this is expected)",
                message.lines().next().unwrap_or_default(),
                plan.image.tag
            ));
            return Ok(());
        }
        Err(e) => return Err(e),
    }
    verify(engine, &pinned, plan, Some(&locked)).await?;
    engine
        .tag_image(&pinned, repository, plan.image.short_tag())
        .await
}

/// The pulled image must carry this plan's hash, and the locked digest when there is one.
/// Otherwise it is removed again and never run.
async fn verify(
    engine: &dyn Engine,
    pulled: &str,
    plan: &Plan,
    locked: Option<&LockedImage>,
) -> Result<()> {
    let identity = engine.identity(pulled).await?.unwrap_or_default();
    let hash = identity
        .labels
        .get(labels::HASH)
        .cloned()
        .unwrap_or_default();
    let digest_ok = locked.is_none_or(|l| {
        identity
            .repo_digests
            .iter()
            .any(|d| *d == format!("{}@{}", l.repository, l.digest))
    });
    if hash == plan.image.hash && digest_ok {
        return Ok(());
    }
    let _ = engine.remove_image(pulled).await;
    let message = if hash != plan.image.hash {
        format!(
            "the image under {pulled} is not this profile's image (its hash label is {}, robodev \
             expects {})",
            if hash.is_empty() { "missing" } else { &hash },
            plan.image.hash
        )
    } else {
        format!("the image pulled as {pulled} does not have the digest robodev.lock records")
    };
    Err(Error::Registry {
        problem: RegistryProblem::Mismatch,
        action: "refusing to run a pulled image".into(),
        message,
        help: Some(
            "someone pushed another image under this name: push the right one (`robodev push`) \
             or build locally (`--build`)"
                .into(),
        ),
    })
}

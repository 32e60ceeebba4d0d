//! Base images pinned in robodev.lock: `robodev lock` (and `push`) resolve the profile's
//! `base_image` tag to the digest its registry gives it now; every build then starts
//! `FROM image@sha256:…`, so two machines building the profile start from the same bytes.

use super::lock_mode::LockMode;
use super::session::Session;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::facts::credentials;
use crate::lockfile::base::LockedBase;
use crate::lockfile::{LOCK_FILE, LockFile};
use crate::profile::Profile;
use crate::ui::shown_path;

/// The base images robodev.lock pins for a profile: the development image's, and its deploy
/// image's runtime stage's when the profile has `deploy:`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Base {
    Development,
    DeployRuntime,
}

impl Base {
    const ALL: [Base; 2] = [Base::Development, Base::DeployRuntime];

    /// The image the profile names for this base now (`None`: it has none).
    fn image(self, profile: &Profile) -> Option<&str> {
        match self {
            Base::Development => Some(&profile.base_image),
            Base::DeployRuntime => profile.deploy.as_ref().map(|d| d.base.as_str()),
        }
    }

    fn locked(self, lock: &LockFile, profile: &str) -> Option<LockedBase> {
        match self {
            Base::Development => lock.base(profile),
            Base::DeployRuntime => lock.deploy_base(profile),
        }
        .cloned()
    }

    fn set(self, lock: &mut LockFile, profile: &str, base: LockedBase) {
        match self {
            Base::Development => lock.set_base(profile, base),
            Base::DeployRuntime => lock.set_deploy_base(profile, base),
        }
    }

    fn what(self) -> &'static str {
        match self {
            Base::Development => "base image",
            Base::DeployRuntime => "deploy runtime base",
        }
    }
}

/// Whether robodev.lock pins `profile`'s base images as the profile names them now. With no
/// lock file at all nothing is expected; a base written with its own `@sha256:` needs no pin.
pub fn check(lock: &LockFile, profile: &Profile) -> Result<()> {
    if !lock.exists() {
        return Ok(());
    }
    let mut details = Vec::new();
    for which in Base::ALL {
        let Some(image) = which.image(profile).filter(|i| !i.contains('@')) else {
            continue;
        };
        match which.locked(lock, &profile.name) {
            Some(b) if b.image == image => {}
            Some(b) => details.push(format!(
                "{}: the lock pins {}, the profile names {image}",
                which.what(),
                b.image
            )),
            None => details.push(format!("{}: {image} is not pinned", which.what())),
        }
    }
    if details.is_empty() {
        return Ok(());
    }
    Err(Error::CheckFailed {
        message: format!(
            "{} does not match profile {} (--locked):",
            shown_path(&lock.path),
            profile.name
        ),
        details,
        help: Some(format!("run `robodev lock` and commit {LOCK_FILE}")),
    })
}

/// Keep the profile's base image pins in step, in `lock` (the caller writes it, with the other
/// sections' changes: all or nothing). `pin_missing`: pin a base the lock does not name yet
/// (`lock`, `push`); otherwise only a pin of another image is renewed (the profile changed its
/// base), so `up` asks no registry on a workspace that never locked. Returns whether the lock's
/// content changed.
pub async fn ensure_pinned(
    s: &Session,
    engine: &dyn Engine,
    profile: &Profile,
    mode: LockMode,
    pin_missing: bool,
    lock: &mut LockFile,
) -> Result<bool> {
    if mode == LockMode::Check {
        return check(lock, profile).map(|()| false);
    }
    let mut changed = false;
    for which in Base::ALL {
        if let Some(image) = which.image(profile) {
            let pinning = Pinning {
                which,
                image,
                mode,
                pin_missing,
            };
            changed |= ensure_one(s, engine, profile, pinning, lock).await?;
        }
    }
    Ok(changed)
}

/// One base image of a profile to keep pinned, and how.
struct Pinning<'a> {
    which: Base,
    image: &'a str,
    mode: LockMode,
    pin_missing: bool,
}

async fn ensure_one(
    s: &Session,
    engine: &dyn Engine,
    profile: &Profile,
    p: Pinning<'_>,
    lock: &mut LockFile,
) -> Result<bool> {
    let Pinning {
        which,
        image,
        mode,
        pin_missing,
    } = p;
    if image.contains('@') {
        return Ok(false);
    }
    let entry = which.locked(lock, &profile.name);
    let current = entry.as_ref().is_some_and(|b| b.image == image);
    let wanted = match mode {
        LockMode::Update => true,
        LockMode::Keep => {
            if entry.is_some() && !current {
                s.ui.warn(format!(
                    "{LOCK_FILE} pins another {} for profile {} (--offline: not pinning \
                     {image}; `robodev lock` does)",
                    which.what(),
                    profile.name
                ));
            }
            false
        }
        LockMode::Resolve => !current && (entry.is_some() || pin_missing),
        LockMode::Check => false,
    };
    if !wanted {
        return Ok(false);
    }
    let pinned = pin(s, engine, which, image).await?;
    if entry.as_ref() == Some(&pinned) {
        return Ok(false);
    }
    if let Some(old) = entry.as_ref().filter(|_| current) {
        s.ui.info(format!(
            "{} {} moved: {} → {}",
            which.what(),
            pinned.image,
            old.digest.as_deref().unwrap_or("(not pinned)"),
            pinned.digest.as_deref().unwrap_or("(not pinned)")
        ));
    }
    which.set(lock, &profile.name, pinned);
    Ok(true)
}

/// The digest of `image` now: its registry's answer, else the local copy's registry digest.
/// An image that has neither (built or loaded on this machine) is recorded unpinned, and said.
async fn pin(s: &Session, engine: &dyn Engine, which: Base, image: &str) -> Result<LockedBase> {
    let auth = credentials::for_registry(credentials::registry_host(image))?;
    let asked = engine.registry_digest(image, auth.as_ref()).await;
    let digest = match asked {
        Ok(digest) => {
            s.ui.info(format!("pinned {} {image} to {digest}", which.what()));
            Some(digest)
        }
        Err(e) => {
            let why = match &e {
                Error::Registry { message, .. } => message.lines().next().unwrap_or("").to_string(),
                other => other.to_string(),
            };
            let local = engine
                .identity(image)
                .await?
                .and_then(|i| local_registry_digest(image, &i));
            match &local {
                Some(digest) => s.ui.warn(format!(
                    "could not ask the registry of {image} ({why}); pinned the local copy's \
                     digest {digest}"
                )),
                None => s.ui.warn(format!(
                    "{} {image} is not pinned: its registry could not be asked ({why}) \
                     and the local copy has no digest a registry is known to hold (it was built \
                     or loaded on this engine, or the engine's image store names every image by \
                     its own digest, as Docker's containerd store does). Builds use the tag; \
                     `robodev lock --update` tries again",
                    which.what()
                )),
            }
            local
        }
    };
    Ok(LockedBase {
        image: image.to_string(),
        digest,
    })
}

/// The repository of a reference, without its tag, as the engine spells repository digests
/// (`docker.io/library/` dropped).
fn repository(reference: &str) -> &str {
    let name = reference.split('@').next().unwrap_or(reference);
    let cut = match name.rfind(':') {
        Some(i) if !name[i..].contains('/') => &name[..i],
        _ => name,
    };
    cut.strip_prefix("docker.io/")
        .map(|r| r.strip_prefix("library/").unwrap_or(r))
        .unwrap_or(cut)
}

/// The registry digest of the local copy of `reference`, if it has one a registry is known to
/// hold. On Docker's containerd image store every image, built or loaded here too, lists its
/// own manifest's digest (its id) as a repository digest: that one proves no registry copy, and
/// a build `FROM reference@digest` there asks the registry for it (and fails for a local-only
/// base). On the graph store an id is a config's digest, never a manifest's.
fn local_registry_digest(reference: &str, local: &crate::engine::ImageIdentity) -> Option<String> {
    local_digest(reference, &local.repo_digests).filter(|digest| *digest != local.id)
}

/// The digest among an image's `REPOSITORY@sha256:…` entries that belongs to `reference`.
fn local_digest(reference: &str, repo_digests: &[String]) -> Option<String> {
    let wanted = repository(reference);
    repo_digests.iter().find_map(|rd| {
        let (repo, digest) = rd.split_once('@')?;
        (repository(repo) == wanted).then(|| digest.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_containerd_store_digest_that_is_the_images_own_id_pins_nothing() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let loaded = crate::engine::ImageIdentity {
            id: digest.clone(),
            repo_digests: vec![format!("team/base@{digest}")],
            ..Default::default()
        };
        assert_eq!(local_registry_digest("team/base:1", &loaded), None);
        let pulled = crate::engine::ImageIdentity {
            id: format!("sha256:{}", "c".repeat(64)),
            ..loaded
        };
        assert_eq!(
            local_registry_digest("team/base:1", &pulled).as_deref(),
            Some(digest.as_str())
        );
    }

    #[test]
    fn repositories_as_the_engine_spells_them() {
        assert_eq!(repository("ros:humble-ros-base"), "ros");
        assert_eq!(repository("docker.io/library/debian:bookworm"), "debian");
        assert_eq!(
            repository("localhost:5000/team/base"),
            "localhost:5000/team/base"
        );
        assert_eq!(
            repository("localhost:5000/team/base:1"),
            "localhost:5000/team/base"
        );
        assert_eq!(repository("ros@sha256:ab"), "ros");
    }

    #[test]
    fn the_local_digest_of_the_reference_not_another_repository() {
        let digests = vec![
            "other/x@sha256:11".to_string(),
            "127.0.0.1:5000/debian@sha256:22".to_string(),
        ];
        assert_eq!(
            local_digest("127.0.0.1:5000/debian:bookworm", &digests).as_deref(),
            Some("sha256:22")
        );
        assert_eq!(local_digest("debian:bookworm", &digests), None);
    }
}

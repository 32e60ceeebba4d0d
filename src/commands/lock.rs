//! robodev.lock kept in step with the workspace: the `robodev lock` command, and the check
//! `up`, `build`, `run` and `push` make before planning. Each section has its own module:
//! `dependencies` (rosdep keys) and `base_image` (the base image's digest); `push` writes the
//! `images` section.

use super::base_image;
use super::dependencies::{basis_difference, ensure_locked, stale_error, wanted};
pub use super::lock_mode::LockMode;
use super::session::Session;
use crate::engine::Engine;
use crate::error::Result;
use crate::lockfile::{LOCK_FILE, LockFile};
use crate::profile::Profile;

/// Bring robodev.lock in step for `profile` before planning. Returns whether the file changed
/// (a plan made before this call is out of date then). `pin_base`: also pin a base image the
/// lock does not name yet.
pub async fn ensure_lock(
    s: &Session,
    engine: &dyn Engine,
    profile: &Profile,
    mode: LockMode,
    pin_base: bool,
) -> Result<bool> {
    let pinned = base_image::ensure_pinned(s, engine, profile, mode, pin_base).await?;
    let locked = ensure_locked(s, engine, profile, mode).await?;
    Ok(pinned || locked)
}

/// `robodev lock`: pin the base image and resolve the workspace's dependencies; `--update`
/// asks again even when nothing changed; `--locked` only checks (no engine needed).
pub async fn lock(s: &Session, reference: Option<&str>, update: bool, locked: bool) -> Result<i32> {
    let profile = s.profile(reference)?;
    if locked {
        let lock = LockFile::read(&s.workspace.root)?;
        base_image::check(&lock, &profile)?;
        let wanted = wanted(s, &profile)?;
        let diff = basis_difference(&wanted, &profile, lock.dependencies(&profile.name));
        if !diff.is_empty() {
            return Err(stale_error(&lock.path, &profile.name, &diff));
        }
        s.ui.success(format!(
            "{LOCK_FILE} is up to date for profile {}",
            profile.name
        ));
        return Ok(0);
    }
    let mode = if update {
        LockMode::Update
    } else {
        LockMode::Resolve
    };
    let engine = s.engine().await?;
    if !ensure_lock(s, engine, &profile, mode, true).await? {
        s.ui.success(format!(
            "{LOCK_FILE} is up to date for profile {}",
            profile.name
        ));
    }
    let lock = LockFile::read(&s.workspace.root)?;
    if lock.dependencies(&profile.name).is_none() {
        s.ui.note("the workspace declares no dependencies (no package.xml names any)");
    }
    Ok(0)
}

//! robodev.lock kept in step with the workspace: the `robodev lock` command, and the check
//! `up`, `build`, `run` and `push` make before planning. Each section has its own module:
//! `dependencies` (rosdep keys) and `base_image` (the base image's digest); `push` writes the
//! `images` section.

use super::base_image;
use super::dependencies::{basis_difference, ensure_locked, stale_error, wanted};
pub use super::lock_mode::LockMode;
use super::session::Session;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::lockfile::{LOCK_FILE, LockFile};
use crate::profile::Profile;
use crate::ui::shown_path;

/// Bring robodev.lock in step for `profile` before planning. Returns whether the file changed
/// (a plan made before this call is out of date then). `pin_base`: also pin a base image the
/// lock does not name yet. Every section's change is written at once, at the end: a step that
/// fails (a resolution after the base was pinned) leaves the file as it was.
pub async fn ensure_lock(
    s: &Session,
    engine: &dyn Engine,
    profile: &Profile,
    mode: LockMode,
    pin_base: bool,
) -> Result<bool> {
    let mut lock = LockFile::read(&s.workspace.root)?;
    let changed = async {
        let pinned =
            base_image::ensure_pinned(s, engine, profile, mode, pin_base, &mut lock).await?;
        let locked = ensure_locked(s, engine, profile, mode, &mut lock).await?;
        Ok(pinned || locked)
    }
    .await
    .map_err(|e| no_entry_for(&lock, profile, e))?;
    if changed {
        lock.write()?;
    }
    Ok(changed)
}

/// A check that failed on a lock with no entry at all for `profile` (written for other
/// profiles) says that, and which profiles it has, rather than what is not pinned.
fn no_entry_for(lock: &LockFile, profile: &Profile, e: Error) -> Error {
    let name = &profile.name;
    let has_entry = lock.profiles().contains(&name.as_str());
    if !matches!(e, Error::CheckFailed { .. }) || !lock.exists() || has_entry {
        return e;
    }
    let names = lock.profiles();
    let (has, or) = if names.is_empty() {
        ("it has no entry for any profile".to_string(), "")
    } else {
        (
            format!("it has entries only for: {}", names.join(", ")),
            ", or name one of those profiles",
        )
    };
    Error::CheckFailed {
        message: format!(
            "{} has no entry for profile {name} (--locked):",
            shown_path(&lock.path)
        ),
        details: vec![has],
        help: Some(format!(
            "run `robodev lock {name}` and commit {LOCK_FILE}{or}"
        )),
    }
}

/// `robodev lock`: pin the base image and resolve the workspace's dependencies; `--update`
/// asks again even when nothing changed; `--locked` only checks (no engine needed).
pub async fn lock(s: &Session, reference: Option<&str>, update: bool, locked: bool) -> Result<i32> {
    let profile = s.profile(reference)?;
    if locked {
        let lock = LockFile::read(&s.workspace.root)?;
        let checked = base_image::check(&lock, &profile).and_then(|()| {
            let wanted = wanted(s, &profile)?;
            let diff = basis_difference(&wanted, &profile, lock.dependencies(&profile.name));
            if diff.is_empty() {
                Ok(())
            } else {
                Err(stale_error(&lock.path, &profile.name, &diff))
            }
        });
        checked.map_err(|e| no_entry_for(&lock, &profile, e))?;
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

//! The first of the three steps every command that runs the environment takes — **resolve**
//! the inputs (robodev.lock brought in step with the workspace, then the facts of the engine's
//! machine and of the engine, each once), **plan** (`Session::plan_from`, pure), **execute**
//! (the image: pull, load or build — `registry::ensure_environment_image`; the container:
//! find, create, start). `up`, `build`, `run`, `test` and `deploy` read the same way.

use super::lock::{LockMode, ensure_lock};
use super::machine_facts::Freshness;
use super::session::{Inputs, Session};
use crate::engine::Engine;
use crate::error::Result;
use crate::profile::Profile;

/// Bring robodev.lock in step for `profile` (`mode`: resolve, check, keep), then read the
/// facts the plan needs. `pin_base`: also pin a base image the lock does not name yet.
pub async fn resolve(
    s: &Session,
    engine: &dyn Engine,
    profile: &Profile,
    mode: LockMode,
    pin_base: bool,
) -> Result<Inputs> {
    ensure_lock(s, engine, profile, mode, pin_base).await?;
    super::known_workspaces::record(&s.workspace.root);
    s.facts(profile, Some(engine), Freshness::Now).await
}

//! How a command treats a robodev.lock that does not match the workspace.

use crate::cli::BuildFlags;

/// What to do when robodev.lock does not match the workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockMode {
    /// `up`, `build`, `run`, `lock`: resolve and write it, and say so.
    Resolve,
    /// `--locked`: fail with the difference.
    Check,
    /// `lock --update`: resolve even when it matches.
    Update,
    /// `--offline`: never resolve (rosdep would need its sources); use the lock as it is and
    /// say when it is stale.
    Keep,
}

impl LockMode {
    pub fn from_flags(flags: &BuildFlags) -> LockMode {
        if flags.locked {
            LockMode::Check
        } else if flags.offline {
            LockMode::Keep
        } else {
            LockMode::Resolve
        }
    }
}

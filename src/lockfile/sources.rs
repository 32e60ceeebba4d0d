//! The `sources` section: per repository of the workspace's `.repos` files (by its path,
//! relative to the workspace root), the commit `robodev sources import` or `update` checked out,
//! and what the `.repos` file said when it was recorded, so a changed file is seen as a drift.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedSource {
    /// The repository's `url` in the `.repos` file when the commit was recorded.
    pub url: String,
    /// Its `version` then (a branch, a tag or a commit); absent: the default branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The full commit hash checked out.
    pub commit: String,
}

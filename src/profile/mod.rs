//! The workspace profile, from YAML text to a validated model.
//!
//! `search` finds a profile's file by name or path; `extends` reads its chain and merges it into
//! one `raw::RawProfile` (every leaf a `Sourced` value with its file, line and column, parsed by
//! `yaml`); `validate` checks each section against `grammar` and `distro` and gives the `Profile`
//! that planning sees. Nothing here looks at the host or the engine.

pub mod distro;
pub mod extends;
pub mod file;
pub mod grammar;
pub mod model;
pub mod name;
pub mod raw;
pub mod search;
pub mod secrets;
pub mod sourced;
pub mod validate;
pub mod yaml;

pub use file::WORKSPACE_FILE;
pub use model::{DeviceSpec, GpuMode, HotplugClass, MountSpec, Profile, Shell, UserMode};
pub use search::ProfileSearch;

use crate::error::Result;
use std::path::Path;

/// Find, read, merge and validate a profile: what every command starts with.
pub fn load(search: &ProfileSearch, reference: Option<&str>, today: &str) -> Result<Profile> {
    let loaded = search.load(reference)?;
    Profile::from_loaded(&loaded, today)
}

/// Validate profile text that is about to be written to `path` (by `init`), exactly as `load`
/// would read it back from there, `extends:` chain included.
pub fn validate_text(
    search: &ProfileSearch,
    path: &Path,
    text: &str,
    today: &str,
) -> Result<Profile> {
    let loaded = search.load_file(file::ProfileFile {
        origin: file::Origin::File(path.to_path_buf()),
        text: text.to_string(),
    })?;
    Profile::from_loaded(&loaded, today)
}

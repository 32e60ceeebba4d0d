//! The `images` section: what `robodev push` put in the registry, by image hash and platform,
//! so every teammate and CI job pulls exactly that digest.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LockedImage {
    /// `REGISTRY/NAMESPACE/NAME`.
    pub repository: String,
    /// `sha256:…` of the pushed manifest.
    pub digest: String,
}

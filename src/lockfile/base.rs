//! The `base` section: each profile's base image, pinned to the digest `robodev lock` found for
//! its tag, so every build starts `FROM image@sha256:…` and the hash covers it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LockedBase {
    /// The profile's `base_image` when it was pinned; a profile that names another image has
    /// drifted from the lock.
    pub image: String,
    /// `sha256:…` of its manifest (or image index). Absent when robodev looked and found none:
    /// an image built or loaded on this machine has no registry digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl LockedBase {
    /// The reference a Dockerfile's `FROM` names: the tag for readers, the digest for the
    /// engine (`ros:humble-ros-base@sha256:…`; the digest wins).
    pub fn from_reference(&self) -> String {
        match &self.digest {
            Some(d) => format!("{}@{d}", self.image),
            None => self.image.clone(),
        }
    }
}

//! The `dependencies` section: per profile, what each rosdep key of the workspace resolved to,
//! and what the resolution depended on.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LockedDependencies {
    /// The OS rosdep resolved for (`debian:bookworm`, `ubuntu:jammy`).
    pub os: String,
    /// The ROS distro rosdep resolved for, when the profile has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rosdistro: Option<String>,
    /// The image the resolver ran in.
    pub base_image: String,
    /// sha256 of the rosdep sources the resolver read (lists and local rules files).
    pub sources: String,
    pub keys: BTreeMap<String, LockedKey>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LockedKey {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apt: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pip: Vec<String>,
    /// What the key is needed for (build, exec, test, …), sorted.
    pub types: Vec<String>,
    /// The package.xml files that declared it, relative to the workspace root.
    pub declared_in: Vec<String>,
}

impl LockedDependencies {
    /// Every apt package, sorted and once, for the keys `wanted` says yes to.
    pub fn apt(&self, wanted: impl Fn(&LockedKey) -> bool) -> Vec<String> {
        Self::collect(
            self.keys
                .values()
                .filter(|k| wanted(k))
                .flat_map(|k| &k.apt),
        )
    }

    /// Every pip package, sorted and once, for the keys `wanted` says yes to.
    pub fn pip(&self, wanted: impl Fn(&LockedKey) -> bool) -> Vec<String> {
        Self::collect(
            self.keys
                .values()
                .filter(|k| wanted(k))
                .flat_map(|k| &k.pip),
        )
    }

    fn collect<'a>(packages: impl Iterator<Item = &'a String>) -> Vec<String> {
        let mut out: Vec<String> = packages.cloned().collect();
        out.sort();
        out.dedup();
        out
    }
}

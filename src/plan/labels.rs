//! The labels robodev puts on what it creates, and the one test of "is this ours".

use std::collections::HashMap;

/// On every environment container robodev creates (not on throw-away `run` containers).
pub const MANAGED: &str = "robodev.managed";
/// On throw-away containers of `robodev run`.
pub const RUN: &str = "robodev.run";
pub const WORKSPACE: &str = "robodev.workspace";
pub const PROFILE: &str = "robodev.profile";
/// A digest of the container plan: `up` compares it to tell a changed profile.
pub const CONFIG: &str = "robodev.config";
pub const IMAGE: &str = "robodev.image";
/// On volumes robodev creates: the container they belong to (absent on shared volumes).
pub const CONTAINER: &str = "robodev.container";
/// On shared volumes robodev creates.
pub const SHARED: &str = "robodev.shared";
/// On images: the full content hash their tag abbreviates.
pub const HASH: &str = "robodev.hash";
pub const VERSION: &str = "robodev.version";
/// On images: the repository robodev named it in (`robodev/NAME`, `REGISTRY/NS/NAME`).
pub const REPOSITORY: &str = "robodev.repository";
/// On images: who built it (`name:uid`), for `clean` on a shared engine.
pub const OWNER: &str = "robodev.owner";

/// Whether a container with these labels is an environment robodev created.
pub fn is_managed(labels: &HashMap<String, String>) -> bool {
    labels.get(MANAGED).is_some_and(|v| v == "true")
}
/// On deploy images (`robodev deploy build`).
pub const DEPLOY: &str = "robodev.deploy";
/// On what `robodev export` writes: the profile it came from. Not an ownership label: robodev
/// neither lists nor removes such a container.
pub const EXPORTED_FROM: &str = "robodev.exported-from";

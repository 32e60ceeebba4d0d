//! What the engine told us about itself (`docker info` / `docker version`).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineFacts {
    pub server_version: String,
    pub api_version: String,
    pub runtimes: Vec<String>,
    pub cdi_spec_dirs: Vec<String>,
    /// `linux/amd64`, `linux/arm64`: what the engine builds and runs by default.
    pub platform: String,
    /// `Some(version)` when the engine is Podman's Docker-compatible service.
    pub podman: Option<String>,
    /// The engine runs without root (Docker or Podman rootless).
    pub rootless: bool,
    /// Registries the engine reaches without TLS (`insecure-registries`, by `host:port`).
    pub insecure_registries: Vec<String>,
    /// The engine builds with BuildKit through its API (`/build?version=2` and a `/session`):
    /// Docker on Linux from API 1.39 (18.09), whatever its default builder. Podman's
    /// compatible API has neither: it builds with buildah. (No serde default: facts kept by an
    /// older robodev, without it, are read again from the engine.)
    pub buildkit: bool,
}

/// The OCI name of an architecture as the engine reports it (`x86_64` → `amd64`).
pub fn oci_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "armv7l" => "arm",
        other => other,
    }
}

impl EngineFacts {
    pub fn has_nvidia_runtime(&self) -> bool {
        self.runtimes.iter().any(|r| r == "nvidia")
    }

    /// CDI device requests arrived in API 1.44 (Docker 25).
    pub fn supports_cdi(&self) -> bool {
        !self.cdi_spec_dirs.is_empty() && api_at_least(&self.api_version, 1, 44)
    }
}

/// Podman says it is rootless only in a field of its own (`Rootless`, which the Docker API and
/// so bollard do not have), not in `SecurityOptions` as Docker does. Its store tells: a rootful
/// Podman keeps images in `/var/lib/containers`, a user's Podman under that user's home
/// (`~/.local/share/containers/storage`, or wherever `rootless_storage_path` says).
pub fn podman_store_is_a_users(docker_root_dir: &str) -> bool {
    !docker_root_dir.is_empty() && !docker_root_dir.starts_with("/var/lib/containers")
}

/// Whether an engine of this kind, API version and OS builds with BuildKit through its API.
/// Docker's `/_ping` says which builder it *prefers* (`Builder-Version: 1` on 20.10 even though
/// BuildKit is there); what counts is that `/session` and `version=2` exist.
pub fn has_buildkit(podman: bool, api_version: &str, os: &str) -> bool {
    !podman && os == "linux" && api_at_least(api_version, 1, 39)
}

pub fn api_at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_podman_store_in_a_home_is_rootless() {
        assert!(podman_store_is_a_users(
            "/home/robot/.local/share/containers/storage"
        ));
        assert!(!podman_store_is_a_users("/var/lib/containers/storage"));
        assert!(!podman_store_is_a_users(""));
    }

    #[test]
    fn buildkit_is_dockers_on_linux_from_api_1_39() {
        assert!(has_buildkit(false, "1.41", "linux"));
        assert!(has_buildkit(false, "1.45", "linux"));
        assert!(!has_buildkit(false, "1.38", "linux"));
        assert!(
            !has_buildkit(true, "1.41", "linux"),
            "Podman builds with buildah"
        );
        assert!(!has_buildkit(false, "1.41", "windows"));
    }

    #[test]
    fn api_versions() {
        assert!(api_at_least("1.44", 1, 44));
        assert!(api_at_least("1.47", 1, 44));
        assert!(!api_at_least("1.41", 1, 44));
    }
}

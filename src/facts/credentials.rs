//! Registry credentials, from where Docker users keep them: `$DOCKER_CONFIG/config.json` (or
//! `~/.docker/config.json`) `auths`, and its credential helpers (`credsStore`, `credHelpers`),
//! read with the docker_credential crate. A secret is held only long enough to hand to the
//! engine: it is never printed, logged or written anywhere else.

use crate::error::{Error, Result};
use docker_credential::{CredentialRetrievalError, DockerCredential};

/// A credential for one registry.
#[derive(Clone, PartialEq)]
pub enum RegistryAuth {
    Password { username: String, password: String },
    IdentityToken(String),
}

// Never show a secret, not even in a debug print.
impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegistryAuth::Password { username, .. } => {
                write!(f, "RegistryAuth::Password({username}, ***)")
            }
            RegistryAuth::IdentityToken(_) => write!(f, "RegistryAuth::IdentityToken(***)"),
        }
    }
}

/// Docker Hub, as the engine and `docker login` name it.
pub const DOCKER_HUB: &str = "docker.io";

/// Whether an engine reaches `registry` (`host[:port]`) without TLS: a loopback address (the
/// engines' default insecure range) or one the engine is configured to treat as insecure.
pub fn plain_http(registry: &str, engine_insecure: &[String]) -> bool {
    let host = registry.rsplit_once(':').map_or(registry, |(h, _)| h);
    host == "localhost"
        || host.starts_with("127.")
        || host == "[::1]"
        || engine_insecure.iter().any(|r| r == registry)
}

/// The registry host of an image reference: its first component when that names a host
/// (`ghcr.io/team`, `localhost:5000/x`), else Docker Hub (`ros:humble`, `library/debian`).
pub fn registry_host(reference: &str) -> &str {
    match reference.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first
        }
        _ => DOCKER_HUB,
    }
}

/// The key `docker login` files a registry's credential under in config.json.
pub fn config_key(registry: &str) -> &str {
    if registry == DOCKER_HUB || registry == "index.docker.io" {
        "https://index.docker.io/v1/"
    } else {
        registry
    }
}

/// The credential for `registry` (a host, `localhost:5000`), or `None` when the user has none
/// configured (anonymous access is tried). A helper that fails is an error naming the helper.
pub fn for_registry(registry: &str) -> Result<Option<RegistryAuth>> {
    match docker_credential::get_credential(config_key(registry)) {
        Ok(DockerCredential::UsernamePassword(username, password)) => {
            Ok(Some(RegistryAuth::Password { username, password }))
        }
        Ok(DockerCredential::IdentityToken(token)) => Ok(Some(RegistryAuth::IdentityToken(token))),
        Err(
            CredentialRetrievalError::NoCredentialConfigured
            | CredentialRetrievalError::ConfigNotFound
            | CredentialRetrievalError::ConfigReadError,
        ) => Ok(None),
        Err(CredentialRetrievalError::HelperFailure { helper, stderr, .. }) => {
            // The helper's stdout could hold a secret: only its stderr's first line is shown.
            Err(Error::usage_with_help(
                format!(
                    "the credential helper docker-credential-{helper} failed for {registry}: {}",
                    stderr.lines().next().unwrap_or("").trim()
                ),
                format!("log in again (`docker login {registry}`), or check the helper"),
            ))
        }
        Err(other) => Err(Error::usage_with_help(
            format!("cannot read the Docker credentials for {registry}: {other}"),
            "check ~/.docker/config.json (or $DOCKER_CONFIG/config.json)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::plain_http;

    #[test]
    fn loopback_and_insecure_registries_are_plain_http() {
        assert!(plain_http("localhost:5000", &[]));
        assert!(plain_http("127.0.0.1:5000", &[]));
        assert!(!plain_http("ghcr.io", &[]));
        assert!(plain_http(
            "registry.lab:5000",
            &["registry.lab:5000".into()]
        ));
        assert!(!plain_http("registry.lab:5000", &[]));
    }

    use super::registry_host;

    #[test]
    fn the_registry_of_a_reference() {
        assert_eq!(registry_host("ghcr.io/team/humble"), "ghcr.io");
        assert_eq!(registry_host("localhost:5000/team"), "localhost:5000");
        assert_eq!(
            registry_host("127.0.0.1:5000/debian:bookworm"),
            "127.0.0.1:5000"
        );
        assert_eq!(registry_host("localhost/x"), "localhost");
        assert_eq!(registry_host("ros:humble-ros-base"), "docker.io");
        assert_eq!(registry_host("library/debian"), "docker.io");
        assert_eq!(registry_host("osrf/ros:humble-desktop"), "docker.io");
    }
}

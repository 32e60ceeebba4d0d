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

/// The registry host of `REGISTRY/NAMESPACE[/NAME]`.
pub fn registry_host(reference: &str) -> &str {
    reference.split('/').next().unwrap_or(reference)
}

/// The credential for `registry` (a host, `localhost:5000`), or `None` when the user has none
/// configured (anonymous access is tried). A helper that fails is an error naming the helper.
pub fn for_registry(registry: &str) -> Result<Option<RegistryAuth>> {
    match docker_credential::get_credential(registry) {
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

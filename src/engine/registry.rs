//! Moving images to and from a registry through the Engine API: push, pull (by digest or tag),
//! tag, and what an image says about itself (labels, repository digests). Progress goes to a
//! `TransferWatcher`; credentials are handed to the engine and nowhere else.

use super::connection::BollardEngine;
use super::errors::{QUICK, api_error, is_not_found, limited};
use crate::error::{Error, RegistryProblem, Result};
use crate::facts::credentials::RegistryAuth;
use bollard::auth::DockerCredentials;
use futures_util::StreamExt;
use std::collections::HashMap;

/// Whoever shows a transfer's progress, layer by layer.
pub trait TransferWatcher {
    /// `layer` is the layer's short id when the engine says it (pulls do, pushes do not).
    fn event(
        &mut self,
        layer: Option<&str>,
        status: &str,
        current: Option<i64>,
        total: Option<i64>,
    );
    fn finish(&mut self);
}

/// What an image says about itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImageIdentity {
    pub id: String,
    pub labels: HashMap<String, String>,
    /// `REPOSITORY@sha256:…` for each registry it was pushed to or pulled from.
    pub repo_digests: Vec<String>,
    pub tags: Vec<String>,
    pub size: i64,
    /// RFC 3339, as the engine says it.
    pub created: String,
}

pub(super) fn credentials(
    registry: &str,
    auth: Option<&RegistryAuth>,
) -> Option<DockerCredentials> {
    auth.map(|a| match a {
        RegistryAuth::Password { username, password } => DockerCredentials {
            username: Some(username.clone()),
            password: Some(password.clone()),
            serveraddress: Some(registry.to_string()),
            ..Default::default()
        },
        RegistryAuth::IdentityToken(token) => DockerCredentials {
            identitytoken: Some(token.clone()),
            serveraddress: Some(registry.to_string()),
            ..Default::default()
        },
    })
}

/// What the engine said, without bollard's "Docker responded with status code …" framing.
fn server_message(e: bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message,
        other => other.to_string(),
    }
}

/// A 5xx status in an engine's message about a registry (`… 500 Internal Server Error`).
fn server_status(lower: &str) -> Option<u16> {
    lower
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse::<u16>().ok())
        .find(|code| (500..600).contains(code))
        .filter(|_| lower.contains("status") || lower.contains("server error"))
}

/// A message with any `USER:PASSWORD@` in front of a host replaced by `***@`: an engine can
/// repeat a URL as it was given, and robodev repeats no secret.
pub(super) fn without_credentials(message: &str) -> String {
    message
        .split(' ')
        .map(|word| match word.split_once('@') {
            Some((before, after))
                if !after.starts_with("sha256:")
                    && (before.contains(':') || before.contains("//"))
                    && after.contains(['.', ':', '/']) =>
            {
                let scheme = before.split_once("//").map_or("", |(s, _)| s);
                if scheme.is_empty() {
                    format!("***@{after}")
                } else {
                    format!("{scheme}//***@{after}")
                }
            }
            _ => word.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The engine's words for a failed transfer, as a problem robodev can act on.
pub(super) fn registry_error(action: &str, registry: &str, message: String) -> Error {
    let lower = message.to_ascii_lowercase();
    let (problem, help) = if lower.contains("unauthorized")
        || lower.contains("authentication required")
        || lower.contains("no basic auth credentials")
        || lower.contains("denied")
    {
        (
            RegistryProblem::Unauthorized,
            format!("log in: `docker login {registry}` (robodev reads the same credentials)"),
        )
    } else if lower.contains("manifest unknown")
        || lower.contains("not found")
        || lower.contains("does not exist")
    {
        (
            RegistryProblem::Missing,
            "push it from a machine that has it: `robodev push`".to_string(),
        )
    } else if lower.contains("connection refused")
        || lower.contains("no such host")
        || lower.contains("i/o timeout")
        || lower.contains("dial tcp")
        || lower.contains("network is unreachable")
    {
        (
            RegistryProblem::Unreachable,
            format!("is the registry {registry} running and reachable from the engine?"),
        )
    } else if lower.contains("deadline exceeded")
        || lower.contains("timeout")
        || lower.contains("timed out")
    {
        (
            RegistryProblem::Unreachable,
            format!(
                "the registry {registry} accepted the connection but did not answer in time: \
                 is it overloaded or hung? (`robodev ... --offline` works without it)"
            ),
        )
    } else if let Some(status) = server_status(&lower) {
        (
            RegistryProblem::Other,
            format!(
                "the registry {registry} answered HTTP {status}: a fault on its side; try again \
                 later, or ask whoever runs it (its logs say why)"
            ),
        )
    } else {
        (RegistryProblem::Other, String::new())
    };
    Error::Registry {
        problem,
        action: without_credentials(&format!("cannot {action}")),
        message: without_credentials(&message),
        help: (!help.is_empty()).then_some(help),
    }
}

/// The digest in a push's closing status line, `TAG: digest: sha256:HEX size: N`.
fn pushed_digest(status: &str) -> Option<String> {
    let rest = status.split_once("digest: ")?.1;
    let digest = rest.split_whitespace().next()?;
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| digest.to_string())
}

impl BollardEngine {
    /// Push `repository:tag`; returns the digest the registry gave it.
    pub async fn push(
        &self,
        repository: &str,
        tag: &str,
        auth: Option<&RegistryAuth>,
        watcher: &mut dyn TransferWatcher,
    ) -> Result<String> {
        let registry = crate::facts::credentials::registry_host(repository);
        let action = format!("push {repository}:{tag}");
        let options = bollard::query_parameters::PushImageOptions {
            tag: Some(tag.to_string()),
            ..Default::default()
        };
        let mut stream =
            self.docker
                .push_image(repository, Some(options), credentials(registry, auth));
        // The registry's digest, as the engine reports it at the end of the push
        // (`TAG: digest: sha256:… size: N`): Docker and Podman both say it there. Podman's
        // RepoDigests name the local manifest's digest, not the one the registry stores.
        let mut pushed = None;
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| registry_error(&action, registry, server_message(e)))?;
            if let Some(detail) = info.error_detail {
                watcher.finish();
                let message = detail.message.unwrap_or_default();
                return Err(registry_error(&action, registry, message));
            }
            if let Some(status) = &info.status {
                if let Some(digest) = pushed_digest(status) {
                    pushed = Some(digest);
                }
                let (current, total) = info
                    .progress_detail
                    .map(|p| (p.current, p.total))
                    .unwrap_or((None, None));
                watcher.event(None, status, current, total);
            }
        }
        watcher.finish();
        if let Some(digest) = pushed {
            return Ok(digest);
        }
        let identity = self.identity(&format!("{repository}:{tag}")).await?;
        identity
            .and_then(|i| {
                i.repo_digests
                    .into_iter()
                    .find_map(|d| d.strip_prefix(&format!("{repository}@")).map(String::from))
            })
            .ok_or_else(|| Error::Engine {
                action: format!("cannot {action}"),
                message: "the engine reports no digest for the pushed image".into(),
                help: None,
            })
    }

    /// Pull `repository` at `reference` (`sha256:…` or a tag); from a multi-platform image,
    /// `platform`'s (else the engine's own).
    pub async fn pull(
        &self,
        repository: &str,
        reference: &str,
        platform: Option<&str>,
        auth: Option<&RegistryAuth>,
        watcher: &mut dyn TransferWatcher,
    ) -> Result<()> {
        let registry = crate::facts::credentials::registry_host(repository);
        let full = if reference.starts_with("sha256:") {
            format!("{repository}@{reference}")
        } else {
            format!("{repository}:{reference}")
        };
        let action = format!("pull {full}");
        let options = bollard::query_parameters::CreateImageOptions {
            from_image: Some(full.clone()),
            platform: platform.unwrap_or_default().to_string(),
            ..Default::default()
        };
        let mut stream = self
            .docker
            .create_image(Some(options), None, credentials(registry, auth));
        while let Some(item) = stream.next().await {
            let info = match item {
                Ok(info) => info,
                Err(e) => {
                    watcher.finish();
                    return Err(registry_error(&action, registry, server_message(e)));
                }
            };
            if let Some(detail) = info.error_detail {
                watcher.finish();
                return Err(registry_error(
                    &action,
                    registry,
                    detail.message.unwrap_or_default(),
                ));
            }
            if let Some(status) = &info.status {
                let (current, total) = info
                    .progress_detail
                    .map(|p| (p.current, p.total))
                    .unwrap_or((None, None));
                watcher.event(info.id.as_deref(), status, current, total);
            }
        }
        watcher.finish();
        Ok(())
    }

    /// The digest the registry gives `reference` (`NAME[:TAG]`) now: of its manifest, or of its
    /// image index for a multi-platform image. Asks the registry through the engine, so the
    /// engine's own registry settings (mirrors, insecure registries, proxies) apply; an engine
    /// without that endpoint (Podman) has the registry asked directly.
    pub async fn registry_digest(
        &self,
        reference: &str,
        auth: Option<&RegistryAuth>,
    ) -> Result<String> {
        let registry = crate::facts::credentials::registry_host(reference);
        let action = format!("look up {reference} in its registry");
        let answer = limited(
            QUICK,
            &action,
            self.docker
                .inspect_registry_image(reference, credentials(registry, auth)),
        )
        .await?;
        match answer {
            Ok(inspect) => inspect
                .descriptor
                .digest
                .filter(|d| d.starts_with("sha256:"))
                .ok_or_else(|| registry_error(&action, registry, "no digest in the answer".into())),
            Err(e) if super::registry_direct::endpoint_missing(&e) => {
                let insecure = match self.facts().await {
                    Ok(facts) => facts.insecure_registries,
                    Err(_) => Vec::new(),
                };
                let plain = crate::facts::credentials::plain_http(registry, &insecure);
                super::registry_direct::registry_digest(reference, auth, plain)
                    .await
                    .map_err(|message| registry_error(&action, registry, message))
            }
            Err(e) => Err(registry_error(&action, registry, server_message(e))),
        }
    }

    /// Name `image` also `repository:tag`.
    pub async fn tag_image(&self, image: &str, repository: &str, tag: &str) -> Result<()> {
        let options = bollard::query_parameters::TagImageOptions {
            repo: Some(repository.to_string()),
            tag: Some(tag.to_string()),
        };
        let action = format!("tag {image} as {repository}:{tag}");
        limited(QUICK, &action, self.docker.tag_image(image, Some(options)))
            .await?
            .map_err(|e| api_error(&action, e))
    }

    /// `os/arch` of the image the engine has under `image`; `None` when it has none.
    pub async fn image_platform(&self, image: &str) -> Result<Option<String>> {
        let action = format!("inspect image {image}");
        match limited(QUICK, &action, self.docker.inspect_image(image)).await? {
            Ok(i) => Ok(Some(format!(
                "{}/{}",
                i.os.as_deref().unwrap_or("linux"),
                i.architecture.as_deref().unwrap_or("amd64")
            ))),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(api_error(&action, e)),
        }
    }

    /// The image's id, labels and repository digests; `None` when there is no such image.
    pub async fn identity(&self, image: &str) -> Result<Option<ImageIdentity>> {
        let action = format!("inspect image {image}");
        match limited(QUICK, &action, self.docker.inspect_image(image)).await? {
            Ok(i) => Ok(Some(ImageIdentity {
                id: i.id.unwrap_or_default(),
                labels: i.config.and_then(|c| c.labels).unwrap_or_default(),
                repo_digests: i.repo_digests.unwrap_or_default(),
                tags: i.repo_tags.unwrap_or_default(),
                size: i.size.unwrap_or_default(),
                // bollard parses it (chrono, which its BuildKit support needs); shown as
                // Go writes it.
                created: i
                    .created
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string())
                    .unwrap_or_default(),
            })),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(api_error(&action, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::pushed_digest;

    #[test]
    fn registry_errors_say_what_happened_and_repeat_no_credentials() {
        use crate::error::{Error, RegistryProblem};
        let hung = super::registry_error(
            "pull reg.io/team/x",
            "reg.io",
            "Get \"https://reg.io/v2/\": context deadline exceeded".into(),
        );
        assert!(
            matches!(&hung, Error::Registry { problem: RegistryProblem::Unreachable, help: Some(h), .. } if h.contains("did not answer in time")),
            "{hung:?}"
        );
        let five = super::registry_error(
            "push reg.io/team/x",
            "reg.io",
            "received unexpected HTTP status: 500 Internal Server Error".into(),
        );
        assert!(
            matches!(&five, Error::Registry { help: Some(h), .. } if h.contains("HTTP 500")),
            "{five:?}"
        );
        let secret = super::registry_error(
            "push alice:s3cret@reg.io/team/x:1",
            "reg.io",
            "Get https://alice:s3cret@reg.io/v2/: unauthorized".into(),
        );
        let text = format!("{secret:?}");
        assert!(!text.contains("s3cret"), "{text}");
        assert_eq!(
            super::without_credentials("repo@sha256:abc and u:p@h.io/x"),
            "repo@sha256:abc and ***@h.io/x"
        );
    }

    #[test]
    fn the_pushed_digest_is_read_from_the_engines_closing_line() {
        let hex = "a".repeat(64);
        for line in [
            format!("1a2b3c4d5e6f: digest: sha256:{hex} size: 1183"),
            format!("latest: digest: sha256:{hex} size: 527"),
        ] {
            assert_eq!(
                pushed_digest(&line),
                Some(format!("sha256:{hex}")),
                "{line}"
            );
        }
        for line in [
            "Pushing",
            "Layer already exists",
            "digest: sha256:short size: 1",
        ] {
            assert_eq!(pushed_digest(line), None, "{line}");
        }
    }
}

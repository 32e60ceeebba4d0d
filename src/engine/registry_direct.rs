//! A registry asked directly, not through the engine: the digest a tag names now, for an engine
//! without the Engine API's `/distribution/NAME/json` (Podman's Docker-compatible service
//! answers it 404, "Path … is not supported" or a bare "Not Found"). oci-client speaks the
//! Distribution API; the credentials are those `docker login` keeps, and go to that registry
//! only.

use crate::facts::credentials::RegistryAuth;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::{Client, Reference};
use std::time::Duration;

/// An oci-client for `registry`: plain HTTP when `plain_http`, and time limits that bring a
/// hung registry's answer in seconds.
pub(super) fn client(registry: &str, plain_http: bool) -> Client {
    Client::new(ClientConfig {
        protocol: if plain_http {
            ClientProtocol::HttpsExcept(vec![registry.to_string()])
        } else {
            ClientProtocol::Https
        },
        connect_timeout: Some(Duration::from_secs(5)),
        read_timeout: Some(Duration::from_secs(30)),
        ..Default::default()
    })
}

/// The credentials `docker login` keeps, as oci-client takes them; `None` for an identity
/// token, which is for the engine's token exchange (oci-client does not do it).
pub(super) fn oci_credentials(
    auth: Option<&RegistryAuth>,
) -> Option<oci_client::secrets::RegistryAuth> {
    match auth {
        None => Some(oci_client::secrets::RegistryAuth::Anonymous),
        Some(RegistryAuth::Password { username, password }) => Some(
            oci_client::secrets::RegistryAuth::Basic(username.clone(), password.clone()),
        ),
        Some(RegistryAuth::IdentityToken(_)) => None,
    }
}

/// Whether the engine's answer says it has no distribution endpoint at all, rather than that
/// the registry has no such image (Docker: 404 "manifest unknown", "… not found: manifest
/// unknown"). Podman: "Path /v1.41/distribution/NAME/json is not supported", or the router's
/// bare "Not Found" for a name with a `/` or a port in it; an engine older than API 1.30:
/// "page not found".
pub(super) fn endpoint_missing(e: &bollard::errors::Error) -> bool {
    match e {
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404 | 405 | 501,
            message,
        } => {
            let m = message.trim().to_ascii_lowercase();
            m.contains("is not supported")
                || m == "not found"
                || m == "page not found"
                || m == "404 page not found"
                || m.is_empty()
        }
        _ => false,
    }
}

/// The digest the registry gives `reference` (`NAME[:TAG]`) now: of its manifest, or of its
/// image index for a multi-platform image — what the engine's distribution endpoint answers.
/// `plain_http`: reach the registry without TLS. An error is the registry's words, for
/// `registry_error` to sort.
pub(super) async fn registry_digest(
    reference: &str,
    auth: Option<&RegistryAuth>,
    plain_http: bool,
) -> Result<String, String> {
    let parsed = reference
        .parse::<Reference>()
        .map_err(|e| format!("`{reference}` is not an image reference: {e}"))?;
    let client = client(parsed.resolve_registry(), plain_http);
    let auth = oci_credentials(auth).ok_or_else(|| {
        "unauthorized: the credentials for this registry are an identity token, which robodev \
         cannot use without the engine"
            .to_string()
    })?;
    let digest = client
        .fetch_manifest_digest(&parsed, &auth)
        .await
        .map_err(|e| message(&e))?;
    if digest.starts_with("sha256:") {
        Ok(digest)
    } else {
        Err(format!(
            "the registry answered with the digest {digest}, not a sha256 one"
        ))
    }
}

/// oci-client's error in the words `registry_error` sorts (unauthorized, manifest unknown,
/// connection refused), with what caused it.
fn message(e: &OciDistributionError) -> String {
    match e {
        OciDistributionError::UnauthorizedError { .. } => {
            "unauthorized: authentication required".into()
        }
        OciDistributionError::AuthenticationFailure(why) => format!("unauthorized: {why}"),
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .map(|e| match e.message.trim() {
                "" => format!("{:?}", e.code).to_ascii_lowercase(),
                words => words.to_string(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => {
            let mut text = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(cause) = source {
                let words = cause.to_string();
                if !text.contains(&words) {
                    text.push_str(": ");
                    text.push_str(&words);
                }
                source = cause.source();
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    const DIGEST: &str = "sha256:c8a1b6b6afb4d4c92bf35e79d48cd731393a82bbd82041d3534606999aac3f13";

    /// A registry on a loopback port that has `base:1` (no authentication, or Basic
    /// `robot:secret` when `password`), answering each request on a connection of its own;
    /// its `host:port`.
    fn registry(password: bool) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                let mut authorized = !password;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    // "robot:secret"
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("authorization")
                        && value.trim() == "Basic cm9ib3Q6c2VjcmV0"
                    {
                        authorized = true;
                    }
                    if request.is_empty() {
                        request = line;
                    }
                }
                let head = request.starts_with("HEAD ");
                let envelope = |code: &str, message: &str| {
                    format!(r#"{{"errors":[{{"code":"{code}","message":"{message}"}}]}}"#)
                };
                let (status, headers, body) = if !authorized {
                    (
                        "401 Unauthorized",
                        "WWW-Authenticate: Basic realm=\"test\"\r\n".to_string(),
                        envelope("UNAUTHORIZED", "authentication required"),
                    )
                } else if request.contains(" /v2/ ") {
                    ("200 OK", String::new(), "{}".to_string())
                } else if request.contains(" /v2/base/manifests/1 ") {
                    (
                        "200 OK",
                        format!(
                            "Docker-Content-Digest: {DIGEST}\r\nContent-Type: \
                             application/vnd.docker.distribution.manifest.v2+json\r\n"
                        ),
                        String::new(),
                    )
                } else {
                    (
                        "404 Not Found",
                        String::new(),
                        envelope("MANIFEST_UNKNOWN", "manifest unknown"),
                    )
                };
                let body = if head { String::new() } else { body };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        address
    }

    fn server_error(status_code: u16, message: &str) -> bollard::errors::Error {
        bollard::errors::Error::DockerResponseServerError {
            status_code,
            message: message.into(),
        }
    }

    #[test]
    fn podmans_missing_distribution_endpoint_is_told_from_a_missing_image() {
        assert!(endpoint_missing(&server_error(
            404,
            "Path /v1.41/distribution/debian:bookworm/json is not supported"
        )));
        assert!(endpoint_missing(&server_error(404, "Not Found\n")));
        assert!(endpoint_missing(&server_error(404, "page not found")));
        assert!(!endpoint_missing(&server_error(
            404,
            "manifest unknown: manifest unknown"
        )));
        assert!(!endpoint_missing(&server_error(
            404,
            "docker.io/robodev/x:1: not found"
        )));
        assert!(!endpoint_missing(&server_error(500, "Not Found")));
        assert!(!endpoint_missing(&server_error(401, "unauthorized")));
    }

    #[tokio::test]
    async fn the_registry_itself_gives_the_digest() {
        let registry = registry(false);
        let digest = registry_digest(&format!("{registry}/base:1"), None, true)
            .await
            .unwrap();
        assert_eq!(digest, DIGEST);
    }

    #[tokio::test]
    async fn the_registry_is_asked_with_the_users_credentials() {
        let registry = registry(true);
        let auth = RegistryAuth::Password {
            username: "robot".into(),
            password: "secret".into(),
        };
        let reference = format!("{registry}/base:1");
        assert_eq!(
            registry_digest(&reference, Some(&auth), true)
                .await
                .unwrap(),
            DIGEST
        );
        let refused = registry_digest(&reference, None, true).await.unwrap_err();
        assert!(refused.contains("unauthorized"), "{refused}");
    }

    #[tokio::test]
    async fn an_image_the_registry_lacks_is_a_manifest_unknown() {
        let registry = registry(false);
        let missing = registry_digest(&format!("{registry}/base:2"), None, true)
            .await
            .unwrap_err();
        assert!(missing.contains("manifest unknown"), "{missing}");
    }

    #[tokio::test]
    async fn an_unreachable_registry_says_so() {
        // A port nothing listens on.
        let address = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let refused = registry_digest(&format!("{address}/base:1"), None, true)
            .await
            .unwrap_err();
        assert!(
            refused.to_ascii_lowercase().contains("connection refused"),
            "{refused}"
        );
    }
}

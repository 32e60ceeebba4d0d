//! Bollard's errors, turned per operation into errors a user can act on; and the time limits
//! of calls that should answer at once.

use crate::error::{Error, Result};
use std::future::Future;
use std::time::Duration;

/// The first contact (version negotiation): an engine that accepts the connection and has not
/// answered in this time is hung.
pub(crate) const CONNECT: Duration = Duration::from_secs(5);
/// Inspecting and listing once connected: a busy engine (finishing a push, a large build) can
/// take seconds; past this it is hung.
pub(crate) const QUICK: Duration = Duration::from_secs(20);
/// Creating, starting, removing: the engine may be busy, not hung.
pub(crate) const MEDIUM: Duration = Duration::from_secs(30);

/// Run an engine call that should finish within `limit`; a hung engine is an error naming it.
/// Builds, attached execs and followed logs take as long as they take: never wrapped.
pub(crate) async fn limited<T>(
    limit: Duration,
    action: &str,
    call: impl Future<Output = std::result::Result<T, bollard::errors::Error>>,
) -> Result<std::result::Result<T, bollard::errors::Error>> {
    tokio::time::timeout(limit, call)
        .await
        .map_err(|_| hung(action, limit))
}

pub(crate) fn hung(action: &str, limit: Duration) -> Error {
    Error::Engine {
        action: format!("cannot {action}"),
        message: format!(
            "the engine at {} accepted the connection but did not answer within {} s",
            engine_address(),
            limit.as_secs()
        ),
        help: Some(
            "the engine is hung or overloaded: restart it (`sudo systemctl restart docker`), or \
             point DOCKER_HOST at one that answers"
                .into(),
        ),
    }
}

/// Where the engine is expected, for messages.
fn engine_address() -> String {
    super::chosen::address()
}

/// Find the innermost I/O error in a chain.
fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        current = err.source();
    }
    None
}

pub(crate) fn connection_error(e: &bollard::errors::Error) -> Error {
    let address = engine_address();
    let text = e.to_string();
    let kind = io_kind(e);
    if kind == Some(std::io::ErrorKind::PermissionDenied) || text.contains("ermission denied") {
        return Error::Engine {
            action: format!("cannot connect to the Docker engine at {address}"),
            message: "permission denied on the engine's socket".into(),
            help: Some(
                "add yourself to the docker group: `sudo usermod -aG docker $USER`, then log out and \
                 back in (or run `newgrp docker`)"
                    .into(),
            ),
        };
    }
    // The words that matter are often deep in the chain (rustls under hyper under bollard).
    let mut chain = text.clone();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        chain.push_str(": ");
        chain.push_str(&inner.to_string());
        source = inner.source();
    }
    if chain.contains("certificate") || chain.contains("UnknownIssuer") || chain.contains("tls") {
        return Error::Engine {
            action: format!("cannot connect to the Docker engine at {address}"),
            message: format!(
                "the TLS handshake failed: {}",
                chain
                    .rsplit(": ")
                    .next()
                    .unwrap_or("the certificates do not match")
            ),
            help: Some(
                "check the certificate DOCKER_CERT_PATH (or the docker context) holds: ca.pem must be the CA that signed the engine's certificate, cert.pem/key.pem a client certificate that CA signed"
                    .into(),
            ),
        };
    }
    let socket_missing = matches!(e, bollard::errors::Error::SocketNotFoundError(_));
    Error::Engine {
        action: format!("cannot connect to the Docker engine at {address}"),
        message: match kind {
            _ if socket_missing => {
                "no engine is listening there (the socket does not exist)".into()
            }
            Some(std::io::ErrorKind::NotFound) => {
                "no engine is listening there (the socket does not exist)".into()
            }
            Some(std::io::ErrorKind::ConnectionRefused) => "the connection was refused".into(),
            _ if text.contains("error reading a body") || text.contains("connection closed") => {
                "the engine closed the connection in the middle of the operation (did it stop or \
                 restart?)"
                    .into()
            }
            _ => text,
        },
        help: Some(
            "start the engine (`sudo systemctl start docker`, or `sudo dockerd &`), or point \
             DOCKER_HOST at one that runs; `robodev doctor` checks the setup"
                .into(),
        ),
    }
}

pub(crate) fn api_error(action: &str, e: bollard::errors::Error) -> Error {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => Error::Engine {
            action: format!("cannot {action}"),
            help: message.contains("catatonit").then(|| {
                "Podman runs robodev's `init: true` containers with catatonit: install it \
                 (Debian/Ubuntu: `sudo apt install catatonit`)"
                    .to_string()
            }),
            message,
        },
        other if io_kind(&other).is_some() || is_connection(&other) => connection_error(&other),
        other => Error::Engine {
            action: format!("cannot {action}"),
            message: other.to_string(),
            help: None,
        },
    }
}

/// The connection itself failed (hyper's words, not the engine's).
fn is_connection(e: &bollard::errors::Error) -> bool {
    let text = e.to_string();
    matches!(e, bollard::errors::Error::SocketNotFoundError(_))
        || text.contains("error reading a body")
        || text.contains("connection closed")
        || text.contains("error trying to connect")
}

pub(crate) fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

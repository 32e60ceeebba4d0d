//! Bollard's errors, turned per operation into errors a user can act on.

use crate::error::Error;

/// Where the engine is expected, for messages.
fn engine_address() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
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
    Error::Engine {
        action: format!("cannot connect to the Docker engine at {address}"),
        message: match kind {
            Some(std::io::ErrorKind::NotFound) => {
                "no engine is listening there (the socket does not exist)".into()
            }
            Some(std::io::ErrorKind::ConnectionRefused) => "the connection was refused".into(),
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
            message,
            help: None,
        },
        other if io_kind(&other).is_some() => connection_error(&other),
        other => Error::Engine {
            action: format!("cannot {action}"),
            message: other.to_string(),
            help: None,
        },
    }
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

//! The thin engine layer: executes plans through the Docker Engine API (bollard). It makes no
//! decisions of its own; every option it sends comes from a plan. Bollard's errors are turned
//! into errors a user can act on, per operation.

mod build;
mod containers;
mod stdio;

pub use build::{BuildOptions, BuildOutput};
pub use containers::{
    ContainerState, ExecSpec, ManagedContainer, foreign_container_error as containers_foreign,
};

use crate::error::{Error, Result};
use crate::gpu::DaemonFacts;
use bollard::Docker;

pub struct Engine {
    pub(crate) docker: Docker,
    pub api_version: String,
}

fn engine_address() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

impl Engine {
    /// Connect (honouring DOCKER_HOST) and agree on an API version with the daemon, once.
    pub async fn connect() -> Result<Engine> {
        let docker = Docker::connect_with_defaults().map_err(|e| connection_error(&e))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| connection_error(&e))?;
        let api_version = docker.client_version().to_string();
        Ok(Engine {
            docker,
            api_version,
        })
    }

    pub async fn daemon_facts(&self) -> Result<DaemonFacts> {
        let info = self
            .docker
            .info()
            .await
            .map_err(|e| api_error("read the engine's info", e))?;
        let mut runtimes: Vec<String> = info.runtimes.unwrap_or_default().into_keys().collect();
        runtimes.sort();
        Ok(DaemonFacts {
            server_version: info.server_version.unwrap_or_default(),
            api_version: self.api_version.clone(),
            runtimes,
            cdi_spec_dirs: info.cdi_spec_dirs.unwrap_or_default(),
        })
    }
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

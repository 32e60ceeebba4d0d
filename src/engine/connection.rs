//! Connecting to the engine (honouring DOCKER_HOST) and asking it about itself.

use super::errors::{CONNECT, QUICK, api_error, connection_error, limited};
use crate::error::Result;
use crate::facts::EngineFacts;
use bollard::Docker;

pub struct Engine {
    pub(crate) docker: Docker,
    pub api_version: String,
}

impl Engine {
    /// Whether the engine runs on this machine (a unix socket, or a TCP address on loopback):
    /// only then do this machine's facts (emulation, devices) describe it.
    pub fn is_local(&self) -> bool {
        let host = std::env::var("DOCKER_HOST").unwrap_or_default();
        host.is_empty()
            || host.starts_with("unix://")
            || host.starts_with("tcp://127.")
            || host.starts_with("tcp://localhost")
    }

    /// Connect (honouring DOCKER_HOST) and agree on an API version with the daemon, once.
    pub async fn connect() -> Result<Engine> {
        let docker = Docker::connect_with_defaults().map_err(|e| connection_error(&e))?;
        // The first call: an engine that accepts the connection and never answers is found out
        // here, in seconds.
        let docker = limited(
            CONNECT,
            "reach the Docker engine",
            docker.negotiate_version(),
        )
        .await?
        .map_err(|e| connection_error(&e))?;
        let api_version = docker.client_version().to_string();
        Ok(Engine {
            docker,
            api_version,
        })
    }

    pub async fn facts(&self) -> Result<EngineFacts> {
        let action = "read the engine's info";
        let info = limited(QUICK, action, self.docker.info())
            .await?
            .map_err(|e| api_error(action, e))?;
        let mut runtimes: Vec<String> = info.runtimes.unwrap_or_default().into_keys().collect();
        runtimes.sort();
        let mut insecure_registries: Vec<String> = info
            .registry_config
            .and_then(|r| r.index_configs)
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, c)| c.secure == Some(false))
            .map(|(name, _)| name)
            .collect();
        insecure_registries.sort();
        Ok(EngineFacts {
            server_version: info.server_version.unwrap_or_default(),
            api_version: self.api_version.clone(),
            runtimes,
            cdi_spec_dirs: info.cdi_spec_dirs.unwrap_or_default(),
            platform: format!(
                "{}/{}",
                info.os_type.as_deref().unwrap_or("linux"),
                crate::facts::engine::oci_arch(info.architecture.as_deref().unwrap_or("amd64"))
            ),
            insecure_registries,
        })
    }
}

//! Connecting to the engine robodev was pointed at (`--host`, `DOCKER_HOST`, a docker context,
//! the user's `engine:`; see `facts::endpoint`) over a unix socket, TCP (with TLS when asked),
//! or ssh, and asking it about itself.

use super::chosen::{CONNECTED, current_endpoint};
use super::errors::{CONNECT, QUICK, api_error, connection_error, limited};
use super::ssh::{self, SshConnector, SshTarget};
use crate::error::{Error, Result};
use crate::facts::EngineFacts;
use crate::facts::endpoint::{Endpoint, Transport};
use bollard::{API_DEFAULT_VERSION, BollardRequest, Docker};

/// Request timeout for the transport itself; robodev's own limits are shorter where it matters.
const TRANSPORT_TIMEOUT: u64 = 24 * 3600;

pub struct BollardEngine {
    pub(crate) docker: Docker,
    pub endpoint: Endpoint,
    remote_user: Option<crate::facts::host::HostUser>,
}

impl BollardEngine {
    /// Whether the engine runs on this machine (a unix socket, or TCP on loopback): only then
    /// do this machine's facts (emulation, devices, paths) describe it.
    pub fn is_local(&self) -> bool {
        self.endpoint.is_local()
    }

    /// The user the engine's machine knows us as, when that is known: over ssh, the ssh
    /// user's identity there (learnt once, at connect). `None` for a local engine (this
    /// machine's user applies) and for a TCP engine (no user: robodev keeps the local identity
    /// and says so).
    pub fn remote_user(&self) -> Option<&crate::facts::host::HostUser> {
        self.remote_user.as_ref()
    }

    /// Connect to the chosen engine and agree on an API version with it, once.
    pub async fn connect() -> Result<BollardEngine> {
        let endpoint = current_endpoint()?;
        let _ = CONNECTED.set(endpoint.url.clone());
        let mut remote_user = None;
        let docker = match endpoint.transport {
            Transport::Unix => {
                Docker::connect_with_unix(&endpoint.url, TRANSPORT_TIMEOUT, API_DEFAULT_VERSION)
            }
            Transport::Tcp => match &endpoint.tls {
                Some(tls) => {
                    for file in [&tls.ca, &tls.cert, &tls.key] {
                        if !file.exists() {
                            return Err(Error::Engine {
                                action: format!("cannot connect to the Docker engine at {}", endpoint.url),
                                message: format!("TLS is on (DOCKER_TLS_VERIFY) but {} does not exist", file.display()),
                                help: Some("point DOCKER_CERT_PATH at the directory with ca.pem, cert.pem and key.pem".into()),
                            });
                        }
                    }
                    Docker::connect_with_ssl(
                        &endpoint.url,
                        &tls.key,
                        &tls.cert,
                        &tls.ca,
                        TRANSPORT_TIMEOUT,
                        API_DEFAULT_VERSION,
                    )
                }
                None => Docker::connect_with_http(&endpoint.url, TRANSPORT_TIMEOUT, API_DEFAULT_VERSION),
            },
            Transport::Ssh => {
                let (docker, user) = ssh_docker(&endpoint).await?;
                remote_user = Some(user);
                Ok(docker)
            }
        }
        .map_err(|e| connection_error(&e))?;
        // The first call: an engine that accepts the connection and never answers is found out
        // here, in seconds. `_ping` (under a millisecond everywhere) rather than negotiating
        // through `/version` (60–90 ms on Podman 5): bollard sends unversioned paths, which every
        // engine serves at its own current API version — Docker 29's refusal of old clients
        // included — so there is nothing to negotiate. The engine's API version is read with
        // its facts, when a plan needs them.
        limited(CONNECT, "reach the Docker engine", docker.ping())
            .await?
            .map_err(|e| connection_error(&e))?;
        Ok(BollardEngine {
            docker,
            endpoint,
            remote_user,
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
        let docker_rootless = info
            .security_options
            .unwrap_or_default()
            .iter()
            .any(|o| o.contains("rootless"));
        let root_dir = info.docker_root_dir.unwrap_or_default();
        let version = limited(QUICK, action, self.docker.version())
            .await?
            .map_err(|e| api_error(action, e))?;
        let api_version = version.api_version.clone().unwrap_or_default();
        let podman = version
            .components
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.name.contains("Podman"))
            .map(|c| c.version);
        // Podman says Rootless only in a field bollard's SystemInfo lacks. A service on this
        // machine's socket is rootless when a user, not root, owns the socket; elsewhere its
        // store in a user's home tells.
        let socket_owner = match self.endpoint.transport {
            Transport::Unix => std::fs::metadata(
                self.endpoint
                    .url
                    .strip_prefix("unix://")
                    .unwrap_or(&self.endpoint.url),
            )
            .ok()
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m)),
            _ => None,
        };
        let rootless = docker_rootless
            || podman.is_some()
                && match socket_owner {
                    Some(uid) => uid != 0,
                    None => crate::facts::engine::podman_store_is_a_users(&root_dir),
                };
        let os = info.os_type.clone().unwrap_or_else(|| "linux".into());
        let buildkit = crate::facts::engine::has_buildkit(podman.is_some(), &api_version, &os);
        Ok(EngineFacts {
            buildkit,
            podman,
            rootless,
            server_version: info.server_version.unwrap_or_default(),
            api_version,
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

/// A bollard client whose connections are `docker system dial-stdio` over the system's ssh,
/// after a first check that says what is wrong when it cannot work; and the ssh user there.
async fn ssh_docker(endpoint: &Endpoint) -> Result<(Docker, crate::facts::host::HostUser)> {
    let target = SshTarget::parse(&endpoint.url)?;
    let control_dir = crate::facts::host::state_dir().join("ssh");
    let user = ssh::check(&target, &control_dir).await?;
    let connector = SshConnector {
        target,
        control_dir,
    };
    let client = std::sync::Arc::new(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(connector),
    );
    Docker::connect_with_custom_transport(
        move |req: BollardRequest| {
            let client = std::sync::Arc::clone(&client);
            async move {
                client
                    .request(req)
                    .await
                    .map_err(bollard::errors::Error::from)
            }
        },
        Some("http://robodev-ssh"),
        TRANSPORT_TIMEOUT,
        API_DEFAULT_VERSION,
    )
    .map(|docker| (docker, user))
    .map_err(|e| connection_error(&e))
}

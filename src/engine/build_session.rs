//! robodev's side of a BuildKit build session: the engine's `POST /session`, upgraded to h2c,
//! on which robodev is the gRPC *server* and BuildKit the client. It serves the build context
//! (`moby.upload.v1.Upload`, asked for as `http://buildkit-session/<id>`: the way that works on
//! every Docker engine, the containerd image store included, where an uploaded request body
//! does not) and the build's secrets (`moby.buildkit.secrets.v1.Secrets`), whose values go to
//! BuildKit through this connection only; and, with `ssh: true`, the user's ssh agent
//! (`moby.sshforward.v1.SSH`): BuildKit's signing requests go to the agent's socket and its
//! answers back, the key never leaves the agent. When the user has credentials for a registry
//! the build pulls from (a private base, the team's build cache), it serves them too
//! (`moby.filesync.v1.Auth/Credentials`), as the docker CLI does; BuildKit itself then asks the
//! registry for its token.
//!
//! bollard's own session serves registry credentials and nothing else, and its gRPC build
//! (`Moby::docker_build`) returns no status stream; this session goes beside bollard's
//! `/build?version=2` request, which keeps BuildKit's status stream for the progress.

use super::ssh::{SshConnector, SshTarget};
use crate::error::{Error, Result};
use crate::facts::credentials::{DOCKER_HUB, RegistryAuth};
use crate::facts::endpoint::{Endpoint, Transport};
use bollard::health::health_check_response::ServingStatus;
use bollard::health::health_server::{Health, HealthServer};
use bollard::health::{
    HealthCheckRequest, HealthCheckResponse, HealthListRequest, HealthListResponse,
};
use bollard::moby::buildkit::secrets::v1::secrets_server::{Secrets, SecretsServer};
use bollard::moby::buildkit::secrets::v1::{GetSecretRequest, GetSecretResponse};
use bollard::moby::filesync::v1::auth_server::{Auth, AuthServer};
use bollard::moby::filesync::v1::{
    CredentialsRequest, CredentialsResponse, FetchTokenRequest, FetchTokenResponse,
    GetTokenAuthorityRequest, GetTokenAuthorityResponse, VerifyTokenAuthorityRequest,
    VerifyTokenAuthorityResponse,
};
use bollard::moby::sshforward::v1::ssh_server::{Ssh, SshServer};
use bollard::moby::sshforward::v1::{
    BytesMessage as AgentBytes, CheckAgentRequest, CheckAgentResponse,
};
use bollard::moby::upload::v1::BytesMessage;
use bollard::moby::upload::v1::upload_server::{Upload, UploadServer};
use futures_util::Stream;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tonic::{Request, Response, Status, Streaming};

/// The gRPC methods the session serves, as the engine must be told them.
const METHODS: &[&str] = &[
    "/grpc.health.v1.Health/Check",
    "/moby.upload.v1.Upload/Pull",
    "/moby.buildkit.secrets.v1.Secrets/GetSecret",
];

/// The registry-credentials method, exposed only when the user has credentials for a registry
/// the build pulls from (else BuildKit asks no one and pulls anonymously, as before).
const AUTH_METHODS: &[&str] = &["/moby.filesync.v1.Auth/Credentials"];

/// The ssh agent's methods, exposed only when the build forwards an agent.
const SSH_METHODS: &[&str] = &[
    "/moby.sshforward.v1.SSH/CheckAgent",
    "/moby.sshforward.v1.SSH/ForwardAgent",
];

/// The context's chunks: well under BuildKit's 16 MiB gRPC message limit.
const CHUNK: usize = 32 * 1024;

/// What a session hands BuildKit.
pub struct SessionFiles {
    /// The build context as a tar.
    pub context: Vec<u8>,
    /// Secret id → its value (read by the command layer, from where the profile says).
    pub secrets: HashMap<String, Vec<u8>>,
    /// The ssh agent's socket to forward, if any.
    pub ssh_agent: Option<std::path::PathBuf>,
    /// Registry host (as robodev names it: `localhost:5000`, `docker.io`) → the user's
    /// credential there.
    pub registry_auth: HashMap<String, RegistryAuth>,
}

/// A session being served; it ends when this is dropped.
pub struct BuildSession {
    pub id: String,
    /// What the build's `remote` parameter names: the context in this session.
    pub context_url: String,
    serving: tokio::task::JoinHandle<()>,
}

impl Drop for BuildSession {
    fn drop(&mut self) {
        self.serving.abort();
    }
}

/// Open a session with the engine at `endpoint` and serve `files` on it until dropped.
pub async fn start(endpoint: &Endpoint, files: SessionFiles) -> Result<BuildSession> {
    let id = new_id();
    let upload_path = format!("/{}", new_id());
    let context_url = format!("http://buildkit-session{upload_path}");
    let io = upgraded(
        endpoint,
        &id,
        files.ssh_agent.is_some(),
        !files.registry_auth.is_empty(),
    )
    .await?;
    let upload = ContextUpload {
        path: upload_path,
        tar: Arc::new(files.context),
    };
    let secrets = SecretValues(files.secrets);
    let agent = files
        .ssh_agent
        .map(|socket| SshServer::new(AgentForward { socket }));
    let auth = (!files.registry_auth.is_empty())
        .then(|| AuthServer::new(RegistryCredentials(files.registry_auth)));
    let serving = tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(HealthServer::new(Healthy))
            .add_service(
                UploadServer::new(upload)
                    .max_encoding_message_size(usize::MAX)
                    .max_decoding_message_size(usize::MAX),
            )
            .add_service(SecretsServer::new(secrets))
            .add_optional_service(agent)
            .add_optional_service(auth)
            .serve_with_incoming(futures_util::stream::iter([Ok::<_, std::io::Error>(io)]))
            .await;
    });
    Ok(BuildSession {
        id,
        context_url,
        serving,
    })
}

fn new_id() -> String {
    use sha2::{Digest, Sha256};
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let seed = format!("{}-{nanos}-{n}", std::process::id());
    hex::encode(Sha256::digest(seed.as_bytes()))[..25].to_string()
}

/// A stream to the engine the way robodev reaches it: its unix socket, plain TCP, or
/// `docker system dial-stdio` over ssh.
pub(super) trait EngineStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> EngineStream for T {}

pub(super) async fn connect(endpoint: &Endpoint) -> Result<Box<dyn EngineStream>> {
    let failed = |e: std::io::Error| Error::Engine {
        action: "cannot open a BuildKit session".into(),
        message: format!("{}: {e}", endpoint.url),
        help: None,
    };
    match endpoint.transport {
        Transport::Unix => {
            let path = endpoint
                .url
                .strip_prefix("unix://")
                .unwrap_or(&endpoint.url);
            Ok(Box::new(
                tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(failed)?,
            ))
        }
        Transport::Tcp if endpoint.tls.is_none() => {
            let address = endpoint
                .url
                .strip_prefix("tcp://")
                .unwrap_or(&endpoint.url)
                .trim_end_matches('/');
            Ok(Box::new(
                tokio::net::TcpStream::connect(address)
                    .await
                    .map_err(failed)?,
            ))
        }
        Transport::Tcp => Err(Error::Engine {
            action: "cannot open a BuildKit session".into(),
            message: format!(
                "{} is reached over TLS, which robodev's build session does not speak yet",
                endpoint.url
            ),
            help: Some(
                "build on that engine's machine, or reach it over ssh (ssh://USER@HOST)".into(),
            ),
        }),
        Transport::Ssh => {
            let mut connector = SshConnector {
                target: SshTarget::parse(&endpoint.url)?,
                control_dir: crate::facts::host::state_dir().join("ssh"),
            };
            let io = tower_service::Service::call(&mut connector, hyper::Uri::from_static("/"))
                .await
                .map_err(failed)?;
            Ok(Box::new(io.into_inner()))
        }
    }
}

/// `POST /session` upgraded to h2c: from here on the engine speaks HTTP/2 to us.
async fn upgraded(endpoint: &Endpoint, id: &str, ssh: bool, auth: bool) -> Result<SessionIo> {
    let refused = |message: String| Error::Engine {
        action: "cannot open a BuildKit session".into(),
        message,
        help: Some("build with the classic builder (--classic-builder)".into()),
    };
    let stream = connect(endpoint).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| refused(e.to_string()))?;
    tokio::spawn(async move {
        let _ = connection.with_upgrades().await;
    });
    let mut request = hyper::Request::builder()
        .method("POST")
        .uri("/session")
        .header("Host", "docker")
        .header("Connection", "Upgrade")
        .header("Upgrade", "h2c")
        .header("X-Docker-Expose-Session-Uuid", id)
        .header("X-Docker-Expose-Session-Name", "robodev")
        .header("X-Docker-Expose-Session-Sharedkey", "");
    let ssh_methods = if ssh { SSH_METHODS } else { &[] };
    let auth_methods = if auth { AUTH_METHODS } else { &[] };
    for method in METHODS.iter().chain(ssh_methods).chain(auth_methods) {
        request = request.header("X-Docker-Expose-Session-Grpc-Method", *method);
    }
    let request = request
        .body(String::new())
        .map_err(|e| refused(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| refused(e.to_string()))?;
    if response.status() != hyper::StatusCode::SWITCHING_PROTOCOLS {
        return Err(refused(format!(
            "the engine answered {} to POST /session",
            response.status()
        )));
    }
    let io = hyper::upgrade::on(response)
        .await
        .map_err(|e| refused(e.to_string()))?;
    Ok(SessionIo(TokioIo::new(io)))
}

/// The upgraded connection, as tonic's server takes a connection.
struct SessionIo(TokioIo<hyper::upgrade::Upgraded>);

impl tonic::transport::server::Connected for SessionIo {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for SessionIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for SessionIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

struct Healthy;

type BoxStream<T> = Pin<Box<dyn Stream<Item = std::result::Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl Health for Healthy {
    async fn check(
        &self,
        _: Request<HealthCheckRequest>,
    ) -> std::result::Result<Response<HealthCheckResponse>, Status> {
        Ok(Response::new(HealthCheckResponse {
            status: ServingStatus::Serving as i32,
        }))
    }

    async fn list(
        &self,
        _: Request<HealthListRequest>,
    ) -> std::result::Result<Response<HealthListResponse>, Status> {
        Err(Status::unimplemented("list"))
    }

    type WatchStream = BoxStream<HealthCheckResponse>;

    async fn watch(
        &self,
        _: Request<HealthCheckRequest>,
    ) -> std::result::Result<Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("watch"))
    }
}

/// The build context, served once per pull of its path.
struct ContextUpload {
    path: String,
    tar: Arc<Vec<u8>>,
}

#[tonic::async_trait]
impl Upload for ContextUpload {
    type PullStream = BoxStream<BytesMessage>;

    async fn pull(
        &self,
        request: Request<Streaming<BytesMessage>>,
    ) -> std::result::Result<Response<Self::PullStream>, Status> {
        let asked = request
            .metadata()
            .get("urlpath")
            .and_then(|v| v.to_str().ok());
        if asked != Some(self.path.as_str()) {
            return Err(Status::not_found("robodev serves one build context"));
        }
        let tar = Arc::clone(&self.tar);
        let chunks = (0..tar.len().div_ceil(CHUNK)).map(move |i| {
            let end = ((i + 1) * CHUNK).min(tar.len());
            Ok(BytesMessage {
                data: tar[i * CHUNK..end].to_vec(),
            })
        });
        Ok(Response::new(Box::pin(futures_util::stream::iter(chunks))))
    }
}

/// The build's secrets by id. BuildKit asks for each `RUN --mount=type=secret,id=…` it runs.
struct SecretValues(HashMap<String, Vec<u8>>);

#[tonic::async_trait]
impl Secrets for SecretValues {
    async fn get_secret(
        &self,
        request: Request<GetSecretRequest>,
    ) -> std::result::Result<Response<GetSecretResponse>, Status> {
        let id = &request.get_ref().id;
        match self.0.get(id) {
            Some(value) => Ok(Response::new(GetSecretResponse {
                data: value.clone(),
            })),
            None => Err(Status::not_found(format!(
                "secret {id} is not in the profile's `secrets:`"
            ))),
        }
    }
}

/// The user's registry credentials, by host.
struct RegistryCredentials(HashMap<String, RegistryAuth>);

impl RegistryCredentials {
    /// The credential for `host` as BuildKit names it (Docker Hub's API host is
    /// `registry-1.docker.io`); empty (anonymous) when the user has none there.
    fn answer(&self, host: &str) -> CredentialsResponse {
        let host = match host {
            "registry-1.docker.io" | "index.docker.io" => DOCKER_HUB,
            other => other,
        };
        match self.0.get(host) {
            Some(RegistryAuth::Password { username, password }) => CredentialsResponse {
                username: username.clone(),
                secret: password.clone(),
            },
            // An identity token is handed as the secret with no user name, as Docker's does.
            Some(RegistryAuth::IdentityToken(token)) => CredentialsResponse {
                username: String::new(),
                secret: token.clone(),
            },
            None => CredentialsResponse::default(),
        }
    }
}

#[tonic::async_trait]
impl Auth for RegistryCredentials {
    async fn credentials(
        &self,
        request: Request<CredentialsRequest>,
    ) -> std::result::Result<Response<CredentialsResponse>, Status> {
        Ok(Response::new(self.answer(&request.get_ref().host)))
    }

    // Not exposed: BuildKit fetches the registry's token itself with the credentials.
    async fn fetch_token(
        &self,
        _request: Request<FetchTokenRequest>,
    ) -> std::result::Result<Response<FetchTokenResponse>, Status> {
        Err(Status::unimplemented(
            "robodev hands credentials, not tokens",
        ))
    }

    async fn get_token_authority(
        &self,
        _request: Request<GetTokenAuthorityRequest>,
    ) -> std::result::Result<Response<GetTokenAuthorityResponse>, Status> {
        Err(Status::unimplemented(
            "robodev hands credentials, not tokens",
        ))
    }

    async fn verify_token_authority(
        &self,
        _request: Request<VerifyTokenAuthorityRequest>,
    ) -> std::result::Result<Response<VerifyTokenAuthorityResponse>, Status> {
        Err(Status::unimplemented(
            "robodev hands credentials, not tokens",
        ))
    }
}

/// The user's ssh agent, one connection to its socket per forwarded stream.
struct AgentForward {
    socket: std::path::PathBuf,
}

#[tonic::async_trait]
impl Ssh for AgentForward {
    async fn check_agent(
        &self,
        request: Request<CheckAgentRequest>,
    ) -> std::result::Result<Response<CheckAgentResponse>, Status> {
        // `RUN --mount=type=ssh` asks for the `default` agent; robodev forwards that one.
        let id = &request.get_ref().id;
        if !id.is_empty() && id != "default" {
            return Err(Status::not_found(format!(
                "robodev forwards the default ssh agent only, not `{id}`"
            )));
        }
        Ok(Response::new(CheckAgentResponse {}))
    }

    type ForwardAgentStream = BoxStream<AgentBytes>;

    async fn forward_agent(
        &self,
        request: Request<Streaming<AgentBytes>>,
    ) -> std::result::Result<Response<Self::ForwardAgentStream>, Status> {
        use futures_util::StreamExt;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let agent = tokio::net::UnixStream::connect(&self.socket)
            .await
            .map_err(|e| Status::unavailable(format!("the ssh agent: {e}")))?;
        let (from_agent, mut to_agent) = agent.into_split();
        let mut requests = request.into_inner();
        tokio::spawn(async move {
            while let Some(Ok(message)) = requests.next().await {
                if to_agent.write_all(&message.data).await.is_err() {
                    break;
                }
            }
            let _ = to_agent.shutdown().await;
        });
        let answers = futures_util::stream::unfold(from_agent, |mut from_agent| async move {
            let mut buf = vec![0u8; 16 * 1024];
            match from_agent.read(&mut buf).await {
                Ok(0) | Err(_) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(AgentBytes { data: buf }), from_agent))
                }
            }
        });
        Ok(Response::new(Box::pin(answers)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_answered_by_host_and_docker_hub_by_its_api_host() {
        let creds = RegistryCredentials(HashMap::from([
            (
                "localhost:5000".to_string(),
                RegistryAuth::Password {
                    username: "ci".into(),
                    password: "s3cret".into(),
                },
            ),
            (
                DOCKER_HUB.to_string(),
                RegistryAuth::IdentityToken("tok".into()),
            ),
        ]));
        let local = creds.answer("localhost:5000");
        assert_eq!(
            (local.username.as_str(), local.secret.as_str()),
            ("ci", "s3cret")
        );
        let hub = creds.answer("registry-1.docker.io");
        assert_eq!((hub.username.as_str(), hub.secret.as_str()), ("", "tok"));
        assert_eq!(creds.answer("ghcr.io"), CredentialsResponse::default());
    }
}

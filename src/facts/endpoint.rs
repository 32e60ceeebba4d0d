//! Which engine robodev talks to, and why: `--host`, `DOCKER_HOST`, `DOCKER_CONTEXT`, the
//! `engine:` of the user's own robodev config, the docker CLI's current context, else the local
//! socket — the docker CLI's precedence, with robodev's per-user choice before the CLI's
//! context. Contexts are read where the docker CLI keeps them (`$DOCKER_CONFIG` or `~/.docker`:
//! `config.json`'s `currentContext`, `contexts/meta/<sha256 of the name>/meta.json`, TLS files in
//! `contexts/tls/<sha256>/docker/`).

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";

/// Client certificates for a TLS engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Unix,
    Tcp,
    Ssh,
}

/// The engine's address, how it is reached, and what chose it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    pub transport: Transport,
    /// `--host`, `DOCKER_HOST`, `context rover (DOCKER_CONTEXT)`, …
    pub chosen_by: String,
    pub tls: Option<TlsFiles>,
}

impl Endpoint {
    /// Whether the engine runs on this machine: a unix socket, or TCP on loopback. Only then do
    /// this machine's files, devices and users describe the engine's.
    pub fn is_local(&self) -> bool {
        match self.transport {
            Transport::Unix => true,
            Transport::Tcp => {
                let host = self.url.trim_start_matches("tcp://");
                host.starts_with("127.")
                    || host.starts_with("localhost")
                    || host.starts_with("[::1]")
            }
            Transport::Ssh => false,
        }
    }
}

/// Where the choice comes from, gathered by the caller (so this stays testable).
pub struct Sources<'a> {
    pub flag: Option<&'a str>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// `$DOCKER_CONFIG` or `~/.docker`.
    pub docker_config: PathBuf,
    /// `engine:` from robodev's own per-user config, and the file it came from.
    pub robodev_engine: Option<(String, PathBuf)>,
}

fn transport_of(url: &str) -> Result<Transport> {
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
    match scheme {
        "unix" => Ok(Transport::Unix),
        "tcp" | "http" | "https" => Ok(Transport::Tcp),
        "ssh" => Ok(Transport::Ssh),
        _ => Err(Error::usage_with_help(
            format!("`{url}` is not an engine address robodev can reach"),
            "use unix:///path/to/docker.sock, tcp://HOST:PORT (TLS with DOCKER_TLS_VERIFY) or \
             ssh://USER@HOST[:PORT]",
        )),
    }
}

/// TLS files from `DOCKER_TLS_VERIFY` / `DOCKER_CERT_PATH` (default `~/.docker`).
fn env_tls(env: &dyn Fn(&str) -> Option<String>, docker_config: &Path) -> Option<TlsFiles> {
    let verify = env("DOCKER_TLS_VERIFY").filter(|v| !v.is_empty() && v != "0")?;
    let _ = verify;
    let dir = env("DOCKER_CERT_PATH")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| docker_config.to_path_buf());
    Some(TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    })
}

fn endpoint(url: String, chosen_by: String, tls: Option<TlsFiles>) -> Result<Endpoint> {
    let transport = transport_of(&url)?;
    Ok(Endpoint {
        tls: if transport == Transport::Tcp {
            tls
        } else {
            None
        },
        url,
        transport,
        chosen_by,
    })
}

/// A docker CLI context's endpoint (and its TLS files, when the context has them).
pub fn context_endpoint(docker_config: &Path, name: &str, chosen_by: &str) -> Result<Endpoint> {
    let id = hex::encode(Sha256::digest(name.as_bytes()));
    let meta = docker_config
        .join("contexts/meta")
        .join(&id)
        .join("meta.json");
    let text = std::fs::read_to_string(&meta).map_err(|e| {
        Error::usage_with_help(
            format!("docker context `{name}` ({chosen_by}) cannot be read: {e}"),
            "list them with `docker context ls`; `docker context use default` goes back to the \
             local engine",
        )
    })?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::usage(format!("{}: {e}", meta.display())))?;
    let host = value["Endpoints"]["docker"]["Host"]
        .as_str()
        .ok_or_else(|| {
            Error::usage(format!(
                "{}: docker context `{name}` has no docker endpoint",
                meta.display()
            ))
        })?
        .to_string();
    let tls_dir = docker_config.join("contexts/tls").join(&id).join("docker");
    let tls = tls_dir.join("ca.pem").exists().then(|| TlsFiles {
        ca: tls_dir.join("ca.pem"),
        cert: tls_dir.join("cert.pem"),
        key: tls_dir.join("key.pem"),
    });
    endpoint(host, format!("docker context `{name}` ({chosen_by})"), tls)
}

/// The docker CLI's config directory: `$DOCKER_CONFIG`, else `~/.docker`.
pub fn docker_config_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".docker")
}

/// robodev's per-user config file: `$ROBODEV_CONFIG_DIR/config.yaml` (default
/// `~/.config/robodev/config.yaml`). Never part of the team's committed profile.
pub fn user_config_file() -> Option<PathBuf> {
    std::env::var_os("ROBODEV_CONFIG_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "robodev").map(|d| d.config_dir().to_path_buf())
        })
        .map(|d| d.join("config.yaml"))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UserConfig {
    engine: Option<String>,
}

/// `engine:` from the user's robodev config, with the file it came from.
pub fn user_engine() -> Result<Option<(String, PathBuf)>> {
    let Some(file) = user_config_file() else {
        return Ok(None);
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io_path("read", &file, e)),
    };
    let config: UserConfig = serde_saphyr::from_str(&text).map_err(|e| {
        Error::usage_with_help(
            format!("{}: {e}", file.display()),
            "the file holds `engine: URL` (unix://, tcp://, ssh://)",
        )
    })?;
    Ok(config.engine.map(|e| (e, file)))
}

/// The engine to use for this process: `flag` (`--host`) first, then the environment and files.
pub fn current(flag: Option<&str>) -> Result<Endpoint> {
    let env = |k: &str| std::env::var(k).ok();
    resolve(&Sources {
        flag,
        env: &env,
        docker_config: docker_config_dir(),
        robodev_engine: user_engine()?,
    })
}

/// The engine to use, by the docker CLI's precedence.
pub fn resolve(s: &Sources<'_>) -> Result<Endpoint> {
    let env = s.env;
    let tls = env_tls(env, &s.docker_config);
    if let Some(host) = s.flag {
        return endpoint(host.to_string(), "--host".into(), tls);
    }
    if let Some(host) = env("DOCKER_HOST").filter(|h| !h.is_empty()) {
        return endpoint(host, "DOCKER_HOST".into(), tls);
    }
    if let Some(name) = env("DOCKER_CONTEXT").filter(|c| !c.is_empty() && c != "default") {
        return context_endpoint(&s.docker_config, &name, "DOCKER_CONTEXT");
    }
    if let Some((url, file)) = &s.robodev_engine {
        return endpoint(url.clone(), format!("engine: in {}", file.display()), tls);
    }
    let config = s.docker_config.join("config.json");
    if let Ok(text) = std::fs::read_to_string(&config)
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(&text)
        && let Some(name) = value["currentContext"].as_str().filter(|c| *c != "default")
    {
        return context_endpoint(&s.docker_config, name, "docker context use");
    }
    endpoint(DEFAULT_SOCKET.into(), "the default".into(), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve_with(
        flag: Option<&str>,
        vars: &[(&str, &str)],
        dir: &Path,
        robodev: Option<&str>,
    ) -> Result<Endpoint> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env = move |k: &str| vars.get(k).cloned();
        resolve(&Sources {
            flag,
            env: &env,
            docker_config: dir.to_path_buf(),
            robodev_engine: robodev.map(|u| (u.to_string(), PathBuf::from("config.yaml"))),
        })
    }

    fn context(dir: &Path, name: &str, host: &str, tls: bool) {
        let id = hex::encode(Sha256::digest(name.as_bytes()));
        let meta = dir.join("contexts/meta").join(&id);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            format!(
                r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
            ),
        )
        .unwrap();
        if tls {
            let t = dir.join("contexts/tls").join(&id).join("docker");
            std::fs::create_dir_all(&t).unwrap();
            std::fs::write(t.join("ca.pem"), "").unwrap();
        }
    }

    #[test]
    fn the_docker_clis_precedence() {
        let dir = tempfile::tempdir().unwrap();
        context(dir.path(), "robot", "ssh://robot@rover.local", false);
        context(dir.path(), "farm", "tcp://farm.lab:2376", true);
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"currentContext":"robot"}"#,
        )
        .unwrap();

        let e = resolve_with(None, &[], dir.path(), None).unwrap();
        assert_eq!(e.url, "ssh://robot@rover.local");
        assert_eq!(e.transport, Transport::Ssh);
        assert!(e.chosen_by.contains("docker context use"));
        assert!(!e.is_local());

        let e = resolve_with(None, &[], dir.path(), Some("unix:///run/podman.sock")).unwrap();
        assert_eq!(e.url, "unix:///run/podman.sock");
        assert!(e.chosen_by.contains("config.yaml"));

        let e = resolve_with(
            None,
            &[("DOCKER_CONTEXT", "farm")],
            dir.path(),
            Some("x://y"),
        );
        let e = e.unwrap();
        assert_eq!(e.url, "tcp://farm.lab:2376");
        assert!(e.tls.unwrap().ca.ends_with("docker/ca.pem"));

        let e = resolve_with(
            None,
            &[
                ("DOCKER_HOST", "tcp://127.0.0.1:2376"),
                ("DOCKER_CONTEXT", "farm"),
            ],
            dir.path(),
            None,
        )
        .unwrap();
        assert_eq!(
            (e.url.as_str(), e.chosen_by.as_str()),
            ("tcp://127.0.0.1:2376", "DOCKER_HOST")
        );
        assert!(e.is_local());
        assert!(e.tls.is_none());

        let e = resolve_with(
            Some("ssh://me@build-server:2222"),
            &[("DOCKER_HOST", "tcp://127.0.0.1:2376")],
            dir.path(),
            None,
        )
        .unwrap();
        assert_eq!(e.chosen_by, "--host");

        let e = resolve_with(
            None,
            &[
                ("DOCKER_HOST", "tcp://127.0.0.1:2376"),
                ("DOCKER_TLS_VERIFY", "1"),
                ("DOCKER_CERT_PATH", "/certs"),
            ],
            dir.path(),
            None,
        )
        .unwrap();
        assert_eq!(e.tls.unwrap().cert, PathBuf::from("/certs/cert.pem"));

        std::fs::remove_file(dir.path().join("config.json")).unwrap();
        let e = resolve_with(None, &[], dir.path(), None).unwrap();
        assert_eq!(e.url, DEFAULT_SOCKET);
        assert!(e.is_local());
    }

    #[test]
    fn unknown_schemes_and_contexts_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = resolve_with(Some("ftp://x"), &[], dir.path(), None).unwrap_err();
        assert!(e.to_string().contains("ftp://x"), "{e}");
        let e = resolve_with(None, &[("DOCKER_CONTEXT", "nope")], dir.path(), None).unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
    }
}

//! `robodev login REGISTRY`: check a username and password with the registry (through the
//! engine), then keep them where `docker login` does, so robodev, docker and every other
//! tool reading Docker's config find them. The password is read without echo or from stdin,
//! and is never printed, logged or written anywhere but that file.

use super::session::Session;
use crate::error::{Error, RegistryProblem, Result};
use crate::facts::credentials::{RegistryAuth, config_key, registry_host};
use crate::files::AtomicFile;
use crate::ui::shown_path;
use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Docker's config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
fn docker_config() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("config.json"));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Error::usage("HOME is not set: cannot find ~/.docker/config.json"))?;
    Ok(PathBuf::from(home).join(".docker/config.json"))
}

/// The config with `registry`'s credential added as `docker login` adds it without a helper.
/// An error when the config keeps credentials in a helper: robodev does not talk to helpers
/// to store (docker login does).
pub fn with_login(config: Value, registry: &str, user: &str, password: &str) -> Result<Value> {
    let mut config = match config {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        _ => return Err(Error::usage("the Docker config is not a JSON object")),
    };
    let key = config_key(registry);
    let helper = config
        .get("credHelpers")
        .and_then(|h| h.get(key).or_else(|| h.get(registry)))
        .or_else(|| config.get("credsStore"))
        .and_then(Value::as_str)
        .filter(|h| !h.is_empty());
    if let Some(helper) = helper {
        return Err(Error::usage_with_help(
            format!(
                "your Docker config keeps credentials for {registry} in the helper \
                 docker-credential-{helper}; robodev does not store them there itself"
            ),
            format!("run `docker login {registry}`: robodev reads what it stores"),
        ));
    }
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let auths = config
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()));
    if !auths.is_object() {
        *auths = Value::Object(Map::new());
    }
    if let Some(auths) = auths.as_object_mut() {
        auths.insert(key.to_string(), json!({ "auth": auth }));
    }
    Ok(Value::Object(config))
}

fn ask_user(user: Option<String>) -> Result<String> {
    if let Some(u) = user.filter(|u| !u.is_empty()) {
        return Ok(u);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::usage("no username: pass --username (-u)"));
    }
    dialoguer::Input::<String>::new()
        .with_prompt("Username")
        .interact_text()
        .map_err(|_| Error::Cancelled)
}

fn ask_password(from_stdin: bool) -> Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Error::io("cannot read the password from standard input", e))?;
        let password = line.trim_end_matches(['\n', '\r']).to_string();
        if password.is_empty() {
            return Err(Error::usage("standard input held no password"));
        }
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::usage_with_help(
            "no terminal to ask for the password",
            "pipe it: `echo \"$TOKEN\" | robodev login REGISTRY -u USER --password-stdin`",
        ));
    }
    dialoguer::Password::new()
        .with_prompt("Password")
        .interact()
        .map_err(|_| Error::Cancelled)
}

/// `robodev login [REGISTRY] [-u USER] [--password-stdin]`.
pub async fn login(
    s: &Session,
    registry: Option<String>,
    user: Option<String>,
    password_stdin: bool,
) -> Result<i32> {
    // Without a name: the registry of the workspace's profile.
    let (registry, probe) = match registry {
        Some(r) => {
            let host = registry_host(&format!("{}/x", r.trim_end_matches('/'))).to_string();
            (host.clone(), format!("{host}/robodev/login-check:robodev"))
        }
        None => {
            let profile = s.profile(None)?;
            let named = profile.registry.clone().ok_or_else(|| {
                Error::usage_with_help(
                    format!("profile {} names no registry", profile.name),
                    "name one: `robodev login ghcr.io`, or add `registry:` to the profile",
                )
            })?;
            (
                registry_host(&named).to_string(),
                format!("{named}/{}:robodev-login-check", profile.name),
            )
        }
    };
    let user = ask_user(user)?;
    let password = ask_password(password_stdin)?;
    let engine = s.engine().await?;
    let auth = RegistryAuth::Password {
        username: user.clone(),
        password: password.clone(),
    };
    // Asking for a manifest that need not exist: "unknown" means the credentials were taken.
    match engine.registry_digest(&probe, Some(&auth)).await {
        Ok(_) => {}
        Err(Error::Registry {
            problem: RegistryProblem::Missing,
            ..
        }) => {}
        Err(Error::Registry {
            problem: RegistryProblem::Unauthorized,
            ..
        }) => {
            return Err(Error::Registry {
                problem: RegistryProblem::Unauthorized,
                action: format!("cannot log in to {registry}"),
                message: format!("the registry refused the username {user} and its password"),
                help: Some("check them (a token may have expired); nothing was saved".into()),
            });
        }
        Err(e) => return Err(e),
    }
    let path = docker_config()?;
    let current: Value = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| Error::usage(format!("{} is not valid JSON: {e}", shown_path(&path))))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Value::Null,
        Err(e) => return Err(Error::io_path("read", &path, e)),
    };
    let updated = with_login(current, &registry, &user, &password)?;
    let text = serde_json::to_string_pretty(&updated).unwrap_or_default();
    // Readable by its owner only, as docker writes it.
    let mut file = AtomicFile::create(&path, 0o600)?;
    file.write_all(format!("{text}\n").as_bytes())
        .map_err(|e| Error::io_path("write", &path, e))?;
    file.commit()?;
    s.ui.success(format!(
        "logged in to {registry} as {user}; saved in {} (where docker login keeps it)",
        shown_path(&path)
    ));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_is_added_beside_what_the_config_holds() {
        let config = json!({"auths": {"ghcr.io": {"auth": "eA=="}}, "psFormat": "table"});
        let updated = with_login(config, "localhost:5000", "alice", "s3cret").unwrap();
        assert_eq!(updated["psFormat"], "table");
        assert_eq!(updated["auths"]["ghcr.io"]["auth"], "eA==");
        assert_eq!(
            updated["auths"]["localhost:5000"]["auth"],
            "YWxpY2U6czNjcmV0"
        );
        let hub = with_login(Value::Null, "docker.io", "bob", "pw").unwrap();
        assert!(
            hub["auths"]["https://index.docker.io/v1/"].is_object(),
            "{hub}"
        );
    }

    #[test]
    fn a_credential_helper_is_left_to_docker_login() {
        let config = json!({"credsStore": "desktop"});
        let err = with_login(config, "ghcr.io", "a", "b").unwrap_err();
        assert!(
            err.to_string().contains("docker-credential-desktop"),
            "{err}"
        );
        let config = json!({"credHelpers": {"ghcr.io": "gh"}});
        assert!(with_login(config.clone(), "ghcr.io", "a", "b").is_err());
        assert!(with_login(config, "localhost:5000", "a", "b").is_ok());
    }
}

//! A build secret's value, read from where the profile says it is on this machine: an
//! environment variable or a file. Read only when a build needs it, and never shown.

use crate::error::{Error, Result};
use crate::profile::secrets::{BuildSecret, SecretSource};

/// The values of `secrets`, by id; the first missing one is an error naming its variable or
/// file (and the profile's id), before any build.
pub fn read_all(secrets: &[BuildSecret]) -> Result<Vec<(String, Vec<u8>)>> {
    secrets
        .iter()
        .map(|s| read(s).map(|value| (s.id.clone(), value)))
        .collect()
}

/// What `ssh: true` needs from this machine: the agent's socket (`SSH_AUTH_SOCK`) and the hosts
/// ssh trusts (`~/.ssh/known_hosts`: the build's git checks the server's key against them).
pub fn ssh_for_build() -> Result<(std::path::PathBuf, Vec<u8>)> {
    let agent = std::env::var_os("SSH_AUTH_SOCK")
        .map(std::path::PathBuf::from)
        .filter(|p| {
            std::fs::metadata(p)
                .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
        })
        .ok_or_else(|| {
            Error::usage_with_help(
                "the profile has `ssh: true`, but no ssh agent is running here (SSH_AUTH_SOCK is not set to a socket)",
                "start one and add your key: `eval \"$(ssh-agent)\"; ssh-add` (the key stays in the agent; the build only asks it to sign)",
            )
        })?;
    let path = crate::paths::expand_home("~/.ssh/known_hosts");
    let known_hosts = std::fs::read(&path).map_err(|e| {
        Error::usage_with_help(
            format!(
                "`ssh: true`: cannot read {} ({e}), the hosts the build may reach over ssh",
                path.display()
            ),
            "connect to the git host once with ssh (`ssh -T git@HOST`) so that its key is known",
        )
    })?;
    Ok((agent, known_hosts))
}

fn read(secret: &BuildSecret) -> Result<Vec<u8>> {
    let missing = |what: String, help: String| {
        Error::usage_with_help(format!("build secret `{}`: {what}", secret.id), help)
    };
    match &secret.source {
        SecretSource::Env(name) => match std::env::var_os(name) {
            Some(v) if !v.is_empty() => Ok(v.into_encoded_bytes()),
            _ => Err(missing(
                format!("the environment variable {name} is not set"),
                format!("set {name} to the secret's value in this shell (never in the profile)"),
            )),
        },
        SecretSource::File(file) => {
            let path = crate::paths::expand_home(file);
            std::fs::read(&path).map_err(|e| {
                missing(
                    format!("cannot read {}: {e}", path.display()),
                    format!("put the secret's value in {}", path.display()),
                )
            })
        }
    }
}

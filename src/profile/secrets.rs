//! `secrets:` and `apt_repositories:` — what a build needs from a private package source.
//!
//! A secret is an id and where its value is on the developer's machine (an environment variable
//! or a file), never the value: the profile is shared, the value is not. It is handed to
//! BuildKit through the build session and mounted only into the steps that use it
//! (`for: apt` → `/etc/apt/auth.conf.d/`, `for: pip` → pip's index URL). Its id is part of the
//! Dockerfile, and so of the image's hash; its value is in no layer, history entry, config or
//! log.

use super::raw::RawProfile;
use super::sourced::Sourced;
use crate::error::{Error, Result};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BuildSecret {
    pub id: String,
    pub source: SecretSource,
    pub used_for: SecretUse,
}

/// Where a secret's value is, on the machine robodev runs on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum SecretSource {
    /// An environment variable's name.
    Env(String),
    /// A file, as written (`~` allowed); read when a build needs it.
    File(String),
}

/// What the build does with a secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretUse {
    /// apt's credentials (`machine HOST login USER password PASS`), in every apt step.
    Apt,
    /// pip's index URL with its credentials (`https://USER:TOKEN@HOST/simple`), in pip steps.
    Pip,
}

impl SecretUse {
    pub const NAMES: [&'static str; 2] = ["apt", "pip"];
}

fn bad<T>(v: &Sourced<T>, field: String, message: impl Into<String>) -> Error {
    Error::profile(v.pos.clone(), field, message, None)
}

/// `[a-z0-9_-]`, 1–64 characters: it names a BuildKit secret and a file in
/// `/etc/apt/auth.conf.d`.
pub fn secret_id(s: &str) -> std::result::Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a secret id: use 1–64 of a-z, 0-9, `_` and `-`"
        ))
    }
}

pub fn secrets(raw: &RawProfile) -> Result<Vec<BuildSecret>> {
    let mut out: Vec<BuildSecret> = Vec::new();
    for (i, s) in raw.secrets.iter().enumerate() {
        let field = format!("secrets[{i}]");
        let v = &s.value;
        secret_id(&v.id).map_err(|m| bad(s, format!("{field}.id"), m))?;
        if out.iter().any(|o| o.id == v.id) {
            return Err(bad(
                s,
                format!("{field}.id"),
                format!("secret `{}` is declared twice", v.id),
            ));
        }
        let source = match (&v.env, &v.file) {
            (Some(env), None) => {
                super::grammar::env_name(env).map_err(|m| bad(s, format!("{field}.env"), m))?;
                SecretSource::Env(env.clone())
            }
            (None, Some(file)) => {
                if file.is_empty() || file.chars().any(char::is_control) {
                    return Err(bad(s, format!("{field}.file"), "not a file path"));
                }
                SecretSource::File(file.clone())
            }
            _ => {
                return Err(bad(
                    s,
                    field,
                    "give exactly one of `env:` (an environment variable) or `file:` (a file on \
                     this machine) — never the value itself",
                ));
            }
        };
        let used_for = match v.used_for.as_deref() {
            Some("apt") => SecretUse::Apt,
            Some("pip") => SecretUse::Pip,
            other => {
                return Err(bad(
                    s,
                    format!("{field}.for"),
                    format!(
                        "`for:` is one of {} (got {})",
                        SecretUse::NAMES.join(", "),
                        other.map_or("nothing".to_string(), |o| format!("`{o}`"))
                    ),
                ));
            }
        };
        out.push(BuildSecret {
            id: v.id.clone(),
            source,
            used_for,
        });
    }
    if let Some(second) = raw
        .secrets
        .iter()
        .filter(|s| s.value.used_for.as_deref() == Some("pip"))
        .nth(1)
    {
        return Err(bad(
            second,
            "secrets".to_string(),
            "one secret can be pip's index (`for: pip`); this is a second",
        ));
    }
    Ok(out)
}

/// `apt_repositories:` — one-line apt sources (`deb [signed-by=…] URL SUITE COMPONENT…`),
/// written to `/etc/apt/sources.list.d/robodev.list` before robodev's first apt step. A URL
/// with credentials in it is refused: they belong in a `secrets:` entry `for: apt`.
pub fn apt_repositories(raw: &RawProfile) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (i, r) in raw.apt_repositories.iter().enumerate() {
        let field = format!("apt_repositories[{i}]");
        let line = r.value.trim();
        if line.chars().any(char::is_control) {
            return Err(bad(r, field, "an apt source is one line"));
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() != Some(&"deb") || words.len() < 3 {
            return Err(bad(
                r,
                field,
                "an apt source reads `deb [OPTIONS] URL SUITE [COMPONENT…]`",
            ));
        }
        if words.iter().any(|w| super::grammar::has_credentials(w)) {
            return Err(bad(
                r,
                field,
                "credentials in a repository URL would be written into the image; put them in \
                 a `secrets:` entry with `for: apt` (apt's auth.conf format)",
            ));
        }
        out.push(words.join(" "));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_ids() {
        assert!(secret_id("team_apt-1").is_ok());
        assert!(secret_id("").is_err());
        assert!(secret_id("a b").is_err());
        assert!(secret_id("../x").is_err());
        assert!(secret_id("A").is_err());
        assert!(secret_id(&"a".repeat(65)).is_err());
    }
}

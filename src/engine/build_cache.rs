//! robodev's BuildKit cache: the cache mounts its Dockerfiles declare (apt's lists and `.deb`s,
//! pip's cache, ccache), how much they hold, and pruning them — never anything else in the
//! engine's build cache.
//!
//! A cache mount's record names its mount target and the command of the step
//! (`cached mount /var/cache/robodev-apt from exec /bin/sh -eu -c apt-get update …`): robodev's
//! targets are its own (`/var/cache/robodev-*`, `/root/.cache/robodev-*`), and its apt lists'
//! mount is on a step that also mounts `/var/cache/robodev-apt`.

use super::build_session::connect;
use super::connection::BollardEngine;
use super::errors::api_error;
use crate::error::{Error, Result};
use hyper_util::rt::TokioIo;
use serde::Deserialize;

/// What robodev's build cache holds on an engine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildCacheUsage {
    /// The cache records (one per cache mount instance).
    pub ids: Vec<String>,
    pub bytes: u64,
}

#[derive(Deserialize)]
struct DiskUsage {
    #[serde(rename = "BuildCache", default)]
    build_cache: Option<Vec<CacheRecord>>,
}

#[derive(Deserialize)]
struct CacheRecord {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Type", default)]
    kind: String,
    #[serde(rename = "Description", default)]
    description: String,
    #[serde(rename = "Size", default)]
    size: i64,
}

/// Whether a build-cache record is one of robodev's cache mounts.
pub fn is_robodevs(kind: &str, description: &str) -> bool {
    if kind != "exec.cachemount" {
        return false;
    }
    let Some(rest) = description.strip_prefix("cached mount ") else {
        return false;
    };
    let (target, command) = rest.split_once(" from exec ").unwrap_or((rest, ""));
    target.starts_with("/var/cache/robodev-")
        || target.starts_with("/root/.cache/robodev-")
        || (target == "/var/lib/apt/lists" && command.contains("/var/cache/robodev-apt/"))
}

impl BollardEngine {
    /// robodev's cache mounts in the engine's build cache (none on an engine without
    /// BuildKit: Podman's buildah keeps its cache mounts where its API does not reach).
    pub async fn build_cache(&self) -> Result<BuildCacheUsage> {
        // bollard's `df` reads the newer answer only (`BuildCacheUsage`); Docker 20.10 and
        // 26.1 answer `BuildCache`: read it as they write it.
        let body = get(self, "/system/df?type=build-cache").await?;
        let usage: DiskUsage = serde_json::from_slice(&body).map_err(|e| Error::Engine {
            action: "cannot read the engine's build cache".into(),
            message: e.to_string(),
            help: None,
        })?;
        let mut out = BuildCacheUsage::default();
        for r in usage.build_cache.unwrap_or_default() {
            if is_robodevs(&r.kind, &r.description) {
                out.bytes += r.size.max(0) as u64;
                out.ids.push(r.id);
            }
        }
        Ok(out)
    }

    /// Prune these records of the build cache; the bytes the engine says it reclaimed.
    pub async fn prune_build_cache(&self, ids: &[String]) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        // The engine takes one value per filter: one prune per record.
        let mut reclaimed = 0;
        for id in ids {
            let filters = std::collections::HashMap::from([("id".to_string(), vec![id.clone()])]);
            let options = bollard::query_parameters::PruneBuildOptions {
                filters: Some(filters),
                all: Some(true),
                ..Default::default()
            };
            let pruned = self
                .docker
                .prune_build(Some(options))
                .await
                .map_err(|e| api_error("prune robodev's build cache", e))?;
            reclaimed += pruned.space_reclaimed.unwrap_or(0).max(0) as u64;
        }
        Ok(reclaimed)
    }
}

/// A GET on the engine's API, its body.
async fn get(engine: &BollardEngine, path: &str) -> Result<Vec<u8>> {
    use http_body_util::BodyExt;
    let failed = |m: String| Error::Engine {
        action: format!("GET {path}"),
        message: m,
        help: None,
    };
    let stream = connect(&engine.endpoint).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| failed(e.to_string()))?;
    tokio::spawn(connection);
    let request = hyper::Request::builder()
        .uri(path)
        .header("Host", "docker")
        .body(String::new())
        .map_err(|e| failed(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| failed(e.to_string()))?
        .to_bytes();
    if !status.is_success() {
        return Err(failed(format!(
            "{status}: {}",
            String::from_utf8_lossy(&body).trim()
        )));
    }
    Ok(body.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robodevs_cache_mounts_are_known_by_their_targets() {
        let apt = "/bin/sh -eu -c apt-get update  && apt-get install -y -o Dir::Cache::Archives=/var/cache/robodev-apt/ tree";
        assert!(is_robodevs(
            "exec.cachemount",
            &format!("cached mount /var/lib/apt/lists from exec {apt}")
        ));
        assert!(is_robodevs(
            "exec.cachemount",
            &format!("cached mount /var/cache/robodev-apt from exec {apt}")
        ));
        assert!(is_robodevs(
            "exec.cachemount",
            "cached mount /root/.cache/robodev-pip from exec /bin/sh -c pip install x"
        ));
        assert!(is_robodevs(
            "exec.cachemount",
            "cached mount /var/cache/robodev-ccache from exec /bin/sh -c colcon build"
        ));
        // Someone else's apt cache, and anything that is not a cache mount.
        assert!(!is_robodevs(
            "exec.cachemount",
            "cached mount /var/lib/apt/lists from exec /bin/sh -c apt-get update"
        ));
        assert!(!is_robodevs(
            "regular",
            "cached mount /var/cache/robodev-apt from exec x"
        ));
        assert!(!is_robodevs("exec.cachemount", "local source for context"));
    }
}

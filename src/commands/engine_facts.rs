//! The engine's facts (`/info` and `/version`: Podman or Docker, rootless, runtimes, CDI), kept
//! per engine in robodev's state dir while the engine runs: on Podman 5 the two calls cost
//! 150–230 ms, every command that plans needs them on any engine but the default socket, and
//! they change only when the engine restarts — which makes a new socket. So for an engine on a
//! unix socket the kept facts are used while the socket is the same file (inode and change
//! time); any other engine is asked each time.

use crate::engine::Engine;
use crate::error::Result;
use crate::facts::EngineFacts;
use crate::facts::endpoint::Transport;
use serde::{Deserialize, Serialize};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

#[derive(Serialize, Deserialize)]
struct Kept {
    url: String,
    socket: (u64, i64, i64),
    facts: EngineFacts,
}

/// The socket file's identity: a restarted engine makes a new one.
fn socket_identity(url: &str) -> Option<(u64, i64, i64)> {
    let path = url.strip_prefix("unix://").unwrap_or(url);
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.ino(), meta.ctime(), meta.ctime_nsec()))
}

fn kept_file(url: &str) -> PathBuf {
    use sha2::{Digest, Sha256};
    let key = hex::encode(Sha256::digest(url.as_bytes()));
    crate::facts::host::state_dir()
        .join("engines")
        .join(format!("{}.json", &key[..16]))
}

/// The engine's facts: kept ones while its socket is the same, else asked (and kept).
pub async fn of(engine: &dyn Engine) -> Result<EngineFacts> {
    let endpoint = engine.endpoint();
    let socket = match endpoint.transport {
        Transport::Unix => socket_identity(&endpoint.url),
        _ => None,
    };
    let Some(socket) = socket else {
        return engine.facts().await;
    };
    let file = kept_file(&endpoint.url);
    if let Some(kept) = std::fs::read_to_string(&file)
        .ok()
        .and_then(|text| serde_json::from_str::<Kept>(&text).ok())
        .filter(|k| k.url == endpoint.url && k.socket == socket)
    {
        return Ok(kept.facts);
    }
    let facts = engine.facts().await?;
    let kept = Kept {
        url: endpoint.url.clone(),
        socket,
        facts: facts.clone(),
    };
    // Keeping them is an optimisation: a state dir that cannot be written costs only time.
    if let Ok(text) = serde_json::to_string(&kept) {
        let _ = crate::files::write_atomic(&file, &text);
    }
    Ok(facts)
}

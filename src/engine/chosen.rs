//! Which engine this process uses: the CLI's `--host`, set once before any command runs, and
//! the address connected to, for every message that names the engine.

use crate::error::Result;
use crate::facts::endpoint::{self, Endpoint};
use std::sync::OnceLock;

/// `--host`, set once by the CLI before any command runs.
static HOST_FLAG: OnceLock<Option<String>> = OnceLock::new();
/// The endpoint this process connected to, for messages.
pub(super) static CONNECTED: OnceLock<String> = OnceLock::new();

/// Use `host` (the global `--host`) instead of the environment's choice.
pub fn use_host(host: Option<String>) {
    let _ = HOST_FLAG.set(host);
}

/// The engine this process talks to, and why (for `doctor` and `status`).
pub fn current_endpoint() -> Result<Endpoint> {
    endpoint::current(HOST_FLAG.get().and_then(|h| h.as_deref()))
}

/// Where the engine is, for messages: the one connected to, else the one chosen.
pub(crate) fn address() -> String {
    CONNECTED
        .get()
        .cloned()
        .or_else(|| current_endpoint().ok().map(|e| e.url))
        .unwrap_or_else(|| endpoint::DEFAULT_SOCKET.into())
}

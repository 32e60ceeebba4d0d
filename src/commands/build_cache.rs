//! robodev's BuildKit cache (its apt, pip and ccache cache mounts): how much it holds, which
//! `robodev clean` says, and `robodev clean --build-cache`, which prunes it — and nothing else
//! of the engine's build cache.

use super::session::Session;
use crate::error::Result;
use indicatif::HumanBytes;

/// `clean --build-cache` prunes; a plain `clean` says how much the cache holds.
pub async fn clean(s: &Session, prune: bool, dry_run: bool) -> Result<()> {
    let engine = s.engine().await?;
    let facts = super::engine_facts::of(engine).await?;
    if !facts.buildkit {
        if prune {
            s.ui.info(
                "this engine builds without BuildKit: no build cache of robodev's to prune \
                 (Podman's buildah keeps its cache mounts in its own storage, which its API does \
                 not reach)",
            );
        }
        return Ok(());
    }
    let usage = engine.build_cache().await?;
    let held = HumanBytes(usage.bytes);
    let mounts = usage.ids.len();
    if mounts == 0 {
        if prune {
            s.ui.info("robodev's build cache is empty");
        }
        return Ok(());
    }
    if !prune {
        s.ui.info(format!(
            "robodev's build cache holds {held} in {mounts} cache mounts (apt, pip, ccache); \
             `robodev clean --build-cache` prunes it"
        ));
        return Ok(());
    }
    if dry_run {
        s.ui.info(format!(
            "would prune robodev's build cache: {held} in {mounts} cache mounts"
        ));
        return Ok(());
    }
    let reclaimed = engine.prune_build_cache(&usage.ids).await?;
    s.ui.success(format!(
        "pruned robodev's build cache: it held {held} in {mounts} cache mounts, {} reclaimed",
        HumanBytes(reclaimed)
    ));
    Ok(())
}

//! `robodev sync [--pull PATH…]`: the workspace's copy in a volume on a remote engine
//! (`workspace: {sync: true}`). Pushing sends only what changed since the last sync (by content
//! hash, `.dockerignore` and build/ install/ log/ .git left out) and deletes what is gone;
//! pulling brings files back (build results, bags). `up` pushes before it returns.

use super::session::Session;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::facts::{host, sources};
use crate::plan::Plan;
use crate::plan::sync::{SyncRecord, changes, record_of, tar_of};
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

fn record_file(container: &str) -> PathBuf {
    host::state_dir()
        .join("sync")
        .join(format!("{container}.json"))
}

fn read_record(container: &str) -> SyncRecord {
    std::fs::read_to_string(record_file(container))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn write_record(container: &str, record: &SyncRecord) -> Result<()> {
    let text = serde_json::to_string(record).unwrap_or_default();
    crate::files::write_atomic(&record_file(container), &text)
}

/// Forget what the remote copy held (its volume is new or gone).
pub fn forget(container: &str) {
    let _ = std::fs::remove_file(record_file(container));
}

/// Whether the plan keeps a synced copy of the workspace (a remote engine, `sync: true`).
pub fn is_synced(plan: &Plan) -> bool {
    plan.container
        .volumes
        .iter()
        .any(|v| v.name == plan.container.workspace_host)
}

/// Send what changed to the running container's workspace volume.
pub async fn push(s: &Session, engine: &dyn Engine, plan: &Plan) -> Result<()> {
    let c = &plan.container;
    let started = Instant::now();
    let root = &s.workspace.root;
    let scan = sources::scan(root, &[host::state_dir().as_path()])?;
    let record = read_record(&c.name);
    let first = record.is_empty();
    let todo = changes(&record, &scan);
    let mut bytes = 0;
    // Sent when anything changed, and the first time (the copy's root becomes the user's).
    if !todo.send.is_empty() || first {
        let target = Path::new(&c.workspace_target);
        let (parent, top) = match (target.parent(), target.file_name()) {
            (Some(p), Some(t)) => (p.display().to_string(), t.to_string_lossy().into_owned()),
            _ => {
                return Err(Error::usage(format!(
                    "the workspace is mounted at {}: sync needs a directory below /",
                    c.workspace_target
                )));
            }
        };
        let archive = tar_of(root, &top, &todo.send, c.user.uid, c.user.gid)
            .map_err(|e| Error::io_path("read", root, e))?;
        bytes = archive.len();
        engine.upload(&c.name, &parent, archive).await?;
    }
    if !todo.delete.is_empty() {
        let mut cmd = vec!["rm".to_string(), "-f".into(), "--".into()];
        cmd.extend(
            todo.delete
                .iter()
                .map(|p| format!("{}/{p}", c.workspace_target)),
        );
        let code = engine.exec_quiet(&c.name, &c.user_spec(), cmd).await?;
        if code != 0 {
            s.ui.warn(format!(
                "removing deleted files in {} exited with {code}",
                c.name
            ));
        }
    }
    write_record(&c.name, &record_of(&scan))?;
    s.ui.success(format!(
        "synced the workspace to {}: {} file(s) sent ({}), {} deleted, {} unchanged, in {:.2}s",
        engine.endpoint().url,
        todo.send.len(),
        indicatif::HumanBytes(bytes as u64),
        todo.delete.len(),
        scan.len() - todo.send.len(),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// A path inside the workspace, as given on the command line: relative, no `..`.
fn workspace_path(path: &str) -> Result<PathBuf> {
    let p = Path::new(path.trim_end_matches('/'));
    let ok = !path.is_empty()
        && p.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if ok {
        Ok(p.to_path_buf())
    } else {
        Err(Error::usage(format!(
            "--pull {path}: name a path inside the workspace, relative to its root (no `..`)"
        )))
    }
}

/// Bring `paths` back from the remote copy into the local workspace.
pub async fn pull(s: &Session, engine: &dyn Engine, plan: &Plan, paths: &[String]) -> Result<()> {
    let c = &plan.container;
    let root = &s.workspace.root;
    for path in paths {
        let rel = workspace_path(path)?;
        let archive = engine
            .download(
                &c.name,
                &format!("{}/{}", c.workspace_target, rel.display()),
            )
            .await?;
        let into = root.join(rel.parent().unwrap_or(Path::new("")));
        std::fs::create_dir_all(&into).map_err(|e| Error::io_path("create", &into, e))?;
        let mut tar = tar::Archive::new(archive.as_slice());
        tar.set_preserve_permissions(true);
        // `unpack` refuses entries that would land outside `into` (absolute, `..`).
        tar.unpack(&into)
            .map_err(|e| Error::io_path("write", &into, e))?;
        s.ui.success(format!(
            "pulled {} into {}",
            rel.display(),
            crate::ui::shown_path(&root.join(&rel))
        ));
    }
    // What came back is what the remote holds: not to be sent again.
    let scan = sources::scan(root, &[host::state_dir().as_path()])?;
    let mut record = read_record(&c.name);
    for f in &scan {
        if paths
            .iter()
            .any(|p| f.path == *p || f.path.starts_with(&format!("{}/", p.trim_end_matches('/'))))
        {
            record.insert(f.path.clone(), f.sha256.clone());
        }
    }
    write_record(&c.name, &record)
}

/// `robodev sync [PROFILE] [--pull PATH…]`.
pub async fn sync(s: &Session, reference: Option<&str>, pull_paths: Vec<String>) -> Result<i32> {
    let profile = s.profile(reference)?;
    let engine = s.engine().await?;
    let plan = s.plan_recent(&profile, Some(engine)).await?;
    if !is_synced(&plan) {
        return Err(Error::usage_with_help(
            format!(
                "the workspace of {} is not synced: {}",
                profile.name,
                if engine.is_local() {
                    "the engine is on this machine, which mounts the workspace itself"
                } else {
                    "the profile does not ask for it"
                }
            ),
            "on a remote engine, add `workspace: {sync: true}` to the profile",
        ));
    }
    let running = engine
        .find_container(&plan.container.name)
        .await?
        .is_some_and(|c| c.running);
    if !running {
        return Err(Error::usage_with_help(
            format!("{} is not running", plan.container.name),
            "`robodev up -d` starts it (and syncs)",
        ));
    }
    if pull_paths.is_empty() {
        push(s, engine, &plan).await?;
    } else {
        pull(s, engine, &plan, &pull_paths).await?;
    }
    Ok(0)
}

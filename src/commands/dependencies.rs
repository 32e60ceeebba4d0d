//! The workspace's rosdep dependencies: the `dependencies` section of robodev.lock kept in step
//! with the workspace's package.xml files (resolve when it is missing or stale, say so; with
//! `--locked`, fail with the difference instead, as cargo does), and `robodev deps`.

use super::lock_mode::LockMode;
use super::session::{Session, ensure_image};
use crate::cli::BuildFlags;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::facts::HostFacts;
use crate::facts::package_xml;
use crate::lockfile::LockFile;
use crate::lockfile::dependencies::LockedDependencies;
use crate::plan::dependencies::{
    self as deps, HostRosdep, WantedKeys, basis, difference, parse_resolution, unresolved_error,
    wanted_keys,
};
use crate::plan::render::Renderer;
use crate::profile::Profile;
use crate::ui::print_out;
use std::path::Path;

/// The keys the workspace wants for `profile`.
pub fn wanted(s: &Session, profile: &Profile) -> Result<WantedKeys> {
    let manifests = package_xml::scan(&s.workspace.root)?;
    wanted_keys(&manifests, profile, &s.workspace.root)
}

/// What differs between the workspace's wanted keys and the lock (nothing when neither has
/// any).
pub fn basis_difference(
    wanted: &WantedKeys,
    profile: &Profile,
    locked: Option<&LockedDependencies>,
) -> Vec<String> {
    if wanted.is_empty() && locked.is_none() {
        return Vec::new();
    }
    difference(wanted, &basis(profile), locked)
}

/// Make `lock` hold `profile`'s dependencies as the workspace declares them now (the caller
/// writes it). Returns whether the lock's content changed. A workspace that declares no
/// dependencies gets no lock file.
pub async fn ensure_locked(
    s: &Session,
    engine: &dyn Engine,
    profile: &Profile,
    mode: LockMode,
    lock: &mut LockFile,
) -> Result<bool> {
    let wanted = wanted(s, profile)?;
    let current = lock.dependencies(&profile.name).cloned();
    let current = current.as_ref();
    if wanted.is_empty() && current.is_none() {
        return Ok(false);
    }
    let b = basis(profile);
    let diff = difference(&wanted, &b, current);
    if diff.is_empty() && mode != LockMode::Update {
        // A dependency moved between packages: record it, no image changes.
        if let Some(locked) = current {
            let updated = deps::with_current_declarations(locked, &wanted);
            if &updated != locked && mode == LockMode::Resolve {
                lock.set_dependencies(&profile.name, updated);
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if mode == LockMode::Check {
        return Err(stale_error(&lock.path, &profile.name, &diff));
    }
    if mode == LockMode::Keep {
        s.ui.warn(format!(
            "{} is out of date for profile {} (--offline: not resolving): {}",
            crate::lockfile::LOCK_FILE,
            profile.name,
            diff.join("; ")
        ));
        return Ok(false);
    }
    let locked = resolve(s, engine, profile, &wanted).await?;
    let changed = current != Some(&locked);
    let count = locked.keys.len();
    lock.set_dependencies(&profile.name, locked);
    let shown = crate::ui::shown_path(&lock.path);
    if current.is_none() {
        s.ui.info(format!(
            "locked {count} dependencies of profile {} in {shown} (commit it)",
            profile.name
        ));
    } else {
        s.ui.info(format!(
            "{shown} was out of date for profile {}; updated:\n  {}",
            profile.name,
            diff.join("\n  ")
        ));
    }
    Ok(changed)
}

pub fn stale_error(path: &Path, profile: &str, diff: &[String]) -> Error {
    Error::CheckFailed {
        message: format!(
            "{} does not match the workspace's dependencies for profile {profile} (--locked):",
            crate::ui::shown_path(path)
        ),
        details: diff.to_vec(),
        help: Some(format!(
            "run `robodev lock` and commit {}",
            crate::lockfile::LOCK_FILE
        )),
    }
}

/// The rosdep setup of this machine that the resolver honours: its source lists and the local
/// files they name, and `ROSDISTRO_INDEX_URL`.
fn host_rosdep() -> HostRosdep {
    let dir = Path::new("/etc/ros/rosdep/sources.list.d");
    let mut host = HostRosdep::default();
    let mut local = |url: &str| {
        if let Some(path) = url.strip_prefix("file://")
            && Path::new(path).is_file()
            && !host.files.iter().any(|f| f == path)
        {
            host.files.push(path.to_string());
        }
    };
    if dir.is_dir() {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
                if let Some(url) = line.split_whitespace().nth(1) {
                    local(url);
                }
            }
        }
    }
    let index = std::env::var("ROSDISTRO_INDEX_URL")
        .ok()
        .filter(|v| !v.is_empty());
    if let Some(url) = &index {
        local(url);
    }
    HostRosdep {
        lists_dir: dir.is_dir().then(|| dir.display().to_string()),
        files: host.files,
        index_url: index,
    }
}

/// Run rosdep for `wanted` in the resolver container and lock the answers.
async fn resolve(
    s: &Session,
    engine: &dyn Engine,
    profile: &Profile,
    wanted: &WantedKeys,
) -> Result<LockedDependencies> {
    let host = HostFacts::probe(&profile.device_paths());
    let facts = s.engine_facts(profile, Some(engine)).await?;
    let tooling = crate::plan::tooling_features(profile, &host, &facts);
    let keys: Vec<String> = wanted.keys().cloned().collect();
    let resolver = deps::resolver(
        profile,
        &tooling,
        &Renderer::for_profile(s.global.templates.clone(), profile),
        &keys,
        &host_rosdep(),
    )?;
    s.ui.info(format!(
        "resolving {} rosdep key(s) for {} ({})",
        keys.len(),
        profile.name,
        basis(profile).os
    ));
    ensure_image(s, engine, &resolver.image, BuildFlags::default()).await?;
    let out = engine
        .run_captured(&resolver.container, resolver.cmd)
        .await?;
    let resolution = parse_resolution(&out.stdout);
    if let Some(e) = unresolved_error(&resolution, wanted) {
        return Err(e);
    }
    if out.code != 0 {
        return Err(Error::Engine {
            action: "cannot resolve the workspace's dependencies".into(),
            message: format!(
                "the resolver exited with {}: {}",
                out.code,
                out.stderr.lines().last().unwrap_or("")
            ),
            help: Some("run again with -v, or `robodev lock` to see rosdep's own words".into()),
        });
    }
    Ok(deps::locked(
        wanted,
        &basis(profile),
        &resolution.sources,
        &resolution.resolved,
    ))
}

#[derive(serde::Serialize)]
struct DepRow {
    key: String,
    apt: Vec<String>,
    pip: Vec<String>,
    types: Vec<String>,
    declared_in: Vec<String>,
    /// `locked`, `new` (declared, not in robodev.lock yet) or `removed` (locked, no longer
    /// declared).
    status: &'static str,
}

/// `robodev deps`: what the workspace needs, what it resolved to, and what is new since the
/// lock. Reads files only: no engine.
pub fn deps(s: &Session, reference: Option<&str>, json: bool) -> Result<i32> {
    let profile = s.profile(reference)?;
    let wanted = wanted(s, &profile)?;
    let lock = LockFile::read(&s.workspace.root)?;
    let locked = lock.dependencies(&profile.name);
    let mut rows: Vec<DepRow> = wanted
        .iter()
        .map(|(key, w)| {
            let l = locked.and_then(|l| l.keys.get(key));
            DepRow {
                key: key.clone(),
                apt: l.map(|l| l.apt.clone()).unwrap_or_default(),
                pip: l.map(|l| l.pip.clone()).unwrap_or_default(),
                types: w.kinds.iter().map(|k| k.name().to_string()).collect(),
                declared_in: w.declared_in.iter().cloned().collect(),
                status: if l.is_some() { "locked" } else { "new" },
            }
        })
        .collect();
    if let Some(locked) = locked {
        for (key, l) in locked.keys.iter().filter(|(k, _)| !wanted.contains_key(*k)) {
            rows.push(DepRow {
                key: key.clone(),
                apt: l.apt.clone(),
                pip: l.pip.clone(),
                types: l.types.clone(),
                declared_in: l.declared_in.clone(),
                status: "removed",
            });
        }
    }
    if json {
        print_out(&serde_json::to_string_pretty(&rows).unwrap_or_default());
        return Ok(0);
    }
    if rows.is_empty() {
        s.ui.info("the workspace declares no dependencies");
        return Ok(0);
    }
    let table: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            let packages: Vec<String> = r
                .apt
                .iter()
                .map(|p| format!("apt:{p}"))
                .chain(r.pip.iter().map(|p| format!("pip:{p}")))
                .collect();
            let packages = if packages.is_empty() {
                "(not resolved yet)".to_string()
            } else {
                packages.join(" ")
            };
            let key = match r.status {
                "new" => format!("+ {}", r.key),
                "removed" => format!("- {}", r.key),
                _ => format!("  {}", r.key),
            };
            [key, packages, r.types.join(","), r.declared_in.join(", ")]
        })
        .collect();
    let mut text = crate::ui::table(["  KEY", "PACKAGES", "FOR", "DECLARED IN"], &table);
    let new = rows.iter().filter(|r| r.status != "locked").count();
    if new > 0 {
        text.push_str(&format!(
            "\n{new} change(s) since {} (+ new, - removed): `robodev lock` resolves them\n",
            crate::lockfile::LOCK_FILE
        ));
    }
    print_out(&text);
    Ok(0)
}

//! `ls` and `clean`.

use super::session::Session;
use crate::error::Result;
use crate::facts::HostFacts;
use crate::plan::image::is_robodev_tag;
use crate::plan::labels;
use crate::ui::print_out;
use std::collections::BTreeSet;

pub async fn ls(s: &Session, json: bool) -> Result<i32> {
    let engine = s.engine().await?;
    let list = engine.list_managed().await?;
    if json {
        print_out(&serde_json::to_string_pretty(&list).unwrap_or_default());
        return Ok(0);
    }
    let rows: Vec<[String; 4]> = list
        .iter()
        .map(|c| {
            [
                c.name.clone(),
                c.profile.clone(),
                c.status.clone(),
                c.workspace.clone(),
            ]
        })
        .collect();
    let text = crate::ui::table(["NAME", "PROFILE", "STATUS", "WORKSPACE"], &rows);
    print_out(&text);
    Ok(0)
}

/// One image `clean` considered: its robodev tag, and why it stays or goes.
#[derive(serde::Serialize)]
struct CleanRow {
    image: String,
    size_mb: i64,
    owner: String,
    workspace: String,
    action: &'static str,
}

/// Remove robodev's own images that no container uses and no known profile builds now.
///
/// Robodev's own: a tag in robodev's naming whose hash matches the image's hash label (an image
/// built `FROM` one, or a `docker commit` snapshot, inherits the label but not such a tag). Only
/// that tag is removed: another name of the same image (`docker tag`) keeps the image. By
/// default only this user's images; `--all` also those other users built on a shared engine.
pub async fn clean(s: &Session, dry_run: bool, all: bool, json: bool) -> Result<i32> {
    let engine = s.engine().await?;
    let mut keep: BTreeSet<String> = engine
        .list_managed()
        .await?
        .into_iter()
        .map(|c| c.image)
        .collect();
    keep.extend(engine.all_container_images().await?);
    let today = crate::profile::distro::today();
    let lock = crate::lockfile::LockFile::read(&s.workspace.root)?;
    for entry in s.search.list() {
        let Ok(profile) = crate::profile::load(&s.search, entry.reference(), &today) else {
            continue;
        };
        let host = HostFacts::probe(&profile.device_paths());
        let facts = s
            .engine_facts(&profile, Some(engine))
            .await
            .unwrap_or_default();
        if let Ok(planned) = crate::plan::image_only(
            &profile,
            &host,
            &facts,
            s.global.templates.clone(),
            crate::plan::Pins::of(&lock, &profile),
        ) {
            keep.insert(planned.image.tag);
        }
    }
    // Images robodev.lock names (pushed, pulled by digest) are the team's: kept.
    let locked: BTreeSet<String> = lock
        .image_digests()
        .iter()
        .map(|i| format!("{}@{}", i.repository, i.digest))
        .collect();
    let images = engine.labelled_images().await?;
    // The newest deploy image of each repository is the one about to ship: kept.
    let mut newest: std::collections::BTreeMap<&str, (i64, &str)> = Default::default();
    for image in images
        .iter()
        .filter(|i| i.labels.contains_key(labels::DEPLOY))
    {
        let repo = image
            .labels
            .get(labels::REPOSITORY)
            .map_or("", String::as_str);
        let entry = newest.entry(repo).or_insert((image.created, &image.id));
        if image.created > entry.0 {
            *entry = (image.created, &image.id);
        }
    }
    keep.extend(newest.values().map(|(_, id)| id.to_string()));
    let me = HostFacts::current_user();
    let mine = format!("{}:{}", me.name, me.uid);
    let mut rows = Vec::new();
    let mut others = 0;
    for image in &images {
        let owner = image.labels.get(labels::OWNER).cloned().unwrap_or_default();
        let workspace = image
            .labels
            .get(labels::WORKSPACE)
            .cloned()
            .unwrap_or_default();
        let used =
            keep.contains(&image.id) || image.repo_digests.iter().any(|d| locked.contains(d));
        for tag in image
            .tags
            .iter()
            .filter(|t| is_robodev_tag(t, &image.labels))
        {
            let action = if used || keep.contains(tag) {
                "kept (in use, current or locked)"
            } else if owner != mine && !all {
                others += 1;
                "kept (another user's; --all)"
            } else if dry_run {
                "would remove"
            } else {
                engine.remove_image(tag).await?;
                "removed"
            };
            rows.push(CleanRow {
                image: tag.clone(),
                size_mb: image.size / 1_000_000,
                owner: if owner.is_empty() {
                    "?".into()
                } else {
                    owner.clone()
                },
                workspace: workspace.clone(),
                action,
            });
        }
    }
    if json {
        print_out(&serde_json::to_string_pretty(&rows).unwrap_or_default());
        return Ok(0);
    }
    let acted: Vec<&CleanRow> = rows
        .iter()
        .filter(|r| !r.action.starts_with("kept"))
        .collect();
    for r in &acted {
        print_out(&format!(
            "{} {} ({} MB, built by {} in {})",
            r.action,
            r.image,
            r.size_mb,
            r.owner,
            if r.workspace.is_empty() {
                "?"
            } else {
                &r.workspace
            }
        ));
    }
    if acted.is_empty() {
        s.ui.info("nothing to clean");
    }
    if others > 0 {
        s.ui.info(format!(
            "{others} image(s) of other users kept; `robodev clean --all` considers them too"
        ));
    }
    Ok(0)
}

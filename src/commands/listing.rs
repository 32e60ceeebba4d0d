//! `ls` and `clean`.

use super::session::Session;
use crate::engine::Engine;
use crate::error::Result;
use crate::facts::HostFacts;
use crate::ui::print_out;
use std::collections::BTreeSet;

pub async fn ls(_s: &Session, json: bool) -> Result<i32> {
    let engine = Engine::connect().await?;
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
    let header = ["NAME", "PROFILE", "STATUS", "WORKSPACE"].map(String::from);
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for row in std::iter::once(&header).chain(rows.iter()) {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| format!("{cell:w$}", w = widths[i]))
            .collect();
        text.push_str(line.join("  ").trim_end());
        text.push('\n');
    }
    print_out(&text);
    Ok(0)
}

/// Remove robodev images that no container uses and that no known profile would build now.
pub async fn clean(s: &Session, dry_run: bool) -> Result<i32> {
    let engine = Engine::connect().await?;
    let mut keep: BTreeSet<String> = engine
        .list_managed()
        .await?
        .into_iter()
        .map(|c| c.image)
        .collect();
    keep.extend(engine.all_container_images().await?);
    let today = crate::profile::distro::today();
    for entry in s.search.list() {
        let Ok(profile) = crate::profile::load(&s.search, entry.reference(), &today) else {
            continue;
        };
        let host = HostFacts::probe(&profile.device_paths());
        let facts = s
            .engine_facts(&profile, Some(&engine))
            .await
            .unwrap_or_default();
        if let Ok(planned) =
            crate::plan::image_only(&profile, &host, &facts, s.global.templates.clone())
        {
            keep.insert(planned.image.tag);
        }
    }
    let mut removed = 0;
    for (reference, id) in engine.list_robodev_images().await? {
        if keep.contains(&reference) || keep.contains(&id) {
            continue;
        }
        if dry_run {
            print_out(&format!("would remove {reference}"));
        } else {
            engine.remove_image(&reference).await?;
            s.ui.success(format!("removed {reference}"));
        }
        removed += 1;
    }
    if removed == 0 {
        s.ui.info("nothing to clean");
    }
    Ok(0)
}

//! robodev's images: `robodev images` lists them (profile, hash, size, age, the containers
//! using them, the pushed digest); `robodev image inspect|history|tag|rm` act on a profile's
//! current image.

use super::session::Session;
use crate::engine::{Engine, HistoryEntry, ImageIdentity};
use crate::error::{Error, Result};
use crate::lockfile::LockFile;
use crate::plan::image::{instruction_sections, is_robodev_tag};
use crate::plan::{Plan, labels};
use crate::ui::{print_out, table};
use indicatif::HumanBytes;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Serialize)]
struct ImageRow {
    profile: String,
    tag: String,
    id: String,
    hash: String,
    size: i64,
    /// Unix seconds.
    created: i64,
    containers: Vec<String>,
    /// `REPOSITORY@sha256:…` from robodev.lock (pushed by the team), else as the engine knows
    /// it (pulled or pushed here).
    pushed: Option<String>,
    workspace: Option<String>,
}

/// "3 minutes ago", as `docker images` says it.
fn age(created: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(created);
    let secs = (now - created).max(0);
    let (n, unit) = match secs {
        s if s < 60 => (s, "second"),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3600, "hour"),
        s => (s / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// The digest the team recorded for an image hash, else one the engine knows for `repository`.
fn pushed(
    lock: &LockFile,
    hash: &str,
    repository: &str,
    repo_digests: &[String],
) -> Option<String> {
    lock.images_of(hash)
        .first()
        .map(|(_, i)| format!("{}@{}", i.repository, i.digest))
        .or_else(|| {
            repo_digests
                .iter()
                .find(|d| d.starts_with(&format!("{repository}@")))
                .cloned()
        })
}

/// `robodev images`.
pub async fn images(s: &Session, json: bool) -> Result<i32> {
    let engine = s.engine().await?;
    let lock = LockFile::read(&s.workspace.root)?;
    let users = engine.containers_by_image().await?;
    let mut rows: Vec<ImageRow> = Vec::new();
    for image in engine.labelled_images().await? {
        for tag in image
            .tags
            .iter()
            .filter(|t| is_robodev_tag(t, &image.labels))
        {
            let label = |k: &str| image.labels.get(k).cloned().unwrap_or_default();
            let repository = tag.rsplit_once(':').map(|(r, _)| r).unwrap_or(tag);
            rows.push(ImageRow {
                profile: label(labels::PROFILE),
                tag: tag.clone(),
                id: image.id.clone(),
                hash: label(labels::HASH),
                size: image.size,
                created: image.created,
                containers: users.get(&image.id).cloned().unwrap_or_default(),
                pushed: pushed(&lock, &label(labels::HASH), repository, &image.repo_digests),
                workspace: image.labels.get(labels::WORKSPACE).cloned(),
            });
        }
    }
    rows.sort_by(|a, b| (&a.profile, -a.created).cmp(&(&b.profile, -b.created)));
    if json {
        print_out(&serde_json::to_string_pretty(&rows).unwrap_or_default());
        return Ok(0);
    }
    if rows.is_empty() {
        s.ui.info("no robodev images on this engine (`robodev build` makes one)");
        return Ok(0);
    }
    let table_rows: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.profile.clone(),
                r.tag.clone(),
                HumanBytes(r.size.max(0) as u64).to_string(),
                age(r.created),
                if r.containers.is_empty() {
                    "-".into()
                } else {
                    r.containers.join(", ")
                },
                r.pushed
                    .as_deref()
                    .and_then(|p| p.split_once('@'))
                    .map(|(_, d)| d.chars().take(19).collect())
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    print_out(&table(
        [
            "PROFILE",
            "IMAGE",
            "SIZE",
            "CREATED",
            "CONTAINERS",
            "PUSHED",
        ],
        &table_rows,
    ));
    Ok(0)
}

/// The profile's current image on the engine; an error saying how to make it when absent.
async fn current<'s>(
    s: &'s Session,
    reference: Option<&str>,
) -> Result<(&'s dyn Engine, Plan, ImageIdentity)> {
    let profile = s.profile(reference)?;
    let engine = s.engine().await?;
    let plan = s.plan_recent(&profile, Some(engine)).await?;
    let identity = engine.identity(&plan.image.tag).await?.ok_or_else(|| {
        Error::usage_with_help(
            format!(
                "profile {} has no image on this engine ({} is not built)",
                profile.name, plan.image.tag
            ),
            format!("`robodev build {}` makes it", profile.name),
        )
    })?;
    Ok((engine, plan, identity))
}

#[derive(Serialize)]
struct Inspection {
    profile: String,
    tag: String,
    id: String,
    hash: String,
    size: i64,
    /// `os/arch` of the image as the engine has it.
    platform: String,
    created: String,
    names: Vec<String>,
    repo_digests: Vec<String>,
    locked_digests: Vec<String>,
    containers: Vec<String>,
    labels: std::collections::BTreeMap<String, String>,
}

/// `robodev image inspect`.
pub async fn inspect(s: &Session, reference: Option<&str>, json: bool) -> Result<i32> {
    let (engine, plan, identity) = current(s, reference).await?;
    let lock = LockFile::read(&s.workspace.root)?;
    let users = engine.containers_by_image().await?;
    let found = Inspection {
        profile: plan.profile.name.clone(),
        tag: plan.image.tag.clone(),
        id: identity.id.clone(),
        hash: plan.image.hash.clone(),
        size: identity.size,
        platform: engine
            .image_platform(&identity.id)
            .await?
            .unwrap_or_default(),
        created: identity.created.clone(),
        names: identity.tags.clone(),
        repo_digests: identity.repo_digests.clone(),
        locked_digests: lock
            .images_of(&plan.image.hash)
            .iter()
            .map(|(platform, i)| format!("{}@{} ({platform})", i.repository, i.digest))
            .collect(),
        containers: users.get(&identity.id).cloned().unwrap_or_default(),
        labels: identity.labels.clone().into_iter().collect(),
    };
    if json {
        print_out(&serde_json::to_string_pretty(&found).unwrap_or_default());
        return Ok(0);
    }
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join("\n             ")
        }
    };
    print_out(&format!(
        "profile      {}\nimage        {}\nid           {}\nhash         {}\nplatform     {}\nsize         {}\ncreated      {}\nnames        {}\nregistry     {}\nrobodev.lock {}\ncontainers   {}\n",
        found.profile,
        found.tag,
        found.id,
        found.hash,
        found.platform,
        HumanBytes(found.size.max(0) as u64),
        found.created,
        list(&found.names),
        list(&found.repo_digests),
        list(&found.locked_digests),
        list(&found.containers),
    ));
    Ok(0)
}

#[derive(Serialize)]
struct Layer {
    section: String,
    size: i64,
    /// As the engine recorded it.
    created_by: String,
    /// As a Dockerfile says it (the table's column).
    #[serde(skip)]
    instruction: String,
}

/// The profile section of each history entry, in the engine's order (newest first): robodev's
/// labels on top, then one entry per Dockerfile instruction, newest to oldest, each checked
/// against its instruction's keyword, then the base image's entries. The engines differ in how
/// many label entries they write (Docker one per label, Podman one for all) and in how an
/// entry reads (`/bin/sh -eu -c #(nop)  SHELL …`, buildah's `/bin/sh -c #(nop) SHELL …`), so
/// the entries are read, never counted. Every entry is "?" where they do not match the
/// Dockerfile.
fn sections(entries: &[HistoryEntry], dockerfile: &str) -> Vec<&'static str> {
    let ours = instruction_sections(dockerfile);
    let labels = entries.iter().take_while(|e| e.is_robodev_label()).count();
    let built = &entries[labels..];
    let keyword = |instruction: &str| {
        instruction
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase()
    };
    let matches = built.len() >= ours.len()
        && built
            .iter()
            .zip(ours.iter().rev())
            .all(|(e, (instruction, _))| {
                e.instruction().map(|(k, _)| k.to_string()) == Some(keyword(instruction))
            });
    let mut out = vec!["labels"; labels];
    for (i, _) in built.iter().enumerate() {
        out.push(match ours.len().checked_sub(i + 1) {
            _ if !matches => "?",
            Some(n) => ours[n].1,
            None => "base image",
        });
    }
    out
}

/// What an entry did, as a Dockerfile says it: "RUN apt-get update …", "LABEL …".
fn created_by(entry: &HistoryEntry) -> String {
    match entry.instruction() {
        Some((keyword, rest)) => format!("{keyword} {rest}").trim_end().to_string(),
        None => entry.created_by.trim().to_string(),
    }
}

/// `robodev image history`: each layer with its size and the profile section that made it.
pub async fn history(s: &Session, reference: Option<&str>, json: bool) -> Result<i32> {
    let (engine, plan, _) = current(s, reference).await?;
    let entries = engine.history(&plan.image.tag).await?;
    let sections = sections(&entries, &plan.image.dockerfile);
    // Oldest first.
    let layers: Vec<Layer> = entries
        .iter()
        .zip(sections)
        .rev()
        .map(|(e, section)| Layer {
            section: section.to_string(),
            size: e.size,
            created_by: e.created_by.clone(),
            instruction: created_by(e),
        })
        .collect();
    if json {
        print_out(&serde_json::to_string_pretty(&layers).unwrap_or_default());
        return Ok(0);
    }
    let width = if s.ui.verbose { usize::MAX } else { 70 };
    let rows: Vec<[String; 3]> = layers
        .iter()
        .map(|l| {
            let what = l.instruction.as_str();
            let what: String = if what.chars().count() > width {
                what.chars().take(width - 1).chain(['…']).collect()
            } else {
                what.to_string()
            };
            [
                l.section.clone(),
                HumanBytes(l.size.max(0) as u64).to_string(),
                what,
            ]
        })
        .collect();
    let mut totals: Vec<(String, i64)> = Vec::new();
    for l in &layers {
        match totals.iter_mut().find(|(s, _)| *s == l.section) {
            Some((_, n)) => *n += l.size,
            None => totals.push((l.section.clone(), l.size)),
        }
    }
    let summary: Vec<String> = totals
        .iter()
        .map(|(s, n)| format!("{s} {}", HumanBytes((*n).max(0) as u64)))
        .collect();
    print_out(&format!(
        "{}\n{} (oldest first; -v shows whole commands)\n",
        table(["SECTION", "SIZE", "CREATED BY"], &rows).trim_end(),
        summary.join(", ")
    ));
    Ok(0)
}

/// `robodev image tag [PROFILE] NAME[:TAG]`.
pub async fn tag(s: &Session, args: &[String]) -> Result<i32> {
    let (reference, name) = match args {
        [name] => (None, name.as_str()),
        [profile, name] => (Some(profile.as_str()), name.as_str()),
        _ => return Err(Error::usage("expected [PROFILE] NAME[:TAG]")),
    };
    let (engine, plan, _) = current(s, reference).await?;
    let last = name.rsplit('/').next().unwrap_or(name);
    let (repository, tag) = match last.rsplit_once(':') {
        Some((_, t)) => (&name[..name.len() - t.len() - 1], t),
        None => (name, "latest"),
    };
    engine.tag_image(&plan.image.tag, repository, tag).await?;
    s.ui.success(format!(
        "{} is also {repository}:{tag} (`docker push {repository}:{tag}` to ship it)",
        plan.image.tag
    ));
    Ok(0)
}

/// `robodev image rm [PROFILE]`: remove robodev's name of the profile's image; refused while
/// a container uses it.
pub async fn rm(s: &Session, reference: Option<&str>) -> Result<i32> {
    let (engine, plan, identity) = current(s, reference).await?;
    let users: HashMap<String, Vec<String>> = engine.containers_by_image().await?;
    if let Some(names) = users.get(&identity.id).filter(|n| !n.is_empty()) {
        return Err(Error::usage_with_help(
            format!(
                "{} is used by container(s) {}: not removed",
                plan.image.tag,
                names.join(", ")
            ),
            format!(
                "remove the environment first (`robodev down {}`; the workspace is kept)",
                plan.profile.name
            ),
        ));
    }
    engine.remove_image(&plan.image.tag).await?;
    let others: Vec<&String> = identity
        .tags
        .iter()
        .filter(|t| **t != plan.image.tag)
        .collect();
    if others.is_empty() {
        s.ui.success(format!("removed {}", plan.image.tag));
    } else {
        let others: Vec<&str> = others.iter().map(|t| t.as_str()).collect();
        s.ui.success(format!(
            "removed the name {}; the image stays under {}",
            plan.image.tag,
            others.join(", ")
        ));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Dockerfile robodev generated for `version: 1`, `ros: {distro: debian}`,
    /// `base_image: debian:bookworm`, and what `/images/NAME/history` answered for the image
    /// robodev built from it on each engine.
    const DOCKERFILE: &str = include_str!("../../tests/hermetic/history/Dockerfile");

    fn history(answer: &str) -> Vec<HistoryEntry> {
        let items: Vec<serde_json::Value> = serde_json::from_str(answer).unwrap();
        items
            .iter()
            .map(|i| HistoryEntry {
                created_by: i["CreatedBy"].as_str().unwrap().to_string(),
                size: i["Size"].as_i64().unwrap(),
                created: i["Created"].as_i64().unwrap(),
            })
            .collect()
    }

    /// Each entry's section and instruction keyword, oldest first.
    fn layers(answer: &str) -> Vec<(&'static str, String)> {
        let entries = history(answer);
        let sections = sections(&entries, DOCKERFILE);
        entries
            .iter()
            .zip(sections)
            .rev()
            .map(|(e, s)| (s, created_by(e).split(' ').next().unwrap().to_string()))
            .collect()
    }

    /// The Dockerfile's instructions in their sections, oldest first, as every engine must show
    /// them after the base image's entries and before robodev's labels.
    const BUILT: &[(&str, &str)] = &[
        ("setup", "SHELL"),
        ("setup", "ARG"),
        ("tooling", "RUN"),
        ("ROS packages", "RUN"),
        ("user", "RUN"),
        ("user", "COPY"),
        ("user", "RUN"),
        ("user", "ENTRYPOINT"),
        ("user", "CMD"),
    ];

    fn expected(labels: usize) -> Vec<(&'static str, String)> {
        std::iter::once(("base image", String::new()))
            .chain(BUILT.iter().map(|(s, k)| (*s, k.to_string())))
            .chain(std::iter::repeat_n(("labels", "LABEL".to_string()), labels))
            .collect()
    }

    #[test]
    fn history_sections_on_docker_20_10() {
        let answer = include_str!("../../tests/hermetic/history/d20.10.json");
        assert_eq!(layers(answer), expected(6));
    }

    #[test]
    fn history_sections_on_docker_26() {
        let answer = include_str!("../../tests/hermetic/history/d26.json");
        assert_eq!(layers(answer), expected(6));
    }

    #[test]
    fn history_sections_on_docker_26_with_the_containerd_store() {
        // Entries of layers the store did not build itself have the id `<missing>`.
        let answer = include_str!("../../tests/hermetic/history/d26c.json");
        assert_eq!(layers(answer), expected(6));
    }

    #[test]
    fn history_sections_on_podman_5() {
        // One LABEL entry for all of robodev's labels, `"robodev.…"="…"` quoted.
        let answer = include_str!("../../tests/hermetic/history/p5.json");
        assert_eq!(layers(answer), expected(1));
    }

    #[test]
    fn history_of_another_image_than_the_dockerfile_says_is_unknown_not_misplaced() {
        let mut entries = history(include_str!("../../tests/hermetic/history/d26.json"));
        // The SHELL entry gone: one instruction short.
        entries.remove(entries.len() - 2);
        let sections = sections(&entries, DOCKERFILE);
        assert!(sections[..6].iter().all(|s| *s == "labels"));
        assert!(sections[6..].iter().all(|s| *s == "?"), "{sections:?}");
    }

    #[test]
    fn a_base_built_by_robodev_keeps_its_labels_in_the_base_image() {
        // Labels of the base image lie under the Dockerfile's instructions.
        let mut entries = history(include_str!("../../tests/hermetic/history/d26.json"));
        let label = entries[0].clone();
        entries.push(label);
        let sections = sections(&entries, DOCKERFILE);
        assert_eq!(sections.last(), Some(&"base image"));
        assert_eq!(sections.iter().filter(|s| **s == "labels").count(), 6);
    }
}

//! `ls` and `clean`.

use super::session::Session;
use crate::engine::{Engine, LabelledImage};
use crate::error::Result;
use crate::facts::{EngineFacts, HostFacts};
use crate::lockfile::LockFile;
use crate::plan::image::is_robodev_tag;
use crate::plan::labels;
use crate::profile::ProfileSearch;
use crate::ui::print_out;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

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

/// One image `clean` considered: its robodev tag, what it does with it and why.
#[derive(serde::Serialize)]
struct CleanRow {
    image: String,
    size_mb: i64,
    owner: String,
    workspace: String,
    /// `kept (…)` in short, `would remove` or `removed`.
    action: &'static str,
    /// Why, in words: what uses it, or that nothing does.
    reason: String,
}

/// What `clean` decided for one image.
struct Verdict {
    /// `None`: removed (`--dry-run`: would be).
    kept: Option<&'static str>,
    reason: String,
}

impl Verdict {
    fn keep(action: &'static str, reason: String) -> Verdict {
        Verdict {
            kept: Some(action),
            reason,
        }
    }
    fn remove(reason: String) -> Verdict {
        Verdict { kept: None, reason }
    }
}

/// What `clean` could learn of a workspace an image's `robodev.workspace` label names.
enum Seen {
    /// Its lock was read and its profiles planned (their tags are in `Uses::planned`);
    /// `unknown`: why what its own profile plans is not known (it does not load).
    Read {
        lock: Box<LockFile>,
        unknown: Option<String>,
    },
    /// No such path on this machine.
    Missing,
    /// There, but its profile or robodev.lock cannot be read: what it uses is unknown.
    Unreadable(String),
}

/// What the workspaces `clean` read use.
#[derive(Default)]
struct Uses {
    /// A tag a profile plans now → which profile of which workspace.
    planned: BTreeMap<String, String>,
    /// Workspace root → what was learnt of it.
    workspaces: BTreeMap<PathBuf, Seen>,
}

impl Uses {
    /// The workspace whose robodev.lock pins `image`: its `images` section names the image's
    /// hash or one of its registry digests.
    fn locked_by(&self, image: &LabelledImage) -> Option<&Path> {
        let hash = image.labels.get(labels::HASH).map_or("", String::as_str);
        self.workspaces.iter().find_map(|(root, seen)| {
            let Seen::Read { lock, .. } = seen else {
                return None;
            };
            let by_hash = !hash.is_empty() && !lock.images_of(hash).is_empty();
            let by_digest = lock.image_digests().iter().any(|i| {
                let pinned = format!("{}@{}", i.repository, i.digest);
                image.repo_digests.contains(&pinned)
            });
            (by_hash || by_digest).then_some(root.as_path())
        })
    }
}

/// Plans the profiles of workspaces for `clean`, asking the engine about itself at most once
/// per kind of question.
struct Planner<'a> {
    s: &'a Session,
    engine: &'a dyn Engine,
    today: String,
    /// Engine facts by whether the profile's GPU mode needs them (all they depend on).
    facts: HashMap<bool, EngineFacts>,
}

impl Planner<'_> {
    /// Plan every profile `search` finds with `lock`'s pins, into `uses.planned`. An error when
    /// the workspace's own profile does not load: what it plans is then unknown.
    async fn plan(
        &mut self,
        root: &Path,
        search: &ProfileSearch,
        lock: &LockFile,
        uses: &mut Uses,
    ) -> std::result::Result<(), String> {
        let mut unknown = Ok(());
        for entry in search.list() {
            let profile = match crate::profile::load(search, entry.reference(), &self.today) {
                Ok(profile) => profile,
                Err(e) if entry.origin == "workspace" => {
                    unknown = Err(format!("its {} does not load: {e}", entry.source));
                    continue;
                }
                Err(_) => continue,
            };
            let host = HostFacts::probe(&profile.device_paths());
            let needs = profile.gpu.needs_engine_facts();
            let facts = match self.facts.get(&needs) {
                Some(facts) => facts.clone(),
                None => {
                    let facts = self
                        .s
                        .engine_facts(&profile, Some(self.engine))
                        .await
                        .unwrap_or_default();
                    self.facts.insert(needs, facts.clone());
                    facts
                }
            };
            if let Ok(planned) = crate::plan::image_only(
                &profile,
                &host,
                &facts,
                self.s.global.templates.clone(),
                crate::plan::Pins::of(lock, &profile),
            ) {
                uses.planned.entry(planned.image.tag).or_insert_with(|| {
                    format!(
                        "the profile {} of the workspace {} plans it",
                        profile.name,
                        root.display()
                    )
                });
            }
        }
        unknown
    }

    /// Read another workspace: its robodev.yaml, its robodev.lock, what its profiles plan.
    async fn read(&mut self, root: &Path, uses: &mut Uses) -> Seen {
        match root.try_exists() {
            Ok(true) => {}
            Ok(false) => return Seen::Missing,
            Err(e) => return Seen::Unreadable(format!("cannot look at {}: {e}", root.display())),
        }
        let search = ProfileSearch::new(root.to_path_buf());
        let profile = search.workspace_file();
        if let Err(e) = std::fs::File::open(&profile)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            return Seen::Unreadable(format!("cannot read {}: {e}", profile.display()));
        }
        let lock = match LockFile::read(root) {
            Ok(lock) => lock,
            Err(e) => return Seen::Unreadable(e.to_string()),
        };
        let unknown = self.plan(root, &search, &lock, uses).await.err();
        Seen::Read {
            lock: Box::new(lock),
            unknown,
        }
    }
}

/// Remove robodev's own images that nothing uses: no container, no profile or robodev.lock of
/// this workspace, of the workspace that built the image or of another workspace robodev
/// planned for on this machine (`known_workspaces`).
///
/// Robodev's own: a tag in robodev's naming whose hash matches the image's hash label (an image
/// built `FROM` one, or a `docker commit` snapshot, inherits the label but not such a tag). Only
/// that tag is removed: another name of the same image (`docker tag`) keeps the image. By
/// default only this user's images; `--all` also those other users built on a shared engine,
/// those `robodev load` brought from a bundle (maybe a robot's only copy, not rebuildable
/// offline), and those whose workspace cannot be read. Every row says why.
pub async fn clean(s: &Session, dry_run: bool, all: bool, json: bool) -> Result<i32> {
    let engine = s.engine().await?;
    let mut in_containers: BTreeSet<String> = engine
        .list_managed()
        .await?
        .into_iter()
        .map(|c| c.image)
        .collect();
    in_containers.extend(engine.all_container_images().await?);
    let by_image = engine.containers_by_image().await?;
    let images = engine.labelled_images().await?;
    let mut planner = Planner {
        s,
        engine,
        today: crate::profile::distro::today(),
        facts: HashMap::new(),
    };
    let mut uses = Uses::default();
    // This workspace's robodev.lock must read, as for every command; its profile may not load.
    let lock = LockFile::read(&s.workspace.root)?;
    let unknown = planner
        .plan(&s.workspace.root, &s.search, &lock, &mut uses)
        .await
        .err();
    let here = Seen::Read {
        lock: Box::new(lock),
        unknown,
    };
    uses.workspaces.insert(s.workspace.root.clone(), here);
    // Every other workspace robodev planned for here: one may plan an image another built.
    for root in super::known_workspaces::existing() {
        if !uses.workspaces.contains_key(&root) {
            let seen = planner.read(&root, &mut uses).await;
            uses.workspaces.insert(root, seen);
        }
    }
    // The workspace each image was built in: what it holds now decides for that image.
    for image in &images {
        let Some(root) = built_in(image) else {
            continue;
        };
        if !root.is_absolute() || uses.workspaces.contains_key(&root) {
            continue;
        }
        let seen = planner.read(&root, &mut uses).await;
        uses.workspaces.insert(root, seen);
    }
    // The newest deploy image of each repository is the one about to ship: kept.
    let mut newest: BTreeMap<&str, (i64, &str)> = Default::default();
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
    let newest: BTreeMap<&str, &str> = newest
        .into_iter()
        .map(|(repo, (_, id))| (id, repo))
        .collect();
    let endpoint = engine.endpoint().url.clone();
    let me = HostFacts::current_user();
    let mine = format!("{}:{}", me.name, me.uid);
    let mut rows = Vec::new();
    let mut others = 0;
    for image in &images {
        let own: Vec<&String> = image
            .tags
            .iter()
            .filter(|t| is_robodev_tag(t, &image.labels))
            .collect();
        if own.is_empty() {
            continue;
        }
        let owner = image.labels.get(labels::OWNER).cloned().unwrap_or_default();
        let workspace = image
            .labels
            .get(labels::WORKSPACE)
            .cloned()
            .unwrap_or_default();
        let seen = built_in(image).and_then(|root| uses.workspaces.get(&root));
        let verdict = if let Some(names) = by_image.get(&image.id).filter(|n| !n.is_empty()) {
            Verdict::keep(
                "kept (in use)",
                format!("the container(s) {} use it", names.join(", ")),
            )
        } else if in_containers.contains(&image.id)
            || own.iter().any(|t| in_containers.contains(*t))
        {
            Verdict::keep("kept (in use)", "a container uses it".into())
        } else if let Some(why) = own.iter().find_map(|t| uses.planned.get(*t)) {
            Verdict::keep("kept (current)", why.clone())
        } else if let Some(root) = uses.locked_by(image) {
            Verdict::keep(
                "kept (locked)",
                format!(
                    "{} pins it (its images section)",
                    LockFile::path_in(root).display()
                ),
            )
        } else if let Some(repo) = newest.get(image.id.as_str()) {
            Verdict::keep(
                "kept (newest deploy image)",
                format!("the newest deploy image of {repo}: the one about to ship"),
            )
        } else if loaded_from_bundle(&endpoint, &image.id) && !all {
            Verdict::keep(
                "kept (loaded from a bundle; --all)",
                "`robodev load` brought it from a bundle: it may be this engine's only copy, \
                 and it cannot be rebuilt offline (`robodev clean --all` removes it)"
                    .into(),
            )
        } else if owner != mine && !all {
            others += 1;
            Verdict::keep(
                "kept (another user's; --all)",
                format!(
                    "built by {} (`robodev clean --all` considers it)",
                    if owner.is_empty() { "?" } else { &owner }
                ),
            )
        } else {
            unused(seen, &workspace, engine.is_local(), all)
        };
        let action = match verdict.kept {
            Some(kept) => kept,
            None if dry_run => "would remove",
            None => {
                for tag in &own {
                    engine.remove_image(tag).await?;
                }
                let _ = std::fs::remove_file(bundle_record(&endpoint, &image.id));
                "removed"
            }
        };
        for tag in own {
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
                reason: verdict.reason.clone(),
            });
        }
    }
    if json {
        print_out(&serde_json::to_string_pretty(&rows).unwrap_or_default());
        return Ok(0);
    }
    let (kept, acted): (Vec<&CleanRow>, Vec<&CleanRow>) =
        rows.iter().partition(|r| r.action.starts_with("kept"));
    for r in &acted {
        print_out(&format!(
            "{} {} ({} MB, built by {} in {}): {}",
            r.action,
            r.image,
            r.size_mb,
            r.owner,
            if r.workspace.is_empty() {
                "?"
            } else {
                &r.workspace
            },
            r.reason
        ));
    }
    // What stays, and why: with --dry-run always, else with -v.
    for r in &kept {
        let line = format!("kept {}: {}", r.image, r.reason);
        if dry_run {
            s.ui.info(line);
        } else {
            s.ui.note(line);
        }
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

/// The verdict on an image no container, profile, lock or deploy keeps: removed, unless what its
/// workspace uses could not be learnt (then only with `--all`).
fn unused(seen: Option<&Seen>, workspace: &str, local_engine: bool, all: bool) -> Verdict {
    let unknown = |why: String| {
        if all {
            Verdict::remove(format!("{why}; removed with --all"))
        } else {
            Verdict::keep("kept (workspace unknown; --all)", format!("{why}; kept"))
        }
    };
    match seen {
        None => Verdict::remove(
            "no container uses it, no profile here plans it and this workspace's robodev.lock \
             does not pin it (it names no workspace)"
                .into(),
        ),
        Some(Seen::Read {
            unknown: Some(why), ..
        })
        | Some(Seen::Unreadable(why)) => unknown(format!(
            "robodev cannot tell whether its workspace {workspace} still uses it: {why}"
        )),
        Some(Seen::Read { unknown: None, .. }) => Verdict::remove(format!(
            "no container uses it, no profile of {workspace} plans it and its robodev.lock does \
             not pin it"
        )),
        Some(Seen::Missing) if local_engine => Verdict::remove(format!(
            "its workspace {workspace} no longer exists, and no container uses it"
        )),
        Some(Seen::Missing) => unknown(format!(
            "its workspace {workspace} is not on this machine and the engine is on another: \
             robodev cannot tell whether that workspace still uses it"
        )),
    }
}

/// Where `robodev load` records what it loaded into the engine at `engine_url`, one file per
/// image id. In robodev's state directory: an image's labels cannot change once it is built,
/// and a second name would break a bundle's "one image, one name".
fn bundle_records(engine_url: &str) -> PathBuf {
    let key = hex::encode(Sha256::digest(engine_url.as_bytes()));
    crate::facts::host::state_dir()
        .join("bundles")
        .join(&key[..16])
}

/// The record's file name: the id's hex, whichever way the engine writes ids.
fn bundle_record(engine_url: &str, id: &str) -> PathBuf {
    let hex: String = id
        .trim_start_matches("sha256:")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    bundle_records(engine_url).join(format!("{hex}.json"))
}

/// Record that `robodev load` brought image `id` (named `tag`, of `profile`) onto the engine at
/// `engine_url`: `clean` keeps it unless `--all`.
pub(super) fn record_bundle_load(
    engine_url: &str,
    id: &str,
    tag: &str,
    profile: &str,
) -> Result<()> {
    let record = serde_json::json!({
        "engine": engine_url,
        "image": id,
        "tag": tag,
        "profile": profile,
        "loaded": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    });
    crate::files::write_atomic(
        &bundle_record(engine_url, id),
        &serde_json::to_string_pretty(&record).unwrap_or_default(),
    )
}

fn loaded_from_bundle(engine_url: &str, id: &str) -> bool {
    bundle_record(engine_url, id).is_file()
}

/// The workspace an image was built in, from its `robodev.workspace` label: `~/…` (a workspace
/// under the home directory) is this user's home, whose own images `clean` judges.
fn built_in(image: &LabelledImage) -> Option<PathBuf> {
    let label = image.labels.get(labels::WORKSPACE)?;
    Some(crate::paths::expand_home(label))
}

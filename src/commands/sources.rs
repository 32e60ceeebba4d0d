//! `robodev sources import|status|update|export`: the workspace's other repositories, named by
//! the profile's `.repos` files, cloned with the user's own git and pinned in robodev.lock; and
//! the step `up` and `build` take first, which clones only what is missing.
//!
//! Deciding is `sources::plan` (pure), git is `sources::git`; here: which repositories, the
//! parallel run with one progress line each, what is recorded in the lock, what is said.

use super::session::Session;
use crate::error::{Error, Result};
use crate::facts::workspace::repos_files_at_root;
use crate::lockfile::sources::LockedSource;
use crate::lockfile::{LOCK_FILE, LockFile};
use crate::notice::Notice;
use crate::profile::Profile;
use crate::sources::export::{Exported, render};
use crate::sources::git::{self, Checkout, Observed};
use crate::sources::plan::{self, LockState, OnDisk, Purpose, Step, Target};
use crate::sources::{Repository, read_all};
use crate::ui::{Ui, print_out, shown_path, table};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// At most this many clones and fetches at once: enough to hide each server's latency, few
/// enough not to look like an attack to a git host.
const PARALLEL: usize = 8;

/// The repositories of the profile's `.repos` files; an error when it names none (and which
/// files at the workspace root it could name).
fn repositories(s: &Session, profile: &Profile) -> Result<Vec<Repository>> {
    if profile.sources.is_empty() {
        let found = repos_files_at_root(&s.workspace.root);
        let help = match found.first() {
            Some(first) => format!(
                "{} at the workspace root {} not used until the profile names {}: add \
                 `sources: [{first}]` to it",
                found.join(", "),
                if found.len() == 1 { "is" } else { "are" },
                if found.len() == 1 { "it" } else { "them" },
            ),
            None => {
                "add `sources: [team.repos]` (a vcstool file, relative to the profile) to it".into()
            }
        };
        return Err(Error::usage_with_help(
            format!(
                "profile {} names no .repos files (`sources:`)",
                profile.name
            ),
            help,
        ));
    }
    let repos = read_all(&profile.sources)?;
    for repo in &repos {
        if !inside(&s.workspace.root, &repo.path) {
            return Err(Error::profile(
                repo.declared_at.clone(),
                format!("repositories.{}", repo.path),
                format!(
                    "`{}` leads outside the workspace (through a symbolic link)",
                    repo.path
                ),
                Some("name a directory inside the workspace".into()),
            ));
        }
    }
    Ok(repos)
}

/// `path` (relative, without `..`, checked by the parser) stays inside `root` once the
/// symbolic links of the part that exists are followed.
fn inside(root: &Path, path: &str) -> bool {
    let Ok(root) = std::fs::canonicalize(root) else {
        return false;
    };
    let mut existing = root.join(path);
    while !existing.exists() {
        if !existing.pop() {
            return false;
        }
    }
    std::fs::canonicalize(&existing).is_ok_and(|real| real.starts_with(&root))
}

/// `up` and `build`: a profile without `sources:` is told of the `.repos` files it does not
/// use; with it, the repositories that are missing are cloned (at their locked commits), and
/// the clones already there are the user's, left as they are. `locked` (`--locked`): the lock
/// must record every repository, and nothing is recorded.
pub fn ensure_present(s: &Session, profile: &Profile, locked: bool) -> Result<()> {
    if profile.sources.is_empty() {
        let found = repos_files_at_root(&s.workspace.root);
        if !found.is_empty() {
            s.show(&[Notice::info(format!(
                "{} at the workspace root {} not imported: the profile has no `sources:` (add \
                 `sources: [{}]` to use {})",
                found.join(", "),
                if found.len() == 1 { "is" } else { "are" },
                found[0],
                if found.len() == 1 { "it" } else { "them" },
            ))]);
        }
        return Ok(());
    }
    let repos = repositories(s, profile)?;
    if locked {
        check_locked(s, &repos)?;
    }
    let missing: Vec<Repository> = repos
        .into_iter()
        .filter(|r| {
            matches!(
                git::inspect(&s.workspace.root.join(&r.path), None),
                OnDisk::Missing
            )
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    s.ui.info(format!(
        "importing {} missing repositor{} of the profile's .repos files",
        missing.len(),
        if missing.len() == 1 { "y" } else { "ies" }
    ));
    run(s, &missing, Purpose::Missing, locked, false)
}

/// `robodev sources import`: clone what is missing, move clean clones to their locked commits,
/// record what had no lock entry. `locked` (CI): the lock must name every repository as the
/// files do, and nothing is recorded.
pub fn import(s: &Session, reference: Option<&str>, locked: bool) -> Result<i32> {
    let profile = s.profile(reference)?;
    let repos = repositories(s, &profile)?;
    if locked {
        check_locked(s, &repos)?;
    }
    run(s, &repos, Purpose::Import, locked, true)?;
    Ok(0)
}

/// `robodev sources update [PATH…]`: each named repository (all by default) to what its
/// `.repos` file names on the remote now; `locked` only checks that the lock agrees.
pub fn update(s: &Session, reference: Option<&str>, paths: &[String], locked: bool) -> Result<i32> {
    let profile = s.profile(reference)?;
    let repos = repositories(s, &profile)?;
    if locked {
        check_locked(s, &repos)?;
        s.ui.success(format!(
            "{LOCK_FILE} records every repository of the .repos files as they name it"
        ));
        return Ok(0);
    }
    let chosen = choose(s, &repos, paths)?;
    run(s, &chosen, Purpose::Update, false, paths.is_empty())?;
    Ok(0)
}

/// The repositories `paths` name (as typed: relative to the current directory, or to the
/// workspace root); every one when none is named.
fn choose(s: &Session, repos: &[Repository], paths: &[String]) -> Result<Vec<Repository>> {
    if paths.is_empty() {
        return Ok(repos.to_vec());
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| s.workspace.root.clone());
    let mut chosen: Vec<Repository> = Vec::new();
    for typed in paths {
        let trimmed = typed.trim_end_matches('/');
        let from_cwd = cwd.join(trimmed);
        let found = repos.iter().find(|r| {
            r.path == trimmed.trim_start_matches("./")
                || s.workspace.root.join(&r.path) == from_cwd
                || std::fs::canonicalize(&from_cwd).is_ok_and(|p| {
                    std::fs::canonicalize(s.workspace.root.join(&r.path)).is_ok_and(|q| p == q)
                })
        });
        match found {
            Some(r) if !chosen.contains(r) => chosen.push(r.clone()),
            Some(_) => {}
            None => {
                let names: Vec<&str> = repos.iter().map(|r| r.path.as_str()).collect();
                return Err(Error::usage_with_help(
                    format!("`{typed}` is no repository of the profile's .repos files"),
                    match crate::suggest::closest(trimmed, names.iter().copied()) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!("they name: {}", names.join(", ")),
                    },
                ));
            }
        }
    }
    Ok(chosen)
}

fn check_locked(s: &Session, repos: &[Repository]) -> Result<()> {
    let lock = LockFile::read(&s.workspace.root)?;
    let found = plan::lock_disagreements(repos, lock.sources());
    if found.is_empty() {
        return Ok(());
    }
    Err(Error::CheckFailed {
        message: format!(
            "{} does not record the repositories as the .repos files name them (--locked):",
            shown_path(&lock.path)
        ),
        details: found,
        help: Some(format!(
            "run `robodev sources import` (or `sources update`) and commit {LOCK_FILE}"
        )),
    })
}

/// What happened to one repository.
enum Done {
    Cloned(Checkout),
    Moved { from: Option<String>, to: Checkout },
    Kept,
    LeftAlone(String),
}

/// Decide and carry out each repository's step, several at once, one progress line each;
/// record the commits in robodev.lock (unless `locked`), and, when `whole` (every repository of
/// the files), forget the entries of repositories no file names any more; fail when any
/// repository failed, or, with `locked`, was left alone.
fn run(
    s: &Session,
    repos: &[Repository],
    purpose: Purpose,
    locked: bool,
    whole: bool,
) -> Result<()> {
    let root = &s.workspace.root;
    let mut lock = LockFile::read(root)?;
    let steps: Vec<(Step, Option<String>)> = repos
        .iter()
        .map(|r| {
            let entry = lock.source(&r.path);
            let disk = git::inspect(&root.join(&r.path), entry.map(|e| e.commit.as_str()));
            let head = match &disk {
                OnDisk::Clone(c) => c.head.clone(),
                _ => None,
            };
            (plan::decide(r, entry, &disk, purpose), head)
        })
        .collect();
    let progress = Progress::new(s.ui, repos);
    let results: Vec<Mutex<Option<std::result::Result<Done, String>>>> =
        repos.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL.min(repos.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(repo) = repos.get(i) else { break };
                    let (step, head) = &steps[i];
                    progress.started(i, step);
                    let result = carry_out(&root.join(&repo.path), repo, step, head.clone());
                    progress.finished(i, &result);
                    *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                }
            });
        }
    });
    let mut failed = Vec::new();
    let mut left_alone = Vec::new();
    for (repo, result) in repos.iter().zip(results) {
        let result = result.into_inner().unwrap_or_else(|e| e.into_inner());
        match result {
            Some(Ok(Done::Cloned(to) | Done::Moved { to, .. })) => {
                let entry = LockedSource {
                    url: repo.url.clone(),
                    version: repo.version.clone(),
                    commit: to.commit,
                };
                if lock.source(&repo.path) != Some(&entry) {
                    lock.set_source(&repo.path, entry);
                }
            }
            Some(Ok(Done::Kept)) => {}
            Some(Ok(Done::LeftAlone(why))) => left_alone.push(format!("{}: {why}", repo.path)),
            Some(Err(e)) => failed.push(format!("{}: {e}", repo.path)),
            None => failed.push(format!("{}: not attempted", repo.path)),
        }
    }
    if whole {
        // Entries of repositories no file names any more are forgotten by a whole import.
        let gone: Vec<String> = lock
            .sources()
            .keys()
            .filter(|p| !repos.iter().any(|r| &r.path == *p))
            .cloned()
            .collect();
        for path in gone {
            s.ui.info(format!(
                "{path}: no .repos file names it any more; its entry in {LOCK_FILE} is removed \
                 (the directory is left as it is)"
            ));
            lock.remove_source(&path);
        }
    }
    if !locked && lock.has_changes() {
        lock.write()?;
        s.ui.success(format!(
            "recorded the commits in {}",
            shown_path(&lock.path)
        ));
    }
    for line in &left_alone {
        s.ui.warn(format!("left alone: {line}"));
    }
    if !failed.is_empty() || (locked && !left_alone.is_empty()) {
        let mut details = failed;
        if locked {
            details.extend(
                left_alone
                    .iter()
                    .map(|l| format!("{l} (not at its locked commit)")),
            );
        }
        return Err(Error::CheckFailed {
            message: format!(
                "{} of {} repositories {}:",
                details.len(),
                repos.len(),
                if purpose == Purpose::Update {
                    "could not be updated"
                } else {
                    "could not be imported"
                }
            ),
            details,
            help: Some(
                "check the url and your access (`git ls-remote URL` as you), then run the \
                 command again; repositories already imported are kept. A locked commit the \
                 remote no longer has: `robodev sources update PATH` records what the file \
                 names now"
                    .into(),
            ),
        });
    }
    Ok(())
}

fn carry_out(
    dir: &Path,
    repo: &Repository,
    step: &Step,
    head: Option<String>,
) -> std::result::Result<Done, String> {
    match step {
        Step::Clone(target) => git::clone(&repo.url, dir, target).map(Done::Cloned),
        Step::Move(target) => {
            git::move_to(dir, &repo.url, target).map(|to| Done::Moved { from: head, to })
        }
        Step::Keep => Ok(Done::Kept),
        Step::LeaveAlone(why) => Ok(Done::LeftAlone(why.clone())),
    }
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

fn describe(result: &std::result::Result<Done, String>) -> String {
    let at = |c: &Checkout| {
        let mut text = match &c.branch {
            Some(b) => format!("{b} at {}", short(&c.commit)),
            None => format!("{} (detached)", short(&c.commit)),
        };
        if c.shallow {
            text.push_str(", shallow");
        }
        text
    };
    match result {
        Ok(Done::Cloned(c)) => format!("cloned: {}", at(c)),
        Ok(Done::Moved { from, to }) if from.as_deref() == Some(to.commit.as_str()) => {
            format!("up to date: {}", at(to))
        }
        Ok(Done::Moved { from, to }) => format!(
            "moved from {} to {}",
            from.as_deref().map(short).unwrap_or("nothing"),
            at(to)
        ),
        Ok(Done::Kept) => "as it is".into(),
        Ok(Done::LeftAlone(why)) => format!("left alone: {why}"),
        Err(e) => format!("failed: {e}"),
    }
}

/// One line per repository: on a terminal a spinner that becomes its result, elsewhere the
/// result when it is known; nothing with -q.
struct Progress {
    ui: Ui,
    bars: Option<(MultiProgress, Vec<ProgressBar>)>,
    paths: Vec<String>,
    width: usize,
}

impl Progress {
    fn new(ui: Ui, repos: &[Repository]) -> Progress {
        let paths: Vec<String> = repos.iter().map(|r| r.path.clone()).collect();
        let width = paths.iter().map(|p| p.chars().count()).max().unwrap_or(0);
        let on_terminal = console::Term::stderr().is_term() && !ui.quiet;
        let bars = on_terminal.then(|| {
            let multi = MultiProgress::new();
            let style = ProgressStyle::with_template("{spinner} {prefix} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let bars = paths
                .iter()
                .map(|p| {
                    let bar = multi.add(ProgressBar::new_spinner());
                    bar.set_style(style.clone());
                    bar.set_prefix(format!("{p:width$}"));
                    bar.set_message("waiting");
                    bar
                })
                .collect();
            (multi, bars)
        });
        Progress {
            ui,
            bars,
            paths,
            width,
        }
    }

    fn started(&self, i: usize, step: &Step) {
        if let Some((_, bars)) = &self.bars {
            let doing = match step {
                Step::Clone(_) => "cloning",
                Step::Move(Target::Locked { .. }) => "fetching the locked commit",
                Step::Move(Target::Latest { .. }) => "fetching",
                _ => "looking",
            };
            bars[i].set_message(doing);
            bars[i].enable_steady_tick(std::time::Duration::from_millis(120));
        }
    }

    fn finished(&self, i: usize, result: &std::result::Result<Done, String>) {
        let text = describe(result);
        match &self.bars {
            Some((_, bars)) => bars[i].finish_with_message(text),
            None if !self.ui.quiet => {
                let path = &self.paths[i];
                eprintln!(
                    "  {path:width$}  {}",
                    crate::ui::plain(&text),
                    width = self.width
                );
            }
            None => {}
        }
    }
}

/// One row of `sources status`.
#[derive(Serialize)]
struct StatusRow {
    path: String,
    url: String,
    version: Option<String>,
    /// The commit robodev.lock records.
    locked: Option<String>,
    /// `matches`, `differs` (the file changed since) or `absent`.
    lock: &'static str,
    /// The commit checked out.
    commit: Option<String>,
    branch: Option<String>,
    missing: bool,
    /// The directory holds files but no repository of its own.
    not_git: bool,
    dirty: bool,
    /// Commits ahead of and behind the branch's upstream.
    ahead: Option<usize>,
    behind: Option<usize>,
    /// Commits that no remote branch or tag holds.
    local_commits: usize,
    /// Another remote than the file's url.
    origin: Option<String>,
}

/// `robodev sources status`: each repository as the lock records it and as it is on disk.
pub fn status(s: &Session, reference: Option<&str>, json: bool) -> Result<i32> {
    let profile = s.profile(reference)?;
    let repos = repositories(s, &profile)?;
    let lock = LockFile::read(&s.workspace.root)?;
    let observed: Vec<(OnDisk, Observed)> = std::thread::scope(|scope| {
        let handles: Vec<_> = repos
            .iter()
            .map(|r| {
                let dir = s.workspace.root.join(&r.path);
                let locked = lock.source(&r.path).map(|l| l.commit.clone());
                scope.spawn(move || match git::inspect_missing(&dir) {
                    Some(disk) => (disk, Observed::default()),
                    None => {
                        let seen = git::observe(&dir, locked.as_deref());
                        (OnDisk::Clone(seen.state.clone()), seen)
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or((OnDisk::Missing, Observed::default())))
            .collect()
    });
    let rows: Vec<StatusRow> = repos
        .iter()
        .zip(&observed)
        .map(|(repo, (disk, seen))| {
            let entry = lock.source(&repo.path);
            let state = &seen.state;
            StatusRow {
                path: repo.path.clone(),
                url: repo.url.clone(),
                version: repo.version.clone(),
                locked: entry.map(|e| e.commit.clone()),
                lock: match plan::lock_state(repo, entry) {
                    LockState::Matches => "matches",
                    LockState::Differs(_) => "differs",
                    LockState::Absent => "absent",
                },
                commit: state.head.clone(),
                branch: state.branch.clone(),
                missing: matches!(disk, OnDisk::Missing),
                not_git: matches!(disk, OnDisk::NotGit),
                dirty: state.dirty,
                ahead: seen.ahead_behind.map(|(a, _)| a),
                behind: seen.ahead_behind.map(|(_, b)| b),
                local_commits: state.local_commits,
                origin: state
                    .origin
                    .clone()
                    .filter(|o| !plan::same_url(o, &repo.url)),
            }
        })
        .collect();
    if json {
        print_out(&serde_json::to_string_pretty(&rows).unwrap_or_default());
        return Ok(0);
    }
    let table_rows: Vec<[String; 5]> = rows.iter().map(status_cells).collect();
    print_out(&table(
        ["PATH", "LOCKED", "CHECKED OUT", "BRANCH", "STATE"],
        &table_rows,
    ));
    Ok(0)
}

fn status_cells(r: &StatusRow) -> [String; 5] {
    let locked = match (&r.locked, r.lock) {
        (Some(c), "differs") => format!("{} (file changed)", short(c)),
        (Some(c), _) => short(c).to_string(),
        (None, _) => "-".into(),
    };
    let mut state = Vec::new();
    if r.missing {
        state.push("missing".to_string());
    }
    if r.not_git {
        state.push("not a git repository".to_string());
    }
    if r.dirty {
        state.push("dirty".into());
    }
    match (r.ahead, r.behind) {
        (Some(a), Some(b)) => {
            if a > 0 {
                state.push(format!("ahead {a}"));
            }
            if b > 0 {
                state.push(format!("behind {b}"));
            }
        }
        _ if r.local_commits > 0 => state.push(format!("{} local commits", r.local_commits)),
        _ => {}
    }
    if let Some(o) = &r.origin {
        state.push(format!("origin {o}"));
    }
    if let (Some(l), Some(c)) = (&r.locked, &r.commit)
        && l != c
    {
        state.push("not at the locked commit".into());
    }
    if state.is_empty() {
        state.push("clean".into());
    }
    [
        r.path.clone(),
        locked,
        r.commit.as_deref().map(short).unwrap_or("-").to_string(),
        r.branch.clone().unwrap_or_else(|| "-".into()),
        state.join(", "),
    ]
}

/// `robodev sources export`: a `.repos` file of the clones as they are, to stdout or `output`.
pub fn export(
    s: &Session,
    reference: Option<&str>,
    exact: bool,
    output: Option<PathBuf>,
) -> Result<i32> {
    let profile = s.profile(reference)?;
    let repos = repositories(s, &profile)?;
    // Keys relative to the one directory every file's repositories go under; else the root.
    let intos: Vec<&str> = profile.sources.iter().map(|f| f.into.as_str()).collect();
    let into = match intos.as_slice() {
        [first, rest @ ..] if rest.iter().all(|i| i == first) => first.to_string(),
        _ => ".".to_string(),
    };
    let mut exported = Vec::new();
    for repo in &repos {
        let dir = s.workspace.root.join(&repo.path);
        if git::inspect_missing(&dir).is_some() {
            s.ui.warn(format!("{}: not exported, it is not cloned", repo.path));
            continue;
        }
        let seen = git::observe(&dir, None);
        let Some(commit) = seen.state.head else {
            s.ui.warn(format!("{}: not exported, it has no commit", repo.path));
            continue;
        };
        if seen.state.dirty {
            s.ui.warn(format!(
                "{}: has uncommitted changes, which the file cannot carry",
                repo.path
            ));
        }
        let key = match into.as_str() {
            "." => repo.path.clone(),
            into => repo
                .path
                .strip_prefix(&format!("{into}/"))
                .unwrap_or(&repo.path)
                .to_string(),
        };
        exported.push(Exported {
            key,
            url: seen.state.origin.unwrap_or_else(|| repo.url.clone()),
            commit,
            branch: seen.state.branch,
        });
    }
    let text = render(&exported, exact, &into);
    match output {
        Some(path) => {
            crate::files::write_atomic(&path, &text)?;
            s.ui.success(format!("wrote {}", shown_path(&path)));
        }
        None => print_out(&text),
    }
    Ok(0)
}

/// The deploy image's labels naming the commit of each repository of the `.repos` files as
/// built (`robodev.source.PATH`; `-dirty` after it when the clone has changes of its own).
pub fn commit_labels(s: &Session, profile: &Profile) -> std::collections::BTreeMap<String, String> {
    let Ok(repos) = read_all(&profile.sources) else {
        return Default::default();
    };
    repos
        .iter()
        .filter_map(|r| {
            let dir = s.workspace.root.join(&r.path);
            if git::inspect_missing(&dir).is_some() {
                return None;
            }
            let seen = git::observe(&dir, None).state;
            let commit = seen.head?;
            let suffix = if seen.dirty { "-dirty" } else { "" };
            Some((
                format!("robodev.source.{}", r.path),
                format!("{commit}{suffix}"),
            ))
        })
        .collect()
}

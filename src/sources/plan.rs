//! What to do with each repository, decided from its `.repos` entry, its robodev.lock entry and
//! what is on disk. Pure: `git` observes and executes, this only decides, so every rule (above
//! all: never lose work) is tested without git.

use super::repos_file::Repository;
use crate::lockfile::sources::LockedSource;

/// A repository's directory as `git::inspect` found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnDisk {
    /// Nothing there, or an empty directory.
    Missing,
    /// Files that are not a git repository of their own.
    NotGit,
    Clone(CloneState),
}

/// A clone's state, as far as deciding needs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CloneState {
    /// `remote.origin.url`.
    pub origin: Option<String>,
    /// The commit checked out; `None` in a repository with no commit yet.
    pub head: Option<String>,
    /// The branch checked out; `None` when detached.
    pub branch: Option<String>,
    /// Uncommitted changes, untracked files included (a submodule's changes too).
    pub dirty: bool,
    /// Commits on a local branch or HEAD that no remote branch, tag or the locked commit holds.
    pub local_commits: usize,
}

/// Whether robodev.lock's entry still describes the `.repos` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockState {
    Absent,
    Matches,
    /// The file's url or version changed since the commit was recorded: what changed.
    Differs(String),
}

pub fn lock_state(repo: &Repository, locked: Option<&LockedSource>) -> LockState {
    let Some(locked) = locked else {
        return LockState::Absent;
    };
    if !same_url(&locked.url, &repo.url) {
        return LockState::Differs(format!("url was {}, is {}", locked.url, repo.url));
    }
    if locked.version != repo.version {
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(default branch)".into());
        return LockState::Differs(format!(
            "version was {}, is {}",
            shown(&locked.version),
            shown(&repo.version)
        ));
    }
    LockState::Matches
}

/// What a repository is moved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The commit robodev.lock records (`version` says whether it is on a branch).
    Locked {
        commit: String,
        version: Option<String>,
    },
    /// What the `.repos` file's version names on the remote now (a branch's tip).
    Latest { version: Option<String> },
}

/// What to do with one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Clone(Target),
    /// Fetch and check out in the existing clone.
    Move(Target),
    /// Already at the locked commit.
    Keep,
    /// Not touched, and why.
    LeaveAlone(String),
}

/// Which command decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// `sources import`: the locked commit when the lock matches the file, else the file's
    /// version; a clone already there is moved only to a locked commit.
    Import,
    /// `up`/`build`: only what is missing is cloned; a clone there is the user's to move.
    Missing,
    /// `sources update`: the file's version as the remote has it now.
    Update,
}

pub fn decide(
    repo: &Repository,
    locked: Option<&LockedSource>,
    disk: &OnDisk,
    purpose: Purpose,
) -> Step {
    let target = match (purpose, lock_state(repo, locked), locked) {
        (Purpose::Update, _, _)
        | (_, LockState::Absent | LockState::Differs(_), _)
        | (_, _, None) => Target::Latest {
            version: repo.version.clone(),
        },
        (_, LockState::Matches, Some(l)) => Target::Locked {
            commit: l.commit.clone(),
            version: l.version.clone(),
        },
    };
    let clone = match disk {
        OnDisk::Missing => return Step::Clone(target),
        OnDisk::NotGit => {
            return Step::LeaveAlone(
                "the directory holds files but is no git repository of its own".into(),
            );
        }
        OnDisk::Clone(clone) => clone,
    };
    if purpose == Purpose::Missing {
        return Step::Keep;
    }
    match &clone.origin {
        Some(origin) if same_url(origin, &repo.url) => {}
        Some(origin) => {
            return Step::LeaveAlone(format!(
                "its origin is {origin}, the .repos file names {}",
                repo.url
            ));
        }
        None => return Step::LeaveAlone("it has no `origin` remote".into()),
    }
    if clone.dirty {
        return Step::LeaveAlone("it has uncommitted changes".into());
    }
    if clone.local_commits > 0 {
        let n = clone.local_commits;
        return Step::LeaveAlone(format!(
            "it has {n} commit{} on no remote branch",
            if n == 1 { "" } else { "s" }
        ));
    }
    match &target {
        Target::Locked { commit, version } if clone.head.as_deref() == Some(commit.as_str()) => {
            // At the commit; on the branch the file names, or detached for a tag or commit.
            let on_branch = clone.branch.is_some() && clone.branch == *version;
            if on_branch || clone.branch.is_none() {
                Step::Keep
            } else {
                Step::Move(target)
            }
        }
        _ => Step::Move(target),
    }
}

/// Two spellings of one remote: a trailing `/` or `.git` makes no difference to git.
pub fn same_url(a: &str, b: &str) -> bool {
    fn norm(u: &str) -> &str {
        let u = u.trim_end_matches('/');
        u.strip_suffix(".git").unwrap_or(u)
    }
    norm(a) == norm(b)
}

/// A full commit hash (SHA-1 or SHA-256), which names one commit wherever it is.
pub fn is_full_commit(version: &str) -> bool {
    (version.len() == 40 || version.len() == 64) && version.chars().all(|c| c.is_ascii_hexdigit())
}

/// The lock disagreements `--locked` refuses: each repository the file names whose entry is
/// absent or stale, and each entry no file names any more.
pub fn lock_disagreements(
    repos: &[Repository],
    lock: &std::collections::BTreeMap<String, LockedSource>,
) -> Vec<String> {
    let mut out = Vec::new();
    for repo in repos {
        match lock_state(repo, lock.get(&repo.path)) {
            LockState::Matches => {}
            LockState::Absent => out.push(format!("{}: no commit recorded", repo.path)),
            LockState::Differs(what) => out.push(format!("{}: {what}", repo.path)),
        }
    }
    for path in lock.keys() {
        if !repos.iter().any(|r| &r.path == path) {
            out.push(format!("{path}: recorded, but no .repos file names it"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::SourcePos;

    fn repo(version: Option<&str>) -> Repository {
        Repository {
            path: "src/a".into(),
            url: "git://127.0.0.1/a.git".into(),
            version: version.map(String::from),
            declared_at: SourcePos {
                file: "t.repos".into(),
                line: 2,
                column: 3,
            },
        }
    }

    fn locked(version: Option<&str>, commit: &str) -> LockedSource {
        LockedSource {
            url: "git://127.0.0.1/a".into(),
            version: version.map(String::from),
            commit: commit.into(),
        }
    }

    fn clean(head: &str, branch: Option<&str>) -> OnDisk {
        OnDisk::Clone(CloneState {
            origin: Some("git://127.0.0.1/a.git".into()),
            head: Some(head.into()),
            branch: branch.map(String::from),
            dirty: false,
            local_commits: 0,
        })
    }

    #[test]
    fn a_missing_repository_is_cloned_at_the_locked_commit_or_the_files_version() {
        let l = locked(Some("main"), "c1");
        assert_eq!(
            decide(
                &repo(Some("main")),
                Some(&l),
                &OnDisk::Missing,
                Purpose::Import
            ),
            Step::Clone(Target::Locked {
                commit: "c1".into(),
                version: Some("main".into())
            })
        );
        assert_eq!(
            decide(
                &repo(Some("dev")),
                Some(&l),
                &OnDisk::Missing,
                Purpose::Import
            ),
            Step::Clone(Target::Latest {
                version: Some("dev".into())
            })
        );
        assert_eq!(
            decide(&repo(None), None, &OnDisk::Missing, Purpose::Missing),
            Step::Clone(Target::Latest { version: None })
        );
    }

    #[test]
    fn work_is_never_touched() {
        let l = locked(Some("main"), "c2");
        let r = repo(Some("main"));
        let with = |f: &dyn Fn(&mut CloneState)| {
            let OnDisk::Clone(mut c) = clean("c1", Some("main")) else {
                unreachable!()
            };
            f(&mut c);
            OnDisk::Clone(c)
        };
        for purpose in [Purpose::Import, Purpose::Update] {
            let dirty = decide(&r, Some(&l), &with(&|c| c.dirty = true), purpose);
            assert!(matches!(dirty, Step::LeaveAlone(ref w) if w.contains("uncommitted")));
            let ahead = decide(&r, Some(&l), &with(&|c| c.local_commits = 2), purpose);
            assert!(matches!(ahead, Step::LeaveAlone(ref w) if w.contains("2 commits")));
            let other = with(&|c| c.origin = Some("git@elsewhere:a".into()));
            assert!(
                matches!(decide(&r, Some(&l), &other, purpose), Step::LeaveAlone(ref w) if w.contains("elsewhere"))
            );
            assert!(matches!(
                decide(&r, Some(&l), &OnDisk::NotGit, purpose),
                Step::LeaveAlone(_)
            ));
        }
        assert_eq!(
            decide(&r, Some(&l), &with(&|c| c.dirty = true), Purpose::Missing),
            Step::Keep
        );
    }

    #[test]
    fn a_clean_clone_moves_to_the_lock_and_stays_when_there() {
        let l = locked(Some("main"), "c2");
        let r = repo(Some("main"));
        assert_eq!(
            decide(&r, Some(&l), &clean("c2", Some("main")), Purpose::Import),
            Step::Keep
        );
        assert_eq!(
            decide(&r, Some(&l), &clean("c2", None), Purpose::Import),
            Step::Keep
        );
        assert!(matches!(
            decide(&r, Some(&l), &clean("c1", Some("main")), Purpose::Import),
            Step::Move(Target::Locked { .. })
        ));
        assert!(matches!(
            decide(&r, Some(&l), &clean("c2", Some("main")), Purpose::Update),
            Step::Move(Target::Latest { .. })
        ));
    }

    #[test]
    fn disagreements_name_each_path() {
        let repos = vec![repo(Some("dev"))];
        let mut lock = std::collections::BTreeMap::new();
        lock.insert("src/a".to_string(), locked(Some("main"), "c"));
        lock.insert("src/gone".to_string(), locked(None, "c"));
        let found = lock_disagreements(&repos, &lock);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("version was main, is dev"));
        assert!(found[1].starts_with("src/gone"));
        lock.clear();
        assert_eq!(
            lock_disagreements(&repos, &lock),
            vec!["src/a: no commit recorded"]
        );
        assert!(same_url("https://h/a.git/", "https://h/a"));
        assert!(is_full_commit(&"a".repeat(40)) && !is_full_commit("abc123"));
    }
}

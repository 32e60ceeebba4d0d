//! Running the user's own `git` on the workspace's repositories: as the user, with their
//! configuration, so ssh keys, the ssh agent, credential helpers and `insteadOf` rules apply as
//! they do in a terminal. `inspect` and `status` observe a clone; `clone` and `move_to` carry out
//! a `plan::Step` (which has already ruled out touching anyone's work).

use super::plan::{CloneState, OnDisk, Target, is_full_commit};
use std::path::Path;
use std::process::{Command, Stdio};

/// What a clone holds after robodev checked it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkout {
    pub commit: String,
    /// The branch checked out; `None`: detached (a tag or a commit).
    pub branch: Option<String>,
    /// A shallow clone (the commit's history was not needed).
    pub shallow: bool,
}

/// `git` with `args` in `dir`: its trimmed stdout, or its stderr's message. Never a prompt:
/// with several clones at once a password prompt could not be answered (a credential helper or
/// the ssh agent answers instead).
fn git(dir: Option<&Path>, args: &[&str]) -> Result<String, String> {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.arg("-C").arg(dir);
    }
    let out = command
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
        .collect();
    let shown = lines[lines.len().saturating_sub(3)..].join("; ");
    Err(if shown.is_empty() {
        format!(
            "git {} failed ({})",
            args.first().unwrap_or(&""),
            out.status
        )
    } else {
        shown
    })
}

fn ok(dir: &Path, args: &[&str]) -> bool {
    git(Some(dir), args).is_ok()
}

/// A directory that is a repository of its own (not a folder of the workspace's repository).
fn is_clone(path: &Path) -> bool {
    path.join(".git").exists()
}

fn is_missing(path: &Path) -> bool {
    match std::fs::read_dir(path) {
        Ok(mut entries) => entries.next().is_none(),
        Err(_) => !path.exists(),
    }
}

/// What is at `path` when it is no clone (missing, or files of no repository of their own).
pub fn inspect_missing(path: &Path) -> Option<OnDisk> {
    if is_missing(path) {
        Some(OnDisk::Missing)
    } else if !is_clone(path) {
        Some(OnDisk::NotGit)
    } else {
        None
    }
}

/// What is at `path`. `locked`: the commit robodev.lock records, which is robodev's, not the
/// user's, when nothing else holds it (a commit on no branch).
pub fn inspect(path: &Path, locked: Option<&str>) -> OnDisk {
    if is_missing(path) {
        return OnDisk::Missing;
    }
    if !is_clone(path) {
        return OnDisk::NotGit;
    }
    let observed = observe(path, locked);
    OnDisk::Clone(observed.state)
}

/// A clone as `sources status` shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    pub state: CloneState,
    /// Ahead of and behind the branch's upstream; `None` without one (detached, no upstream).
    pub ahead_behind: Option<(usize, usize)>,
}

/// One `git status --porcelain=v2 --branch` (head, branch, upstream counts, changes), the
/// origin, and the commits no remote holds.
pub fn observe(path: &Path, locked: Option<&str>) -> Observed {
    let status = git(Some(path), &["status", "--porcelain=v2", "--branch"]).unwrap_or_default();
    let mut state = CloneState::default();
    let mut ahead_behind = None;
    for line in status.lines() {
        if let Some(oid) = line.strip_prefix("# branch.oid ") {
            state.head = (oid != "(initial)").then(|| oid.to_string());
        } else if let Some(head) = line.strip_prefix("# branch.head ") {
            state.branch = (head != "(detached)").then(|| head.to_string());
        } else if let Some(ab) = line.strip_prefix("# branch.ab ") {
            let mut counts = ab.split(' ').map(|n| {
                n.trim_start_matches(['+', '-'])
                    .parse::<usize>()
                    .unwrap_or(0)
            });
            ahead_behind = Some((counts.next().unwrap_or(0), counts.next().unwrap_or(0)));
        } else if !line.starts_with('#') && !line.is_empty() {
            state.dirty = true;
        }
    }
    state.origin = git(Some(path), &["config", "--get", "remote.origin.url"]).ok();
    if state.head.is_some() {
        let mut args = vec![
            "rev-list",
            "--count",
            "HEAD",
            "--branches",
            "--not",
            "--remotes",
            "--tags",
        ];
        let locked = locked.filter(|c| is_full_commit(c) && has_commit(path, c));
        if let Some(c) = locked {
            args.push(c);
        }
        state.local_commits = git(Some(path), &args)
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
    }
    Observed {
        state,
        ahead_behind,
    }
}

fn has_commit(path: &Path, commit: &str) -> bool {
    ok(path, &["cat-file", "-e", &format!("{commit}^{{commit}}")])
}

fn rev(path: &Path, name: &str) -> Option<String> {
    git(
        Some(path),
        &["rev-parse", "-q", "--verify", &format!("{name}^{{commit}}")],
    )
    .ok()
}

/// Clone `url` into `path` (absent or empty) and check `target` out. Shallow where the commit
/// allows it: a branch or tag is cloned one commit deep, deepened only when the locked commit
/// is further back.
pub fn clone(url: &str, path: &Path, target: &Target) -> Result<Checkout, String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let dest = path.to_string_lossy();
    let version = target_version(target);
    let shallow_ok = version.is_none_or(|v| !is_full_commit(v));
    let mut shallow_args = vec!["clone", "-q", "--no-checkout", "--depth", "1"];
    if let Some(v) = version {
        shallow_args.extend(["--branch", v]);
    }
    shallow_args.extend(["--", url, &dest]);
    let full_args = ["clone", "-q", "--no-checkout", "--", url, &dest];
    let cloned = if shallow_ok {
        git(None, &shallow_args).or_else(|_| git(None, &full_args))
    } else {
        git(None, &full_args)
    };
    cloned?;
    // A shallow clone fetches only its branch; later fetches (an update to another branch, a
    // teammate's `git fetch`) should see every branch, as after an ordinary clone.
    let checked_out = git(
        Some(path),
        &[
            "config",
            "remote.origin.fetch",
            "+refs/heads/*:refs/remotes/origin/*",
        ],
    )
    .and_then(|_| check_out(path, url, target));
    if checked_out.is_err() {
        // The clone is robodev's own, made just now into nothing: without its commit checked
        // out it would look like a clone whose files were all deleted (work, to be left alone).
        let _ = std::fs::remove_dir_all(path);
    }
    checked_out
}

/// Fetch in a clean clone whose origin is the file's url, and check `target` out.
pub fn move_to(path: &Path, url: &str, target: &Target) -> Result<Checkout, String> {
    git(
        Some(path),
        &[
            "fetch",
            "-q",
            "--tags",
            "origin",
            "+refs/heads/*:refs/remotes/origin/*",
        ],
    )?;
    check_out(path, url, target)
}

fn target_version(target: &Target) -> Option<&str> {
    match target {
        Target::Locked { version, .. } | Target::Latest { version } => version.as_deref(),
    }
}

fn check_out(path: &Path, url: &str, target: &Target) -> Result<Checkout, String> {
    let version = target_version(target);
    let commit = match target {
        Target::Locked { commit, .. } => {
            if !ensure_commit(path, commit) {
                return Err(format!(
                    "commit {commit} (robodev.lock) is not on {url} any more"
                ));
            }
            commit.clone()
        }
        Target::Latest { version } => {
            resolve(path, version.as_deref()).ok_or_else(|| match version {
                Some(v) => format!("{url} has no branch, tag or commit `{v}`"),
                None => format!("{url} has no default branch"),
            })?
        }
    };
    let branch = match version {
        Some(v) if rev(path, &format!("refs/remotes/origin/{v}")).is_some() => Some(v.to_string()),
        Some(_) => None,
        None => default_branch(path),
    };
    match &branch {
        Some(b) => {
            git(Some(path), &["checkout", "-q", "-B", b, &commit, "--"])?;
            git(
                Some(path),
                &["branch", "-q", &format!("--set-upstream-to=origin/{b}"), b],
            )?;
        }
        None => {
            git(Some(path), &["checkout", "-q", "--detach", &commit, "--"])?;
        }
    }
    if path.join(".gitmodules").is_file() {
        git(
            Some(path),
            &["submodule", "update", "-q", "--init", "--recursive"],
        )
        .map_err(|e| format!("its submodules: {e}"))?;
    }
    Ok(Checkout {
        commit,
        branch,
        shallow: path.join(".git").join("shallow").is_file(),
    })
}

/// The remote's default branch, as the clone recorded it (`origin/HEAD`).
fn default_branch(path: &Path) -> Option<String> {
    let head = git(
        Some(path),
        &["symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"],
    )
    .ok()
    .or_else(|| {
        git(Some(path), &["remote", "set-head", "origin", "--auto"]).ok()?;
        git(
            Some(path),
            &["symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"],
        )
        .ok()
    })?;
    head.strip_prefix("origin/").map(String::from)
}

/// The commit the file's version names on the remote now: a branch's tip, a tag's commit, a
/// commit (fetched by its hash when no branch holds it).
fn resolve(path: &Path, version: Option<&str>) -> Option<String> {
    let Some(v) = version else {
        let branch = default_branch(path)?;
        return rev(path, &format!("refs/remotes/origin/{branch}"));
    };
    rev(path, &format!("refs/remotes/origin/{v}"))
        .or_else(|| rev(path, &format!("refs/tags/{v}")))
        .or_else(|| {
            if is_full_commit(v) || v.len() >= 7 && v.chars().all(|c| c.is_ascii_hexdigit()) {
                ensure_commit(path, v).then(|| rev(path, v)).flatten()
            } else {
                None
            }
        })
}

/// Make `commit` present: deepen a shallow clone, then ask for it by hash (a commit that no
/// branch holds).
fn ensure_commit(path: &Path, commit: &str) -> bool {
    if has_commit(path, commit) {
        return true;
    }
    if path.join(".git").join("shallow").is_file() {
        let _ = git(
            Some(path),
            &["fetch", "-q", "--unshallow", "--tags", "origin"],
        );
        if has_commit(path, commit) {
            return true;
        }
    }
    if is_full_commit(commit) {
        let _ = git(Some(path), &["fetch", "-q", "origin", commit]);
    }
    has_commit(path, commit)
}

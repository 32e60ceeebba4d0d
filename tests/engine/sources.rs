//! Multi-repo workspaces for real: bare repositories made here, served as `file://`, by
//! `git daemon` on 127.0.0.1 and over ssh through Debian's sshd as a git user whose key only an
//! ssh-agent holds; `robodev sources …` against them, and Debian's vcstool as the reference.
//! No container engine is needed. With CI=true a missing git, git daemon, sshd or vcstool fails
//! the test instead of skipping it.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// Whether `program` can be run; with CI=true, a failure when it cannot.
fn have(what: &str, check: &mut Command) -> bool {
    let ok = check.output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true but {what} is missing: scripts/provision.sh installs it"
        );
        eprintln!("skipped: {what} is missing");
    }
    ok
}

fn git_and_daemon() -> bool {
    have("git", Command::new("git").arg("--version"))
        && have(
            "git daemon",
            Command::new("sh").args(["-c", "test -x \"$(git --exec-path)/git-daemon\""]),
        )
}

fn vcstool() -> bool {
    have(
        "vcstool (Debian's `vcstool`)",
        Command::new("vcs").arg("--version"),
    )
}

/// `git ARGS` in `dir` with a fixed identity; its stdout, or the test fails with its stderr.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "protocol.file.allow=always",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "safe.directory=*",
        ])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        stderr(&out)
    );
    stdout(&out).trim().to_string()
}

/// Bare repositories under `srv/`, each with a working clone under `work/` to make commits in.
struct Forge {
    dir: tempfile::TempDir,
}

impl Forge {
    fn new() -> Forge {
        let dir = tempfile::Builder::new()
            .prefix("robodev-forge-")
            .tempdir_in(scratch())
            .unwrap();
        std::fs::create_dir_all(dir.path().join("srv")).unwrap();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        Forge { dir }
    }

    fn srv(&self) -> PathBuf {
        self.dir.path().join("srv")
    }

    fn work(&self, name: &str) -> PathBuf {
        self.dir.path().join("work").join(name)
    }

    /// A repository `name` with one commit on `main`; its working clone.
    fn repo(&self, name: &str) -> PathBuf {
        let bare = self.srv().join(format!("{name}.git"));
        std::fs::create_dir_all(&bare).unwrap();
        git(&bare, &["init", "-q", "--bare", "-b", "main"]);
        let work = self.work(name);
        git(
            self.dir.path(),
            &[
                "clone",
                "-q",
                bare.to_str().unwrap(),
                work.to_str().unwrap(),
            ],
        );
        self.commit(name, "README", &format!("{name} 1\n"));
        work
    }

    /// A commit on the working clone's current branch, pushed; its hash.
    fn commit(&self, name: &str, file: &str, text: &str) -> String {
        let work = self.work(name);
        std::fs::write(work.join(file), text).unwrap();
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", &format!("{file}: {text}")]);
        git(&work, &["push", "-q", "origin", "HEAD"]);
        git(&work, &["rev-parse", "HEAD"])
    }

    fn url(&self, name: &str) -> String {
        format!("file://{}/{name}.git", self.srv().display())
    }
}

/// `git daemon` serving `base` on a free loopback port, stopped when dropped.
struct Daemon {
    port: u16,
    child: std::process::Child,
}

impl Daemon {
    fn start(base: &Path) -> Daemon {
        let port = free_port();
        // git-daemon itself: `git daemon` would run it as a child that outlives a kill.
        let exec_path = stdout(&Command::new("git").arg("--exec-path").output().unwrap());
        let child = Command::new(Path::new(exec_path.trim()).join("git-daemon"))
            .args([
                "--export-all",
                "--reuseaddr",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", base.display()),
            ])
            .arg(base)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("git daemon");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Daemon { port, child }
    }

    fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}.git", self.port)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const PROFILE: &str = "version: 1\nname: multi\nextends: debian\nsources: [team.repos]\n";

/// A `.repos` file: (path, url, version).
fn repos_file(entries: &[(&str, &str, Option<&str>)]) -> String {
    let mut text = String::from("repositories:\n");
    for (path, url, version) in entries {
        text.push_str(&format!("  {path}:\n    type: git\n    url: {url}\n"));
        if let Some(v) = version {
            text.push_str(&format!("    version: {v}\n"));
        }
    }
    text
}

fn robodev(ws: &Ws, args: &[&str]) -> Output {
    let out = ws.run(args);
    eprintln!("robodev {args:?}:\n{}{}", stdout(&out), stderr(&out));
    out
}

fn ok(ws: &Ws, args: &[&str]) -> Output {
    let out = robodev(ws, args);
    assert!(out.status.success(), "robodev {args:?} failed");
    out
}

fn head(dir: &Path) -> String {
    git(dir, &["rev-parse", "HEAD"])
}

fn status_json(ws: &Ws) -> Vec<serde_json::Value> {
    let out = ok(ws, &["sources", "status", "--json"]);
    serde_json::from_str(&stdout(&out)).unwrap()
}

fn row<'a>(rows: &'a [serde_json::Value], path: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["path"] == path)
        .unwrap_or_else(|| panic!("no {path} in {rows:?}"))
}

/// Over `git daemon`: a branch that moves, a tag, a commit that no branch holds, a submodule;
/// the lock pins them, a new member gets exactly those commits, `update` moves the branch,
/// `--locked` sees a changed file, and a repository that is gone fails by name.
#[test]
fn git_daemon_import_pins_commits_that_a_new_member_gets() {
    if !git_and_daemon() {
        return;
    }
    let forge = Forge::new();
    let daemon = Daemon::start(&forge.srv());
    forge.repo("alpha");
    let alpha_1 = head(&forge.work("alpha"));
    forge.repo("beta");
    let beta_v1 = forge.commit("beta", "VERSION", "1\n");
    git(&forge.work("beta"), &["tag", "v1"]);
    git(&forge.work("beta"), &["push", "-q", "origin", "v1"]);
    forge.commit("beta", "VERSION", "2\n");
    // A commit that no branch holds (a pull request's head, say): reachable only by a ref
    // outside refs/heads.
    let gamma = forge.repo("gamma");
    git(&gamma, &["checkout", "-q", "--detach"]);
    std::fs::write(gamma.join("LOOSE"), "on no branch\n").unwrap();
    git(&gamma, &["add", "LOOSE"]);
    git(&gamma, &["commit", "-q", "-m", "loose"]);
    let loose = head(&gamma);
    git(&gamma, &["push", "-q", "origin", "HEAD:refs/keep/loose"]);
    git(&gamma, &["checkout", "-q", "main"]);
    forge.commit("gamma", "README", "gamma 2\n");
    // A repository with a submodule (beta, by its daemon url).
    let delta = forge.repo("delta");
    git(
        &delta,
        &["submodule", "add", "-q", &daemon.url("beta"), "vendor/beta"],
    );
    git(&delta, &["commit", "-q", "-m", "submodule"]);
    git(&delta, &["push", "-q", "origin", "HEAD"]);
    let beta_tip = head(&forge.work("beta"));

    let ws = Ws::new(PROFILE);
    let alpha_url = daemon.url("alpha");
    let beta_url = daemon.url("beta");
    let gamma_url = daemon.url("gamma");
    let delta_url = daemon.url("delta");
    let file = repos_file(&[
        ("alpha", &alpha_url, Some("main")),
        ("libs/beta", &beta_url, Some("v1")),
        ("gamma", &gamma_url, Some(&loose)),
        ("delta", &delta_url, None),
    ]);
    std::fs::write(ws.path().join("team.repos"), &file).unwrap();

    let out = ok(&ws, &["sources", "import"]);
    let err = stderr(&out);
    for path in ["src/alpha", "src/libs/beta", "src/gamma", "src/delta"] {
        assert!(err.contains(path), "no progress line for {path}:\n{err}");
    }
    let src = ws.path().join("src");
    assert_eq!(head(&src.join("alpha")), alpha_1);
    assert_eq!(
        git(&src.join("alpha"), &["symbolic-ref", "--short", "HEAD"]),
        "main"
    );
    assert_eq!(head(&src.join("libs/beta")), beta_v1);
    assert_eq!(head(&src.join("gamma")), loose);
    assert_eq!(
        std::fs::read_to_string(src.join("gamma/LOOSE")).unwrap(),
        "on no branch\n"
    );
    assert_eq!(head(&src.join("delta/vendor/beta")), beta_tip, "submodule");
    let lock = std::fs::read_to_string(ws.path().join("robodev.lock")).unwrap();
    for commit in [&alpha_1, &beta_v1, &loose] {
        assert!(lock.contains(commit.as_str()), "{commit} not in\n{lock}");
    }
    ok(&ws, &["sources", "import", "--locked"]);

    // The branch moves on; a new member clones the team's repository (profile, .repos file,
    // lock) and gets the locked commits, not the branch's tip.
    let alpha_2 = forge.commit("alpha", "README", "alpha 2\n");
    let member = Ws::new(PROFILE);
    std::fs::write(member.path().join("team.repos"), &file).unwrap();
    std::fs::write(member.path().join("robodev.lock"), &lock).unwrap();
    ok(&member, &["sources", "import", "--locked"]);
    let msrc = member.path().join("src");
    assert_eq!(head(&msrc.join("alpha")), alpha_1, "the locked commit");
    assert_eq!(head(&msrc.join("libs/beta")), beta_v1);
    assert_eq!(head(&msrc.join("gamma")), loose);
    assert_eq!(
        std::fs::read_to_string(member.path().join("robodev.lock")).unwrap(),
        lock,
        "--locked records nothing"
    );
    let rows = status_json(&member);
    let alpha = row(&rows, "src/alpha");
    assert_eq!(alpha["commit"], alpha_1.as_str());
    assert_eq!(alpha["locked"], alpha_1.as_str());
    assert_eq!(alpha["branch"], "main");
    assert_eq!(alpha["behind"], 1, "{alpha}");
    assert_eq!(alpha["dirty"], false);
    assert_eq!(alpha["missing"], false);
    let table = stdout(&ok(&member, &["sources", "status"]));
    assert!(table.contains("behind 1"), "{table}");

    // `update` moves the branch to its tip and records it; the tag stays where it is.
    let out = ok(&member, &["sources", "update", "src/alpha"]);
    assert!(stderr(&out).contains("moved"), "{}", stderr(&out));
    assert_eq!(head(&msrc.join("alpha")), alpha_2);
    let updated = std::fs::read_to_string(member.path().join("robodev.lock")).unwrap();
    assert!(
        updated.contains(&alpha_2) && !updated.contains(&alpha_1),
        "{updated}"
    );
    assert!(updated.contains(&beta_v1));
    ok(&member, &["sources", "update", "--locked"]);

    // The file changes (another tag): `--locked` names the repository and what changed.
    git(&forge.work("beta"), &["tag", "v2"]);
    git(&forge.work("beta"), &["push", "-q", "origin", "v2"]);
    let changed = file.replace("version: v1", "version: v2");
    std::fs::write(member.path().join("team.repos"), &changed).unwrap();
    for args in [
        &["sources", "update", "--locked"][..],
        &["sources", "import", "--locked"][..],
    ] {
        let out = robodev(&member, args);
        assert_fails(&out, 1, &["src/libs/beta", "version was v1, is v2"]);
    }
    // A plain import follows the changed file and records the new commit.
    ok(&member, &["sources", "import"]);
    assert_eq!(head(&msrc.join("libs/beta")), beta_tip);

    // A repository that no longer exists fails by name; the others are kept and recorded.
    let gone_url = daemon.url("gone");
    let with_gone = format!(
        "{changed}{}",
        repos_file(&[("gone", &gone_url, Some("main"))]).trim_start_matches("repositories:\n")
    );
    std::fs::write(member.path().join("team.repos"), &with_gone).unwrap();
    let out = robodev(&member, &["sources", "import"]);
    assert_fails(
        &out,
        1,
        &["1 of 5 repositories could not be imported", "src/gone"],
    );
    assert_eq!(head(&msrc.join("alpha")), alpha_2);
    let rows = status_json(&member);
    assert_eq!(row(&rows, "src/gone")["missing"], true);
}

/// Work in a clone is never reset, moved or deleted: changes, local commits and another remote
/// are each left alone, and said so; a clean clone beside them moves.
#[test]
fn file_url_clones_with_work_in_them_are_left_alone() {
    if !git_and_daemon() {
        return;
    }
    let forge = Forge::new();
    for name in ["dirty", "ahead", "moved", "clean"] {
        forge.repo(name);
    }
    let ws = Ws::new(PROFILE);
    let urls: Vec<String> = ["dirty", "ahead", "moved", "clean"]
        .iter()
        .map(|n| forge.url(n))
        .collect();
    let file = repos_file(&[
        ("dirty", &urls[0], Some("main")),
        ("ahead", &urls[1], Some("main")),
        ("moved", &urls[2], Some("main")),
        ("clean", &urls[3], Some("main")),
    ]);
    std::fs::write(ws.path().join("team.repos"), &file).unwrap();
    ok(&ws, &["sources", "import"]);
    let src = ws.path().join("src");

    std::fs::write(src.join("dirty/README"), "my change\n").unwrap();
    std::fs::write(src.join("ahead/NEW"), "mine\n").unwrap();
    git(&src.join("ahead"), &["add", "NEW"]);
    git(&src.join("ahead"), &["commit", "-q", "-m", "local work"]);
    let ahead_head = head(&src.join("ahead"));
    git(
        &src.join("moved"),
        &["remote", "set-url", "origin", "file:///elsewhere/fork.git"],
    );
    let moved_head = head(&src.join("moved"));
    for name in ["dirty", "ahead", "moved", "clean"] {
        forge.commit(name, "README", &format!("{name} 2\n"));
    }
    let clean_tip = head(&forge.work("clean"));

    let rows = status_json(&ws);
    assert_eq!(row(&rows, "src/dirty")["dirty"], true);
    assert_eq!(row(&rows, "src/ahead")["ahead"], 1);
    assert_eq!(
        row(&rows, "src/moved")["origin"],
        "file:///elsewhere/fork.git"
    );

    let out = ok(&ws, &["sources", "update"]);
    let err = stderr(&out);
    assert!(
        err.contains("src/dirty: it has uncommitted changes"),
        "{err}"
    );
    assert!(
        err.contains("src/ahead: it has 1 commit on no remote branch"),
        "{err}"
    );
    assert!(
        err.contains("src/moved: its origin is file:///elsewhere/fork.git"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(src.join("dirty/README")).unwrap(),
        "my change\n"
    );
    assert_eq!(head(&src.join("ahead")), ahead_head);
    assert_eq!(head(&src.join("moved")), moved_head);
    assert_eq!(head(&src.join("clean")), clean_tip);
    // Neither import (to the lock) nor --locked moves them either; --locked fails, naming them.
    let out = robodev(&ws, &["sources", "import", "--locked"]);
    assert_fails(&out, 1, &["src/dirty", "not at its locked commit"]);
    assert_eq!(head(&src.join("ahead")), ahead_head);
}

fn tree_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if entry.file_name() == ".git" {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn vcs(dir: &Path, args: &[&str], input: &str) -> String {
    use std::io::Write;
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let mut child = Command::new("vcs")
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "vcs {args:?}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// Debian's vcstool is the reference: the same `.repos` file gives the same commits and files
/// with `vcs import` as with `robodev sources import`; robodev's `export --exact` imports with
/// vcstool to the same tree; vcstool's `export --exact` names the commits robodev checked out.
#[test]
fn vcstool_imports_the_same_tree_from_the_same_file() {
    if !git_and_daemon() || !vcstool() {
        return;
    }
    let forge = Forge::new();
    let daemon = Daemon::start(&forge.srv());
    forge.repo("one");
    forge.commit("one", "A", "a\n");
    forge.repo("two");
    let two_old = forge.commit("two", "B", "b\n");
    git(&forge.work("two"), &["tag", "release-1"]);
    git(&forge.work("two"), &["push", "-q", "origin", "release-1"]);
    forge.commit("two", "B", "b2\n");
    forge.repo("three");
    let three_mid = forge.commit("three", "C", "c\n");
    forge.commit("three", "C", "c2\n");
    let urls = [daemon.url("one"), daemon.url("two"), daemon.url("three")];
    let file = repos_file(&[
        ("one", &urls[0], Some("main")),
        ("nested/two", &urls[1], Some("release-1")),
        ("three", &urls[2], Some(&three_mid)),
    ]);

    let ws = Ws::new(PROFILE);
    std::fs::write(ws.path().join("team.repos"), &file).unwrap();
    ok(&ws, &["sources", "import"]);
    let reference = tempfile::tempdir_in(scratch()).unwrap();
    vcs(reference.path(), &["import", "--input", "-", "src"], &file);

    for path in ["one", "nested/two", "three"] {
        let mine = ws.path().join("src").join(path);
        let theirs = reference.path().join("src").join(path);
        assert_eq!(head(&mine), head(&theirs), "{path}: commit");
        assert_eq!(tree_files(&mine), tree_files(&theirs), "{path}: files");
    }
    assert_eq!(head(&ws.path().join("src/nested/two")), two_old);

    // robodev's exact export, imported by vcstool elsewhere: the same commits again.
    let exported = stdout(&ok(&ws, &["sources", "export", "--exact"]));
    let again = tempfile::tempdir_in(scratch()).unwrap();
    vcs(again.path(), &["import", "--input", "-", "src"], &exported);
    for path in ["one", "nested/two", "three"] {
        assert_eq!(
            head(&ws.path().join("src").join(path)),
            head(&again.path().join("src").join(path)),
            "{path}: after export"
        );
    }
    // vcstool's own exact export of robodev's tree names the same commits.
    let theirs = vcs(&ws.path().join("src"), &["export", "--exact"], "");
    for path in ["one", "nested/two", "three"] {
        let commit = head(&ws.path().join("src").join(path));
        assert!(theirs.contains(&commit), "{path} {commit} not in\n{theirs}");
    }
}

/// A private repository over ssh, as an ordinary user whose key only their ssh-agent holds:
/// robodev runs the user's own git and ssh, so the agent answers; without it, the clone fails
/// and says which repository.
#[test]
fn a_private_repository_over_ssh_is_cloned_with_the_users_agent() {
    if !git_and_daemon() || !have("sshd", Command::new("test").args(["-x", "/usr/sbin/sshd"])) {
        return;
    }
    if !is_root() {
        eprintln!("skipped: making the git and developer users needs root");
        return;
    }
    let forge = Forge::new();
    forge.repo("secret");
    let secret_1 = head(&forge.work("secret"));
    // The git server's account holds the bare repository.
    let server = TestUser::new("rdgit", &[]);
    must("usermod", &["-p", "*", &server.name]);
    let repo_dir = server.home.join("secret.git");
    let copied = Command::new("cp")
        .arg("-a")
        .arg(forge.srv().join("secret.git"))
        .arg(&repo_dir)
        .status()
        .unwrap();
    assert!(copied.success());
    give_to(&server.name, &repo_dir);
    let sshd = Sshd::start();

    let developer = TestUser::new("rddev", &[]);
    let ssh_dir = developer.home.join(".ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    std::fs::write(
        ssh_dir.join("config"),
        "Host 127.0.0.1\n  StrictHostKeyChecking accept-new\n",
    )
    .unwrap();
    give_to(&developer.name, &ssh_dir);
    let key = ssh_dir.join("id_agent_only");
    let as_dev = |program: &str, args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new("runuser");
        c.args(["-u", &developer.name, "--", program])
            .args(args)
            .env("HOME", &developer.home)
            .env("USER", &developer.name)
            .env("NO_COLOR", "1")
            .env_remove("SSH_AUTH_SOCK");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        eprintln!("{program} {args:?}:\n{}{}", stdout(&out), stderr(&out));
        out
    };
    assert!(
        as_dev(
            "ssh-keygen",
            &["-q", "-t", "ed25519", "-N", "", "-f", key.to_str().unwrap()],
            &[]
        )
        .status
        .success()
    );
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    sshd.authorize(&server.name, &public, &[]);
    let agent_sock = developer.home.join("agent.sock");
    let gid: u32 = stdout(
        &Command::new("id")
            .args(["-g", &developer.name])
            .output()
            .unwrap(),
    )
    .trim()
    .parse()
    .unwrap();
    // The agent itself, not a runuser around it, so that dropping it stops the agent.
    let agent = std::os::unix::process::CommandExt::gid(
        std::os::unix::process::CommandExt::uid(
            Command::new("ssh-agent")
                .args(["-D", "-a"])
                .arg(&agent_sock),
            developer.uid,
        ),
        gid,
    )
    .env("HOME", &developer.home)
    .stdout(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let agent = Background(agent);
    for _ in 0..100 {
        if agent_sock.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let sock = agent_sock.to_str().unwrap().to_string();
    assert!(
        as_dev(
            "ssh-add",
            &["-q", key.to_str().unwrap()],
            &[("SSH_AUTH_SOCK", &sock)]
        )
        .status
        .success()
    );
    // Only the agent holds the key from now on.
    std::fs::remove_file(&key).unwrap();

    let ws = Ws::new(PROFILE);
    let url = format!(
        "ssh://{}@127.0.0.1:{}{}",
        server.name,
        sshd.port,
        repo_dir.display()
    );
    std::fs::write(
        ws.path().join("team.repos"),
        repos_file(&[("secret", &url, Some("main"))]),
    )
    .unwrap();
    give_to(&developer.name, ws.path());
    let robodev_in = |ws: &Ws, args: &[&str], env: &[(&str, &str)]| {
        let mut all: Vec<(&str, &str)> = env.to_vec();
        let state = ws.path().join(".state");
        let config = ws.path().join(".config");
        let (state, config) = (state.to_str().unwrap(), config.to_str().unwrap());
        all.extend([("ROBODEV_STATE_DIR", state), ("ROBODEV_CONFIG_DIR", config)]);
        let mut argv = vec!["-w", ws.path().to_str().unwrap()];
        argv.extend_from_slice(args);
        as_dev(bin().to_str().unwrap(), &argv, &all)
    };
    let robodev_as_dev = |env: &[(&str, &str)]| robodev_in(&ws, &["sources", "import"], env);
    // Without the agent: the clone fails, naming the repository, and nothing is there.
    let out = robodev_as_dev(&[]);
    assert_fails(&out, 1, &["src/secret"]);
    assert!(!ws.path().join("src/secret/.git").exists());
    // With it: cloned as the developer, their files, the commit recorded.
    let out = robodev_as_dev(&[("SSH_AUTH_SOCK", &sock)]);
    assert!(
        out.status.success(),
        "{}\nsshd: {}",
        stderr(&out),
        sshd.log()
    );
    let clone = ws.path().join("src/secret");
    assert_eq!(head(&clone), secret_1);
    let owner = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&clone).unwrap());
    assert_eq!(owner, developer.uid);
    let lock = std::fs::read_to_string(ws.path().join("robodev.lock")).unwrap();
    assert!(lock.contains(&secret_1) && lock.contains(&url), "{lock}");

    // A new member (the same developer, another clone of the team's repository) after the
    // private repository's branch moved on: `robodev build`, as `up` does, clones it first, at
    // the locked commit, with the agent's key.
    if engine() {
        ordinary_user(); // the engine's socket is the docker group's
        must("usermod", &["-aG", "docker", &developer.name]);
        let work = forge.work("secret");
        std::fs::write(work.join("README"), "secret 2\n").unwrap();
        git(&work, &["commit", "-q", "-am", "moved on"]);
        // Pushed as root to the server's repository: root's for the push, the server's again.
        give_to("root", &repo_dir);
        git(
            &work,
            &["push", "-q", repo_dir.to_str().unwrap(), "HEAD:main"],
        );
        give_to(&server.name, &repo_dir);
        let member = Ws::new(PROFILE);
        for file in ["team.repos", "robodev.lock"] {
            std::fs::copy(ws.path().join(file), member.path().join(file)).unwrap();
        }
        give_to(&developer.name, member.path());
        let out = robodev_in(&member, &["build"], &[("SSH_AUTH_SOCK", &sock)]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(head(&member.path().join("src/secret")), secret_1);
    }
    drop(agent);
}

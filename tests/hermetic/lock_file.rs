//! robodev.lock as a shared file: writers at the same time each keep their entry, a failed
//! `robodev lock` writes nothing, fields and sections a newer robodev wrote survive a rewrite,
//! and a lock file robodev cannot use is named in plain words.

use crate::command_layer::private_dirs;
use crate::fake_engine::{FakeEngine, FakeImage};
use crate::support::*;
use robodev::lockfile::base::LockedBase;
use robodev::lockfile::images::LockedImage;
use robodev::lockfile::{LOCK_FILE, LockFile};
use std::path::Path;
use std::sync::{Arc, Barrier};

const PROFILES: [&str; 6] = ["debian", "humble", "jazzy", "kilted", "noetic", "rolling"];

fn digest(n: usize) -> String {
    format!("sha256:{n:064x}")
}

/// Writers that all read robodev.lock before any of them writes (the interleaving that lost
/// updates): each one's entry is there at the end.
#[test]
fn concurrent_writers_each_keep_their_own_entry() {
    const WRITERS: usize = 12;
    for round in 0..4 {
        let dir = tempfile::tempdir().unwrap();
        if round % 2 == 1 {
            // An existing file too, with an entry nobody touches.
            let mut lock = LockFile::read(dir.path()).unwrap();
            lock.set_base(
                "kept",
                LockedBase {
                    image: "debian:bookworm".into(),
                    digest: Some(digest(999)),
                },
            );
            lock.write().unwrap();
        }
        let all_read = Arc::new(Barrier::new(WRITERS));
        let writers: Vec<_> = (0..WRITERS)
            .map(|i| {
                let root = dir.path().to_path_buf();
                let all_read = all_read.clone();
                std::thread::spawn(move || {
                    let mut lock = LockFile::read(&root).unwrap();
                    all_read.wait();
                    if i % 2 == 0 {
                        lock.set_image(
                            &format!("hash{i}"),
                            "linux/amd64",
                            LockedImage {
                                repository: "registry.example/team/robot".into(),
                                digest: digest(i),
                            },
                        );
                    } else {
                        lock.set_base(
                            &format!("profile{i}"),
                            LockedBase {
                                image: "debian:bookworm".into(),
                                digest: Some(digest(i)),
                            },
                        );
                    }
                    lock.write().unwrap();
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let lock = LockFile::read(dir.path()).unwrap();
        let mut lost = Vec::new();
        for i in 0..WRITERS {
            let there = if i % 2 == 0 {
                lock.image(&format!("hash{i}"), "linux/amd64")
                    .is_some_and(|img| img.digest == digest(i))
            } else {
                lock.base(&format!("profile{i}"))
                    .is_some_and(|b| b.digest == Some(digest(i)))
            };
            if !there {
                lost.push(i);
            }
        }
        assert!(lost.is_empty(), "round {round}: lost writers {lost:?}");
        if round % 2 == 1 {
            assert!(lock.base("kept").is_some(), "round {round}");
        }
        // Nothing left beside the lock but the lock.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![LOCK_FILE.to_string()], "round {round}");
    }
}

/// Entries each writer process records, one read-modify-write each.
const WRITES_PER_PROCESS: usize = 10;

/// Processes (this test binary again, running only `writer_process`) each recording entries
/// in one lock file at once: the exclusive lock holds between processes, not only threads.
#[test]
fn concurrent_processes_each_keep_their_own_entries() {
    const PROCESSES: usize = 6;
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..PROCESSES)
        .map(|p| {
            std::process::Command::new(&exe)
                .args(["--exact", "lock_file::writer_process", "--test-threads=1"])
                .arg("-q")
                .env(WRITER, format!("{p}:{}", dir.path().display()))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let lock = LockFile::read(dir.path()).unwrap();
    let mut lost = Vec::new();
    for p in 0..PROCESSES {
        for n in 0..WRITES_PER_PROCESS {
            let hash = format!("process{p}-{n}");
            if lock.image(&hash, "linux/amd64").is_none() {
                lost.push(hash);
            }
        }
    }
    assert!(lost.is_empty(), "lost {lost:?}");
}

/// `PROCESS:WORKSPACE`: what `writer_process` writes where; unset, it does nothing.
const WRITER: &str = "ROBODEV_TEST_LOCK_WRITER";

/// One writer of `concurrent_processes_each_keep_their_own_entries` (a test that does nothing
/// unless that test started it).
#[test]
fn writer_process() {
    let Ok(spec) = std::env::var(WRITER) else {
        return;
    };
    let (p, root) = spec.split_once(':').unwrap();
    for n in 0..WRITES_PER_PROCESS {
        let mut lock = LockFile::read(Path::new(root)).unwrap();
        lock.set_image(
            &format!("process{p}-{n}"),
            "linux/amd64",
            LockedImage {
                repository: "registry.example/team/robot".into(),
                digest: digest(n),
            },
        );
        lock.write().unwrap();
    }
}

/// `robodev -q -w WS ARGS…` in this process against `engine`; its exit code.
fn run(ws: &Path, engine: &FakeEngine, args: &[&str]) -> i32 {
    private_dirs();
    let mut argv = vec![
        "robodev".to_string(),
        "-q".into(),
        "-w".into(),
        ws.display().to_string(),
    ];
    argv.extend(args.iter().map(|a| a.to_string()));
    robodev::run_with_engine(argv, Box::new(engine.clone()))
}

/// A fake engine whose registry answers a digest for every built-in profile's base image.
fn engine_with_bases() -> FakeEngine {
    let engine = FakeEngine::new();
    for (i, name) in PROFILES.iter().enumerate() {
        let base = builtin(name).base_image;
        engine.state().registry.insert(
            base.clone(),
            FakeImage {
                id: digest(100 + i),
                repo_digests: vec![format!("{base}@{}", digest(100 + i))],
                ..Default::default()
            },
        );
    }
    engine
}

/// `robodev lock` of six profiles at once in one workspace: every base pin is there.
#[test]
fn concurrent_lock_commands_keep_every_base_pin() {
    for round in 0..3 {
        let ws = tempfile::tempdir().unwrap();
        let engine = engine_with_bases();
        let start = Arc::new(Barrier::new(PROFILES.len()));
        let commands: Vec<_> = PROFILES
            .iter()
            .map(|name| {
                let root = ws.path().to_path_buf();
                let engine = engine.clone();
                let start = start.clone();
                std::thread::spawn(move || {
                    start.wait();
                    run(&root, &engine, &["lock", name])
                })
            })
            .collect();
        for c in commands {
            assert_eq!(c.join().unwrap(), 0, "round {round}");
        }
        let lock = LockFile::read(ws.path()).unwrap();
        for (i, name) in PROFILES.iter().enumerate() {
            let pin = lock.base(name);
            assert_eq!(
                pin.and_then(|p| p.digest.clone()),
                Some(digest(100 + i)),
                "round {round}: {name} lost its pin:\n{}",
                lock.render()
            );
        }
    }
}

/// `robodev push` of several profiles at once in one workspace: every pushed digest is
/// recorded, and every base pin.
#[test]
fn concurrent_pushes_keep_every_pushed_digest() {
    const NAMES: [&str; 4] = ["arm", "base", "cam", "nav"];
    for round in 0..3 {
        let files: Vec<(String, String)> = NAMES
            .iter()
            .map(|name| {
                (
                    format!("{name}.yaml"),
                    format!(
                        "version: 1\nname: {name}\nextends: debian\nregistry: \
                         localhost:5999/team\nenv:\n  ROLE: {name}\n"
                    ),
                )
            })
            .collect();
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let ws = ProfileDir::new(&files);
        let engine = engine_with_bases();
        let start = Arc::new(Barrier::new(NAMES.len()));
        let pushes: Vec<_> = NAMES
            .iter()
            .map(|name| {
                let root = ws.root().to_path_buf();
                let engine = engine.clone();
                let start = start.clone();
                let file = root.join(format!("{name}.yaml")).display().to_string();
                std::thread::spawn(move || {
                    start.wait();
                    run(&root, &engine, &["push", &file])
                })
            })
            .collect();
        for p in pushes {
            assert_eq!(p.join().unwrap(), 0, "round {round}");
        }
        let pushed = engine.state().calls_starting("push");
        assert_eq!(pushed.len(), NAMES.len(), "round {round}: {pushed:?}");
        let lock = LockFile::read(ws.root()).unwrap();
        let recorded = lock.image_digests();
        assert_eq!(
            recorded.len(),
            NAMES.len(),
            "round {round}: pushed {pushed:?}, recorded:\n{}",
            lock.render()
        );
        for name in NAMES {
            assert!(lock.base(name).is_some(), "round {round}: {name}");
        }
    }
}

/// A workspace `robodev lock` fails in after pinning the base image: its dependencies cannot
/// be read (two packages of one name).
fn workspace_lock_fails_in(extra: &[(&str, &str)]) -> ProfileDir {
    let package = "<?xml version=\"1.0\"?>\n<package format=\"3\">\n  <name>a</name>\n  \
                   <depend>curl</depend>\n</package>\n";
    let mut files = vec![
        ("robodev.yaml", "version: 1\nname: robot\nextends: debian\n"),
        ("src/a/package.xml", package),
        ("src/b/package.xml", package),
    ];
    files.extend_from_slice(extra);
    ProfileDir::new(&files)
}

#[test]
fn a_failed_lock_writes_nothing() {
    let dir = workspace_lock_fails_in(&[]);
    let engine = engine_with_bases();
    assert_ne!(run(dir.root(), &engine, &["lock"]), 0);
    let path = dir.root().join(LOCK_FILE);
    assert!(
        !path.exists(),
        "a failed lock wrote {}:\n{}",
        path.display(),
        std::fs::read_to_string(&path).unwrap_or_default()
    );

    // An existing lock is left exactly as it was.
    let before = format!(
        "version: 1\nbase:\n  sim:\n    image: debian:bookworm\n    digest: {}\n",
        digest(7)
    );
    let dir = workspace_lock_fails_in(&[(LOCK_FILE, &before)]);
    assert_ne!(run(dir.root(), &engine, &["lock"]), 0);
    assert_eq!(
        std::fs::read_to_string(dir.root().join(LOCK_FILE)).unwrap(),
        before
    );
}

const WITH_UNKNOWN_FIELDS: &str = "version: 1
dependencies:
  robot:
    os: debian:bookworm
    base_image: debian:bookworm
    sources: abc
    resolver: rosdep-0.26
    keys:
      curl:
        apt:
        - curl
        types:
        - exec
        declared_in:
        - src/a/package.xml
        pinned_version: 8.0.1
base:
  robot:
    image: debian:bookworm
    digest: sha256:1111111111111111111111111111111111111111111111111111111111111111
    verified_by: cosign
  sim:
    image: debian:bookworm
    digest: sha256:2222222222222222222222222222222222222222222222222222222222222222
    verified_by: cosign
images:
  abc:
    linux/amd64:
      repository: registry.example/team/robot
      digest: sha256:3333333333333333333333333333333333333333333333333333333333333333
      signature: sha256:4444444444444444444444444444444444444444444444444444444444444444
attestations:
  abc:
    digest: sha256:feed
";

/// A lock written by a newer robodev (fields this one does not know, inside entries): read, and
/// rewritten with every such field kept where its entry was not changed.
#[test]
fn unknown_fields_inside_entries_are_kept_on_rewrite() {
    let dir = ProfileDir::new(&[(LOCK_FILE, WITH_UNKNOWN_FIELDS)]);
    let mut lock = LockFile::read(dir.root()).unwrap();
    assert_eq!(
        lock.image("abc", "linux/amd64")
            .map(|i| i.repository.as_str()),
        Some("registry.example/team/robot")
    );
    assert!(
        lock.dependencies("robot")
            .unwrap()
            .keys
            .contains_key("curl")
    );
    lock.set_image(
        "def",
        "linux/arm64",
        LockedImage {
            repository: "registry.example/team/robot".into(),
            digest: digest(5),
        },
    );
    // Set to what it already is: still unchanged.
    let same = lock.base("robot").cloned().unwrap();
    lock.set_base("robot", same);
    // Changed: the fields a newer robodev wrote about the old digest no longer describe it.
    lock.set_base(
        "sim",
        LockedBase {
            image: "debian:trixie".into(),
            digest: Some(digest(6)),
        },
    );
    lock.write().unwrap();
    let text = std::fs::read_to_string(dir.root().join(LOCK_FILE)).unwrap();
    for kept in [
        "resolver: rosdep-0.26",
        "pinned_version: \"8.0.1\"",
        "signature: sha256:4444",
        "attestations:",
        "digest: sha256:feed",
    ] {
        assert!(text.contains(kept), "{kept} lost:\n{text}");
    }
    assert_eq!(text.matches("verified_by: cosign").count(), 1, "{text}");
    let sim = text.split("  sim:\n").nth(1).unwrap();
    let sim = sim.split("\nimages:").next().unwrap();
    assert!(!sim.contains("verified_by"), "{text}");
    // Read back: the same entries, and a second rewrite gives the same bytes.
    let mut again = LockFile::read(dir.root()).unwrap();
    assert_eq!(again.image("def", "linux/arm64").unwrap().digest, digest(5));
    assert_eq!(again.render(), text);
    again.set_image(
        "def",
        "linux/arm64",
        LockedImage {
            repository: "registry.example/team/robot".into(),
            digest: digest(5),
        },
    );
    again.write().unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.root().join(LOCK_FILE)).unwrap(),
        text
    );
}

fn workspace_with_lock(lock: &[u8]) -> ProfileDir {
    let dir = ProfileDir::new(&[("robodev.yaml", "version: 1\nname: robot\nextends: debian\n")]);
    std::fs::write(dir.root().join(LOCK_FILE), lock).unwrap();
    dir
}

/// `robodev lock --locked` (no engine needed) on a lock file robodev cannot use: exit 2, the
/// file named, a plain message and what to do; never the parser's own words.
#[test]
fn an_empty_or_binary_lock_file_is_named_in_plain_words() {
    for (contents, says) in [
        (&b""[..], "is empty"),
        (b"\n\n", "is empty"),
        (b"# only a comment\n", "is empty"),
        (b"\xff\xfe\x00binary", "not UTF-8 text"),
    ] {
        let dir = workspace_with_lock(contents);
        let out = robodev(dir.root())
            .args(["lock", "--locked"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{contents:?}: {stderr}");
        assert!(
            stderr.contains(LOCK_FILE) && stderr.contains(says),
            "{contents:?}: {stderr}"
        );
        assert!(stderr.contains("robodev lock"), "{contents:?}: {stderr}");
        assert!(
            !stderr.contains("end of input") && !stderr.contains("stream did not contain"),
            "{contents:?}: {stderr}"
        );
        let read = LockFile::read(dir.root()).unwrap_err();
        assert_eq!(read.exit_code(), 2, "{contents:?}");
    }
}

/// A lock written for other profiles names them; it does not say the base is "not pinned".
#[test]
fn a_lock_for_another_profile_says_it_has_no_entry_for_it() {
    let lock = format!(
        "version: 1\nbase:\n  sim:\n    image: debian:bookworm\n    digest: {}\n  \
         field:\n    image: debian:bookworm\n    digest: {}\n",
        digest(1),
        digest(2)
    );
    let dir = workspace_with_lock(lock.as_bytes());
    let out = robodev(dir.root())
        .args(["lock", "--locked"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no entry for profile robot")
            && stderr.contains("field, sim")
            && !stderr.contains("not pinned"),
        "{stderr}"
    );
    // A profile it has an entry for is checked as before.
    let out = robodev(dir.root())
        .args(["lock", "--locked", "sim"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("no entry"), "{stderr}");
}

/// Through `build --locked` (the check every command makes before planning) too: nothing
/// built, the check fails.
#[test]
fn build_locked_with_a_lock_for_another_profile_builds_nothing() {
    let lock = format!(
        "version: 1\nbase:\n  sim:\n    image: debian:bookworm\n    digest: {}\n",
        digest(1)
    );
    let dir = workspace_with_lock(lock.as_bytes());
    let engine = FakeEngine::new();
    assert_eq!(run(dir.root(), &engine, &["build", "--locked"]), 1);
    assert!(engine.state().calls_starting("build").is_empty());
}

#[test]
fn the_header_says_a_rewrite_loses_comments_and_flow_style() {
    let dir = tempfile::tempdir().unwrap();
    let text = LockFile::read(dir.path()).unwrap().render();
    let header: String = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        header.contains("comments") && header.contains("flow style"),
        "{header}"
    );
}

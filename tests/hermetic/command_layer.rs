//! The command layer against the fake engine (`fake_engine.rs`): what `up`, `build`, `down`,
//! `clean` and `load` decide — build or not, create or not, recreate, pull instead of build,
//! what is removed — run exactly as a user runs them, without a daemon.

use crate::fake_engine::FakeEngine;
use robodev::plan::labels;
use std::path::Path;
use std::sync::Once;

/// State and config directories of the test process's own (the commands run in-process).
fn private_dirs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let dir = std::env::temp_dir().join(format!("robodev-fake-{}", std::process::id()));
        // SAFETY: set once, before any command of this process reads them.
        unsafe {
            std::env::set_var("ROBODEV_STATE_DIR", dir.join("state"));
            std::env::set_var("ROBODEV_CONFIG_DIR", dir.join("config"));
            std::env::set_var("NO_COLOR", "1");
        }
    });
}

struct Ws {
    dir: tempfile::TempDir,
}

impl Ws {
    fn new(profile: &str) -> Ws {
        private_dirs();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("robodev.yaml"), profile).unwrap();
        Ws { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `robodev -w WS ARGS…` against `engine`; its exit code.
    fn run(&self, engine: &FakeEngine, args: &[&str]) -> i32 {
        let mut argv = vec![
            "robodev".to_string(),
            "-q".into(),
            "-w".into(),
            self.path().display().to_string(),
        ];
        argv.extend(args.iter().map(|a| a.to_string()));
        robodev::run_with_engine(argv, Box::new(engine.clone()))
    }
}

const PROFILE: &str = "version: 1\nextends: debian\n";

#[test]
fn up_builds_creates_and_starts_once_then_does_nothing() {
    let ws = Ws::new(PROFILE);
    let engine = FakeEngine::new();
    assert_eq!(ws.run(&engine, &["up", "-d"]), 0);
    let calls = engine.state().calls.clone();
    assert_eq!(engine.state().calls_starting("build").len(), 1, "{calls:?}");
    assert_eq!(
        engine.state().calls_starting("create").len(),
        1,
        "{calls:?}"
    );
    assert_eq!(engine.state().calls_starting("start").len(), 1, "{calls:?}");
    engine.state().calls.clear();
    assert_eq!(ws.run(&engine, &["up", "-d"]), 0);
    assert_eq!(
        engine.state().calls,
        Vec::<String>::new(),
        "a second up changes nothing"
    );
    assert_eq!(ws.run(&engine, &["build"]), 0);
    assert_eq!(
        engine.state().calls,
        Vec::<String>::new(),
        "no-op build: no build call"
    );
}

#[test]
fn a_stopped_environment_is_started_not_recreated() {
    let ws = Ws::new(PROFILE);
    let engine = FakeEngine::new();
    assert_eq!(ws.run(&engine, &["up", "-d"]), 0);
    assert_eq!(ws.run(&engine, &["stop"]), 0);
    engine.state().calls.clear();
    assert_eq!(ws.run(&engine, &["up", "-d"]), 0);
    let calls = engine.state().calls.clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].starts_with("start "), "{calls:?}");
}

#[test]
fn a_changed_profile_recreates_the_container_only_when_asked() {
    let ws = Ws::new(PROFILE);
    let engine = FakeEngine::new();
    assert_eq!(ws.run(&engine, &["up", "-d"]), 0);
    let name = engine.state().containers.keys().next().unwrap().clone();
    let before = engine.state().containers[&name].labels[labels::CONFIG].clone();
    std::fs::write(
        ws.path().join("robodev.yaml"),
        format!("{PROFILE}env:\n  ROBOT: r2\n"),
    )
    .unwrap();
    engine.state().calls.clear();
    // Without a terminal to ask on, and without --recreate: the container keeps its settings.
    assert_eq!(ws.run(&engine, &["up", "-d"]), 0);
    assert!(engine.state().calls_starting("remove").is_empty());
    assert_eq!(
        engine.state().containers[&name].labels[labels::CONFIG],
        before
    );
    assert_eq!(ws.run(&engine, &["up", "-d", "--recreate"]), 0);
    let calls = engine.state().calls.clone();
    assert!(calls.contains(&format!("remove {name}")), "{calls:?}");
    assert!(calls.contains(&format!("create {name}")), "{calls:?}");
    assert_ne!(
        engine.state().containers[&name].labels[labels::CONFIG],
        before
    );
}

#[test]
fn losing_the_create_race_uses_the_winners_container() {
    let ws = Ws::new(PROFILE);
    let engine = FakeEngine::new();
    assert_eq!(ws.run(&engine, &["build"]), 0);
    engine.state().lose_next_create_race = true;
    engine.state().calls.clear();
    assert_eq!(ws.run(&engine, &["up", "-d"]), 0);
    let calls = engine.state().calls.clone();
    assert_eq!(
        engine.state().calls_starting("create").len(),
        1,
        "{calls:?}"
    );
    // The winner started it: this robodev neither starts it again nor fails.
    assert!(
        engine.state().calls_starting("start").is_empty(),
        "{calls:?}"
    );
    assert_eq!(engine.state().containers.len(), 1);
}

#[test]
fn a_team_image_in_the_registry_is_pulled_instead_of_built() {
    let profile = format!("{PROFILE}registry: localhost:5999/team\n");
    let pusher = Ws::new(&profile);
    let engine = FakeEngine::new();
    assert_eq!(pusher.run(&engine, &["push"]), 0);
    let lock = std::fs::read_to_string(pusher.path().join("robodev.lock")).unwrap();
    assert!(lock.contains("sha256:"), "push records the digest: {lock}");
    // A teammate: another engine that only shares the registry, the same profile and lock.
    let teammate = FakeEngine::new();
    teammate.state().registry = engine.state().registry.clone();
    assert_eq!(pusher.run(&teammate, &["up", "-d"]), 0);
    let calls = teammate.state().calls.clone();
    assert!(
        teammate.state().calls_starting("build").is_empty(),
        "{calls:?}"
    );
    assert_eq!(
        teammate.state().calls_starting("pull").len(),
        1,
        "{calls:?}"
    );
    assert!(
        calls[0].contains("@sha256:"),
        "pulled by the locked digest: {calls:?}"
    );
    // --build builds even so.
    teammate.state().images.clear();
    teammate.state().containers.clear();
    teammate.state().calls.clear();
    assert_eq!(pusher.run(&teammate, &["build", "--build"]), 0);
    assert_eq!(teammate.state().calls_starting("build").len(), 1);
}

#[test]
fn a_pulled_image_with_another_hash_is_refused_and_removed() {
    let profile = format!("{PROFILE}registry: localhost:5999/team\n");
    let ws = Ws::new(&profile);
    let engine = FakeEngine::new();
    assert_eq!(ws.run(&engine, &["push"]), 0);
    let teammate = FakeEngine::new();
    let mut registry = engine.state().registry.clone();
    for image in registry.values_mut() {
        image.labels.insert(labels::HASH.into(), "0".repeat(64));
    }
    teammate.state().registry = registry;
    assert_ne!(ws.run(&teammate, &["up", "-d"]), 0);
    assert!(
        teammate.state().images.is_empty(),
        "the wrong image is removed again"
    );
    assert!(
        teammate.state().containers.is_empty(),
        "and nothing runs it"
    );
}

#[test]
fn clean_removes_only_robodevs_unused_images() {
    let ws = Ws::new(PROFILE);
    let engine = FakeEngine::new();
    assert_eq!(ws.run(&engine, &["build"]), 0);
    let me = robodev::facts::HostFacts::current_user();
    let owner = format!("{}:{}", me.name, me.uid);
    let old_hash = "a".repeat(64);
    let current = engine.state().images[0].tags[0].clone();
    let repository = current.rsplit_once(':').unwrap().0.to_string();
    let old = format!("{repository}:{}", &old_hash[..12]);
    {
        let mut state = engine.state();
        // An old image of this profile (the profile changed since): robodev's, unused.
        state.add_image(&old, &[(labels::HASH, &old_hash), (labels::OWNER, &owner)]);
        // Not robodev's: a plain image, and one built FROM robodev's (inherits the label).
        state.add_image("debian:bookworm", &[]);
        state.add_image("team/custom:1", &[(labels::HASH, &old_hash)]);
    }
    assert_eq!(ws.run(&engine, &["clean", "--dry-run"]), 0);
    assert!(engine.state().calls_starting("remove image").is_empty());
    assert_eq!(ws.run(&engine, &["clean"]), 0);
    let removed = engine.state().calls_starting("remove image");
    assert_eq!(removed, vec![format!("remove image {old}")]);
    let state = engine.state();
    let tags: Vec<&String> = state.images.iter().flat_map(|i| &i.tags).collect();
    assert!(tags.iter().any(|t| *t == "debian:bookworm"));
    assert!(tags.iter().any(|t| *t == "team/custom:1"));
    assert!(
        tags.contains(&&current),
        "the current image is kept: {tags:?}"
    );
}

#[test]
fn down_removes_the_container_and_keeps_the_image() {
    let ws = Ws::new(PROFILE);
    let engine = FakeEngine::new();
    assert_eq!(ws.run(&engine, &["up", "-d"]), 0);
    assert_eq!(ws.run(&engine, &["down"]), 0);
    assert!(engine.state().containers.is_empty());
    assert_eq!(engine.state().images.len(), 1);
    // A container of the same name that robodev did not make is never touched.
    engine.state().containers.insert(
        "someone-else".into(),
        crate::fake_engine::FakeContainer {
            id: "x".into(),
            running: true,
            status: "running".into(),
            ..Default::default()
        },
    );
    assert_eq!(ws.run(&engine, &["down"]), 0);
    assert!(engine.state().containers.contains_key("someone-else"));
}

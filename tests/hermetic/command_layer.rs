//! The command layer against the fake engine (`fake_engine.rs`): what `up`, `build`, `down`,
//! `clean` and `load` decide — build or not, create or not, recreate, pull instead of build,
//! what is removed — run exactly as a user runs them, without a daemon.

use crate::fake_engine::{ConcurrentDown, FakeEngine};
use robodev::plan::labels;
use std::path::Path;
use std::sync::Once;

/// State and config directories of the test process's own (the commands run in-process).
pub(crate) fn private_dirs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // In the build's own scratch folder, so no run leaves anything in /tmp.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("robodev-fake-{}", std::process::id()));
        // SAFETY: set once, before any command of this process reads them.
        unsafe {
            std::env::set_var("ROBODEV_STATE_DIR", dir.join("state"));
            std::env::set_var("ROBODEV_CONFIG_DIR", dir.join("config"));
            std::env::set_var("NO_COLOR", "1");
        }
    });
}

pub(crate) struct Ws {
    dir: tempfile::TempDir,
}

impl Ws {
    pub(crate) fn new(profile: &str) -> Ws {
        private_dirs();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("robodev.yaml"), profile).unwrap();
        Ws { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `robodev -w WS ARGS…` against `engine`; its exit code.
    pub(crate) fn run(&self, engine: &FakeEngine, args: &[&str]) -> i32 {
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

pub(crate) const PROFILE: &str = "version: 1\nextends: debian\n";

/// Set in the child process `told_by_rerun` starts.
const RERUN: &str = "ROBODEV_HERMETIC_RERUN";

/// What robodev told the user (stderr) in the test `name` of this file, run again in a child
/// process of this test binary, where its messages are not captured. `None` in that child.
fn told_by_rerun(name: &str) -> Option<String> {
    told_by_rerun_of(&format!("command_layer::{name}"))
}

/// The same for the test at `path` (`module::name`) of any file.
pub(crate) fn told_by_rerun_of(path: &str) -> Option<String> {
    let name = path;
    if std::env::var_os(RERUN).is_some() {
        return None;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", path, "--nocapture", "--test-threads=1"])
        .env(RERUN, "1")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{name} failed when run again:\n{}{said}",
        String::from_utf8_lossy(&out.stdout)
    );
    Some(said)
}

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

/// Item 14: `down` removed the running container right after `up` looked at it. `up` must not
/// say it is running: it makes it again.
#[test]
fn up_racing_down_recreates_a_container_removed_after_it_was_seen() {
    let ws = Ws::new(PROFILE);
    let engine = FakeEngine::new();
    assert_eq!(ws.run(&engine, &["up", "-d"]), 0);
    let name = engine.state().containers.keys().next().unwrap().clone();
    engine.state().calls.clear();
    engine
        .state()
        .concurrent_downs
        .push_back(ConcurrentDown::AfterLook);
    assert_eq!(ws.run(&engine, &["up", "-d"]), 0);
    let calls = engine.state().calls.clone();
    assert_eq!(
        calls,
        vec![format!("create {name}"), format!("start {name}")],
        "made again"
    );
    assert!(engine.state().containers[&name].running, "{calls:?}");
}

/// Item 14: `down` removed the container right after `up` created and started it.
#[test]
fn up_racing_down_recreates_a_container_removed_right_after_its_start() {
    let ws = Ws::new(PROFILE);
    let engine = FakeEngine::new();
    assert_eq!(ws.run(&engine, &["build"]), 0);
    engine
        .state()
        .concurrent_downs
        .push_back(ConcurrentDown::AfterStart);
    engine.state().calls.clear();
    assert_eq!(ws.run(&engine, &["up", "-d"]), 0);
    let calls = engine.state().calls.clone();
    assert_eq!(
        engine.state().calls_starting("create").len(),
        2,
        "{calls:?}"
    );
    assert_eq!(engine.state().containers.len(), 1, "{calls:?}");
    assert!(
        engine.state().containers.values().all(|c| c.running),
        "{calls:?}"
    );
}

/// Item 14: `down` was removing the stopped container when `up` started it: the engine refuses
/// ("marked for removal"); `up` waits for the removal and makes the container again.
#[test]
fn up_racing_down_waits_for_a_container_marked_for_removal_and_makes_it_again() {
    let ws = Ws::new(PROFILE);
    let engine = FakeEngine::new();
    assert_eq!(ws.run(&engine, &["up", "-d"]), 0);
    assert_eq!(ws.run(&engine, &["stop"]), 0);
    let name = engine.state().containers.keys().next().unwrap().clone();
    engine
        .state()
        .concurrent_downs
        .push_back(ConcurrentDown::DuringStart);
    engine.state().calls.clear();
    assert_eq!(ws.run(&engine, &["up", "-d"]), 0);
    let calls = engine.state().calls.clone();
    assert_eq!(
        calls,
        vec![
            format!("start {name}"),
            format!("create {name}"),
            format!("start {name}"),
        ]
    );
    assert!(engine.state().containers[&name].running);
}

/// Item 14: removed again after the retry: `up` fails, saying another robodev removed it, and
/// never claims it is running.
#[test]
fn up_racing_down_twice_fails_saying_another_robodev_removed_it() {
    let ws = Ws::new(PROFILE);
    let engine = FakeEngine::new();
    assert_eq!(ws.run(&engine, &["build"]), 0);
    engine
        .state()
        .concurrent_downs
        .extend([ConcurrentDown::AfterStart, ConcurrentDown::DuringStart]);
    assert_eq!(ws.run(&engine, &["up", "-d"]), 1);
    assert!(engine.state().concurrent_downs.is_empty());
    if let Some(said) =
        told_by_rerun("up_racing_down_twice_fails_saying_another_robodev_removed_it")
    {
        assert!(
            said.contains("another robodev removed it (`robodev down`)"),
            "{said}"
        );
        assert!(!said.contains("marked for removal"), "{said}");
        assert!(!said.contains("is running"), "{said}");
    }
}

/// `robodev -w WS ARGS…` against `engine`, saying what it does (no `-q`); its exit code.
fn run_told(ws: &Ws, engine: &FakeEngine, args: &[&str]) -> i32 {
    let mut argv = vec![
        "robodev".to_string(),
        "-w".into(),
        ws.path().display().to_string(),
    ];
    argv.extend(args.iter().map(|a| a.to_string()));
    robodev::run_with_engine(argv, Box::new(engine.clone()))
}

/// Item 9: `clean` run in one workspace removed the image another workspace still uses: its
/// profile plans it, or its robodev.lock pins it (by image hash, or by registry digest).
#[test]
fn clean_keeps_images_another_workspaces_profile_or_lock_uses() {
    let theirs = Ws::new(&format!("{PROFILE}env: {{WHO: theirs}}\n"));
    let engine = FakeEngine::new();
    assert_eq!(theirs.run(&engine, &["build"]), 0);
    let (tag, hash) = {
        let state = engine.state();
        let image = &state.images[0];
        (image.tags[0].clone(), image.labels[labels::HASH].clone())
    };
    let here = Ws::new(PROFILE);
    let removed = |engine: &FakeEngine| engine.state().calls_starting("remove image");
    // Their profile plans it.
    assert_eq!(here.run(&engine, &["clean"]), 0);
    assert!(removed(&engine).is_empty(), "{:?}", removed(&engine));

    // Their profile moves on; their robodev.lock names the image's hash.
    std::fs::write(
        theirs.path().join("robodev.yaml"),
        format!("{PROFILE}env: {{WHO: moved-on}}\n"),
    )
    .unwrap();
    let lock = |hash: &str, digest: &str| {
        format!(
            "version: 1\nimages:\n  {hash}:\n    linux/amd64:\n      \
             repository: registry.example/team/debian\n      digest: {digest}\n"
        )
    };
    let digest = format!("sha256:{}", "e".repeat(64));
    std::fs::write(theirs.path().join("robodev.lock"), lock(&hash, &digest)).unwrap();
    assert_eq!(here.run(&engine, &["clean"]), 0);
    assert!(removed(&engine).is_empty(), "{:?}", removed(&engine));

    // Pulled by the digest their lock names (recorded under another build's hash).
    engine.state().images[0]
        .repo_digests
        .push(format!("registry.example/team/debian@{digest}"));
    std::fs::write(
        theirs.path().join("robodev.lock"),
        lock(&"f".repeat(64), &digest),
    )
    .unwrap();
    assert_eq!(here.run(&engine, &["clean"]), 0);
    assert!(removed(&engine).is_empty(), "{:?}", removed(&engine));

    // Nothing of theirs uses it any more: removed.
    std::fs::remove_file(theirs.path().join("robodev.lock")).unwrap();
    assert_eq!(here.run(&engine, &["clean"]), 0);
    assert_eq!(removed(&engine), vec![format!("remove image {tag}")]);
}

/// Two workspaces with the same profile share one image, whose labels name only the one that
/// built it: once that one was gone, `clean` anywhere removed the image the other still plans.
#[test]
fn clean_keeps_an_image_another_known_workspace_plans_when_its_builder_is_gone() {
    let engine = FakeEngine::new();
    // Two clones of one project: the same profile, named in it.
    let profile = format!("{PROFILE}name: rover\nenv: {{WHO: shared-by-two}}\n");
    let builder = Ws::new(&profile);
    assert_eq!(builder.run(&engine, &["build"]), 0);
    let tag = engine.state().images[0].tags[0].clone();
    let sharer = Ws::new(&profile);
    assert_eq!(sharer.run(&engine, &["build"]), 0);
    let images: Vec<_> = engine
        .state()
        .images
        .iter()
        .map(|i| (i.tags.clone(), i.labels.clone()))
        .collect();
    assert_eq!(images.len(), 1, "the second one reuses it: {images:?}");
    drop(builder);
    let here = Ws::new(&format!("{PROFILE}env: {{WHO: elsewhere}}\n"));
    let removed = |engine: &FakeEngine| engine.state().calls_starting("remove image");
    assert_eq!(here.run(&engine, &["clean"]), 0);
    assert!(removed(&engine).is_empty(), "{:?}", removed(&engine));

    // The sharer moves on: nothing plans it any more.
    std::fs::write(
        sharer.path().join("robodev.yaml"),
        format!("{PROFILE}name: rover\nenv: {{WHO: moved-on}}\n"),
    )
    .unwrap();
    assert_eq!(here.run(&engine, &["clean"]), 0);
    assert_eq!(removed(&engine), vec![format!("remove image {tag}")]);
}

/// A Docker archive of one tiny image (a layer, its config, the manifest) and its config
/// digest; `salt` makes the image one of its own.
fn docker_archive(salt: &str) -> (Vec<u8>, String) {
    use sha2::Digest;
    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, name, *data).unwrap();
        }
        tar.into_inner().unwrap()
    }
    let sha = |data: &[u8]| hex::encode(sha2::Sha256::digest(data));
    let layer = tar_of(&[("salt", salt.as_bytes())]);
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["sha256:{}"]}}}}"#,
        sha(&layer)
    );
    let hex = sha(config.as_bytes());
    let manifest =
        format!(r#"[{{"Config":"{hex}.json","RepoTags":null,"Layers":["l1/layer.tar"]}}]"#);
    let archive = tar_of(&[
        ("l1/layer.tar", &layer),
        (&format!("{hex}.json"), config.as_bytes()),
        ("manifest.json", manifest.as_bytes()),
    ]);
    (archive, format!("sha256:{hex}"))
}

/// Item 9: `clean` removed the image `robodev load` brought from a bundle — on a robot its
/// only copy, which cannot be rebuilt offline. Kept unless `--all`.
#[test]
fn clean_keeps_an_image_loaded_from_a_bundle_unless_all() {
    use robodev::facts::endpoint::Transport;
    // An engine of its own address: what `load` records is this engine's alone.
    let engine = FakeEngine::at("unix:///run/robodev-fake-robot.sock", Transport::Unix);
    let salt = format!("{:?} {}", std::time::SystemTime::now(), std::process::id());
    let (archive, config) = docker_archive(&salt);
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(salt.as_bytes()));
    let repository = "robodev/robot";
    let tag = format!("{repository}:{}", &hash[..12]);
    let info = robodev::bundle::BundleInfo::new("robot", &hash, &config, &tag, "linux/amd64", None);
    let me = robodev::facts::HostFacts::current_user();
    let owner = format!("{}:{}", me.name, me.uid);
    {
        let mut state = engine.state();
        state.load_answer = vec![config.clone()];
        state.load_adds = vec![crate::fake_engine::FakeImage {
            id: config.clone(),
            labels: [
                (labels::HASH, hash.as_str()),
                (labels::REPOSITORY, repository),
                (labels::OWNER, &owner),
                // Built on the developer's machine: no such workspace here.
                (labels::WORKSPACE, "/nonexistent/robodev-dev-ws"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            platform: "linux/amd64".into(),
            ..Default::default()
        }];
    }
    let ws = Ws::new(PROFILE);
    let bundle = ws.path().join("robot.tar");
    std::fs::write(&bundle, [info.tar_entry(), archive].concat()).unwrap();
    assert_eq!(ws.run(&engine, &["load", &bundle.display().to_string()]), 0);
    assert!(
        engine.state().images.iter().any(|i| i.tags.contains(&tag)),
        "{:?}",
        engine.state().calls
    );
    for args in [&["clean", "--dry-run"][..], &["clean"]] {
        assert_eq!(ws.run(&engine, args), 0);
        let removed = engine.state().calls_starting("remove image");
        assert!(removed.is_empty(), "{args:?}: {removed:?}");
    }
    assert_eq!(ws.run(&engine, &["clean", "--all"]), 0);
    assert_eq!(
        engine.state().calls_starting("remove image"),
        vec![format!("remove image {tag}")]
    );
}

/// Item 10: `down --volumes` left the environment's ccache volume, unsaid. Every volume robodev
/// made for the environment goes; a shared one and one robodev did not make stay, said.
#[test]
fn down_volumes_removes_every_volume_robodev_made_for_the_environment() {
    let ws = Ws::new(&format!(
        "{PROFILE}mounts: [{{source: cache, target: /cache, type: volume}}, \
         {{source: robodev-hermetic-team, target: /team, type: volume, shared: true}}]\n"
    ));
    let engine = FakeEngine::new();
    assert_eq!(ws.run(&engine, &["up", "-d"]), 0);
    let name = engine.state().containers.keys().next().unwrap().clone();
    let ccache = format!("{name}-ccache");
    assert!(engine.state().volumes.contains_key(&ccache));
    // Under a name of this environment's, but not robodev's.
    let foreign = format!("{name}-workspace");
    engine
        .state()
        .volumes
        .insert(foreign.clone(), Default::default());
    assert_eq!(run_told(&ws, &engine, &["down", "--volumes"]), 0);
    let state = engine.state();
    let left: Vec<&String> = state
        .volumes
        .iter()
        .filter(|(_, l)| l.get(labels::CONTAINER) == Some(&name))
        .map(|(n, _)| n)
        .collect();
    assert!(left.is_empty(), "volumes of {name} left: {left:?}");
    assert!(state.volumes.contains_key("robodev-hermetic-team"));
    assert!(state.volumes.contains_key(&foreign));
    drop(state);
    if let Some(said) =
        told_by_rerun("down_volumes_removes_every_volume_robodev_made_for_the_environment")
    {
        // The run told has a workspace, so a container name, of its own.
        let told =
            |start: &str, end: &str| said.lines().any(|l| l.contains(start) && l.contains(end));
        assert!(told("removed volume robodev-", "-ccache"), "{said}");
        assert!(
            said.contains("kept volume robodev-hermetic-team: it is shared"),
            "{said}"
        );
        assert!(
            told(
                "kept volume robodev-",
                "-workspace: robodev did not create it"
            ),
            "{said}"
        );
    }
}

/// Item 10, over ssh: the environment's volumes on the engine's machine — the ccache volume
/// and the synced workspace — go with `down --volumes`.
#[test]
fn down_volumes_over_ssh_removes_the_ccache_and_workspace_volumes() {
    use robodev::facts::endpoint::Transport;
    let ws = Ws::new(&format!("{PROFILE}workspace: {{sync: true}}\n"));
    // The volumes `up` made there: those of the plan, and the synced workspace's.
    let local = FakeEngine::new();
    assert_eq!(ws.run(&local, &["up", "-d"]), 0);
    let name = local.state().containers.keys().next().unwrap().clone();
    let robot = FakeEngine::at("ssh://robot", Transport::Ssh);
    {
        let mut state = robot.state();
        state.volumes = local.state().volumes.clone();
        let mut workspace = state.volumes[&format!("{name}-ccache")].clone();
        workspace.insert(labels::CONTAINER.into(), name.clone());
        state.volumes.insert(format!("{name}-workspace"), workspace);
        state.containers = local.state().containers.clone();
    }
    assert!(robot.state().volumes.len() >= 2);
    assert_eq!(run_told(&ws, &robot, &["down", "--volumes"]), 0);
    assert!(robot.state().containers.is_empty());
    let left: Vec<String> = robot.state().volumes.keys().cloned().collect();
    assert!(left.is_empty(), "left on the robot: {left:?}");
    if let Some(said) =
        told_by_rerun("down_volumes_over_ssh_removes_the_ccache_and_workspace_volumes")
    {
        // The run told has a workspace, so a container name, of its own.
        let told = |end: &str| {
            said.lines()
                .any(|l| l.contains("removed volume robodev-") && l.ends_with(end))
        };
        assert!(told("-ccache"), "{said}");
        assert!(told("-workspace"), "{said}");
    }
}

/// Item 9: what a workspace uses cannot be learnt when its profile does not load: its image is
/// kept unless `--all`. A workspace that is gone uses nothing.
#[test]
fn clean_keeps_the_image_of_a_workspace_it_cannot_read_unless_all() {
    let theirs = Ws::new(&format!("{PROFILE}env: {{WHO: unreadable}}\n"));
    let engine = FakeEngine::new();
    assert_eq!(theirs.run(&engine, &["build"]), 0);
    let tag = engine.state().images[0].tags[0].clone();
    let here = Ws::new(PROFILE);
    std::fs::write(
        theirs.path().join("robodev.yaml"),
        "version: [not a profile\n",
    )
    .unwrap();
    assert_eq!(here.run(&engine, &["clean"]), 0);
    assert!(engine.state().calls_starting("remove image").is_empty());
    assert_eq!(here.run(&engine, &["clean", "--all"]), 0);
    assert_eq!(
        engine.state().calls_starting("remove image"),
        vec![format!("remove image {tag}")]
    );

    // Gone: removed without --all.
    let gone = Ws::new(&format!("{PROFILE}env: {{WHO: gone}}\n"));
    assert_eq!(gone.run(&engine, &["build"]), 0);
    let tag = engine.state().images.last().unwrap().tags[0].clone();
    drop(gone);
    engine.state().calls.clear();
    assert_eq!(here.run(&engine, &["clean"]), 0);
    assert_eq!(
        engine.state().calls_starting("remove image"),
        vec![format!("remove image {tag}")]
    );
}

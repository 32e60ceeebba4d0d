//! What runs (the trust issue): a container is only ever created from the profile's own
//! image — never from whatever a re-pointed tag names, never from a same-named image that is
//! not the digest robodev.lock records — and `--offline` contacts no registry.

use crate::command_layer::{PROFILE, Ws};
use crate::fake_engine::FakeEngine;
use robodev::plan::labels;

#[test]
fn a_tag_re_pointed_to_another_image_is_refused_before_any_container() {
    let ws = Ws::new(PROFILE);
    let engine = FakeEngine::new();
    assert_eq!(ws.run(&engine, &["build"]), 0);
    // `docker tag debian:bookworm TAG`: the name now points to an image without the hash.
    {
        let mut state = engine.state();
        let tag = state.images[0].tags[0].clone();
        state.images.clear();
        state.add_image(&tag, &[]);
        state.calls.clear();
    }
    assert_ne!(ws.run(&engine, &["up", "-d"]), 0);
    assert_ne!(ws.run(&engine, &["run", "--", "id"]), 0);
    let calls = engine.state().calls.clone();
    assert!(
        !calls
            .iter()
            .any(|c| c.starts_with("create") || c.starts_with("run")),
        "nothing runs it: {calls:?}"
    );
    // --no-cache builds the profile's image under that name again.
    assert_eq!(ws.run(&engine, &["build", "--no-cache"]), 0);
    assert_eq!(ws.run(&engine, &["up", "-d"]), 0);
}

#[test]
fn offline_with_the_image_missing_neither_builds_nor_pulls() {
    let ws = Ws::new(&format!("{PROFILE}registry: localhost:5999/team\n"));
    let engine = FakeEngine::new();
    assert_eq!(ws.run(&engine, &["up", "-d", "--offline"]), 2);
    let calls = engine.state().calls.clone();
    assert!(calls.is_empty(), "no build, no pull: {calls:?}");
}

#[test]
fn a_same_named_image_without_the_locked_digest_is_replaced_by_the_teams() {
    let ws = Ws::new(&format!("{PROFILE}registry: localhost:5999/team\n"));
    let pusher = FakeEngine::new();
    assert_eq!(ws.run(&pusher, &["push"]), 0);
    // A teammate's engine has an image of that name and hash, built there (no repo digest).
    let teammate = FakeEngine::new();
    teammate.state().registry = pusher.state().registry.clone();
    {
        let mut state = teammate.state();
        let pushed = pusher.state().images[0].clone();
        let tag = pushed.tags[0].clone();
        let hash = pushed.labels[labels::HASH].clone();
        state.add_image(&tag, &[(labels::HASH, &hash)]);
    }
    assert_eq!(ws.run(&teammate, &["up", "-d"]), 0);
    let calls = teammate.state().calls.clone();
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("pull") && c.contains("@sha256:")),
        "pulled by the locked digest: {calls:?}"
    );
    let state = teammate.state();
    let name = state.containers.keys().next().unwrap().clone();
    let image = state.containers[&name].image.clone();
    let runs = state
        .images
        .iter()
        .find(|i| i.tags.contains(&image))
        .unwrap();
    assert!(
        !runs.repo_digests.is_empty(),
        "the container runs the team's image: {runs:?}"
    );
    drop(state);
    // `--build` asks for a local build: no pull then.
    teammate.state().calls.clear();
    assert_eq!(ws.run(&teammate, &["build", "--build"]), 0);
    assert!(teammate.state().calls_starting("pull").is_empty());
}

#[test]
fn a_teammate_whose_image_differs_is_told_why_it_is_built_locally() {
    let ws = Ws::new(&format!("{PROFILE}registry: localhost:5999/team\n"));
    let pusher = FakeEngine::new();
    assert_eq!(ws.run(&pusher, &["push"]), 0);
    // The lock records the team's image under another hash (another uid's, say).
    let lock_path = ws.path().join("robodev.lock");
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    let hash = pusher.state().images[0].labels[labels::HASH].clone();
    std::fs::write(&lock_path, lock.replace(&hash, &"e".repeat(64))).unwrap();
    // The registry holds the team's image only (not one for this user's hash).
    let teammate = FakeEngine::new();
    assert_eq!(ws.run(&teammate, &["build"]), 0);
    assert_eq!(teammate.state().calls_starting("build").len(), 1);
    // What it said, from a run of this test whose messages are not captured.
    if let Some(said) = crate::command_layer::told_by_rerun_of(
        "what_runs::a_teammate_whose_image_differs_is_told_why_it_is_built_locally",
    ) {
        assert!(
            said.contains("another container user") && said.contains("uid "),
            "{said}"
        );
    }
}

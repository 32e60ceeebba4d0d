//! What `clean` and `down --volumes` leave, on the real engine: `clean` keeps an image another
//! workspace's profile or robodev.lock uses and one `robodev load` brought from a bundle, and
//! says why for each row; `down --volumes` removes every volume robodev made for the
//! environment (the ccache volume too) and says what it keeps.

use crate::support::*;

/// A profile whose image installs nothing (its own base, no sudo, no ccache): quick to build,
/// save and load. `stamp` makes the image one of its own.
fn tiny(stamp: &str) -> String {
    format!(
        "version: 1\nname: cleaning\nros: {{distro: humble}}\nbase_image: debian:bookworm\n\
         security: {{sudo: false}}\ndependencies: {{ccache: false}}\nenv: {{STAMP: \"{stamp}\"}}\n"
    )
}

/// The `clean --json` row of `tag` for `args` run in `ws`.
fn row(ws: &Ws, args: &[&str], tag: &str) -> serde_json::Value {
    let out = ws.run(args);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for r in rows.as_array().unwrap() {
        assert!(
            !r["reason"].as_str().unwrap_or_default().is_empty(),
            "every row says why: {r}"
        );
    }
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["image"] == tag)
        .cloned()
        .unwrap_or_else(|| panic!("{tag} not in {rows}"))
}

#[test]
fn clean_keeps_what_another_workspace_uses_and_what_load_brought() {
    if !engine() {
        return;
    }
    let stamp = format!("{:?} {}", std::time::SystemTime::now(), std::process::id());
    let theirs = Ws::new(&tiny(&format!("theirs {stamp}")));
    theirs.ok(&["build"]);
    let status: serde_json::Value =
        serde_json::from_str(&theirs.ok(&["status", "--json"])).unwrap();
    let tag = status["image"].as_str().unwrap().to_string();
    let hash = stdout(&docker(&[
        "image",
        "inspect",
        "-f",
        "{{index .Config.Labels \"robodev.hash\"}}",
        &tag,
    ]))
    .trim()
    .to_string();
    assert_eq!(hash.len(), 64, "{hash}");
    let theirs_path = theirs.path().display().to_string();
    let here = Ws::new(&tiny(&format!("here {stamp}")));
    let dry = ["clean", "--dry-run", "--json"];

    // Their profile plans it.
    let r = row(&here, &dry, &tag);
    assert!(r["action"].as_str().unwrap().starts_with("kept"), "{r}");
    let reason = r["reason"].as_str().unwrap();
    assert!(
        reason.contains("plans it") && reason.contains(&theirs_path),
        "{r}"
    );

    // Their profile moves on; their robodev.lock pins the image.
    std::fs::write(
        theirs.path().join("robodev.yaml"),
        tiny(&format!("moved on {stamp}")),
    )
    .unwrap();
    std::fs::write(
        theirs.path().join("robodev.lock"),
        format!(
            "version: 1\nimages:\n  {hash}:\n    linux/amd64:\n      \
             repository: registry.example/team/cleaning\n      digest: sha256:{}\n",
            "e".repeat(64)
        ),
    )
    .unwrap();
    let r = row(&here, &dry, &tag);
    assert!(r["action"].as_str().unwrap().starts_with("kept"), "{r}");
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("{theirs_path}/robodev.lock")),
        "{r}"
    );
    let out = here.run(&["clean", "--dry-run"]);
    assert!(
        stderr(&out).contains(&format!("kept {tag}: ")),
        "the text says why it is kept: {}",
        stderr(&out)
    );
    assert!(!stdout(&out).contains(&tag), "{}", stdout(&out));

    // Nothing of theirs uses it any more.
    std::fs::remove_file(theirs.path().join("robodev.lock")).unwrap();
    let r = row(&here, &dry, &tag);
    assert_eq!(r["action"], "would remove", "{r}");
    assert!(r["reason"].as_str().unwrap().contains("no profile"), "{r}");
    let out = here.run(&["clean", "--dry-run"]);
    assert!(
        stdout(&out).contains(&format!("would remove {tag}")),
        "{}",
        stdout(&out)
    );

    // The image as a robot has it: its only copy, loaded from a bundle.
    std::fs::write(
        theirs.path().join("robodev.yaml"),
        tiny(&format!("theirs {stamp}")),
    )
    .unwrap();
    let bundle = here.path().join("cleaning.tar.zst");
    theirs.ok(&["save", "-o", &bundle.display().to_string()]);
    std::fs::write(
        theirs.path().join("robodev.yaml"),
        tiny(&format!("moved on {stamp}")),
    )
    .unwrap();
    assert!(docker(&["rmi", &tag]).status.success());
    let out = here.run(&["load", &bundle.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = row(&here, &dry, &tag);
    assert!(r["action"].as_str().unwrap().starts_with("kept"), "{r}");
    assert!(r["reason"].as_str().unwrap().contains("bundle"), "{r}");
    let r = row(&here, &["clean", "--dry-run", "--all", "--json"], &tag);
    assert_eq!(r["action"], "would remove", "{r}");
    let _ = docker(&["rmi", &tag]);
}

#[test]
fn down_volumes_removes_the_ccache_volume_and_says_what_it_keeps() {
    if !engine() {
        return;
    }
    let shared = format!("robodev-e2e-cleaning-{}", std::process::id());
    let mut ws = Ws::new(&format!(
        "{DEBIAN}mounts: [{{source: {shared}, target: /team, type: volume, shared: true}}]\n"
    ));
    ws.ok(&["up", "-d"]);
    let name = ws.container();
    let ccache = format!("{name}-ccache");
    assert!(
        docker(&["volume", "inspect", &ccache]).status.success(),
        "up made the ccache volume"
    );
    let out = ws.run(&["down", "--volumes"]);
    assert!(out.status.success());
    let said = stderr(&out);
    assert!(said.contains(&format!("removed volume {ccache}")), "{said}");
    assert!(
        said.contains(&format!("kept volume {shared}: it is shared")),
        "{said}"
    );
    assert!(
        !docker(&["volume", "inspect", &ccache]).status.success(),
        "the ccache volume is gone"
    );
    assert!(docker(&["volume", "inspect", &shared]).status.success());
    let _ = docker(&["volume", "rm", &shared]);
}

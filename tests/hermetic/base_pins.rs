//! Base images pinned in robodev.lock: the Dockerfile starts from the digest, the hash covers
//! it, a pin of another image is never used, and `--locked` names the drift.

use crate::support::*;
use robodev::lockfile::LockFile;
use robodev::lockfile::base::LockedBase;
use robodev::plan::{Pins, moving_base_warning};

const DIGEST: &str = "sha256:4d2c1b8e9f0a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d";

fn plan_pinned(profile: &robodev::profile::Profile, base: &LockedBase) -> robodev::plan::Plan {
    robodev::plan::make(robodev::plan::PlanInputs {
        profile,
        host: &laptop(),
        engine: &Default::default(),
        workspace: &workspace(),
        templates: None,
        pins: Pins {
            dependencies: None,
            base: Some(base),
            deploy_base: None,
        },
    })
    .unwrap()
}

fn from_line(dockerfile: &str) -> String {
    instructions(dockerfile)
        .into_iter()
        .find(|i| i.starts_with("FROM"))
        .unwrap()
}

#[test]
fn a_pinned_base_is_built_from_its_digest_and_names_another_image() {
    let profile = builtin("humble");
    let pin = LockedBase {
        image: profile.base_image.clone(),
        digest: Some(DIGEST.into()),
    };
    let pinned = plan_pinned(&profile, &pin);
    assert_eq!(
        from_line(&pinned.image.dockerfile),
        format!("FROM {}@{DIGEST}", profile.base_image)
    );
    let unpinned = plan(&profile);
    assert_eq!(
        from_line(&unpinned.image.dockerfile),
        format!("FROM {}", profile.base_image)
    );
    assert_ne!(pinned.image.hash, unpinned.image.hash);
    // Looked for and not found (a local image): the tag, the same image as unpinned.
    let none = LockedBase {
        image: profile.base_image.clone(),
        digest: None,
    };
    assert_eq!(plan_pinned(&profile, &none).image.hash, unpinned.image.hash);
}

#[test]
fn a_pin_of_another_image_is_not_used() {
    let dir = ProfileDir::new(&[(
        "robodev.lock",
        &format!(
            "version: 1\nbase:\n  humble:\n    image: ros:jazzy-ros-base\n    digest: {DIGEST}\n"
        ),
    )]);
    let profile = builtin("humble");
    let lock = LockFile::read(dir.root()).unwrap();
    let pins = Pins::of(&lock, &profile);
    assert!(pins.base.is_none());
    assert_eq!(pins.from_reference(&profile), profile.base_image);
}

#[test]
fn a_moving_base_tag_is_warned_about_until_it_is_pinned() {
    for (base, warned) in [
        ("ubuntu".to_string(), true),
        ("ubuntu:latest".into(), true),
        ("localhost:5000/team/base".into(), true),
        ("ubuntu:22.04".into(), false),
        ("localhost:5000/team/base:2".into(), false),
        (format!("ubuntu@{DIGEST}"), false),
    ] {
        let profile = profile_from(&format!(
            "version: 1\nextends: debian\nname: moving\nbase_image: {base}\n"
        ))
        .unwrap();
        let warning = moving_base_warning(&profile, &Pins::default());
        assert_eq!(warning.is_some(), warned, "{base}: {warning:?}");
        if let Some(w) = warning {
            assert!(w.text.contains("robodev lock"), "{}", w.text);
            // The whole plan says it too.
            assert!(plan(&profile).container.notices.contains(&w));
        }
        let pin = LockedBase {
            image: base.clone(),
            digest: Some(DIGEST.into()),
        };
        let pins = Pins {
            dependencies: None,
            base: Some(&pin),
            deploy_base: None,
        };
        assert!(moving_base_warning(&profile, &pins).is_none(), "{base}");
    }
}

#[test]
fn the_base_section_is_stable_text_beside_the_others() {
    let dir = ProfileDir::new(&[(
        "robodev.lock",
        "version: 1\nimages:\n  abc:\n    linux/amd64:\n      repository: localhost:5000/t/x\n      digest: sha256:11\n",
    )]);
    let mut lock = LockFile::read(dir.root()).unwrap();
    lock.set_base(
        "zeta",
        LockedBase {
            image: "debian:bookworm".into(),
            digest: None,
        },
    );
    lock.set_base(
        "alpha",
        LockedBase {
            image: "ros:humble-ros-base".into(),
            digest: Some(DIGEST.into()),
        },
    );
    let text = lock.render();
    insta::assert_snapshot!("lock_with_base_section", text);
    lock.write().unwrap();
    assert_eq!(LockFile::read(dir.root()).unwrap(), lock);
}

#[test]
fn locked_names_a_base_image_the_lock_does_not_pin() {
    let dir = ProfileDir::new(&[(
        "robodev.lock",
        "version: 1\nbase:\n  debian:\n    image: debian:trixie\n",
    )]);
    robodev(dir.root())
        .args(["lock", "--locked", "debian"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "base image: the lock pins debian:trixie, the profile names debian:bookworm",
        ))
        .stderr(predicates::str::contains("robodev lock"));
    // The pin of the profile's image: up to date (no engine needed to check).
    std::fs::write(
        dir.root().join("robodev.lock"),
        "version: 1\nbase:\n  debian:\n    image: debian:bookworm\n",
    )
    .unwrap();
    robodev(dir.root())
        .args(["lock", "--locked", "debian"])
        .assert()
        .success();
    // No lock file at all: nothing is expected.
    std::fs::remove_file(dir.root().join("robodev.lock")).unwrap();
    robodev(dir.root())
        .args(["lock", "--locked", "debian"])
        .assert()
        .success();
}

/// The deploy image's runtime stage is pinned like the development base: its `FROM` is the
/// locked digest, a pin of another image is not used, and `--locked` names a runtime base the
/// lock does not pin.
#[test]
fn the_deploy_runtime_base_is_pinned_like_the_development_base() {
    const PROFILE: &str = "version: 1\nextends: debian\nname: rover\ndeploy:\n  command: [hello]\n  base: debian:bookworm-slim\n";
    let dir = ProfileDir::new(&[
        ("robodev.yaml", PROFILE),
        (
            "robodev.lock",
            &format!(
                "version: 1\nbase:\n  rover:\n    image: debian:bookworm\ndeploy_base:\n  rover:\n    image: debian:bookworm-slim\n    digest: {DIGEST}\n"
            ),
        ),
    ]);
    let profile = profile_from(PROFILE).unwrap();
    let lock = LockFile::read(dir.root()).unwrap();
    let pins = Pins::of(&lock, &profile);
    assert_eq!(
        pins.runtime_reference(&profile).unwrap(),
        format!("debian:bookworm-slim@{DIGEST}")
    );
    robodev(dir.root())
        .args(["generate", "--deploy"])
        .assert()
        .success();
    let df = std::fs::read_to_string(dir.root().join(".robodev/deploy/Dockerfile")).unwrap();
    assert!(
        df.contains(&format!("FROM debian:bookworm-slim@{DIGEST} AS runtime")),
        "{df}"
    );
    robodev(dir.root())
        .args(["lock", "--locked"])
        .assert()
        .success();

    // The profile names another runtime base: the pin is not used, and --locked says so.
    let other = PROFILE.replace("debian:bookworm-slim", "debian:trixie-slim");
    std::fs::write(dir.root().join("robodev.yaml"), &other).unwrap();
    let profile = profile_from(&other).unwrap();
    assert_eq!(
        Pins::of(&lock, &profile)
            .runtime_reference(&profile)
            .unwrap(),
        "debian:trixie-slim"
    );
    robodev(dir.root())
        .args(["lock", "--locked"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "deploy runtime base: the lock pins debian:bookworm-slim, the profile names debian:trixie-slim",
        ));
    // A lock with no runtime pin at all names it as not pinned.
    std::fs::write(
        dir.root().join("robodev.lock"),
        "version: 1\nbase:\n  rover:\n    image: debian:bookworm\n",
    )
    .unwrap();
    robodev(dir.root())
        .args(["lock", "--locked"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "deploy runtime base: debian:trixie-slim is not pinned",
        ));
}

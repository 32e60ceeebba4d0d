//! Workspace dependencies without an engine: the package.xml corpus (formats 1–3, conditions,
//! groups, malformed files) with the keys or errors each must give, the workspace rules
//! (internal packages, skip, extra keys, duplicates), the lock file's text, and the
//! Dockerfile's dependency layer.

use crate::support::*;
use robodev::facts::package_xml;
use robodev::lockfile::LockFile;
use robodev::plan::dependencies::{Resolved, basis, difference, locked, wanted_keys};
use std::collections::BTreeMap;
use std::path::Path;

fn corpus() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hermetic/package_xml")
}

/// `key: kind, kind` lines for a manifest's keys on humble.
fn described(manifest: &package_xml::Manifest, root: &Path) -> robodev::error::Result<String> {
    let wanted = wanted_keys(std::slice::from_ref(manifest), &builtin("humble"), root)?;
    Ok(wanted
        .iter()
        .map(|(k, w)| {
            let kinds: Vec<&str> = w.kinds.iter().map(|k| k.name()).collect();
            format!("{k}: {}", kinds.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

#[test]
fn every_package_xml_of_the_corpus_gives_its_keys_or_its_error() {
    let dir = corpus();
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 8, "the corpus shrank");
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&case).unwrap();
        let expected = std::fs::read_to_string(case.with_extension("expected")).unwrap();
        let got = package_xml::parse(&text, &case, &name).and_then(|m| described(&m, &dir));
        let errors: Vec<&str> = expected
            .lines()
            .filter_map(|l| l.strip_prefix("error: "))
            .collect();
        if errors.is_empty() {
            let keys = got.unwrap_or_else(|e| panic!("{name}: {}", e.report()));
            assert_eq!(keys, expected.trim_end(), "{name}");
        } else {
            let err = got.expect_err(&name);
            let report = err.report();
            for needle in errors {
                assert!(
                    report.contains(needle),
                    "{name}: {needle:?} not in\n{report}"
                );
            }
            assert_eq!(err.exit_code(), 2, "{name}");
        }
    }
}

fn workspace_with(files: &[(&str, &str)]) -> ProfileDir {
    ProfileDir::new(files)
}

fn pkg(name: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<package format=\"3\">\n  <name>{name}</name>\n{body}</package>\n"
    )
}

#[test]
fn the_workspaces_own_packages_and_skipped_keys_are_not_dependencies() {
    let dir = workspace_with(&[
        (
            "src/a/package.xml",
            &pkg(
                "a",
                "  <depend>b</depend>\n  <depend>tree-key</depend>\n  <exec_depend>skipped-key</exec_depend>\n",
            ),
        ),
        (
            "src/group/b/package.xml",
            &pkg(
                "b",
                "  <member_of_group>drivers</member_of_group>\n  <build_depend>jq-key</build_depend>\n",
            ),
        ),
        (
            "src/c/package.xml",
            &pkg(
                "c",
                "  <group_depend>drivers</group_depend>\n  <exec_depend>tree-key</exec_depend>\n",
            ),
        ),
        ("src/ignored/COLCON_IGNORE", ""),
        (
            "src/ignored/d/package.xml",
            &pkg("d", "  <depend>never-seen</depend>\n"),
        ),
    ]);
    let profile = profile_from(
        "version: 1\nextends: humble\ndependencies: {skip: [skipped-key], keys: [extra-key]}\n",
    )
    .unwrap();
    let manifests = package_xml::scan(dir.root()).unwrap();
    assert_eq!(manifests.len(), 3);
    let wanted = wanted_keys(&manifests, &profile, dir.root()).unwrap();
    let keys: Vec<&str> = wanted.keys().map(String::as_str).collect();
    assert_eq!(keys, ["extra-key", "jq-key", "tree-key"]);
    let declared: Vec<&str> = wanted["tree-key"]
        .declared_in
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(declared, ["src/a/package.xml", "src/c/package.xml"]);
    assert_eq!(
        wanted["extra-key"].declared_in.iter().next().unwrap(),
        "robodev.yaml"
    );
}

#[test]
fn a_group_nobody_in_the_workspace_belongs_to_is_an_error_at_its_line() {
    let dir = workspace_with(&[(
        "src/c/package.xml",
        &pkg("c", "  <group_depend>drivers</group_depend>\n"),
    )]);
    let manifests = package_xml::scan(dir.root()).unwrap();
    let err = wanted_keys(&manifests, &builtin("humble"), dir.root()).unwrap_err();
    assert!(
        err.report().contains("src/c/package.xml:4:3"),
        "{}",
        err.report()
    );
    assert!(err.report().contains("group `drivers`"), "{}", err.report());
}

#[test]
fn two_packages_of_one_name_are_an_error_naming_both() {
    let dir = workspace_with(&[
        ("src/one/package.xml", &pkg("same", "")),
        ("src/two/package.xml", &pkg("same", "")),
    ]);
    let err = package_xml::scan(dir.root()).unwrap_err();
    let report = err.report();
    assert!(
        report.contains("src/one/package.xml") && report.contains("src/two/package.xml"),
        "{report}"
    );
    assert_eq!(err.exit_code(), 2);
}

fn example_lock(
    profile: &robodev::profile::Profile,
    root: &Path,
) -> robodev::lockfile::dependencies::LockedDependencies {
    let manifests = package_xml::scan(root).unwrap();
    let wanted = wanted_keys(&manifests, profile, root).unwrap();
    let resolved = BTreeMap::from([
        (
            "tree-key".to_string(),
            Resolved {
                apt: vec!["tree".into()],
                pip: vec![],
            },
        ),
        (
            "jq-key".to_string(),
            Resolved {
                apt: vec!["jq".into(), "libjq1".into()],
                pip: vec![],
            },
        ),
        (
            "six-key".to_string(),
            Resolved {
                apt: vec![],
                pip: vec!["six".into()],
            },
        ),
    ]);
    locked(&wanted, &basis(profile), "sha256:0123", &resolved)
}

fn three_packages() -> ProfileDir {
    workspace_with(&[
        (
            "src/a/package.xml",
            &pkg(
                "a",
                "  <depend>tree-key</depend>\n  <exec_depend>b</exec_depend>\n  <exec_depend condition=\"$ROS_VERSION == 1\">ros1-only</exec_depend>\n",
            ),
        ),
        (
            "src/b/package.xml",
            &pkg(
                "b",
                "  <build_depend>jq-key</build_depend>\n  <exec_depend>six-key</exec_depend>\n",
            ),
        ),
        (
            "src/c/package.xml",
            &pkg("c", "  <test_depend>a</test_depend>\n"),
        ),
    ])
}

#[test]
fn the_lock_file_is_stable_text_one_package_per_line() {
    let dir = three_packages();
    let profile = builtin("debian");
    let mut lock = LockFile::read(dir.root()).unwrap();
    assert!(!lock.exists());
    lock.set_dependencies("debian", example_lock(&profile, dir.root()));
    insta::assert_snapshot!("lock_debian", lock.render());
    // Written and read back, it is the same; a second write gives the same bytes.
    lock.write().unwrap();
    let again = LockFile::read(dir.root()).unwrap();
    assert_eq!(again.render(), lock.render());
    assert_eq!(std::fs::read_to_string(&lock.path).unwrap(), lock.render());
}

#[test]
fn sections_robodev_does_not_know_are_kept() {
    let dir = three_packages();
    std::fs::write(
        dir.root().join("robodev.lock"),
        "version: 1\nattestations:\n  abc:\n    digest: sha256:feed\n",
    )
    .unwrap();
    let mut lock = LockFile::read(dir.root()).unwrap();
    lock.set_dependencies("debian", example_lock(&builtin("debian"), dir.root()));
    let text = lock.render();
    assert!(
        text.contains("attestations:") && text.contains("sha256:feed"),
        "{text}"
    );
}

#[test]
fn staleness_is_about_the_key_set_not_where_keys_are_declared() {
    let dir = three_packages();
    let profile = builtin("debian");
    let lock = example_lock(&profile, dir.root());
    let manifests = package_xml::scan(dir.root()).unwrap();
    let wanted = wanted_keys(&manifests, &profile, dir.root()).unwrap();
    assert!(difference(&wanted, &basis(&profile), Some(&lock)).is_empty());
    // The condition `$ROS_VERSION == 1` holds for debian (ROS 1 tooling): ros1-only is wanted.
    assert!(!wanted.contains_key("ros1-only") || profile.distro.ros_version == 1);
    // Moving a key to another package: same set, not stale.
    std::fs::write(
        dir.root().join("src/c/package.xml"),
        pkg("c", "  <exec_depend>six-key</exec_depend>\n"),
    )
    .unwrap();
    let moved = wanted_keys(
        &package_xml::scan(dir.root()).unwrap(),
        &profile,
        dir.root(),
    )
    .unwrap();
    assert!(difference(&moved, &basis(&profile), Some(&lock)).is_empty());
    // A new key, a removed key, a changed type: each a line.
    std::fs::write(
        dir.root().join("src/c/package.xml"),
        pkg("c", "  <depend>new-key</depend>\n"),
    )
    .unwrap();
    std::fs::write(
        dir.root().join("src/b/package.xml"),
        pkg(
            "b",
            "  <build_depend>jq-key</build_depend>\n  <test_depend>six-key</test_depend>\n",
        ),
    )
    .unwrap();
    let changed = wanted_keys(
        &package_xml::scan(dir.root()).unwrap(),
        &profile,
        dir.root(),
    )
    .unwrap();
    let diff = difference(&changed, &basis(&profile), Some(&lock));
    assert!(diff.iter().any(|l| l.starts_with("+ new-key")), "{diff:?}");
    assert!(
        diff.iter().any(|l| l.starts_with("~ six-key: exec → test")),
        "{diff:?}"
    );
    // Another base image makes it stale too.
    let other =
        profile_from("version: 1\nextends: debian\nname: debian\nbase_image: debian:trixie\n")
            .unwrap();
    let diff = difference(&wanted, &basis(&other), Some(&lock));
    assert!(diff.iter().any(|l| l.contains("base image")), "{diff:?}");
}

#[test]
fn the_dependency_layer_installs_exactly_the_locked_packages_after_ros() {
    let dir = three_packages();
    let profile = builtin("debian");
    let lock = example_lock(&profile, dir.root());
    let plan = robodev::plan::make(robodev::plan::PlanInputs {
        profile: &profile,
        host: &laptop(),
        engine: &Default::default(),
        workspace: &workspace(),
        templates: None,
        pins: robodev::plan::Pins {
            dependencies: Some(&lock),
            base: None,
            deploy_base: None,
        },
    })
    .unwrap();
    let df = &plan.image.dockerfile;
    let start = df.find("# Workspace dependencies").unwrap();
    let end = df[start..].find("# System packages").unwrap() + start;
    insta::assert_snapshot!("dockerfile_dependency_layer", &df[start..end]);
    assert!(df.find("# ROS packages").unwrap() < start);
    // Without the lock the image is another one: the hash covers the locked lists.
    let without = plan_for(&profile, &laptop(), &Default::default()).unwrap();
    assert_ne!(without.image.hash, plan.image.hash);
    // Only the lock's lists enter the build: no workspace file is copied.
    let copies: Vec<_> = instructions(df)
        .into_iter()
        .filter(|i| i.starts_with("COPY"))
        .collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
}

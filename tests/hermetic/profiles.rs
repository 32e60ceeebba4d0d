//! Profile search, `extends:` composition and validation messages.

use crate::support::*;
use robodev::error::Error;

#[test]
fn extends_merges_maps_appends_lists_overrides_scalars() {
    let dir = ProfileDir::new(&[
        (
            "user/base.yaml",
            "version: 1\nextends: humble\napt: [htop]\nenv: {A: \"1\", B: \"1\"}\nshell: zsh\n",
        ),
        (
            "robodev.yaml",
            "version: 1\nname: robot\nextends: base\napt: [tmux]\nenv: {B: \"2\"}\nshell: bash\n",
        ),
    ]);
    let p = dir.load(None).unwrap();
    assert_eq!(p.name, "robot");
    assert_eq!(p.distro.name, "humble");
    // The built-in humble's packages come first, then base's, then the child's.
    assert!(
        p.apt.ends_with(&["htop".to_string(), "tmux".to_string()]),
        "{:?}",
        p.apt
    );
    assert!(p.apt.contains(&"python3-rosdep".to_string()));
    assert_eq!(p.env.get("A").unwrap(), "1");
    assert_eq!(p.env.get("B").unwrap(), "2");
    assert_eq!(p.shell.name(), "bash");
    assert_eq!(p.chain.len(), 3);
}

#[test]
fn a_user_profile_may_extend_the_builtin_of_the_same_name() {
    let dir = ProfileDir::new(&[(
        "user/humble.yaml",
        "version: 1\nextends: humble\napt: [htop]\n",
    )]);
    let p = dir.load(Some("humble")).unwrap();
    assert!(p.apt.contains(&"htop".to_string()));
    assert_eq!(p.distro.name, "humble");
}

#[test]
fn cycles_are_errors_with_the_chain() {
    let dir = ProfileDir::new(&[
        ("user/a.yaml", "version: 1\nextends: b\n"),
        ("user/b.yaml", "version: 1\nextends: a\n"),
    ]);
    let err = dir.load(Some("a")).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("cycle"), "{text}");
    assert!(text.contains("a.yaml") && text.contains("b.yaml"), "{text}");
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn a_missing_parent_is_an_error_at_the_extends_line() {
    let dir = ProfileDir::new(&[("robodev.yaml", "version: 1\nextends: humbel\n")]);
    let err = dir.load(None).unwrap_err();
    let report = err.report();
    assert!(report.contains("robodev.yaml:2:10: extends:"), "{report}");
    assert!(report.contains("did you mean \"humble\""), "{report}");
}

#[test]
fn explicit_paths_and_relative_extends() {
    let dir = ProfileDir::new(&[
        (
            "profiles/base.yaml",
            "version: 1\nros: {distro: jazzy, variant: desktop}\n",
        ),
        ("profiles/dev.yaml", "version: 1\nextends: ./base.yaml\n"),
    ]);
    let p = dir.load(Some("profiles/dev.yaml")).unwrap();
    assert_eq!(p.name, "dev");
    assert_eq!(p.base_image, "osrf/ros:jazzy-desktop");
}

#[test]
fn no_profile_and_no_workspace_file_says_what_to_do() {
    let dir = ProfileDir::new(&[]);
    let err = dir.load(None).unwrap_err();
    assert!(err.report().contains("robodev init"), "{}", err.report());
}

#[test]
fn noetic_warns_about_end_of_life() {
    let p = builtin("noetic");
    assert!(p.warnings.iter().any(|w| w.text.contains("end of life")));
}

#[test]
fn unknown_profile_name_suggests() {
    let dir = ProfileDir::new(&[]);
    match dir.load(Some("jazy")).unwrap_err() {
        Error::Usage { message, help } => {
            assert!(message.contains("jazy"));
            assert!(help.unwrap().contains("did you mean \"jazzy\""));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn list_shows_workspace_user_and_builtin() {
    let dir = ProfileDir::new(&[
        ("robodev.yaml", "version: 1\nname: bot\nextends: humble\n"),
        ("user/mine.yaml", "version: 1\nextends: jazzy\n"),
    ]);
    let names: Vec<(String, &str)> = dir
        .search()
        .list()
        .into_iter()
        .map(|e| (e.name, e.origin))
        .collect();
    assert_eq!(names[0], ("bot".to_string(), "workspace"));
    assert_eq!(names[1], ("mine".to_string(), "user"));
    assert!(names.iter().any(|(n, o)| n == "debian" && *o == "built-in"));
}

#[test]
fn base_image_accepts_tags_and_digests() {
    let digest = "ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let p = profile_from(&format!(
        "version: 1\nextends: humble\nbase_image: {digest}\n"
    ))
    .unwrap();
    assert_eq!(p.base_image, digest);
}

/// Regression: a profile that extends another without naming itself must not take the
/// parent's name, or `robodev up mine` and `robodev up jazzy` would share one container.
#[test]
fn names_are_not_inherited() {
    let dir = ProfileDir::new(&[
        ("user/mine.yaml", "version: 1\nextends: jazzy\n"),
        ("robodev.yaml", "version: 1\nextends: humble\n"),
    ]);
    assert_eq!(dir.load(Some("mine")).unwrap().name, "mine");
    assert_eq!(dir.load(Some("jazzy")).unwrap().name, "jazzy");
    let ws_name = dir.load(None).unwrap().name;
    assert_ne!(ws_name, "humble");
    // `robodev profiles` lists the workspace profile under the name `load` gives it.
    let listed = dir.search().list();
    assert_eq!(listed[0].name, ws_name);
    assert_eq!(dir.load(Some(ws_name.as_str())).unwrap().name, ws_name);
}

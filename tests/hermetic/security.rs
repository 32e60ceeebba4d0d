//! The security model (issue "Hardening", 3): the safer set by default, each right a choice in
//! `security:`, and the same choices in the container, the image and the dev container.

use crate::support::*;

#[test]
fn the_default_is_the_safer_set() {
    let p = plan(&builtin("humble"));
    let c = &p.container;
    assert!(
        c.cap_add.is_empty(),
        "no SYS_PTRACE by default: {:?}",
        c.cap_add
    );
    assert!(!c.security_opt.iter().any(|o| o.contains("unconfined")));
    // Host network + sudo: root inside must not read the host's traffic.
    assert_eq!(c.cap_drop, vec!["NET_RAW".to_string()]);
    assert!(
        p.image.dockerfile.contains("NOPASSWD"),
        "sudo stays the default"
    );
}

#[test]
fn debug_restores_what_attaching_debuggers_need() {
    let p = plan(&profile_from("version: 1\nextends: humble\nsecurity: {debug: true}\n").unwrap());
    assert_eq!(p.container.cap_add, vec!["SYS_PTRACE".to_string()]);
    assert!(
        p.container
            .security_opt
            .contains(&"seccomp=unconfined".to_string())
    );
}

#[test]
fn without_sudo_nothing_gains_privileges() {
    let p = plan(
        &profile_from("version: 1\nextends: debian\nsecurity: {sudo: false, cap_drop: []}\n")
            .unwrap(),
    );
    assert!(
        !p.image.dockerfile.contains("sudoers"),
        "{}",
        p.image.dockerfile
    );
    assert!(
        !p.image.dockerfile.contains("      sudo"),
        "the package is not installed"
    );
    assert!(
        p.container
            .security_opt
            .contains(&"no-new-privileges=true".to_string())
    );
    assert!(
        p.container.cap_drop.is_empty(),
        "an explicit empty list keeps every capability"
    );
}

#[test]
fn cap_drop_names_are_checked_and_a_child_replaces_the_list() {
    let err = profile_from("version: 1\nextends: humble\nsecurity: {cap_drop: [NET_RAWW]}\n")
        .unwrap_err();
    let report = err.report();
    assert!(report.contains("security.cap_drop[0]"), "{report}");
    assert!(report.contains("did you mean \"NET_RAW\""), "{report}");
    let dir = ProfileDir::new(&[
        (
            "user/base.yaml",
            "version: 1\nextends: humble\nsecurity: {cap_drop: [NET_RAW, MKNOD]}\n",
        ),
        (
            "robodev.yaml",
            "version: 1\nextends: base\nsecurity: {cap_drop: [CAP_SYS_ADMIN]}\n",
        ),
    ]);
    assert_eq!(
        dir.load(None).unwrap().security.cap_drop,
        vec!["SYS_ADMIN".to_string()]
    );
}

#[test]
fn the_dev_container_gets_the_same_rights() {
    let p = profile_from("version: 1\nextends: humble\n").unwrap();
    let files = robodev::plan::devcontainer::for_profile(&p, None, Default::default()).unwrap();
    let body = files.devcontainer_json.split_once('\n').unwrap().1;
    let doc: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(doc["capAdd"], serde_json::json!([]));
    assert!(doc["runArgs"].to_string().contains("--cap-drop=NET_RAW"));
}

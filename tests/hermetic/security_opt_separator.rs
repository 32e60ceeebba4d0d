//! The security options robodev gives the engine, in the form every engine reads without a
//! warning: `KEY=VALUE`. Docker 26 warns about `no-new-privileges:true` (the `:` separator is
//! deprecated); Docker 20.10 and Podman read `=` too.

use crate::support::*;

#[test]
fn no_new_privileges_is_written_with_an_equals_sign() {
    let p = plan(&profile_from("version: 1\nextends: debian\nsecurity: {sudo: false}\n").unwrap());
    assert!(
        p.container
            .security_opt
            .contains(&"no-new-privileges=true".to_string()),
        "{:?}",
        p.container.security_opt
    );
}

#[test]
fn no_security_option_uses_the_deprecated_colon_separator() {
    let p = plan(
        &profile_from("version: 1\nextends: debian\nsecurity: {sudo: false, debug: true}\n")
            .unwrap(),
    );
    for option in &p.container.security_opt {
        let key = option.split(['=', ':']).next().unwrap();
        assert!(!option.starts_with(&format!("{key}:")), "{option} uses `:`");
    }
}

/// The Kubernetes export reads the same option: `=` must still give a pod that cannot gain
/// privileges, not an option "left out".
#[test]
fn kubernetes_reads_no_new_privileges_with_an_equals_sign() {
    use robodev::plan::kubernetes::{DeviceAccess, KubernetesOptions, dev_pod};
    let p = plan(&profile_from("version: 1\nextends: debian\nsecurity: {sudo: false}\n").unwrap());
    let options = KubernetesOptions {
        namespace: None,
        workspace_claim: None,
        workspace_size: "20Gi".into(),
        devices: DeviceAccess::Omit,
    };
    let pod = dev_pod("debian", &p.container, "x", &options);
    assert!(
        pod.text.contains("allowPrivilegeEscalation: false"),
        "{}",
        pod.text
    );
    assert!(
        !pod.left_out.iter().any(|l| l.contains("no-new-privileges")),
        "{:?}",
        pod.left_out
    );
}

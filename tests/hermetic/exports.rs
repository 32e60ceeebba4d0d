//! `robodev export compose|k8s`: snapshots for the built-in profiles and a hardware-heavy one;
//! what each format cannot say is in its comments; privilege only when asked. (The validators
//! each ecosystem trusts run over the same outputs in the end-to-end suite.)

use crate::support::*;
use robodev::facts::{DeviceNode, EngineFacts, HostFacts};
use robodev::plan::compose::compose_file;
use robodev::plan::kubernetes::{DeviceAccess, KubernetesOptions, deploy_deployment, dev_pod};

/// GPU, a serial device, hotplug, X11, Wayland, audio, a volume, shm and IPC.
pub const RIG: &str = "version: 1\nextends: humble\nname: rig\ngpu: nvidia\n\
    devices: [{path: /dev/ttyUSB0, as: /dev/lidar}]\nhotplug: [serial]\nx11: true\n\
    wayland: true\naudio: true\nshm_size: 2g\nipc: host\n\
    mounts: [{source: maps, target: /maps, type: volume}]\n\
    deploy: {command: [ros2, launch, rig_bringup, robot.launch.py]}\n";

pub fn rig_host() -> HostFacts {
    let mut host = laptop();
    host.devices.insert(
        "/dev/ttyUSB0".into(),
        Some(DeviceNode {
            real_path: "/dev/ttyUSB0".into(),
            kind: 'c',
            major: 188,
            minor: 0,
            uid: 0,
            gid: 20,
            mode: 0o660,
        }),
    );
    host
}

pub fn nvidia_engine() -> EngineFacts {
    EngineFacts {
        runtimes: vec!["runc".into()],
        ..Default::default()
    }
}

fn options(devices: DeviceAccess) -> KubernetesOptions {
    KubernetesOptions {
        namespace: Some("robotics".into()),
        workspace_claim: None,
        workspace_size: "20Gi".into(),
        devices,
    }
}

#[test]
fn compose_files_of_the_builtins_and_a_hardware_heavy_profile() {
    for name in ["humble", "jazzy", "debian"] {
        let plan = plan_for(&builtin(name), &laptop(), &EngineFacts::default()).unwrap();
        let file = compose_file(name, &plan.container, &plan.image.tag);
        insta::assert_snapshot!(format!("compose_{name}"), file.text);
    }
    let profile = profile_from(RIG).unwrap();
    let plan = plan_for(&profile, &rig_host(), &nvidia_engine()).unwrap();
    let file = compose_file("rig", &plan.container, "registry.lab/team/rig@sha256:abc");
    insta::assert_snapshot!("compose_rig", file.text);
    // Each thing the container has is in the file, or named in a comment.
    for needle in [
        "/dev/ttyUSB0:/dev/lidar:rwm",
        "device_cgroup_rules",
        "c 188:* rmw",
        "driver: nvidia",
        "count: all",
        "shm_size: 2147483648",
        "ipc: host",
        "/tmp/.X11-unix",
        "WAYLAND_DISPLAY",
        "PULSE_SERVER",
        "group_add",
        "user: 1000:1000",
        "# Not in this file: the X11 cookie",
    ] {
        assert!(
            file.text.contains(needle),
            "{needle} missing:\n{}",
            file.text
        );
    }
    // robodev's ownership labels stay off: `robodev down` never removes what compose made.
    assert!(!file.text.contains("robodev.managed: \"true\"\n    stop"));
}

#[test]
fn kubernetes_pods_and_deployments_never_grant_privilege_unasked() {
    for name in ["humble", "debian"] {
        let plan = plan_for(&builtin(name), &laptop(), &EngineFacts::default()).unwrap();
        let m = dev_pod(
            name,
            &plan.container,
            &plan.image.tag,
            &options(DeviceAccess::Omit),
        );
        insta::assert_snapshot!(format!("k8s_{name}"), m.text);
    }
    let profile = profile_from(RIG).unwrap();
    let plan = plan_for(&profile, &rig_host(), &nvidia_engine()).unwrap();

    let omit = dev_pod(
        "rig",
        &plan.container,
        "registry.lab/team/rig@sha256:abc",
        &options(DeviceAccess::Omit),
    );
    insta::assert_snapshot!("k8s_rig", omit.text);
    assert!(!omit.text.contains("privileged: true"), "{}", omit.text);
    assert!(!omit.text.contains("# PRIVILEGED"));
    assert!(
        omit.text.contains("nvidia.com/gpu: '1'") || omit.text.contains("nvidia.com/gpu: \"1\""),
        "{}",
        omit.text
    );
    assert!(omit.text.contains("medium: Memory"));
    assert!(omit.text.contains("hostIPC: true"));
    assert!(omit.text.contains("runAsUser: 1000"));
    assert!(omit.text.contains("fsGroup: 1000"));
    assert!(omit.text.contains("namespace: robotics"));
    assert!(
        omit.left_out.iter().any(|l| l.contains("/dev/ttyUSB0")),
        "{:?}",
        omit.left_out
    );
    assert!(omit.left_out.iter().any(|l| l.contains("X display")));

    let privileged = dev_pod(
        "rig",
        &plan.container,
        "x",
        &options(DeviceAccess::Privileged),
    );
    assert!(privileged.text.contains("privileged: true"));
    assert!(privileged.text.contains("# PRIVILEGED"));
    assert!(privileged.text.contains("type: CharDevice"));
    assert!(privileged.text.contains("mountPath: /dev/lidar"));

    let section = robodev::plan::deploy::section(&profile).unwrap();
    let run = robodev::plan::deploy::runtime_container(&plan.container, &plan.image, section);
    let deploy = deploy_deployment(
        "rig",
        &run,
        "registry.lab/team/rig-deploy@sha256:def",
        &options(DeviceAccess::Omit),
    );
    insta::assert_snapshot!("k8s_rig_deploy", deploy.text);
    assert!(deploy.text.contains("kind: Deployment"));
    assert!(deploy.text.contains("runAsUser: 10001"));
    assert!(!deploy.text.contains("PersistentVolumeClaim"));
}

#[test]
fn an_existing_claim_is_mounted_not_written() {
    let plan = plan_for(&builtin("humble"), &laptop(), &EngineFacts::default()).unwrap();
    let mut o = options(DeviceAccess::Omit);
    o.workspace_claim = Some("team-ws".into());
    let m = dev_pod("humble", &plan.container, "x", &o);
    assert!(!m.text.contains("kind: PersistentVolumeClaim"));
    assert!(m.text.contains("claimName: team-ws"));
}

#[test]
fn an_output_file_is_never_replaced_without_force_and_a_bad_path_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("robodev.yaml"),
        "version: 1\nextends: debian\n",
    )
    .unwrap();
    let out = dir.path().join("compose.yaml");
    std::fs::write(&out, "mine\n").unwrap();
    robodev(dir.path())
        .args(["export", "k8s", "-o", "compose.yaml"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("compose.yaml exists"))
        .stderr(predicates::str::contains("--force"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "mine\n");
    robodev(dir.path())
        .args(["export", "k8s", "-o", "compose.yaml", "--force"])
        .assert()
        .success();
    assert!(std::fs::read_to_string(&out).unwrap().contains("kind: Pod"));

    robodev(dir.path())
        .args(["export", "k8s", "-o", "robodev.yaml/k8s.yaml"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("robodev.yaml/k8s.yaml"));
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn ci_pipelines_for_one_profile_and_for_a_matrix_with_a_registry() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("robodev.yaml"),
        format!("{RIG}registry: ghcr.io/my-team\n"),
    )
    .unwrap();
    robodev(dir.path())
        .args(["ci", "github", "humble"])
        .assert()
        .success();
    let one = std::fs::read_to_string(dir.path().join(".github/workflows/robodev.yml")).unwrap();
    insta::assert_snapshot!("ci_github_humble", one);
    assert!(!one.contains("robodev login"), "no registry, no login");
    // Values reach the shell as variables only: no profile name inside a `run:` script.
    for line in one.lines().filter(|l| l.trim_start().starts_with("run:")) {
        assert!(!line.contains("humble") && !line.contains("${{"), "{line}");
    }

    robodev(dir.path())
        .args([
            "ci",
            "github",
            "rig",
            "humble",
            "--platform",
            "linux/amd64,linux/arm64",
            "--force",
        ])
        .assert()
        .success();
    let matrix = std::fs::read_to_string(dir.path().join(".github/workflows/robodev.yml")).unwrap();
    insta::assert_snapshot!("ci_github_matrix", matrix);
    assert_eq!(matrix.matches("- profile: ").count(), 4);
    assert!(matrix.contains("runner: ubuntu-24.04-arm"));
    assert!(matrix.contains("robodev login \"$REGISTRY\""));
    assert!(matrix.contains("packages: write"));

    robodev(dir.path())
        .args(["ci", "gitlab", "rig", "humble"])
        .assert()
        .success();
    let gitlab = std::fs::read_to_string(dir.path().join(".gitlab-ci.yml")).unwrap();
    insta::assert_snapshot!("ci_gitlab_matrix", gitlab);
    assert!(gitlab.contains("junit: test-results/**/*.xml"));
}

#[test]
fn ci_check_names_the_stale_line_and_a_changed_file_needs_force() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("robodev.yaml"),
        "version: 1\nextends: debian\n",
    )
    .unwrap();
    robodev(dir.path())
        .args(["ci", "gitlab", "--check"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(".gitlab-ci.yml is missing"));
    robodev(dir.path())
        .args(["ci", "gitlab"])
        .assert()
        .success();
    robodev(dir.path())
        .args(["ci", "gitlab", "--check"])
        .assert()
        .success();
    // A second platform: the committed file is stale, and says where.
    robodev(dir.path())
        .args([
            "ci",
            "gitlab",
            "--platform",
            "linux/amd64,linux/arm64",
            "--check",
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("out of date"))
        .stderr(predicates::str::contains(
            "--platform linux/amd64,linux/arm64",
        ));
    robodev(dir.path())
        .args(["ci", "gitlab", "--platform", "linux/amd64,linux/arm64"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--force"));
    robodev(dir.path())
        .args(["ci", "gitlab", "--platform", "linux/arm64", "--force"])
        .assert()
        .success();
    robodev(dir.path())
        .args(["ci", "github", "--platform", "linux/sparc-ish"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--platform"));
    assert!(!dir.path().join(".github").exists());
}

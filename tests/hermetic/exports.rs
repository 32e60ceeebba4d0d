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
    // The host's IPC namespace: the host's /dev/shm (Fast DDS shared memory with the host's
    // nodes), never a memory volume over it.
    assert!(omit.text.contains("hostIPC: true"));
    assert!(!omit.text.contains("medium: Memory"), "{}", omit.text);
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

/// A profile's `privileged: true` as the pod says it: the container privileged, free to escalate
/// (Kubernetes refuses `allowPrivilegeEscalation: false` with it), and the header says why.
fn assert_privileged_pod(text: &str, what: &str) {
    assert!(text.contains("privileged: true"), "{what}:\n{text}");
    assert!(
        text.contains("allowPrivilegeEscalation: true"),
        "{what}:\n{text}"
    );
    assert!(
        !text.contains("allowPrivilegeEscalation: false"),
        "{what}:\n{text}"
    );
    assert!(
        text.contains("# PRIVILEGED: the profile's `privileged: true`"),
        "{what}:\n{text}"
    );
}

#[test]
fn kubernetes_keeps_the_profiles_privileged_whatever_the_devices_mode() {
    // Without devices, and with devices, hotplug and no sudo (no-new-privileges).
    let plain = profile_from("version: 1\nextends: debian\nprivileged: true\n").unwrap();
    let plain = plan_for(&plain, &laptop(), &EngineFacts::default()).unwrap();
    let rig = profile_from(&format!(
        "{RIG}privileged: true\nsecurity: {{sudo: false}}\n"
    ))
    .unwrap();
    let rig_plan = plan_for(&rig, &rig_host(), &nvidia_engine()).unwrap();
    assert!(plain.container.privileged && rig_plan.container.privileged);
    assert!(
        rig_plan
            .container
            .security_opt
            .iter()
            .any(|o| o.starts_with("no-new-privileges"))
    );
    let section = robodev::plan::deploy::section(&rig).unwrap();
    let rig_deploy =
        robodev::plan::deploy::runtime_container(&rig_plan.container, &rig_plan.image, section);

    for devices in [DeviceAccess::Omit, DeviceAccess::Privileged] {
        let what = format!("{devices:?}");
        let pod = dev_pod("plain", &plain.container, "x", &options(devices));
        assert_privileged_pod(&pod.text, &format!("plain pod, {what}"));
        assert!(pod.text.contains("kind: Pod"));

        let pod = dev_pod("rig", &rig_plan.container, "x", &options(devices));
        assert_privileged_pod(&pod.text, &format!("rig pod, {what}"));
        // What a privileged pod cannot keep is said, never dropped silently.
        assert!(
            pod.left_out.iter().any(|l| l.contains("no-new-privileges")),
            "{:?}",
            pod.left_out
        );

        // Omitted devices are still named: privilege shows the node's paths, not the profile's.
        assert_eq!(
            pod.left_out.iter().any(|l| l.contains("/dev/ttyUSB0")),
            devices == DeviceAccess::Omit,
            "{:?}",
            pod.left_out
        );

        let deploy = deploy_deployment("rig", &rig_deploy, "x", &options(devices));
        assert!(deploy.text.contains("kind: Deployment"));
        assert_privileged_pod(&deploy.text, &format!("rig deployment, {what}"));
    }
    // Both reasons at once are both named.
    let both = dev_pod(
        "rig",
        &rig_plan.container,
        "x",
        &options(DeviceAccess::Privileged),
    );
    assert!(
        both.text.contains(
            "# PRIVILEGED: the profile's `privileged: true` and --devices privileged give"
        ),
        "{}",
        both.text
    );
    // `--devices privileged` alone still says it is the flag's doing, not the profile's.
    let profile = profile_from(RIG).unwrap();
    let plan = plan_for(&profile, &rig_host(), &nvidia_engine()).unwrap();
    let flag = dev_pod(
        "rig",
        &plan.container,
        "x",
        &options(DeviceAccess::Privileged),
    );
    assert!(
        flag.text
            .contains("# PRIVILEGED: --devices privileged gives the container every device"),
        "{}",
        flag.text
    );
    assert!(!flag.text.contains("the profile's `privileged: true`"));
}

#[test]
fn compose_devcontainer_and_kubernetes_all_keep_the_profiles_privileged() {
    let yaml = "version: 1\nextends: humble\nprivileged: true\n";
    let profile = profile_from(yaml).unwrap();
    let plan = plan_for(&profile, &laptop(), &EngineFacts::default()).unwrap();
    assert!(plan.container.privileged);

    let compose = compose_file("humble", &plan.container, &plan.image.tag);
    assert!(
        compose.text.contains("privileged: true"),
        "{}",
        compose.text
    );

    let files =
        robodev::plan::devcontainer::for_profile(&profile, None, Default::default()).unwrap();
    let body = files.devcontainer_json.split_once('\n').unwrap().1;
    let doc: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(doc["privileged"], true, "{doc:#}");

    let pod = dev_pod(
        "humble",
        &plan.container,
        &plan.image.tag,
        &options(DeviceAccess::Omit),
    );
    assert_privileged_pod(&pod.text, "humble pod");

    // And none of them grants it when the profile does not ask.
    let plain = plan_for(&builtin("humble"), &laptop(), &EngineFacts::default()).unwrap();
    let compose = compose_file("humble", &plain.container, &plain.image.tag);
    assert!(!compose.text.contains("privileged"), "{}", compose.text);
    let files =
        robodev::plan::devcontainer::for_profile(&builtin("humble"), None, Default::default())
            .unwrap();
    let body = files.devcontainer_json.split_once('\n').unwrap().1;
    let doc: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(doc["privileged"], false);
    let pod = dev_pod(
        "humble",
        &plain.container,
        "x",
        &options(DeviceAccess::Omit),
    );
    assert!(!pod.text.contains("privileged"), "{}", pod.text);
}

/// The container fields a backend used to drop without a word: each export now writes them, or
/// says what it leaves out.
#[test]
fn exports_write_or_name_every_container_setting() {
    let profile = profile_from("version: 1\nextends: humble\n").unwrap();
    let mut plan = plan_for(&profile, &laptop(), &EngineFacts::default()).unwrap();
    {
        let c = &mut plan.container;
        c.userns_mode = Some("keep-id".into());
        c.runtime = Some("nvidia".into());
        c.network_mode = "none".into();
        c.ipc_mode = Some("none".into());
        c.security_opt.push("label=disable".into());
        c.working_dir = "/opt/robot".into();
    }
    let c = &plan.container;
    assert!(c.init);

    let compose = compose_file("humble", c, "x");
    for needle in ["userns_mode: keep-id", "runtime: nvidia", "init: true"] {
        assert!(compose.text.contains(needle), "{needle}:\n{}", compose.text);
    }

    let pod = dev_pod("humble", c, "x", &options(DeviceAccess::Omit));
    // Docker's --init: the pod's pause process is PID 1 and reaps orphans.
    assert!(
        pod.text.contains("shareProcessNamespace: true"),
        "{}",
        pod.text
    );
    assert!(
        pod.text.contains("runtimeClassName: nvidia"),
        "{}",
        pod.text
    );
    for said in ["network: none", "ipc: none", "label=disable"] {
        assert!(
            pod.left_out.iter().any(|l| l.contains(said)),
            "{said}: {:?}",
            pod.left_out
        );
        assert!(pod.text.contains(said), "{said} not in the header");
    }

    let renderer = robodev::plan::render::Renderer::for_profile(None, &profile);
    let files = robodev::plan::devcontainer::generate(&plan, &renderer, false).unwrap();
    let body = files.devcontainer_json.split_once('\n').unwrap().1;
    let doc: serde_json::Value = serde_json::from_str(body).unwrap();
    let run_args = doc["runArgs"].to_string();
    for needle in [
        "--userns=keep-id",
        "--runtime=nvidia",
        "--network=none",
        "--ipc=none",
        "--workdir=/opt/robot",
    ] {
        assert!(run_args.contains(needle), "{needle}: {run_args}");
    }
    assert!(doc["securityOpt"].to_string().contains("label=disable"));
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

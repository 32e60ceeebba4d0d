//! The Dockerfiles with cache mounts (for BuildKit and buildah) beside the plain ones: the same
//! instructions in the same order, the mounts only on the steps that download. (That the hash
//! is the plain Dockerfile's, so both builders name the image alike, is tested end to end in
//! `tests/engine/buildkit.rs`.)

use crate::support::*;

const PROFILE: &str = "version: 1\nextends: humble\nname: cached\napt: [htop]\npip: [numpy]\n";

#[test]
fn cache_mount_dockerfile_of_a_profile_with_apt_and_pip() {
    let plan = plan(&profile_from(PROFILE).unwrap());
    let mounts = plan.image.cache_mount_dockerfile.as_deref().unwrap();
    insta::assert_snapshot!("cache_mount_dockerfile_humble", mounts);
}

#[test]
fn the_cache_mount_dockerfile_has_the_plain_ones_instructions() {
    for name in ["debian", "humble", "noetic"] {
        let plan = plan(&builtin(name));
        let plain = instructions(&plan.image.dockerfile);
        let mounts = instructions(plan.image.cache_mount_dockerfile.as_deref().unwrap());
        assert_eq!(plain.len(), mounts.len(), "{name}");
        for (p, m) in plain.iter().zip(&mounts) {
            if m.contains("--mount=") {
                assert!(m.starts_with("RUN --mount=type=cache,id=robodev-"), "{m}");
                assert!(p.starts_with("RUN ") && p.contains("apt-get"), "{p}");
                // The lists stay in the cache, not deleted in the layer.
                assert!(!m.contains("rm -rf /var/lib/apt/lists"), "{m}");
            } else {
                assert_eq!(p, m, "{name}: only the mounted steps differ");
            }
        }
        assert!(!plan.image.dockerfile.contains("--mount="), "{name}");
    }
}

#[test]
fn cache_ids_name_the_distro_and_platform_and_nothing_else() {
    let arm = profile_from(
        "version: 1\nextends: humble\nname: arm\nplatform: linux/arm64\napt: [htop]\n",
    )
    .unwrap();
    let mounts = plan(&arm).image.cache_mount_dockerfile.unwrap();
    assert!(
        mounts.contains("id=robodev-humble-linux-arm64-apt-lists,"),
        "{mounts}"
    );
    let native = plan(&profile_from(PROFILE).unwrap())
        .image
        .cache_mount_dockerfile
        .unwrap();
    assert!(
        native.contains("id=robodev-humble-native-apt-archives,"),
        "{native}"
    );
    assert!(native.contains("id=robodev-humble-native-pip,"), "{native}");
}

fn with_secrets(id: &str, env: &str) -> String {
    format!(
        "version: 1\nextends: humble\nname: private\n\
         apt_repositories: [\"deb [signed-by=/usr/share/keyrings/team.gpg] https://apt.team.example/ jammy main\"]\n\
         apt: [team-driver]\npip: [team-tools]\n\
         secrets:\n  - {{id: {id}, env: {env}, for: apt}}\n  - {{id: pip_index, file: ~/.config/team/pip-index, for: pip}}\n"
    )
}

#[test]
fn dockerfile_with_build_secrets() {
    let plan = plan(&profile_from(&with_secrets("team_apt", "TEAM_APT_AUTH")).unwrap());
    insta::assert_snapshot!("dockerfile_with_build_secrets", &plan.image.dockerfile);
    // Where a value is on this machine is no part of the Dockerfile; the ids are.
    for dockerfile in [
        &plan.image.dockerfile,
        plan.image.cache_mount_dockerfile.as_ref().unwrap(),
    ] {
        assert!(!dockerfile.contains("TEAM_APT_AUTH"), "{dockerfile}");
        assert!(!dockerfile.contains("pip-index"), "{dockerfile}");
        assert!(
            dockerfile.contains("--mount=type=secret,id=team_apt,target=/etc/apt/auth.conf.d/"),
            "{dockerfile}"
        );
    }
    let ids: Vec<&str> = plan.image.secrets.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["team_apt", "pip_index"]);
}

#[test]
fn a_secrets_id_is_part_of_the_hash_and_where_its_value_is_is_not() {
    let hash = |id: &str, env: &str| {
        plan(&profile_from(&with_secrets(id, env)).unwrap())
            .image
            .hash
    };
    assert_eq!(
        hash("team_apt", "TEAM_APT_AUTH"),
        hash("team_apt", "MY_OWN_VARIABLE")
    );
    assert_ne!(
        hash("team_apt", "TEAM_APT_AUTH"),
        hash("other_apt", "TEAM_APT_AUTH")
    );
}

#[test]
fn secrets_are_ids_and_sources_never_values() {
    for (yaml, needle) in [
        ("secrets: [{id: team, value: hunter2, for: apt}]", "value"),
        ("secrets: [{id: team, for: apt}]", "exactly one of `env:`"),
        (
            "secrets: [{id: team, env: A, for: ssh}]",
            "`for:` is one of apt, pip",
        ),
        ("secrets: [{id: Team, env: A, for: apt}]", "not a secret id"),
        (
            "secrets: [{id: a, env: A, for: apt}, {id: a, env: B, for: apt}]",
            "declared twice",
        ),
        (
            "secrets: [{id: a, env: A, for: pip}, {id: b, env: B, for: pip}]",
            "a second",
        ),
        (
            "apt_repositories: [\"http://apt.example.com/ stable\"]",
            "deb [OPTIONS]",
        ),
    ] {
        let err = profile_from(&format!("version: 1\nextends: humble\n{yaml}\n"))
            .unwrap_err()
            .report();
        assert!(err.contains(needle), "{yaml}: {err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}

#[test]
fn ssh_true_gives_the_pip_steps_the_agent_and_the_known_hosts() {
    let plan = plan(
        &profile_from(
            "version: 1\nextends: humble\nname: sshy\nssh: true\n\
             pip: [\"team_tools @ git+ssh://git@git.team.example/team/tools.git@v1.2\"]\n",
        )
        .unwrap(),
    );
    assert!(plan.image.ssh);
    let pip_step = instructions(&plan.image.dockerfile)
        .into_iter()
        .find(|i| i.contains("pip install"))
        .unwrap();
    assert!(
        pip_step.starts_with(
            "RUN --mount=type=ssh --mount=type=secret,id=robodev_known_hosts,target=/root/.ssh/known_hosts "
        ),
        "{pip_step}"
    );
    assert!(
        pip_step.contains("'team_tools @ git+ssh://git@git.team.example/team/tools.git@v1.2'"),
        "{pip_step}"
    );
    // Without `ssh: true`, no step gets the agent.
    let without = plan_without_ssh();
    assert!(!without.contains("type=ssh"), "{without}");
}

fn plan_without_ssh() -> String {
    plan(&profile_from("version: 1\nextends: humble\npip: [numpy]\n").unwrap())
        .image
        .dockerfile
}

#[test]
fn git_requirements_carry_no_password_or_token() {
    for (pip, ok) in [
        (
            "tools @ git+ssh://git@git.team.example/team/tools.git",
            true,
        ),
        (
            "tools @ git+ssh://git@git.team.example:2222/team/tools.git@main",
            true,
        ),
        ("tools @ git+https://git.team.example/team/tools.git", true),
        (
            "tools @ git+https://robot:t0ken@git.team.example/team/tools.git",
            false,
        ),
        ("tools @ file:///home/me/tools", false),
        ("tools @ git+ssh://git@host/x;rm", false),
        ("tools @ git+ssh://git@host/x $(id)", false),
    ] {
        let result = profile_from(&format!(
            "version: 1\nextends: humble\npip: [{}]\n",
            serde_json::to_string(pip).unwrap()
        ));
        assert_eq!(
            result.is_ok(),
            ok,
            "{pip}: {:?}",
            result.err().map(|e| e.report())
        );
        if let Err(e) = result {
            assert!(!e.report().contains("t0ken"), "{}", e.report());
        }
    }
}

#[test]
fn the_deploy_images_colcon_build_keeps_its_compiler_cache_in_a_cache_mount() {
    use robodev::plan::deploy::{DeployInputs, plan_deploy};
    let profile = profile_from(
        "version: 1\nextends: humble\nname: rover\ndependencies: {ccache: true}\n\
         deploy:\n  command: [ros2, launch, rover_bringup, robot.launch.py]\n  \
         cmake_args: [-DCMAKE_BUILD_TYPE=Release]\n",
    )
    .unwrap();
    let deps = Default::default();
    let image = plan_deploy(
        &profile,
        DeployInputs {
            from: &profile.base_image,
            runtime_from: &profile.deploy.as_ref().unwrap().base,
            generated_dir: robodev::plan::deploy::GENERATED_DIR,
            feature_packages: &[],
            build_deps: &deps,
            runtime_deps: &deps,
            sources: None,
            oci_labels: Default::default(),
        },
        &robodev::plan::render::Renderer::new(None),
    )
    .unwrap();
    let colcon = |dockerfile: &str| {
        instructions(dockerfile)
            .into_iter()
            .find(|i| i.contains("colcon build"))
            .unwrap()
    };
    let mounted = colcon(image.cache_mount_dockerfile.as_deref().unwrap());
    assert!(
        mounted.starts_with(
            "RUN --mount=type=cache,id=robodev-humble-native-ccache,target=/var/cache/robodev-ccache "
        ),
        "{mounted}"
    );
    assert!(
        mounted.contains("CCACHE_DIR=/var/cache/robodev-ccache colcon build")
            && mounted.contains(
                "--cmake-args '-DCMAKE_BUILD_TYPE=Release' -DCMAKE_C_COMPILER_LAUNCHER=ccache \
                 -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
            ),
        "{mounted}"
    );
    let plain = colcon(&image.dockerfile);
    assert!(!plain.contains("ccache"), "{plain}");
}

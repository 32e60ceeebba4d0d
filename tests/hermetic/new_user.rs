//! Regressions from a new user's first day (issue "What a new user hit"), one test per finding,
//! named after what it pins. The end-to-end halves are in tests/engine/new_user.rs.

use crate::support::*;
use predicates::prelude::*;
use std::os::unix::fs::PermissionsExt;

fn profile_json(dir: &std::path::Path) -> serde_json::Value {
    let out = robodev(dir)
        .args(["profile", "show", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn apt_of(profile: &serde_json::Value) -> Vec<String> {
    profile["apt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// 1. `init --distro debian` gave an image without colcon or a compiler.
#[test]
fn init_gives_the_same_environment_as_the_builtin_profile() {
    for distro in ["debian", "humble"] {
        let dir = tempfile::tempdir().unwrap();
        robodev(dir.path())
            .args(["init", "--distro", distro, "--yes"])
            .assert()
            .success();
        let written = apt_of(&profile_json(dir.path()));
        assert_eq!(written, builtin(distro).apt, "{distro}");
    }
}

/// 2. The debian profile's colcon found and built no package (extensions not installed).
#[test]
fn the_debian_profile_installs_the_colcon_extensions_a_ros_user_expects() {
    let apt = builtin("debian").apt;
    for ext in [
        "recursive-crawl",
        "bash",
        "ros",
        "python-setup-py",
        "package-information",
        "parallel-executor",
        "output",
        "cmake",
        "test-result",
    ] {
        let package = format!("python3-colcon-{ext}");
        assert!(apt.contains(&package), "{package} missing from {apt:?}");
    }
}

/// 3. `generate` and `devcontainer` failed on a CI runner (no DISPLAY, no device).
#[test]
fn files_are_generated_without_the_hosts_display_or_devices() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("robodev.yaml"),
        "version: 1\nname: bot\nextends: debian\nx11: true\ndevices: [/dev/ttyUSB77]\n",
    )
    .unwrap();
    robodev(dir.path())
        .env_remove("DISPLAY")
        .args(["generate", "-o", "out"])
        .assert()
        .success();
    assert!(dir.path().join("out/Dockerfile").is_file());
    robodev(dir.path())
        .env_remove("DISPLAY")
        .arg("devcontainer")
        .assert()
        .success();
    robodev(dir.path())
        .env_remove("DISPLAY")
        .args(["devcontainer", "--check"])
        .assert()
        .success();
}

/// 9. Files were written 0600 whatever the umask said.
#[test]
fn written_files_follow_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    robodev(dir.path())
        .args(["init", "--distro", "debian", "--yes"])
        .assert()
        .success();
    robodev(dir.path()).arg("devcontainer").assert().success();
    let umask = robodev::files::umask();
    for (file, mode) in [
        ("robodev.yaml", 0o666),
        (".devcontainer/devcontainer.json", 0o666),
        (".devcontainer/robodev-entrypoint", 0o777),
    ] {
        let meta = std::fs::metadata(dir.path().join(file)).unwrap();
        assert_eq!(
            meta.permissions().mode() & 0o777,
            mode & !umask,
            "{file} under umask {umask:o}"
        );
    }
}

/// 3. `run` on a CI runner: the hint names `--no-hardware`.
#[test]
fn run_names_no_hardware_when_the_host_lacks_a_device() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("robodev.yaml"),
        "version: 1\nname: bot\nextends: debian\ndevices: [/dev/ttyUSB77]\n",
    )
    .unwrap();
    // No engine here: the command fails on the engine after the host check passed or failed;
    // with --no-hardware the device is not even looked at.
    robodev(dir.path())
        .args(["run", "--no-hardware", "--", "true"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("Docker engine")
                .and(predicate::str::contains("ttyUSB77").not()),
        );
}

/// Item 8: `generate` wrote into the repository root and `generate`/`devcontainer` replaced
/// hand-written files without asking.
#[test]
fn hand_written_files_are_never_replaced_without_force() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("robodev.yaml"),
        "version: 1\nname: bot\nextends: debian\n",
    )
    .unwrap();
    // By default into a directory robodev owns; nothing lands in the root.
    robodev(dir.path()).arg("generate").assert().success();
    assert!(dir.path().join(".robodev/docker/Dockerfile").is_file());
    assert!(!dir.path().join(".dockerignore").exists());
    assert!(!dir.path().join("Dockerfile").exists());
    // Again: the files are robodev's, so they are replaced.
    robodev(dir.path()).arg("generate").assert().success();

    let mine = "FROM ubuntu:22.04\n# my own Dockerfile\n";
    std::fs::write(dir.path().join("Dockerfile"), mine).unwrap();
    robodev(dir.path())
        .args(["generate", "-o", "."])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("robodev did not write")
                .and(predicate::str::contains("--force")),
        );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(),
        mine
    );
    assert!(
        !dir.path().join(".dockerignore").exists(),
        "nothing of the set is written when one file is the user's"
    );
    robodev(dir.path())
        .args(["generate", "-o", ".", "--force"])
        .assert()
        .success();
    assert_ne!(
        std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(),
        mine
    );

    std::fs::create_dir_all(dir.path().join(".devcontainer")).unwrap();
    let json = "{\"image\": \"mine\"}\n";
    std::fs::write(dir.path().join(".devcontainer/devcontainer.json"), json).unwrap();
    robodev(dir.path())
        .arg("devcontainer")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("devcontainer.json"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".devcontainer/devcontainer.json")).unwrap(),
        json
    );
    robodev(dir.path())
        .args(["devcontainer", "--force"])
        .assert()
        .success();
}

/// Item 16: `init` counted only directories with a package.xml one or two levels down.
#[test]
fn init_counts_packages_as_colcon_does() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        "src/cpp_pkg/package.xml",
        "src/cpp_pkg/CMakeLists.txt",
        "src/group/py_pkg/setup.py",
        "src/group/deeper/still/pure_cmake/CMakeLists.txt",
        "src/ignored/COLCON_IGNORE",
        "src/ignored/pkg/package.xml",
        "src/cpp_pkg/nested_is_not_a_package/package.xml",
    ];
    for f in files {
        let path = dir.path().join(f);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }
    let found = robodev::facts::workspace::colcon_packages(dir.path());
    let names: Vec<String> = found
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["cpp_pkg", "pure_cmake", "py_pkg"], "{found:?}");
    robodev(dir.path())
        .args(["init", "--distro", "debian", "--yes"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "colcon workspace with 3 package(s)",
        ));
}

/// Item 16: a bad flag's error pointed at robodev.yaml:LINE, a file that was never written.
#[test]
fn a_bad_init_flag_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    robodev(dir.path())
        .args(["init", "--distro", "debian", "--device", "ttyUSB0", "--yes"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("--device: `ttyUSB0` is not an absolute path")
                .and(predicate::str::contains("robodev.yaml:").not()),
        );
    assert!(!dir.path().join("robodev.yaml").exists());
}

/// Item 16: `exec ls` without `--` said only that CMD was missing.
#[test]
fn exec_without_the_separator_gets_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    robodev(dir.path())
        .args(["exec", "ls"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "hint: put the command after `--`: robodev exec -- ls",
        ));
}

/// Item 16: the man page cited robodev-up(1) pages that do not exist, and had no ENVIRONMENT or
/// EXIT STATUS; `--json` had no help.
#[test]
fn the_man_page_is_whole_and_json_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let out = robodev(dir.path())
        .arg("man")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let page = String::from_utf8(out).unwrap();
    assert!(
        !page.contains("(1)"),
        "no references to pages that do not exist"
    );
    for section in [
        ".SH COMMANDS",
        ".SH ENVIRONMENT",
        ".SH \"EXIT STATUS\"",
        "DOCKER_HOST",
    ] {
        assert!(page.contains(section), "{section} missing");
    }
    assert!(
        page.contains("robodev exec [PROFILE] \\-\\- <CMD>"),
        "{page}"
    );
    robodev(dir.path())
        .args(["ls", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"--json +Print JSON").unwrap());
}

/// Item 16: a user profile named `debian` silently changed every committed `extends: debian`.
#[test]
fn a_user_profile_shadowing_a_builtin_is_said() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".robodev-config/profiles")).unwrap();
    std::fs::write(
        dir.path().join(".robodev-config/profiles/debian.yaml"),
        "version: 1\nextends: debian\napt: [htop]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("robodev.yaml"),
        "version: 1\nname: bot\nextends: debian\n",
    )
    .unwrap();
    robodev(dir.path())
        .args(["profile", "show"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "is used for an `extends:` instead of the built-in profile",
        ));
    let out = robodev(dir.path())
        .args(["doctor", "--json"])
        .assert()
        .get_output()
        .stdout
        .clone();
    let checks: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(
        checks
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "profile"
                && c["detail"]
                    .as_str()
                    .unwrap()
                    .contains("replaces the built-in")),
        "{checks:#}"
    );
}

/// Item 16: `exec` and `shell` started at the workspace root from any subdirectory.
#[test]
fn exec_starts_in_the_matching_subdirectory() {
    use robodev::plan::exec::ExecPlan;
    let profile = builtin("humble");
    let ws = workspace();
    let user = laptop().user;
    let at = |cwd: &str| {
        ExecPlan::new(&profile, &ws, &user, Some(std::path::Path::new(cwd))).working_dir
    };
    assert_eq!(
        at("/home/alice/robot_ws/src/my pkg"),
        "/workspaces/robot_ws/src/my pkg"
    );
    assert_eq!(at("/home/alice/robot_ws"), "/workspaces/robot_ws");
    assert_eq!(at("/somewhere/else"), "/workspaces/robot_ws");
}

/// Item 16: the ROS 1 entrypoint ignored catkin's devel/.
#[test]
fn catkin_devel_is_sourced_too() {
    let p = plan(&builtin("noetic"));
    let entrypoint = &p.image.context["robodev-entrypoint"];
    assert!(
        entrypoint.contains("$ROBODEV_WORKSPACE/devel/setup.bash"),
        "{entrypoint}"
    );
    assert!(p.image.dockerfile.contains("devel/setup.bash"));
}

//! Workspace dependencies on the real engine with real rosdep (Debian's python3-rosdep2),
//! offline: a local rules file mapping test keys to small Debian packages and a pip package,
//! and a local rosdistro index, as a rosdep user configures it (`ROSDISTRO_INDEX_URL`).

use crate::support::*;

const RULES: &str = "robodev-test-tree:\n  debian: [tree]\nrobodev-test-jq:\n  debian:\n    apt:\n      packages: [jq]\nrobodev-test-six:\n  debian:\n    pip:\n      packages: [six]\nrobodev-test-excluded:\n  debian: [bc]\nrobodev-test-new:\n  debian: [file]\n";
const INDEX: &str = "%YAML 1.1\n---\ndistributions: {}\ntype: index\nversion: 4\n";

fn package(name: &str, format: u32, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<package format=\"{format}\">\n  <name>{name}</name>\n  <version>0.1.0</version>\n  <description>{name}</description>\n  <maintainer email=\"dev@example.com\">dev</maintainer>\n  <license>MIT</license>\n{body}</package>\n"
    )
}

/// Three packages: `a` depends on `b` (inside the workspace), on an apt key, and on a key whose
/// condition excludes it on this profile; `b` has an apt and a pip key; `c` is format 1.
fn workspace() -> Ws {
    let stamp = format!("{:?}", std::time::SystemTime::now());
    let ws = Ws::new(&format!(
        "{DEBIAN}env: {{DEPS_TEST: \"{stamp}\"}}\ndependencies: {{sources: [rosdep/rules.yaml]}}\n"
    ));
    let files = [
        ("rosdep/rules.yaml", RULES.to_string()),
        ("rosdep/index.yaml", INDEX.to_string()),
        (
            "src/a/package.xml",
            package(
                "a",
                3,
                "  <depend>robodev-test-tree</depend>\n  <exec_depend>b</exec_depend>\n  <exec_depend condition=\"$ROS_VERSION == 2\">robodev-test-excluded</exec_depend>\n",
            ),
        ),
        (
            "src/b/package.xml",
            package(
                "b",
                2,
                "  <build_depend>robodev-test-jq</build_depend>\n  <exec_depend>robodev-test-six</exec_depend>\n",
            ),
        ),
        (
            "src/c/package.xml",
            package("c", 1, "  <run_depend>a</run_depend>\n"),
        ),
        ("src/a/src/main.cpp", "int main() {}\n".to_string()),
    ];
    write_files(ws.path(), &files);
    ws
}

fn layers(tag: &str) -> Vec<String> {
    let out = docker(&["image", "inspect", "-f", "{{json .RootFS.Layers}}", tag]);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn image_tag(ws: &Ws) -> String {
    let status: serde_json::Value =
        serde_json::from_slice(&run_with_local_rosdep(ws, &["status", "--json"]).stdout).unwrap();
    status["image"].as_str().unwrap().to_string()
}

#[test]
fn dependencies_are_resolved_locked_installed_and_rebuilt_only_when_they_change() {
    if !engine() {
        return;
    }
    let mut ws = workspace();
    // Before the lock: three new keys; the excluded and the internal ones are not there.
    let deps: serde_json::Value =
        serde_json::from_slice(&run_with_local_rosdep(&ws, &["deps", "--json"]).stdout).unwrap();
    let keys: Vec<&str> = deps
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["robodev-test-jq", "robodev-test-six", "robodev-test-tree"]
    );
    assert!(
        deps.as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "new")
    );

    // lock writes the expected lock.
    let out = run_with_local_rosdep(&ws, &["lock"]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("locked 3 dependencies"),
        "{}",
        stderr(&out)
    );
    let lock = std::fs::read_to_string(ws.path().join("robodev.lock")).unwrap();
    for expected in [
        "robodev-test-jq:\n        apt:\n        - jq\n        types:\n        - build\n",
        "robodev-test-six:\n        pip:\n        - six\n",
        "robodev-test-tree:\n        apt:\n        - tree\n        types:\n        - build\n        - build_export\n        - exec\n",
        "os: debian:bookworm",
        "sources: sha256:",
    ] {
        assert!(lock.contains(expected), "{expected:?} not in\n{lock}");
    }
    assert!(!lock.contains("robodev-test-excluded"));

    // up installs exactly those, with no rosdep inside.
    assert!(run_with_local_rosdep(&ws, &["up", "-d"]).status.success());
    ws.container();
    let check = run_with_local_rosdep(
        &ws,
        &[
            "exec",
            "--",
            "sh",
            "-c",
            "dpkg -s tree jq | grep -c 'install ok installed'; python3 -c 'import six; print(\"six ok\")'; dpkg -s bc >/dev/null 2>&1 || echo 'no bc'",
        ],
    );
    assert_eq!(stdout(&check), "2\nsix ok\nno bc\n");
    let tag = image_tag(&ws);
    let before = layers(&tag);

    // A source edit, and a package.xml edit that keeps the dependency set: no build call.
    std::fs::write(
        ws.path().join("src/a/src/main.cpp"),
        "int main() { return 0; }\n",
    )
    .unwrap();
    let b = ws.path().join("src/b/package.xml");
    let text = std::fs::read_to_string(&b).unwrap();
    std::fs::write(
        &b,
        text.replace(
            "<description>b</description>",
            "<description>b, now documented</description>",
        ),
    )
    .unwrap();
    let out = run_with_local_rosdep(&ws, &["build"]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("up to date (no build needed)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(image_tag(&ws), tag);

    // A new key: --locked (CI) fails with the difference; build resolves it and rebuilds only
    // from the dependency layer up.
    let a = ws.path().join("src/a/package.xml");
    let text = std::fs::read_to_string(&a).unwrap();
    std::fs::write(
        &a,
        text.replace(
            "  <exec_depend>b</exec_depend>\n",
            "  <exec_depend>b</exec_depend>\n  <exec_depend>robodev-test-new</exec_depend>\n",
        ),
    )
    .unwrap();
    let out = run_with_local_rosdep(&ws, &["build", "--locked"]);
    assert_fails(
        &out,
        1,
        &[
            "robodev.lock does not match",
            "+ robodev-test-new (from src/a/package.xml)",
        ],
    );
    let out = run_with_local_rosdep(&ws, &["build"]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("+ robodev-test-new"),
        "{}",
        stderr(&out)
    );
    let new_tag = image_tag(&ws);
    assert_ne!(new_tag, tag);
    let after = layers(&new_tag);
    // base, robodev's tooling, ROS: kept; the dependency layer and above: new.
    assert_eq!(before[..3], after[..3], "{before:#?}\n{after:#?}");
    assert_ne!(before[3], after[3]);
    assert!(
        run_with_local_rosdep(&ws, &["lock", "--locked"])
            .status
            .success()
    );

    // An unknown key: an error at its package.xml line, nothing written.
    let lock_before = std::fs::read_to_string(ws.path().join("robodev.lock")).unwrap();
    let text = std::fs::read_to_string(&b).unwrap();
    std::fs::write(&b, text.replace("  <exec_depend>robodev-test-six</exec_depend>\n", "  <exec_depend>robodev-test-six</exec_depend>\n  <test_depend>robodev-test-tpyo</test_depend>\n")).unwrap();
    let out = run_with_local_rosdep(&ws, &["lock"]);
    assert_fails(
        &out,
        2,
        &[
            "src/b/package.xml:10:3",
            "robodev-test-tpyo",
            "dependencies: {skip:",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(ws.path().join("robodev.lock")).unwrap(),
        lock_before
    );
    let _ = docker(&["rmi", &tag]);
}

/// A rosdep index that cannot be read: the error names the address and why, not a package.xml
/// line, and nothing is written.
#[test]
fn a_failed_rosdep_update_names_the_source_it_could_not_read() {
    if !engine() {
        return;
    }
    let ws = workspace();
    let index = format!("http://127.0.0.1:{}/index-v4.yaml", free_port());
    let out = ws
        .cmd(&["lock"])
        .env("ROSDISTRO_INDEX_URL", &index)
        .output()
        .unwrap();
    let said = stderr(&out);
    eprintln!("{said}");
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("rosdep update failed"), "{said}");
    assert!(said.contains(&index), "{said}");
    assert!(!said.contains("package.xml:"), "{said}");
    assert!(!ws.path().join("robodev.lock").exists());
}

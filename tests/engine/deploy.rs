//! Deploy images on the real engine: a workspace with a C++ executable and its library, a
//! Python package and an exec-only dependency (resolved offline by real rosdep) becomes a
//! runtime image with no compiler, no colcon, no source and no secret, run as the fixed user;
//! a source edit rebuilds only from the copy of the sources up.

use crate::support::*;

const RULES: &str = "robodev-test-python3:\n  debian: [python3]\n";
const INDEX: &str = "%YAML 1.1\n---\ndistributions: {}\ntype: index\nversion: 4\n";
const SECRET: &str = "robodev-e2e-secret-7f3a9c";

fn package(name: &str, build_type: &str, deps: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<package format=\"3\">\n  <name>{name}</name>\n  <version>0.1.0</version>\n  <description>{name}</description>\n  <maintainer email=\"dev@example.com\">dev</maintainer>\n  <license>MIT</license>\n{deps}  <export><build_type>{build_type}</build_type></export>\n</package>\n"
    )
}

fn workspace() -> Ws {
    let stamp = format!("{:?}", std::time::SystemTime::now());
    let ws = Ws::new(&format!(
        "version: 1\nname: rover\nextends: debian\nenv: {{DEPLOY_TEST: \"{stamp}\"}}\n\
         dependencies: {{sources: [rosdep/rules.yaml]}}\n\
         deploy:\n  command: [hello_cpp]\n  cmake_args: [-DCMAKE_BUILD_TYPE=Release]\n  env: {{GREETING: hello}}\n"
    ));
    let files = [
        ("rosdep/rules.yaml", RULES.to_string()),
        ("rosdep/index.yaml", INDEX.to_string()),
        ("src/hello_cpp/package.xml", package("hello_cpp", "cmake", "")),
        (
            "src/hello_cpp/CMakeLists.txt",
            "cmake_minimum_required(VERSION 3.10)\nproject(hello_cpp CXX)\n\
             add_library(greet SHARED greet.cpp)\nadd_executable(hello_cpp main.cpp)\n\
             target_link_libraries(hello_cpp greet)\n\
             set_target_properties(hello_cpp PROPERTIES INSTALL_RPATH \"$ORIGIN/../lib\")\n\
             install(TARGETS greet hello_cpp RUNTIME DESTINATION bin LIBRARY DESTINATION lib)\n"
                .to_string(),
        ),
        (
            "src/hello_cpp/greet.cpp",
            "// robodev-e2e-source-only\n#include <string>\nstd::string greeting() { return \"hello from c++ via libgreet\"; }\n"
                .to_string(),
        ),
        (
            "src/hello_cpp/main.cpp",
            "#include <iostream>\n#include <string>\nstd::string greeting();\nint main() { std::cout << greeting() << std::endl; }\n"
                .to_string(),
        ),
        (
            "src/hello_py/package.xml",
            package("hello_py", "ament_python", "  <exec_depend>robodev-test-python3</exec_depend>\n"),
        ),
        (
            "src/hello_py/setup.py",
            "from setuptools import setup\nsetup(\n    name='hello_py',\n    version='0.1.0',\n    packages=['hello_py'],\n    data_files=[('share/hello_py', ['package.xml'])],\n    entry_points={'console_scripts': ['hello_py = hello_py.main:main']},\n)\n"
                .to_string(),
        ),
        ("src/hello_py/hello_py/__init__.py", String::new()),
        (
            "src/hello_py/hello_py/main.py",
            "def main():\n    print('hello from python')\n".to_string(),
        ),
        // Secrets the workspace's .dockerignore excludes, at the root and among the sources.
        ("id_robot.key", SECRET.to_string()),
        ("src/hello_cpp/calibration.key", SECRET.to_string()),
        (".dockerignore", "*.key\n**/*.key\n".to_string()),
    ];
    for (name, text) in files {
        let path = ws.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    ws
}

fn run(ws: &Ws, args: &[&str]) -> std::process::Output {
    let index = format!("file://{}/rosdep/index.yaml", ws.path().display());
    let out = ws
        .cmd(args)
        .env("ROSDISTRO_INDEX_URL", index)
        .output()
        .unwrap();
    eprintln!(
        "$ robodev {}\n{}{}",
        args.join(" "),
        stdout(&out),
        stderr(&out)
    );
    out
}

fn deploy_tag(said: &str) -> String {
    said.split_whitespace()
        .find(|w| w.starts_with("robodev/rover-deploy:"))
        .unwrap_or_else(|| panic!("no deploy tag in {said}"))
        .to_string()
}

fn layers(tag: &str) -> Vec<String> {
    let out = docker(&["image", "inspect", "-f", "{{json .RootFS.Layers}}", tag]);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_deploy_image_runs_the_workspace_without_compilers_sources_or_secrets() {
    if !engine() {
        return;
    }
    let ws = workspace();
    // The development image first: the deploy build stage reuses its layers.
    assert!(run(&ws, &["build"]).status.success());
    let out = run(&ws, &["deploy", "build"]);
    assert!(out.status.success());
    let tag = deploy_tag(&stderr(&out));

    let out = docker(&["run", "--rm", &tag]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "hello from c++ via libgreet");
    let out = docker(&["run", "--rm", &tag, "hello_py"]);
    assert_eq!(stdout(&out).trim(), "hello from python", "{}", stderr(&out));

    // No compiler, no build tool, no source; the fixed user; the profile's deploy env.
    let out = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        &tag,
        "-c",
        "for t in gcc g++ cc cmake colcon make; do command -v $t; done; ls -A /ws; id -u; id -g; echo $GREETING",
    ]);
    let said = stdout(&out);
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines, ["install", "10001", "10001", "hello"], "{said}");

    // The secrets are in no layer of the runtime image.
    let saved = docker(&["save", &tag]);
    assert!(saved.status.success());
    let haystack = String::from_utf8_lossy(&saved.stdout);
    assert!(
        !haystack.contains(SECRET),
        "a .dockerignore'd secret is in the image"
    );
    // A comment reaches no binary: found, it would be the source itself.
    assert!(
        !haystack.contains("robodev-e2e-source-only"),
        "a source file is in the image"
    );

    // Slim: well under the development image's size.
    let size = |t: &str| -> u64 {
        stdout(&docker(&["image", "inspect", "-f", "{{.Size}}", t]))
            .trim()
            .parse()
            .unwrap()
    };
    let dev = stdout(&run(&ws, &["status", "--json"]));
    let dev: serde_json::Value = serde_json::from_str(&dev).unwrap();
    let (d, r) = (size(dev["image"].as_str().unwrap()), size(&tag));
    eprintln!(
        "deploy image {r} bytes, development image {d} bytes ({:.0}%)",
        100.0 * r as f64 / d as f64
    );
    assert!(r * 100 <= d * 35, "deploy {r} vs dev {d}");

    // deploy run: the image's command with the profile's hardware, as the robot would.
    let out = run(&ws, &["deploy", "run"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("hello from c++ via libgreet"));
    let out = run(&ws, &["deploy", "run", "--", "hello_py"]);
    assert!(stdout(&out).contains("hello from python"));

    // A source edit: a new image whose layers below the built workspace are the same.
    let before = layers(&tag);
    std::fs::write(
        ws.path().join("src/hello_cpp/greet.cpp"),
        "#include <string>\nstd::string greeting() { return \"hello again\"; }\n",
    )
    .unwrap();
    let out = run(&ws, &["deploy", "build"]);
    assert!(out.status.success());
    let edited = deploy_tag(&stderr(&out));
    assert_ne!(edited, tag);
    let after = layers(&edited);
    assert_eq!(after.len(), before.len());
    let kept = before
        .iter()
        .zip(&after)
        .take_while(|(a, b)| a == b)
        .count();
    assert!(
        kept >= before.len() - 2,
        "only install/ and what follows change: {before:?} {after:?}"
    );
    assert_eq!(
        stdout(&docker(&["run", "--rm", &edited])).trim(),
        "hello again"
    );
    let _ = docker(&["rmi", &tag, &edited]);
}

#[test]
fn deploy_push_records_its_digest_and_a_foreign_platform_asks_for_emulation() {
    if !engine() {
        return;
    }
    let registry = Registry::start(None);
    let ws = workspace();
    let profile = std::fs::read_to_string(ws.path().join("robodev.yaml")).unwrap();
    std::fs::write(
        ws.path().join("robodev.yaml"),
        format!("{profile}registry: {}/team\n", registry.address()),
    )
    .unwrap();
    let out = run(&ws, &["deploy", "build", "--push"]);
    assert!(out.status.success());
    let said = stderr(&out);
    let repository = format!("{}/team/rover-deploy", registry.address());
    assert!(
        said.contains(&format!("pushed {repository}@sha256:")),
        "{said}"
    );
    let lock = std::fs::read_to_string(ws.path().join("robodev.lock")).unwrap();
    assert!(
        lock.contains(&format!("repository: {repository}")),
        "{lock}"
    );

    // Another architecture: without QEMU registered, a clear error before any build.
    if !std::path::Path::new("/proc/sys/fs/binfmt_misc/qemu-aarch64").exists() {
        let started = std::time::Instant::now();
        let out = run(&ws, &["deploy", "build", "--platform", "linux/arm64"]);
        assert_fails(&out, 1, &["needs QEMU user emulation", "qemu-user-static"]);
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
    // By name: the same image may carry another test's name too.
    let names = stdout(&docker(&[
        "images",
        "--format",
        "{{.Repository}}:{{.Tag}}",
        &repository,
    ]));
    for name in names.split_whitespace() {
        let _ = docker(&["rmi", name]);
    }
}

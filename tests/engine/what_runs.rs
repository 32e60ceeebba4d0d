//! What runs (the trust issue), against the real engine: an arm64 profile never builds an
//! amd64 image from a locked single-platform base, and says what to name instead; a tag
//! re-pointed on the engine is never run.

use crate::support::*;

#[test]
fn an_arm64_profile_with_an_amd64_only_locked_base_is_refused_with_what_to_name() {
    if !engine() || !is_root() {
        return;
    }
    let registry = Registry::start(None);
    let base = format!("{}/base/amd64only:1", registry.address());
    assert!(docker(&["tag", "debian:bookworm", &base]).status.success());
    assert!(docker(&["push", &base]).status.success());
    let ws = Ws::new(&format!(
        "version: 1\nname: armtrust\nros: {{distro: humble}}\nbase_image: {base}\n\
         platform: linux/arm64\nsecurity: {{sudo: false}}\ndependencies: {{ccache: false}}\n"
    ));
    ws.ok(&["lock"]);
    let out = ws.run(&["build"]);
    assert!(
        !out.status.success(),
        "an amd64 base cannot make an arm64 image"
    );
    let said = stderr(&out);
    assert!(
        said.contains("is linux/amd64, not linux/arm64") && said.contains("base_image:"),
        "{said}"
    );
    let tags = stdout(&docker(&[
        "images",
        "--format",
        "{{.Repository}}",
        "robodev/armtrust",
    ]));
    assert!(tags.trim().is_empty(), "nothing was built: {tags}");
    let _ = docker(&["rmi", &base]);
}

#[test]
fn a_re_pointed_tag_is_not_run() {
    if !engine() || !is_root() {
        return;
    }
    let ws = Ws::new(
        "version: 1\nname: retag\nros: {distro: humble}\nbase_image: debian:bookworm\n\
         security: {sudo: false}\ndependencies: {ccache: false}\n",
    );
    ws.ok(&["build"]);
    let tag = {
        let out = ws.ok(&["status", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["image"].as_str().unwrap().to_string()
    };
    assert!(docker(&["tag", "debian:bookworm", &tag]).status.success());
    let out = ws.run(&["run", "--", "id"]);
    assert_fails(&out, 1, &["is not this profile's image", "--no-cache"]);
    ws.ok(&["build", "--no-cache"]);
    let out = ws.run(&["run", "--", "true"]);
    assert!(out.status.success());
    let _ = docker(&["rmi", &tag]);
}

/// An X server on an abstract socket is reachable from every container on the host network:
/// doctor says so (with x11 off) and how to isolate.
#[test]
fn doctor_says_when_the_hosts_x_server_is_reachable_without_x11() {
    if !engine() {
        return;
    }
    let display = (200..260)
        .find(|n| {
            !std::path::Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !std::path::Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .expect("a free X display number");
    let xvfb = std::process::Command::new("Xvfb")
        .arg(format!(":{display}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("Xvfb (the README's test command installs it)");
    let _server = Background(xvfb);
    let listening = (0..50).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        robodev::facts::host::x11_abstract_displays().contains(&display)
    });
    assert!(
        listening,
        "Xvfb :{display} did not come up on its abstract socket"
    );
    let ws = Ws::new(
        "version: 1\nname: nox\nros: {distro: humble}\nbase_image: debian:bookworm\n\
         x11: false\n",
    );
    let out = ws.run(&["doctor"]);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        said.contains("X server reachable") && said.contains(&format!(":{display}")),
        "{said}"
    );
    assert!(said.contains("-nolisten local"), "{said}");
}

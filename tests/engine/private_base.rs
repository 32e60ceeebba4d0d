//! A team's private base image, in a registry that needs a login: the build pulls it with the
//! user's credentials (`docker login` / `robodev login`, read from Docker's config), which reach
//! BuildKit through robodev's build session and the classic builder as `X-Registry-Config`; on
//! Docker 20.10 with either builder and on Docker 26.1's containerd image store. Without them
//! the build fails naming the base. The password is printed nowhere.

use crate::support::*;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn a_private_base_is_pulled_with_the_users_credentials_by_either_builder() {
    if !engine() || !is_root() {
        return;
    }
    let d26c_socket = "/run/robodev-engines/d26c.sock";
    if !Path::new(d26c_socket).exists() {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true but {d26c_socket} is not there (scripts/engines.sh up d26c)"
        );
        return;
    }
    let pid = std::process::id();
    let password = format!("base-pw-{pid}");
    let registry = Registry::start(Some(("robot", &password)));
    let address = registry.address();

    // The team's base: one of this test's own, pushed with the docker CLI after `docker login`.
    let config = tempfile::tempdir().unwrap();
    let docker_as_team = |args: &[&str], stdin: Option<&str>| {
        let mut child = Command::new("docker")
            .arg("--config")
            .arg(config.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            writeln!(child.stdin.take().unwrap(), "{text}").unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "docker {args:?}: {}", stderr(&out));
    };
    let local = own_base("privatebase", &pid.to_string(), &[]);
    let private = format!("{address}/team/base:{pid}");
    must("docker", &["tag", &local, &private]);
    docker_as_team(
        &["login", &address, "-u", "robot", "--password-stdin"],
        Some(&password),
    );
    docker_as_team(&["push", &private], None);
    let _ = docker(&["rmi", &local, &private]);

    let ws = Ws::new(&format!(
        "version: 1\nname: privatebase{pid}\nros: {{distro: humble}}\nbase_image: {private}\n\
         security: {{sudo: false}}\ndependencies: {{ccache: false}}\n"
    ));
    let no_credentials = tempfile::tempdir().unwrap();
    let d20 = "unix:///var/run/docker.sock".to_string();
    let d26c = format!("unix://{d26c_socket}");
    for (label, host, extra) in [
        ("Docker 20.10, BuildKit", &d20, None),
        (
            "Docker 20.10, classic builder",
            &d20,
            Some("--classic-builder"),
        ),
        ("Docker 26.1 containerd store, BuildKit", &d26c, None),
    ] {
        let build = |docker_config: &Path| {
            let mut args = vec!["build"];
            args.extend(extra);
            let out = ws
                .cmd(&args)
                .env("DOCKER_HOST", host)
                .env("DOCKER_CONFIG", docker_config)
                .output()
                .unwrap();
            let said = format!("{}{}", stdout(&out), stderr(&out));
            eprintln!("$ DOCKER_HOST={host} robodev {}\n{said}", args.join(" "));
            assert!(
                !said.contains(&password),
                "{label}: the password was printed"
            );
            (out.status.success(), said)
        };
        let (ok, said) = build(no_credentials.path());
        assert!(!ok, "{label}: built without credentials: {said}");
        assert!(
            said.contains(&format!("{address}/team/base")),
            "{label}: the failure names the base: {said}"
        );
        let (ok, said) = build(config.path());
        assert!(ok, "{label}: {said}");
        assert!(said.contains("built "), "{label}: {said}");
        // The next builder starts without the image and without the base.
        let _ = ws.cmd(&["image", "rm"]).env("DOCKER_HOST", host).output();
        let socket = host.trim_start_matches("unix://");
        let _ = Command::new("curl")
            .args(["-sf", "--unix-socket", socket, "-X", "DELETE"])
            .arg(format!("http://x/images/{private}?force=1"))
            .output();
    }
}

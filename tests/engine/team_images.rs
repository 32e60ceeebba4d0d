//! Team images through a real registry (Debian's docker-registry, CNCF Distribution) and a
//! second engine as a teammate's machine: push records the digest in robodev.lock; the
//! teammate's `up` pulls exactly that digest and makes no build call; a stopped registry, a
//! deleted manifest, missing or wrong credentials fall back to building with their own message;
//! an image that is not the profile's is never run.

use crate::support::*;

fn lock_of(ws: &Ws) -> String {
    std::fs::read_to_string(ws.path().join("robodev.lock")).unwrap_or_default()
}

fn image_of(ws: &Ws, host: Option<&str>) -> String {
    let mut cmd = ws.cmd(&["status", "--json"]);
    if let Some(h) = host {
        cmd.env("DOCKER_HOST", h);
    }
    let status: serde_json::Value = serde_json::from_slice(&cmd.output().unwrap().stdout).unwrap();
    status["image"].as_str().unwrap().to_string()
}

/// The digest robodev.lock records for the only pushed image.
fn locked_digest(ws: &Ws) -> String {
    let lock = lock_of(ws);
    lock.lines()
        .find_map(|l| l.trim().strip_prefix("digest: "))
        .unwrap_or_else(|| panic!("no digest in\n{lock}"))
        .to_string()
}

#[test]
fn a_teammates_engine_pulls_by_digest_instead_of_building() {
    if !engine() || !is_root() {
        return;
    }
    let registry = Registry::start(None);
    let stamp = format!("{:?}", std::time::SystemTime::now());
    let mut ws = Ws::new(&format!(
        "{DEBIAN}registry: {}/team\nenv: {{TEAM_IMAGE: \"{stamp}\"}}\n",
        registry.address()
    ));
    let out = ws.run(&["push"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let tag = image_of(&ws, None);
    assert!(
        tag.starts_with(&format!("{}/team/debian:", registry.address())),
        "{tag}"
    );
    let digest = locked_digest(&ws);
    assert!(digest.starts_with("sha256:"));
    assert!(lock_of(&ws).contains(&format!("repository: {}/team/debian", registry.address())));
    let manifest = registry.http(
        "GET",
        &format!(
            "/v2/team/debian/manifests/{}",
            tag.rsplit_once(':').unwrap().1
        ),
        "application/vnd.docker.distribution.manifest.v2+json",
    );
    assert!(manifest.starts_with("HTTP/1.1 200"), "{manifest}");

    // A teammate: another engine, the same committed files. No build call at all.
    let teammate = PrivateEngine::start();
    let host = teammate.host();
    let out = ws
        .cmd(&["up", "-d"])
        .env("DOCKER_HOST", &host)
        .output()
        .unwrap();
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "pulled {}/team/debian@{digest}",
            registry.address()
        )),
        "{said}"
    );
    assert!(
        !said.contains("✓ built") && !said.contains("[1/"),
        "a build call was made: {said}"
    );
    let hash = stdout(&teammate.docker(&[
        "image",
        "inspect",
        "-f",
        "{{index .Config.Labels \"robodev.hash\"}}",
        &tag,
    ]));
    assert!(
        tag.ends_with(&hash.trim()[..12]),
        "the tag names the pulled image"
    );
    let out = ws
        .cmd(&["exec", "--", "true"])
        .env("DOCKER_HOST", &host)
        .output()
        .unwrap();
    assert!(out.status.success());
    // `status` says where the image came from: the registry, by its digest, not "built".
    let out = ws
        .cmd(&["status"])
        .env("DOCKER_HOST", &host)
        .output()
        .unwrap();
    assert!(
        stdout(&out).contains(&format!(
            "present, pulled or pushed as {}/team/debian@{digest}",
            registry.address()
        )),
        "{}",
        stdout(&out)
    );
    // A push of what the lock already records says so, not "recorded (commit it)".
    let out = ws.run(&["push"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("robodev.lock already records it"),
        "{}",
        stderr(&out)
    );
    let out = ws
        .cmd(&["down"])
        .env("DOCKER_HOST", &host)
        .output()
        .unwrap();
    assert!(out.status.success());

    // Someone pushes another image under the hash tag: by digest, the teammate still gets the
    // locked image (a tag can move, a digest cannot) ...
    assert!(docker(&["tag", "debian:bookworm", &tag]).status.success());
    assert!(docker(&["push", &tag]).status.success());
    assert!(teammate.docker(&["rmi", &tag]).status.success());
    let out = ws
        .cmd(&["build"])
        .env("DOCKER_HOST", &host)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("@{digest}")),
        "{}",
        stderr(&out)
    );
    // ... and without a lock, the image under the tag is refused: it is not this profile's.
    assert!(teammate.docker(&["rmi", &tag]).status.success());
    let lock = lock_of(&ws);
    std::fs::remove_file(ws.path().join("robodev.lock")).unwrap();
    let out = ws
        .cmd(&["up", "-d"])
        .env("DOCKER_HOST", &host)
        .output()
        .unwrap();
    assert_fails(
        &out,
        1,
        &["refusing to run a pulled image", "not this profile's image"],
    );
    assert!(
        !teammate
            .docker(&["image", "inspect", &tag])
            .status
            .success(),
        "the wrong image is removed"
    );
    ws.containers.clear();

    // The locked manifest deleted from the registry: its own message, then a local build (on
    // the first engine, whose layer cache makes it quick).
    std::fs::write(ws.path().join("robodev.lock"), lock).unwrap();
    assert!(docker(&["rmi", &tag]).status.success());
    let deleted = registry.http(
        "DELETE",
        &format!("/v2/team/debian/manifests/{digest}"),
        "*/*",
    );
    assert!(deleted.starts_with("HTTP/1.1 202"), "{deleted}");
    let out = ws.run(&["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the registry does not have it"),
        "{}",
        stderr(&out)
    );
    let _ = docker(&["rmi", &tag]);
}

#[test]
fn registry_failures_fall_back_to_building_and_credentials_come_from_docker_config() {
    if !engine() {
        return;
    }
    let password = "s3cret-robodev-e2e";
    let mut registry = Registry::start(Some(("robot", password)));
    let stamp = format!("{:?}", std::time::SystemTime::now());
    let ws = Ws::new(&format!(
        "{DEBIAN}registry: {}/team\nenv: {{TEAM_FAIL: \"{stamp}\"}}\n",
        registry.address()
    ));
    // No credentials: push says to log in.
    let config = tempfile::tempdir().unwrap();
    let out = ws
        .cmd(&["push"])
        .env("DOCKER_CONFIG", config.path())
        .output()
        .unwrap();
    assert_fails(&out, 1, &["docker login"]);
    // Wrong credentials, then the right ones, as `docker login` writes them in config.json.
    let address = registry.address();
    let write_auth = |pass: &str| {
        let auth = base64_encode(&format!("robot:{pass}"));
        std::fs::write(
            config.path().join("config.json"),
            format!("{{\"auths\": {{\"{address}\": {{\"auth\": \"{auth}\"}}}}}}"),
        )
        .unwrap();
    };
    write_auth("wrong");
    let out = ws
        .cmd(&["push"])
        .env("DOCKER_CONFIG", config.path())
        .output()
        .unwrap();
    assert_fails(&out, 1, &["docker login"]);
    // robodev login: a wrong password is refused and nothing is saved; the right one (for the
    // profile's registry when none is named) is kept where docker login keeps it.
    let login = |args: &[&str], pass: &str| {
        use std::io::Write;
        let mut child = ws
            .cmd(args)
            .env("DOCKER_CONFIG", config.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{pass}").unwrap();
        child.wait_with_output().unwrap()
    };
    std::fs::remove_file(config.path().join("config.json")).unwrap();
    let out = login(
        &["login", &address, "-u", "robot", "--password-stdin"],
        "nope",
    );
    assert_fails(
        &out,
        1,
        &["refused the username robot", "nothing was saved"],
    );
    assert!(!config.path().join("config.json").exists());
    let out = login(&["login", "-u", "robot", "--password-stdin"], password);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("logged in to {address} as robot")));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(config.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(
        saved["auths"][address.as_str()]["auth"],
        base64_encode(&format!("robot:{password}")).as_str()
    );
    let out = ws
        .cmd(&["push"])
        .env("DOCKER_CONFIG", config.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    for o in [stdout(&out), stderr(&out)] {
        assert!(!o.contains(password), "a secret was printed");
    }
    let tag = image_of(&ws, None);
    assert!(locked_digest(&ws).starts_with("sha256:"));
    // The pushed image is the team's: clean keeps it even once the profile has moved on.
    let profile = std::fs::read_to_string(ws.path().join("robodev.yaml")).unwrap();
    std::fs::write(
        ws.path().join("robodev.yaml"),
        format!("{profile}apt: [tree]\n"),
    )
    .unwrap();
    let dry = stdout(&ws.run(&["clean", "--dry-run", "--json"]));
    let rows: serde_json::Value = serde_json::from_str(&dry).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["image"] == tag.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{tag} not in {rows}"));
    assert!(row["action"].as_str().unwrap().starts_with("kept"), "{row}");
    std::fs::write(ws.path().join("robodev.yaml"), profile).unwrap();

    // Absent locally, registry stopped: its own message, then a build (cached layers).
    assert!(docker(&["rmi", &tag]).status.success());
    registry.stop();
    let out = ws
        .cmd(&["build"])
        .env("DOCKER_CONFIG", config.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the registry is unreachable"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("building"), "{}", stderr(&out));

    registry.resume();
    // Wrong credentials when pulling: their own message, then a build.
    assert!(docker(&["rmi", &tag]).status.success());
    write_auth("wrong");
    let out = ws
        .cmd(&["build"])
        .env("DOCKER_CONFIG", config.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refused the credentials"),
        "{}",
        stderr(&out)
    );

    // --offline never contacts the registry.
    assert!(docker(&["rmi", &tag]).status.success());
    registry.stop();
    let out = ws.cmd(&["build", "--offline"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("pulling"), "{}", stderr(&out));
    let _ = docker(&["rmi", &tag]);
}

/// Standard base64, for writing a config.json as `docker login` does.
fn base64_encode(text: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

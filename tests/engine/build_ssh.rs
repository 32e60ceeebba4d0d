//! `ssh: true`: a pip requirement from a private git repository over ssh (a bare repository
//! behind the test's sshd), installed through the user's ssh agent. The key is only ever in
//! the agent (its file is deleted before the build) and in no layer of the image.

use crate::support::*;
use std::io::Read;
use std::process::Command;

fn git(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=robodev tests",
            "-c",
            "user.email=tests@robodev.invalid",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

/// Whether any file of `docker save IMAGE` (layers' files included) holds `needle`.
fn saved_image_holds(image: &str, needle: &[u8]) -> bool {
    let save = Command::new("docker")
        .args(["save", image])
        .output()
        .unwrap();
    assert!(save.status.success(), "{}", stderr(&save));
    let holds = |bytes: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    let mut outer = tar::Archive::new(&save.stdout[..]);
    for entry in outer.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if holds(&bytes) {
            return true;
        }
        if name.ends_with("layer.tar") {
            for file in tar::Archive::new(&bytes[..]).entries().unwrap() {
                let mut content = Vec::new();
                file.unwrap().read_to_end(&mut content).unwrap();
                if holds(&content) {
                    return true;
                }
            }
        }
    }
    false
}

#[test]
fn a_pip_package_from_a_private_git_repository_installs_through_the_users_ssh_agent() {
    if !engine() || !is_root() {
        return;
    }
    let pid = std::process::id();
    let module = format!("robodev_private_{pid}");
    let dir = tempfile::Builder::new()
        .prefix("robodev-e2e-ssh-")
        .tempdir_in(scratch())
        .unwrap();
    let d = dir.path();

    // The private package, in a bare repository.
    let src = d.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("setup.py"),
        format!(
            "from setuptools import setup\nsetup(name=\"{module}\", version=\"1.0\", \
             py_modules=[\"{module}\"])\n"
        ),
    )
    .unwrap();
    std::fs::write(src.join(format!("{module}.py")), "MARK = 'installed'\n").unwrap();
    git(&src, &["init", "-q"]);
    git(&src, &["add", "."]);
    git(&src, &["commit", "-q", "-m", "private package"]);
    git(d, &["clone", "-q", "--bare", "src", "pkg.git"]);

    // A key held only by an agent this test starts: its file is gone before the build.
    let sshd = Sshd::start();
    let key = d.join("key");
    must(
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "", "-f", key.to_str().unwrap()],
    );
    let private = std::fs::read_to_string(&key).unwrap();
    // A line of the key's body: what a copy of the file anywhere would contain.
    let private_body = private
        .lines()
        .find(|l| !l.starts_with("-----") && l.len() > 40)
        .unwrap()
        .to_string();
    let agent_socket = d.join("agent.sock");
    let _agent = Background(
        Command::new("ssh-agent")
            .args(["-D", "-a"])
            .arg(&agent_socket)
            .spawn()
            .unwrap(),
    );
    for _ in 0..50 {
        if agent_socket.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let added = Command::new("ssh-add")
        .arg(&key)
        .env("SSH_AUTH_SOCK", &agent_socket)
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", stderr(&added));
    std::fs::remove_file(&key).unwrap();
    let public = std::fs::read_to_string(d.join("key.pub")).unwrap();
    sshd.authorize("root", public.trim(), &[]);

    // The hosts this user's ssh trusts: the test sshd's key.
    let home = d.join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    let host_key = std::fs::read_to_string(sshd.dir.path().join("host_key.pub")).unwrap();
    let host_key: Vec<&str> = host_key.split_whitespace().take(2).collect();
    std::fs::write(
        home.join(".ssh/known_hosts"),
        format!("[127.0.0.1]:{} {}\n", sshd.port, host_key.join(" ")),
    )
    .unwrap();

    let name = format!("bkssh{pid}");
    let requirement = format!(
        "{module} @ git+ssh://root@127.0.0.1:{}{}",
        sshd.port,
        d.join("pkg.git").display()
    );
    let ws = Ws::new(&format!(
        "version: 1\nname: {name}\nros: {{distro: humble}}\nbase_image: debian:bookworm\n\
         security: {{sudo: false}}\ndependencies: {{ccache: false}}\n\
         apt: [git, openssh-client]\npip: [\"{requirement}\"]\nssh: true\n"
    ));
    let build = |agent: Option<&std::path::Path>| {
        let mut c = ws.cmd(&["-v", "build", "--build"]);
        c.env("HOME", &home).env_remove("SSH_AUTH_SOCK");
        if let Some(a) = agent {
            c.env("SSH_AUTH_SOCK", a);
        }
        let out = c.output().unwrap();
        eprintln!(
            "$ robodev -v build --build\n{}{}",
            stdout(&out),
            stderr(&out)
        );
        out
    };

    // No agent: a clear error, before any build.
    let out = build(None);
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("ssh: true") && said.contains("SSH_AUTH_SOCK") && !said.contains("building"),
        "{said}"
    );

    let out = build(Some(&agent_socket));
    let log = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{log}\nsshd: {}", sshd.log());
    let tag = {
        let start = log.find(&format!("robodev/{name}:")).unwrap();
        log[start..].split_whitespace().next().unwrap().to_string()
    };
    let imported = Command::new("docker")
        .args([
            "run",
            "--rm",
            "--network=host",
            "--entrypoint",
            "python3",
            &tag,
            "-c",
        ])
        .arg(format!("import {module}; print({module}.MARK)"))
        .output()
        .unwrap();
    assert_eq!(
        stdout(&imported).trim(),
        "installed",
        "{}",
        stderr(&imported)
    );
    assert!(
        sshd.log().contains("Accepted publickey for root"),
        "the build logged in with the agent's key: {}",
        sshd.log()
    );
    // The key was never copied: no layer, config or history holds it.
    assert!(!saved_image_holds(&tag, private_body.as_bytes()));
    assert!(!log.contains(&private_body));
    let _ = ws.cmd(&["image", "rm"]).output();
}

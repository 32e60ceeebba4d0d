//! Build secrets against a real private apt repository: a package served on 127.0.0.1 behind
//! HTTP basic auth, whose credentials are a `secrets:` entry read from an environment variable.
//! The package installs (so the secret reached apt), and the password is in no layer, history
//! entry, image config or build log line.

use crate::support::*;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};

/// The apt server's port (this suite's range: 5091–5094).
const PORT: u16 = 5093;

const SERVER: &str = r#"
import base64, functools, http.server, sys
port, user, password, root = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
class Handler(http.server.SimpleHTTPRequestHandler):
    def check(self):
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="robodev-test"')
            self.end_headers()
            return False
        return True
    def do_GET(self):
        if self.check():
            super().do_GET()
    def do_HEAD(self):
        if self.check():
            super().do_HEAD()
http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Handler, directory=root)).serve_forever()
"#;

/// A flat apt repository with one package, `package`, that installs `/usr/share/PACKAGE/marker`.
fn private_repository(dir: &Path, package: &str) {
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(pkg.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(pkg.join(format!("usr/share/{package}"))).unwrap();
    std::fs::write(
        pkg.join("DEBIAN/control"),
        format!(
            "Package: {package}\nVersion: 1.0\nArchitecture: all\nMaintainer: robodev tests \
             <tests@robodev.invalid>\nDescription: a package only the secret can fetch\n"
        ),
    )
    .unwrap();
    std::fs::write(
        pkg.join(format!("usr/share/{package}/marker")),
        "installed\n",
    )
    .unwrap();
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    must(
        "dpkg-deb",
        &[
            "--root-owner-group",
            "--build",
            pkg.to_str().unwrap(),
            repo.join(format!("{package}_1.0_all.deb"))
                .to_str()
                .unwrap(),
        ],
    );
    let scan = Command::new("dpkg-scanpackages")
        .args([".", "/dev/null"])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(scan.status.success(), "{}", stderr(&scan));
    std::fs::write(repo.join("Packages"), &scan.stdout).unwrap();
    // A Release file naming the index, so apt takes the (trusted=yes) flat repository.
    use sha2::{Digest, Sha256};
    let release = format!(
        "Origin: robodev-test\nLabel: robodev-test\nSHA256:\n {} {} Packages\n",
        hex::encode(Sha256::digest(&scan.stdout)),
        scan.stdout.len()
    );
    std::fs::write(repo.join("Release"), release).unwrap();
}

fn profile(name: &str, package: &str, env: &str) -> String {
    format!(
        "version: 1\nname: {name}\nros: {{distro: humble}}\nbase_image: debian:bookworm\n\
         security: {{sudo: false}}\ndependencies: {{ccache: false}}\n\
         apt_repositories: [\"deb [trusted=yes] http://127.0.0.1:{PORT}/ ./\"]\n\
         apt: [{package}]\n\
         secrets:\n  - {{id: team_apt, env: {env}, for: apt}}\n"
    )
}

fn build(ws: &Ws, host: &str, env: Option<(&str, &str)>) -> Output {
    let mut c = ws.cmd(&["-v", "build", "--build"]);
    c.env("DOCKER_HOST", host);
    if let Some((k, v)) = env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    eprintln!(
        "$ DOCKER_HOST={host} robodev -v build --build\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    out
}

/// Every file of `docker save IMAGE` (each layer's files, the config, the manifest), read
/// whole; `None` when none holds `needle`, else the entry that does.
fn saved_image_holds(image: &str, needle: &[u8]) -> Option<String> {
    let save = Command::new("docker")
        .args(["save", image])
        .output()
        .unwrap();
    assert!(save.status.success(), "{}", stderr(&save));
    let mut outer = tar::Archive::new(&save.stdout[..]);
    let mut layers = 0;
    for entry in outer.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if contains(&bytes, needle) {
            return Some(name);
        }
        if name.ends_with("layer.tar") {
            layers += 1;
            let mut inner = tar::Archive::new(&bytes[..]);
            for file in inner.entries().unwrap() {
                let mut file = file.unwrap();
                let path = file.path().unwrap().display().to_string();
                let mut content = Vec::new();
                file.read_to_end(&mut content).unwrap();
                if contains(&content, needle) {
                    return Some(format!("{name}: {path}"));
                }
            }
        }
    }
    assert!(layers > 3, "the archive's layers were read ({layers})");
    None
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_private_apt_package_installs_with_a_build_secret_that_no_layer_or_log_keeps() {
    if !engine() || !is_root() {
        return;
    }
    let pid = std::process::id();
    let name = format!("bksecret{pid}");
    let package = format!("robodev-private-{pid}");
    let password = format!("s3cret-{pid}-{}", rand_suffix());
    let dir = tempfile::Builder::new()
        .prefix("robodev-e2e-apt-")
        .tempdir_in(scratch())
        .unwrap();
    private_repository(dir.path(), &package);
    let script = dir.path().join("server.py");
    std::fs::write(&script, SERVER).unwrap();
    let _server = Background(
        Command::new("python3")
            .arg(&script)
            .args([&PORT.to_string(), "robot", &password])
            .arg(dir.path().join("repo"))
            .spawn()
            .unwrap(),
    );
    // The repository answers only with the password: without it, 401.
    let mut answered = String::new();
    for _ in 0..50 {
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("http://127.0.0.1:{PORT}/Packages"))
            .output()
            .unwrap();
        answered = stdout(&out);
        if answered == "401" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        answered, "401",
        "the private repository refuses anonymous requests"
    );

    let env = format!("ROBODEV_E2E_APT_AUTH_{pid}");
    let ws = Ws::new(&profile(&name, &package, &env));

    // No value for the secret: an error naming the variable, and no build.
    let out = build(&ws, "unix:///var/run/docker.sock", None);
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains(&env) && said.contains("team_apt") && !said.contains("building"),
        "{said}"
    );

    let auth = format!("machine http://127.0.0.1:{PORT}\nlogin robot\npassword {password}\n");
    let out = build(&ws, "unix:///var/run/docker.sock", Some((&env, &auth)));
    let log = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{log}");
    assert!(log.contains(&format!("Unpacking {package}")), "{log}");
    assert!(!log.contains(&password), "the build log shows the secret");

    let tag = {
        let start = log.find(&format!("robodev/{name}:")).unwrap();
        log[start..].split_whitespace().next().unwrap().to_string()
    };
    // Installed: the package's file is in the image.
    let marker = Command::new("docker")
        .args(["run", "--rm", "--network=host", "--entrypoint", "cat", &tag])
        .arg(format!("/usr/share/{package}/marker"))
        .output()
        .unwrap();
    assert_eq!(stdout(&marker).trim(), "installed", "{}", stderr(&marker));

    // Nowhere in the image: layers (and no auth.conf.d file of robodev's), config, history.
    assert_eq!(saved_image_holds(&tag, password.as_bytes()), None);
    let inspect = docker(&["image", "inspect", &tag]);
    assert!(!stdout(&inspect).contains(&password));
    let history = docker(&["history", "--no-trunc", &tag]);
    assert!(
        stdout(&history).contains("apt-get -o Acquire::Retries=3 update"),
        "{}",
        stdout(&history)
    );
    assert!(!stdout(&history).contains(&password));

    // Docker 26.1, both image stores: the same build (the context and the secret through
    // robodev's session).
    for kind in ["d26", "d26c"] {
        let socket = format!("/run/robodev-engines/{kind}.sock");
        if !Path::new(&socket).exists() {
            assert!(
                std::env::var("CI").is_err(),
                "CI=true but {kind} is not running"
            );
            continue;
        }
        let host = format!("unix://{socket}");
        let _ = ws.cmd(&["image", "rm"]).env("DOCKER_HOST", &host).output();
        let out = build(&ws, &host, Some((&env, &auth)));
        let log = format!("{}{}", stdout(&out), stderr(&out));
        assert!(out.status.success(), "{kind}: {log}");
        assert!(
            log.contains(&format!("Unpacking {package}")),
            "{kind}: {log}"
        );
        assert!(
            !log.contains(&password),
            "{kind}: the build log shows the secret"
        );
        let _ = ws.cmd(&["image", "rm"]).env("DOCKER_HOST", &host).output();
    }

    // An engine without BuildKit says so, before building.
    if let Some(p5) = ["p5", "p4"]
        .iter()
        .map(|k| format!("/run/robodev-engines/{k}.sock"))
        .find(|s| Path::new(s).exists())
    {
        let out = build(&ws, &format!("unix://{p5}"), Some((&env, &auth)));
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{said}");
        assert!(
            said.contains("need BuildKit") && said.contains("team_apt"),
            "{said}"
        );
    }
    let _ = ws.cmd(&["image", "rm"]).output();
}

fn rand_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{nanos:x}")
}

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// True when an engine answers; with CI=true a missing engine is a failure, not a skip.
pub fn engine() -> bool {
    let ok = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true but no Docker engine is reachable: run the README's test command, which provisions one"
        );
        eprintln!("skipped: no Docker engine reachable");
    }
    ok
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_robodev"))
}

/// A workspace directory with its own profile, its container removed when dropped.
pub struct Ws {
    pub dir: tempfile::TempDir,
    pub containers: Vec<String>,
}

impl Ws {
    pub fn new(profile: &str) -> Ws {
        let dir = tempfile::Builder::new()
            .prefix("robodev-e2e-")
            .tempdir_in(scratch())
            .unwrap();
        std::fs::write(dir.path().join("robodev.yaml"), profile).unwrap();
        Ws {
            dir,
            containers: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args).current_dir(self.path());
        self.env(&mut c);
        c
    }

    /// The environment every robodev this workspace runs gets: no colour, state and config
    /// directories of its own.
    pub fn env(&self, c: &mut Command) {
        c.env("NO_COLOR", "1")
            .env("ROBODEV_STATE_DIR", self.path().join(".state"))
            .env("ROBODEV_CONFIG_DIR", self.path().join(".config"));
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.cmd(args).output().unwrap();
        eprintln!(
            "$ robodev {}\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "robodev {args:?} failed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The name robodev gives this workspace's container (from `robodev status --json`).
    pub fn container(&mut self) -> String {
        let out = self.ok(&["status", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let name = v["container"].as_str().unwrap().to_string();
        if !self.containers.contains(&name) {
            self.containers.push(name.clone());
        }
        name
    }
}

impl Drop for Ws {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = Command::new("docker").args(["rm", "-f", c]).output();
        }
    }
}

/// Temp dirs under /tmp (not a private $TMPDIR), so other users and the engine can see them.
pub fn scratch() -> PathBuf {
    PathBuf::from("/tmp")
}

pub fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().unwrap()
}

pub fn docker_inspect(container: &str) -> serde_json::Value {
    let out = docker(&["inspect", container]);
    assert!(out.status.success(), "docker inspect {container}");
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()[0].clone()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

pub const DEBIAN: &str = "version: 1\nname: debian\nextends: debian\n";
/// The profile the hardware tests share (one image for all of them): X11, Wayland and
/// PulseAudio clients.
pub const DEBIAN_HW: &str =
    "version: 1\nextends: debian\napt: [x11-utils, wayland-utils, pulseaudio-utils]\n";

/// Run a set-up step (useradd, groupadd, chgrp, …): `Err` with its output when it fails.
pub fn set_up(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program).args(args).output().map_err(|e| {
        format!(
            "set-up step `{program} {}` did not run: {e}",
            args.join(" ")
        )
    })?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "set-up step `{program} {}` failed ({}):\n{}{}",
        args.join(" "),
        out.status,
        stdout(&out),
        stderr(&out)
    ))
}

/// `set_up`, failing the test with the step's output.
pub fn must(program: &str, args: &[&str]) {
    if let Err(e) = set_up(program, args) {
        panic!("{e}");
    }
}

/// A user's uid, `None` when there is no such user.
pub fn uid_of(user: &str) -> Option<u32> {
    let out = Command::new("id").args(["-u", user]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    stdout(&out).trim().parse().ok()
}

/// The names of a user's groups.
pub fn groups_of(user: &str) -> Vec<String> {
    let out = Command::new("id").args(["-nG", user]).output().unwrap();
    assert!(out.status.success(), "id -nG {user}: {}", stderr(&out));
    stdout(&out).split_whitespace().map(String::from).collect()
}

/// The name and uid of `ordinary_user()`: the uid-mapping tests check for 4242.
pub const ORDINARY_USER: &str = "robodev-e2e";
pub const ORDINARY_UID: u32 = 4242;

/// An ordinary user in the docker group, for the uid-mapping tests; `None` unless we are root
/// (then there is nobody to become; as an ordinary user the other tests already map us).
/// Made once per run; one that exists already is used only if it has uid 4242, and is put in
/// the docker group when it is not. A step that fails fails the test, with its output.
pub fn ordinary_user() -> Option<&'static str> {
    if !is_root() {
        eprintln!(
            "skipped: creating a test user needs root (this run is already an ordinary user's)"
        );
        return None;
    }
    static READY: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    if let Err(e) = READY.get_or_init(make_ordinary_user) {
        panic!("cannot set up the test user {ORDINARY_USER}: {e}");
    }
    Some(ORDINARY_USER)
}

fn make_ordinary_user() -> Result<(), String> {
    let user = ORDINARY_USER;
    set_up("groupadd", &["-f", "docker"])?;
    match uid_of(user) {
        None => set_up(
            "useradd",
            &["-m", "-G", "docker", "-u", &ORDINARY_UID.to_string(), user],
        )?,
        Some(ORDINARY_UID) => {}
        Some(other) => {
            return Err(format!(
                "the user {user} exists with uid {other}, the tests need {ORDINARY_UID} \
                 (`userdel -r {user}` lets them make it)"
            ));
        }
    }
    if !groups_of(user).iter().any(|g| g == "docker") {
        set_up("usermod", &["-aG", "docker", user])?;
    }
    let home = format!("/home/{user}");
    if !Path::new(&home).is_dir() {
        set_up("mkdir", &["-p", &home])?;
        set_up("chown", &[user, &home])?;
    }
    set_up("chgrp", &["docker", "/var/run/docker.sock"])
}

/// A user of this test run's own (`PREFIX-PID-N`: never one that was there before), removed
/// with its home when dropped. Every step of making it fails the test with its output.
pub struct TestUser {
    pub name: String,
    pub uid: u32,
    pub home: PathBuf,
}

impl TestUser {
    /// With `groups` (`docker`, made if missing) as supplementary groups, none when empty.
    pub fn new(prefix: &str, groups: &[&str]) -> TestUser {
        static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let name = format!(
            "{prefix}-{}-{}",
            std::process::id(),
            MADE.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        assert!(name.len() <= 32, "user name {name} is too long");
        if let Some(uid) = uid_of(&name) {
            panic!(
                "the user {name} exists already (uid {uid}): remove it with `userdel -r {name}`"
            );
        }
        for group in groups {
            must("groupadd", &["-f", group]);
        }
        let joined = groups.join(",");
        let mut args = vec!["-m"];
        if !groups.is_empty() {
            args.extend(["-G", joined.as_str()]);
        }
        args.push(name.as_str());
        must("useradd", &args);
        let uid = uid_of(&name).unwrap_or_else(|| panic!("useradd {name} made no user"));
        let have = groups_of(&name);
        for group in groups {
            assert!(
                have.iter().any(|g| g == group),
                "{name} is not in {group}: {have:?}"
            );
        }
        TestUser {
            home: PathBuf::from(format!("/home/{name}")),
            name,
            uid,
        }
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel")
            .args(["-r", "-f", &self.name])
            .output();
    }
}

/// Run `program args` as `user` in `dir`, with that user's HOME and USER.
pub fn as_user(user: &str, dir: &Path, program: &Path, args: &[&str]) -> Output {
    let out = Command::new("runuser")
        .args(["-u", user, "--"])
        .arg(program)
        .args(args)
        .current_dir(dir)
        .env("HOME", format!("/home/{user}"))
        .env("USER", user)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    eprintln!("{}{}", stdout(&out), stderr(&out));
    out
}

pub fn give_to(user: &str, path: &Path) {
    assert!(
        Command::new("chown")
            .args(["-R", user])
            .arg(path)
            .status()
            .unwrap()
            .success()
    );
}

/// Assert that a command failed with `code` and that its stderr says each of `needles`.
pub fn assert_fails(out: &Output, code: i32, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
    }
}

/// Whether anything holds X display `n` on this machine: its socket file, its lock file, or
/// a listening socket of that name (`/proc/net/unix`: the abstract `@/tmp/.X11-unix/Xn`, and
/// the path of a server in another mount namespace).
pub fn display_taken(n: u32) -> bool {
    let socket = format!("/tmp/.X11-unix/X{n}");
    if Path::new(&socket).exists() || Path::new(&format!("/tmp/.X{n}-lock")).exists() {
        return true;
    }
    let abstract_socket = format!("@{socket}");
    std::fs::read_to_string("/proc/net/unix")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(7))
        .any(|path| path == socket || path == abstract_socket)
}

/// An X display number nothing holds, and that no other test of this run was given.
pub fn free_display() -> u32 {
    static GIVEN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let base = 100 + std::process::id() % 400;
    for _ in 0..400 {
        let n = base + GIVEN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if !display_taken(n) {
            return n;
        }
    }
    panic!("no free X display number from :{base}");
}

/// A server the test started (Xvfb, weston, pulseaudio), killed when the test ends.
pub struct Background(pub std::process::Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An Xvfb of this test's own on a free display, with access control (a cookie in `auth`):
/// started, or the test fails with what Xvfb said. Stopped when dropped.
pub struct Xvfb {
    /// `:N`
    pub display: String,
    pub auth: PathBuf,
    server: Background,
}

impl Xvfb {
    pub fn start(name: &str) -> Xvfb {
        Xvfb::on(free_display(), name)
    }

    /// On display `n`, which must be free: Xvfb fails to start on a taken one.
    pub fn on(n: u32, name: &str) -> Xvfb {
        let display = format!(":{n}");
        let auth = scratch().join(format!("{name}-{}.xauth", std::process::id()));
        let log = auth.with_extension("log");
        let _ = std::fs::remove_file(&auth);
        let cookie = Command::new("mcookie").output().expect("mcookie");
        assert!(cookie.status.success(), "mcookie: {}", stderr(&cookie));
        let auth_arg = auth.display().to_string();
        must(
            "xauth",
            &[
                "-f",
                &auth_arg,
                "add",
                &display,
                ".",
                stdout(&cookie).trim(),
            ],
        );
        let mut child = Command::new("Xvfb")
            .args([&display, "-auth", &auth_arg, "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("Xvfb");
        // What Xvfb said, its files removed: the test is failing.
        let said = |log: &Path| {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let _ = std::fs::remove_file(log);
            let _ = std::fs::remove_file(log.with_extension("xauth"));
            text
        };
        let lock = format!("/tmp/.X{n}-lock");
        let xdpyinfo = |xauthority: &Path| {
            Command::new("xdpyinfo")
                .env("DISPLAY", &display)
                .env("XAUTHORITY", xauthority)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        for _ in 0..100 {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("Xvfb {display} did not start ({status}):\n{}", said(&log));
            }
            // The display's lock names our server, which answers with the cookie only: the
            // server the test talks to is its own.
            let ours = std::fs::read_to_string(&lock)
                .is_ok_and(|pid| pid.trim() == child.id().to_string());
            if ours && xdpyinfo(&auth) {
                let open = xdpyinfo(Path::new("/dev/null"));
                let server = Xvfb {
                    display: display.clone(),
                    auth,
                    server: Background(child),
                };
                assert!(
                    !open,
                    "the server on {display} lets clients in without the cookie: not ours"
                );
                return server;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Through Drop: stopped, its lock and files removed.
        let said = said(&log);
        drop(Xvfb {
            display: display.clone(),
            auth,
            server: Background(child),
        });
        panic!("Xvfb {display} never answered within 10 s:\n{said}");
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM, so that it removes its lock and socket; then SIGKILL, and its lock by hand.
        let server = &mut self.server.0;
        let pid = server.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..20 {
            if !matches!(server.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = server.kill();
        let _ = server.wait();
        let n = self.display.trim_start_matches(':');
        let lock = format!("/tmp/.X{n}-lock");
        if std::fs::read_to_string(&lock).is_ok_and(|held| held.trim() == pid) {
            let _ = std::fs::remove_file(&lock);
            let _ = std::fs::remove_file(format!("/tmp/.X11-unix/X{n}"));
        }
        let _ = std::fs::remove_file(&self.auth);
        let _ = std::fs::remove_file(self.auth.with_extension("log"));
    }
}

/// A program on a real terminal: a detached tmux session, read with capture-pane, driven with
/// send-keys, killed when dropped.
pub struct Tmux {
    session: String,
}

fn tmux(args: &[&str]) -> String {
    stdout(&Command::new("tmux").args(args).output().expect("tmux"))
}

impl Tmux {
    pub fn start(name: &str, width: u16, height: u16, script: &str) -> Tmux {
        let session = format!("robodev-{name}-{}", std::process::id());
        tmux(&[
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            script,
        ]);
        Tmux { session }
    }

    pub fn screen(&self) -> String {
        tmux(&["capture-pane", "-p", "-t", &self.session])
    }

    /// Wait up to 15 s for `text` on the screen.
    pub fn wait_for(&self, text: &str) {
        for _ in 0..150 {
            if self.screen().contains(text) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("never saw {text:?}:\n{}", self.screen());
    }

    /// Named keys (`Enter`, `Up`, `C-c`, `Space`, `y`).
    pub fn keys(&self, keys: &[&str]) {
        for key in keys {
            tmux(&["send-keys", "-t", &self.session, key]);
        }
    }

    /// Literal text followed by Enter.
    pub fn line(&self, text: &str) {
        tmux(&["send-keys", "-t", &self.session, "-l", text]);
        self.keys(&["Enter"]);
    }

    pub fn resize(&self, width: u16, height: u16) {
        tmux(&[
            "resize-window",
            "-t",
            &self.session,
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        tmux(&["kill-session", "-t", &self.session]);
    }
}

/// A shell line that runs robodev in `ws` on the terminal, then prints its exit code and waits.
pub fn robodev_script(ws: &Ws, args: &str, after: &str) -> String {
    format!(
        "cd {dir} && env NO_COLOR=1 ROBODEV_STATE_DIR={dir}/.state {bin} {args}; echo \"robodev-exit=$?\"; {after} sleep 30",
        dir = ws.path().display(),
        bin = bin().display()
    )
}

/// A second engine with its own socket, data root, exec root and pid file: a machine of its
/// own that can be killed and restarted without disturbing the first.
pub struct PrivateEngine {
    dir: PathBuf,
    child: Option<Child>,
    extra: Vec<String>,
    /// Shell lines run as root in the daemon's own mount namespace before it starts: what
    /// that "machine" has and this one does not (a device node on a tmpfs only it sees).
    machine_setup: Option<String>,
}

impl PrivateEngine {
    pub fn start() -> PrivateEngine {
        PrivateEngine::start_with(Vec::new())
    }

    /// With more `dockerd` arguments (another `-H` with TLS, say).
    pub fn start_with(extra: Vec<String>) -> PrivateEngine {
        PrivateEngine::launched(extra, None)
    }

    /// A daemon in a mount namespace of its own, prepared by `setup` (shell, as root): the
    /// paths it and its containers see differ from this machine's where `setup` mounts.
    pub fn start_on_machine(setup: &str) -> PrivateEngine {
        PrivateEngine::launched(Vec::new(), Some(setup.to_string()))
    }

    fn launched(extra: Vec<String>, machine_setup: Option<String>) -> PrivateEngine {
        let dir = PathBuf::from(format!(
            "/tmp/rd-{}-{}",
            std::process::id(),
            NEXT_ENGINE.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut engine = PrivateEngine {
            dir,
            child: None,
            extra,
            machine_setup,
        };
        engine.launch();
        engine
    }

    pub fn host(&self) -> String {
        format!("unix://{}/d.sock", self.dir.display())
    }

    pub fn launch(&mut self) {
        let d = &self.dir;
        let mut command = match &self.machine_setup {
            None => Command::new("dockerd"),
            Some(setup) => {
                let mut c = Command::new("unshare");
                c.args(["--mount", "--propagation", "private", "sh", "-ec"])
                    .arg(format!("{setup}\nexec dockerd \"$@\""))
                    .arg("dockerd");
                c
            }
        };
        let child = command
            .arg("-H")
            .arg(self.host())
            .arg(format!("--data-root={}/data", d.display()))
            .arg(format!("--exec-root={}/x", d.display()))
            .arg(format!("--pidfile={}/d.pid", d.display()))
            .args([
                "--bridge=none",
                "--iptables=false",
                "--ip-forward=false",
                "--ip-masq=false",
            ])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("dockerd.log")).unwrap())
            .spawn()
            .expect("dockerd");
        self.child = Some(child);
        for _ in 0..120 {
            if self.docker(&["version"]).status.success() {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!(
            "the private dockerd did not come up; see {}/dockerd.log",
            d.display()
        );
    }

    pub fn docker(&self, args: &[&str]) -> std::process::Output {
        Command::new("docker")
            .arg("-H")
            .arg(self.host())
            .args(args)
            .output()
            .unwrap()
    }

    /// As a crash would: the daemon and the containerd it started, with their pid files
    /// left for the next start to clear (a killed daemon leaves them, see shared/machine.md).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let containerd = self.dir.join("x/containerd/containerd.pid");
        if let Ok(pid) = std::fs::read_to_string(&containerd) {
            let _ = Command::new("kill").args(["-9", pid.trim()]).status();
            std::thread::sleep(Duration::from_millis(300));
        }
        let _ = std::fs::remove_file(containerd);
        let _ = std::fs::remove_file(self.dir.join("d.pid"));
    }

    /// Copy an image from the main engine.
    pub fn load(&self, image: &str) {
        let mut save = Command::new("docker")
            .args(["save", image])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let ok = Command::new("docker")
            .arg("-H")
            .arg(self.host())
            .arg("load")
            .stdin(save.stdout.take().unwrap())
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(
            save.wait().unwrap().success() && ok,
            "docker save | load {image}"
        );
    }
}

impl Drop for PrivateEngine {
    fn drop(&mut self) {
        // Remove what the test made in it, then the engine.
        let ids = stdout(&self.docker(&["ps", "-aq"]));
        for id in ids.split_whitespace() {
            let _ = self.docker(&["rm", "-f", id]);
        }
        self.kill();
        // Shims of containers that were running when the daemon was killed.
        let _ = Command::new("pkill")
            .args(["-9", "-f", &self.dir.display().to_string()])
            .status();
        // Overlay and netns mounts under the engine's roots, innermost first.
        let prefix = self.dir.display().to_string();
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
        let mut ours: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|m| m.starts_with(&prefix))
            .collect();
        ours.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in ours {
            let _ = Command::new("umount").args(["-l", m]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static NEXT_ENGINE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A CNCF Distribution registry (Debian's docker-registry) on localhost, with its own storage,
/// optionally behind htpasswd basic auth; stopped when dropped.
pub struct Registry {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<std::process::Child>,
}

impl Registry {
    pub fn start(auth: Option<(&str, &str)>) -> Registry {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Registry::start_at(port, auth)
    }

    /// A registry on a port of the caller's choosing (Podman 5's registries.conf marks
    /// localhost:5000–5099 insecure: see scripts/engines.sh).
    pub fn start_at(port: u16, auth: Option<(&str, &str)>) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("robodev-registry-")
            .tempdir_in("/tmp")
            .unwrap();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {root}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            root = dir.path().display()
        );
        if let Some((user, password)) = auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("htpasswd (apache2-utils)");
            std::fs::write(dir.path().join("htpasswd"), out.stdout).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: robodev\n    path: {}/htpasswd\n",
                dir.path().display()
            ));
        }
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let mut registry = Registry {
            port,
            dir,
            child: None,
        };
        registry.resume();
        registry
    }

    /// `localhost:PORT` (the engine needs no TLS for localhost registries).
    pub fn address(&self) -> String {
        format!("localhost:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn resume(&mut self) {
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(self.dir.path().join("config.yml"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("docker-registry (Debian's package)");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the registry on port {} did not come up", self.port);
    }

    /// An HTTP request to the registry's API (GET, DELETE): the status line and headers.
    pub fn http(&self, method: &str, path: &str, accept: &str) -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: localhost:{}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Write `files` (relative path, text) under `root`, making their directories.
pub fn write_files<S: AsRef<str>>(root: &Path, files: &[(&str, S)]) {
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text.as_ref()).unwrap();
    }
}

/// robodev in `ws`, with rosdep reading the workspace's own rosdistro index
/// (`rosdep/index.yaml`), as the offline dependency tests set it up; prints what it said.
pub fn run_with_local_rosdep(ws: &Ws, args: &[&str]) -> Output {
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

/// A TCP port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Debian's sshd on a free loopback port, with its own host key and authorized keys
/// (`AuthorizedKeysFile DIR/keys/%u`), stopped when dropped.
pub struct Sshd {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: std::process::Child,
}

impl Sshd {
    pub fn start() -> Sshd {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("keys")).unwrap();
        // sshd reads a user's authorized keys as that user.
        for p in [d, &d.join("keys")] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::create_dir_all("/run/sshd").unwrap();
        let keygen = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(d.join("host_key"))
            .status()
            .unwrap();
        assert!(keygen.success());
        let port = free_port();
        std::fs::write(
            d.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {dir}/host_key\nPidFile {dir}/sshd.pid\n\
                 AuthorizedKeysFile {dir}/keys/%u\nStrictModes no\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nPermitUserEnvironment yes\nUsePAM no\n\
                 MaxSessions 50\nMaxStartups 50\n",
                dir = d.display()
            ),
        )
        .unwrap();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-f"])
            .arg(d.join("sshd_config"))
            .arg("-E")
            .arg(d.join("sshd.log"))
            .spawn()
            .expect("sshd (the README's test command installs openssh-server)");
        for _ in 0..50 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Sshd { port, dir, child }
    }

    /// What sshd logged (`-E`): why it refused a login.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// Let `user` log in with `public_key`, with these `environment="…"` settings.
    pub fn authorize(&self, user: &str, public_key: &str, environment: &[&str]) {
        let options: Vec<String> = environment
            .iter()
            .map(|e| format!("environment=\"{e}\""))
            .collect();
        std::fs::write(
            self.dir.path().join("keys").join(user),
            format!("{} {public_key}", options.join(",")),
        )
        .unwrap();
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `unix://` address of an engine `scripts/engines.sh` started; with CI=true a missing one
/// fails the test.
pub fn matrix_engine(name: &str) -> Option<String> {
    let socket = format!("/run/robodev-engines/{name}.sock");
    let ok = Command::new("curl")
        .args(["-sf", "--max-time", "5", "--unix-socket", &socket])
        .arg("http://x/v1.45/_ping")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true but engine {name} does not answer at {socket}: run the README's test \
             command (scripts/engines.sh up)"
        );
        eprintln!("skipped: engine {name} is not running (bash scripts/engines.sh up)");
        return None;
    }
    Some(format!("unix://{socket}"))
}

/// `robodev ARGS` in `ws` against the engine at `host`, its output shown.
pub fn on(ws: &Ws, host: &str, args: &[&str]) -> Output {
    let out = ws.cmd(args).env("DOCKER_HOST", host).output().unwrap();
    eprintln!(
        "$ DOCKER_HOST={host} robodev {}\n{}{}",
        args.join(" "),
        stdout(&out),
        stderr(&out)
    );
    out
}

/// The same, which must succeed: its stderr.
pub fn ok_on(ws: &Ws, host: &str, args: &[&str]) -> String {
    let out = on(ws, host, args);
    assert!(out.status.success(), "robodev {args:?} on {host} failed");
    stderr(&out)
}

/// A base image of a test's own, `robodev-e2e/WHAT:TAG` (debian:bookworm and one file, made on
/// the host's engine), loaded into each engine of `sockets` too: no layer of another run is in
/// their build caches, so every step of a build on it runs.
pub fn own_base(what: &str, tag: &str, sockets: &[&str]) -> String {
    let base = format!("robodev-e2e/{what}:{tag}");
    let container = format!("robodev-e2e-{what}-{tag}");
    must(
        "docker",
        &[
            "run",
            "--name",
            &container,
            "--network=host",
            "debian:bookworm",
            "touch",
            &format!("/{tag}"),
        ],
    );
    must("docker", &["commit", &container, &base]);
    must("docker", &["rm", &container]);
    for socket in sockets {
        let load = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "docker save {base} | curl -sf --unix-socket {socket} -X POST \
                 -H Content-Type:application/x-tar --data-binary @- http://x/images/load"
            ))
            .output()
            .unwrap();
        assert!(load.status.success(), "{}", stderr(&load));
    }
    base
}

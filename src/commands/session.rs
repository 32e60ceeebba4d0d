//! What every command needs: the workspace, where profiles are, how to talk to the user; and
//! the steps most commands share (load a profile, ask the engine, plan), each written once.

use super::build_lock::BuildLock;
use super::build_progress::BuildProgress;
use super::machine_facts::{Freshness, of_engine_machine};
use crate::cli::{BuildFlags, GlobalArgs};
use crate::engine::{BollardEngine, BuildOptions, BuildOutput, ContainerState, Engine};
use crate::error::{Error, Result};
use crate::facts::{EngineFacts, HostFacts, HostUser, Workspace};
use crate::lockfile::LockFile;
use crate::notice::{Level, Notice};
use crate::plan::exec::{ExecPlan, Terminal};
use crate::plan::hardware::x11;
use crate::plan::image::ImagePlan;
use crate::plan::{self, Plan, PlanInputs};
use crate::profile::{self, Profile, ProfileSearch};
use crate::ui::Ui;
use std::io::IsTerminal;

/// Everything a plan is made from, read once per command.
pub struct Inputs {
    pub lock: LockFile,
    /// The machine the engine runs on.
    pub host: HostFacts,
    pub engine: EngineFacts,
}

pub struct Session {
    pub global: GlobalArgs,
    pub workspace: Workspace,
    pub search: ProfileSearch,
    pub ui: Ui,
    /// The engine, connected once, on first use (commands that need none never connect).
    engine: std::cell::OnceCell<Box<dyn Engine>>,
}

impl Session {
    pub fn new(global: GlobalArgs) -> Result<Session> {
        let workspace = match &global.workspace {
            Some(dir) => {
                let root = std::fs::canonicalize(dir).map_err(|_| {
                    Error::usage(format!(
                        "workspace directory {} does not exist",
                        dir.display()
                    ))
                })?;
                Workspace::at(root)
            }
            None => {
                let cwd = std::env::current_dir()
                    .map_err(|e| Error::io("cannot read the current directory", e))?;
                Workspace::discover(&cwd)
            }
        };
        let search = ProfileSearch::new(workspace.root.clone());
        let ui = Ui::new(global.quiet, global.verbose);
        Ok(Session {
            global,
            workspace,
            search,
            ui,
            engine: std::cell::OnceCell::new(),
        })
    }

    /// A session whose engine is `engine` (a fake one, in tests of the command layer).
    pub fn with_engine(global: GlobalArgs, engine: Box<dyn Engine>) -> Result<Session> {
        let session = Session::new(global)?;
        let _ = session.engine.set(engine);
        Ok(session)
    }

    /// The engine robodev was pointed at, connected on first use and kept for the command.
    pub async fn engine(&self) -> Result<&dyn Engine> {
        if let Some(engine) = self.engine.get() {
            return Ok(engine.as_ref());
        }
        let connected: Box<dyn Engine> = Box::new(BollardEngine::connect().await?);
        Ok(self.engine.get_or_init(|| connected).as_ref())
    }

    /// Load and validate a profile; print its warnings.
    pub fn profile(&self, reference: Option<&str>) -> Result<Profile> {
        let profile = profile::load(&self.search, reference, &profile::distro::today())?;
        self.show(&profile.warnings);
        Ok(profile)
    }

    /// Ask the engine about itself only when the plan depends on it (GPU detection).
    pub async fn engine_facts(
        &self,
        profile: &Profile,
        engine: Option<&dyn Engine>,
    ) -> Result<EngineFacts> {
        match engine {
            // The GPU mode, and any engine but the local default socket (Podman, rootless):
            // the local loop on the default engine asks nothing more.
            Some(engine)
                if profile.gpu.needs_engine_facts()
                    || engine.endpoint().url != crate::facts::endpoint::DEFAULT_SOCKET =>
            {
                super::engine_facts::of(engine).await
            }
            _ => Ok(EngineFacts::default()),
        }
    }

    /// The inputs of a plan, as they are: robodev.lock as written, the facts of the machine
    /// the engine runs on (this one's, or what a probe container there reports when the
    /// profile uses its devices) and of the engine. Read once per command; `commands::resolve`
    /// brings the lock in step first.
    pub async fn facts(
        &self,
        profile: &Profile,
        engine: Option<&dyn Engine>,
        freshness: Freshness,
    ) -> Result<Inputs> {
        let lock = LockFile::read(&self.workspace.root)?;
        let host = match engine.filter(|e| !e.is_local()) {
            None => HostFacts::probe(&profile.device_paths()),
            Some(engine) => {
                // The probe runs the base image the build would use: the locked digest.
                let base = plan::Pins::of(&lock, profile).from_reference(profile);
                let user = self.engine_user(engine);
                of_engine_machine(self.ui, engine, profile, user, &base, freshness).await?
            }
        };
        let engine_facts = self.engine_facts(profile, engine).await?;
        Ok(Inputs {
            lock,
            host,
            engine: engine_facts,
        })
    }

    /// Plan from resolved inputs (pure but for the bind sources' existence on this machine);
    /// prints its notices. Unmet host requirements (a device absent, no display, a missing
    /// mount source) are in `plan.container.problems`: only the commands that create a
    /// container refuse them (`require_host`), so `build`, `generate` and `devcontainer` work
    /// on a CI runner or over ssh.
    pub fn plan_from(
        &self,
        profile: &Profile,
        engine: Option<&dyn Engine>,
        inputs: &Inputs,
    ) -> Result<Plan> {
        let plan = self.plan_from_quiet(profile, engine, inputs)?;
        self.show(&plan.container.notices);
        Ok(plan)
    }

    /// The same plan, without printing its notices (to compare, or for `doctor`).
    pub fn plan_from_quiet(
        &self,
        profile: &Profile,
        engine: Option<&dyn Engine>,
        inputs: &Inputs,
    ) -> Result<Plan> {
        let remote = engine.filter(|e| !e.is_local());
        let mut plan = plan::make(PlanInputs {
            profile,
            host: &inputs.host,
            engine: &inputs.engine,
            workspace: &self.workspace,
            templates: self.global.templates.clone(),
            pins: plan::Pins::of(&inputs.lock, profile),
        })?;
        match remote {
            None => {
                let missing = plan
                    .container
                    .missing_bind_sources(|p| std::path::Path::new(p).exists());
                plan.container.problems.extend(missing);
            }
            Some(engine) => {
                crate::plan::remote::on_remote_engine(
                    &mut plan,
                    &engine.endpoint().url,
                    &engine.endpoint().chosen_by,
                );
                if engine.remote_user().is_none() && self.global.remote_user.is_none() {
                    let user = &plan.container.user;
                    plan.container.notices.push(Notice::warning(format!(
                        "the engine at {} does not say who you are on its machine: the \
                         container user has this machine's uid {} and gid {}, and files it \
                         writes there belong to that uid (`--remote-user UID:GID` names yours \
                         there; over ssh://USER@HOST robodev learns it)",
                        engine.endpoint().url,
                        user.uid,
                        user.gid
                    )));
                }
            }
        }
        Ok(plan)
    }

    /// The plan of a throw-away container without this host's hardware (display, sound,
    /// devices, GPU) — a CI runner, an ssh session — that still runs the environment's own
    /// image, so it is the image developers use and the one the team's registry holds.
    pub fn plan_without_hardware(
        &self,
        profile: &Profile,
        engine: Option<&dyn Engine>,
        inputs: &Inputs,
    ) -> Result<Plan> {
        let image = self.plan_from_quiet(profile, engine, inputs)?.image;
        let mut plan = self.plan_from(&profile.without_hardware(), engine, inputs)?;
        plan.container.image = image.tag.clone();
        plan.image = image;
        Ok(plan)
    }

    /// The plan with the lock as it is and facts read now; prints its notices. For commands
    /// that plan without executing (status, export, images); the environment's commands
    /// resolve first (`commands::resolve`).
    pub async fn plan(&self, profile: &Profile, engine: Option<&dyn Engine>) -> Result<Plan> {
        let inputs = self.facts(profile, engine, Freshness::Now).await?;
        self.plan_from(profile, engine, &inputs)
    }

    /// The plan, quiet, from the engine machine's recent facts: for comparing with what
    /// exists and naming things, never for creating or starting a container.
    pub async fn plan_recent(
        &self,
        profile: &Profile,
        engine: Option<&dyn Engine>,
    ) -> Result<Plan> {
        let inputs = self.facts(profile, engine, Freshness::Recent).await?;
        self.plan_from_quiet(profile, engine, &inputs)
    }

    /// How to run processes in the profile's container; needs no host probing.
    pub fn exec_plan(&self, profile: &Profile) -> ExecPlan {
        self.exec_plan_as(profile, &HostFacts::current_user())
    }

    /// Processes as `user`, starting where robodev runs when that is inside the workspace.
    fn exec_plan_as(&self, profile: &Profile, user: &HostUser) -> ExecPlan {
        let cwd = std::env::current_dir()
            .ok()
            .and_then(|d| std::fs::canonicalize(d).ok());
        ExecPlan::new(profile, &self.workspace, user, cwd.as_deref())
    }

    /// How to run processes in the environment on `engine`, as `engine_user`.
    pub fn exec_plan_on(&self, profile: &Profile, engine: &dyn Engine) -> ExecPlan {
        self.exec_plan_as(profile, &self.engine_user(engine))
    }

    /// Who the container user is on `engine`'s machine: for an engine on another machine,
    /// `--remote-user`, else the ssh user there; this machine's user otherwise.
    pub fn engine_user(&self, engine: &dyn Engine) -> HostUser {
        let local = HostFacts::current_user();
        if engine.is_local() {
            return local;
        }
        match (self.global.remote_user, engine.remote_user()) {
            (Some((uid, gid)), known) => {
                let name = known.map(|u| u.name.clone()).unwrap_or(local.name);
                HostUser {
                    home: format!("/home/{name}").into(),
                    name,
                    uid,
                    gid,
                }
            }
            (None, Some(user)) => user.clone(),
            (None, None) => local,
        }
    }

    pub fn show(&self, notices: &[Notice]) {
        for n in notices {
            match n.level {
                Level::Info => self.ui.info(&n.text),
                Level::Detail => self.ui.note(&n.text),
                Level::Warning => self.ui.warn(&n.text),
                Level::Once if first_time(&n.text) => self.ui.info(&n.text),
                Level::Once => self.ui.note(&n.text),
            }
        }
    }
}

/// Whether this user has not been told `text` on this machine before (and remember that now).
/// A state directory that cannot be written: always the first time, as before.
fn first_time(text: &str) -> bool {
    use sha2::{Digest, Sha256};
    let said = crate::facts::host::state_dir().join("said");
    let marker = said.join(&hex::encode(Sha256::digest(text.as_bytes()))[..32]);
    if marker.exists() {
        return false;
    }
    let _ = std::fs::create_dir_all(&said).and_then(|()| std::fs::write(&marker, b""));
    true
}

/// This process's terminal, as the exec plan needs it.
pub fn terminal() -> Terminal {
    let stdin_tty = std::io::stdin().is_terminal();
    let stdout_tty = std::io::stdout().is_terminal();
    let mut env: Vec<String> = ["TERM", "COLORTERM", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| format!("{k}={v}")))
        .collect();
    // A TTY without TERM (started from a service, an IDE task): `clear` and `less` need one.
    if stdin_tty && stdout_tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm-256color".into());
    }
    Terminal {
        stdin_tty,
        stdout_tty,
        env,
    }
}

/// Build the plan's image unless an identical one exists. Builds of one image are serialised
/// across robodev processes; one that waited finds the image and makes no build call.
pub async fn ensure_image(
    s: &Session,
    engine: &dyn Engine,
    image: &ImagePlan,
    flags: BuildFlags,
) -> Result<BuildOutput> {
    let options = BuildOptions {
        no_cache: flags.no_cache,
        pull: flags.pull,
        classic: flags.classic_builder,
        offline: flags.offline,
        secrets: Default::default(),
        ssh_agent: None,
        registry_auth: Default::default(),
    };
    let forced = flags.no_cache || flags.pull;
    if !forced && let Some(found) = engine.identity(&image.tag).await? {
        require_the_plans_image(&found, image)?;
        s.ui.note(format!("image {} is up to date", image.tag));
        return Ok(BuildOutput::UpToDate);
    }
    if flags.offline {
        // A build from bases this engine has contacts no registry; a missing base would be
        // pulled.
        for base in image.base_images() {
            if engine.identity(&base).await?.is_none() {
                return Err(Error::usage_with_help(
                    format!(
                        "image {} is not on this engine, and building it needs {base}, which is \
                         not here either: --offline makes no registry contact",
                        image.tag
                    ),
                    "bring the image as a bundle (`robodev save` where it exists, `robodev \
                     load FILE` here), or run without --offline to pull or build it",
                ));
            }
        }
    }
    if let Some(platform) = &image.platform {
        if engine.is_local() {
            require_emulation(platform)?;
        }
        for base in image.base_images() {
            ensure_base_for_platform(s, engine, &base, platform).await?;
        }
    }
    // A build needs its secrets' values: a missing one is an error before any build.
    let mut secrets = crate::facts::secrets::read_all(&image.secrets)?;
    let ssh_agent = if image.ssh {
        let (agent, known_hosts) = crate::facts::secrets::ssh_for_build()?;
        secrets.push(("robodev_known_hosts".to_string(), known_hosts));
        Some(agent)
    } else {
        None
    };
    let options = BuildOptions {
        secrets: crate::engine::SecretValues(std::sync::Arc::new(secrets)),
        ssh_agent,
        registry_auth: build_registry_auth(s, image),
        ..options
    };
    let _lock = BuildLock::acquire(&image.hash, &image.tag, s.ui).await?;
    let mut progress = BuildProgress::new(s.ui);
    let out = engine.build_image(image, options, &mut progress).await?;
    if let Some(platform) = &image.platform {
        require_platform(engine, &image.tag, platform, "the built image").await?;
    }
    match out {
        BuildOutput::UpToDate => s.ui.note(format!("image {} is up to date", image.tag)),
        BuildOutput::Built => s.ui.success(format!("built {}", image.tag)),
    }
    Ok(out)
}

/// The user's credentials for the registries a build of `image` pulls from: its bases' and the
/// team's build cache's (`docker login` / `robodev login`). One that cannot be read is warned
/// about and the build goes on anonymously, as a public base needs nothing.
fn build_registry_auth(s: &Session, image: &ImagePlan) -> crate::engine::RegistryCredentials {
    use crate::facts::credentials::{for_registry, registry_host};
    let mut hosts: Vec<String> = image
        .base_images()
        .iter()
        .chain(image.registry_cache.iter())
        .map(|reference| registry_host(reference).to_string())
        .collect();
    hosts.sort();
    hosts.dedup();
    let mut found = Vec::new();
    for host in hosts {
        match for_registry(&host) {
            Ok(Some(auth)) => found.push((host, auth)),
            Ok(None) => {}
            Err(e) => s.ui.warn(format!(
                "{e}; the build pulls from {host} without credentials"
            )),
        }
    }
    crate::engine::RegistryCredentials(std::sync::Arc::new(found))
}

/// The image under the plan's tag must be the plan's image (its hash label): a name can be
/// re-pointed (`docker tag debian:bookworm …`), and whatever it names would run.
pub fn require_the_plans_image(
    found: &crate::engine::ImageIdentity,
    image: &ImagePlan,
) -> Result<()> {
    let hash = found
        .labels
        .get(crate::plan::labels::HASH)
        .map(String::as_str)
        .unwrap_or_default();
    if hash == image.hash {
        return Ok(());
    }
    Err(Error::Engine {
        action: format!("refusing to use {}", image.tag),
        message: format!(
            "the image under that name is not this profile's image (its hash label is {}, the \
             profile's is {}): someone named another image so",
            if hash.is_empty() { "missing" } else { hash },
            &image.hash[..12.min(image.hash.len())]
        ),
        help: Some(format!(
            "`robodev build --no-cache` builds the profile's image under that name (or \
             `docker rmi {}` first)",
            image.tag
        )),
    })
}

fn os_arch(p: &str) -> String {
    p.split('/').take(2).collect::<Vec<_>>().join("/")
}

/// `image` on the engine is for `platform` (its OS and architecture).
async fn require_platform(
    engine: &dyn Engine,
    image: &str,
    platform: &str,
    what: &str,
) -> Result<()> {
    let found = engine.image_platform(image).await?;
    match found {
        Some(found) if os_arch(&found) != os_arch(platform) => Err(Error::Engine {
            action: format!("cannot build for {platform}"),
            message: format!("{what} {image} is {found}, not {platform}"),
            help: Some(format!(
                "name a {platform} image in `base_image:` (and `deploy.base:`), or a \
                 multi-platform one (`docker manifest inspect IMAGE` lists its platforms); \
                 then `robodev lock --update`"
            )),
        }),
        _ => Ok(()),
    }
}

/// The engine keeps one image per name, and a classic build for another platform uses the
/// local one whatever its architecture: make sure the base under that name is `platform`'s,
/// pulling it (from a multi-platform base) when it is not.
async fn ensure_base_for_platform(
    s: &Session,
    engine: &dyn Engine,
    base: &str,
    platform: &str,
) -> Result<()> {
    let found = engine.image_platform(base).await?;
    if found.as_deref().map(os_arch) == Some(os_arch(platform)) {
        return Ok(());
    }
    s.ui.info(format!("pulling {base} for {platform}"));
    match super::image_pull::pull_image(s.ui, engine, base, Some(platform)).await {
        // A digest names one platform's image: the pull can succeed with another one.
        Ok(()) => require_platform(engine, base, platform, "the base image").await,
        Err(e) => match found {
            // Nothing here under that name: the build says what is missing.
            None => Ok(()),
            Some(found) => Err(Error::Engine {
                action: format!("cannot build for {platform}"),
                message: format!(
                    "the base image {base} here is {found}, and no {platform} image of it could \
                     be pulled ({})",
                    e.to_string().lines().next().unwrap_or_default()
                ),
                help: Some(format!(
                    "name a {platform} image in `base_image:` (and `deploy.base:`), or push a \
                     multi-platform {base} to your registry"
                )),
            }),
        },
    }
}

/// Building for another architecture runs its binaries: QEMU user emulation must be there.
/// (Only known for an engine on this machine.)
pub fn require_emulation(platform: &str) -> Result<()> {
    use crate::facts::emulation::{Emulation, for_platform};
    let how = "Debian/Ubuntu: `sudo apt install qemu-user-static binfmt-support` (it registers \
               the interpreters), or `docker run --privileged --rm tonistiigi/binfmt --install all`";
    match for_platform(platform) {
        Emulation::Native | Emulation::Registered => Ok(()),
        Emulation::NotMounted => Err(Error::Host {
            message: format!(
                "building for {platform} on this {} machine needs QEMU user emulation, and \
                 binfmt_misc is not mounted",
                std::env::consts::ARCH
            ),
            help: Some(format!(
                "`sudo mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc`, then {how}"
            )),
        }),
        Emulation::Missing { qemu_arch } => Err(Error::Host {
            message: format!(
                "building for {platform} on this {} machine needs QEMU user emulation: no \
                 qemu-{qemu_arch} is registered in /proc/sys/fs/binfmt_misc",
                std::env::consts::ARCH
            ),
            help: Some(how.to_string()),
        }),
    }
}

/// The environment's container, if there is one; an error when the name is taken by a
/// container robodev did not create.
pub async fn our_container(engine: &dyn Engine, name: &str) -> Result<Option<ContainerState>> {
    match engine.find_container(name).await? {
        Some(state) if !state.is_managed() => Err(Error::foreign_container(name)),
        other => Ok(other),
    }
}

/// Create the plan's named volumes (labelled as robodev's) before its container.
pub async fn ensure_volumes(engine: &dyn Engine, plan: &Plan) -> Result<()> {
    for volume in &plan.container.volumes {
        engine.ensure_volume(volume).await?;
    }
    Ok(())
}

/// Write what the container needs on the host before it starts (the X11 cookie its bind
/// mount names).
pub fn prepare_start(s: &Session, plan: &Plan) -> Result<()> {
    if let Some(cookie) = &plan.container.x11_cookie {
        x11::refresh_cookie(cookie)?;
        s.ui.note(format!(
            "X11 cookie for {} written to {}",
            cookie.display, cookie.host_file
        ));
    }
    Ok(())
}

/// An interactive shell in the environment's container.
pub async fn run_shell(engine: &dyn Engine, exec: &ExecPlan) -> Result<i32> {
    engine.exec(&exec.container, &exec.shell(&terminal())).await
}

//! Building an image plan: the context as an in-memory tar, every option from the plan, the
//! engine's progress handed to a `BuildWatcher` (the command layer shows it).

use super::connection::BollardEngine;
use super::errors::{QUICK, api_error, is_not_found, limited};
use crate::error::{Error, Result};
use crate::facts::credentials::RegistryAuth;
use crate::plan::image::ImagePlan;
use bollard::query_parameters::BuildImageOptions;
use futures_util::StreamExt;
use std::collections::{HashMap, VecDeque};

#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    pub no_cache: bool,
    pub pull: bool,
    /// Build with the engine's classic builder even where it has BuildKit.
    pub classic: bool,
    /// Contact no registry: not even for the team's build cache.
    pub offline: bool,
    /// The values of the plan's build secrets (read by the command layer, where the profile
    /// says they are).
    pub secrets: SecretValues,
    /// The user's ssh agent socket, forwarded to the steps that mount it (`ssh: true`).
    pub ssh_agent: Option<std::path::PathBuf>,
    /// The user's credentials for the registries the build pulls from (its bases, the team's
    /// build cache), by registry host as robodev names it (`localhost:5000`, `docker.io`).
    pub registry_auth: RegistryCredentials,
}

/// Registry credentials by host; never printed (`Debug` shows the hosts only).
#[derive(Clone, Default)]
pub struct RegistryCredentials(pub std::sync::Arc<Vec<(String, RegistryAuth)>>);

impl std::fmt::Debug for RegistryCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(host, _)| host))
            .finish()
    }
}

impl RegistryCredentials {
    /// The classic builder's `X-Registry-Config`: each credential under the key `docker login`
    /// files it under.
    pub(super) fn for_classic_builder(
        &self,
    ) -> Option<HashMap<String, bollard::auth::DockerCredentials>> {
        let map: HashMap<_, _> = self
            .0
            .iter()
            .filter_map(|(host, auth)| {
                let key = crate::facts::credentials::config_key(host);
                super::registry::credentials(key, Some(auth)).map(|c| (key.to_string(), c))
            })
            .collect();
        (!map.is_empty()).then_some(map)
    }
}

/// Build secrets' values by id; never printed (`Debug` shows the ids only).
#[derive(Clone, Default)]
pub struct SecretValues(pub std::sync::Arc<Vec<(String, Vec<u8>)>>);

impl std::fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(id, _)| id))
            .finish()
    }
}

/// Whoever shows a build's progress.
pub trait BuildWatcher {
    /// A build of `tag` begins (no call at all when the image is up to date).
    fn start(&mut self, tag: &str);
    /// A Dockerfile step began: `count` is "3/9", `instruction` the step's text.
    fn step(&mut self, count: &str, instruction: &str);
    /// A step ended (BuildKit says so; the classic builder does not): `cached` when its layer
    /// came from the cache, `seconds` how long it ran.
    fn done(&mut self, _count: &str, _instruction: &str, _cached: bool, _seconds: f64) {}
    /// A line of the build's output.
    fn line(&mut self, line: &str);
    /// Called every few seconds while the build runs, output or not.
    fn tick(&mut self) {}
    /// The build ended (successfully or not).
    fn finish(&mut self);
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildOutput {
    /// An image with this hash already exists: no build call was made.
    UpToDate,
    Built,
}

pub(super) const TAIL_LINES: usize = 25;

impl BollardEngine {
    pub async fn image_exists(&self, tag: &str) -> Result<bool> {
        let action = format!("inspect image {tag}");
        match limited(QUICK, &action, self.docker.inspect_image(tag)).await? {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(api_error(&action, e)),
        }
    }

    /// Build unless an image with the plan's hash exists (then make no build call at all).
    pub async fn ensure_image(
        &self,
        plan: &ImagePlan,
        opts: BuildOptions,
        watcher: &mut dyn BuildWatcher,
    ) -> Result<BuildOutput> {
        if !opts.no_cache && !opts.pull && self.image_exists(&plan.tag).await? {
            return Ok(BuildOutput::UpToDate);
        }
        let builder = self.builder_for(plan, &opts).await?;
        watcher.start(&plan.tag);
        let result = match builder {
            Builder::BuildKit => {
                let dockerfile = plan
                    .cache_mount_dockerfile
                    .as_ref()
                    .unwrap_or(&plan.dockerfile);
                self.build_with_buildkit(plan, dockerfile, opts, watcher)
                    .await
            }
            Builder::Classic { cache_mounts } => {
                let dockerfile = match &plan.cache_mount_dockerfile {
                    Some(mounts) if cache_mounts => mounts,
                    _ => &plan.dockerfile,
                };
                self.build(plan, dockerfile, opts, watcher).await
            }
        };
        watcher.finish();
        result.map(|()| BuildOutput::Built)
    }

    /// Which builder builds `plan` here: BuildKit where the engine has it (unless asked for
    /// the classic one); else the engine's classic API, with the cache-mount Dockerfile only
    /// on Podman, whose buildah reads `RUN --mount=type=cache` itself (Docker's classic
    /// builder refuses it).
    async fn builder_for(&self, plan: &ImagePlan, opts: &BuildOptions) -> Result<Builder> {
        let facts = self.facts().await?;
        // robodev's BuildKit session does not speak TLS yet: an engine reached over TLS builds
        // with its classic builder (and without secrets or ssh).
        let over_tls = self.endpoint.transport == crate::facts::endpoint::Transport::Tcp
            && self.endpoint.tls.is_some();
        if facts.buildkit && !opts.classic && !over_tls {
            return Ok(Builder::BuildKit);
        }
        if !plan.secrets.is_empty() || plan.ssh {
            let mut needs: Vec<String> = Vec::new();
            if !plan.secrets.is_empty() {
                let ids: Vec<&str> = plan.secrets.iter().map(|s| s.id.as_str()).collect();
                needs.push(format!("build secrets ({})", ids.join(", ")));
            }
            if plan.ssh {
                needs.push("ssh forwarding (`ssh: true`)".into());
            }
            let engine = match &facts.podman {
                Some(v) => format!("Podman {v}"),
                None => format!("Docker {}", facts.server_version),
            };
            return Err(Error::Engine {
                action: format!("cannot build {}", plan.tag),
                message: format!(
                    "the profile's {} need BuildKit, and {} builds {}",
                    needs.join(" and "),
                    engine,
                    if opts.classic {
                        "with its classic builder here (--classic-builder)"
                    } else {
                        "without it"
                    }
                ),
                help: Some(
                    "build on a Docker engine (Docker 18.09 or later), where robodev builds with BuildKit"
                        .into(),
                ),
            });
        }
        // Podman 4.3's buildah (Debian bookworm) hung on the apt step's locked cache mounts
        // here; Podman 5 builds them.
        let podman_major = facts
            .podman
            .as_deref()
            .and_then(|v| v.split('.').next())
            .and_then(|m| m.parse::<u32>().ok());
        Ok(Builder::Classic {
            cache_mounts: podman_major.is_some_and(|m| m >= 5),
        })
    }

    async fn build(
        &self,
        plan: &ImagePlan,
        dockerfile: &str,
        opts: BuildOptions,
        watcher: &mut dyn BuildWatcher,
    ) -> Result<()> {
        let context = pack_context(plan, dockerfile)
            .map_err(|e| Error::io("cannot pack the build context", e))?;
        let options = BuildImageOptions {
            t: Some(plan.tag.clone()),
            nocache: opts.no_cache,
            pull: opts.pull.then(|| "1".to_string()),
            rm: true,
            forcerm: true,
            buildargs: Some(plan.build_args.clone().into_iter().collect()),
            labels: Some(plan.labels.clone().into_iter().collect()),
            networkmode: Some(plan.network.clone()),
            platform: plan.platform.clone().unwrap_or_default(),
            ..Default::default()
        };
        let body = bollard::body_full(context.into());
        let credentials = opts.registry_auth.for_classic_builder();
        let mut stream = self.docker.build_image(options, credentials, Some(body));

        let mut log = StreamLog::default();
        let mut ticks = ticker();
        loop {
            let Some(item) = next_or_tick(&mut stream, &mut ticks, watcher).await else {
                break;
            };
            let info = match item {
                Ok(info) => info,
                Err(bollard::errors::Error::DockerStreamError { error }) => {
                    return Err(log.failure(plan, error));
                }
                Err(e) => return Err(api_error(&format!("build {}", plan.tag), e)),
            };
            if let Some(detail) = info.error_detail {
                let message = detail.message.unwrap_or_else(|| "unknown error".into());
                return Err(log.failure(plan, message));
            }
            let Some(text) = info.stream else { continue };
            for line in text.lines() {
                if let Some((count, instruction)) = log.take(line) {
                    watcher.step(count, &without_mounts(instruction));
                }
                watcher.line(line);
            }
        }
        Ok(())
    }
}

/// An instruction as a person reads it: without its `--mount=…` flags (the cache mounts robodev
/// adds say nothing about the step) and with runs of blanks as one.
pub(super) fn shown(instruction: &str) -> String {
    let mut words = instruction.split_whitespace().peekable();
    let mut out: Vec<&str> = words.next().into_iter().collect();
    while words.peek().is_some_and(|w| w.starts_with("--mount=")) {
        words.next();
    }
    out.extend(words);
    out.join(" ")
}

/// buildah's step lines show an instruction as written: without the cache mounts when it has
/// them, else exactly so.
fn without_mounts(instruction: &str) -> std::borrow::Cow<'_, str> {
    if instruction.contains("--mount=") {
        std::borrow::Cow::Owned(shown(instruction))
    } else {
        std::borrow::Cow::Borrowed(instruction)
    }
}

/// Which of the engine's builders a build goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Builder {
    BuildKit,
    /// `cache_mounts`: the builder reads `RUN --mount=type=cache` (Podman 5's buildah).
    Classic {
        cache_mounts: bool,
    },
}

/// What a build keeps of its output: the step it is at and that step's last lines.
#[derive(Debug)]
struct StreamLog {
    /// "3/9 : RUN apt-get update …", as the error names it on every engine.
    step: String,
    tail: VecDeque<String>,
}

impl Default for StreamLog {
    fn default() -> StreamLog {
        StreamLog {
            step: "(before the first step)".to_string(),
            tail: VecDeque::new(),
        }
    }
}

impl StreamLog {
    /// One line of the build's output; the step it begins, if it begins one.
    fn take<'l>(&mut self, line: &'l str) -> Option<(&'l str, &'l str)> {
        let step = step_line(line);
        match step {
            Some((count, instruction)) => {
                self.step = format!("{count} : {}", without_mounts(instruction));
                self.tail.clear();
            }
            None if !line.trim().is_empty() => {
                if self.tail.len() == TAIL_LINES {
                    self.tail.pop_front();
                }
                self.tail.push_back(line.to_string());
            }
            None => {}
        }
        step
    }

    fn failure(self, plan: &ImagePlan, message: String) -> Error {
        build_failure(plan, &self.step, message, self.tail)
    }
}

/// A line of the build stream that begins a Dockerfile step: its count ("3/9") and its
/// instruction ("RUN apt-get update …"). Docker's classic builder writes
/// `Step 3/9 : RUN …`, Podman (buildah) `STEP 3/9: RUN …` (older buildah `STEP 3: RUN …`);
/// anything else — buildah's `COMMIT name` and `--> id`, Docker's ` ---> id`, a command's
/// own output that happens to begin with "Step" — is not a step.
fn step_line(line: &str) -> Option<(&str, &str)> {
    let (count, instruction) = if let Some(rest) = line.strip_prefix("Step ") {
        rest.split_once(" : ")?
    } else {
        line.strip_prefix("STEP ")?.split_once(": ")?
    };
    let is_number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let counted = match count.split_once('/') {
        Some((n, of)) => is_number(n) && is_number(of),
        None => is_number(count),
    };
    counted.then_some((count, instruction.trim()))
}

/// The image a `FROM` instruction names: "FROM --platform=linux/arm64 debian:bookworm AS build"
/// → "debian:bookworm".
fn from_image(instruction: &str) -> Option<&str> {
    let mut words = instruction.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("FROM") {
        return None;
    }
    words.find(|w| !w.starts_with("--"))
}

/// The 5-second beat of a build's watcher while the engine says nothing (a long step).
pub(super) fn ticker() -> tokio::time::Interval {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(5));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    ticks
}

/// The build stream's next item; each beat of `ticks` before it comes, the watcher ticks.
pub(super) async fn next_or_tick<S>(
    stream: &mut S,
    ticks: &mut tokio::time::Interval,
    watcher: &mut dyn BuildWatcher,
) -> Option<S::Item>
where
    S: futures_util::Stream + Unpin,
{
    loop {
        tokio::select! {
            item = stream.next() => return item,
            _ = ticks.tick() => watcher.tick(),
        }
    }
}

/// The build context as an in-memory tar: the Dockerfile, the generated files and, for a
/// deploy image, the workspace's files under `SOURCES_DIR/`. A source that changed since the
/// plan hashed it fails the pack: the image would not be what its name says.
pub(super) fn pack_context(plan: &ImagePlan, dockerfile: &str) -> std::io::Result<Vec<u8>> {
    use sha2::{Digest, Sha256};
    let mut builder = tar::Builder::new(Vec::new());
    let add = |builder: &mut tar::Builder<Vec<u8>>, name: &str, content: &[u8], mode: u32| {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(mode);
        header.set_mtime(0);
        header.set_cksum();
        builder.append_data(&mut header, name, content)
    };
    add(&mut builder, "Dockerfile", dockerfile.as_bytes(), 0o644)?;
    for file in plan.context_files() {
        let mode = if file.executable { 0o755 } else { 0o644 };
        add(&mut builder, file.name, file.content.as_bytes(), mode)?;
    }
    if let Some(tree) = &plan.sources {
        for f in &tree.files {
            let name = format!("{}/{}", crate::plan::image::SOURCES_DIR, f.path);
            if let Some(target) = &f.link {
                let mut header = tar::Header::new_gnu();
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                header.set_mode(0o777);
                header.set_mtime(0);
                builder.append_link(&mut header, &name, target)?;
                continue;
            }
            let path = tree.root.join(&f.path);
            let content = std::fs::read(&path)?;
            if hex::encode(Sha256::digest(&content)) != f.sha256 {
                return Err(std::io::Error::other(format!(
                    "{} changed while the build was being prepared; run it again",
                    path.display()
                )));
            }
            add(&mut builder, &name, &content, f.mode)?;
        }
    }
    builder.into_inner()
}

/// The error of a failed build; `step` is "3/9 : RUN …" (or "(before the first step)").
pub(super) fn build_failure(
    plan: &ImagePlan,
    step: &str,
    message: String,
    tail: VecDeque<String>,
) -> Error {
    let from = step.split_once(" : ").and_then(|(_, i)| from_image(i));
    if from.is_some()
        || message.contains("pull access denied")
        || message.contains("manifest unknown")
    {
        let base = from.unwrap_or("the base image").to_string();
        return Error::Engine {
            action: format!("cannot build {}", plan.tag),
            message: format!(
                "the base image {base} is not available locally and could not be pulled: {}",
                message.trim()
            ),
            help: Some(base_image_help(&base)),
        };
    }
    Error::Build {
        image: plan.tag.clone(),
        step: step.to_string(),
        message: message.trim().to_string(),
        log_tail: tail.into_iter().collect(),
    }
}

/// What to do about a base image the engine does not have.
pub fn base_image_help(base: &str) -> String {
    let mut help = format!(
        "build again with its registry reachable (the build pulls {base}; no docker CLI is \
         needed), load it from a bundle made where it exists (`robodev save` there, `robodev \
         load FILE` here), or set `base_image:` to an image this engine has"
    );
    // The debian profile's base is made locally, not pulled.
    if base == "debian:bookworm" {
        help.push_str(
            "; without a registry: `mmdebstrap --variant=apt bookworm - | docker import - debian:bookworm`",
        );
    }
    help
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// An image plan with nothing in it, for the builders' failure reports (`buildkit.rs` too).
    pub(in crate::engine) fn plan() -> ImagePlan {
        ImagePlan {
            profile: "ws".into(),
            dockerfile: String::new(),
            cache_mount_dockerfile: None,
            secrets: Vec::new(),
            ssh: false,
            registry_cache: None,
            context: Default::default(),
            build_args: Default::default(),
            platform: None,
            network: "default".into(),
            hash: "54436b0de629".into(),
            tag: "robodev/ws:54436b0de629".into(),
            repository: "robodev/ws".into(),
            labels: Default::default(),
            sources: None,
        }
    }

    /// A build's output as the engine streamed it, then its error.
    fn failed(lines: &[&str], message: &str) -> Error {
        let mut log = StreamLog::default();
        for line in lines {
            log.take(line);
        }
        log.failure(&plan(), message.to_string())
    }

    #[test]
    fn step_lines_of_dockers_classic_builder_are_steps() {
        assert_eq!(
            step_line("Step 1/16 : FROM debian:bookworm"),
            Some(("1/16", "FROM debian:bookworm"))
        );
        assert_eq!(
            step_line("Step 11/16 : LABEL robodev.hash=54436b0de629"),
            Some(("11/16", "LABEL robodev.hash=54436b0de629"))
        );
        assert_eq!(step_line(" ---> 601d85eaaab4"), None);
        assert_eq!(step_line(" ---> Running in 6c353d89d880"), None);
        assert_eq!(step_line("Successfully built 3f0acb29f3e7"), None);
    }

    #[test]
    fn step_lines_of_podman_are_steps() {
        assert_eq!(
            step_line("STEP 1/11: FROM debian:bookworm"),
            Some(("1/11", "FROM debian:bookworm"))
        );
        assert_eq!(
            step_line(r#"STEP 2/11: SHELL ["/bin/sh", "-eu", "-c"]"#),
            Some(("2/11", r#"SHELL ["/bin/sh", "-eu", "-c"]"#))
        );
        // Older buildah counts without the total.
        assert_eq!(
            step_line("STEP 4: RUN apt-get update"),
            Some(("4", "RUN apt-get update"))
        );
        assert_eq!(step_line("--> e7f8fb8ec77e"), None);
        assert_eq!(
            step_line("--> Using cache db13e8611489d17f031a0f67af42b1ef8b394826c4d4eda54553"),
            None
        );
        assert_eq!(step_line("COMMIT docker.io/robodev/ws:54436b0de629"), None);
        assert_eq!(
            step_line("Successfully tagged docker.io/robodev/ws:54436b0de629"),
            None
        );
    }

    #[test]
    fn a_commands_own_output_is_not_a_step() {
        assert_eq!(step_line("Step 3 of 5: compiling"), None);
        assert_eq!(step_line("STEP one: two"), None);
        assert_eq!(step_line("Step /3 : RUN x"), None);
    }

    #[test]
    fn a_failed_run_step_on_podman_names_the_step_and_keeps_its_lines() {
        let e = failed(
            &[
                "STEP 1/12: FROM debian:bookworm",
                "STEP 5/12: RUN apt-get update  && apt-get install -y ros-base-dev",
                "--> Using cache a2d04ff4fa0e8fc79481d27f61277823b46e9ed8f73099d9811c04bdfa751899",
                "--> a2d04ff4fa0e",
                "STEP 6/12: RUN apt-get update  && apt-get install -y no-such-package-robodev",
                "Reading package lists...",
                "E: Unable to locate package no-such-package-robodev",
            ],
            "building at STEP \"RUN apt-get update\": while running runtime: exit status 100",
        );
        match e {
            Error::Build { step, log_tail, .. } => {
                assert_eq!(
                    step,
                    "6/12 : RUN apt-get update  && apt-get install -y no-such-package-robodev"
                );
                assert_eq!(
                    log_tail,
                    [
                        "Reading package lists...",
                        "E: Unable to locate package no-such-package-robodev"
                    ]
                );
            }
            other => panic!("not a build error: {other:?}"),
        }
    }

    #[test]
    fn a_missing_base_on_podman_names_the_base_with_help() {
        let e = failed(
            &[
                "STEP 1/11: FROM robodev-test/does-not-exist:1",
                "Trying to pull docker.io/robodev-test/does-not-exist:1...",
            ],
            "creating build container: initializing source \
             docker://robodev-test/does-not-exist:1: pinging container registry",
        );
        match e {
            Error::Engine { message, help, .. } => {
                assert!(
                    message.starts_with("the base image robodev-test/does-not-exist:1 is not"),
                    "{message}"
                );
                let help = help.unwrap();
                assert!(
                    help.contains("the build pulls robodev-test/does-not-exist:1")
                        && !help.contains("docker pull"),
                    "{help}"
                );
            }
            other => panic!("not the base image's error: {other:?}"),
        }
    }

    #[test]
    fn a_missing_base_on_docker_names_the_base_with_help() {
        let e = failed(
            &["Step 1/16 : FROM robodev-test/does-not-exist:1"],
            "pull access denied for robodev-test/does-not-exist",
        );
        assert!(
            matches!(&e, Error::Engine { message, .. }
                if message.starts_with("the base image robodev-test/does-not-exist:1 is not")),
            "{e:?}"
        );
    }

    #[test]
    fn the_base_of_a_from_with_a_platform_and_a_stage_name_is_the_image() {
        let e = failed(
            &["Step 1/30 : FROM --platform=linux/arm64 ros:humble AS build"],
            "no match for platform in manifest",
        );
        assert!(
            matches!(&e, Error::Engine { message, .. }
                if message.starts_with("the base image ros:humble is not")),
            "{e:?}"
        );
    }
}

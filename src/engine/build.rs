//! Building an image plan: the context as an in-memory tar, every option from the plan, the
//! engine's progress handed to a `BuildWatcher` (the command layer shows it).

use super::connection::BollardEngine;
use super::errors::{QUICK, api_error, is_not_found, limited};
use crate::error::{Error, Result};
use crate::plan::image::ImagePlan;
use bollard::query_parameters::BuildImageOptions;
use futures_util::StreamExt;
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, Default)]
pub struct BuildOptions {
    pub no_cache: bool,
    pub pull: bool,
}

/// Whoever shows a build's progress.
pub trait BuildWatcher {
    /// A build of `tag` begins (no call at all when the image is up to date).
    fn start(&mut self, tag: &str);
    /// A Dockerfile step began: `count` is "3/9", `instruction` the step's text.
    fn step(&mut self, count: &str, instruction: &str);
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

const TAIL_LINES: usize = 25;

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
        watcher.start(&plan.tag);
        let result = self.build(plan, opts, watcher).await;
        watcher.finish();
        result.map(|()| BuildOutput::Built)
    }

    async fn build(
        &self,
        plan: &ImagePlan,
        opts: BuildOptions,
        watcher: &mut dyn BuildWatcher,
    ) -> Result<()> {
        let context =
            pack_context(plan).map_err(|e| Error::io("cannot pack the build context", e))?;
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
        let mut stream = self.docker.build_image(options, None, Some(body));

        let mut step = String::from("(before the first step)");
        let mut tail: VecDeque<String> = VecDeque::new();
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(5));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let item = tokio::select! {
                item = stream.next() => item,
                _ = ticks.tick() => {
                    watcher.tick();
                    continue;
                }
            };
            let Some(item) = item else { break };
            let info = match item {
                Ok(info) => info,
                Err(bollard::errors::Error::DockerStreamError { error }) => {
                    return Err(build_failure(plan, &step, error, tail));
                }
                Err(e) => return Err(api_error(&format!("build {}", plan.tag), e)),
            };
            if let Some(detail) = info.error_detail {
                let message = detail.message.unwrap_or_else(|| "unknown error".into());
                return Err(build_failure(plan, &step, message, tail));
            }
            let Some(text) = info.stream else { continue };
            for line in text.lines() {
                if let Some(rest) = line.strip_prefix("Step ") {
                    step = rest.to_string();
                    tail.clear();
                    // "3/9 : RUN apt-get update …"
                    let (count, instruction) = rest.split_once(" : ").unwrap_or((rest, ""));
                    watcher.step(count, instruction);
                } else if !line.trim().is_empty() {
                    if tail.len() == TAIL_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line.to_string());
                }
                watcher.line(line);
            }
        }
        Ok(())
    }
}

/// The build context as an in-memory tar: the Dockerfile, the generated files and, for a
/// deploy image, the workspace's files under `SOURCES_DIR/`. A source that changed since the
/// plan hashed it fails the pack: the image would not be what its name says.
fn pack_context(plan: &ImagePlan) -> std::io::Result<Vec<u8>> {
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
    add(
        &mut builder,
        "Dockerfile",
        plan.dockerfile.as_bytes(),
        0o644,
    )?;
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

fn build_failure(plan: &ImagePlan, step: &str, message: String, tail: VecDeque<String>) -> Error {
    let is_from = step.contains(": FROM ");
    if is_from || message.contains("pull access denied") || message.contains("manifest unknown") {
        let base = step
            .split(": FROM ")
            .nth(1)
            .unwrap_or("the base image")
            .trim()
            .to_string();
        return Error::Engine {
            action: format!("cannot build {}", plan.tag),
            message: format!(
                "the base image {base} is not available locally and could not be pulled: {message}"
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
        "pull it while online (`docker pull {base}`), or set `base_image:` to an image you have \
         (`docker image ls`)"
    );
    // The debian profile's base is made locally, not pulled.
    if base == "debian:bookworm" {
        help.push_str(
            "; without a registry: `mmdebstrap --variant=apt bookworm - | docker import - debian:bookworm`",
        );
    }
    help
}

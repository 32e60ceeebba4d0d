//! Building an image plan: the context as an in-memory tar, the host network, progress.

use super::{Engine, api_error, is_not_found};
use crate::error::{Error, Result};
use crate::image_plan::ImagePlan;
use bollard::query_parameters::BuildImageOptions;
use futures_util::StreamExt;
use std::collections::VecDeque;
use std::time::Duration;

#[derive(Clone, Copy, Debug, Default)]
pub struct BuildOptions {
    pub no_cache: bool,
    pub pull: bool,
    pub verbose: bool,
    pub quiet: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildOutput {
    /// An image with this hash already exists: no build call was made.
    UpToDate,
    Built,
}

const TAIL_LINES: usize = 25;

impl Engine {
    pub async fn image_exists(&self, tag: &str) -> Result<bool> {
        match self.docker.inspect_image(tag).await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(api_error(&format!("inspect image {tag}"), e)),
        }
    }

    /// Build unless an image with the plan's hash exists (then make no build call at all).
    pub async fn ensure_image(&self, plan: &ImagePlan, opts: BuildOptions) -> Result<BuildOutput> {
        if !opts.no_cache && !opts.pull && self.image_exists(&plan.tag).await? {
            return Ok(BuildOutput::UpToDate);
        }
        self.build(plan, opts).await?;
        Ok(BuildOutput::Built)
    }

    pub async fn build(&self, plan: &ImagePlan, opts: BuildOptions) -> Result<()> {
        let context = plan
            .context_tar()
            .map_err(|e| Error::io("cannot pack the build context", e))?;
        let options = BuildImageOptions {
            t: Some(plan.tag.clone()),
            nocache: opts.no_cache,
            pull: opts.pull.then(|| "1".to_string()),
            rm: true,
            forcerm: true,
            buildargs: Some(plan.build_args.clone().into_iter().collect()),
            labels: Some(plan.labels.clone().into_iter().collect()),
            // Builds use the host network: there is no bridge on robotics hosts running ROS
            // with host networking, and a bridged build step may have no route out.
            networkmode: Some("host".into()),
            platform: plan.platform.clone().unwrap_or_default(),
            ..Default::default()
        };
        let body = bollard::body_full(context.into());
        let mut stream = self.docker.build_image(options, None, Some(body));

        let progress = Progress::new(opts, &plan.tag);
        let mut step = String::from("(before the first step)");
        let mut tail: VecDeque<String> = VecDeque::new();
        while let Some(item) = stream.next().await {
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
                    progress.step(rest);
                } else if !line.trim().is_empty() {
                    if tail.len() == TAIL_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line.to_string());
                }
                progress.line(line);
            }
        }
        progress.finish();
        Ok(())
    }
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
            help: Some(format!(
                "pull it while online (`docker pull {base}`), or set `base_image:` to an image you \
                 have (`docker image ls`); for the debian profile: \
                 `mmdebstrap --variant=apt bookworm - | docker import - debian:bookworm`"
            )),
        };
    }
    Error::Build {
        image: plan.tag.clone(),
        step: step.to_string(),
        message: message.trim().to_string(),
        log_tail: tail.into_iter().collect(),
    }
}

/// Build progress: a spinner with "[n/N] instruction" on a terminal, plain step lines otherwise,
/// the whole log with -v.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    opts: BuildOptions,
}

impl Progress {
    fn new(opts: BuildOptions, tag: &str) -> Progress {
        let bar = (!opts.quiet && !opts.verbose && console::Term::stderr().is_term()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.set_prefix(format!("building {tag}"));
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        if bar.is_none() && !opts.quiet {
            eprintln!("building {tag}");
        }
        Progress { bar, opts }
    }

    fn step(&self, rest: &str) {
        // "3/9 : RUN apt-get update …"
        let (count, instruction) = rest.split_once(" : ").unwrap_or((rest, ""));
        let short: String = instruction.chars().take(80).collect();
        match &self.bar {
            Some(bar) => bar.set_message(format!("[{count}] {short}")),
            None if !self.opts.quiet && !self.opts.verbose => eprintln!("  [{count}] {short}"),
            None => {}
        }
    }

    fn line(&self, line: &str) {
        if self.opts.verbose {
            eprintln!("{line}");
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

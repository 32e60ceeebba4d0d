//! `robodev ci github|gitlab [PROFILE…] [--platform …] [--check]`: the CI pipeline file, or
//! whether the committed one is up to date.

use super::devcontainer::line_diff;
use super::session::Session;
use crate::cli::CiArgs;
use crate::error::{Error, Result};
use crate::files::write_output;
use crate::notice::Notice;
use crate::plan::ci::{self, CiInputs, CiJob};
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pipeline {
    Github,
    Gitlab,
}

impl Pipeline {
    fn name(self) -> &'static str {
        match self {
            Pipeline::Github => "github",
            Pipeline::Gitlab => "gitlab",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Pipeline::Github => ".github/workflows/robodev.yml",
            Pipeline::Gitlab => ".gitlab-ci.yml",
        }
    }
}

/// How a fresh runner gets this robodev when `--install` says nothing: built from robodev's
/// repository at this version's tag. Never `cargo install robodev` by name: that name on
/// crates.io is another project's (0.0.0), so it fails at this version, and without one
/// installs a stranger's program. `None` when this build does not know its repository
/// (Cargo.toml's `repository`).
fn default_install() -> Option<String> {
    let repository = env!("CARGO_PKG_REPOSITORY");
    (!repository.is_empty()).then(|| {
        format!(
            "cargo install --locked --git {repository} --tag v{} robodev",
            env!("CARGO_PKG_VERSION")
        )
    })
}

/// The install step when no way to install robodev is known: it fails, saying what to do, in
/// the pipeline's log (and `ci` says the same when it writes the file).
fn no_install(pipeline: Pipeline) -> (String, Notice) {
    let fix = format!(
        "run `robodev ci {} --install COMMAND` with how your runners get robodev \
         (e.g. `cargo install --locked --git URL --tag v{} robodev`)",
        pipeline.name(),
        env!("CARGO_PKG_VERSION")
    );
    // No `: ` in the line, so the YAML keeps it a plain scalar.
    let step = format!(
        "echo 'robodev - this pipeline names no way to install robodev; {}' >&2; exit 1",
        fix.replace('\'', "")
    );
    let notice = Notice::warning(format!(
        "this robodev does not know where it is published, so the pipeline's install step will \
         fail: {fix}"
    ));
    (step, notice)
}

/// A `--branch` name: it goes into the trigger (a GitHub branch filter reads `*`, `?`, `[`
/// and `!` as patterns) and a GitLab rule, so only the characters of ordinary branch names.
fn branch_name(name: &str) -> Result<String> {
    let ok = !name.is_empty()
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.contains("..")
        && !name.contains("//")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c));
    if ok {
        Ok(name.to_string())
    } else {
        Err(Error::usage(format!(
            "--branch: `{name}` is not a branch name this pipeline can name (letters, digits, \
             `. _ / -`)"
        )))
    }
}

/// The `--runner-tag`s, sorted.
#[derive(Default)]
struct RunnerTags {
    /// Every job's.
    every: Vec<String>,
    /// (platform, tag): that platform's jobs'.
    per_platform: Vec<(String, String)>,
}

/// `--runner-tag`s: the tags of every job, and those of one platform's jobs. Each platform
/// named must be one the jobs run on, and then every platform needs its tag (a job's tag comes
/// from a matrix variable, which a job without one would leave unexpanded).
fn runner_tags(pipeline: Pipeline, flags: &[String], platforms: &[String]) -> Result<RunnerTags> {
    if flags.is_empty() {
        return Ok(RunnerTags::default());
    }
    if pipeline == Pipeline::Github {
        return Err(Error::usage_with_help(
            "--runner-tag is for GitLab runners",
            "the GitHub jobs run on GitHub's hosted runners (ubuntu-24.04, ubuntu-24.04-arm)",
        ));
    }
    let (mut every, mut per_platform): (Vec<String>, Vec<(String, String)>) = Default::default();
    for flag in flags {
        let (platform, tag) = match flag.split_once('=') {
            Some((p, t)) => (Some(p.trim()), t.trim()),
            None => (None, flag.trim()),
        };
        if tag.is_empty() || tag.chars().any(|c| c.is_control()) {
            return Err(Error::usage(format!("--runner-tag: `{flag}` names no tag")));
        }
        match platform {
            None => every.push(tag.to_string()),
            Some(p) => {
                crate::profile::grammar::platform(p)
                    .map_err(|m| Error::usage(format!("--runner-tag: {m}")))?;
                if !platforms.iter().any(|q| q == p) {
                    return Err(Error::usage(format!(
                        "--runner-tag {flag}: no job runs on {p} (the jobs run on {})",
                        platforms.join(", ")
                    )));
                }
                if per_platform.iter().any(|(q, _)| q == p) {
                    return Err(Error::usage(format!(
                        "--runner-tag: {p} is given two tags (one per platform; a tag for every \
                         job is given without `OS/ARCH=`)"
                    )));
                }
                per_platform.push((p.to_string(), tag.to_string()));
            }
        }
    }
    if !per_platform.is_empty()
        && let Some(missing) = platforms
            .iter()
            .find(|p| !per_platform.iter().any(|(q, _)| q == *p))
    {
        return Err(Error::usage(format!(
            "--runner-tag: the {missing} jobs have no tag: add --runner-tag {missing}=TAG"
        )));
    }
    Ok(RunnerTags {
        every,
        per_platform,
    })
}

pub async fn ci(s: &Session, pipeline: Pipeline, args: CiArgs) -> Result<i32> {
    let references: Vec<Option<&str>> = if args.profiles.is_empty() {
        vec![None]
    } else {
        args.profiles.iter().map(|p| Some(p.as_str())).collect()
    };
    let platforms_flag = match &args.platform {
        Some(list) => crate::profile::grammar::platform_list(list)
            .map_err(|m| Error::usage(format!("--platform: {m}")))?,
        None => Vec::new(),
    };
    let branch = args.branch.as_deref().map(branch_name).transpose()?;
    let mut jobs = Vec::new();
    let mut names = Vec::new();
    let mut sources = true;
    for reference in references {
        let profile = s.profile(reference)?;
        names.push(profile.name.clone());
        sources &= !profile.sources.is_empty();
        let platforms = if platforms_flag.is_empty() {
            vec![
                profile
                    .platform
                    .clone()
                    .unwrap_or_else(|| "linux/amd64".into()),
            ]
        } else {
            platforms_flag.clone()
        };
        for platform in platforms {
            jobs.push(CiJob {
                profile: profile.name.clone(),
                platform,
                registry: ci::registry_of(profile.registry.as_deref()),
                runner_tag: None,
            });
        }
    }
    let mut platforms: Vec<String> = Vec::new();
    for job in &jobs {
        if !platforms.contains(&job.platform) {
            platforms.push(job.platform.clone());
        }
    }
    let tags = runner_tags(pipeline, &args.runner_tags, &platforms)?;
    for job in &mut jobs {
        job.runner_tag = tags
            .per_platform
            .iter()
            .find(|(p, _)| *p == job.platform)
            .map(|(_, t)| t.clone());
    }
    let mut command = format!("robodev ci {}", pipeline.name());
    if !args.profiles.is_empty() {
        command.push(' ');
        command.push_str(&names.join(" "));
    }
    if let Some(p) = &args.platform {
        command.push_str(&format!(" --platform {p}"));
    }
    if let Some(b) = &branch {
        command.push_str(&format!(" --branch {b}"));
    }
    for tag in &args.runner_tags {
        command.push_str(&format!(" --runner-tag {tag}"));
    }
    let mut notices = Vec::new();
    let install = match args.install.clone().or_else(default_install) {
        Some(install) => install,
        None => {
            let (step, notice) = no_install(pipeline);
            notices.push(notice);
            step
        }
    };
    let inputs = CiInputs {
        jobs,
        locked: s.workspace.root.join(crate::lockfile::LOCK_FILE).exists(),
        install,
        version: env!("CARGO_PKG_VERSION").into(),
        branch,
        runner_tags: tags.every,
        command,
        sources,
    };
    notices.extend(ci::notices(&inputs));
    let text = match pipeline {
        Pipeline::Github => ci::github_workflow(&inputs),
        Pipeline::Gitlab => ci::gitlab_ci(&inputs),
    };
    let path: PathBuf = s.workspace.root.join(pipeline.path());
    let shown = crate::ui::shown_path(&path);
    let rerun = format!("run `{}` and commit the result", inputs.command);
    let existing = std::fs::read_to_string(&path).ok();
    if args.check {
        return match existing {
            Some(existing) if existing == text => {
                s.ui.success(format!("{shown} is up to date"));
                Ok(0)
            }
            Some(existing) => Err(Error::CheckFailed {
                message: format!("{shown} is out of date (- committed, + generated):"),
                details: line_diff(&existing, &text)
                    .lines()
                    .map(String::from)
                    .collect(),
                help: Some(rerun),
            }),
            None => Err(Error::CheckFailed {
                message: format!("{shown} is missing"),
                details: vec![],
                help: Some(rerun),
            }),
        };
    }
    s.show(&notices);
    // `ci` writes one place, the one the CI service reads: a changed file is replaced only when
    // asked (`write_output`'s own advice, to name another file, does not apply here).
    if existing.as_ref().is_some_and(|e| *e != text) && !args.force {
        return Err(Error::usage_with_help(
            format!(
                "{shown} exists and differs from what `{}` writes",
                inputs.command
            ),
            format!(
                "pass --force to replace it (`{} --check` shows the difference)",
                inputs.command
            ),
        ));
    }
    if write_output(&path, &text, args.force)? {
        s.ui.success(format!(
            "wrote {shown}: {} job(s); commit it",
            inputs.jobs.len()
        ));
    } else {
        s.ui.note(format!("{shown} is up to date"));
    }
    Ok(0)
}

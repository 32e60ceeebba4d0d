//! `robodev ci github|gitlab [PROFILE…] [--platform …] [--check]`: the CI pipeline file, or
//! whether the committed one is up to date.

use super::devcontainer::first_difference;
use super::session::Session;
use crate::cli::CiArgs;
use crate::error::{Error, Result};
use crate::files::write_output;
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
    let mut jobs = Vec::new();
    let mut names = Vec::new();
    for reference in references {
        let profile = s.profile(reference)?;
        names.push(profile.name.clone());
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
            });
        }
    }
    let mut command = format!("robodev ci {}", pipeline.name());
    if !args.profiles.is_empty() {
        command.push(' ');
        command.push_str(&names.join(" "));
    }
    if let Some(p) = &args.platform {
        command.push_str(&format!(" --platform {p}"));
    }
    let inputs = CiInputs {
        jobs,
        locked: s.workspace.root.join(crate::lockfile::LOCK_FILE).exists(),
        install: args.install.clone().unwrap_or_else(|| {
            format!(
                "cargo install --locked robodev --version {}",
                env!("CARGO_PKG_VERSION")
            )
        }),
        branch: args.branch.clone(),
        command,
    };
    let text = match pipeline {
        Pipeline::Github => ci::github_workflow(&inputs),
        Pipeline::Gitlab => ci::gitlab_ci(&inputs),
    };
    let path: PathBuf = s.workspace.root.join(pipeline.path());
    let shown = crate::ui::shown_path(&path);
    if args.check {
        return match std::fs::read_to_string(&path) {
            Ok(existing) if existing == text => {
                s.ui.success(format!("{shown} is up to date"));
                Ok(0)
            }
            Ok(existing) => Err(Error::CheckFailed {
                message: format!("{shown} is out of date:"),
                details: first_difference(&existing, &text)
                    .lines()
                    .map(String::from)
                    .collect(),
                help: Some(format!("run `{}` and commit the result", inputs.command)),
            }),
            Err(_) => Err(Error::CheckFailed {
                message: format!("{shown} is missing"),
                details: vec![],
                help: Some(format!("run `{}` and commit the result", inputs.command)),
            }),
        };
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

//! Executing parsed commands. Each command: resolve inputs → plan (pure) → engine.

mod devcontainer_cmd;
mod doctor;
mod environment;
mod init;
mod listing;
mod profiles;

use crate::cli::{Cli, Command, GlobalArgs, ProfileCommand};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::gpu::DaemonFacts;
use crate::host::HostFacts;
use crate::plan::{self, Plan, PlanInputs};
use crate::profile::{GpuMode, Profile};
use crate::profile_source::ProfileSearch;
use crate::ui::Ui;
use crate::workspace::Workspace;
use clap::CommandFactory;

/// What every command needs: the workspace, where profiles are, how to talk to the user.
pub struct Session {
    pub global: GlobalArgs,
    pub workspace: Workspace,
    pub search: ProfileSearch,
    pub ui: Ui,
}

impl Session {
    fn new(global: GlobalArgs) -> Result<Session> {
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
        })
    }

    /// Load and validate a profile; print its warnings.
    pub fn profile(&self, reference: Option<&str>) -> Result<Profile> {
        let loaded = self.search.load(reference)?;
        let profile = Profile::from_loaded(&loaded, &crate::distro::today())?;
        for w in &profile.warnings {
            self.ui.warn(w);
        }
        Ok(profile)
    }

    /// Ask the engine about itself only when the plan depends on it (GPU detection).
    pub async fn daemon_facts(
        &self,
        profile: &Profile,
        engine: Option<&Engine>,
    ) -> Result<DaemonFacts> {
        match engine {
            Some(engine) if matches!(profile.gpu, GpuMode::Auto | GpuMode::Nvidia) => {
                engine.daemon_facts().await
            }
            _ => Ok(DaemonFacts::default()),
        }
    }

    pub async fn plan(&self, profile: &Profile, engine: Option<&Engine>) -> Result<Plan> {
        let host = HostFacts::probe(profile);
        let daemon = self.daemon_facts(profile, engine).await?;
        let plan = plan::make(PlanInputs {
            profile,
            host: &host,
            daemon: &daemon,
            workspace: &self.workspace,
            templates: self.global.templates.clone(),
        })?;
        for note in &plan.container.notes {
            if note.starts_with("gpu: auto") {
                self.ui.info(note);
            } else {
                self.ui.note(note);
            }
        }
        for w in &plan.container.warnings {
            self.ui.warn(w);
        }
        Ok(plan)
    }
}

pub async fn execute(cli: Cli) -> Result<i32> {
    let session = Session::new(cli.global.clone())?;
    let s = &session;
    match cli.command {
        Command::Up {
            profile,
            build,
            detach,
            recreate,
        } => environment::up(s, profile.profile.as_deref(), build, detach, recreate).await,
        Command::Build { profile, build } => {
            environment::build(s, profile.profile.as_deref(), build).await
        }
        Command::Shell { profile } => environment::shell(s, profile.profile.as_deref()).await,
        Command::Exec { profile, cmd } => {
            environment::exec(s, profile.profile.as_deref(), cmd).await
        }
        Command::Run {
            profile,
            build,
            cmd,
        } => environment::run(s, profile.profile.as_deref(), build, cmd).await,
        Command::Stop { profile } => environment::stop(s, profile.profile.as_deref()).await,
        Command::Down { profile, volumes } => {
            environment::down(s, profile.profile.as_deref(), volumes).await
        }
        Command::Status { profile, json } => {
            environment::status(s, profile.profile.as_deref(), json).await
        }
        Command::Logs {
            profile,
            follow,
            tail,
        } => environment::logs(s, profile.profile.as_deref(), follow, tail).await,
        Command::Ls { json } => listing::ls(s, json).await,
        Command::Clean { dry_run } => listing::clean(s, dry_run).await,
        Command::Profiles { json } => profiles::list(s, json),
        Command::Profile(ProfileCommand::Show { profile, json }) => {
            profiles::show(s, profile.profile.as_deref(), json)
        }
        Command::Generate { profile, output } => {
            profiles::generate(s, profile.profile.as_deref(), &output).await
        }
        Command::Doctor { profile, json } => {
            doctor::doctor(s, profile.profile.as_deref(), json).await
        }
        Command::Devcontainer { profile, check } => {
            devcontainer_cmd::devcontainer(s, profile.profile.as_deref(), check).await
        }
        Command::Init(args) => init::init(s, args),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "robodev", &mut out);
            crate::ui::print_out(&String::from_utf8_lossy(&out));
            Ok(0)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| Error::io("cannot render the man page", e))?;
            crate::ui::print_out(&String::from_utf8_lossy(&out));
            Ok(0)
        }
    }
}

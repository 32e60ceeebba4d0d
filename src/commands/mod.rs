//! Executing parsed commands. Each command: resolve inputs → plan (pure) → engine.
//! One file per command family; `session` holds the steps they share.

mod base_image;
mod build_cache;
mod build_lock;
mod build_progress;
mod bundle;
mod ci;
mod dependencies;
mod deploy;
mod devcontainer;
mod doctor;
mod engine_facts;
mod environment;
mod exec;
mod export;
mod image_pull;
mod images;
mod init;
mod known_workspaces;
mod listing;
mod lock;
mod lock_mode;
mod login;
mod machine_facts;
mod man;
mod profiles;
mod registry;
mod resolve;
mod session;
mod sources;
mod sync;
mod test;
mod transfer_progress;

use crate::cli::{
    CiCommand, Cli, Command, DeployCommand, DeviceChoice, ExportCommand, ImageCommand,
    ProfileCommand, SourcesCommand,
};
use crate::error::Result;
use clap::CommandFactory;
use session::Session;

/// Execute `cli` against `engine`, or the engine the user chose (connected on first use).
pub async fn execute(cli: Cli, engine: Option<Box<dyn crate::engine::Engine>>) -> Result<i32> {
    crate::engine::use_host(cli.global.host.clone());
    let session = match engine {
        Some(engine) => Session::with_engine(cli.global.clone(), engine)?,
        None => Session::new(cli.global.clone())?,
    };
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
        Command::Shell { profile } => exec::shell(s, profile.profile.as_deref()).await,
        Command::Exec { profile, cmd } => exec::exec(s, profile.profile.as_deref(), cmd).await,
        Command::Run {
            profile,
            build,
            no_hardware,
            cmd,
        } => exec::run(s, profile.profile.as_deref(), build, no_hardware, cmd).await,
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
        Command::Clean {
            dry_run,
            all,
            json,
            build_cache,
        } => {
            let code = listing::clean(s, dry_run, all, json).await?;
            build_cache::clean(s, build_cache, dry_run).await?;
            Ok(code)
        }
        Command::Profiles { json } => profiles::list(s, json),
        Command::Profile(ProfileCommand::Show { profile, json }) => {
            profiles::show(s, profile.profile.as_deref(), json)
        }
        Command::Images { json } => images::images(s, json).await,
        Command::Image(ImageCommand::Inspect { profile, json }) => {
            images::inspect(s, profile.profile.as_deref(), json).await
        }
        Command::Image(ImageCommand::History { profile, json }) => {
            images::history(s, profile.profile.as_deref(), json).await
        }
        Command::Image(ImageCommand::Tag { args }) => images::tag(s, &args).await,
        Command::Image(ImageCommand::Rm { profile }) => {
            images::rm(s, profile.profile.as_deref()).await
        }
        Command::Sync { profile, pull } => sync::sync(s, profile.profile.as_deref(), pull).await,
        Command::Export(ExportCommand::Compose {
            profile,
            output,
            force,
        }) => export::compose(s, profile.profile.as_deref(), output.as_deref(), force).await,
        Command::Export(ExportCommand::K8s {
            profile,
            deploy,
            namespace,
            workspace_claim,
            workspace_size,
            devices,
            output,
            force,
        }) => {
            let args = export::K8sArgs {
                deploy,
                namespace,
                workspace_claim,
                workspace_size,
                devices: match devices {
                    DeviceChoice::Omit => crate::plan::kubernetes::DeviceAccess::Omit,
                    DeviceChoice::Privileged => crate::plan::kubernetes::DeviceAccess::Privileged,
                },
                output: output.as_deref(),
                force,
            };
            export::k8s(s, profile.profile.as_deref(), args).await
        }
        Command::Ci(CiCommand::Github(args)) => ci::ci(s, ci::Pipeline::Github, args).await,
        Command::Ci(CiCommand::Gitlab(args)) => ci::ci(s, ci::Pipeline::Gitlab, args).await,
        Command::Sources(SourcesCommand::Import { profile, locked }) => {
            sources::import(s, profile.profile.as_deref(), locked)
        }
        Command::Sources(SourcesCommand::Status { profile, json }) => {
            sources::status(s, profile.profile.as_deref(), json)
        }
        Command::Sources(SourcesCommand::Update {
            profile,
            paths,
            locked,
        }) => sources::update(s, profile.profile.as_deref(), &paths, locked),
        Command::Sources(SourcesCommand::Export {
            profile,
            exact,
            output,
        }) => sources::export(s, profile.profile.as_deref(), exact, output),
        Command::Generate {
            profile,
            deploy: true,
            output,
            force,
        } => deploy::generate(s, profile.profile.as_deref(), output, force).await,
        Command::Generate {
            profile,
            output,
            force,
            ..
        } => profiles::generate(s, profile.profile.as_deref(), output, force).await,
        Command::Deploy(DeployCommand::Build {
            profile,
            build,
            platform,
            push,
        }) => deploy::build(s, profile.profile.as_deref(), build, platform, push).await,
        Command::Deploy(DeployCommand::Run {
            profile,
            build,
            cmd,
        }) => deploy::run(s, profile.profile.as_deref(), build, cmd).await,
        Command::Test {
            profile,
            build,
            results,
            packages_select,
            packages_up_to,
        } => {
            let selection = crate::plan::test_run::Selection {
                select: packages_select,
                up_to: packages_up_to,
            };
            test::test(s, profile.profile.as_deref(), build, selection, results).await
        }
        Command::Login {
            registry,
            username,
            password_stdin,
        } => login::login(s, registry, username, password_stdin).await,
        Command::Push { profile, build } => {
            registry::push(s, profile.profile.as_deref(), build).await
        }
        Command::Save {
            profile,
            output,
            zstd,
            deploy,
            platform,
            build,
        } => {
            let deploy = deploy.then_some(platform);
            bundle::save(s, profile.profile.as_deref(), &output, zstd, build, deploy).await
        }
        Command::Load { file } => bundle::load(s, &file).await,
        Command::Lock {
            profile,
            update,
            locked,
        } => lock::lock(s, profile.profile.as_deref(), update, locked).await,
        Command::Deps { profile, json } => dependencies::deps(s, profile.profile.as_deref(), json),
        Command::Doctor { profile, json } => {
            doctor::doctor(s, profile.profile.as_deref(), json).await
        }
        Command::Devcontainer {
            profile,
            check,
            force,
        } => devcontainer::devcontainer(s, profile.profile.as_deref(), check, force).await,
        Command::Init(args) => init::init(s, args),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "robodev", &mut out);
            crate::ui::print_out(&String::from_utf8_lossy(&out));
            Ok(0)
        }
        Command::Man => {
            crate::ui::print_out(&man::page()?);
            Ok(0)
        }
    }
}

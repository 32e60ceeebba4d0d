//! Running processes in an environment: `shell`, `exec` (the long-lived container) and `run`
//! (a throw-away one).

use super::session::{Session, ensure_image, our_container, prepare_start, run_shell, terminal};
use crate::cli::BuildFlags;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::plan::exec::ExecPlan;
use crate::profile::Profile;

/// The container, started if it was stopped; an error when there is none.
async fn require_running(
    s: &Session,
    engine: &Engine,
    profile: &Profile,
    exec: &ExecPlan,
) -> Result<()> {
    match our_container(engine, &exec.container).await? {
        Some(state) if state.running => Ok(()),
        Some(_) => {
            let plan = s.plan(profile, Some(engine)).await?;
            plan.container.require_host()?;
            prepare_start(s, &plan)?;
            engine.start_container(&exec.container).await
        }
        None => Err(Error::no_environment(&profile.name)),
    }
}

pub async fn shell(s: &Session, reference: Option<&str>) -> Result<i32> {
    let profile = s.profile(reference)?;
    let engine = Engine::connect().await?;
    let exec = s.exec_plan(&profile);
    require_running(s, &engine, &profile, &exec).await?;
    run_shell(&engine, &exec).await
}

pub async fn exec(s: &Session, reference: Option<&str>, cmd: Vec<String>) -> Result<i32> {
    let profile = s.profile(reference)?;
    let engine = Engine::connect().await?;
    let exec = s.exec_plan(&profile);
    require_running(s, &engine, &profile, &exec).await?;
    engine
        .exec(&exec.container, &exec.command(cmd, &terminal()))
        .await
}

pub async fn run(
    s: &Session,
    reference: Option<&str>,
    flags: BuildFlags,
    no_hardware: bool,
    cmd: Vec<String>,
) -> Result<i32> {
    let mut profile = s.profile(reference)?;
    if no_hardware {
        profile = profile.without_hardware();
        s.ui.note("--no-hardware: no display, sound, devices or GPU in this container");
    }
    let engine = Engine::connect().await?;
    let plan = s.plan(&profile, Some(&engine)).await?;
    plan.container.require_host().map_err(|e| match e {
        Error::Host { message, help } => Error::Host {
            message,
            help: Some(format!(
                "{}; or run without this host's hardware: `robodev run --no-hardware`",
                help.unwrap_or_default()
            )),
        },
        other => other,
    })?;
    ensure_image(s, &engine, &plan, flags).await?;
    prepare_start(s, &plan)?;
    let term = terminal();
    engine
        .run(
            &plan.container.throwaway(),
            cmd,
            term.tty(),
            term.attach_stdin(),
        )
        .await
}

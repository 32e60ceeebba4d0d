//! Running processes in an environment: `shell`, `exec` (the long-lived container) and `run`
//! (a throw-away one).

use super::lock::LockMode;
use super::registry::ensure_environment_image;
use super::resolve::resolve;
use super::session::{Session, ensure_volumes, our_container, prepare_start, run_shell, terminal};
use crate::cli::BuildFlags;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::plan::exec::ExecPlan;
use crate::plan::labels;
use crate::profile::Profile;

/// The container, started if it was stopped; an error when there is none. Returns what to
/// tell the user when the container was made from an older profile.
async fn require_running(
    s: &Session,
    engine: &dyn Engine,
    profile: &Profile,
    exec: &ExecPlan,
) -> Result<Option<String>> {
    let Some(state) = our_container(engine, &exec.container).await? else {
        return Err(Error::no_environment(&profile.name));
    };
    let plan = s.plan_recent(profile, Some(engine)).await.ok();
    let stale = plan.as_ref().and_then(|plan| {
        let wanted = plan.container.labels.get(labels::CONFIG);
        (state.labels.get(labels::CONFIG) != wanted).then(|| {
            format!(
                "the {} environment was made from an older profile; `robodev up --recreate` \
                 applies the change (the workspace is kept)",
                profile.name
            )
        })
    });
    if let Some(hint) = &stale {
        s.ui.warn(hint);
    }
    if !state.running {
        // Starting it needs the devices there now, not a report of minutes ago.
        let plan = match plan {
            Some(plan) if engine.is_local() => plan,
            _ => s.plan(profile, Some(engine)).await?,
        };
        plan.container.require_host()?;
        prepare_start(s, &plan)?;
        engine.start_container(&exec.container).await?;
    }
    Ok(stale)
}

/// An engine error of an exec in a stale environment says how to recreate it.
fn with_stale_hint(result: Result<i32>, stale: Option<String>) -> Result<i32> {
    match (result, stale) {
        (
            Err(Error::Engine {
                action, message, ..
            }),
            Some(hint),
        ) => Err(Error::Engine {
            action,
            message,
            help: Some(hint),
        }),
        (result, _) => result,
    }
}

pub async fn shell(s: &Session, reference: Option<&str>) -> Result<i32> {
    let profile = s.profile(reference)?;
    let engine = s.engine().await?;
    let exec = s.exec_plan_on(&profile, engine);
    let stale = require_running(s, engine, &profile, &exec).await?;
    with_stale_hint(run_shell(engine, &exec).await, stale)
}

pub async fn exec(s: &Session, reference: Option<&str>, cmd: Vec<String>) -> Result<i32> {
    let profile = s.profile(reference)?;
    let engine = s.engine().await?;
    let exec = s.exec_plan_on(&profile, engine);
    let stale = require_running(s, engine, &profile, &exec).await?;
    let result = engine
        .exec(&exec.container, &exec.command(cmd, &terminal()))
        .await;
    with_stale_hint(result, stale)
}

pub async fn run(
    s: &Session,
    reference: Option<&str>,
    flags: BuildFlags,
    no_hardware: bool,
    cmd: Vec<String>,
) -> Result<i32> {
    let profile = s.profile(reference)?;
    let engine = s.engine().await?;
    // Resolve, plan, execute.
    let inputs = resolve(s, engine, &profile, LockMode::from_flags(&flags), false).await?;
    let plan = if no_hardware {
        s.ui.note("--no-hardware: no display, sound, devices or GPU in this container");
        s.plan_without_hardware(&profile, Some(engine), &inputs)?
    } else {
        s.plan_from(&profile, Some(engine), &inputs)?
    };
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
    ensure_environment_image(s, engine, &plan, flags).await?;
    prepare_start(s, &plan)?;
    ensure_volumes(engine, &plan).await?;
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

//! The environment's lifecycle: build, up, stop, down, status, logs.

use super::lock::LockMode;
use super::registry::{ensure_environment_image, pull_instead_of_build};
use super::resolve::resolve;
use super::session::{
    Session, ensure_image, ensure_volumes, our_container, prepare_start, run_shell,
};
use crate::cli::BuildFlags;
use crate::engine::{BuildOutput, Engine, Output};
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::plan::container::{CCACHE_VOLUME, STOP_TIMEOUT_SECS, volume_name};
use crate::plan::labels;
use crate::profile::MountSpec;
use std::io::IsTerminal;

pub async fn build(s: &Session, reference: Option<&str>, flags: BuildFlags) -> Result<i32> {
    let profile = s.profile(reference)?;
    // The repositories of its `.repos` files first: the dependency scan reads their packages.
    super::sources::ensure_present(s, &profile, flags.locked)?;
    let engine = s.engine().await?;
    // Resolve, plan, execute.
    let inputs = resolve(s, engine, &profile, LockMode::from_flags(&flags), false).await?;
    let plan = s.plan_from(&profile, Some(engine), &inputs)?;
    if pull_instead_of_build(s, engine, &plan, flags).await? {
        return Ok(0);
    }
    if ensure_image(s, engine, &plan.image, flags).await? == BuildOutput::UpToDate {
        s.ui.info(format!(
            "{} is up to date (no build needed)",
            plan.image.tag
        ));
    }
    Ok(0)
}

fn confirm(question: &str) -> bool {
    std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal()
        && dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .unwrap_or(false)
}

/// Make sure the environment's container exists and runs, as the engine says once it is done.
///
/// Another robodev's `down` can remove the container while this one looks at it, creates it
/// or starts it (then the engine refuses the start: "marked for removal"). So the engine is
/// asked again at the end: a container that vanished, or is being removed, is made once
/// more; if that one vanishes too, the error says another robodev removed it. Never "running"
/// when it is not.
async fn ensure_running(
    s: &Session,
    engine: &dyn Engine,
    plan: &Plan,
    recreate: bool,
) -> Result<()> {
    let name = &plan.container.name;
    let attempt = bring_up(s, engine, plan, recreate).await?;
    if running_after(engine, name, attempt).await? {
        return Ok(());
    }
    s.ui.warn(format!(
        "{name} was removed while this robodev started it (another robodev's `down`?); creating it again"
    ));
    let attempt = bring_up(s, engine, plan, recreate).await?;
    if running_after(engine, name, attempt).await? {
        return Ok(());
    }
    Err(Error::Engine {
        action: format!("cannot start {name}"),
        message:
            "another robodev removed it (`robodev down`) while this one was starting it, twice"
                .into(),
        help: Some(
            "the workspace is untouched; run `robodev up` again once the other robodev is done"
                .into(),
        ),
    })
}

/// How one pass at a running container ended, short of an error that stands on its own
/// (an image the engine cannot create a container from, a volume it cannot make).
enum Attempt {
    /// Nothing failed; whether it runs is for the engine to say.
    Done,
    /// The engine refused a step on a container that was there (start, or remove to
    /// recreate): the container's state afterwards tells a lost race from a failure.
    Refused(Error),
}

impl From<Result<()>> for Attempt {
    fn from(step: Result<()>) -> Attempt {
        match step {
            Ok(()) => Attempt::Done,
            Err(e) => Attempt::Refused(e),
        }
    }
}

/// One pass at a running container: use, start, recreate or create it.
async fn bring_up(
    s: &Session,
    engine: &dyn Engine,
    plan: &Plan,
    recreate: bool,
) -> Result<Attempt> {
    let c = &plan.container;
    let wanted = c.labels.get(labels::CONFIG).cloned().unwrap_or_default();
    match settled_container(engine, &c.name).await? {
        Some(state) => {
            let current = state
                .labels
                .get(labels::CONFIG)
                .cloned()
                .unwrap_or_default();
            if current != wanted {
                let question = format!(
                    "The profile changed since {} was made. Recreate it? (the workspace is kept; changes made \
                     elsewhere in the container are lost)",
                    c.name
                );
                if recreate || confirm(&question) {
                    s.ui.info(format!("recreating {}", c.name));
                    if let Err(e) = engine.remove_container(&c.name).await {
                        return Ok(Attempt::Refused(e));
                    }
                    return create_and_start(s, engine, plan).await;
                }
                s.ui.warn(format!(
                    "the profile changed since {} was made; it keeps its old settings until you run \
                     `robodev up --recreate` (the workspace is kept)",
                    c.name
                ));
            }
            if !state.running {
                prepare_start(s, plan)?;
                if let Err(e) = engine.start_container(&c.name).await {
                    return Ok(Attempt::Refused(e));
                }
                s.ui.note(format!("started {}", c.name));
            }
            Ok(Attempt::Done)
        }
        None => create_and_start(s, engine, plan).await,
    }
}

/// The engine's state of the container a removal is about to take away.
const REMOVING: &str = "removing";

/// Whether the container runs now, after `attempt`: `false` when it is gone or being removed,
/// whatever the attempt said (a start the engine refused because the container is marked for
/// removal is that race too); the engine's refusal when the container is there; an error when
/// it is there and not running.
async fn running_after(engine: &dyn Engine, name: &str, attempt: Attempt) -> Result<bool> {
    let state = match our_container(engine, name).await? {
        None => return Ok(false),
        Some(state) if state.status == REMOVING => return Ok(false),
        Some(state) => state,
    };
    if let Attempt::Refused(e) = attempt {
        return Err(e);
    }
    if state.running {
        return Ok(true);
    }
    Err(Error::Engine {
        action: format!("cannot start {name}"),
        message: format!(
            "it is {} right after it was started, not running (stopped by another robodev, or its process ended)",
            state.status
        ),
        help: Some("`robodev logs` shows what it said; `robodev up` starts it again".into()),
    })
}

/// The container once a removal in progress (another robodev's `down`) has finished: `None`
/// when it is gone. A removal that takes more than ten seconds is an error.
async fn settled_container(
    engine: &dyn Engine,
    name: &str,
) -> Result<Option<crate::engine::ContainerState>> {
    for _ in 0..200 {
        match our_container(engine, name).await? {
            Some(state) if state.status == REMOVING => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            other => return Ok(other),
        }
    }
    Err(Error::Engine {
        action: format!("cannot use {name}"),
        message: "the engine has been removing it for ten seconds (another robodev's `down`)"
            .into(),
        help: Some(format!(
            "run `robodev up` again once `docker ps -a --filter name={name}` no longer lists it"
        )),
    })
}

async fn create_and_start(s: &Session, engine: &dyn Engine, plan: &Plan) -> Result<Attempt> {
    prepare_start(s, plan)?;
    ensure_volumes(engine, plan).await?;
    let name = &plan.container.name;
    // The name is taken when another robodev created it first, or while a container of that
    // name is being removed; once it is free again, create ours.
    for _ in 0..100 {
        if engine.create_container(&plan.container).await? {
            let started = Attempt::from(engine.start_container(name).await);
            if let Attempt::Done = started {
                s.ui.success(format!("created {name}"));
            }
            return Ok(started);
        }
        // Created concurrently by another robodev: use it, as long as it is robodev's. The
        // engine reserves the name before the container can be inspected, so give the winner a
        // moment.
        match our_container(engine, name).await? {
            Some(state) if state.running => return Ok(Attempt::Done),
            Some(state) if state.status == "created" || state.status == REMOVING => {}
            Some(_) => return Ok(engine.start_container(name).await.into()),
            None => {}
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Err(Error::Engine {
        action: format!("cannot start {name}"),
        message: "another robodev created it but it did not start".into(),
        help: Some("run `robodev status` and `robodev up` again".into()),
    })
}

pub async fn up(
    s: &Session,
    reference: Option<&str>,
    flags: BuildFlags,
    detach: bool,
    recreate: bool,
) -> Result<i32> {
    let profile = s.profile(reference)?;
    // The repositories of its `.repos` files first: the dependency scan reads their packages.
    super::sources::ensure_present(s, &profile, flags.locked)?;
    let engine = s.engine().await?;
    // Resolve, plan, execute.
    let inputs = resolve(s, engine, &profile, LockMode::from_flags(&flags), false).await?;
    let plan = s.plan_from(&profile, Some(engine), &inputs)?;
    // Before building: a missing device or display is reported in a second, not after minutes.
    plan.container.require_host()?;
    ensure_environment_image(s, engine, &plan, flags).await?;
    let synced = super::sync::is_synced(&plan);
    if synced
        && engine
            .volume_labels(&plan.container.workspace_host)
            .await?
            .is_none()
    {
        // A new volume holds nothing yet, whatever was sent to an earlier one.
        super::sync::forget(&plan.container.name);
    }
    ensure_running(s, engine, &plan, recreate).await?;
    if synced {
        super::sync::push(s, engine, &plan).await?;
    }
    if detach {
        s.ui.info(format!(
            "{} is running; `robodev shell` opens a shell, `robodev exec -- CMD` runs a command",
            plan.container.name
        ));
        return Ok(0);
    }
    run_shell(engine, &s.exec_plan_on(&profile, engine)).await
}

pub async fn stop(s: &Session, reference: Option<&str>) -> Result<i32> {
    let profile = s.profile(reference)?;
    let engine = s.engine().await?;
    let name = s.exec_plan(&profile).container;
    match our_container(engine, &name).await? {
        Some(state) if state.running => {
            engine.stop_container(&name, STOP_TIMEOUT_SECS).await?;
            s.ui.success(format!(
                "stopped {name} (`robodev up` starts it again, with its changes)"
            ));
        }
        Some(_) => s.ui.info(format!("{name} is already stopped")),
        None => s.ui.info(Error::no_environment(&profile.name).to_string()),
    }
    Ok(0)
}

pub async fn down(s: &Session, reference: Option<&str>, volumes: bool) -> Result<i32> {
    let profile = s.profile(reference)?;
    let engine = s.engine().await?;
    let name = s.exec_plan(&profile).container;
    match our_container(engine, &name).await? {
        Some(_) => {
            engine.remove_container(&name).await?;
            s.ui.success(format!(
                "removed {name}; the workspace {} is untouched",
                s.workspace.host_path(&profile).display()
            ));
        }
        None => s.ui.info(Error::no_environment(&profile.name).to_string()),
    }
    remove_or_keep_volumes(s, engine, &profile, &name, volumes).await?;
    if volumes {
        super::sync::forget(&name);
    }
    Ok(0)
}

/// `down`'s volumes: with `--volumes`, remove every volume robodev created for this
/// environment (labelled with its container): the profile's volume mounts, the ccache volume,
/// the synced workspace of a remote engine; never a shared one, never one robodev did not
/// make, and each one kept is said. Without it, say which existing volumes were kept.
async fn remove_or_keep_volumes(
    s: &Session,
    engine: &dyn Engine,
    profile: &crate::profile::Profile,
    container: &str,
    remove: bool,
) -> Result<()> {
    let mut kept = Vec::new();
    let mut candidates: Vec<(String, bool)> = profile
        .mounts
        .iter()
        .filter_map(|m| match m {
            MountSpec::Volume { source, shared, .. } => {
                Some((volume_name(container, source, *shared), *shared))
            }
            _ => None,
        })
        .collect();
    // The names the plan gives the environment's other volumes (`plan::container`'s ccache
    // volume, `plan::remote`'s synced workspace), looked at whether or not the profile still
    // asks for ccache or sync: one made before the profile changed is this environment's too,
    // and only a volume labelled with this container is removed.
    for own in [
        volume_name(container, CCACHE_VOLUME, false),
        crate::plan::remote::workspace_volume(container),
    ] {
        if !candidates.iter().any(|(name, _)| *name == own) {
            candidates.push((own, false));
        }
    }
    for (name, shared) in candidates {
        let Some(labels) = engine.volume_labels(&name).await? else {
            continue;
        };
        let owner = labels.get(labels::CONTAINER).map(String::as_str);
        let shared = shared || labels.get(labels::SHARED).is_some_and(|v| v == "true");
        if remove && owner == Some(container) {
            engine.remove_volume(&name).await?;
            s.ui.success(format!("removed volume {name}"));
        } else if remove && shared {
            s.ui.info(format!(
                "kept volume {name}: it is shared by every environment (`docker volume rm {name}` removes it)"
            ));
        } else if remove && let Some(other) = owner.filter(|_| labels::is_managed(&labels)) {
            s.ui.info(format!(
                "kept volume {name}: it belongs to the environment {other}"
            ));
        } else if remove {
            s.ui.info(format!(
                "kept volume {name}: robodev did not create it (`docker volume rm {name}` removes it)"
            ));
        } else {
            kept.push(name);
        }
    }
    if !kept.is_empty() {
        s.ui.info(format!(
            "kept volumes {} (`robodev down --volumes` removes this environment's own)",
            kept.join(", ")
        ));
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct Status {
    /// The engine's address and what chose it.
    engine: String,
    profile: String,
    workspace: String,
    container: String,
    state: String,
    image: String,
    image_present: bool,
    /// Where the image came from: `built` here, `registry` (pulled or pushed: it has a
    /// registry digest, in `image_digest`), absent when the engine does not have it.
    #[serde(skip_serializing_if = "Option::is_none")]
    image_origin: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_digest: Option<String>,
    up_to_date: Option<bool>,
}

pub async fn status(s: &Session, reference: Option<&str>, json: bool) -> Result<i32> {
    let profile = s.profile(reference)?;
    let engine = s.engine().await?;
    let name = s.exec_plan(&profile).container;
    let state = our_container(engine, &name).await?;
    // The plan can fail on this host right now (a device unplugged, no DISPLAY): still report
    // the container, and say why it cannot be compared.
    let (image, up_to_date) = match s.plan(&profile, Some(engine)).await {
        Ok(plan) => {
            let wanted = plan.container.labels.get(labels::CONFIG).cloned();
            let same = state
                .as_ref()
                .map(|c| c.labels.get(labels::CONFIG) == wanted.as_ref());
            (Some(plan.image.tag), same)
        }
        Err(e) => {
            s.ui.warn(format!("cannot plan the environment on this host: {e}"));
            (
                state
                    .as_ref()
                    .and_then(|c| c.labels.get(labels::IMAGE).cloned()),
                None,
            )
        }
    };
    let identity = match &image {
        Some(tag) => engine.identity(tag).await?,
        None => None,
    };
    let image_present = identity.is_some();
    let image_digest = identity.and_then(|i| i.repo_digests.into_iter().next());
    let image_origin = match (image_present, &image_digest) {
        (false, _) => None,
        (true, Some(_)) => Some("registry"),
        (true, None) => Some("built"),
    };
    let status = Status {
        engine: format!(
            "{} ({})",
            engine.endpoint().url,
            engine.endpoint().chosen_by
        ),
        profile: profile.name.clone(),
        workspace: s.workspace.root.display().to_string(),
        container: name,
        state: state
            .as_ref()
            .map(|c| c.status.clone())
            .unwrap_or_else(|| "absent".into()),
        image: image.unwrap_or_default(),
        image_present,
        image_origin,
        image_digest,
        up_to_date,
    };
    if json {
        crate::ui::print_out(&serde_json::to_string_pretty(&status).unwrap_or_default());
    } else {
        let mut text = format!(
            "engine     {}\nprofile    {}\nworkspace  {}\ncontainer  {} ({})\nimage      {} ({})\n",
            status.engine,
            status.profile,
            status.workspace,
            status.container,
            status.state,
            status.image,
            match (status.image_origin, &status.image_digest) {
                (Some("registry"), Some(d)) => format!("present, pulled or pushed as {d}"),
                (Some(_), _) => "present, built here".to_string(),
                (None, _) => "not on this engine".to_string(),
            }
        );
        if status.up_to_date == Some(false) {
            text.push_str("changed    the profile changed since the container was made: `robodev up --recreate`\n");
        }
        crate::ui::print_out(&text);
    }
    Ok(0)
}

pub async fn logs(
    s: &Session,
    reference: Option<&str>,
    follow: bool,
    tail: Option<String>,
) -> Result<i32> {
    use std::io::Write;
    let profile = s.profile(reference)?;
    let engine = s.engine().await?;
    let name = s.exec_plan(&profile).container;
    if our_container(engine, &name).await?.is_none() {
        return Err(Error::no_environment(&profile.name));
    }
    let mut sink = |stream: Output, bytes: &[u8]| {
        let _ = match stream {
            Output::Stdout => std::io::stdout().write_all(bytes),
            Output::Stderr => std::io::stderr().write_all(bytes),
        };
    };
    engine.logs(&name, follow, tail, &mut sink).await?;
    Ok(0)
}

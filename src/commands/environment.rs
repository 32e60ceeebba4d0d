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
use crate::plan::container::{STOP_TIMEOUT_SECS, volume_name};
use crate::plan::labels;
use crate::profile::MountSpec;
use std::io::IsTerminal;

pub async fn build(s: &Session, reference: Option<&str>, flags: BuildFlags) -> Result<i32> {
    let profile = s.profile(reference)?;
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

/// Make sure the environment's container exists and runs.
async fn ensure_running(
    s: &Session,
    engine: &dyn Engine,
    plan: &Plan,
    recreate: bool,
) -> Result<()> {
    let c = &plan.container;
    let wanted = c.labels.get(labels::CONFIG).cloned().unwrap_or_default();
    match our_container(engine, &c.name).await? {
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
                    engine.remove_container(&c.name).await?;
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
                engine.start_container(&c.name).await?;
                s.ui.note(format!("started {}", c.name));
            }
            Ok(())
        }
        None => create_and_start(s, engine, plan).await,
    }
}

async fn create_and_start(s: &Session, engine: &dyn Engine, plan: &Plan) -> Result<()> {
    prepare_start(s, plan)?;
    ensure_volumes(engine, plan).await?;
    let name = &plan.container.name;
    if engine.create_container(&plan.container).await? {
        engine.start_container(name).await?;
        s.ui.success(format!("created {name}"));
        return Ok(());
    }
    // Created concurrently by another robodev: use it, as long as it is robodev's. The engine
    // reserves the name before the container can be inspected, so give the winner a moment.
    for _ in 0..100 {
        match our_container(engine, name).await? {
            Some(state) if state.running => return Ok(()),
            Some(state) if state.status == "created" => {}
            Some(_) => return engine.start_container(name).await,
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

/// `down`'s volumes: with `--volumes`, remove this environment's own volumes that robodev
/// created (labelled with its container); never a shared one, never one robodev did not make.
/// Without it, say which existing volumes were kept.
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
    if profile.workspace_sync {
        candidates.push((crate::plan::remote::workspace_volume(container), false));
    }
    for (name, shared) in candidates {
        let Some(labels) = engine.volume_labels(&name).await? else {
            continue;
        };
        let ours = labels.get(labels::CONTAINER).map(String::as_str) == Some(container);
        if remove && ours {
            engine.remove_volume(&name).await?;
            s.ui.success(format!("removed volume {name}"));
        } else if remove && shared {
            s.ui.info(format!(
                "kept volume {name}: it is shared by every environment (`docker volume rm {name}` removes it)"
            ));
        } else if remove {
            s.ui.info(format!("kept volume {name}: robodev did not create it"));
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
    let image_present = match &image {
        Some(tag) => engine.image_exists(tag).await?,
        None => false,
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
            if status.image_present {
                "built"
            } else {
                "not built"
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

//! The environment lifecycle: build, up, shell, exec, run, stop, down, status, logs.

use super::Session;
use crate::cli::BuildFlags;
use crate::container_plan::LABEL_CONFIG;
use crate::display;
use crate::engine::{BuildOptions, BuildOutput, ContainerState, Engine, ExecSpec};
use crate::error::{Error, Result};
use crate::image_plan::ContainerUser;
use crate::plan::Plan;
use crate::profile::{MountSpec, Profile};
use std::io::IsTerminal;

fn build_options(s: &Session, flags: BuildFlags) -> BuildOptions {
    BuildOptions {
        no_cache: flags.no_cache,
        pull: flags.pull,
        verbose: s.global.verbose,
        quiet: s.global.quiet,
    }
}

async fn ensure_image(
    s: &Session,
    engine: &Engine,
    plan: &Plan,
    flags: BuildFlags,
) -> Result<BuildOutput> {
    let out = engine
        .ensure_image(&plan.image, build_options(s, flags))
        .await?;
    match out {
        BuildOutput::UpToDate => s.ui.note(format!("image {} is up to date", plan.image.tag)),
        BuildOutput::Built => s.ui.success(format!("built {}", plan.image.tag)),
    }
    Ok(out)
}

pub async fn build(s: &Session, reference: Option<&str>, flags: BuildFlags) -> Result<i32> {
    let profile = s.profile(reference)?;
    let engine = Engine::connect().await?;
    let plan = s.plan(&profile, Some(&engine)).await?;
    if ensure_image(s, &engine, &plan, flags).await? == BuildOutput::UpToDate {
        s.ui.info(format!(
            "{} is up to date (no build needed)",
            plan.image.tag
        ));
    }
    Ok(0)
}

/// Write the X11 cookie before the container starts (its bind mount needs the file).
fn prepare_start(s: &Session, plan: &Plan) -> Result<()> {
    if let Some(cookie) = &plan.container.x11_cookie {
        display::refresh_cookie(cookie)?;
        s.ui.note(format!(
            "X11 cookie for {} written to {}",
            cookie.display, cookie.host_file
        ));
    }
    Ok(())
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
async fn ensure_running(s: &Session, engine: &Engine, plan: &Plan, recreate: bool) -> Result<()> {
    let c = &plan.container;
    let wanted = c.labels.get(LABEL_CONFIG).cloned().unwrap_or_default();
    match engine.find_container(&c.name).await? {
        Some(state) if !state.is_managed() => Err(crate::engine::containers_foreign(&c.name)),
        Some(state) => {
            let current = state.labels.get(LABEL_CONFIG).cloned().unwrap_or_default();
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

async fn create_and_start(s: &Session, engine: &Engine, plan: &Plan) -> Result<()> {
    prepare_start(s, plan)?;
    let name = &plan.container.name;
    if engine.create_container(&plan.container).await? {
        engine.start_container(name).await?;
        s.ui.success(format!("created {name}"));
        return Ok(());
    }
    // Created concurrently by another robodev: use it, as long as it is robodev's. The engine
    // reserves the name before the container can be inspected, so give the winner a moment.
    for _ in 0..100 {
        match engine.find_container(name).await? {
            Some(state) if !state.is_managed() => {
                return Err(crate::engine::containers_foreign(name));
            }
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
    let engine = Engine::connect().await?;
    let plan = s.plan(&profile, Some(&engine)).await?;
    ensure_image(s, &engine, &plan, flags).await?;
    ensure_running(s, &engine, &plan, recreate).await?;
    if detach {
        s.ui.info(format!(
            "{} is running; `robodev shell` opens a shell, `robodev exec -- CMD` runs a command",
            plan.container.name
        ));
        return Ok(0);
    }
    let target = Target::new(s, &profile);
    engine
        .exec(&target.name, &target.shell_spec(&profile))
        .await
}

/// The container of (workspace, profile) and how to run things in it; needs no host probing,
/// so `exec` and `shell` still work when an optional device went away.
struct Target {
    name: String,
    user: ContainerUser,
    workdir: String,
}

fn terminal_env() -> Vec<String> {
    ["TERM", "COLORTERM", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| format!("{k}={v}")))
        .collect()
}

impl Target {
    fn new(s: &Session, profile: &Profile) -> Target {
        let host_user = crate::host::HostFacts::current_user();
        Target {
            name: s.workspace.container_name(&profile.name),
            user: ContainerUser::for_profile(profile, &host_user),
            workdir: s.workspace.mount_point(profile),
        }
    }

    fn user_spec(&self) -> String {
        format!("{}:{}", self.user.uid, self.user.gid)
    }

    fn shell_spec(&self, profile: &Profile) -> ExecSpec {
        let tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
        ExecSpec {
            cmd: vec![profile.shell.path().to_string()],
            user: self.user_spec(),
            working_dir: self.workdir.clone(),
            env: terminal_env(),
            tty,
            stdin: true,
        }
    }

    fn command_spec(&self, cmd: Vec<String>) -> ExecSpec {
        let stdin_tty = std::io::stdin().is_terminal();
        let tty = stdin_tty && std::io::stdout().is_terminal();
        let mut full = vec!["/usr/local/bin/robodev-entrypoint".to_string()];
        full.extend(cmd);
        ExecSpec {
            cmd: full,
            user: self.user_spec(),
            working_dir: self.workdir.clone(),
            env: terminal_env(),
            tty,
            // Piped input is passed on; a terminal is only read when we also drive a TTY.
            stdin: tty || !stdin_tty,
        }
    }

    async fn state(&self, engine: &Engine) -> Result<Option<ContainerState>> {
        match engine.find_container(&self.name).await? {
            Some(state) if !state.is_managed() => {
                Err(crate::engine::containers_foreign(&self.name))
            }
            other => Ok(other),
        }
    }

    /// The container, started if it was stopped; an error when there is none.
    async fn require_running(&self, s: &Session, engine: &Engine, profile: &Profile) -> Result<()> {
        match self.state(engine).await? {
            Some(state) if state.running => Ok(()),
            Some(_) => {
                let plan = s.plan(profile, Some(engine)).await?;
                prepare_start(s, &plan)?;
                engine.start_container(&self.name).await
            }
            None => Err(Error::usage_with_help(
                format!(
                    "there is no {} environment for this workspace",
                    profile.name
                ),
                format!("start one with `robodev up {} -d`", profile.name),
            )),
        }
    }
}

pub async fn shell(s: &Session, reference: Option<&str>) -> Result<i32> {
    let profile = s.profile(reference)?;
    let engine = Engine::connect().await?;
    let target = Target::new(s, &profile);
    target.require_running(s, &engine, &profile).await?;
    engine
        .exec(&target.name, &target.shell_spec(&profile))
        .await
}

pub async fn exec(s: &Session, reference: Option<&str>, cmd: Vec<String>) -> Result<i32> {
    let profile = s.profile(reference)?;
    let engine = Engine::connect().await?;
    let target = Target::new(s, &profile);
    target.require_running(s, &engine, &profile).await?;
    engine.exec(&target.name, &target.command_spec(cmd)).await
}

pub async fn run(
    s: &Session,
    reference: Option<&str>,
    flags: BuildFlags,
    cmd: Vec<String>,
) -> Result<i32> {
    let profile = s.profile(reference)?;
    let engine = Engine::connect().await?;
    let plan = s.plan(&profile, Some(&engine)).await?;
    ensure_image(s, &engine, &plan, flags).await?;
    prepare_start(s, &plan)?;
    let tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    engine.run(&plan.container, cmd, tty).await
}

pub async fn stop(s: &Session, reference: Option<&str>) -> Result<i32> {
    let profile = s.profile(reference)?;
    let engine = Engine::connect().await?;
    let target = Target::new(s, &profile);
    match target.state(&engine).await? {
        Some(state) if state.running => {
            engine.stop_container(&target.name).await?;
            s.ui.success(format!(
                "stopped {} (`robodev up` starts it again, with its changes)",
                target.name
            ));
        }
        Some(_) => s.ui.info(format!("{} is already stopped", target.name)),
        None => s.ui.info(format!(
            "there is no {} environment for this workspace",
            profile.name
        )),
    }
    Ok(0)
}

pub async fn down(s: &Session, reference: Option<&str>, volumes: bool) -> Result<i32> {
    let profile = s.profile(reference)?;
    let engine = Engine::connect().await?;
    let target = Target::new(s, &profile);
    match target.state(&engine).await? {
        Some(_) => {
            engine.remove_container(&target.name).await?;
            s.ui.success(format!(
                "removed {}; the workspace {} is untouched",
                target.name,
                s.workspace.host_path(&profile).display()
            ));
        }
        None => s.ui.info(format!(
            "there is no {} environment for this workspace",
            profile.name
        )),
    }
    let named: Vec<&str> = profile
        .mounts
        .iter()
        .filter_map(|m| match m {
            MountSpec::Volume { source, .. } => Some(source.as_str()),
            _ => None,
        })
        .collect();
    if volumes {
        for v in &named {
            engine.remove_volume(v).await?;
            s.ui.success(format!("removed volume {v}"));
        }
    } else if !named.is_empty() {
        s.ui.info(format!(
            "kept volumes {} (`robodev down --volumes` removes them)",
            named.join(", ")
        ));
    }
    Ok(0)
}

#[derive(serde::Serialize)]
struct Status {
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
    let engine = Engine::connect().await?;
    let target = Target::new(s, &profile);
    let state = target.state(&engine).await?;
    // The plan can fail on this host right now (a device unplugged, no DISPLAY): still report
    // the container, and say why it cannot be compared.
    let (image, up_to_date) = match s.plan(&profile, Some(&engine)).await {
        Ok(plan) => {
            let wanted = plan.container.labels.get(LABEL_CONFIG).cloned();
            let same = state
                .as_ref()
                .map(|c| c.labels.get(LABEL_CONFIG) == wanted.as_ref());
            (Some(plan.image.tag), same)
        }
        Err(e) => {
            s.ui.warn(format!("cannot plan the environment on this host: {e}"));
            (
                state
                    .as_ref()
                    .and_then(|c| c.labels.get(crate::container_plan::LABEL_IMAGE).cloned()),
                None,
            )
        }
    };
    let image_present = match &image {
        Some(tag) => engine.image_exists(tag).await?,
        None => false,
    };
    let status = Status {
        profile: profile.name.clone(),
        workspace: s.workspace.root.display().to_string(),
        container: target.name.clone(),
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
            "profile    {}\nworkspace  {}\ncontainer  {} ({})\nimage      {} ({})\n",
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
    let profile = s.profile(reference)?;
    let engine = Engine::connect().await?;
    let target = Target::new(s, &profile);
    if target.state(&engine).await?.is_none() {
        return Err(Error::usage(format!(
            "there is no {} environment for this workspace",
            profile.name
        )));
    }
    engine.logs(&target.name, follow, tail).await?;
    Ok(0)
}

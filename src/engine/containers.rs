//! Containers: create from a plan, find, start, stop, remove, exec, run, list, logs.

use super::connection::BollardEngine;
use super::errors::{MEDIUM, QUICK, api_error, is_not_found, limited};
use super::stdio::{self, Attached, PumpEnd};
use crate::error::{Error, Result};
use crate::plan::container::{ContainerPlan, MountKind, VolumePlan};
use crate::plan::exec::ExecSpec;
use crate::plan::labels;
use bollard::models::{
    ContainerCreateBody, DeviceMapping, DeviceRequest, HostConfig, Mount, MountType,
};
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, LogsOptions, RemoveContainerOptions,
    StopContainerOptions, WaitContainerOptions,
};
use futures_util::StreamExt;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
pub struct ContainerState {
    pub id: String,
    pub running: bool,
    pub status: String,
    pub labels: HashMap<String, String>,
    pub image: String,
}

impl ContainerState {
    pub fn is_managed(&self) -> bool {
        labels::is_managed(&self.labels)
    }
}

/// An image as the engine lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelledImage {
    pub id: String,
    pub tags: Vec<String>,
    /// `REPOSITORY@sha256:…` for each registry it was pushed to or pulled from.
    pub repo_digests: Vec<String>,
    pub labels: HashMap<String, String>,
    pub size: i64,
    pub created: i64,
}

/// What a helper container printed, and its exit code.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Captured {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Which stream a chunk of a container's output came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Stdout,
    Stderr,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ManagedContainer {
    pub name: String,
    pub profile: String,
    pub workspace: String,
    pub state: String,
    pub status: String,
    pub image: String,
}

pub fn create_body(
    plan: &ContainerPlan,
    cmd: Option<Vec<String>>,
    tty: bool,
    stdin: bool,
) -> ContainerCreateBody {
    // Every field named: a new one does not compile until the engine decides what to do with it.
    let ContainerPlan {
        // The create call's name (`create_container`); a throw-away one is named by the engine.
        name: _,
        image,
        user,
        working_dir,
        // Both are in `mounts` (the workspace's bind mount).
        workspace_host: _,
        workspace_target: _,
        env,
        labels,
        mounts,
        devices,
        device_cgroup_rules,
        group_add,
        // Their gids on this machine are in `group_add`.
        group_names: _,
        network_mode,
        ipc_mode,
        shm_size,
        privileged,
        init,
        cap_add,
        cap_drop,
        security_opt,
        gpu_requests,
        runtime,
        userns_mode,
        // Made before the container, by `ensure_volume`.
        volumes: _,
        // Written on the host before each start (`x11::refresh_cookie`); its mount is in
        // `mounts`.
        x11_cookie: _,
        // Shown when planning; the commands that create a container refuse its problems first
        // (`require_host`).
        notices: _,
        problems: _,
    } = plan;
    let mounts = mounts
        .iter()
        .map(|m| Mount {
            target: Some(m.target.clone()),
            source: (m.kind != MountKind::Tmpfs).then(|| m.source.clone()),
            typ: Some(match m.kind {
                MountKind::Bind => MountType::BIND,
                MountKind::Volume => MountType::VOLUME,
                MountKind::Tmpfs => MountType::TMPFS,
            }),
            read_only: Some(m.readonly),
            ..Default::default()
        })
        .collect();
    let devices = devices
        .iter()
        .map(|d| DeviceMapping {
            path_on_host: Some(d.host.clone()),
            path_in_container: Some(d.container.clone()),
            cgroup_permissions: Some(d.permissions.clone()),
        })
        .collect();
    let device_requests = gpu_requests
        .iter()
        .map(|g| DeviceRequest {
            driver: Some(g.driver.clone()),
            count: Some(g.count),
            device_ids: (!g.device_ids.is_empty()).then(|| g.device_ids.clone()),
            capabilities: (!g.capabilities.is_empty()).then(|| g.capabilities.clone()),
            options: None,
        })
        .collect();
    let host_config = HostConfig {
        mounts: Some(mounts),
        devices: Some(devices),
        device_cgroup_rules: Some(device_cgroup_rules.clone()),
        device_requests: Some(device_requests),
        group_add: Some(group_add.clone()),
        network_mode: Some(network_mode.clone()),
        ipc_mode: ipc_mode.clone(),
        shm_size: shm_size.map(|s| s as i64),
        privileged: Some(*privileged),
        init: Some(*init),
        cap_add: Some(cap_add.clone()),
        cap_drop: Some(cap_drop.clone()),
        security_opt: Some(security_opt.clone()),
        runtime: runtime.clone(),
        userns_mode: userns_mode.clone(),
        ..Default::default()
    };
    ContainerCreateBody {
        image: Some(image.clone()),
        user: Some(user.spec()),
        working_dir: Some(working_dir.clone()),
        env: Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        labels: Some(labels.clone().into_iter().collect()),
        cmd,
        tty: Some(tty),
        open_stdin: Some(stdin),
        stdin_once: Some(stdin),
        attach_stdin: Some(stdin),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        host_config: Some(host_config),
        ..Default::default()
    }
}

impl BollardEngine {
    pub async fn find_container(&self, name: &str) -> Result<Option<ContainerState>> {
        let action = format!("inspect container {name}");
        match limited(QUICK, &action, self.docker.inspect_container(name, None)).await? {
            Ok(c) => {
                let state = c.state.unwrap_or_default();
                let config = c.config.unwrap_or_default();
                Ok(Some(ContainerState {
                    id: c.id.unwrap_or_default(),
                    running: state.running.unwrap_or(false),
                    status: state.status.map(|s| s.to_string()).unwrap_or_default(),
                    labels: config.labels.unwrap_or_default(),
                    image: config.image.unwrap_or_default(),
                }))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(api_error(&action, e)),
        }
    }

    /// Create the planned container; `Ok(false)` when one of that name appeared meanwhile
    /// (another `robodev up` in the same workspace won the race).
    pub async fn create_container(&self, plan: &ContainerPlan) -> Result<bool> {
        let options = CreateContainerOptions {
            name: Some(plan.name.clone()),
            ..Default::default()
        };
        let action = format!("create container {}", plan.name);
        let body = create_body(plan, None, false, false);
        match limited(
            MEDIUM,
            &action,
            self.docker.create_container(Some(options), body),
        )
        .await?
        {
            Ok(_) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => Ok(false),
            Err(e) => Err(api_error(&action, e)),
        }
    }

    pub async fn start_container(&self, name: &str) -> Result<()> {
        let action = format!("start container {name}");
        limited(MEDIUM, &action, self.docker.start_container(name, None)).await?.map_err(|e| {
            let text = e.to_string();
            if text.contains("could not select device driver") && text.contains("nvidia") {
                Error::Engine {
                    action: format!("cannot start {name}"),
                    message: "the engine cannot give containers an NVIDIA GPU (no nvidia device driver)".into(),
                    help: Some(
                        "install the NVIDIA Container Toolkit and run `sudo nvidia-ctk runtime configure --runtime=docker`, \
                         restart the engine, then `robodev up`; `robodev doctor` checks it"
                            .into(),
                    ),
                }
            } else {
                api_error(&format!("start container {name}"), e)
            }
        })
    }

    pub async fn stop_container(&self, name: &str, timeout_secs: i32) -> Result<()> {
        let options = StopContainerOptions {
            t: Some(timeout_secs),
            ..Default::default()
        };
        let action = format!("stop container {name}");
        let limit = MEDIUM + std::time::Duration::from_secs(timeout_secs.max(0) as u64);
        limited(
            limit,
            &action,
            self.docker.stop_container(name, Some(options)),
        )
        .await?
        .map_err(|e| api_error(&action, e))
    }

    /// Remove the container. Bind-mounted sources (the workspace) are never touched by the
    /// engine; named volumes are removed only when the caller names them.
    pub async fn remove_container(&self, name: &str) -> Result<()> {
        let options = RemoveContainerOptions {
            force: true,
            v: false,
            ..Default::default()
        };
        self.docker
            .remove_container(name, Some(options))
            .await
            .map_err(|e| api_error(&format!("remove container {name}"), e))
    }

    async fn containers(
        &self,
        options: ListContainersOptions,
    ) -> Result<Vec<bollard::models::ContainerSummary>> {
        limited(
            QUICK,
            "list containers",
            self.docker.list_containers(Some(options)),
        )
        .await?
        .map_err(|e| api_error("list containers", e))
    }

    /// Create the planned volume with its labels, unless it exists.
    pub async fn ensure_volume(&self, volume: &VolumePlan) -> Result<()> {
        if self.volume_labels(&volume.name).await?.is_some() {
            return Ok(());
        }
        let options = bollard::models::VolumeCreateRequest {
            name: Some(volume.name.clone()),
            labels: Some(volume.labels.clone().into_iter().collect()),
            ..Default::default()
        };
        self.docker
            .create_volume(options)
            .await
            .map(|_| ())
            .map_err(|e| api_error(&format!("create volume {}", volume.name), e))
    }

    /// A volume's labels, or `None` when there is no such volume.
    pub async fn volume_labels(&self, name: &str) -> Result<Option<HashMap<String, String>>> {
        let action = format!("inspect volume {name}");
        match limited(QUICK, &action, self.docker.inspect_volume(name)).await? {
            Ok(v) => Ok(Some(v.labels)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(api_error(&action, e)),
        }
    }

    pub async fn remove_volume(&self, name: &str) -> Result<()> {
        match self
            .docker
            .remove_volume(name, None::<bollard::query_parameters::RemoveVolumeOptions>)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(api_error(&format!("remove volume {name}"), e)),
        }
    }

    pub async fn list_managed(&self) -> Result<Vec<ManagedContainer>> {
        let options = ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([(
                "label".to_string(),
                vec![format!("{}=true", labels::MANAGED)],
            )])),
            ..Default::default()
        };
        let list = self.containers(options).await?;
        let mut out: Vec<ManagedContainer> = list
            .into_iter()
            .map(|c| {
                let labels = c.labels.unwrap_or_default();
                let label = |k: &str| labels.get(k).cloned().unwrap_or_default();
                ManagedContainer {
                    name: c
                        .names
                        .and_then(|n| n.first().cloned())
                        .unwrap_or_default()
                        .trim_start_matches('/')
                        .to_string(),
                    profile: label(labels::PROFILE),
                    workspace: label(labels::WORKSPACE),
                    state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                    status: c.status.unwrap_or_default(),
                    image: c.image.unwrap_or_default(),
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Images carrying robodev's hash label (which images built `FROM` them, and `docker
    /// commit` snapshots, inherit: the caller decides which are robodev's own).
    pub async fn labelled_images(&self) -> Result<Vec<LabelledImage>> {
        let options = bollard::query_parameters::ListImagesOptions {
            filters: Some(HashMap::from([(
                "label".to_string(),
                vec![labels::HASH.to_string()],
            )])),
            ..Default::default()
        };
        let images = limited(QUICK, "list images", self.docker.list_images(Some(options)))
            .await?
            .map_err(|e| api_error("list images", e))?;
        Ok(images
            .into_iter()
            .map(|i| LabelledImage {
                id: i.id,
                tags: i
                    .repo_tags
                    .into_iter()
                    .filter(|t| t != "<none>:<none>")
                    .collect(),
                repo_digests: i.repo_digests,
                labels: i.labels,
                size: i.size,
                created: i.created,
            })
            .collect())
    }

    pub async fn remove_image(&self, reference: &str) -> Result<()> {
        self.docker
            .remove_image(
                reference,
                None::<bollard::query_parameters::RemoveImageOptions>,
                None,
            )
            .await
            .map(|_| ())
            .map_err(|e| api_error(&format!("remove image {reference}"), e))
    }

    /// Run a command in a running container; returns its exit code, or 128+N when robodev got
    /// signal N (the signal was passed on to the command first).
    pub async fn exec(&self, container: &str, spec: &ExecSpec) -> Result<i32> {
        // The Engine API cannot signal an exec'd process: mark it (and what it starts) with an
        // environment variable, so a signal can be passed on to exactly those processes.
        let marker = exec_marker();
        let mut env = spec.env.clone();
        env.push(format!("{EXEC_MARKER}={marker}"));
        let config = bollard::exec::CreateExecOptions {
            cmd: Some(spec.cmd.clone()),
            user: Some(spec.user.clone()),
            working_dir: Some(spec.working_dir.clone()),
            env: Some(env),
            tty: Some(spec.tty),
            attach_stdin: Some(spec.stdin),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let exec = self
            .docker
            .create_exec(container, config)
            .await
            .map_err(|e| api_error(&format!("run a command in {container}"), e))?;
        let started = self
            .docker
            .start_exec(
                &exec.id,
                Some(bollard::exec::StartExecOptions {
                    detach: false,
                    tty: spec.tty,
                    output_capacity: None,
                }),
            )
            .await
            .map_err(|e| api_error(&format!("run a command in {container}"), e))?;
        if let bollard::exec::StartExecResults::Attached { output, input } = started {
            let docker = self.docker.clone();
            let id = exec.id.clone();
            let resize = move |height: u16, width: u16| {
                let docker = docker.clone();
                let id = id.clone();
                async move {
                    let _ = docker
                        .resize_exec(&id, bollard::exec::ResizeExecOptions { height, width })
                        .await;
                }
            };
            let end = stdio::pump(Attached { output, input }, spec.tty, spec.stdin, resize).await?;
            if let PumpEnd::Signal(sig) = end {
                self.signal_exec(container, &exec.id, &spec.user, &marker, sig)
                    .await;
                return Ok(128 + sig);
            }
        }
        let inspect = self
            .docker
            .inspect_exec(&exec.id)
            .await
            .map_err(|e| api_error("read the command's exit code", e))?;
        Ok(inspect.exit_code.unwrap_or(0) as i32)
    }

    /// Pass signal `sig` to the processes of one exec (found by their marker), give them two
    /// seconds, then kill what is left.
    ///
    /// A process's environment (`/proc/PID/environ`) is readable only by its own user or with
    /// CAP_SYS_PTRACE, which containers do not have (`security.debug` aside): root inside
    /// cannot find an ordinary user's processes, so the search runs as the exec's own user,
    /// and as root too for what the command runs as root.
    async fn signal_exec(
        &self,
        container: &str,
        exec_id: &str,
        user: &str,
        marker: &str,
        sig: i32,
    ) {
        let searchers = killer_users(user);
        for signal in [sig, 9] {
            for searcher in &searchers {
                self.start_killer(container, searcher, &kill_script(marker, signal))
                    .await;
            }
            for _ in 0..20 {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                match self.docker.inspect_exec(exec_id).await {
                    Ok(e) if e.running == Some(true) => {}
                    _ => return,
                }
            }
        }
    }

    /// Run `script` as `user` in the container, detached: robodev is on its way out and only
    /// the effect counts (the caller watches the exec it signals).
    async fn start_killer(&self, container: &str, user: &str, script: &str) {
        let config = bollard::exec::CreateExecOptions {
            cmd: Some(vec![
                "/bin/sh".to_string(),
                "-c".to_string(),
                script.to_string(),
            ]),
            user: Some(user.to_string()),
            attach_stdout: Some(false),
            attach_stderr: Some(false),
            ..Default::default()
        };
        if let Ok(killer) = self.docker.create_exec(container, config).await {
            let _ = self
                .docker
                .start_exec(
                    &killer.id,
                    Some(bollard::exec::StartExecOptions {
                        detach: true,
                        ..Default::default()
                    }),
                )
                .await;
        }
    }

    /// A throw-away container (`plan.throwaway()`): create, attach, start, wait, remove.
    /// `stdin`: pass our stdin to the command (piped input, or a terminal with `tty`).
    /// Returns the exit code, or 128+N when robodev got signal N (passed on to the container).
    pub async fn run(
        &self,
        plan: &ContainerPlan,
        cmd: Vec<String>,
        tty: bool,
        stdin: bool,
    ) -> Result<i32> {
        self.run_image_command(plan, Some(cmd), tty, stdin).await
    }

    /// `run`, with the image's own command when `cmd` is `None`.
    pub async fn run_image_command(
        &self,
        plan: &ContainerPlan,
        cmd: Option<Vec<String>>,
        tty: bool,
        stdin: bool,
    ) -> Result<i32> {
        let created = self
            .docker
            .create_container(
                None::<CreateContainerOptions>,
                create_body(plan, cmd, tty, stdin),
            )
            .await
            .map_err(|e| api_error("create a container", e))?;
        let id = created.id;
        let result = self.run_created(&id, tty, stdin).await;
        self.discard(&id).await;
        result
    }

    async fn run_created(&self, id: &str, tty: bool, stdin: bool) -> Result<i32> {
        let attach = bollard::query_parameters::AttachContainerOptions {
            stdin,
            stdout: true,
            stderr: true,
            stream: true,
            logs: false,
            ..Default::default()
        };
        let attached = self
            .docker
            .attach_container(id, Some(attach))
            .await
            .map_err(|e| api_error("attach to the container", e))?;
        self.start_container(id).await?;
        let docker = self.docker.clone();
        let cid = id.to_string();
        let resize = move |height: u16, width: u16| {
            let docker = docker.clone();
            let cid = cid.clone();
            async move {
                let _ = docker
                    .resize_container_tty(
                        &cid,
                        bollard::query_parameters::ResizeContainerTTYOptions {
                            h: height as i32,
                            w: width as i32,
                        },
                    )
                    .await;
            }
        };
        let end = stdio::pump(
            Attached {
                output: attached.output,
                input: attached.input,
            },
            tty,
            stdin,
            resize,
        )
        .await?;
        if let PumpEnd::Signal(sig) = end {
            // docker-init (`init: true`) passes it on to the command; the caller removes the
            // container whatever happens.
            let _ = self
                .docker
                .kill_container(
                    id,
                    Some(bollard::query_parameters::KillContainerOptions {
                        signal: sig.to_string(),
                    }),
                )
                .await;
            let mut wait = self.docker.wait_container(
                id,
                Some(WaitContainerOptions {
                    condition: "not-running".into(),
                }),
            );
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), wait.next()).await;
            return Ok(128 + sig);
        }
        self.exit_code(id, "wait for the container").await
    }

    /// Remove a throw-away container whatever state it is in; a failure changes nothing for the
    /// caller (the container is labelled as a run, not an environment).
    async fn discard(&self, id: &str) {
        let options = RemoveContainerOptions {
            force: true,
            ..Default::default()
        };
        let _ = self.docker.remove_container(id, Some(options)).await;
    }

    /// Wait until the container stops; its exit code.
    async fn exit_code(&self, id: &str, action: &str) -> Result<i32> {
        let mut wait = self.docker.wait_container(
            id,
            Some(WaitContainerOptions {
                condition: "not-running".into(),
            }),
        );
        let code = match wait.next().await {
            Some(Ok(r)) => r.status_code,
            // bollard reports a non-zero exit as an error carrying the code.
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
            Some(Err(e)) => return Err(api_error(action, e)),
            None => 0,
        };
        Ok(code as i32)
    }

    /// A throw-away container of robodev's own whose output robodev reads: create, start,
    /// wait, read the log, remove. Returns the exit code and the output.
    pub async fn run_captured(&self, plan: &ContainerPlan, cmd: Vec<String>) -> Result<Captured> {
        let action = "run robodev's helper container";
        let created = limited(
            MEDIUM,
            action,
            self.docker.create_container(
                None::<CreateContainerOptions>,
                create_body(plan, Some(cmd), false, false),
            ),
        )
        .await?
        .map_err(|e| api_error(action, e))?;
        let id = created.id;
        let result = self.captured_output(&id).await;
        self.discard(&id).await;
        result
    }

    async fn captured_output(&self, id: &str) -> Result<Captured> {
        self.start_container(id).await?;
        let code = self
            .exit_code(id, "wait for robodev's helper container")
            .await?;
        let mut out = Captured {
            code,
            ..Default::default()
        };
        let mut sink = |stream: Output, bytes: &[u8]| {
            let text = String::from_utf8_lossy(bytes);
            match stream {
                Output::Stdout => out.stdout.push_str(&text),
                Output::Stderr => out.stderr.push_str(&text),
            }
        };
        self.logs(id, false, None, &mut sink).await?;
        Ok(out)
    }

    /// The container's log, chunk by chunk, to `sink`.
    pub async fn logs(
        &self,
        name: &str,
        follow: bool,
        tail: Option<String>,
        sink: &mut dyn FnMut(Output, &[u8]),
    ) -> Result<()> {
        let options = LogsOptions {
            follow,
            stdout: true,
            stderr: true,
            tail: tail.unwrap_or_else(|| "all".into()),
            ..Default::default()
        };
        let mut stream = self.docker.logs(name, Some(options));
        while let Some(item) = stream.next().await {
            match item.map_err(|e| api_error(&format!("read the logs of {name}"), e))? {
                bollard::container::LogOutput::StdErr { message } => sink(Output::Stderr, &message),
                other => sink(Output::Stdout, &other.into_bytes()),
            }
        }
        Ok(())
    }
}

impl BollardEngine {
    /// The image (as named at creation) of every container, robodev's or not.
    /// Every container's name (without the slash), by the id of the image it runs.
    pub async fn containers_by_image(&self) -> Result<HashMap<String, Vec<String>>> {
        let options = ListContainersOptions {
            all: true,
            ..Default::default()
        };
        let mut by_image: HashMap<String, Vec<String>> = HashMap::new();
        for c in self.containers(options).await? {
            let name = c
                .names
                .and_then(|n| n.into_iter().next())
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_else(|| c.id.clone().unwrap_or_default());
            if let Some(image) = c.image_id {
                by_image.entry(image).or_default().push(name);
            }
        }
        Ok(by_image)
    }

    pub async fn all_container_images(&self) -> Result<Vec<String>> {
        let options = ListContainersOptions {
            all: true,
            ..Default::default()
        };
        let list = self.containers(options).await?;
        Ok(list.into_iter().filter_map(|c| c.image).collect())
    }
}

/// The environment variable that marks the processes of one `exec`.
const EXEC_MARKER: &str = "ROBODEV_EXEC";

/// Who looks for an exec's processes to signal them: the exec's own user (the only one, short
/// of CAP_SYS_PTRACE, who can read their environment), then root for processes the command
/// started as root. Root alone when the exec is root's.
fn killer_users(exec_user: &str) -> Vec<String> {
    let uid = exec_user.split(':').next().unwrap_or_default();
    if uid.is_empty() || uid == "0" || uid == "root" {
        vec!["0:0".to_string()]
    } else {
        vec![exec_user.to_string(), "0:0".to_string()]
    }
}

/// A shell script sending `signal` to every process whose environment holds `marker`.
fn kill_script(marker: &str, signal: i32) -> String {
    format!(
        "for d in /proc/[0-9]*; do tr '\\0' '\\n' < \"$d/environ\" 2>/dev/null \
         | grep -qx '{EXEC_MARKER}={marker}' && kill -{signal} \"${{d#/proc/}}\" 2>/dev/null; done; exit 0"
    )
}

/// Unique enough on one engine: our pid and the time.
fn exec_marker() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Item 13: an ordinary user's processes are searched for as that user (root inside
    /// cannot read their environment), then as root; root's as root alone.
    #[test]
    fn an_exec_is_signalled_by_its_own_user_then_root() {
        assert_eq!(killer_users("1611:1611"), ["1611:1611", "0:0"]);
        assert_eq!(killer_users("0:0"), ["0:0"]);
        assert_eq!(killer_users("root"), ["0:0"]);
    }
}

//! A fake engine: the engine seam's traits over an in-memory state, so the command layer runs
//! as a user runs it (`robodev::run_with_engine` with the CLI's arguments) without a daemon.
//! It records every call that changes something; tests assert on the calls and the state.

use async_trait::async_trait;
use robodev::engine::{
    ArchiveStream, BuildOptions, BuildOutput, BuildWatcher, Captured, ContainerState, Engine,
    HistoryEntry, ImageIdentity, ImageStore, LabelledImage, ManagedContainer, Output, Runtime,
    TransferWatcher,
};
use robodev::error::{Error, Result};
use robodev::facts::EngineFacts;
use robodev::facts::credentials::RegistryAuth;
use robodev::facts::endpoint::{Endpoint, Transport};
use robodev::facts::host::HostUser;
use robodev::plan::container::{ContainerPlan, VolumePlan};
use robodev::plan::exec::ExecSpec;
use robodev::plan::image::ImagePlan;
use robodev::plan::labels;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Default)]
pub struct FakeImage {
    pub id: String,
    pub tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub labels: HashMap<String, String>,
    pub platform: String,
}

#[derive(Clone, Debug, Default)]
pub struct FakeContainer {
    pub id: String,
    pub running: bool,
    pub status: String,
    pub labels: HashMap<String, String>,
    pub image: String,
}

/// Another robodev's `down`, timed against this one's calls on the container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConcurrentDown {
    /// Right after the next look at the container: what was seen is gone.
    AfterLook,
    /// Right after the next start: the start succeeded, then the container is gone.
    AfterStart,
    /// During the next start: the engine refuses it ("marked for removal"); the next look
    /// finds the container `removing`, the one after finds nothing.
    DuringStart,
}

#[derive(Debug, Default)]
pub struct FakeState {
    pub images: Vec<FakeImage>,
    pub containers: BTreeMap<String, FakeContainer>,
    pub volumes: BTreeMap<String, HashMap<String, String>>,
    /// What a registry holds: `REPOSITORY@sha256:…` or `REPOSITORY:TAG` → the image.
    pub registry: BTreeMap<String, FakeImage>,
    /// Every call that changed something, in order: `build TAG`, `create NAME`, …
    pub calls: Vec<String>,
    /// The next create finds the name taken by a robodev container another process made.
    pub lose_next_create_race: bool,
    /// `down`s another robodev runs meanwhile, the first one next.
    pub concurrent_downs: VecDeque<ConcurrentDown>,
    /// What `load_archive` says it loaded.
    pub load_answer: Vec<String>,
    /// The images `load_archive` puts on the engine once it has read the archive whole.
    pub load_adds: Vec<FakeImage>,
    pub facts: EngineFacts,
    next_id: u64,
}

impl FakeState {
    /// Unique across every fake engine of the process, as real image ids are across engines.
    fn new_id(&mut self) -> String {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        self.next_id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("sha256:{:064x}", self.next_id)
    }

    fn image(&self, reference: &str) -> Option<&FakeImage> {
        self.images.iter().find(|i| {
            i.id == reference
                || i.tags.iter().any(|t| t == reference)
                || i.repo_digests.iter().any(|d| d == reference)
        })
    }

    pub fn calls_starting(&self, prefix: &str) -> Vec<String> {
        self.calls
            .iter()
            .filter(|c| c.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// An image built by robodev for `hash` (labels as a build gives them), named `tag`.
    pub fn add_image(&mut self, tag: &str, labels: &[(&str, &str)]) -> String {
        let id = self.new_id();
        self.images.push(FakeImage {
            id: id.clone(),
            tags: vec![tag.to_string()],
            repo_digests: vec![],
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            platform: "linux/amd64".into(),
        });
        id
    }
}

/// The fake, and a handle on its state the test keeps.
#[derive(Clone)]
pub struct FakeEngine {
    pub state: Arc<Mutex<FakeState>>,
    endpoint: Endpoint,
}

impl FakeEngine {
    pub fn new() -> FakeEngine {
        let state = FakeState {
            facts: EngineFacts {
                server_version: "fake".into(),
                api_version: "1.45".into(),
                platform: "linux/amd64".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        FakeEngine {
            state: Arc::new(Mutex::new(state)),
            endpoint: Endpoint {
                url: robodev::facts::endpoint::DEFAULT_SOCKET.into(),
                transport: Transport::Unix,
                chosen_by: "the fake engine".into(),
                tls: None,
            },
        }
    }

    /// A fake reached at `url` (`ssh://robot`: an engine on another machine).
    pub fn at(url: &str, transport: Transport) -> FakeEngine {
        let mut engine = FakeEngine::new();
        engine.endpoint = Endpoint {
            url: url.into(),
            transport,
            chosen_by: "the fake engine".into(),
            tls: None,
        };
        engine
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().unwrap()
    }

    fn call(&self, what: String) {
        self.state().calls.push(what);
    }
}

fn engine_error(action: &str, message: &str) -> Error {
    Error::Engine {
        action: format!("cannot {action}"),
        message: message.into(),
        help: None,
    }
}

impl Engine for FakeEngine {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
    fn remote_user(&self) -> Option<&HostUser> {
        None
    }
}

#[async_trait(?Send)]
impl Runtime for FakeEngine {
    async fn facts(&self) -> Result<EngineFacts> {
        Ok(self.state().facts.clone())
    }

    async fn find_container(&self, name: &str) -> Result<Option<ContainerState>> {
        let mut state = self.state();
        let seen = state.containers.get(name).map(|c| ContainerState {
            id: c.id.clone(),
            running: c.running,
            status: c.status.clone(),
            labels: c.labels.clone(),
            image: c.image.clone(),
        });
        let down_now = state.concurrent_downs.front() == Some(&ConcurrentDown::AfterLook);
        let removal_done = seen.as_ref().is_some_and(|c| c.status == "removing");
        if seen.is_some() && down_now {
            state.concurrent_downs.pop_front();
        }
        if seen.is_some() && (down_now || removal_done) {
            state.containers.remove(name);
        }
        Ok(seen)
    }

    async fn create_container(&self, plan: &ContainerPlan) -> Result<bool> {
        let mut state = self.state();
        state.calls.push(format!("create {}", plan.name));
        let id = state.new_id();
        let labels: HashMap<String, String> = plan
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if std::mem::take(&mut state.lose_next_create_race) {
            // Another robodev created (and started) it between our look and our create.
            state.containers.insert(
                plan.name.clone(),
                FakeContainer {
                    id,
                    running: true,
                    status: "running".into(),
                    labels,
                    image: plan.image.clone(),
                },
            );
            return Ok(false);
        }
        if state.containers.contains_key(&plan.name) {
            return Ok(false);
        }
        if state.image(&plan.image).is_none() {
            return Err(engine_error(
                &format!("create container {}", plan.name),
                &format!("No such image: {}", plan.image),
            ));
        }
        state.containers.insert(
            plan.name.clone(),
            FakeContainer {
                id,
                running: false,
                status: "created".into(),
                labels,
                image: plan.image.clone(),
            },
        );
        Ok(true)
    }

    async fn start_container(&self, name: &str) -> Result<()> {
        let mut state = self.state();
        state.calls.push(format!("start {name}"));
        let down = match state.concurrent_downs.front() {
            Some(ConcurrentDown::AfterStart | ConcurrentDown::DuringStart) => {
                state.concurrent_downs.pop_front()
            }
            _ => None,
        };
        let c = state
            .containers
            .get_mut(name)
            .ok_or_else(|| engine_error(&format!("start container {name}"), "no such container"))?;
        if down == Some(ConcurrentDown::DuringStart) {
            c.running = false;
            c.status = "removing".into();
            return Err(engine_error(
                &format!("start container {name}"),
                "container is marked for removal and cannot be started",
            ));
        }
        c.running = true;
        c.status = "running".into();
        if down == Some(ConcurrentDown::AfterStart) {
            state.containers.remove(name);
        }
        Ok(())
    }

    async fn stop_container(&self, name: &str, _timeout_secs: i32) -> Result<()> {
        let mut state = self.state();
        state.calls.push(format!("stop {name}"));
        if let Some(c) = state.containers.get_mut(name) {
            c.running = false;
            c.status = "exited".into();
        }
        Ok(())
    }

    async fn remove_container(&self, name: &str) -> Result<()> {
        let mut state = self.state();
        state.calls.push(format!("remove {name}"));
        state.containers.remove(name);
        Ok(())
    }

    async fn list_managed(&self) -> Result<Vec<ManagedContainer>> {
        let state = self.state();
        Ok(state
            .containers
            .iter()
            .filter(|(_, c)| labels::is_managed(&c.labels))
            .map(|(name, c)| {
                let label = |k: &str| c.labels.get(k).cloned().unwrap_or_default();
                ManagedContainer {
                    name: name.clone(),
                    profile: label(labels::PROFILE),
                    workspace: label(labels::WORKSPACE),
                    state: c.status.clone(),
                    status: c.status.clone(),
                    image: c.image.clone(),
                }
            })
            .collect())
    }

    async fn containers_by_image(&self) -> Result<HashMap<String, Vec<String>>> {
        let state = self.state();
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for (name, c) in &state.containers {
            if let Some(image) = state.image(&c.image) {
                out.entry(image.id.clone()).or_default().push(name.clone());
            }
        }
        Ok(out)
    }

    async fn all_container_images(&self) -> Result<Vec<String>> {
        Ok(self
            .state()
            .containers
            .values()
            .map(|c| c.image.clone())
            .collect())
    }

    async fn ensure_volume(&self, volume: &VolumePlan) -> Result<()> {
        let mut state = self.state();
        if !state.volumes.contains_key(&volume.name) {
            state.calls.push(format!("volume {}", volume.name));
            let labels = volume
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            state.volumes.insert(volume.name.clone(), labels);
        }
        Ok(())
    }

    async fn volume_labels(&self, name: &str) -> Result<Option<HashMap<String, String>>> {
        Ok(self.state().volumes.get(name).cloned())
    }

    async fn remove_volume(&self, name: &str) -> Result<()> {
        let mut state = self.state();
        state.calls.push(format!("remove volume {name}"));
        state.volumes.remove(name);
        Ok(())
    }

    async fn exec(&self, container: &str, spec: &ExecSpec) -> Result<i32> {
        self.call(format!("exec {container} {}", spec.cmd.join(" ")));
        Ok(0)
    }

    async fn exec_quiet(&self, container: &str, _user: &str, cmd: Vec<String>) -> Result<i64> {
        self.call(format!("exec {container} {}", cmd.join(" ")));
        Ok(0)
    }

    async fn run(
        &self,
        plan: &ContainerPlan,
        cmd: Vec<String>,
        _tty: bool,
        _stdin: bool,
    ) -> Result<i32> {
        self.call(format!("run {} {}", plan.image, cmd.join(" ")));
        Ok(0)
    }

    async fn run_image_command(
        &self,
        plan: &ContainerPlan,
        cmd: Option<Vec<String>>,
        _tty: bool,
        _stdin: bool,
    ) -> Result<i32> {
        self.call(format!(
            "run {} {}",
            plan.image,
            cmd.unwrap_or_default().join(" ")
        ));
        Ok(0)
    }

    async fn run_captured(&self, plan: &ContainerPlan, cmd: Vec<String>) -> Result<Captured> {
        self.call(format!("run {} {}", plan.image, cmd.join(" ")));
        Ok(Captured::default())
    }

    async fn logs(
        &self,
        _name: &str,
        _follow: bool,
        _tail: Option<String>,
        _sink: &mut dyn for<'b> FnMut(Output, &'b [u8]),
    ) -> Result<()> {
        Ok(())
    }

    async fn upload(&self, container: &str, dest: &str, _archive: Vec<u8>) -> Result<()> {
        self.call(format!("upload {container} {dest}"));
        Ok(())
    }

    async fn download(&self, _container: &str, _path: &str) -> Result<Vec<u8>> {
        Ok(Vec::new())
    }
}

#[async_trait(?Send)]
impl ImageStore for FakeEngine {
    async fn image_exists(&self, tag: &str) -> Result<bool> {
        Ok(self.state().image(tag).is_some())
    }

    async fn build_image(
        &self,
        plan: &ImagePlan,
        opts: BuildOptions,
        watcher: &mut dyn BuildWatcher,
    ) -> Result<BuildOutput> {
        if !opts.no_cache && !opts.pull && self.state().image(&plan.tag).is_some() {
            return Ok(BuildOutput::UpToDate);
        }
        watcher.start(&plan.tag);
        watcher.step("1/1", "FROM fake");
        watcher.finish();
        let mut state = self.state();
        state.calls.push(format!("build {}", plan.tag));
        let id = state.new_id();
        for image in &mut state.images {
            image.tags.retain(|t| t != &plan.tag);
        }
        state.images.push(FakeImage {
            id,
            tags: vec![plan.tag.clone()],
            repo_digests: vec![],
            labels: plan
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            platform: plan.platform.clone().unwrap_or("linux/amd64".into()),
        });
        Ok(BuildOutput::Built)
    }

    async fn push(
        &self,
        repository: &str,
        tag: &str,
        _auth: Option<&RegistryAuth>,
        _watcher: &mut dyn TransferWatcher,
    ) -> Result<String> {
        let mut state = self.state();
        state.calls.push(format!("push {repository}:{tag}"));
        let reference = format!("{repository}:{tag}");
        let mut image = state
            .image(&reference)
            .cloned()
            .ok_or_else(|| engine_error(&format!("push {reference}"), "no such image"))?;
        let digest = format!("sha256:{}", &image.id["sha256:".len()..].replace('0', "d"));
        let pinned = format!("{repository}@{digest}");
        if let Some(local) = state.images.iter_mut().find(|i| i.id == image.id) {
            local.repo_digests.push(pinned.clone());
        }
        image.repo_digests = vec![pinned.clone()];
        state.registry.insert(reference, image.clone());
        state.registry.insert(pinned, image);
        Ok(digest)
    }

    async fn pull(
        &self,
        repository: &str,
        reference: &str,
        _platform: Option<&str>,
        _auth: Option<&RegistryAuth>,
        _watcher: &mut dyn TransferWatcher,
    ) -> Result<()> {
        let full = if reference.starts_with("sha256:") {
            format!("{repository}@{reference}")
        } else {
            format!("{repository}:{reference}")
        };
        let mut state = self.state();
        state.calls.push(format!("pull {full}"));
        let image = state
            .registry
            .get(&full)
            .cloned()
            .ok_or_else(|| Error::Registry {
                problem: robodev::error::RegistryProblem::Missing,
                action: format!("cannot pull {full}"),
                message: "manifest unknown".into(),
                help: None,
            })?;
        if state.image(&image.id).is_none() {
            state.images.push(FakeImage {
                tags: vec![],
                ..image.clone()
            });
        }
        if let Some(local) = state.images.iter_mut().find(|i| i.id == image.id)
            && !reference.starts_with("sha256:")
        {
            local.tags.push(full);
        }
        Ok(())
    }

    async fn registry_digest(
        &self,
        reference: &str,
        _auth: Option<&RegistryAuth>,
    ) -> Result<String> {
        let state = self.state();
        state
            .registry
            .get(reference)
            .and_then(|i| i.repo_digests.first())
            .and_then(|d| d.split_once('@'))
            .map(|(_, d)| d.to_string())
            .ok_or_else(|| Error::Registry {
                problem: robodev::error::RegistryProblem::Missing,
                action: format!("cannot look up {reference}"),
                message: "manifest unknown".into(),
                help: None,
            })
    }

    async fn tag_image(&self, image: &str, repository: &str, tag: &str) -> Result<()> {
        let mut state = self.state();
        state.calls.push(format!("tag {image} {repository}:{tag}"));
        let name = format!("{repository}:{tag}");
        let id = state
            .image(image)
            .map(|i| i.id.clone())
            .ok_or_else(|| engine_error(&format!("tag {image}"), "no such image"))?;
        for other in &mut state.images {
            other.tags.retain(|t| t != &name);
        }
        if let Some(i) = state.images.iter_mut().find(|i| i.id == id) {
            i.tags.push(name);
        }
        Ok(())
    }

    async fn image_platform(&self, image: &str) -> Result<Option<String>> {
        Ok(self.state().image(image).map(|i| i.platform.clone()))
    }

    async fn identity(&self, image: &str) -> Result<Option<ImageIdentity>> {
        Ok(self.state().image(image).map(|i| ImageIdentity {
            id: i.id.clone(),
            labels: i.labels.clone(),
            repo_digests: i.repo_digests.clone(),
            tags: i.tags.clone(),
            size: 1000,
            created: "2026-12-01T00:00:00Z".into(),
        }))
    }

    async fn labelled_images(&self) -> Result<Vec<LabelledImage>> {
        Ok(self
            .state()
            .images
            .iter()
            .filter(|i| i.labels.contains_key(labels::HASH))
            .map(|i| LabelledImage {
                id: i.id.clone(),
                tags: i.tags.clone(),
                repo_digests: i.repo_digests.clone(),
                labels: i.labels.clone(),
                size: 1000,
                created: 0,
            })
            .collect())
    }

    async fn remove_image(&self, reference: &str) -> Result<()> {
        let mut state = self.state();
        state.calls.push(format!("remove image {reference}"));
        let Some(id) = state.image(reference).map(|i| i.id.clone()) else {
            return Err(engine_error(
                &format!("remove image {reference}"),
                "no such image",
            ));
        };
        let by_tag = reference != id;
        let image = state.images.iter_mut().find(|i| i.id == id);
        if let Some(image) = image
            && by_tag
            && image.tags.len() > 1
        {
            image.tags.retain(|t| t != reference);
            return Ok(());
        }
        state.images.retain(|i| i.id != id);
        Ok(())
    }

    async fn history(&self, _image: &str) -> Result<Vec<HistoryEntry>> {
        Ok(Vec::new())
    }

    async fn export_image(
        &self,
        _id: &str,
        _sink: &mut dyn for<'b> FnMut(&'b [u8]) -> Result<()>,
    ) -> Result<u64> {
        Ok(0)
    }

    async fn load_archive(&self, body: ArchiveStream) -> Result<Vec<String>> {
        use futures_util::StreamExt;
        self.call("load".into());
        let mut body = body;
        while let Some(chunk) = body.next().await {
            chunk.map_err(|e| engine_error("load the image archive", &e.to_string()))?;
        }
        let mut state = self.state();
        let added = std::mem::take(&mut state.load_adds);
        state.images.extend(added);
        Ok(state.load_answer.clone())
    }
}

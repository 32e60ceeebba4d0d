//! The engine seam: what the commands may ask of an engine, as two traits — a **runtime**
//! (containers, volumes, exec, logs, files, the engine's facts) and an **image store / builder**
//! (build, push, pull, tag, identity, history, save, load) — and `Engine`, both together with
//! where the engine is. Commands see only `&dyn Engine`; the session connects once and hands
//! it to them.
//!
//! The bollard implementation (`BollardEngine`) is the first one; the differences between
//! Docker's graph-driver store, Docker's containerd store and Podman are decided inside it,
//! from the engine's facts (`facts::EngineFacts::store`), never in a command. A BuildKit
//! builder goes beside the classic one behind `ImageStore::build_image`; a Kubernetes runtime
//! would be a second implementation of `Runtime`. `tests/hermetic` drives the command layer
//! through a fake implementation of the same traits.

use super::build::{BuildOptions, BuildOutput, BuildWatcher};
use super::build_cache::BuildCacheUsage;
use super::connection::BollardEngine;
use super::containers::{Captured, ContainerState, LabelledImage, ManagedContainer, Output};
use super::history::HistoryEntry;
use super::registry::{ImageIdentity, TransferWatcher};
use crate::error::Result;
use crate::facts::EngineFacts;
use crate::facts::credentials::RegistryAuth;
use crate::facts::endpoint::Endpoint;
use crate::facts::host::HostUser;
use crate::plan::container::{ContainerPlan, VolumePlan};
use crate::plan::exec::ExecSpec;
use crate::plan::image::ImagePlan;
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use std::collections::HashMap;

/// An image archive on its way to the engine, chunk by chunk.
pub type ArchiveStream = BoxStream<'static, std::result::Result<Bytes, std::io::Error>>;

/// Containers and what runs in them.
#[async_trait(?Send)]
pub trait Runtime {
    /// What the engine says about itself: kind (Docker or Podman, its image store), version,
    /// runtimes, CDI, platform.
    async fn facts(&self) -> Result<EngineFacts>;
    async fn find_container(&self, name: &str) -> Result<Option<ContainerState>>;
    /// Create the plan's container; `false` when one of that name appeared meanwhile (another
    /// robodev created it: the caller uses that one).
    async fn create_container(&self, plan: &ContainerPlan) -> Result<bool>;
    async fn start_container(&self, name: &str) -> Result<()>;
    async fn stop_container(&self, name: &str, timeout_secs: i32) -> Result<()>;
    async fn remove_container(&self, name: &str) -> Result<()>;
    /// robodev's containers, by their labels.
    async fn list_managed(&self) -> Result<Vec<ManagedContainer>>;
    /// Image id → names of the containers (any, robodev's or not) that use it.
    async fn containers_by_image(&self) -> Result<HashMap<String, Vec<String>>>;
    /// The image (as each container names it) of every container on the engine.
    async fn all_container_images(&self) -> Result<Vec<String>>;
    async fn ensure_volume(&self, volume: &VolumePlan) -> Result<()>;
    async fn volume_labels(&self, name: &str) -> Result<Option<HashMap<String, String>>>;
    async fn remove_volume(&self, name: &str) -> Result<()>;
    /// Run a process in a running container, attached to this terminal; its exit code.
    async fn exec(&self, container: &str, spec: &ExecSpec) -> Result<i32>;
    /// Run a process without a terminal, its output discarded; its exit code.
    async fn exec_quiet(&self, container: &str, user: &str, cmd: Vec<String>) -> Result<i64>;
    /// A throw-away container of the plan running `cmd`, attached; its exit code.
    async fn run(
        &self,
        plan: &ContainerPlan,
        cmd: Vec<String>,
        tty: bool,
        stdin: bool,
    ) -> Result<i32>;
    /// The same with the image's own command when `cmd` is `None`.
    async fn run_image_command(
        &self,
        plan: &ContainerPlan,
        cmd: Option<Vec<String>>,
        tty: bool,
        stdin: bool,
    ) -> Result<i32>;
    /// A throw-away container whose output is kept.
    async fn run_captured(&self, plan: &ContainerPlan, cmd: Vec<String>) -> Result<Captured>;
    async fn logs(
        &self,
        name: &str,
        follow: bool,
        tail: Option<String>,
        sink: &mut dyn for<'b> FnMut(Output, &'b [u8]),
    ) -> Result<()>;
    /// Unpack a tar archive into the container at `dest`.
    async fn upload(&self, container: &str, dest: &str, archive: Vec<u8>) -> Result<()>;
    /// A tar archive of `path` in the container.
    async fn download(&self, container: &str, path: &str) -> Result<Vec<u8>>;
}

/// Images: build, move, name, describe, save and load them.
#[async_trait(?Send)]
pub trait ImageStore {
    async fn image_exists(&self, tag: &str) -> Result<bool>;
    /// Build unless an image with the plan's tag exists (then make no build call at all).
    async fn build_image(
        &self,
        plan: &ImagePlan,
        opts: BuildOptions,
        watcher: &mut dyn BuildWatcher,
    ) -> Result<BuildOutput>;
    /// Push `repository:tag`; the digest the registry stores for it.
    async fn push(
        &self,
        repository: &str,
        tag: &str,
        auth: Option<&RegistryAuth>,
        watcher: &mut dyn TransferWatcher,
    ) -> Result<String>;
    async fn pull(
        &self,
        repository: &str,
        reference: &str,
        platform: Option<&str>,
        auth: Option<&RegistryAuth>,
        watcher: &mut dyn TransferWatcher,
    ) -> Result<()>;
    /// The digest the registry gives `reference` now.
    async fn registry_digest(&self, reference: &str, auth: Option<&RegistryAuth>)
    -> Result<String>;
    async fn tag_image(&self, image: &str, repository: &str, tag: &str) -> Result<()>;
    async fn image_platform(&self, image: &str) -> Result<Option<String>>;
    async fn identity(&self, image: &str) -> Result<Option<ImageIdentity>>;
    /// Images carrying robodev's labels.
    async fn labelled_images(&self) -> Result<Vec<LabelledImage>>;
    async fn remove_image(&self, reference: &str) -> Result<()>;
    /// The image's layers, newest first, one entry per Dockerfile instruction.
    async fn history(&self, image: &str) -> Result<Vec<HistoryEntry>>;
    /// Stream the archive of image `id` (what `docker save` writes) into `sink`.
    async fn export_image(
        &self,
        id: &str,
        sink: &mut dyn for<'b> FnMut(&'b [u8]) -> Result<()>,
    ) -> Result<u64>;
    /// Load an archive; the ids the engine says it loaded (possibly none: Podman says names).
    async fn load_archive(&self, body: ArchiveStream) -> Result<Vec<String>>;
    /// robodev's cache mounts in the engine's BuildKit cache (none where there is no BuildKit).
    async fn build_cache(&self) -> Result<BuildCacheUsage> {
        Ok(BuildCacheUsage::default())
    }
    /// Prune these build-cache records; the bytes reclaimed.
    async fn prune_build_cache(&self, _ids: &[String]) -> Result<u64> {
        Ok(0)
    }
}

/// An engine: its runtime and its image store, and where it is.
pub trait Engine: Runtime + ImageStore {
    fn endpoint(&self) -> &Endpoint;
    /// Whether the engine runs on this machine: only then do this machine's facts describe it.
    fn is_local(&self) -> bool {
        self.endpoint().is_local()
    }
    /// The user the engine's machine knows us as, when known (over ssh).
    fn remote_user(&self) -> Option<&HostUser>;
}

impl Engine for BollardEngine {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
    fn remote_user(&self) -> Option<&HostUser> {
        BollardEngine::remote_user(self)
    }
}

#[async_trait(?Send)]
impl Runtime for BollardEngine {
    async fn facts(&self) -> Result<EngineFacts> {
        BollardEngine::facts(self).await
    }
    async fn find_container(&self, name: &str) -> Result<Option<ContainerState>> {
        BollardEngine::find_container(self, name).await
    }
    async fn create_container(&self, plan: &ContainerPlan) -> Result<bool> {
        BollardEngine::create_container(self, plan).await
    }
    async fn start_container(&self, name: &str) -> Result<()> {
        BollardEngine::start_container(self, name).await
    }
    async fn stop_container(&self, name: &str, timeout_secs: i32) -> Result<()> {
        BollardEngine::stop_container(self, name, timeout_secs).await
    }
    async fn remove_container(&self, name: &str) -> Result<()> {
        BollardEngine::remove_container(self, name).await
    }
    async fn list_managed(&self) -> Result<Vec<ManagedContainer>> {
        BollardEngine::list_managed(self).await
    }
    async fn containers_by_image(&self) -> Result<HashMap<String, Vec<String>>> {
        BollardEngine::containers_by_image(self).await
    }
    async fn all_container_images(&self) -> Result<Vec<String>> {
        BollardEngine::all_container_images(self).await
    }
    async fn ensure_volume(&self, volume: &VolumePlan) -> Result<()> {
        BollardEngine::ensure_volume(self, volume).await
    }
    async fn volume_labels(&self, name: &str) -> Result<Option<HashMap<String, String>>> {
        BollardEngine::volume_labels(self, name).await
    }
    async fn remove_volume(&self, name: &str) -> Result<()> {
        BollardEngine::remove_volume(self, name).await
    }
    async fn exec(&self, container: &str, spec: &ExecSpec) -> Result<i32> {
        BollardEngine::exec(self, container, spec).await
    }
    async fn exec_quiet(&self, container: &str, user: &str, cmd: Vec<String>) -> Result<i64> {
        BollardEngine::exec_quiet(self, container, user, cmd).await
    }
    async fn run(
        &self,
        plan: &ContainerPlan,
        cmd: Vec<String>,
        tty: bool,
        stdin: bool,
    ) -> Result<i32> {
        BollardEngine::run(self, plan, cmd, tty, stdin).await
    }
    async fn run_image_command(
        &self,
        plan: &ContainerPlan,
        cmd: Option<Vec<String>>,
        tty: bool,
        stdin: bool,
    ) -> Result<i32> {
        BollardEngine::run_image_command(self, plan, cmd, tty, stdin).await
    }
    async fn run_captured(&self, plan: &ContainerPlan, cmd: Vec<String>) -> Result<Captured> {
        BollardEngine::run_captured(self, plan, cmd).await
    }
    async fn logs(
        &self,
        name: &str,
        follow: bool,
        tail: Option<String>,
        sink: &mut dyn for<'b> FnMut(Output, &'b [u8]),
    ) -> Result<()> {
        BollardEngine::logs(self, name, follow, tail, sink).await
    }
    async fn upload(&self, container: &str, dest: &str, archive: Vec<u8>) -> Result<()> {
        BollardEngine::upload(self, container, dest, archive).await
    }
    async fn download(&self, container: &str, path: &str) -> Result<Vec<u8>> {
        BollardEngine::download(self, container, path).await
    }
}

#[async_trait(?Send)]
impl ImageStore for BollardEngine {
    async fn image_exists(&self, tag: &str) -> Result<bool> {
        BollardEngine::image_exists(self, tag).await
    }
    async fn build_image(
        &self,
        plan: &ImagePlan,
        opts: BuildOptions,
        watcher: &mut dyn BuildWatcher,
    ) -> Result<BuildOutput> {
        BollardEngine::ensure_image(self, plan, opts, watcher).await
    }
    async fn push(
        &self,
        repository: &str,
        tag: &str,
        auth: Option<&RegistryAuth>,
        watcher: &mut dyn TransferWatcher,
    ) -> Result<String> {
        BollardEngine::push(self, repository, tag, auth, watcher).await
    }
    async fn pull(
        &self,
        repository: &str,
        reference: &str,
        platform: Option<&str>,
        auth: Option<&RegistryAuth>,
        watcher: &mut dyn TransferWatcher,
    ) -> Result<()> {
        BollardEngine::pull(self, repository, reference, platform, auth, watcher).await
    }
    async fn registry_digest(
        &self,
        reference: &str,
        auth: Option<&RegistryAuth>,
    ) -> Result<String> {
        BollardEngine::registry_digest(self, reference, auth).await
    }
    async fn tag_image(&self, image: &str, repository: &str, tag: &str) -> Result<()> {
        BollardEngine::tag_image(self, image, repository, tag).await
    }
    async fn image_platform(&self, image: &str) -> Result<Option<String>> {
        BollardEngine::image_platform(self, image).await
    }
    async fn identity(&self, image: &str) -> Result<Option<ImageIdentity>> {
        BollardEngine::identity(self, image).await
    }
    async fn labelled_images(&self) -> Result<Vec<LabelledImage>> {
        BollardEngine::labelled_images(self).await
    }
    async fn remove_image(&self, reference: &str) -> Result<()> {
        BollardEngine::remove_image(self, reference).await
    }
    async fn history(&self, image: &str) -> Result<Vec<HistoryEntry>> {
        BollardEngine::history(self, image).await
    }
    async fn export_image(
        &self,
        id: &str,
        sink: &mut dyn for<'b> FnMut(&'b [u8]) -> Result<()>,
    ) -> Result<u64> {
        BollardEngine::export_image(self, id, sink).await
    }
    async fn load_archive(&self, body: ArchiveStream) -> Result<Vec<String>> {
        BollardEngine::load_archive(self, body).await
    }
    async fn build_cache(&self) -> Result<BuildCacheUsage> {
        BollardEngine::build_cache(self).await
    }
    async fn prune_build_cache(&self, ids: &[String]) -> Result<u64> {
        BollardEngine::prune_build_cache(self, ids).await
    }
}

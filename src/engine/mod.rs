//! The thin engine layer: executes plans through the Docker Engine API (bollard). It makes no
//! decisions of its own; every option it sends comes from a plan. Bollard's errors are turned
//! into errors a user can act on, per operation (`errors`).

mod archive;
mod build;
mod build_cache;
mod build_session;
mod buildkit;
mod chosen;
mod connection;
mod container_files;
mod containers;
mod errors;
mod history;
pub mod image_index;
mod registry;
mod registry_direct;
mod seam;
mod ssh;
mod stdio;

pub use build::{
    BuildOptions, BuildOutput, BuildWatcher, RegistryCredentials, SecretValues, base_image_help,
};
pub use build_cache::BuildCacheUsage;
pub use chosen::{current_endpoint, use_host};
pub use connection::BollardEngine;
pub use containers::{Captured, ContainerState, LabelledImage, ManagedContainer, Output};
pub use history::HistoryEntry;
pub use registry::{ImageIdentity, TransferWatcher};
pub use seam::{ArchiveStream, Engine, ImageStore, Runtime};

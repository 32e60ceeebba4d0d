//! What is true of this host and of this engine, gathered once and handed to planning as plain
//! data, so tests can make up any host they like. Probing takes paths, never a profile.

pub mod condition;
pub mod credentials;
pub mod devices;
pub mod emulation;
pub mod endpoint;
pub mod engine;
pub mod host;
pub mod machine_files;
pub mod machine_report;
pub mod package_xml;
pub mod secrets;
pub mod sources;
pub mod workspace;

pub use engine::EngineFacts;
pub use host::{Display, HostFacts, HostUser};
pub use machine_files::DeviceNode;
pub use workspace::Workspace;

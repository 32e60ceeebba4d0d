//! End-to-end tests against a real Docker engine. With CI=true they fail, never skip, when no
//! engine is reachable. The README's test command provisions the engine and the base image.

mod support;

mod base_pins;
mod build_cache;
mod build_secrets;
mod build_ssh;
mod buildkit;
mod bundles;
mod cleaning;
mod dependencies;
mod deploy;
mod devcontainer_cli;
mod engines;
mod exports;
mod faults;
mod hardware;
mod images;
mod lifecycle;
mod new_user;
mod podman;
mod private_base;
mod remote;
mod ros_traffic;
mod sources;
mod team_images;
mod terminal;
mod test_command;
mod what_runs;
mod wizard;

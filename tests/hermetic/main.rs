//! Hermetic tests: no Docker engine, no network. One binary, one file per feature.

mod support;

mod command_layer;
mod fake_engine;

mod base_pins;
mod buildkit;
mod ci_files;
mod cli;
mod dependencies;
mod deploy;
mod devcontainer;
mod engine_quirks;
mod exports;
mod hostile;
mod injection;
mod lock_file;
mod malformed;
mod new_user;
mod planning;
mod profiles;
mod ros_traffic;
mod security;
mod security_opt_separator;
mod sources;
mod structure;
mod what_runs;

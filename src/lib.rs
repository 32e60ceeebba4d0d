//! robodev: reproducible Docker development environments for robotics teams.
//!
//! Pure core: `profile_source` → `profile_raw` → `profile` (validated) → `plan`
//! (`image_plan`, `container_plan`, `devcontainer`). Thin engine layer: `engine`.
//! Thin CLI: `cli` parses, `commands` executes, `run` maps results to exit codes.

pub mod cli;
pub mod commands;
pub mod container_plan;
pub mod devcontainer;
pub mod devices;
pub mod display;
pub mod distro;
pub mod engine;
pub mod error;
pub mod files;
pub mod gpu;
pub mod grammar;
pub mod host;
pub mod image_plan;
pub mod plan;
pub mod profile;
pub mod profile_raw;
pub mod profile_source;
pub mod render;
pub mod sourced;
pub mod suggest;
pub mod ui;
pub mod workspace;

use clap::Parser;

/// Parse `args`, execute, and return the process exit code: 0 ok, 1 the operation failed,
/// 2 bad input or usage; `exec`/`run`/`shell` return the command's own exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let result = runtime.block_on(commands::execute(cli));
    // Do not wait for anything still blocked (a read of stdin): we are done.
    runtime.shutdown_background();
    match result {
        Ok(code) => code,
        Err(e) => {
            ui::print_error(&e);
            e.exit_code()
        }
    }
}

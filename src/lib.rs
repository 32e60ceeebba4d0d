//! robodev: reproducible Docker development environments for robotics teams.
//!
//! The pipeline, one folder per stage, each importing only from the stages before it:
//!
//! - `profile/`  the YAML as written → a validated `Profile` (pure); `lockfile/` beside it owns
//!   `robodev.lock`, what the images were made from
//! - `facts/`    what is true of this host, this engine, this workspace (read once)
//! - `sources/`  the workspace's other repositories (`.repos` files): what to do with each
//!   (pure), and the user's own `git` that does it
//! - `plan/`     profile + facts → image, container and exec plans; `plan/hardware/` holds one
//!   file per hardware feature (pure, snapshot-tested)
//! - `engine/`   executes a plan through the Docker Engine API; decides nothing itself
//! - `commands/` one file per command family: resolve inputs → plan → engine
//!
//! Cross-cutting and flat: `cli` (arguments as typed), `error`, `notice`, `ui`, `files`,
//! `paths`, `suggest`, `text`. `run` maps results to exit codes in one place.

pub mod bundle;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod error;
pub mod facts;
pub mod files;
pub mod lockfile;
pub mod notice;
pub mod paths;
pub mod plan;
pub mod profile;
pub mod sources;
pub mod suggest;
pub mod text;
pub mod ui;

use clap::Parser;

/// Parse `args`, execute, and return the process exit code: 0 ok, 1 the operation failed,
/// 2 bad input or usage; `exec`/`run`/`shell` return the command's own exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    run_on(args, None)
}

/// `run`, against `engine` instead of the one the environment names: the command layer's
/// tests drive it with a fake engine (`tests/hermetic/fake_engine.rs`).
pub fn run_with_engine<I, T>(args: I, engine: Box<dyn engine::Engine>) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    run_on(args, Some(engine))
}

fn run_on<I, T>(args: I, engine: Option<Box<dyn engine::Engine>>) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let cli = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            if let Some(hint) = cli::hint_for(&e, &args) {
                eprintln!("\n  hint: {hint}");
            }
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
    let result = runtime.block_on(commands::execute(cli, engine));
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

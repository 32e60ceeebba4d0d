//! `robodev test`: the workspace's tests in a throw-away container of the environment's image
//! (no state from the long-lived container), for CI and developers alike.

use super::lock::LockMode;
use super::registry::ensure_environment_image;
use super::resolve::resolve;
use super::session::{Session, ensure_volumes, terminal};
use crate::cli::BuildFlags;
use crate::error::{Error, Result};
use crate::plan::test_run::{self, Selection};
use std::path::PathBuf;

pub async fn test(
    s: &Session,
    reference: Option<&str>,
    flags: BuildFlags,
    selection: Selection,
    results: Option<PathBuf>,
) -> Result<i32> {
    for p in selection.select.iter().chain(&selection.up_to) {
        crate::profile::grammar::ros_package(p)
            .map_err(|m| Error::usage(format!("--packages-select/--packages-up-to: {m}")))?;
    }
    let profile = s.profile(reference)?;
    let engine = s.engine().await?;
    // Resolve, plan, execute. Tests need no display, sound, devices or GPU (a CI runner has
    // none), but run in the environment's own image: the one developers use and the team's
    // registry holds.
    let inputs = resolve(s, engine, &profile, LockMode::from_flags(&flags), false).await?;
    let plan = s.plan_without_hardware(&profile, Some(engine), &inputs)?;
    plan.container.require_host()?;
    ensure_environment_image(s, engine, &plan, flags).await?;
    ensure_volumes(engine, &plan).await?;
    let results = match results {
        Some(dir) => {
            let dir = crate::paths::resolve_against(
                &std::env::current_dir().unwrap_or_default(),
                &dir.to_string_lossy(),
            );
            std::fs::create_dir_all(&dir).map_err(|e| Error::io_path("create", &dir, e))?;
            Some(dir.display().to_string())
        }
        None => None,
    };
    let container = test_run::container(&plan.container, results.as_deref());
    let script = test_run::script(&selection, results.is_some());
    let term = terminal();
    let code = engine
        .run(
            &container,
            vec!["sh".into(), "-c".into(), script],
            term.tty(),
            false,
        )
        .await?;
    match (code, &results) {
        (0, Some(dir)) => {
            s.ui.success(format!("tests passed; results and logs in {dir}"))
        }
        (0, None) => s.ui.success("tests passed"),
        (_, Some(dir)) => s.ui.warn(format!(
            "tests failed (above: which); results and logs in {dir}"
        )),
        (_, None) => s.ui.warn("tests failed (above: which)"),
    }
    Ok(code)
}

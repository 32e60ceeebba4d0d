//! `robodev devcontainer`: write, or `--check`, the `.devcontainer/` files.

use super::session::Session;
use crate::error::{Error, Result};
use crate::files::{GeneratedFile, write_generated};
use crate::plan::devcontainer;
use std::path::PathBuf;

pub async fn devcontainer(
    s: &Session,
    reference: Option<&str>,
    check: bool,
    force: bool,
) -> Result<i32> {
    let profile = s.profile(reference)?;
    // Planned for whoever opens the folder, not for this machine: no engine, no host probing.
    let lock = crate::lockfile::LockFile::read(&s.workspace.root)?;
    let files = devcontainer::for_profile(
        &profile,
        s.global.templates.clone(),
        crate::plan::Pins::of(&lock, &profile),
    )?;
    let dir = s.workspace.root.join(".devcontainer");
    let mut wanted: Vec<(PathBuf, String, bool)> = vec![
        (
            dir.join("devcontainer.json"),
            files.devcontainer_json,
            false,
        ),
        (dir.join("Dockerfile"), files.dockerfile, false),
    ];
    for (name, content, executable) in files.context {
        wanted.push((dir.join(name), content, executable));
    }
    if check {
        let mut stale = Vec::new();
        for (path, content, _) in &wanted {
            match std::fs::read_to_string(path) {
                Ok(existing) if existing == *content => {}
                Ok(existing) => stale.push(format!(
                    "{} differs:\n{}",
                    path.display(),
                    first_difference(&existing, content)
                )),
                Err(_) => stale.push(format!("{} is missing", path.display())),
            }
        }
        if stale.is_empty() {
            s.ui.success(".devcontainer is up to date with the profile");
            return Ok(0);
        }
        return Err(Error::CheckFailed {
            message: ".devcontainer is out of date with the profile:".into(),
            details: stale
                .iter()
                .flat_map(|s| s.lines().map(String::from))
                .collect(),
            help: Some("run `robodev devcontainer` and commit the result".into()),
        });
    }
    let files: Vec<GeneratedFile> = wanted
        .into_iter()
        .map(|(path, content, executable)| GeneratedFile {
            path,
            content,
            executable,
        })
        .collect();
    write_generated(&files, force)?;
    s.ui.success(format!(
        "wrote {} (open the folder in VS Code and choose \"Reopen in Container\")",
        dir.join("devcontainer.json").display()
    ));
    Ok(0)
}

/// Where the files first differ: that line and a few after it, `- committed` / `+ generated`.
pub(super) fn first_difference(existing: &str, wanted: &str) -> String {
    const CONTEXT: usize = 6;
    let (a, b): (Vec<&str>, Vec<&str>) = (existing.lines().collect(), wanted.lines().collect());
    let i = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let side = |lines: &[&str], mark: char| -> String {
        let shown: Vec<String> = lines
            .iter()
            .skip(i)
            .take(CONTEXT)
            .map(|l| format!("  {mark} {l}"))
            .collect();
        if shown.is_empty() {
            format!("  {mark} (end of file)")
        } else {
            shown.join("\n")
        }
    };
    format!("  line {}:\n{}\n{}", i + 1, side(&a, '-'), side(&b, '+'))
}

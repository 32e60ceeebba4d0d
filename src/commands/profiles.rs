//! `profiles`, `profile show`, `generate`.

use super::session::Session;
use crate::error::Result;
use crate::files::{GeneratedFile, write_generated};
use crate::plan::image::ImagePlan;
use crate::ui::print_out;
use std::path::{Path, PathBuf};

pub fn list(s: &Session, json: bool) -> Result<i32> {
    let entries = s.search.list();
    if json {
        print_out(&serde_json::to_string_pretty(&entries).unwrap_or_default());
        return Ok(0);
    }
    let width = entries
        .iter()
        .map(|e| e.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut text = format!("{:width$}  {:9}  SOURCE\n", "NAME", "ORIGIN");
    for e in &entries {
        text.push_str(&format!(
            "{:width$}  {:9}  {}\n",
            e.name, e.origin, e.source
        ));
    }
    print_out(&text);
    Ok(0)
}

pub fn show(s: &Session, reference: Option<&str>, json: bool) -> Result<i32> {
    let profile = s.profile(reference)?;
    if json {
        print_out(&serde_json::to_string_pretty(&profile).unwrap_or_default());
    } else {
        let mut value = serde_json::to_value(&profile).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            // Unset optional fields read as noise in YAML (`platform: null`).
            map.retain(|_, v| !v.is_null());
        }
        let yaml = serde_saphyr::to_string(&value).unwrap_or_default();
        print_out(&format!(
            "# composed from: {}\n{yaml}",
            profile.chain.join(" ← ")
        ));
    }
    Ok(0)
}

/// An image plan as files in `dir`: its Dockerfile and its context files (`generate` and
/// `generate --deploy`).
pub(super) fn image_files(image: &ImagePlan, dir: &Path) -> Vec<GeneratedFile> {
    let mut files = vec![GeneratedFile {
        path: dir.join("Dockerfile"),
        content: image.dockerfile.clone(),
        executable: false,
    }];
    files.extend(image.context_files().map(|f| GeneratedFile {
        path: dir.join(f.name),
        content: f.content.to_string(),
        executable: f.executable,
    }));
    files
}

/// Where `generate` writes by default: a directory robodev owns, never the repository root.
const GENERATE_DIR: &str = ".robodev/docker";

pub async fn generate(
    s: &Session,
    reference: Option<&str>,
    output: Option<PathBuf>,
    force: bool,
) -> Result<i32> {
    let profile = s.profile(reference)?;
    let plan = s.plan(&profile, None).await?;
    let output = output.unwrap_or_else(|| s.workspace.root.join(GENERATE_DIR));
    write_generated(&image_files(&plan.image, &output), force)?;
    s.ui.success(format!(
        "wrote Dockerfile, .dockerignore and robodev-entrypoint to {} (image tag {})",
        crate::ui::shown_path(&output),
        plan.image.tag
    ));
    Ok(0)
}

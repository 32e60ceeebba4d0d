//! Pulling an image by its reference as written (`ros:humble`, `host/repo@sha256:…`), with the
//! user's credentials for its registry, showing progress.

use super::transfer_progress::TransferProgress;
use crate::engine::Engine;
use crate::error::Result;
use crate::ui::Ui;

pub async fn pull_image(
    ui: Ui,
    engine: &dyn Engine,
    image: &str,
    platform: Option<&str>,
) -> Result<()> {
    let (repository, reference) = crate::plan::image::split_reference(image);
    let auth = crate::facts::credentials::for_registry(crate::facts::credentials::registry_host(
        repository,
    ))?;
    let mut progress = TransferProgress::new(ui);
    engine
        .pull(
            repository,
            reference,
            platform,
            auth.as_ref(),
            &mut progress,
        )
        .await
}

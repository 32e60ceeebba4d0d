//! Image archives through the Engine API: export an image by id (so the archive names no tag
//! and loading it tags nothing) and load an archive, both streamed: memory stays bounded by a
//! chunk whatever the image's size.

use super::connection::BollardEngine;
use super::errors::api_error;
use crate::error::{Error, Result};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

impl BollardEngine {
    /// Stream the archive of image `id` (what `docker save` writes) into `sink`, chunk by
    /// chunk; returns the bytes written.
    pub async fn export_image(
        &self,
        id: &str,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<u64> {
        let action = format!("export image {id}");
        let mut stream = self.docker.export_image(id);
        let mut total = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| api_error(&action, e))?;
            sink(&chunk)?;
            total += chunk.len() as u64;
        }
        Ok(total)
    }

    /// Load an image archive from `body`; returns the ids of the images the engine loaded.
    pub async fn load_archive<S>(&self, body: S) -> Result<Vec<String>>
    where
        S: Stream<Item = std::result::Result<Bytes, std::io::Error>> + Send + 'static,
    {
        let action = "load the image archive";
        let options = bollard::query_parameters::ImportImageOptions {
            quiet: true,
            ..Default::default()
        };
        let mut stream = self.docker.import_image_stream(options, body, None);
        let mut ids = Vec::new();
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| api_error(action, e))?;
            if let Some(detail) = info.error_detail {
                return Err(Error::Engine {
                    action: format!("cannot {action}"),
                    message: detail.message.unwrap_or_default(),
                    help: None,
                });
            }
            if let Some(id) = info
                .stream
                .as_deref()
                .and_then(|s| s.trim().strip_prefix("Loaded image ID: "))
            {
                ids.push(id.to_string());
            }
        }
        Ok(ids)
    }
}

//! An image's layers as the engine records them (`docker history`), newest first.

use super::connection::BollardEngine;
use super::errors::{QUICK, api_error, limited};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct HistoryEntry {
    pub created_by: String,
    pub size: i64,
    pub created: i64,
}

impl BollardEngine {
    pub async fn history(&self, image: &str) -> Result<Vec<HistoryEntry>> {
        let action = format!("read the history of {image}");
        let items = limited(QUICK, &action, self.docker.image_history(image))
            .await?
            .map_err(|e| api_error(&action, e))?;
        Ok(items
            .into_iter()
            .map(|i| HistoryEntry {
                created_by: i.created_by,
                size: i.size,
                created: i.created,
            })
            .collect())
    }
}

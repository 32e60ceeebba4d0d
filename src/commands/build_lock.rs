//! One build of an image at a time across robodev processes: an exclusive lock on a file named
//! after the image's hash in the user's state directory. Whoever waited then finds the image
//! built and makes no build call (eight concurrent `up`s made eight full builds before).

use crate::error::{Error, Result};
use crate::ui::Ui;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Held while building; the lock is released when this is dropped (or the process dies).
pub struct BuildLock {
    _file: File,
}

/// Where the lock files are: `$ROBODEV_STATE_DIR/locks`, or the user's cache directory.
fn lock_dir() -> PathBuf {
    std::env::var_os("ROBODEV_STATE_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "robodev").map(|d| d.cache_dir().to_path_buf())
        })
        .unwrap_or_else(|| std::env::temp_dir().join("robodev"))
        .join("locks")
}

impl BuildLock {
    /// Wait (saying so once) until no other robodev builds `hash`.
    pub async fn acquire(hash: &str, tag: &str, ui: Ui) -> Result<BuildLock> {
        let path = lock_dir().join(format!("{hash}.lock"));
        Self::acquire_at(&path, tag, ui).await
    }

    async fn acquire_at(path: &Path, tag: &str, ui: Ui) -> Result<BuildLock> {
        crate::files::ensure_parent(path)?;
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| Error::io_path("open the build lock", path, e))?;
        let mut said = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(BuildLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if !said {
                        ui.info(format!("waiting for another robodev building {tag}"));
                        said = true;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::io_path("lock", path, e));
                }
            }
        }
    }
}

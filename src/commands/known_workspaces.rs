//! The workspaces robodev has planned an environment for, on this machine, for this user (one
//! file each in its state directory). `clean` asks each of them whether it still plans an image
//! before removing it: two workspaces with the same profile share one image, whose labels name
//! only the workspace that built it, so that label alone cannot tell whether another still
//! needs it.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn records() -> PathBuf {
    crate::facts::host::state_dir().join("workspaces")
}

/// Remember `root` (once; a state directory that cannot be written is not an error: `clean`
/// then knows less and keeps to the image's own workspace, as before).
pub fn record(root: &Path) {
    record_in(&records(), root);
}

/// Every remembered workspace that still exists; the records of those gone are forgotten.
pub fn existing() -> Vec<PathBuf> {
    existing_in(&records())
}

fn record_in(records: &Path, root: &Path) {
    let key = hex::encode(Sha256::digest(root.as_os_str().as_encoded_bytes()));
    let file = records.join(&key[..16]);
    if file.exists() {
        return;
    }
    let Some(dir) = file.parent() else { return };
    let _ = std::fs::create_dir_all(dir);
    // Written whole under a name of this process's own, then renamed: a reader never sees half.
    let partial = file.with_extension(format!("{}.partial", std::process::id()));
    if std::fs::write(&partial, root.as_os_str().as_encoded_bytes()).is_ok() {
        let _ = std::fs::rename(&partial, &file);
    }
    let _ = std::fs::remove_file(&partial);
}

fn existing_in(records: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(records) else {
        return Vec::new();
    };
    let mut roots = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some() {
            continue; // one being written
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let root = PathBuf::from(String::from_utf8_lossy(&bytes).into_owned());
        match root.try_exists() {
            Ok(true) if root.is_absolute() => roots.push(root),
            Ok(false) => {
                let _ = std::fs::remove_file(&path);
            }
            _ => {}
        }
    }
    roots.sort();
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workspace_is_remembered_once_and_forgotten_when_gone() {
        let state = tempfile::tempdir().unwrap();
        let records = state.path().join("workspaces");
        let kept = tempfile::tempdir().unwrap();
        let gone = tempfile::tempdir().unwrap();
        record_in(&records, kept.path());
        record_in(&records, kept.path());
        record_in(&records, gone.path());
        assert_eq!(std::fs::read_dir(&records).unwrap().count(), 2);
        drop(gone);
        assert_eq!(existing_in(&records), vec![kept.path().to_path_buf()]);
        assert_eq!(
            std::fs::read_dir(&records).unwrap().count(),
            1,
            "the record of the workspace that is gone is removed"
        );
    }
}

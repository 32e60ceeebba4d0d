//! Keeping a copy of the workspace in a volume on a remote engine (`workspace: {sync: true}`):
//! what to send (files new or changed since the last sync, by content hash), what to delete
//! there, and the tar that carries them, owned by the container user. The record of what was
//! sent is the previous scan (`path → sha256`), kept on this machine.

use crate::facts::sources::SourceFile;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What the remote copy holds: path → sha256, as last sent.
pub type SyncRecord = BTreeMap<String, String>;

#[derive(Debug, Default, PartialEq)]
pub struct SyncChanges<'a> {
    pub send: Vec<&'a SourceFile>,
    pub delete: Vec<String>,
}

/// The files of `scan` that `record` does not hold as they are, and the recorded paths that
/// are gone.
pub fn changes<'a>(record: &SyncRecord, scan: &'a [SourceFile]) -> SyncChanges<'a> {
    let send = scan
        .iter()
        .filter(|f| record.get(&f.path) != Some(&f.sha256))
        .collect();
    let present: BTreeSet<&str> = scan.iter().map(|f| f.path.as_str()).collect();
    let delete = record
        .keys()
        .filter(|p| !present.contains(p.as_str()))
        .cloned()
        .collect();
    SyncChanges { send, delete }
}

/// The record after sending `scan` in full.
pub fn record_of(scan: &[SourceFile]) -> SyncRecord {
    scan.iter()
        .map(|f| (f.path.clone(), f.sha256.clone()))
        .collect()
}

/// A tar of `files` (read from `root`), under `top/` (the workspace directory's own name,
/// itself an entry, so the copy's root is the user's too), each with its parent directories,
/// all owned by `uid:gid`; extracted in the workspace's parent directory in the container.
pub fn tar_of(
    root: &Path,
    top: &str,
    files: &[&SourceFile],
    uid: u32,
    gid: u32,
) -> std::io::Result<Vec<u8>> {
    let top = Path::new(top);
    let mut builder = tar::Builder::new(Vec::new());
    let mut dirs = BTreeSet::new();
    let header = |kind: tar::EntryType, mode: u32, size: u64| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(uid as u64);
        h.set_gid(gid as u64);
        h.set_size(size);
        h.set_mtime(0);
        h
    };
    let mut h = header(tar::EntryType::Directory, 0o755, 0);
    builder.append_data(&mut h, top, std::io::empty())?;
    for f in files {
        let mut parent = Path::new(&f.path).parent();
        let mut chain = Vec::new();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            chain.push(p.to_path_buf());
            parent = p.parent();
        }
        for dir in chain.into_iter().rev() {
            if dirs.insert(dir.clone()) {
                let mut h = header(tar::EntryType::Directory, 0o755, 0);
                builder.append_data(&mut h, top.join(&dir), std::io::empty())?;
            }
        }
        if let Some(target) = &f.link {
            let mut h = header(tar::EntryType::Symlink, 0o777, 0);
            builder.append_link(&mut h, top.join(&f.path), target)?;
        } else {
            let content = std::fs::read(root.join(&f.path))?;
            let mut h = header(tar::EntryType::Regular, f.mode, content.len() as u64);
            builder.append_data(&mut h, top.join(&f.path), content.as_slice())?;
        }
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, sha: &str) -> SourceFile {
        SourceFile {
            path: path.into(),
            mode: 0o644,
            sha256: sha.into(),
            link: None,
        }
    }

    #[test]
    fn only_changed_and_new_files_travel_and_gone_ones_are_deleted() {
        let record: SyncRecord = [("a", "1"), ("b", "2"), ("gone", "3")]
            .iter()
            .map(|(p, s)| (p.to_string(), s.to_string()))
            .collect();
        let scan = vec![file("a", "1"), file("b", "changed"), file("new", "4")];
        let c = changes(&record, &scan);
        let sent: Vec<&str> = c.send.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(sent, ["b", "new"]);
        assert_eq!(c.delete, ["gone"]);
        assert_eq!(changes(&record_of(&scan), &scan), SyncChanges::default());
    }
}

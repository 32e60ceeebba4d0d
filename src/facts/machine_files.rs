//! Where facts about a machine are read from: this machine's own files, or another machine's as
//! a probe container there reported them (`machine_report.rs`). Host facts are computed from
//! either by the same code, so a robot's devices are judged exactly as a laptop's are.

use serde::Serialize;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

pub trait MachineFiles {
    /// The entries of a directory as full paths, sorted; empty when it does not exist.
    fn list(&self, dir: &str) -> Vec<String>;
    /// A device node after following symlinks; `None` when absent or not a device.
    fn device(&self, path: &str) -> Option<DeviceNode>;
    fn exists(&self, path: &str) -> bool;
    /// A small text file (`/etc/group`, `/proc/devices`); empty when unreadable.
    fn read(&self, path: &str) -> String;
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeviceNode {
    /// The path after following symlinks (`/dev/serial/by-id/…` → `/dev/ttyUSB0`).
    pub real_path: String,
    pub kind: char,
    pub major: u32,
    pub minor: u32,
    /// The node's owner, group and permission bits: the container user needs the group.
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

impl DeviceNode {
    /// Whether a user with `uid` and these groups may open the node for reading and writing.
    pub fn usable_by(&self, uid: u32, groups: &[u32]) -> bool {
        let bits = if uid == 0 {
            return true;
        } else if uid == self.uid {
            self.mode >> 6
        } else if groups.contains(&self.gid) {
            self.mode >> 3
        } else {
            self.mode
        };
        bits & 0o6 == 0o6
    }
}

/// The files of the machine robodev runs on.
pub struct LocalFiles;

impl MachineFiles for LocalFiles {
    fn list(&self, dir: &str) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path().display().to_string())
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    fn device(&self, path: &str) -> Option<DeviceNode> {
        resolve_device(Path::new(path))
    }

    fn exists(&self, path: &str) -> bool {
        Path::new(path).exists()
    }

    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(path).unwrap_or_default()
    }
}

fn resolve_device(path: &Path) -> Option<DeviceNode> {
    let real = std::fs::canonicalize(path).ok()?;
    let meta = std::fs::metadata(&real).ok()?;
    let kind = if meta.file_type().is_char_device() {
        'c'
    } else if meta.file_type().is_block_device() {
        'b'
    } else {
        return None;
    };
    let rdev = meta.rdev();
    Some(DeviceNode {
        real_path: real.display().to_string(),
        kind,
        major: (((rdev >> 32) & 0xffff_f000) | ((rdev >> 8) & 0xfff)) as u32,
        minor: (((rdev >> 12) & 0xffff_ff00) | (rdev & 0xff)) as u32,
        uid: meta.uid(),
        gid: meta.gid(),
        mode: meta.mode() & 0o7777,
    })
}

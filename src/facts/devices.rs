//! Device nodes on this host: resolving a profile's device path, the majors the kernel has
//! given drivers, and which devices of a family are present (for "present instead" hints and
//! for `init`'s choices). One family table serves all three.

use serde::Serialize;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

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

/// Families of numbered device nodes a robot uses, and the stable-name directory for each.
const FAMILIES: &[(&[&str], &str)] = &[
    (&["ttyUSB", "ttyACM", "ttyTHS", "ttyS"], "/dev/serial/by-id"),
    (&["video"], "/dev/v4l/by-id"),
];

/// Families offered by `init` (plain `ttyS*` ports are on every PC and rarely what is meant).
const OFFERED: &[&str] = &["ttyUSB", "ttyACM", "ttyTHS", "video"];

pub fn resolve_device(path: &Path) -> Option<DeviceNode> {
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

pub fn list_dir(dir: &str) -> Vec<String> {
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

/// `/dev/<prefix><digits>` nodes for each of `prefixes`.
fn numbered_nodes(prefixes: &[&str]) -> Vec<String> {
    list_dir("/dev")
        .into_iter()
        .filter(|p| {
            let name = Path::new(p)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            prefixes.iter().any(|prefix| {
                name.len() > prefix.len()
                    && name.starts_with(prefix)
                    && name[prefix.len()..].chars().all(|c| c.is_ascii_digit())
            })
        })
        .collect()
}

/// Devices of the same family as `path` that are present, for "present instead" hints.
pub fn similar_devices(path: &str) -> Vec<String> {
    let name = Path::new(path)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let mut found = Vec::new();
    for (prefixes, by_id) in FAMILIES {
        if prefixes.contains(&stem) || path.starts_with(by_id) {
            // Plain `ttyS*` ports exist on every PC: never a useful suggestion.
            let wanted: Vec<&str> = prefixes.iter().copied().filter(|p| *p != "ttyS").collect();
            found.extend(numbered_nodes(&wanted));
            found.extend(list_dir(by_id));
        }
    }
    found.retain(|p| p != path);
    found
}

/// Devices worth offering in `init`: stable names first, then numbered nodes.
pub fn offered_devices() -> Vec<String> {
    let mut out: Vec<String> = FAMILIES
        .iter()
        .flat_map(|(_, by_id)| list_dir(by_id))
        .collect();
    out.extend(numbered_nodes(OFFERED));
    out
}

/// The "Character devices:" section of /proc/devices.
pub fn parse_proc_devices(text: &str) -> Vec<(u32, String)> {
    text.lines()
        .skip_while(|l| !l.starts_with("Character devices"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("Block"))
        .filter_map(|l| {
            let (major, name) = l.trim().split_once(' ')?;
            Some((major.parse().ok()?, name.trim().to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_devices() {
        let text = "Character devices:\n  1 mem\n  4 tty\n188 ttyUSB\n\nBlock devices:\n  7 loop\n";
        assert_eq!(
            parse_proc_devices(text),
            vec![(1, "mem".into()), (4, "tty".into()), (188, "ttyUSB".into())]
        );
    }
}

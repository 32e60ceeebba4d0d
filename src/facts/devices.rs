//! Device nodes on a machine: the majors the kernel has given drivers, and which devices of a
//! family are present (for "present instead" hints and for `init`'s choices), on any
//! `MachineFiles` (this machine, or another one's probe report). One family table serves both.

use super::machine_files::MachineFiles;
use std::path::Path;

/// Families of numbered device nodes a robot uses, and the stable-name directory for each.
const FAMILIES: &[(&[&str], &str)] = &[
    (&["ttyUSB", "ttyACM", "ttyTHS", "ttyS"], "/dev/serial/by-id"),
    (&["video"], "/dev/v4l/by-id"),
];

/// Families offered by `init` (plain `ttyS*` ports are on every PC and rarely what is meant).
const OFFERED: &[&str] = &["ttyUSB", "ttyACM", "ttyTHS", "video"];

/// `/dev/<prefix><digits>` nodes for each of `prefixes`.
fn numbered_nodes(files: &dyn MachineFiles, prefixes: &[&str]) -> Vec<String> {
    files
        .list("/dev")
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
pub fn similar_devices(files: &dyn MachineFiles, path: &str) -> Vec<String> {
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
            found.extend(numbered_nodes(files, &wanted));
            found.extend(files.list(by_id));
        }
    }
    found.retain(|p| p != path);
    found
}

/// Devices worth offering in `init`: stable names first, then numbered nodes.
pub fn offered_devices(files: &dyn MachineFiles) -> Vec<String> {
    let mut out: Vec<String> = FAMILIES
        .iter()
        .flat_map(|(_, by_id)| files.list(by_id))
        .collect();
    out.extend(numbered_nodes(files, OFFERED));
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

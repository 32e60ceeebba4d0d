//! Whether this machine can run another architecture's programs (QEMU user emulation through
//! binfmt_misc), which building an image for another platform needs: a `RUN` step executes the
//! image's own binaries.

use std::path::Path;

const BINFMT: &str = "/proc/sys/fs/binfmt_misc";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Emulation {
    /// The platform is this machine's own.
    Native,
    /// `qemu-<arch>` is registered and enabled.
    Registered,
    /// binfmt_misc is not mounted.
    NotMounted,
    /// binfmt_misc is mounted but has no enabled `qemu-<arch>` entry.
    Missing { qemu_arch: String },
}

/// The OCI architecture of a platform (`linux/arm64/v8` → `arm64`).
pub fn platform_arch(platform: &str) -> &str {
    platform.split('/').nth(1).unwrap_or(platform)
}

/// QEMU's name for an OCI architecture.
fn qemu_arch(arch: &str) -> &str {
    match arch {
        "arm64" => "aarch64",
        "amd64" => "x86_64",
        "arm" => "arm",
        "ppc64le" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

/// Can this machine run `platform`'s binaries?
pub fn for_platform(platform: &str) -> Emulation {
    probe(
        Path::new(BINFMT),
        platform,
        super::engine::oci_arch(std::env::consts::ARCH),
    )
}

fn probe(binfmt: &Path, platform: &str, host_arch: &str) -> Emulation {
    let arch = platform_arch(platform);
    if arch == host_arch {
        return Emulation::Native;
    }
    if !binfmt.join("status").exists() {
        return Emulation::NotMounted;
    }
    let qemu = qemu_arch(arch).to_string();
    let entry = std::fs::read_to_string(binfmt.join(format!("qemu-{qemu}"))).unwrap_or_default();
    if entry.lines().next() == Some("enabled") {
        Emulation::Registered
    } else {
        Emulation::Missing { qemu_arch: qemu }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emulation_is_read_from_binfmt_misc() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(probe(d, "linux/amd64", "amd64"), Emulation::Native);
        assert_eq!(probe(d, "linux/arm64", "amd64"), Emulation::NotMounted);
        std::fs::write(d.join("status"), "enabled\n").unwrap();
        assert_eq!(
            probe(d, "linux/arm64/v8", "amd64"),
            Emulation::Missing {
                qemu_arch: "aarch64".into()
            }
        );
        std::fs::write(
            d.join("qemu-aarch64"),
            "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n",
        )
        .unwrap();
        assert_eq!(probe(d, "linux/arm64", "amd64"), Emulation::Registered);
        std::fs::write(d.join("qemu-aarch64"), "disabled\n").unwrap();
        assert!(matches!(
            probe(d, "linux/arm64", "amd64"),
            Emulation::Missing { .. }
        ));
    }
}

//! The grammars every profile string must match before it may reach a Dockerfile, a shell or
//! a mount specification. A value that does not match is rejected with the rule it broke;
//! values that do match are still quoted where they are used.

/// Debian package name, optionally pinned: `name`, `name=version`, `name:arch`.
/// Policy §5.6.1: lowercase letters, digits, `+ - .`, at least two characters, starting alnum.
pub fn apt_package(s: &str) -> Result<(), String> {
    let (name_arch, version) = match s.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (s, None),
    };
    let (name, arch) = match name_arch.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (name_arch, None),
    };
    let name_ok = name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    if !name_ok {
        return Err(format!(
            "`{s}` is not a Debian package name (lowercase letters, digits, `+`, `-`, `.`; \
             optionally `=VERSION`)"
        ));
    }
    if let Some(arch) = arch
        && (arch.is_empty()
            || !arch
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    {
        return Err(format!("`{arch}` in `{s}` is not a Debian architecture"));
    }
    if let Some(v) = version
        && (v.is_empty()
            || !v.starts_with(|c: char| c.is_ascii_digit())
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".+~:-*".contains(c)))
    {
        return Err(format!("`{v}` in `{s}` is not a Debian version"));
    }
    Ok(())
}

/// A PEP 508 requirement restricted to what a dev environment needs:
/// `name`, `name[extra1,extra2]`, followed by version clauses like `>=1.2,<2`.
/// No URLs, no environment markers, no spaces inside, nothing a shell would interpret.
pub fn pip_requirement(s: &str) -> Result<(), String> {
    let err = || {
        format!(
            "`{s}` is not a pip requirement robodev accepts (NAME, NAME[EXTRA], \
             NAME==1.2, NAME>=1,<2; no URLs or markers)"
        )
    };
    let name_end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .unwrap_or(s.len());
    let (name, mut rest) = s.split_at(name_end);
    if name.is_empty()
        || !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Err(err());
    }
    if let Some(url) = rest.strip_prefix(" @ ") {
        // A URL with credentials is not repeated in the message.
        return git_requirement_url(url).map_err(|m| {
            if has_credentials(url) {
                m
            } else {
                format!("`{s}`: {m}")
            }
        });
    }
    if let Some(after) = rest.strip_prefix('[') {
        let close = after.find(']').ok_or_else(err)?;
        let extras = &after[..close];
        if extras.is_empty()
            || !extras.split(',').all(|e| {
                !e.is_empty()
                    && e.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            })
        {
            return Err(err());
        }
        rest = &after[close + 1..];
    }
    if rest.is_empty() {
        return Ok(());
    }
    for clause in rest.split(',') {
        let op_len = ["===", "~=", "==", "!=", "<=", ">=", "<", ">"]
            .iter()
            .find(|op| clause.starts_with(**op))
            .map(|op| op.len())
            .ok_or_else(err)?;
        let version = &clause[op_len..];
        if version.is_empty()
            || !version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".*+!-_".contains(c))
        {
            return Err(err());
        }
    }
    Ok(())
}

/// A PEP 508 direct reference robodev accepts: `git+ssh://[USER@]HOST[:PORT]/PATH[@REF]` or
/// `git+https://HOST/PATH[@REF]` — a user name but never a password or token (a token belongs
/// in a build secret), and only the characters such a URL needs.
fn git_requirement_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("git+ssh://")
        .or_else(|| url.strip_prefix("git+https://"))
        .ok_or("a direct reference is `NAME @ git+ssh://…` or `NAME @ git+https://…`")?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority
        .split_once('@')
        .is_some_and(|(user, _)| user.contains(':'))
    {
        return Err(
            "the git URL carries a password or token, which would be written into the image \
             (and robodev repeats no secret): use `ssh: true` and your ssh agent instead"
                .into(),
        );
    }
    let ok = !authority.is_empty()
        && rest.contains('/')
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/@+".contains(c));
    if ok {
        Ok(())
    } else {
        Err("not a git URL robodev accepts".into())
    }
}

/// POSIX-portable environment variable name.
pub fn env_name(s: &str) -> Result<(), String> {
    let ok = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not an environment variable name (letters, digits, `_`; not starting with a digit)"
        ))
    }
}

/// Environment values go into `ENV` lines and container configs: any text but control characters.
/// The longest environment value: the engine refuses a Dockerfile line over 64 KiB, and the
/// `ENV NAME="…"` line also holds the name and quoting.
pub const MAX_ENV_VALUE_BYTES: usize = 60_000;

pub fn env_value(s: &str) -> Result<(), String> {
    if s.len() > MAX_ENV_VALUE_BYTES {
        return Err(format!(
            "the value is {} bytes; an environment value is at most {MAX_ENV_VALUE_BYTES} \
             (the engine's Dockerfile line limit); mount a file instead",
            s.len()
        ));
    }
    match s.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!(
            "the value contains the control character {c:?}; environment values must be one line"
        )),
        None => Ok(()),
    }
}

/// `USER:PASSWORD@` (or `TOKEN@`) in front of a host: credentials someone wrote into a
/// reference. Such a value is never repeated in a message.
pub fn has_credentials(s: &str) -> bool {
    let s = s.split_once("://").map_or(s, |(_, rest)| rest);
    let first = s.split('/').next().unwrap_or_default();
    s.contains('/')
        && first
            .split_once('@')
            .is_some_and(|(_, after)| !after.starts_with("sha256:"))
}

/// The words for a value that carries credentials, without repeating it.
fn credentials_refused(field_kind: &str) -> String {
    format!(
        "the {field_kind} carries credentials (`USER:PASSWORD@…`), which do not belong in a \
         profile (it is committed, and robodev repeats no secret): remove them and run \
         `robodev login REGISTRY` once on each machine"
    )
}

/// A Docker image reference: `[registry[:port]/]repo[/repo…][:tag][@sha256:<64 hex>]`.
pub fn image_reference(s: &str) -> Result<(), String> {
    if has_credentials(s) {
        return Err(credentials_refused("image reference"));
    }
    let err = |why: &str| {
        Err(format!(
            "`{s}` is not an image reference ({why}); expected e.g. `ros:humble-ros-base` or \
             `ros@sha256:<64 hex digits>`"
        ))
    };
    let (name_tag, digest) = match s.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        let Some(hex) = d.strip_prefix("sha256:") else {
            return err("a digest starts with `sha256:`");
        };
        if hex.len() != 64
            || !hex
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        {
            return err("a sha256 digest has 64 lowercase hex digits");
        }
    }
    // A tag is after the last ':' that follows the last '/'.
    let last_slash = name_tag.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (name, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => (
            &name_tag[..last_slash + i],
            Some(&name_tag[last_slash + i + 1..]),
        ),
        None => (name_tag, None),
    };
    if let Some(tag) = tag
        && (tag.is_empty()
            || tag.len() > 128
            || !tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            || !tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)))
    {
        return err("a tag is letters, digits, `_ . -`");
    }
    if name.is_empty() {
        return err("the name is empty");
    }
    for (i, component) in name.split('/').enumerate() {
        let is_registry = i == 0
            && name.contains('/')
            && (component.contains('.') || component.contains(':') || component == "localhost");
        let ok = if is_registry {
            !component.is_empty()
                && component
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c))
        } else {
            !component.is_empty()
                && component.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && component.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && component
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        };
        if !ok {
            return err("name components are lowercase letters, digits, `. _ -`");
        }
    }
    Ok(())
}

/// `os/arch[/variant]`, e.g. `linux/amd64`, `linux/arm64/v8`.
pub fn platform(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.split('/').collect();
    let ok = (2..=3).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a platform like `linux/amd64` or `linux/arm64`"
        ))
    }
}

/// A comma-separated `--platform` list (`linux/amd64,linux/arm64`): each checked, in order,
/// each once.
pub fn platform_list(s: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for p in s.split(',').map(str::trim) {
        platform(p)?;
        if !out.iter().any(|o| o == p) {
            out.push(p.to_string());
        }
    }
    Ok(out)
}

/// A profile name: it becomes part of image tags and container names.
pub fn profile_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a profile name (lowercase letters, digits, `. _ -`, at most 64 characters)"
        ))
    }
}

/// An absolute path inside the container or on the host that is safe in every place robodev
/// writes it, including the comma-separated `--mount` / devcontainer mount string form.
pub fn safe_path(s: &str, absolute: bool) -> Result<(), String> {
    if s.is_empty() {
        return Err("the path is empty".into());
    }
    if absolute && !s.starts_with('/') {
        return Err(format!("`{s}` is not an absolute path"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| c.is_control() || ",\"'`$\\=".contains(*c))
    {
        return Err(format!(
            "`{s}` contains {c:?}, which robodev does not allow in paths"
        ));
    }
    if s.split('/').any(|part| part == "..") {
        return Err(format!("`{s}` contains `..`"));
    }
    Ok(())
}

/// Linux capabilities as Docker names them (capabilities(7), without `CAP_`).
pub const CAPABILITIES: &[&str] = &[
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "BPF",
    "CHECKPOINT_RESTORE",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "PERFMON",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYSLOG",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "WAKE_ALARM",
    "ALL",
];

/// `REGISTRY/NAMESPACE`: a registry host (with a port, or a dot, or `localhost`) and one or
/// more lowercase path components; no tag, no digest.
pub fn registry(s: &str) -> Result<(), String> {
    if has_credentials(s) {
        return Err(credentials_refused("registry"));
    }
    let err = || {
        format!("`{s}` is not REGISTRY/NAMESPACE (e.g. `ghcr.io/my-team`, `localhost:5000/robots`)")
    };
    let s = s.trim_end_matches('/');
    let (host, path) = s.split_once('/').ok_or_else(err)?;
    let host_ok = (host.contains('.') || host.contains(':') || host == "localhost")
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c));
    let path_ok = path.split('/').all(|part| {
        !part.is_empty()
            && part.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
    });
    if host_ok && path_ok {
        Ok(())
    } else {
        Err(err())
    }
}

/// A rosdep key: what package.xml files name (`python3-numpy`, `libopencv-dev`, `rclcpp`).
pub fn rosdep_key(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.+".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a rosdep key (letters, digits, `_ - . +`)"
        ))
    }
}

/// A Docker volume name: starts alphanumeric, then letters, digits, `_ . -`.
pub fn volume_name(s: &str) -> Result<(), String> {
    let ok = s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("`{s}` is not a volume name"))
    }
}

/// A user or group name for `useradd`.
pub fn user_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("`{s}` is not a portable user name"))
    }
}

/// `1000:1000` or `1000` (the group id then the same) → (uid, gid); ids as Linux has them.
pub fn uid_gid(s: &str) -> Result<(u32, u32), String> {
    let id = |t: &str| t.parse::<u32>().ok().filter(|n| *n < u32::MAX);
    let parsed = match s.split_once(':') {
        Some((u, g)) => id(u).zip(id(g)),
        None => id(s).map(|u| (u, u)),
    };
    parsed.ok_or_else(|| format!("`{s}` is not UID[:GID] (numbers, like 1000:1000)"))
}

/// `2g`, `512m`, `1024` (bytes) → bytes.
pub fn byte_size(s: &str) -> Result<u64, String> {
    let lower = s.trim().to_ascii_lowercase();
    let lower = lower.strip_suffix('b').unwrap_or(&lower);
    let (digits, unit) = match lower.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => lower.split_at(i),
        None => (lower, ""),
    };
    let multiplier: u64 = match unit {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => {
            return Err(format!(
                "`{s}` is not a size like `2g`, `512m` or a number of bytes"
            ));
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{s}` is not a size like `2g`, `512m` or a number of bytes"))
}

/// One argument of an exec-form command or a CMake option: any text but control characters
/// (a newline would end a Dockerfile instruction), at most 4 KiB.
pub fn argument(s: &str) -> Result<(), String> {
    if s.len() > 4096 {
        return Err(format!("is {} bytes; at most 4096", s.len()));
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!(
            "`{}` holds the control character {c:?}",
            s.escape_debug()
        ));
    }
    Ok(())
}

/// A ROS package name (REP 144, with upper case tolerated as colcon does).
pub fn ros_package(s: &str) -> Result<(), String> {
    let ok = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && s.len() <= 200;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a package name (letters, digits, `_`; e.g. `rover_bringup`)",
            s.escape_debug()
        ))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn credentials_in_a_reference_are_refused_without_repeating_them() {
        for value in [
            "alice:s3cret@registry.example.com/team",
            "https://alice:s3cret@registry.example.com/team",
            "tok3n@localhost:5000/robots",
        ] {
            let err = registry(value).unwrap_err();
            assert!(!err.contains("s3cret") && !err.contains("tok3n"), "{err}");
            assert!(err.contains("robodev login"), "{err}");
        }
        let err = image_reference("alice:s3cret@reg.io/base/debian:12").unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
        assert!(image_reference(&format!("ros@sha256:{}", "a".repeat(64))).is_ok());
        assert!(!has_credentials("reg.io/team/img@sha256:00"));
    }

    use super::*;

    #[test]
    fn uid_and_gid() {
        assert_eq!(uid_gid("1000:1001"), Ok((1000, 1001)));
        assert_eq!(uid_gid("4343"), Ok((4343, 4343)));
        for bad in ["", "robot", "1000:", ":1000", "-1", "1:2:3", "4294967295"] {
            assert!(uid_gid(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn apt_names() {
        for ok in [
            "git",
            "ros-humble-rviz2",
            "libc6:amd64",
            "g++",
            "python3-pip=23.0+dfsg-1",
        ] {
            assert!(apt_package(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "Git",
            "git; rm -rf /",
            "git\nRUN x",
            "$(id)",
            "-o",
            "git=",
            "x=a b",
        ] {
            assert!(apt_package(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pip_requirements() {
        for ok in [
            "numpy",
            "numpy>=1.24,<2",
            "opencv-python==4.9.0.80",
            "black[jupyter]",
            "a.b_c",
        ] {
            assert!(pip_requirement(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "numpy; os_name=='nt'",
            "git+https://x",
            "numpy >= 1",
            "-r x",
            "a'b",
            "numpy>=",
            "x[]",
        ] {
            assert!(pip_requirement(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn images() {
        for ok in [
            "ros:humble-ros-base",
            "osrf/ros:jazzy-desktop",
            "localhost:5000/team/img:1.0",
            "debian:bookworm",
            "ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(image_reference(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Ros:humble",
            "ros:humble\nRUN id",
            "ros:",
            "ros@sha256:abc",
            "a b",
            "ros:$(id)",
        ] {
            assert!(image_reference(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(byte_size("2g"), Ok(2 << 30));
        assert_eq!(byte_size("512M"), Ok(512 << 20));
        assert_eq!(byte_size("1024"), Ok(1024));
        assert!(byte_size("lots").is_err());
        assert!(byte_size("0").is_err());
    }

    #[test]
    fn paths() {
        assert!(safe_path("/dev/ttyUSB0", true).is_ok());
        assert!(safe_path("relative", true).is_err());
        assert!(safe_path("/a,b", true).is_err());
        assert!(safe_path("/a/../b", true).is_err());
    }
}

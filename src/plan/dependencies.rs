//! The workspace's dependencies, planned: which rosdep keys the workspace wants (conditions
//! evaluated for the profile's distro, the workspace's own packages and skipped keys left out),
//! whether `robodev.lock` still matches them, how the resolver runs, and what its answers mean.
//! Pure: the scan, the resolution container and the lock file are read and written elsewhere.

use super::container::{ContainerPlan, MountKind, base_for_tool};
use super::image::ImagePlan;
use super::render::Renderer;
use crate::error::{Error, Result, SourcePos};
use crate::facts::condition;
use crate::facts::package_xml::{DepKind, Manifest};
use crate::lockfile::dependencies::{LockedDependencies, LockedKey};
use crate::profile::Profile;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A key the workspace wants, with what for and who asked.
#[derive(Clone, Debug, PartialEq)]
pub struct WantedKey {
    pub kinds: BTreeSet<DepKind>,
    /// package.xml files (relative to the workspace root), or the profile.
    pub declared_in: BTreeSet<String>,
    /// Where it was first declared, for errors.
    pub pos: SourcePos,
}

/// Every key the workspace wants, by name.
pub type WantedKeys = BTreeMap<String, WantedKey>;

/// The condition variables of REP 149 for a profile.
fn condition_vars(profile: &Profile) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "ROS_VERSION".to_string(),
            profile.distro.ros_version.to_string(),
        ),
        ("ROS_DISTRO".to_string(), profile.distro.name.to_string()),
        ("ROS_PYTHON_VERSION".to_string(), "3".to_string()),
    ])
}

/// The keys `manifests` declare for `profile`: conditions that exclude them are applied, keys
/// naming a package of the workspace (or a group one of them is a member of) are internal, the
/// profile's `dependencies.skip` are left out and its `dependencies.keys` added.
pub fn wanted_keys(manifests: &[Manifest], profile: &Profile, root: &Path) -> Result<WantedKeys> {
    let vars = condition_vars(profile);
    let internal: BTreeSet<&str> = manifests.iter().map(|m| m.name.as_str()).collect();
    let groups: BTreeSet<&str> = manifests
        .iter()
        .flat_map(|m| m.groups.iter().map(String::as_str))
        .collect();
    let mut wanted = WantedKeys::new();
    for m in manifests {
        let file = m
            .path
            .strip_prefix(root)
            .unwrap_or(&m.path)
            .display()
            .to_string();
        for dep in &m.deps {
            if let Some(cond) = &dep.condition {
                let applies = condition::evaluate(cond, &vars).map_err(|e| {
                    Error::profile(
                        dep.pos.clone(),
                        "condition",
                        format!("`{cond}` is not a REP 149 condition: {e}"),
                        Some(
                            "conditions look like `$ROS_VERSION == 2 and $ROS_DISTRO != foxy`"
                                .into(),
                        ),
                    )
                })?;
                if !applies {
                    continue;
                }
            }
            if internal.contains(dep.key.as_str()) || profile.dependencies.skip.contains(&dep.key) {
                continue;
            }
            let entry = wanted.entry(dep.key.clone()).or_insert_with(|| WantedKey {
                kinds: BTreeSet::new(),
                declared_in: BTreeSet::new(),
                pos: dep.pos.clone(),
            });
            entry.kinds.extend(dep.kinds.iter().copied());
            entry.declared_in.insert(file.clone());
        }
        // A group is provided by its members in the workspace; rosdep has no groups.
        for group in &m.group_depends {
            if !groups.contains(group.key.as_str()) {
                return Err(Error::profile(
                    group.pos.clone(),
                    "group_depend",
                    format!(
                        "no package of the workspace is a member of the group `{}`",
                        group.key
                    ),
                    Some(
                        "add the group's packages to the workspace, or remove the <group_depend>"
                            .into(),
                    ),
                ));
            }
        }
    }
    for key in &profile.dependencies.keys {
        if profile.dependencies.skip.contains(key) {
            continue;
        }
        let entry = wanted.entry(key.clone()).or_insert_with(|| WantedKey {
            kinds: BTreeSet::new(),
            declared_in: BTreeSet::new(),
            pos: SourcePos {
                file: profile.chain.first().cloned().unwrap_or_default(),
                line: 0,
                column: 0,
            },
        });
        entry.kinds.extend([DepKind::Build, DepKind::Exec]);
        entry.declared_in.insert("robodev.yaml".to_string());
    }
    Ok(wanted)
}

/// What the resolution of a profile depends on besides the keys.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolutionBasis {
    pub os: String,
    pub rosdistro: Option<String>,
    pub base_image: String,
}

pub fn basis(profile: &Profile) -> ResolutionBasis {
    ResolutionBasis {
        os: format!("{}:{}", profile.distro.os, profile.distro.codename),
        rosdistro: profile.distro.rosdistro.map(String::from),
        base_image: profile.base_image.clone(),
    }
}

fn kind_names(kinds: &BTreeSet<DepKind>) -> Vec<String> {
    kinds.iter().map(|k| k.name().to_string()).collect()
}

/// How the lock differs from what the workspace wants, in lines a user reads (`+ key`, `- key`,
/// `~ key: types`); empty when the lock is current. `declared_in` alone never makes it stale.
pub fn difference(
    wanted: &WantedKeys,
    basis: &ResolutionBasis,
    locked: Option<&LockedDependencies>,
) -> Vec<String> {
    let Some(locked) = locked else {
        return vec!["no dependencies are locked for this profile yet".to_string()];
    };
    let mut out = Vec::new();
    if locked.os != basis.os {
        out.push(format!("~ os: {} → {}", locked.os, basis.os));
    }
    if locked.rosdistro != basis.rosdistro {
        out.push(format!(
            "~ rosdistro: {} → {}",
            locked.rosdistro.as_deref().unwrap_or("none"),
            basis.rosdistro.as_deref().unwrap_or("none")
        ));
    }
    if locked.base_image != basis.base_image {
        out.push(format!(
            "~ base image: {} → {}",
            locked.base_image, basis.base_image
        ));
    }
    for (key, w) in wanted {
        match locked.keys.get(key) {
            None => out.push(format!("+ {key} (from {})", join(&w.declared_in))),
            Some(l) if l.types != kind_names(&w.kinds) => out.push(format!(
                "~ {key}: {} → {}",
                l.types.join(", "),
                kind_names(&w.kinds).join(", ")
            )),
            Some(_) => {}
        }
    }
    for key in locked.keys.keys().filter(|k| !wanted.contains_key(*k)) {
        out.push(format!("- {key}"));
    }
    out
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// The lock section for `wanted`, from rosdep's answers.
pub fn locked(
    wanted: &WantedKeys,
    basis: &ResolutionBasis,
    sources: &str,
    resolved: &BTreeMap<String, Resolved>,
) -> LockedDependencies {
    let keys = wanted
        .iter()
        .map(|(key, w)| {
            let r = resolved.get(key).cloned().unwrap_or_default();
            let locked = LockedKey {
                apt: r.apt,
                pip: r.pip,
                types: kind_names(&w.kinds),
                declared_in: w.declared_in.iter().cloned().collect(),
            };
            (key.clone(), locked)
        })
        .collect();
    LockedDependencies {
        os: basis.os.clone(),
        rosdistro: basis.rosdistro.clone(),
        base_image: basis.base_image.clone(),
        sources: sources.to_string(),
        keys,
    }
}

/// The lock with each key's `declared_in` brought up to date (a package.xml edit that moved a
/// dependency between packages changes no image).
pub fn with_current_declarations(
    locked: &LockedDependencies,
    wanted: &WantedKeys,
) -> LockedDependencies {
    let mut out = locked.clone();
    for (key, w) in wanted {
        if let Some(k) = out.keys.get_mut(key) {
            k.declared_in = w.declared_in.iter().cloned().collect();
        }
    }
    out
}

/// What one key resolved to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resolved {
    pub apt: Vec<String>,
    pub pip: Vec<String>,
}

/// The resolver: an image with the environment's base, tooling and ROS layers (the same
/// instructions, so the same cached layers) plus rosdep, and a throw-away container of it that
/// reads the image's rosdep sources, the host's and the profile's.
pub struct ResolverPlan {
    pub image: ImagePlan,
    pub container: ContainerPlan,
    pub cmd: Vec<String>,
}

/// Where the profile's rules files and the host's source lists appear in the resolver.
const SOURCES_INSIDE: &str = "/robodev/sources";
const HOST_LISTS_INSIDE: &str = "/robodev/host-sources";

/// The resolver's script; the keys are its arguments (never part of the script text).
const RESOLVE_SCRIPT: &str = r##"set -u
lists=/etc/ros/rosdep/sources.list.d
mkdir -p "$lists"
for f in /robodev/host-sources/*.list; do
  [ -f "$f" ] && cp "$f" "$lists/05-host-$(basename "$f")"
done
i=0
for f in /robodev/sources/*; do
  [ -f "$f" ] || continue
  echo "yaml file://$f" > "$lists/01-robodev-$i.list"
  i=$((i+1))
done
echo '#SOURCES'
cat "$lists"/*.list 2>/dev/null | sort
for f in /robodev/sources/*; do [ -f "$f" ] && sha256sum "$f"; done
echo '#END'
rosdep update $ROSDISTRO_ARG >/tmp/robodev-rosdep-update.log 2>&1
for key in "$@"; do
  echo "#KEY $key"
  rosdep resolve "$key" --os="$ROBODEV_OS" $ROSDISTRO_ARG 2>&1
  echo "#EXIT $?"
done
echo '#UPDATE'
tail -n 80 /tmp/robodev-rosdep-update.log
"##;

/// The rosdep configuration of the machine robodev runs on, which the resolver honours.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HostRosdep {
    /// `/etc/ros/rosdep/sources.list.d`, when it exists.
    pub lists_dir: Option<String>,
    /// Local files those lists (or `ROSDISTRO_INDEX_URL`) name: mounted at their own paths.
    pub files: Vec<String>,
    /// `ROSDISTRO_INDEX_URL`, as rosdep reads it.
    pub index_url: Option<String>,
}

/// Plan the resolver for `profile` and `keys`.
pub fn resolver(
    profile: &Profile,
    tooling: &[&str],
    renderer: &Renderer,
    keys: &[String],
    host: &HostRosdep,
) -> Result<ResolverPlan> {
    let image = super::image::plan_resolver_image(profile, tooling, renderer)?;
    let mut container = base_for_tool(&image.tag, "resolve");
    for (i, src) in profile.dependencies.sources.iter().enumerate() {
        let name = Path::new(src)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        container.push_mount(
            MountKind::Bind,
            src.clone(),
            format!("{SOURCES_INSIDE}/{i}-{name}"),
            true,
        );
    }
    if let Some(dir) = &host.lists_dir {
        container.push_mount(MountKind::Bind, dir.clone(), HOST_LISTS_INSIDE, true);
    }
    for file in &host.files {
        container.push_mount(MountKind::Bind, file.clone(), file.clone(), true);
    }
    let b = basis(profile);
    container.env.insert("ROBODEV_OS".into(), b.os);
    container.env.insert(
        "ROSDISTRO_ARG".into(),
        b.rosdistro
            .map(|d| format!("--rosdistro={d}"))
            .unwrap_or_default(),
    );
    if let Some(url) = &host.index_url {
        container
            .env
            .insert("ROSDISTRO_INDEX_URL".into(), url.clone());
    }
    let mut cmd = vec![
        "/bin/sh".to_string(),
        "-c".to_string(),
        RESOLVE_SCRIPT.to_string(),
        "robodev-resolve".to_string(),
    ];
    cmd.extend(keys.iter().cloned());
    Ok(ResolverPlan {
        image,
        container,
        cmd,
    })
}

/// rosdep's answers: what each key resolved to, and the identity of the sources it read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resolution {
    pub resolved: BTreeMap<String, Resolved>,
    /// Keys rosdep could not resolve, with its message.
    pub unresolved: BTreeMap<String, String>,
    /// `sha256:…` of the source lists and local rules files.
    pub sources: String,
    /// The end of `rosdep update`'s output, for errors.
    pub update_log: String,
}

/// Read the resolver's output.
pub fn parse_resolution(output: &str) -> Resolution {
    let mut out = Resolution::default();
    let mut sources = String::new();
    let mut section = "";
    let mut key: Option<String> = None;
    let mut installer = String::new();
    let mut messages = String::new();
    let mut current = Resolved::default();
    for line in output.lines() {
        if line == "#SOURCES" {
            section = "sources";
            continue;
        }
        if line == "#END" || line == "#UPDATE" {
            section = if line == "#UPDATE" { "update" } else { "" };
            continue;
        }
        if let Some(k) = line.strip_prefix("#KEY ") {
            section = "key";
            key = Some(k.to_string());
            current = Resolved::default();
            installer.clear();
            messages.clear();
            continue;
        }
        if let Some(code) = line.strip_prefix("#EXIT ") {
            if let Some(k) = key.take() {
                let usable = !current.apt.is_empty() || !current.pip.is_empty();
                if code.trim() == "0" && usable {
                    out.resolved.insert(k, std::mem::take(&mut current));
                } else {
                    let message = if code.trim() == "0" {
                        format!(
                            "rosdep resolves it with an installer robodev does not use ({installer})"
                        )
                    } else {
                        messages.trim().to_string()
                    };
                    out.unresolved.insert(k, message);
                }
            }
            section = "";
            continue;
        }
        match section {
            "sources" => {
                sources.push_str(line);
                sources.push('\n');
            }
            "update" => {
                out.update_log.push_str(line);
                out.update_log.push('\n');
            }
            "key" => {
                if let Some(inst) = line.strip_prefix('#') {
                    installer = inst.trim().to_string();
                } else if installer == "apt" {
                    current
                        .apt
                        .extend(line.split_whitespace().map(String::from));
                } else if installer == "pip" {
                    current
                        .pip
                        .extend(line.split_whitespace().map(String::from));
                } else {
                    messages.push_str(line);
                    messages.push('\n');
                }
            }
            _ => {}
        }
    }
    out.sources = format!("sha256:{}", hex::encode(Sha256::digest(sources.as_bytes())));
    out
}

/// The error for keys rosdep could not resolve: each with the package.xml and line that
/// declared it, and what to do.
pub fn unresolved_error(resolution: &Resolution, wanted: &WantedKeys) -> Option<Error> {
    let (key, message) = resolution.unresolved.iter().next()?;
    let pos = wanted.get(key).map(|w| w.pos.clone()).unwrap_or(SourcePos {
        file: "robodev.yaml".into(),
        line: 0,
        column: 0,
    });
    let others: Vec<&str> = resolution
        .unresolved
        .keys()
        .skip(1)
        .map(String::as_str)
        .collect();
    // `rosdep update` failed: no package.xml line is wrong; the sources it could not read are.
    if message.contains("not been initialized") {
        let mut keys = vec![key.as_str()];
        keys.extend(&others);
        return Some(update_failed(&resolution.update_log, &keys));
    }
    let mut text = format!(
        "rosdep cannot resolve `{key}` for this profile's OS: {}",
        first_line(message)
    );
    if !others.is_empty() {
        text.push_str(&format!(" (nor {})", others.join(", ")));
    }
    let mut help = format!(
        "a typo in the package.xml? a key from a rosdep source this machine lacks (add it to \
         `dependencies: {{sources: [rules.yaml]}}`)? an old cache (`rosdep update`)? Or skip it: \
         `dependencies: {{skip: [{key}]}}`"
    );
    // Some sources were read and some were not: the key may be in one that was not.
    for (source, why) in failed_sources(&resolution.update_log) {
        help.push_str(&format!("\nrosdep update could not read {source}: {why}"));
    }
    Some(Error::profile(pos, "rosdep key", text, Some(help)))
}

/// `rosdep update` could not read its sources: each one that failed, and why, as rosdep said.
fn update_failed(update_log: &str, keys: &[&str]) -> Error {
    let failed = failed_sources(update_log);
    let mut details: Vec<String> = failed
        .iter()
        .map(|(source, why)| format!("{source}: {why}"))
        .collect();
    if details.is_empty() {
        // rosdep said nothing robodev recognises: its last error line, as it is.
        let last = update_log
            .lines()
            .rev()
            .find(|l| l.contains("ERROR"))
            .unwrap_or("(no output)");
        details.push(format!("rosdep update said: {}", last.trim()));
    }
    Error::CheckFailed {
        message: format!(
            "rosdep update failed: {} of its sources could not be read, so the workspace's \
             dependencies ({}) cannot be resolved:",
            failed.len().max(1),
            keys.join(", ")
        ),
        details,
        help: Some(
            "online, check the network or the source's address; offline, point \
             ROSDISTRO_INDEX_URL at a local index (`file://…/index.yaml`) and list your rules \
             files in `dependencies: {sources: [...]}` (README: Workspace dependencies, \
             \"Without the internet\")"
                .into(),
        ),
    }
}

/// The sources `rosdep update` reported it could not read: `ERROR: unable to process source
/// [URL]:` (a rules file) and `ERROR: error loading sources list:` (the rosdistro index), each
/// followed by rosdep's reason on the next, indented line.
pub fn failed_sources(update_log: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = update_log.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let reason = lines
            .get(i + 1)
            .filter(|l| l.starts_with([' ', '\t']))
            .map_or("", |l| l.trim());
        let (named, why) = address_in(reason);
        if let Some(rest) = line.strip_prefix("ERROR: unable to process source [") {
            let url = rest.split(']').next().unwrap_or(rest);
            out.push((url.to_string(), why));
        } else if line.starts_with("ERROR: error loading sources list")
            || line.starts_with("ERROR: invalid sources list file")
        {
            let url = named.unwrap_or_else(|| "the sources list".to_string());
            out.push((url, why));
        }
    }
    out
}

/// rosdep's reason, which ends with the address it could not read in parentheses (`<urlopen
/// error …> (URL)`, sometimes wrapped once more): the address, and the reason without it.
fn address_in(reason: &str) -> (Option<String>, String) {
    let Some(open) = reason.rfind(" (").filter(|&i| reason[i..].contains("://")) else {
        return (None, reason.to_string());
    };
    let after = &reason[open + 2..];
    let url = after.split(')').next().unwrap_or(after).to_string();
    let rest = &after[url.len()..];
    let why = format!("{}{}", &reason[..open], rest.trim_start_matches(')'));
    (Some(url), why)
}

fn first_line(text: &str) -> &str {
    text.trim().lines().next().unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_output_is_read() {
        let out = "#SOURCES\nyaml file:///robodev/sources/0-rules.yaml\n#END\n#KEY tree-key\n#apt\ntree\n#EXIT 0\n#KEY multi\n#apt\na b\n#EXIT 0\n#KEY six-key\n#pip\nsix\n#EXIT 0\n#KEY nope\nERROR: no rosdep rule for 'nope'\n#EXIT 1\n#KEY brew\n#homebrew\nfoo\n#EXIT 0\n#UPDATE\nupdated cache\n";
        let r = parse_resolution(out);
        assert_eq!(r.resolved["tree-key"].apt, vec!["tree"]);
        assert_eq!(r.resolved["multi"].apt, vec!["a", "b"]);
        assert_eq!(r.resolved["six-key"].pip, vec!["six"]);
        assert!(r.unresolved["nope"].contains("no rosdep rule"));
        assert!(r.unresolved["brew"].contains("homebrew"));
        assert!(r.sources.starts_with("sha256:"));
        assert!(r.update_log.contains("updated cache"));
    }

    /// rosdep's own words when it cannot read its sources (rosdep2's `update`): the error names
    /// each source and why, never a package.xml line.
    #[test]
    fn a_failed_rosdep_update_names_the_sources_it_could_not_read() {
        let log = "reading in sources list data from /etc/ros/rosdep/sources.list.d\n\
ERROR: unable to process source [https://rules.example.org/base.yaml]:\n\
\t<urlopen error [Errno -3] Temporary failure in name resolution> (https://rules.example.org/base.yaml)\n\
Hit file:///robodev/sources/rules.yaml\n\
Query rosdistro index https://index.example.org/index-v4.yaml\n\
ERROR: error loading sources list:\n\
\t<urlopen error [Errno 111] Connection refused> (https://index.example.org/index-v4.yaml)\n";
        let failed = failed_sources(log);
        assert_eq!(failed.len(), 2, "{failed:?}");
        assert_eq!(failed[0].0, "https://rules.example.org/base.yaml");
        assert!(failed[0].1.contains("name resolution"), "{failed:?}");
        assert_eq!(failed[1].0, "https://index.example.org/index-v4.yaml");
        assert_eq!(
            failed[1].1,
            "<urlopen error [Errno 111] Connection refused>"
        );

        let mut resolution = Resolution {
            update_log: log.to_string(),
            ..Default::default()
        };
        resolution.unresolved.insert(
            "gtest".into(),
            "ERROR: your rosdep installation has not been initialized yet.".into(),
        );
        let e = unresolved_error(&resolution, &WantedKeys::default()).unwrap();
        let Error::CheckFailed {
            message, details, ..
        } = &e
        else {
            panic!("not the update's error: {e:?}");
        };
        assert!(
            message.starts_with("rosdep update failed: 2 of its sources"),
            "{message}"
        );
        assert!(message.contains("gtest"), "{message}");
        assert!(
            details[0].starts_with("https://rules.example.org/base.yaml: "),
            "{details:?}"
        );
        assert!(
            details[1].contains("index-v4.yaml: <urlopen error [Errno 111]"),
            "{details:?}"
        );
        assert_eq!(e.exit_code(), 1);
    }
}

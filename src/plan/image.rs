//! The image half of a plan: the rendered Dockerfile, the build context, build arguments, and
//! the content hash that names the image. Pure: the same inputs give the same bytes.

use super::exec::ENTRYPOINT;
use super::labels;
use super::render::Renderer;
use super::user::ContainerUser;
use crate::error::Result;
use crate::facts::sources::SourceFile;
use crate::profile::secrets::{BuildSecret, SecretUse};
use crate::profile::{MountSpec, Profile, Shell};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Builds use the host network: robotics hosts running ROS with host networking often have no
/// bridge, and a bridged build step may have no route out.
pub const BUILD_NETWORK: &str = "host";

/// Where the compiler cache volume is mounted (the image makes it the user's).
pub const CCACHE_DIR: &str = "/ccache";

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImagePlan {
    pub profile: String,
    pub dockerfile: String,
    /// The same Dockerfile with BuildKit cache mounts (apt's lists and archives, pip's cache,
    /// ccache) for builders that read them; `None` when it would be the same text. Not part of
    /// the hash: a cache mount is never part of the image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_mount_dockerfile: Option<String>,
    /// Files sent as the build context besides the Dockerfile, by name.
    pub context: BTreeMap<String, String>,
    pub build_args: BTreeMap<String, String>,
    pub platform: Option<String>,
    /// The network build steps run in.
    pub network: String,
    /// sha256 over everything that determines the image.
    pub hash: String,
    /// `REPOSITORY:<hash prefix>`.
    pub tag: String,
    /// `robodev/<profile>` or `REGISTRY/NAMESPACE/<profile>`.
    pub repository: String,
    pub labels: BTreeMap<String, String>,
    /// Workspace files sent with the context (deploy images only), under `SOURCES_DIR/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<SourceTree>,
    /// The build secrets its Dockerfile mounts: ids and where their values are (never the
    /// values). Only BuildKit builds such a Dockerfile.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<BuildSecret>,
    /// Its pip steps get the user's ssh agent (`ssh: true`) and their `~/.ssh/known_hosts`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ssh: bool,
    /// `REGISTRY/NAMESPACE/NAME:buildcache`, the team's build cache (an image with BuildKit's
    /// inline cache, which `robodev push` publishes), when the profile has a registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_cache: Option<String>,
}

/// The tag `robodev push` gives the build cache beside the image's own.
pub const BUILD_CACHE_TAG: &str = "buildcache";

/// Files of a directory on this machine that a build's context carries.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceTree {
    /// The directory they are read from.
    pub root: std::path::PathBuf,
    pub files: Vec<SourceFile>,
}

/// Where the sources sit in a context robodev sends.
pub const SOURCES_DIR: &str = "ws";

/// robodev's own tooling layer: sudo, the shell, and what the hardware features need
/// (`feature_packages`). Changes rarely; the profile's `apt:` packages come after ROS.
pub fn tooling_packages(profile: &Profile, feature_packages: &[&str]) -> Vec<String> {
    let mut packages: Vec<String> = Vec::new();
    let mut add = |p: &str| {
        if !packages.iter().any(|x| x == p) {
            packages.push(p.to_string());
        }
    };
    if profile.security.sudo {
        add("sudo");
    }
    match profile.shell {
        Shell::Zsh => add("zsh"),
        Shell::Fish => add("fish"),
        Shell::Bash | Shell::Sh => {}
    }
    feature_packages.iter().for_each(|p| add(p));
    if profile.dependencies.ccache {
        add("ccache");
    }
    packages
}

/// Lines for a shell's system rc file that source the ROS setup and the workspace overlay;
/// `ext` is the setup script's extension (`bash`, `zsh`), as ROS ships one per shell.
fn rc_lines(profile: &Profile, ext: &str) -> Vec<String> {
    let mut lines = vec!["# robodev: the ROS environment in interactive shells".to_string()];
    if let Some(dir) = profile.distro.setup_dir {
        lines.push(format!(
            "if [ -f {dir}/setup.{ext} ]; then . {dir}/setup.{ext}; fi"
        ));
    }
    // colcon's install/, or catkin's devel/ (ROS 1 workspaces built with catkin_make).
    lines.push(format!(
        "if [ -n \"${{ROBODEV_WORKSPACE:-}}\" ]; then \
         if [ -f \"$ROBODEV_WORKSPACE/install/setup.{ext}\" ]; then . \"$ROBODEV_WORKSPACE/install/setup.{ext}\"; \
         elif [ -f \"$ROBODEV_WORKSPACE/devel/setup.{ext}\" ]; then . \"$ROBODEV_WORKSPACE/devel/setup.{ext}\"; fi; fi"
    ));
    lines
}

/// The workspace's locked dependencies, installed in their own layer after ROS.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DependencyLayer {
    pub apt: Vec<String>,
    pub pip: Vec<String>,
}

/// `from`: the base image reference the Dockerfile starts from (the profile's `base_image`,
/// with robodev.lock's digest when it is pinned).
pub fn plan_image(
    profile: &Profile,
    from: &str,
    user: &ContainerUser,
    feature_packages: &[&str],
    deps: &DependencyLayer,
    renderer: &Renderer,
) -> Result<ImagePlan> {
    let env: Vec<serde_json::Value> = profile
        .env
        .iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    let context_vars = json!({
        "profile": profile.name,
        "distro": profile.distro.name,
        "variant": profile.variant.name(),
        "base_image": from,
        "platform": profile.platform,
        "tooling_packages": tooling_packages(profile, feature_packages),
        "apt_layers": profile.apt_layers,
        "ros_packages": profile.ros_packages,
        "pip_packages": profile.pip,
        "user_mode": if user.is_root() { "root" } else { "host" },
        "sudo": profile.security.sudo,
        "shell_path": profile.shell.path(),
        "setup_dir": profile.distro.setup_dir,
        "bashrc_lines": rc_lines(profile, "bash"),
        "zshrc_lines": if profile.shell == Shell::Zsh { rc_lines(profile, "zsh") } else { Vec::new() },
        "env": env,
        "entrypoint": ENTRYPOINT,
        "volume_targets": volume_targets(profile),
        "deps_apt": deps.apt,
        "deps_pip": deps.pip,
    });
    let (dockerfile, cache_mount_dockerfile) =
        render_dockerfiles(renderer, "Dockerfile.j2", context_vars.clone(), profile)?;
    let context_vars = with_cache_mounts(context_vars, profile, false);
    let mut context = BTreeMap::new();
    context.insert(
        "robodev-entrypoint".to_string(),
        renderer.render("robodev-entrypoint.j2", &context_vars)?,
    );
    context.insert(
        ".dockerignore".to_string(),
        renderer.render("dockerignore.j2", &context_vars)?,
    );

    let mut build_args = BTreeMap::new();
    if !user.is_root() {
        build_args.insert("ROBODEV_USER".to_string(), user.name.clone());
        build_args.insert("ROBODEV_UID".to_string(), user.uid.to_string());
        build_args.insert("ROBODEV_GID".to_string(), user.gid.to_string());
    }

    let mut plan = finish(
        profile,
        &repository(profile),
        dockerfile,
        context,
        build_args,
    );
    plan.cache_mount_dockerfile = cache_mount_dockerfile;
    Ok(plan)
}

/// A template's Dockerfile twice: as every builder reads it (no cache mounts; this text is
/// hashed, and `generate` writes it), and with BuildKit cache mounts (`None` when the same).
pub(super) fn render_dockerfiles(
    renderer: &Renderer,
    template: &str,
    vars: serde_json::Value,
    profile: &Profile,
) -> Result<(String, Option<String>)> {
    let plain = renderer.render(template, &with_cache_mounts(vars.clone(), profile, false))?;
    let mounts = renderer.render(template, &with_cache_mounts(vars, profile, true))?;
    Ok(if mounts == plain {
        (plain, None)
    } else {
        (plain, Some(mounts))
    })
}

/// `vars` with `cache_mounts` and `cache_id`: the prefix of the cache mounts' ids. One cache per
/// distro and platform: apt's lists of one release would be pruned by another's `apt-get
/// update`. Made of `[a-z0-9-]` only, whatever the profile says.
pub(super) fn with_cache_mounts(
    mut vars: serde_json::Value,
    profile: &Profile,
    on: bool,
) -> serde_json::Value {
    let key = format!(
        "robodev-{}-{}",
        profile.distro.name,
        profile.platform.as_deref().unwrap_or("native")
    );
    let id: String = key
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let secrets = |used: SecretUse| -> Vec<&str> {
        profile
            .secrets
            .iter()
            .filter(|s| s.used_for == used)
            .map(|s| s.id.as_str())
            .collect()
    };
    if let Some(map) = vars.as_object_mut() {
        map.insert("cache_mounts".into(), json!(on));
        map.insert("cache_id".into(), json!(id));
        map.insert("apt_secrets".into(), json!(secrets(SecretUse::Apt)));
        map.insert("pip_secrets".into(), json!(secrets(SecretUse::Pip)));
        map.insert("apt_repositories".into(), json!(profile.apt_repositories));
        map.insert("ssh".into(), json!(profile.ssh));
    }
    vars
}

/// The image of `rosdep resolve`: the environment's base, tooling and ROS layers (the same
/// instructions, so the same cached layers) and rosdep.
pub fn plan_resolver_image(
    profile: &Profile,
    feature_packages: &[&str],
    renderer: &Renderer,
) -> Result<ImagePlan> {
    let vars = json!({
        "profile": profile.name,
        "base_image": profile.base_image,
        "platform": profile.platform,
        "tooling_packages": tooling_packages(profile, feature_packages),
        "ros_packages": profile.ros_packages,
        "rosdep_package": profile.distro.rosdep_package,
    });
    let (dockerfile, cache_mount_dockerfile) =
        render_dockerfiles(renderer, "resolver.j2", vars, profile)?;
    let mut plan = finish(
        profile,
        &format!("robodev/{}-resolver", profile.name),
        dockerfile,
        BTreeMap::new(),
        BTreeMap::new(),
    );
    plan.cache_mount_dockerfile = cache_mount_dockerfile;
    Ok(plan)
}

/// Hash, tag and label a rendered image.
pub(super) fn finish(
    profile: &Profile,
    repository: &str,
    dockerfile: String,
    context: BTreeMap<String, String>,
    build_args: BTreeMap<String, String>,
) -> ImagePlan {
    finish_with_sources(profile, repository, dockerfile, context, build_args, None)
}

/// `finish` for a context that also carries workspace files: the hash covers their content.
pub(super) fn finish_with_sources(
    profile: &Profile,
    repository: &str,
    dockerfile: String,
    context: BTreeMap<String, String>,
    build_args: BTreeMap<String, String>,
    sources: Option<SourceTree>,
) -> ImagePlan {
    let mut hash = image_hash(
        &dockerfile,
        &context,
        &build_args,
        profile.platform.as_deref(),
    );
    if let Some(tree) = &sources {
        let mut h = Sha256::new();
        h.update(hash.as_bytes());
        for f in &tree.files {
            h.update(format!("{}\0{:o}\0{}\n", f.path, f.mode, f.sha256).as_bytes());
        }
        hash = hex::encode(h.finalize());
    }
    let tag = format!("{repository}:{}", &hash[..12]);
    let labels = BTreeMap::from([
        (labels::PROFILE.to_string(), profile.name.clone()),
        (labels::HASH.to_string(), hash.clone()),
        (labels::REPOSITORY.to_string(), repository.to_string()),
        (
            labels::VERSION.to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ]);
    ImagePlan {
        profile: profile.name.clone(),
        dockerfile,
        cache_mount_dockerfile: None,
        context,
        build_args,
        platform: profile.platform.clone(),
        network: BUILD_NETWORK.to_string(),
        hash,
        tag,
        repository: repository.to_string(),
        labels,
        sources,
        secrets: profile.secrets.clone(),
        ssh: profile.ssh,
        registry_cache: profile
            .registry
            .as_ref()
            .filter(|r| repository.starts_with(&format!("{r}/")))
            .map(|_| format!("{repository}:{BUILD_CACHE_TAG}")),
    }
}

/// Where named volumes are mounted: the image makes these directories and gives them to the
/// user, because a new volume starts as a copy of its mount point (root-owned otherwise).
fn volume_targets(profile: &Profile) -> Vec<&str> {
    let mut targets: Vec<&str> = profile
        .mounts
        .iter()
        .filter_map(|m| match m {
            MountSpec::Volume { target, .. } => Some(target.as_str()),
            _ => None,
        })
        .collect();
    if profile.dependencies.ccache {
        targets.push(CCACHE_DIR);
    }
    targets
}

/// Length-prefixed fields, so no two different inputs can produce the same byte stream.
fn image_hash(
    dockerfile: &str,
    context: &BTreeMap<String, String>,
    args: &BTreeMap<String, String>,
    platform: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    let mut field = |tag: &str, bytes: &[u8]| {
        h.update(tag.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field("dockerfile", dockerfile.as_bytes());
    for (name, content) in context {
        field("file", name.as_bytes());
        field("content", content.as_bytes());
    }
    for (k, v) in args {
        field("arg", k.as_bytes());
        field("value", v.as_bytes());
    }
    field("platform", platform.unwrap_or("").as_bytes());
    hex::encode(h.finalize())
}

/// Where a profile's environment image is named: `REGISTRY/NAMESPACE/NAME` when the profile
/// shares images through a registry, `robodev/NAME` otherwise.
pub fn repository(profile: &Profile) -> String {
    match &profile.registry {
        Some(registry) => format!("{registry}/{}", profile.name),
        None => format!("robodev/{}", profile.name),
    }
}

/// Whether `tag` is the name robodev gave the image with these labels: its repository label
/// (or `robodev/…` for images from before that label) and the first 12 of its hash. An image
/// built `FROM` a robodev image, or a `docker commit` of a robodev container, inherits the
/// labels but not such a tag.
pub fn is_robodev_tag(tag: &str, image_labels: &std::collections::HashMap<String, String>) -> bool {
    let Some((repo, short)) = tag.rsplit_once(':') else {
        return false;
    };
    let hash = image_labels
        .get(labels::HASH)
        .map(String::as_str)
        .unwrap_or("");
    let repo_ok = match image_labels.get(labels::REPOSITORY) {
        Some(named) => named == repo,
        None => repo.starts_with("robodev/"),
    };
    repo_ok && short.len() == 12 && !hash.is_empty() && hash.starts_with(short)
}

/// A file of the build context as it is written to disk or packed.
pub struct ContextFile<'a> {
    pub name: &'a str,
    pub content: &'a str,
    /// Scripts are executable; dotfiles (`.dockerignore`) are not.
    pub executable: bool,
}

impl ImagePlan {
    /// The tag's own part: the first 12 of the hash.
    pub fn short_tag(&self) -> &str {
        &self.hash[..12]
    }

    /// The images the Dockerfile's `FROM` lines name (not its own stages), in order.
    pub fn base_images(&self) -> Vec<String> {
        let mut stages: Vec<String> = Vec::new();
        let mut bases: Vec<String> = Vec::new();
        for line in self.dockerfile.lines() {
            let mut words = line.split_whitespace();
            if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("FROM")) {
                continue;
            }
            let mut words = words.skip_while(|w| w.starts_with("--"));
            let Some(image) = words.next() else { continue };
            if !stages.iter().any(|s| s == image) && !bases.iter().any(|b| b == image) {
                bases.push(image.to_string());
            }
            if words.next().is_some_and(|w| w.eq_ignore_ascii_case("AS"))
                && let Some(stage) = words.next()
            {
                stages.push(stage.to_string());
            }
        }
        bases
    }

    /// The context files besides the Dockerfile, each with its mode.
    pub fn context_files(&self) -> impl Iterator<Item = ContextFile<'_>> {
        self.context.iter().map(|(name, content)| ContextFile {
            name,
            content,
            executable: !name.starts_with('.'),
        })
    }
}

/// An image reference as repository and reference: `(repo, "sha256:…")` for a digest,
/// `(repo, tag)` for a tag, `(repo, "latest")` for neither.
pub fn split_reference(image: &str) -> (&str, &str) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo, digest);
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (image, "latest"),
    }
}

/// The profile section each Dockerfile instruction after `FROM` belongs to, in order: what
/// `robodev image history` puts beside each layer. Sections are the template's comments.
pub fn instruction_sections(dockerfile: &str) -> Vec<(String, &'static str)> {
    let section_of = |comment: &str| -> Option<&'static str> {
        let c = comment.trim_start_matches('#').trim();
        Some(if c.starts_with("robodev's tooling") {
            "tooling"
        } else if c.starts_with("ROS packages") {
            "ROS packages"
        } else if c.starts_with("Workspace dependencies") {
            "dependencies"
        } else if c.starts_with("System packages") {
            "system packages"
        } else if c.starts_with("Python packages") {
            "pip"
        } else if c.starts_with("The user") || c.starts_with("The ROS environment") {
            "user"
        } else if c.starts_with("Environment") {
            "environment"
        } else {
            return None;
        })
    };
    let mut out = Vec::new();
    let mut section = "setup";
    let mut after_from = false;
    let mut current = String::new();
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        if current.is_empty() && trimmed.starts_with('#') {
            if let Some(s) = section_of(trimmed) {
                section = s;
            }
            continue;
        }
        if current.is_empty() && trimmed.is_empty() {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(body) => {
                current.push_str(body);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                let instruction = std::mem::take(&mut current);
                if instruction.trim_start().starts_with("FROM ") {
                    after_from = true;
                    out.clear();
                } else if after_from {
                    // ENTRYPOINT and CMD close the user's part of the image.
                    let s = if instruction.starts_with("ENTRYPOINT")
                        || instruction.starts_with("CMD")
                    {
                        "user"
                    } else {
                        section
                    };
                    out.push((instruction, s));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_at_the_digest_or_the_last_tag() {
        assert_eq!(
            split_reference("localhost:5000/base/debian:bookworm"),
            ("localhost:5000/base/debian", "bookworm")
        );
        assert_eq!(
            split_reference("localhost:5000/debian"),
            ("localhost:5000/debian", "latest")
        );
        assert_eq!(
            split_reference("ros:humble@sha256:abc"),
            ("ros:humble", "sha256:abc")
        );
    }

    #[test]
    fn base_images_are_the_from_lines_that_name_no_stage() {
        let plan = ImagePlan {
            secrets: Vec::new(),
            ssh: false,
            registry_cache: None,
            cache_mount_dockerfile: None,
            profile: "p".into(),
            dockerfile: "FROM --platform=linux/arm64 a:1 AS build\nRUN x\nFROM b:2\n\
                         COPY --from=build /x /x\nFROM build AS again\nFROM a:1\n"
                .into(),
            context: BTreeMap::new(),
            build_args: BTreeMap::new(),
            platform: None,
            network: "host".into(),
            hash: "0".repeat(64),
            tag: String::new(),
            repository: String::new(),
            labels: BTreeMap::new(),
            sources: None,
        };
        assert_eq!(plan.base_images(), ["a:1", "b:2"]);
    }
}

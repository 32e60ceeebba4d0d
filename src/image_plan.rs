//! The image half of a plan: the rendered Dockerfile, the build context, build arguments, and
//! the content hash that names the image. Pure: the same inputs give the same bytes.

use crate::error::Result;
use crate::host::HostUser;
use crate::profile::{GpuMode, Profile, Shell, UserMode};
use crate::render::Renderer;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Libraries OpenGL programs (RViz, Gazebo) need when the NVIDIA runtime injects the driver.
const GLVND_PACKAGES: &[&str] = &["libglvnd0", "libgl1", "libglx0", "libegl1", "libgles2"];

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImagePlan {
    pub profile: String,
    pub dockerfile: String,
    /// Files sent as the build context besides the Dockerfile, by name.
    pub context: BTreeMap<String, String>,
    pub build_args: BTreeMap<String, String>,
    pub platform: Option<String>,
    /// sha256 over everything that determines the image.
    pub hash: String,
    /// `robodev/<profile>:<hash prefix>`.
    pub tag: String,
    pub labels: BTreeMap<String, String>,
}

/// Who the container user is, decided from the profile and the host.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContainerUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

impl ContainerUser {
    pub fn for_profile(profile: &Profile, host: &HostUser) -> ContainerUser {
        if profile.user == UserMode::Root || host.uid == 0 {
            return ContainerUser {
                name: "root".into(),
                uid: 0,
                gid: 0,
                home: "/root".into(),
            };
        }
        // A host name that is not a portable user name (rare: capitals, a leading digit) is
        // replaced; the uid and gid are what matter for file ownership.
        let name = if crate::grammar::user_name(&host.name).is_ok() {
            host.name.clone()
        } else {
            "dev".into()
        };
        ContainerUser {
            home: format!("/home/{name}"),
            name,
            uid: host.uid,
            gid: host.gid,
        }
    }

    pub fn is_root(&self) -> bool {
        self.uid == 0
    }
}

/// The GPU mode after `auto` has been resolved.
pub fn system_packages(profile: &Profile, gpu: GpuMode) -> Vec<String> {
    let mut packages: Vec<String> = Vec::new();
    let mut add = |p: &str| {
        if !packages.iter().any(|x| x == p) {
            packages.push(p.to_string());
        }
    };
    add("sudo");
    match profile.shell {
        Shell::Zsh => add("zsh"),
        Shell::Fish => add("fish"),
        Shell::Bash | Shell::Sh => {}
    }
    if !profile.pip.is_empty() {
        add("python3-pip");
    }
    if gpu == GpuMode::Nvidia {
        GLVND_PACKAGES.iter().for_each(|p| add(p));
    }
    for p in &profile.apt {
        add(p);
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
    lines.push(format!(
        "if [ -n \"${{ROBODEV_WORKSPACE:-}}\" ] && [ -f \"$ROBODEV_WORKSPACE/install/setup.{ext}\" ]; then \
         . \"$ROBODEV_WORKSPACE/install/setup.{ext}\"; fi"
    ));
    lines
}

pub fn plan_image(
    profile: &Profile,
    user: &ContainerUser,
    gpu: GpuMode,
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
        "base_image": profile.base_image,
        "platform": profile.platform,
        "system_packages": system_packages(profile, gpu),
        "ros_packages": profile.ros_packages,
        "pip_packages": profile.pip,
        "user_mode": if user.is_root() { "root" } else { "host" },
        "shell_path": profile.shell.path(),
        "setup_dir": profile.distro.setup_dir,
        "bashrc_lines": rc_lines(profile, "bash"),
        "zshrc_lines": if profile.shell == Shell::Zsh { rc_lines(profile, "zsh") } else { Vec::new() },
        "env": env,
    });
    let dockerfile = renderer.render("Dockerfile.j2", &context_vars)?;
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

    let hash = image_hash(
        &dockerfile,
        &context,
        &build_args,
        profile.platform.as_deref(),
    );
    let tag = format!("robodev/{}:{}", profile.name, &hash[..12]);
    let labels = BTreeMap::from([
        ("robodev.profile".to_string(), profile.name.clone()),
        ("robodev.hash".to_string(), hash.clone()),
        (
            "robodev.version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ]);
    Ok(ImagePlan {
        profile: profile.name.clone(),
        dockerfile,
        context,
        build_args,
        platform: profile.platform.clone(),
        hash,
        tag,
        labels,
    })
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

impl ImagePlan {
    /// The build context as an in-memory tar: the Dockerfile and the context files.
    pub fn context_tar(&self) -> std::io::Result<Vec<u8>> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut add = |name: &str, content: &str, mode: u32| -> std::io::Result<()> {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(mode);
            header.set_mtime(0);
            header.set_cksum();
            builder.append_data(&mut header, name, content.as_bytes())
        };
        add("Dockerfile", &self.dockerfile, 0o644)?;
        for (name, content) in &self.context {
            add(
                name,
                content,
                if name.starts_with('.') { 0o644 } else { 0o755 },
            )?;
        }
        builder.into_inner()
    }
}

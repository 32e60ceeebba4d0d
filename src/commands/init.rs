//! `robodev init`: write robodev.yaml — a wizard on a terminal, flags with `--yes` or without one.

use super::session::Session;
use crate::cli::InitArgs;
use crate::error::{Error, Result};
use crate::facts::HostFacts;
use crate::facts::devices::offered_devices;
use crate::facts::machine_files::LocalFiles;
use crate::facts::workspace::colcon_packages;
use crate::files::write_atomic;
use crate::plan::hardware::gpu;
use crate::profile::distro::{self, Distro};
use crate::profile::{GpuMode, HotplugClass, WORKSPACE_FILE, name};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// The answers, however they were given.
#[derive(Debug, Clone, PartialEq)]
pub struct InitAnswers {
    pub name: String,
    pub distro: String,
    pub variant: String,
    pub gpu: String,
    pub devices: Vec<String>,
    pub hotplug: Vec<String>,
    pub x11: bool,
    pub wayland: bool,
    pub apt: Vec<String>,
    /// Mount point of a detected colcon workspace.
    pub workspace_mount: Option<String>,
}

/// The GPU this machine seems to have, from the same host facts planning uses.
fn detected_gpu() -> &'static str {
    match gpu::host_suggestion(&HostFacts::probe(&[])) {
        GpuMode::Nvidia => "nvidia",
        GpuMode::Dri => "dri",
        _ => "none",
    }
}

fn yaml_string(s: &str) -> String {
    // A JSON string is a valid YAML double-quoted scalar.
    serde_json::to_string(s).unwrap_or_default()
}

pub fn render_profile(a: &InitAnswers) -> String {
    let mut y = String::from(
        "# robodev workspace profile: `robodev up` builds and enters it, `robodev devcontainer`\n# makes the VS Code dev container from it. Reference: the README's profile section.\nversion: 1\n",
    );
    y.push_str(&format!("name: {}\n", yaml_string(&a.name)));
    // The distro's built-in profile brings its toolchain (compiler, colcon, rosdep): a profile
    // naming only `ros.distro` would build an image without them.
    y.push_str(&format!(
        "extends: {}\nros:\n  variant: {}\n",
        yaml_string(&a.distro),
        yaml_string(&a.variant)
    ));
    if let Some(mount) = &a.workspace_mount {
        y.push_str(&format!(
            "workspace:\n  path: .\n  mount: {}\n",
            yaml_string(mount)
        ));
    }
    if a.gpu != "none" {
        y.push_str(&format!("gpu: {}\n", yaml_string(&a.gpu)));
    }
    if !a.devices.is_empty() {
        y.push_str("devices:\n");
        for d in &a.devices {
            y.push_str(&format!("  - {}\n", yaml_string(d)));
        }
    }
    if !a.hotplug.is_empty() {
        y.push_str(&format!(
            "hotplug: [{}]\n",
            a.hotplug
                .iter()
                .map(|h| yaml_string(h))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if a.x11 {
        y.push_str("x11: true\n");
    }
    if a.wayland {
        y.push_str("wayland: true\n");
    }
    if !a.apt.is_empty() {
        y.push_str("apt:\n");
        for p in &a.apt {
            y.push_str(&format!("  - {}\n", yaml_string(p)));
        }
    }
    y
}

fn from_flags(args: &InitArgs, root: &Path) -> InitAnswers {
    InitAnswers {
        name: args
            .name
            .clone()
            .unwrap_or_else(|| name::of_directory(root)),
        distro: args.distro.clone().unwrap_or_else(|| "jazzy".into()),
        variant: args.variant.clone().unwrap_or_else(|| "ros-base".into()),
        gpu: args.gpu.clone().unwrap_or_else(|| "none".into()),
        devices: args.devices.clone(),
        hotplug: args.hotplug.clone(),
        x11: args.x11,
        wayland: args.wayland,
        apt: args.apt.clone(),
        workspace_mount: None,
    }
}

fn wizard(mut a: InitAnswers) -> Result<InitAnswers> {
    use dialoguer::{Confirm, Input, MultiSelect, Select};
    let today = distro::today();
    let names = Distro::names();
    let labels: Vec<String> = distro::DISTROS
        .iter()
        .map(|d| match (d.end_of_life, d.is_end_of_life(&today)) {
            (Some(eol), true) => format!(
                "{} (ROS {}, end of life since {eol})",
                d.name, d.ros_version
            ),
            (Some(eol), false) => {
                format!("{} (ROS {}, supported until {eol})", d.name, d.ros_version)
            }
            (None, _) => format!("{} (ROS {})", d.name, d.ros_version),
        })
        .collect();
    let default = names.iter().position(|n| *n == a.distro).unwrap_or(0);
    let i = Select::new()
        .with_prompt("ROS distro")
        .items(&labels)
        .default(default)
        .interact()
        .map_err(prompt_error)?;
    let chosen = &distro::DISTROS[i];
    if let Some(w) = chosen.life_warning(&today) {
        eprintln!("warning: {w}");
    }
    a.distro = chosen.name.to_string();
    let variants: Vec<&str> = chosen.variants.iter().map(|v| v.name()).collect();
    let vdefault = variants.iter().position(|v| *v == a.variant).unwrap_or(0);
    a.variant = variants[Select::new()
        .with_prompt("Variant")
        .items(&variants)
        .default(vdefault)
        .interact()
        .map_err(prompt_error)?]
    .to_string();
    let gdefault = GpuMode::NAMES.iter().position(|g| *g == a.gpu).unwrap_or(0);
    a.gpu = GpuMode::NAMES[Select::new()
        .with_prompt(format!("GPU (this machine: {})", detected_gpu()))
        .items(GpuMode::NAMES)
        .default(gdefault)
        .interact()
        .map_err(prompt_error)?]
    .to_string();
    let found = offered_devices(&LocalFiles);
    if !found.is_empty() {
        let picked = MultiSelect::new()
            .with_prompt("Devices to pass through (space toggles)")
            .items(&found)
            .interact()
            .map_err(prompt_error)?;
        a.devices = picked.into_iter().map(|i| found[i].clone()).collect();
    }
    let hot = MultiSelect::new()
        .with_prompt("Hotplug classes (devices plugged in later, no --privileged)")
        .items(HotplugClass::NAMES)
        .interact()
        .map_err(prompt_error)?;
    a.hotplug = hot
        .into_iter()
        .map(|i| HotplugClass::NAMES[i].to_string())
        .collect();
    a.x11 = Confirm::new()
        .with_prompt("Forward the X11 display (RViz, rqt)?")
        .default(a.x11)
        .interact()
        .map_err(prompt_error)?;
    let apt: String = Input::new()
        .with_prompt("Extra apt packages (space separated)")
        .allow_empty(true)
        .interact_text()
        .map_err(prompt_error)?;
    a.apt.extend(apt.split_whitespace().map(String::from));
    Ok(a)
}

/// An error in what `init` is about to write comes from an answer, not from a file: name the
/// flag (or the question) that gave it.
fn answer_error(e: Error, from_flags: bool) -> Error {
    let Error::Profile {
        field,
        message,
        help,
        ..
    } = e
    else {
        return e;
    };
    let top = field.split(['.', '[']).next().unwrap_or("");
    let flag = match top {
        "devices" => "--device",
        "apt" => "--apt",
        "hotplug" => "--hotplug",
        "gpu" => "--gpu",
        "ros" => "--variant",
        "extends" => "--distro",
        "name" => "--name",
        other => other,
    };
    let source = if from_flags {
        flag.to_string()
    } else {
        format!("the answer for {flag}")
    };
    Error::Usage {
        message: format!("{source}: {message}"),
        help: Some(
            help.unwrap_or_else(|| "nothing was written; correct it and run init again".into()),
        ),
    }
}

fn prompt_error(e: dialoguer::Error) -> Error {
    match e {
        dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
            Error::Cancelled
        }
        dialoguer::Error::IO(io) => Error::io("the prompt failed", io),
    }
}

pub fn init(s: &Session, args: InitArgs) -> Result<i32> {
    let root: PathBuf = s.workspace.root.clone();
    let path = root.join(WORKSPACE_FILE);
    if path.exists() && !args.force {
        return Err(Error::usage_with_help(
            format!("{} already exists", path.display()),
            "pass --force to replace it",
        ));
    }
    let mut answers = from_flags(&args, &root);
    let packages = colcon_packages(&root).len();
    if packages > 0 {
        let mount = format!("/workspaces/{}", answers.name);
        s.ui.info(format!(
            "found a colcon workspace with {packages} package(s); it will be mounted at {mount}"
        ));
        answers.workspace_mount = Some(mount);
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !args.yes {
        if !interactive {
            return Err(Error::usage_with_help(
                "robodev init needs a terminal to ask its questions",
                "pass the answers as flags with --yes, e.g. `robodev init --distro humble --gpu nvidia --device /dev/ttyUSB0 --x11 --yes`",
            ));
        }
        if args.gpu.is_none() {
            answers.gpu = detected_gpu().to_string();
        }
        answers.x11 = answers.x11 || std::env::var_os("DISPLAY").is_some();
        answers = wizard(answers)?;
    }
    let text = render_profile(&answers);
    // Validate what we are about to write exactly as `up` would read it: a bad flag is an error
    // now, with its field, and no file is written.
    let profile = crate::profile::validate_text(&s.search, &path, &text, &distro::today())
        .map_err(|e| answer_error(e, args.yes))?;
    s.show(&profile.warnings);
    write_atomic(&path, &text)?;
    s.ui.success(format!(
        "wrote {}; next: `robodev doctor`, then `robodev up`",
        path.display()
    ));
    Ok(0)
}

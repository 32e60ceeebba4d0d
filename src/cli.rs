//! The command line, exactly as typed. Validation and work happen elsewhere.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "robodev",
    version,
    about = "Reproducible Docker development environments for robotics (ROS) teams",
    long_about = "robodev turns a workspace profile (ROS distro, GPU, devices, display, packages) into a \
                  Docker image and a long-lived container with your workspace mounted under your own \
                  uid/gid, and the same profile into a VS Code dev container.",
    after_help = "Examples:\n  robodev up humble          build if needed, then open a shell\n  robodev exec -- colcon build\n  robodev doctor             check this machine for the profile's needs"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// The workspace root (default: the nearest directory with a robodev.yaml, or the current one)
    #[arg(long, short = 'w', global = true, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// A directory of templates that override the shipped ones by name
    #[arg(long, global = true, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Show more: the full build log, what robodev decided
    #[arg(long, short = 'v', global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Print only errors
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// The engine to use: unix:///…, tcp://HOST:PORT (TLS with DOCKER_TLS_VERIFY), or
    /// ssh://USER@HOST[:PORT] (default: DOCKER_HOST, DOCKER_CONTEXT, `engine:` in your robodev
    /// config, the docker CLI's current context, the local socket)
    #[arg(long, short = 'H', global = true, value_name = "URL")]
    pub host: Option<String>,
    /// On an engine on another machine, the uid and gid the container user has there
    /// (default: the ssh user's; a TCP engine does not say, so yours here)
    #[arg(long, global = true, value_name = "UID[:GID]", value_parser = crate::profile::grammar::uid_gid)]
    pub remote_user: Option<(u32, u32)>,
}

#[derive(Debug, Args, Clone)]
pub struct ProfileArg {
    /// Profile name or path (default: the workspace's robodev.yaml)
    #[arg(value_name = "PROFILE")]
    pub profile: Option<String>,
}

#[derive(Debug, Args, Clone, Copy, Default)]
pub struct BuildFlags {
    /// Build without the engine's layer cache
    #[arg(long)]
    pub no_cache: bool,
    /// Pull a newer base image before building
    #[arg(long)]
    pub pull: bool,
    /// Fail when robodev.lock does not match the workspace's dependencies (for CI) instead of
    /// updating it
    #[arg(long)]
    pub locked: bool,
    /// Build locally even when the team's registry has the image
    #[arg(long, conflicts_with = "offline")]
    pub build: bool,
    /// Never contact the registry (build what is missing)
    #[arg(long)]
    pub offline: bool,
    /// Build with the engine's classic builder even where it has BuildKit (no cache mounts,
    /// secrets or ssh there)
    #[arg(long)]
    pub classic_builder: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the image if needed, start the environment and open a shell in it
    #[command(
        after_help = "Examples:\n  robodev up humble\n  robodev up -d            leave it running without attaching\n  robodev up --recreate    apply profile changes to an existing container"
    )]
    Up {
        #[command(flatten)]
        profile: ProfileArg,
        #[command(flatten)]
        build: BuildFlags,
        /// Start in the background; do not open a shell
        #[arg(long, short = 'd')]
        detach: bool,
        /// Recreate the container if the profile changed since it was made
        #[arg(long)]
        recreate: bool,
    },
    /// Build the profile's image (no build call at all when an identical image exists)
    #[command(after_help = "Examples:\n  robodev build humble\n  robodev build --no-cache")]
    Build {
        #[command(flatten)]
        profile: ProfileArg,
        #[command(flatten)]
        build: BuildFlags,
    },
    /// Open a shell in the running environment
    #[command(after_help = "Example:\n  robodev shell")]
    Shell {
        #[command(flatten)]
        profile: ProfileArg,
    },
    /// Run a command in the running environment
    #[command(
        after_help = "Examples:\n  robodev exec -- colcon build --symlink-install\n  robodev exec jazzy -- ros2 topic list"
    )]
    Exec {
        #[command(flatten)]
        profile: ProfileArg,
        /// The command and its arguments
        #[arg(last = true, required = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
    /// Run a command in a throw-away container (for CI jobs); it is removed afterwards
    #[command(
        after_help = "Examples:\n  robodev run debian -- colcon test\n  robodev run --no-hardware -- colcon build   on a CI runner: no display, devices or GPU\n  robodev run -- bash < script.sh             piped input reaches the command"
    )]
    Run {
        #[command(flatten)]
        profile: ProfileArg,
        #[command(flatten)]
        build: BuildFlags,
        /// Leave out what needs this machine's hardware (display, sound, devices, GPU)
        #[arg(long)]
        no_hardware: bool,
        #[arg(last = true, required = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
    /// List robodev environments on this engine
    #[command(after_help = "Examples:\n  robodev ls\n  robodev ls --json")]
    Ls {
        /// Print JSON (stable field names) instead of text
        #[arg(long)]
        json: bool,
    },
    /// Show this workspace's environment: container, image, whether the profile changed
    #[command(after_help = "Example:\n  robodev status humble")]
    Status {
        #[command(flatten)]
        profile: ProfileArg,
        /// Print JSON (stable field names) instead of text
        #[arg(long)]
        json: bool,
    },
    /// Show the environment container's logs
    #[command(after_help = "Example:\n  robodev logs -f")]
    Logs {
        #[command(flatten)]
        profile: ProfileArg,
        /// Keep following the log
        #[arg(long, short = 'f')]
        follow: bool,
        /// Only the last N lines
        #[arg(long, value_name = "N")]
        tail: Option<String>,
    },
    /// Stop the environment (it keeps its changes; `up` starts it again)
    #[command(after_help = "Example:\n  robodev stop")]
    Stop {
        #[command(flatten)]
        profile: ProfileArg,
    },
    /// Remove the environment's container (never the workspace)
    #[command(
        after_help = "Examples:\n  robodev down\n  robodev down --volumes   also remove the profile's named volumes"
    )]
    Down {
        #[command(flatten)]
        profile: ProfileArg,
        /// Also remove the named volumes the profile declares
        #[arg(long)]
        volumes: bool,
    },
    /// Remove robodev's images that no container and no known profile uses any more
    #[command(
        after_help = "Examples:\n  robodev clean --dry-run\n  robodev clean --all      also images other users built on this engine\n  robodev clean --build-cache   also robodev's apt/pip/ccache build cache"
    )]
    Clean {
        /// Only list what would be removed
        #[arg(long)]
        dry_run: bool,
        /// Also consider images other users built (a shared engine)
        #[arg(long)]
        all: bool,
        /// Print JSON (stable field names) instead of text
        #[arg(long)]
        json: bool,
        /// Also prune robodev's BuildKit cache (its apt, pip and ccache cache mounts)
        #[arg(long)]
        build_cache: bool,
    },
    /// List the profiles robodev can find (workspace, user, built-in)
    #[command(after_help = "Example:\n  robodev profiles --json")]
    Profiles {
        /// Print JSON (stable field names) instead of text
        #[arg(long)]
        json: bool,
    },
    /// Work with one profile
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// List robodev's images: profile, size, age, the containers using them, the pushed digest
    #[command(after_help = "Examples:\n  robodev images\n  robodev images --json")]
    Images {
        /// Print JSON (stable field names) instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Work with a profile's current image: inspect, history, tag, rm
    #[command(subcommand)]
    Image(ImageCommand),
    /// Write the Dockerfile, .dockerignore and entrypoint robodev would build, to read or commit
    #[command(
        after_help = "Examples:\n  robodev generate humble             writes .robodev/docker/\n  robodev generate humble -o docker/"
    )]
    Generate {
        #[command(flatten)]
        profile: ProfileArg,
        /// Output directory (default: .robodev/docker in the workspace)
        #[arg(long, short = 'o', value_name = "DIR")]
        output: Option<PathBuf>,
        /// Replace files that robodev did not write
        #[arg(long)]
        force: bool,
        /// Write the deploy image's multistage Dockerfile instead (to .robodev/deploy/, or
        /// -o DIR inside the workspace: the workspace root is its build context)
        #[arg(long)]
        deploy: bool,
    },
    /// The workspace compiled into a slim runtime image for the robot (the profile's `deploy:`)
    #[command(subcommand)]
    Deploy(DeployCommand),
    /// On a remote engine with `workspace: {sync: true}`: send the workspace's changes to its
    /// copy there, or bring files back
    #[command(
        after_help = "Examples:\n  robodev sync                       send what changed since the last sync\n  robodev sync --pull install log    bring build results back"
    )]
    Sync {
        #[command(flatten)]
        profile: ProfileArg,
        /// Bring these workspace paths back from the remote copy instead
        #[arg(long, num_args = 1.., value_name = "PATH")]
        pull: Vec<String>,
    },
    /// The environment for other places: a Compose file, Kubernetes manifests
    #[command(subcommand)]
    Export(ExportCommand),
    /// CI pipelines that build the environment and run `robodev test`
    #[command(subcommand)]
    Ci(CiCommand),
    /// The workspace's other repositories, named by the profile's vcstool `.repos` files:
    /// cloned with your own git, their commits pinned in robodev.lock
    #[command(subcommand)]
    Sources(SourcesCommand),
    /// Build if needed and push the image to the profile's registry; record its digest in
    /// robodev.lock so teammates and CI pull exactly it
    #[command(
        after_help = "Example:\n  robodev push             (the profile says `registry: ghcr.io/my-team`)"
    )]
    Push {
        #[command(flatten)]
        profile: ProfileArg,
        #[command(flatten)]
        build: BuildFlags,
    },
    /// Build and test the workspace in a throw-away container of the environment's image:
    /// colcon build, colcon test, colcon test-result; the exit code says whether tests passed
    #[command(
        after_help = "Examples:\n  robodev test\n  robodev test --results test-results --packages-up-to rover_bringup\n\nThe display, devices and GPU are left out (a CI runner has none)."
    )]
    Test {
        #[command(flatten)]
        profile: ProfileArg,
        #[command(flatten)]
        build: BuildFlags,
        /// Copy the JUnit XML results and colcon's test logs into DIR
        #[arg(long, value_name = "DIR")]
        results: Option<PathBuf>,
        /// Only these packages (colcon --packages-select)
        #[arg(long, num_args = 1.., value_name = "PKG")]
        packages_select: Vec<String>,
        /// These packages and what they depend on (colcon --packages-up-to)
        #[arg(long, num_args = 1.., value_name = "PKG")]
        packages_up_to: Vec<String>,
    },
    /// Check a registry username and password and keep them where `docker login` does
    #[command(
        after_help = "Examples:\n  robodev login ghcr.io -u alice\n  echo \"$TOKEN\" | robodev login ghcr.io -u ci --password-stdin\n  robodev login            the registry of the workspace's profile"
    )]
    Login {
        /// The registry host (default: the profile's `registry:`)
        #[arg(value_name = "REGISTRY")]
        registry: Option<String>,
        /// The username (asked for on a terminal when absent)
        #[arg(long, short = 'u')]
        username: Option<String>,
        /// Read the password (or token) from standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// Write the environment's image to a file (a Docker archive), for a machine without a
    /// registry
    #[command(
        after_help = "Examples:\n  robodev save humble -o humble.tar.zst   (zstd: by the name, or --zstd)\n  robodev save -o - | ssh robot robodev load -\n  robodev save --deploy --platform linux/arm64 -o rover-arm64.tar.zst   the robot's image\n\nOn the robot: `robodev load FILE`, then `robodev up` builds nothing and needs no network."
    )]
    Save {
        #[command(flatten)]
        profile: ProfileArg,
        /// The file to write (`-`: standard output); it takes its name only when complete
        #[arg(long, short = 'o', value_name = "FILE")]
        output: PathBuf,
        /// Compress with zstd (also when FILE ends in .zst)
        #[arg(long)]
        zstd: bool,
        /// Save the deploy image (the profile's `deploy:`) instead of the environment's
        #[arg(long)]
        deploy: bool,
        /// With --deploy: the deploy image for this platform (e.g. the robot's linux/arm64)
        #[arg(long, value_name = "OS/ARCH", requires = "deploy")]
        platform: Option<String>,
        #[command(flatten)]
        build: BuildFlags,
    },
    /// Load an image saved by `robodev save`, check it is the image recorded, and name it
    #[command(
        after_help = "Examples:\n  robodev load humble.tar.zst\n  robodev load - < humble.tar"
    )]
    Load {
        /// The bundle (`-`: standard input); plain or zstd
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Resolve the workspace's rosdep dependencies and write them to robodev.lock
    #[command(
        after_help = "Examples:\n  robodev lock              resolve when the lock is missing or stale\n  robodev lock --update     resolve again (new rosdep sources, a newer cache)\n  robodev lock --locked     in CI: fail when robodev.lock is stale"
    )]
    Lock {
        #[command(flatten)]
        profile: ProfileArg,
        /// Resolve again even when the lock matches the workspace
        #[arg(long, conflicts_with = "locked")]
        update: bool,
        /// Only check: fail when robodev.lock does not match the workspace
        #[arg(long)]
        locked: bool,
    },
    /// Show the workspace's dependencies: key, apt/pip packages, declaring packages, what is new
    #[command(after_help = "Examples:\n  robodev deps\n  robodev deps jazzy --json")]
    Deps {
        #[command(flatten)]
        profile: ProfileArg,
        /// Print JSON (stable field names) instead of text
        #[arg(long)]
        json: bool,
    },
    /// Check this machine for what the profile needs (engine, devices, display, GPU)
    #[command(after_help = "Examples:\n  robodev doctor\n  robodev doctor humble --json")]
    Doctor {
        #[command(flatten)]
        profile: ProfileArg,
        /// Print JSON (stable field names) instead of text
        #[arg(long)]
        json: bool,
    },
    /// Write .devcontainer/ (devcontainer.json and its Dockerfile) from the profile
    #[command(
        after_help = "Examples:\n  robodev devcontainer\n  robodev devcontainer --check   in CI: fail when the files are out of date"
    )]
    Devcontainer {
        #[command(flatten)]
        profile: ProfileArg,
        /// Do not write; exit non-zero and show what differs when the files are out of date
        #[arg(long)]
        check: bool,
        /// Replace files in .devcontainer/ that robodev did not write
        #[arg(long)]
        force: bool,
    },
    /// Create robodev.yaml for this workspace (a wizard on a terminal, flags otherwise)
    #[command(
        after_help = "Examples:\n  robodev init\n  robodev init --distro humble --gpu nvidia --device /dev/ttyUSB0 --x11 --yes"
    )]
    Init(InitArgs),
    /// Print shell completions
    #[command(
        after_help = "Example:\n  robodev completions bash > ~/.local/share/bash-completion/completions/robodev"
    )]
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff)
    #[command(after_help = "Example:\n  robodev man > robodev.1 && man ./robodev.1")]
    Man,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Print the profile with its whole `extends:` chain merged and validated
    #[command(after_help = "Example:\n  robodev profile show humble --json")]
    Show {
        #[command(flatten)]
        profile: ProfileArg,
        /// Print JSON (stable field names) instead of text
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeployCommand {
    /// Build the deploy image: colcon in a build stage, install/ and the exec dependencies in a
    /// slim runtime stage, run as a fixed user
    #[command(
        after_help = "Examples:\n  robodev deploy build rover\n  robodev deploy build --push              to the profile's registry; the digest goes into robodev.lock\n  robodev deploy build --platform linux/arm64\n  robodev deploy build --platform linux/amd64,linux/arm64 --push   one index for both"
    )]
    Build {
        #[command(flatten)]
        profile: ProfileArg,
        #[command(flatten)]
        build: BuildFlags,
        /// Build for this platform instead of the profile's (needs QEMU emulation for another
        /// architecture); several, comma-separated, with --push make one multi-platform tag
        #[arg(long, value_name = "OS/ARCH[,OS/ARCH…]")]
        platform: Option<String>,
        /// Push it to the profile's registry and record its digest in robodev.lock
        #[arg(long)]
        push: bool,
    },
    /// Start the deploy image here with the profile's hardware, as the robot would
    #[command(
        after_help = "Examples:\n  robodev deploy run                 the profile's deploy.command\n  robodev deploy run -- ros2 topic list"
    )]
    Run {
        #[command(flatten)]
        profile: ProfileArg,
        #[command(flatten)]
        build: BuildFlags,
        /// Instead of the image's command
        #[arg(last = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// What the profile's image is: id, hash, size, names, digests, containers, labels
    #[command(after_help = "Example:\n  robodev image inspect humble --json")]
    Inspect {
        #[command(flatten)]
        profile: ProfileArg,
        /// Print JSON (stable field names) instead of text
        #[arg(long)]
        json: bool,
    },
    /// Each layer with its size and the profile section that made it
    #[command(after_help = "Example:\n  robodev image history humble")]
    History {
        #[command(flatten)]
        profile: ProfileArg,
        /// Print JSON (stable field names) instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Give the profile's image another name (e.g. for a robot's registry)
    #[command(
        after_help = "Examples:\n  robodev image tag robot-registry.local/humble:v3\n  robodev image tag humble robot-registry.local/humble:v3"
    )]
    Tag {
        /// [PROFILE] NAME[:TAG] (TAG defaults to latest)
        #[arg(num_args = 1..=2, required = true, value_name = "[PROFILE] NAME")]
        args: Vec<String>,
    },
    /// Remove the profile's image (refused while a container uses it)
    #[command(after_help = "Example:\n  robodev image rm humble")]
    Rm {
        #[command(flatten)]
        profile: ProfileArg,
    },
}

#[derive(Debug, Args, Clone)]
pub struct InitArgs {
    /// ROS distro
    #[arg(long)]
    pub distro: Option<String>,
    /// Variant (ros-core, ros-base, desktop, desktop-full, …)
    #[arg(long)]
    pub variant: Option<String>,
    /// GPU: none, auto, nvidia, dri
    #[arg(long)]
    pub gpu: Option<String>,
    /// A device to pass through (repeatable)
    #[arg(long = "device", value_name = "PATH")]
    pub devices: Vec<String>,
    /// Hotplug class: serial, usb, video, input (repeatable)
    #[arg(long = "hotplug", value_name = "CLASS")]
    pub hotplug: Vec<String>,
    /// Forward the X11 display
    #[arg(long)]
    pub x11: bool,
    /// Forward the Wayland display
    #[arg(long)]
    pub wayland: bool,
    /// Extra apt package (repeatable)
    #[arg(long = "apt", value_name = "PACKAGE")]
    pub apt: Vec<String>,
    /// Profile name (default: the workspace directory's name)
    #[arg(long)]
    pub name: Option<String>,
    /// Do not ask; take the flags and defaults
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Overwrite an existing robodev.yaml
    #[arg(long)]
    pub force: bool,
}

/// A hint for a common mistake clap cannot know about: a command for `exec`/`run` given
/// without the `--` that separates it from robodev's own arguments.
pub fn hint_for(error: &clap::Error, args: &[std::ffi::OsString]) -> Option<String> {
    use clap::error::ErrorKind;
    let words: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let sub = words.iter().position(|w| w == "exec" || w == "run")?;
    let missing_separator = !words.iter().any(|w| w == "--");
    let parse_error = matches!(
        error.kind(),
        ErrorKind::MissingRequiredArgument | ErrorKind::UnknownArgument | ErrorKind::TooManyValues
    );
    (missing_separator && parse_error).then(|| {
        let rest = words[sub + 1..].join(" ");
        format!(
            "put the command after `--`: robodev {} -- {rest} (a profile name goes before `--`)",
            words[sub]
        )
    })
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// A Compose file with the container `robodev up` would create on this machine
    #[command(
        after_help = "Examples:\n  robodev export compose humble -o compose.yaml\n  robodev export compose | docker-compose -f - config"
    )]
    Compose {
        #[command(flatten)]
        profile: ProfileArg,
        /// Write here instead of standard output (an existing file only with --force)
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace an existing output file
        #[arg(long)]
        force: bool,
    },
    /// Kubernetes manifests: a Pod and a workspace claim, or with --deploy a Deployment
    #[command(
        after_help = "Examples:\n  robodev export k8s humble -o humble.yaml\n  robodev export k8s rover --deploy --devices privileged\n  robodev export k8s --workspace-claim team-ws --namespace robotics"
    )]
    K8s {
        #[command(flatten)]
        profile: ProfileArg,
        /// The deploy image as a Deployment instead of the development Pod
        #[arg(long)]
        deploy: bool,
        /// The namespace written into each object
        #[arg(long, value_name = "NAME")]
        namespace: Option<String>,
        /// Mount this existing PersistentVolumeClaim as the workspace (otherwise one is written)
        #[arg(long, value_name = "CLAIM")]
        workspace_claim: Option<String>,
        /// The size of the workspace claim robodev writes
        #[arg(long, value_name = "QUANTITY", default_value = "10Gi")]
        workspace_size: String,
        /// How the profile's devices reach the pod: left out (a device plugin provides them), or
        /// a privileged container with the device nodes mounted
        #[arg(long, value_enum, default_value = "omit")]
        devices: DeviceChoice,
        /// Write here instead of standard output (an existing file only with --force)
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace an existing output file
        #[arg(long)]
        force: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceChoice {
    Omit,
    Privileged,
}

#[derive(Debug, Args, Clone)]
pub struct SourcesProfile {
    /// Profile name or path (default: the workspace's robodev.yaml)
    #[arg(long, short = 'p', value_name = "PROFILE")]
    pub profile: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Clone the repositories that are missing and check out the commits robodev.lock records
    /// (the `.repos` file's version where it records none, which is then recorded); clones with
    /// changes, local commits or another remote are left alone
    #[command(
        after_help = "Examples:\n  robodev sources import\n  robodev sources import --locked   in CI: fail when robodev.lock does not record every repository"
    )]
    Import {
        #[command(flatten)]
        profile: SourcesProfile,
        /// Fail when robodev.lock does not record every repository as the `.repos` files
        /// name it, and record nothing (for CI)
        #[arg(long)]
        locked: bool,
    },
    /// Each repository: its locked commit, the commit checked out, its branch, changes,
    /// ahead/behind, missing
    #[command(after_help = "Examples:\n  robodev sources status\n  robodev sources status --json")]
    Status {
        #[command(flatten)]
        profile: SourcesProfile,
        /// Print JSON (stable field names) instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Move repositories to what their `.repos` file names now (a branch's tip) and record the
    /// new commits
    #[command(
        after_help = "Examples:\n  robodev sources update                  every repository\n  robodev sources update src/driver\n  robodev sources update --locked         in CI: fail when robodev.lock and the .repos files disagree"
    )]
    Update {
        #[command(flatten)]
        profile: SourcesProfile,
        /// Only these repositories (their paths)
        #[arg(value_name = "PATH")]
        paths: Vec<String>,
        /// Change nothing: fail when robodev.lock and the `.repos` files disagree (for CI)
        #[arg(long, conflicts_with = "paths")]
        locked: bool,
    },
    /// Write a `.repos` file of what is checked out, which `vcs import` reads back
    #[command(
        after_help = "Examples:\n  robodev sources export --exact > pinned.repos\n  vcs import src < pinned.repos"
    )]
    Export {
        #[command(flatten)]
        profile: SourcesProfile,
        /// Every repository by its commit (otherwise by its branch, where it is on one)
        #[arg(long)]
        exact: bool,
        /// Write to this file instead of standard output
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CiCommand {
    /// Write .github/workflows/robodev.yml
    #[command(
        after_help = "Examples:\n  robodev ci github humble jazzy\n  robodev ci github --platform linux/amd64,linux/arm64\n  robodev ci github --check        fail when the committed workflow is stale"
    )]
    Github(CiArgs),
    /// Write .gitlab-ci.yml
    #[command(after_help = "Examples:\n  robodev ci gitlab humble\n  robodev ci gitlab --check")]
    Gitlab(CiArgs),
}

#[derive(Debug, Args)]
pub struct CiArgs {
    /// The profiles to test, one job each (default: the workspace's profile)
    #[arg(value_name = "PROFILE")]
    pub profiles: Vec<String>,
    /// The platforms to test on, one runner each (e.g. linux/amd64,linux/arm64)
    #[arg(long, value_name = "OS/ARCH[,OS/ARCH…]")]
    pub platform: Option<String>,
    /// Do not write; exit non-zero and show what differs when the file is out of date
    #[arg(long)]
    pub check: bool,
    /// Replace the file when it exists and differs
    #[arg(long)]
    pub force: bool,
    /// The branch whose pushes run the pipeline and push the images (default: the repository's
    /// default branch, as GitHub or GitLab knows it when the pipeline runs)
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// How a fresh runner gets robodev (default: `cargo install` of this version from its
    /// repository); a `cargo install` is cached between runs
    #[arg(long, value_name = "COMMAND")]
    pub install: Option<String>,
    /// GitLab: run the jobs on runners with this tag (again for more tags; `OS/ARCH=TAG` for
    /// one platform's jobs, e.g. linux/arm64=saas-linux-small-arm64). Default: no tags, so any
    /// runner that takes untagged jobs runs them
    #[arg(long = "runner-tag", value_name = "[OS/ARCH=]TAG")]
    pub runner_tags: Vec<String>,
}

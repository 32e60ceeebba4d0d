//! `robodev ci github|gitlab`: a pipeline that gets robodev (cached between runs), brings the
//! environment's image (pulled by digest when the team pushed it, else built, with BuildKit
//! taking the unchanged layers from the build cache the team's last push published), runs
//! `robodev test` with the results kept as artifacts, and pushes the image from the default
//! branch: one job per profile and platform. Every value reaches the shell through an
//! environment variable, never as script text, so no profile name or registry can become a
//! command.
//!
//! A pipeline without the registry's credentials (a pull request from a fork gets no secrets)
//! still builds and tests: it only skips the login and the push.

use crate::facts::credentials::registry_host;
use crate::files::GENERATED_MARKER;
use crate::notice::Notice;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// One job of the matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct CiJob {
    pub profile: String,
    /// `linux/amd64`, `linux/arm64`.
    pub platform: String,
    /// The registry host the profile shares images through, if any.
    pub registry: Option<String>,
    /// GitLab: the runner tag of this job's platform (`--runner-tag OS/ARCH=TAG`). Either every
    /// job has one or none has.
    pub runner_tag: Option<String>,
}

pub struct CiInputs {
    pub jobs: Vec<CiJob>,
    /// Whether robodev.lock exists: then the pipeline fails on a stale lock (`--locked`).
    pub locked: bool,
    /// The command that installs robodev on a fresh runner.
    pub install: String,
    /// The robodev that writes the file: its installation is cached under this version.
    pub version: String,
    /// The branch whose pushes run the pipeline and push the images; `None`: the repository's
    /// default branch, as the CI service knows it when the pipeline runs (so renaming it, or a
    /// fork's own, needs no new file).
    pub branch: Option<String>,
    /// GitLab: the runner tags of every job (`--runner-tag TAG`). None: any runner that takes
    /// untagged jobs runs them (GitLab.com's hosted ones, a self-managed one).
    pub runner_tags: Vec<String>,
    /// The command line that made the file, for its header.
    pub command: String,
    /// Every profile names `.repos` files (`sources:`): a step imports their repositories at
    /// the commits robodev.lock records, before anything is built.
    pub sources: bool,
}

/// The runner a platform's job runs on, natively (no emulation in CI).
fn github_runner(platform: &str) -> &'static str {
    if platform.ends_with("/arm64") || platform.contains("/arm64/") {
        "ubuntu-24.04-arm"
    } else {
        "ubuntu-24.04"
    }
}

/// A platform as a name part (`linux/arm64/v8` → `arm64-v8`): the GitLab results directory and
/// cache key, which cannot hold a `/`.
fn arch_of(platform: &str) -> String {
    platform
        .strip_prefix("linux/")
        .unwrap_or(platform)
        .replace('/', "-")
}

fn pushed_from(inputs: &CiInputs) -> String {
    match &inputs.branch {
        Some(b) => b.clone(),
        None => "the default branch".into(),
    }
}

fn header(inputs: &CiInputs, check: &str) -> String {
    format!(
        "# {GENERATED_MARKER} (`{}`): every profile's environment is built (or pulled by\n\
         # digest), tested with `robodev test`, and pushed from {}. Run it again after changing the\n\
         # profiles; `{check}` fails when this file is out of date.\n",
        inputs.command,
        pushed_from(inputs)
    )
}

fn locked_flag(inputs: &CiInputs) -> &'static str {
    if inputs.locked { " --locked" } else { "" }
}

/// The shell steps of a job: (name, script), in order, each reading `$PROFILE` and `$RESULTS`.
/// Shared by both pipelines and by the end-to-end test that runs them.
pub fn job_steps(inputs: &CiInputs) -> Vec<(&'static str, String)> {
    let locked = locked_flag(inputs);
    let mut steps = Vec::new();
    if inputs.sources {
        steps.push((
            "The workspace's repositories (.repos files) at their locked commits",
            format!("robodev sources import{locked} --profile \"$PROFILE\""),
        ));
    }
    if inputs.locked {
        steps.push((
            "Check robodev.lock against the package.xml files",
            "robodev lock --locked \"$PROFILE\"".to_string(),
        ));
    }
    steps.push((
        "Environment image (pulled by digest when the team pushed it, else built from the team's build cache)",
        format!("robodev build{locked} \"$PROFILE\""),
    ));
    steps.push((
        "colcon build, test and test-result",
        format!("robodev test{locked} \"$PROFILE\" --results \"$RESULTS\""),
    ));
    steps
}

fn push_script(inputs: &CiInputs) -> String {
    format!("robodev push{} \"$PROFILE\"", locked_flag(inputs))
}

const LOGIN: &str = "printf '%s' \"$REGISTRY_PASSWORD\" | robodev login \"$REGISTRY\" -u \"$REGISTRY_USER\" --password-stdin";

/// Said instead of logging in when the job has no credentials.
const NO_CREDENTIALS: &str = "no credentials for $REGISTRY (a pull request from a fork gets no \
    secrets), so no login and no push; the image is built here";

/// Whether the install command is a `cargo install` into cargo's own directory: the one whose
/// result the pipelines cache (another command is run as it is, every time).
fn cached_install(inputs: &CiInputs) -> bool {
    inputs.install.starts_with("cargo install ") && !inputs.install.contains("--root")
}

/// The cache key of the installed robodev: this version and the command that installs it (a
/// different command is a different build), per runner architecture.
fn install_cache_key(inputs: &CiInputs, arch: &str) -> String {
    let digest = hex::encode(Sha256::digest(inputs.install.as_bytes()));
    format!("robodev-{}-{}-{arch}", inputs.version, &digest[..12])
}

fn yaml(value: &Value) -> String {
    crate::text::yaml(value)
}

/// Whether a registry host is this machine's own: no hosted runner reaches it.
fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.to_ascii_lowercase().ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What the pipeline cannot do as the profiles say, said when it is written.
pub fn notices(inputs: &CiInputs) -> Vec<Notice> {
    let mut said: Vec<(&str, &str)> = Vec::new();
    let mut notices = Vec::new();
    for job in &inputs.jobs {
        let Some(registry) = job.registry.as_deref() else {
            continue;
        };
        if !is_loopback(registry) || said.contains(&(&job.profile, registry)) {
            continue;
        }
        said.push((&job.profile, registry));
        notices.push(Notice::warning(format!(
            "profile {}: its registry {registry} is on this machine, which a CI runner cannot \
             reach: the pipeline's login, pull and push of it will fail there. Name a registry \
             the runners reach in the profile's `registry:` (ghcr.io, the GitLab project's \
             registry, the team's own)",
            job.profile
        )));
    }
    notices
}

/// `.github/workflows/robodev.yml`.
pub fn github_workflow(inputs: &CiInputs) -> String {
    let any_registry = inputs.jobs.iter().any(|j| j.registry.is_some());
    // GitHub's own token logs in to ghcr.io, and needs `packages: write` to push there.
    let pushes_to_ghcr = inputs
        .jobs
        .iter()
        .any(|j| j.registry.as_deref() == Some("ghcr.io"));
    let include: Vec<Value> = inputs
        .jobs
        .iter()
        .map(|j| {
            json!({
                "profile": j.profile,
                "platform": j.platform,
                "runner": github_runner(&j.platform),
                "registry": j.registry.clone().unwrap_or_default(),
            })
        })
        .collect();
    let mut steps = vec![json!({"uses": "actions/checkout@v4"})];
    if cached_install(inputs) {
        steps.push(json!({
            "id": "robodev-cache",
            "name": "robodev from the cache",
            "uses": "actions/cache@v4",
            "with": {
                "path": "~/.cargo/bin/robodev",
                "key": install_cache_key(inputs, "${{ runner.os }}-${{ runner.arch }}"),
            },
        }));
        steps.push(json!({
            "id": "install",
            "name": "Install robodev",
            "if": "steps.robodev-cache.outputs.cache-hit != 'true'",
            "run": inputs.install,
        }));
    } else {
        steps.push(json!({"id": "install", "name": "Install robodev", "run": inputs.install}));
    }
    if any_registry {
        steps.push(json!({
            "id": "login",
            "name": "Log in to the team's registry (when this run has its credentials)",
            "if": "matrix.registry != ''",
            "env": {
                "REGISTRY": "${{ matrix.registry }}",
                "REGISTRY_USER": "${{ matrix.registry == 'ghcr.io' && github.actor || secrets.ROBODEV_REGISTRY_USER }}",
                "REGISTRY_PASSWORD": "${{ matrix.registry == 'ghcr.io' && secrets.GITHUB_TOKEN || secrets.ROBODEV_REGISTRY_PASSWORD }}",
            },
            "run": format!(
                "if [ -n \"$REGISTRY_USER\" ] && [ -n \"$REGISTRY_PASSWORD\" ]; then {LOGIN}; \
                 echo logged-in=true >> \"$GITHUB_OUTPUT\"; \
                 else echo \"::warning::{NO_CREDENTIALS}\"; fi"
            ),
        }));
    }
    for (name, run) in job_steps(inputs) {
        steps.push(json!({"name": name, "run": run}));
    }
    if any_registry {
        // Only pushes of the chosen branch run with `push` (the trigger, or the job's `if`).
        steps.push(json!({
            "name": format!("Push the environment image ({})", pushed_from(inputs)),
            "if": "steps.login.outputs.logged-in == 'true' && github.event_name == 'push'",
            "run": push_script(inputs),
        }));
    }
    steps.push(json!({
        "name": "Keep the test results and colcon logs",
        "if": "always()",
        "uses": "actions/upload-artifact@v4",
        "with": {
            "name": "test-results-${{ matrix.profile }}-${{ matrix.runner }}",
            "path": "${{ env.RESULTS }}",
            "if-no-files-found": "ignore",
        },
    }));
    let mut job = Map::new();
    job.insert(
        "name".into(),
        json!("${{ matrix.profile }} (${{ matrix.platform }})"),
    );
    let push_trigger = match &inputs.branch {
        Some(branch) => json!({"branches": [branch]}),
        None => {
            // Every branch's push starts the workflow (`$default-branch` exists only in
            // workflow templates); the job runs for the default branch's alone, and for pull
            // requests and manual runs.
            job.insert(
                "if".into(),
                json!(
                    "github.event_name != 'push' || github.ref == format('refs/heads/{0}', github.event.repository.default_branch)"
                ),
            );
            json!({"branches": ["**"]})
        }
    };
    job.insert("runs-on".into(), json!("${{ matrix.runner }}"));
    if pushes_to_ghcr {
        job.insert(
            "permissions".into(),
            json!({"contents": "read", "packages": "write"}),
        );
    }
    job.insert("timeout-minutes".into(), json!(90));
    job.insert(
        "strategy".into(),
        json!({"fail-fast": false, "matrix": {"include": include}}),
    );
    job.insert(
        "env".into(),
        json!({
            "PROFILE": "${{ matrix.profile }}",
            "RESULTS": "test-results/${{ matrix.profile }}-${{ matrix.runner }}",
            "CI": "true",
        }),
    );
    job.insert("steps".into(), json!(steps));
    let workflow = json!({
        "name": "robodev",
        "on": {
            "push": push_trigger,
            "pull_request": null,
            "workflow_dispatch": null,
        },
        "permissions": {"contents": "read"},
        "jobs": {"test": job},
    });
    format!(
        "{}{}",
        header(inputs, "robodev ci github --check"),
        yaml(&workflow)
    )
}

/// Where the GitLab job installs robodev, inside the project directory (the only place GitLab
/// caches).
const GITLAB_INSTALL_ROOT: &str = ".robodev-install";

/// `.gitlab-ci.yml`: Docker-in-Docker (the workspace under /builds is shared with the service).
pub fn gitlab_ci(inputs: &CiInputs) -> String {
    let any_registry = inputs.jobs.iter().any(|j| j.registry.is_some());
    let tag_per_platform = inputs.jobs.iter().any(|j| j.runner_tag.is_some());
    let matrix: Vec<Value> = inputs
        .jobs
        .iter()
        .map(|j| {
            let mut entry = json!({
                "PROFILE": j.profile,
                "PLATFORM": j.platform,
                "ARCH": arch_of(&j.platform),
                "REGISTRY": j.registry.clone().unwrap_or_default(),
            });
            if let Some(tag) = &j.runner_tag {
                entry["RUNNER_TAG"] = json!(tag);
            }
            entry
        })
        .collect();
    let mut script: Vec<String> = Vec::new();
    if any_registry {
        script.push(format!(
            "if [ -n \"$REGISTRY\" ]; then if [ \"$REGISTRY\" = \"$CI_REGISTRY\" ]; then \
             REGISTRY_USER=\"$CI_REGISTRY_USER\" REGISTRY_PASSWORD=\"$CI_REGISTRY_PASSWORD\"; \
             else REGISTRY_USER=\"$ROBODEV_REGISTRY_USER\" REGISTRY_PASSWORD=\"$ROBODEV_REGISTRY_PASSWORD\"; \
             fi; if [ -n \"$REGISTRY_USER\" ] && [ -n \"$REGISTRY_PASSWORD\" ]; then {LOGIN}; \
             ROBODEV_LOGGED_IN=1; else echo \"robodev - {NO_CREDENTIALS}\"; fi; fi"
        ));
    }
    script.extend(job_steps(inputs).into_iter().map(|(_, s)| s));
    if any_registry {
        script.push(format!(
            "if [ -n \"$ROBODEV_LOGGED_IN\" ] && [ \"$CI_COMMIT_BRANCH\" = \"$PUSH_BRANCH\" ]; then {}; fi",
            push_script(inputs)
        ));
    }
    let mut variables = json!({
        "DOCKER_HOST": "tcp://docker:2375",
        "DOCKER_TLS_CERTDIR": "",
        "RESULTS": "test-results/$PROFILE-$ARCH",
        "CI": "true",
    });
    if any_registry {
        variables["PUSH_BRANCH"] = json!(inputs.branch.as_deref().unwrap_or("$CI_DEFAULT_BRANCH"));
    }
    let branch_rule = match &inputs.branch {
        Some(b) => format!("$CI_COMMIT_BRANCH == \"{b}\""),
        None => "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH".into(),
    };
    let mut job = Map::new();
    job.insert("stage".into(), json!("test"));
    job.insert("image".into(), json!("rust:1-bookworm"));
    job.insert(
        "services".into(),
        json!([{"name": "docker:27-dind", "alias": "docker"}]),
    );
    let mut tags: Vec<String> = inputs.runner_tags.clone();
    if tag_per_platform {
        tags.push("$RUNNER_TAG".into());
    }
    if !tags.is_empty() {
        job.insert("tags".into(), json!(tags));
    }
    job.insert("timeout".into(), json!("90m"));
    job.insert("parallel".into(), json!({"matrix": matrix}));
    let mut before_script = Vec::new();
    if cached_install(inputs) {
        variables["CARGO_INSTALL_ROOT"] = json!(format!("$CI_PROJECT_DIR/{GITLAB_INSTALL_ROOT}"));
        job.insert(
            "cache".into(),
            json!([{
                "key": install_cache_key(inputs, "$ARCH"),
                "paths": [format!("{GITLAB_INSTALL_ROOT}/")],
            }]),
        );
        before_script.push("export PATH=\"$CARGO_INSTALL_ROOT/bin:$PATH\"".to_string());
        before_script.push(format!(
            "if ! command -v robodev >/dev/null; then {}; fi",
            inputs.install
        ));
    } else {
        before_script.push(inputs.install.clone());
    }
    job.insert("variables".into(), variables);
    job.insert(
        "rules".into(),
        json!([
            {"if": "$CI_PIPELINE_SOURCE == \"merge_request_event\""},
            {"if": branch_rule},
        ]),
    );
    job.insert("before_script".into(), json!(before_script));
    job.insert("script".into(), json!(script));
    job.insert(
        "artifacts".into(),
        json!({
            "when": "always",
            "paths": ["test-results/"],
            "reports": {"junit": "test-results/**/*.xml"},
        }),
    );
    let pipeline = json!({
        "stages": ["test"],
        "robodev-test": job,
    });
    format!(
        "{}{}",
        header(inputs, "robodev ci gitlab --check"),
        yaml(&pipeline)
    )
}

/// The registry host of a profile's `registry:` (`ghcr.io/team` → `ghcr.io`).
pub fn registry_of(registry: Option<&str>) -> Option<String> {
    registry.map(|r| registry_host(&format!("{r}/x")).to_string())
}

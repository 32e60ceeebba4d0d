//! `robodev ci github|gitlab`: a pipeline that gets robodev, brings the environment's image
//! (pulled by digest when the team pushed it, else built), runs `robodev test` with the results
//! kept as artifacts, and pushes the image from the default branch: one job per profile and
//! platform. Every value reaches the shell through an environment variable, never as script
//! text, so no profile name or registry can become a command.

use crate::facts::credentials::registry_host;
use crate::files::GENERATED_MARKER;
use serde_json::{Value, json};

/// One job of the matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct CiJob {
    pub profile: String,
    /// `linux/amd64`, `linux/arm64`.
    pub platform: String,
    /// The registry host the profile shares images through, if any.
    pub registry: Option<String>,
}

pub struct CiInputs {
    pub jobs: Vec<CiJob>,
    /// Whether robodev.lock exists: then the pipeline fails on a stale lock (`--locked`).
    pub locked: bool,
    /// The command that installs robodev on a fresh runner.
    pub install: String,
    /// The branch pushes are built from (and images pushed on).
    pub branch: String,
    /// The command line that made the file, for its header.
    pub command: String,
}

/// The runner a platform's job runs on, natively (no emulation in CI).
fn github_runner(platform: &str) -> &'static str {
    if platform.ends_with("/arm64") || platform.contains("/arm64/") {
        "ubuntu-24.04-arm"
    } else {
        "ubuntu-24.04"
    }
}

fn header(inputs: &CiInputs, check: &str) -> String {
    format!(
        "# {GENERATED_MARKER} (`{}`): every profile's environment is built (or pulled by\n\
         # digest), tested with `robodev test`, and pushed from {}. Run it again after changing the\n\
         # profiles; `{check}` fails when this file is out of date.\n",
        inputs.command, inputs.branch
    )
}

/// The commands every job runs, in order, each reading `$PROFILE` and `$RESULTS`.
fn locked_flag(inputs: &CiInputs) -> &'static str {
    if inputs.locked { " --locked" } else { "" }
}

/// The shell steps of a job: (name, script), in order. Shared by both pipelines and by the
/// end-to-end test that runs them.
pub fn job_steps(inputs: &CiInputs) -> Vec<(&'static str, String)> {
    let locked = locked_flag(inputs);
    let mut steps = Vec::new();
    if inputs.locked {
        steps.push((
            "Check robodev.lock against the package.xml files",
            "robodev lock --locked \"$PROFILE\"".to_string(),
        ));
    }
    steps.push((
        "Environment image (pulled by digest when the team pushed it)",
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

fn yaml(value: &Value) -> String {
    crate::text::yaml(value)
}

/// `.github/workflows/robodev.yml`.
pub fn github_workflow(inputs: &CiInputs) -> String {
    let any_registry = inputs.jobs.iter().any(|j| j.registry.is_some());
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
    steps.push(json!({"id": "install", "name": "Install robodev", "run": inputs.install}));
    if any_registry {
        steps.push(json!({
            "name": "Log in to the team's registry",
            "if": "matrix.registry != ''",
            "env": {
                "REGISTRY": "${{ matrix.registry }}",
                "REGISTRY_USER": "${{ matrix.registry == 'ghcr.io' && github.actor || secrets.ROBODEV_REGISTRY_USER }}",
                "REGISTRY_PASSWORD": "${{ matrix.registry == 'ghcr.io' && secrets.GITHUB_TOKEN || secrets.ROBODEV_REGISTRY_PASSWORD }}",
            },
            "run": LOGIN,
        }));
    }
    for (name, run) in job_steps(inputs) {
        steps.push(json!({"name": name, "run": run}));
    }
    if any_registry {
        steps.push(json!({
            "name": "Push the environment image (default branch)",
            "if": "matrix.registry != '' && github.event_name == 'push' && github.ref == format('refs/heads/{0}', github.event.repository.default_branch)",
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
    let mut permissions = json!({"contents": "read"});
    if any_registry {
        permissions["packages"] = json!("write");
    }
    let workflow = json!({
        "name": "robodev",
        "on": {
            "push": {"branches": [inputs.branch]},
            "pull_request": null,
            "workflow_dispatch": null,
        },
        "permissions": permissions,
        "jobs": {
            "test": {
                "name": "${{ matrix.profile }} (${{ matrix.platform }})",
                "runs-on": "${{ matrix.runner }}",
                "timeout-minutes": 90,
                "strategy": {"fail-fast": false, "matrix": {"include": include}},
                "env": {
                    "PROFILE": "${{ matrix.profile }}",
                    "RESULTS": "test-results/${{ matrix.profile }}-${{ matrix.runner }}",
                    "CI": "true",
                },
                "steps": steps,
            }
        },
    });
    format!(
        "{}{}",
        header(inputs, "robodev ci github --check"),
        yaml(&workflow)
    )
}

/// The GitLab runner tag for a platform's jobs (GitLab.com's hosted arm64 runners).
fn gitlab_tag(platform: &str) -> &'static str {
    if platform.ends_with("/arm64") || platform.contains("/arm64/") {
        "saas-linux-small-arm64"
    } else {
        "saas-linux-small-amd64"
    }
}

/// `.gitlab-ci.yml`: Docker-in-Docker (the workspace under /builds is shared with the service).
pub fn gitlab_ci(inputs: &CiInputs) -> String {
    let any_registry = inputs.jobs.iter().any(|j| j.registry.is_some());
    let matrix: Vec<Value> = inputs
        .jobs
        .iter()
        .map(|j| {
            json!({
                "PROFILE": j.profile,
                "PLATFORM": j.platform,
                "RUNNER_TAG": gitlab_tag(&j.platform),
                "REGISTRY": j.registry.clone().unwrap_or_default(),
            })
        })
        .collect();
    let mut script: Vec<String> = Vec::new();
    if any_registry {
        script.push(format!(
            "if [ -n \"$REGISTRY\" ]; then if [ \"$REGISTRY\" = \"$CI_REGISTRY\" ]; then \
             REGISTRY_USER=\"$CI_REGISTRY_USER\" REGISTRY_PASSWORD=\"$CI_REGISTRY_PASSWORD\"; \
             else REGISTRY_USER=\"$ROBODEV_REGISTRY_USER\" REGISTRY_PASSWORD=\"$ROBODEV_REGISTRY_PASSWORD\"; \
             fi; {LOGIN}; fi"
        ));
    }
    script.extend(job_steps(inputs).into_iter().map(|(_, s)| s));
    if any_registry {
        script.push(format!(
            "if [ -n \"$REGISTRY\" ] && [ \"$CI_COMMIT_BRANCH\" = \"$CI_DEFAULT_BRANCH\" ]; then {}; fi",
            push_script(inputs)
        ));
    }
    let pipeline = json!({
        "stages": ["test"],
        "robodev-test": {
            "stage": "test",
            "image": "rust:1-bookworm",
            "services": [{"name": "docker:27-dind", "alias": "docker"}],
            "tags": ["$RUNNER_TAG"],
            "timeout": "90m",
            "parallel": {"matrix": matrix},
            "variables": {
                "DOCKER_HOST": "tcp://docker:2375",
                "DOCKER_TLS_CERTDIR": "",
                "RESULTS": "test-results/$PROFILE-$RUNNER_TAG",
                "CI": "true",
            },
            "rules": [
                {"if": "$CI_PIPELINE_SOURCE == \"merge_request_event\""},
                {"if": format!("$CI_COMMIT_BRANCH == \"{}\"", inputs.branch)},
            ],
            "before_script": [inputs.install],
            "script": script,
            "artifacts": {
                "when": "always",
                "paths": ["test-results/"],
                "reports": {"junit": "test-results/**/*.xml"},
            },
        },
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

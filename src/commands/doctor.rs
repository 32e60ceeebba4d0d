//! `robodev doctor`: one line per check, ✓/✗ and the fix; non-zero when a required check fails.

use super::machine_facts::Freshness;
use super::session::Session;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::plan::hardware::{Check, Status};
use crate::profile::Profile;

/// Free bytes on the filesystem holding `path` (via `df`, which every host has).
fn free_bytes(path: &str) -> Option<u64> {
    let out = std::process::Command::new("df")
        .args(["-Pk", path])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().nth(1)?;
    line.split_whitespace()
        .nth(3)?
        .parse::<u64>()
        .ok()
        .map(|k| k * 1024)
}

pub async fn doctor(s: &Session, reference: Option<&str>, json: bool) -> Result<i32> {
    let profile = match reference {
        Some(r) => Some(s.profile(Some(r))?),
        None if s
            .workspace
            .root
            .join(crate::profile::WORKSPACE_FILE)
            .exists() =>
        {
            Some(s.profile(None)?)
        }
        None => None,
    };
    let mut checks = Vec::new();
    let engine = match s.engine().await {
        Ok(engine) => Some(engine),
        Err(e) => {
            let (detail, fix) = match &e {
                Error::Engine { message, help, .. } => (message.clone(), help.clone()),
                other => (other.to_string(), None),
            };
            let name = if detail.contains("permission") {
                "engine socket permission"
            } else {
                "engine reachable"
            };
            checks.push(Check {
                name: name.into(),
                status: Status::Fail,
                detail,
                fix,
            });
            None
        }
    };
    let facts = match engine {
        Some(engine) => {
            let facts = engine.facts().await?;
            checks.push(Check::ok(
                "engine reachable",
                format!(
                    "{} (API {}) at {}, chosen by {}{}",
                    match &facts.podman {
                        Some(v) => format!(
                            "Podman {v}{}",
                            if facts.rootless { ", rootless" } else { "" }
                        ),
                        None => format!(
                            "Docker {}{}",
                            facts.server_version,
                            if facts.rootless { ", rootless" } else { "" }
                        ),
                    },
                    facts.api_version,
                    engine.endpoint().url,
                    engine.endpoint().chosen_by,
                    if engine.is_local() {
                        ""
                    } else {
                        " (another machine: the devices below are that machine's)"
                    }
                ),
            ));
            checks.push(Check::ok(
                "engine socket permission",
                "this user can use the engine",
            ));
            facts
        }
        None => Default::default(),
    };
    const NEED: u64 = 10 << 30;
    match free_bytes("/var/lib/docker").or_else(|| free_bytes("/")) {
        Some(free) if free >= NEED => checks.push(Check::ok(
            "disk space",
            format!("{} GiB free for images", free >> 30),
        )),
        Some(free) => checks.push(Check::warn(
            "disk space",
            format!(
                "only {} GiB free; a ROS desktop image needs several",
                free >> 30
            ),
            Some("free space, or run `robodev clean` and `docker system prune`".into()),
        )),
        None => {}
    }
    if let Some(profile) = &profile {
        let inputs = s.facts(profile, engine, Freshness::Now).await?;
        checks.extend(crate::plan::hardware_checks(profile, &inputs.host, &facts));
        let plan = s.plan_from_quiet(profile, engine, &inputs)?;
        match engine.filter(|e| !e.is_local()) {
            None => checks.push(mount_sources(&plan)),
            Some(engine) => checks.push(remote_mounts(&plan, &engine.endpoint().url)),
        }
        checks.push(security(&plan));
        if let Some(engine) = engine {
            checks.push(image_check(engine, &plan).await?);
            if let Some(platform) = &profile.platform
                && engine.is_local()
            {
                checks.push(emulation_check(platform));
            }
        }
        checks.extend(shadowed_builtins(profile));
    }

    let failed = checks.iter().any(|c| c.status == Status::Fail);
    if json {
        crate::ui::print_out(&serde_json::to_string_pretty(&checks).unwrap_or_default());
    } else {
        let mut text = String::new();
        if let Some(p) = &profile {
            text.push_str(&format!("robodev doctor — profile {}\n", p.name));
        }
        for c in &checks {
            let mark = match c.status {
                Status::Ok => s.ui.check_mark(true),
                Status::Warn => "!".to_string(),
                Status::Fail => s.ui.check_mark(false),
            };
            text.push_str(&format!("{mark} {}: {}\n", c.name, c.detail));
            if let Some(fix) = &c.fix {
                text.push_str(&format!("    fix: {fix}\n"));
            }
        }
        crate::ui::print_out(&text);
    }
    Ok(if failed { 1 } else { 0 })
}

/// Every bind-mount source must exist: the engine would refuse it only after the build.
fn mount_sources(plan: &Plan) -> Check {
    let missing = plan
        .container
        .missing_bind_sources(|p| std::path::Path::new(p).exists());
    check_of("mount sources", &missing, "every bind-mount source exists")
}

/// On another machine's engine, what a bind mount would name there: the workspace's place
/// (`remote_path` or a synced volume) and no file of this machine.
fn remote_mounts(plan: &Plan, engine: &str) -> Check {
    let place = if super::sync::is_synced(plan) {
        "the synced volume"
    } else {
        "at"
    };
    check_of(
        "mounts",
        &crate::plan::remote::mount_problems(plan, engine),
        &format!(
            "the workspace is {place} {} on {engine}; no file of this machine is bind-mounted",
            plan.container.workspace_host
        ),
    )
}

/// One line for a list of problems: ok with `fine` when there are none, else each problem
/// and the first one's fix.
fn check_of(name: &str, problems: &[crate::notice::Problem], fine: &str) -> Check {
    match problems.first() {
        None => Check::ok(name, fine),
        Some(first) => Check::fail(
            name,
            problems
                .iter()
                .map(|p| p.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            first.fix.clone(),
        ),
    }
}

/// The environment's image, or else its base image, must be on the engine or pullable.
async fn image_check(engine: &dyn Engine, plan: &Plan) -> Result<Check> {
    if engine.image_exists(&plan.image.tag).await? {
        return Ok(Check::ok(
            "image",
            format!("{} is built (no build needed)", plan.image.tag),
        ));
    }
    let base = &plan.profile.base_image;
    Ok(if engine.image_exists(base).await? {
        Check::ok("base image", format!("{base} is on the engine"))
    } else {
        Check::warn(
            "base image",
            format!(
                "{base} is not on the engine: the first build pulls it, which needs its registry \
                 (fails offline)"
            ),
            Some(crate::engine::base_image_help(base)),
        )
    })
}

/// A profile for another architecture builds under QEMU emulation on this machine.
fn emulation_check(platform: &str) -> Check {
    match super::session::require_emulation(platform) {
        Ok(()) => Check::ok(
            "platform",
            format!("{platform}: this machine runs its programs (natively or through QEMU)"),
        ),
        Err(crate::error::Error::Host { message, help }) => {
            Check::fail("platform", message, help.unwrap_or_default())
        }
        Err(other) => Check::fail("platform", other.to_string(), String::new()),
    }
}

/// A user profile named like a built-in one changes what every `extends: NAME` means here.
fn shadowed_builtins(profile: &Profile) -> Vec<Check> {
    profile
        .shadows_builtin
        .iter()
        .map(|path| {
            Check::warn(
                "profile",
                format!("{path} replaces the built-in profile of that name on this machine"),
                Some("teammates get the built-in: rename the file, or commit it and extend it by path".into()),
            )
        })
        .collect()
}

/// What the environment can do beyond an ordinary container, in one line.
fn security(plan: &Plan) -> Check {
    let c = &plan.container;
    let sec = &plan.profile.security;
    let mut can = vec![
        if sec.sudo {
            "sudo without a password"
        } else {
            "no sudo (no-new-privileges)"
        }
        .to_string(),
        if sec.debug {
            "ptrace any process, no seccomp filter (debug: true)".to_string()
        } else {
            "default seccomp, no ptrace of other processes".to_string()
        },
    ];
    if !c.cap_drop.is_empty() {
        can.push(format!("dropped {}", c.cap_drop.join(", ")));
    }
    if c.network_mode == "host" {
        can.push("the host's network".to_string());
    }
    if c.privileged {
        can.push("PRIVILEGED: every device and capability of the host".to_string());
    }
    let detail = can.join("; ");
    if c.privileged
        || (sec.sudo
            && !c
                .cap_drop
                .iter()
                .any(|cap| cap == "NET_RAW" || cap == "ALL"))
    {
        Check::warn(
            "security",
            detail,
            Some("see the README's security model: `security: {cap_drop: [NET_RAW]}` keeps root inside from reading the host's traffic".into()),
        )
    } else {
        Check::ok("security", detail)
    }
}

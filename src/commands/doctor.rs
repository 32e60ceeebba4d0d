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
        checks.push(ros_traffic(&plan));
        if engine.is_none_or(|e| e.is_local())
            && let Some(check) = x11_reachable(&plan, &crate::facts::host::x11_abstract_displays())
        {
            checks.push(check);
        }
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

/// How the environment's ROS nodes talk to the host's and to other environments': the
/// network, the middleware and, for Fast DDS, the shared memory it sends through.
/// An X server on an abstract socket is in the network namespace: with the host network every
/// container reaches it, `x11: true` or not, and a server that admits the user's uid (the
/// desktop's usual `xhost +SI:localuser:…`) admits the container user too.
fn x11_reachable(plan: &Plan, abstract_displays: &[u32]) -> Option<Check> {
    if abstract_displays.is_empty() || plan.container.network_mode != "host" {
        return None;
    }
    let displays: Vec<String> = abstract_displays.iter().map(|d| format!(":{d}")).collect();
    Some(Check::warn(
        "X server reachable",
        format!(
            "the X server {} listens on an abstract socket, which every container on the host \
             network reaches whether or not the profile asks for x11; it admits whoever it \
             admits on the host (your uid, with the usual xhost +SI:localuser rule)",
            displays.join(", ")
        ),
        Some(
            "to isolate an environment from it: `network: bridge` (or `none`) in the profile, \
             or start the X server with `-nolisten local` (its file socket in /tmp/.X11-unix \
             still serves the environments that mount it with x11: true)"
                .into(),
        ),
    ))
}

fn ros_traffic(plan: &Plan) -> Check {
    const NAME: &str = "ROS traffic";
    let c = &plan.container;
    let p = &plan.profile;
    let shared = if c.ipc_mode.as_deref() == Some("host") {
        "; shares the host's IPC namespace and /dev/shm (ipc: host)"
    } else if c.shares_host_shm() {
        "; shares the host's /dev/shm (a mount)"
    } else {
        ""
    };
    let Some(rmw) = p.rmw_implementation() else {
        let master = c
            .env
            .get("ROS_MASTER_URI")
            .map_or("http://localhost:11311 (the default)", String::as_str);
        return match c.network_mode.as_str() {
            "host" => Check::ok(
                NAME,
                format!(
                    "ROS 1 over TCP on the host's network, through the master at {master}{shared}"
                ),
            ),
            "none" => Check::ok(
                NAME,
                "no network: ROS 1 nodes reach only a master and nodes inside this environment",
            ),
            other => Check::warn(
                NAME,
                format!(
                    "ROS 1 on the {other} network: the host's master and nodes are not at \
                     localhost, and they cannot connect back to this environment's nodes"
                ),
                Some("`network: host` (the default)".into()),
            ),
        };
    };
    let chosen_by = if p.rmw.is_some() {
        "ros.rmw".to_string()
    } else if p.env.contains_key("RMW_IMPLEMENTATION") {
        "env".to_string()
    } else {
        format!("{}'s default", p.distro.name)
    };
    let domain = c
        .env
        .get("ROS_DOMAIN_ID")
        .map_or("0 (the default)", String::as_str);
    let middleware = format!("{rmw} ({chosen_by}), ROS_DOMAIN_ID {domain}");
    match c.network_mode.as_str() {
        "none" => Check::ok(
            NAME,
            format!("{middleware}: no network, nodes reach only nodes inside this environment"),
        ),
        "host" if p.ros_uses_shared_memory() && !c.shares_host_shm() => Check::warn(
            NAME,
            format!(
                "{middleware}: Fast DDS sends to nodes on this host through shared memory, and \
                 this environment has its own (ipc: {}): no data arrives from or to the host's \
                 nodes and other environments'",
                c.ipc_mode.as_deref().unwrap_or("private")
            ),
            Some(
                "leave `ipc:` out (host is the default with network: host), or use \
                 `ros: {rmw: rmw_cyclonedds_cpp}`, or give Fast DDS a UDP-only profile"
                    .into(),
            ),
        ),
        "host" => {
            let how = if p.ros_uses_shared_memory() {
                "discovery on the host's network; data to nodes on this host through shared \
                 memory in the host's /dev/shm, to other machines over UDP"
            } else if rmw.starts_with("rmw_fastrtps") {
                "discovery on the host's network; data over the transports the profile \
                 configures for Fast DDS"
            } else if rmw == "rmw_cyclonedds_cpp" {
                "discovery and data over UDP on the host's network (Cyclone DDS's shared \
                 memory, iceoryx, only when configured)"
            } else if rmw == "rmw_zenoh_cpp" {
                "nodes find each other through a Zenoh router on the host's network \
                 (`ros2 run rmw_zenoh_cpp rmw_zenohd`, on the host or in one environment)"
            } else {
                "on the host's network, as the middleware does on the host"
            };
            Check::ok(NAME, format!("{middleware}: {how}{shared}"))
        }
        other => Check::warn(
            NAME,
            format!(
                "{middleware} on the {other} network: DDS discovery's multicast does not leave \
                 it, so nodes on the host and in other environments are not found"
            ),
            Some("`network: host` (the default)".into()),
        ),
    }
}

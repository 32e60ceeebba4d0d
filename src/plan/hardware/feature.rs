//! What a hardware feature is (`Feature`), what it may look at (`Context`), and the `doctor`
//! line it reports (`Check`).

use crate::facts::{EngineFacts, HostFacts};
use crate::notice::Problem;
use crate::plan::container::ContainerPlan;
use crate::plan::user::ContainerUser;
use crate::profile::{GpuMode, Profile};
use serde::Serialize;

/// What a feature may look at.
pub struct Context<'a> {
    pub profile: &'a Profile,
    pub host: &'a HostFacts,
    pub engine: &'a EngineFacts,
    pub user: &'a ContainerUser,
    /// The GPU mode after `auto` was resolved.
    pub gpu: GpuMode,
}

pub trait Feature: Sync {
    /// Apt packages the image needs for this feature (the system layer).
    fn system_packages(&self, _ctx: &Context) -> Vec<&'static str> {
        Vec::new()
    }
    /// Add the feature to the container plan. An unmet host requirement goes into
    /// `plan.problems`, not into an error: only creating the container needs the host.
    fn plan(&self, ctx: &Context, plan: &mut ContainerPlan);
    /// `doctor`'s lines for this feature (none when the profile does not use it).
    fn checks(&self, ctx: &Context) -> Vec<Check>;
}

/// A display or sound server the profile asks for is not there. On this host that stops the
/// container (the developer expects windows); on an engine's other machine (a robot, often
/// headless) the container starts without it, and says so.
pub fn absent_on_machine(ctx: &Context, plan: &mut ContainerPlan, problem: Problem) {
    match &ctx.host.machine {
        None => plan.problems.push(problem),
        Some(_) => plan.notices.push(crate::notice::Notice::warning(format!(
            "{}; the container starts without it ({})",
            problem.message, problem.fix
        ))),
    }
}

/// `doctor`'s line for such a server: a warning, not a failure, on another machine.
pub fn display_check(ctx: &Context, check: Check) -> Check {
    match (&ctx.host.machine, check.status) {
        (Some(_), Status::Fail) => Check {
            status: Status::Warn,
            ..check
        },
        _ => check,
    }
}

#[derive(Debug, Serialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

/// One line of `doctor`: what was checked, how it went, and the fix.
#[derive(Debug, Serialize, Clone, PartialEq)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn ok(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn warn(name: impl Into<String>, detail: impl Into<String>, fix: Option<String>) -> Check {
        Check {
            name: name.into(),
            status: Status::Warn,
            detail: detail.into(),
            fix,
        }
    }

    pub fn fail(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            name: name.into(),
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    /// The check for a requirement: ✓ with `ok` when met, ✗ with the problem and its fix.
    pub fn of<T>(
        name: impl Into<String>,
        requirement: &Result<T, Problem>,
        ok: impl FnOnce(&T) -> String,
    ) -> Check {
        match requirement {
            Ok(value) => Check::ok(name, ok(value)),
            Err(p) => Check::fail(name, p.message.clone(), p.fix.clone()),
        }
    }
}

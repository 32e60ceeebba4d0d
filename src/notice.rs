//! What robodev tells the user besides errors, as typed values: decisions it made (`Info`,
//! always shown), details (`Detail`, shown with -v), warnings; and unmet host requirements
//! (`Problem`), which stop the commands that create a container but not those that only plan.

use crate::error::Error;
use serde::Serialize;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// A decision the user should see (`gpu: auto → dri`).
    Info,
    /// How robodev got there (a symlink resolved, a driver's registered major); -v shows it.
    Detail,
    /// Something will not work as asked, but nothing stops.
    Warning,
    /// A decision shown the first time this machine's user meets it, a detail (-v) after:
    /// the same words on every command are noise (the user and machine of a remote engine).
    Once,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub level: Level,
    pub text: String,
}

impl Notice {
    pub fn info(text: impl Into<String>) -> Notice {
        Notice {
            level: Level::Info,
            text: text.into(),
        }
    }
    pub fn detail(text: impl Into<String>) -> Notice {
        Notice {
            level: Level::Detail,
            text: text.into(),
        }
    }
    pub fn once(text: impl Into<String>) -> Notice {
        Notice {
            level: Level::Once,
            text: text.into(),
        }
    }
    pub fn warning(text: impl Into<String>) -> Notice {
        Notice {
            level: Level::Warning,
            text: text.into(),
        }
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A host requirement that is not met (a device absent, no display): what is wrong and the fix.
/// `doctor` shows it as a failed check; creating a container turns it into an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub message: String,
    pub fix: String,
}

impl Problem {
    pub fn new(message: impl Into<String>, fix: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            fix: fix.into(),
        }
    }
}

impl From<Problem> for Error {
    fn from(p: Problem) -> Error {
        Error::host(p.message, p.fix)
    }
}

//! The one error type. Every variant says what happened and, where it can, what to do next.
//! Exit codes are stable: 1 = the operation failed, 2 = bad input or usage.

use std::fmt;

/// Where in a profile file a value came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct SourcePos {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for SourcePos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A profile value is wrong: we know the file, position and field.
    #[error("{pos}: {field}: {message}")]
    Profile {
        pos: SourcePos,
        field: String,
        message: String,
        help: Option<String>,
    },
    /// Bad input that has no position in a file (a flag, a name on the command line).
    #[error("{message}")]
    Usage {
        message: String,
        help: Option<String>,
    },
    /// The Docker engine refused or failed an operation.
    #[error("{action}: {message}")]
    Engine {
        action: String,
        message: String,
        help: Option<String>,
    },
    /// A registry did not give or take an image; `problem` says why, so a caller can fall back
    /// to building.
    #[error("{action}: {message}")]
    Registry {
        problem: RegistryProblem,
        action: String,
        message: String,
        help: Option<String>,
    },
    /// A Dockerfile step failed during `build`.
    #[error("build of {image} failed at step {step}: {message}")]
    Build {
        image: String,
        step: String,
        message: String,
        log_tail: Vec<String>,
    },
    /// Something the host is missing at `up` (a device, a display).
    #[error("{message}")]
    Host {
        message: String,
        help: Option<String>,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A check (`devcontainer --check`, `--locked`) found differences: each detail a line.
    #[error("{message}")]
    CheckFailed {
        message: String,
        details: Vec<String>,
        help: Option<String>,
    },
    /// The user declined a prompt.
    #[error("cancelled")]
    Cancelled,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a registry transfer failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryProblem {
    /// Nothing answered (stopped, offline, a wrong address).
    Unreachable,
    /// 401/403: no or wrong credentials.
    Unauthorized,
    /// The registry has no such tag or manifest.
    Missing,
    /// The image is not the one the lock or the hash names: never run.
    Mismatch,
    Other,
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            help: None,
        }
    }

    pub fn usage_with_help(message: impl Into<String>, help: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            help: Some(help.into()),
        }
    }

    pub fn profile(
        pos: SourcePos,
        field: impl Into<String>,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Self {
        Error::Profile {
            pos,
            field: field.into(),
            message: message.into(),
            help,
        }
    }

    pub fn host(message: impl Into<String>, help: impl Into<String>) -> Self {
        Error::Host {
            message: message.into(),
            help: Some(help.into()),
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn io_path(verb: &str, path: &std::path::Path, source: std::io::Error) -> Self {
        Error::io(format!("cannot {verb} {}", path.display()), source)
    }

    /// `profile` has no container in this workspace.
    pub fn no_environment(profile: &str) -> Self {
        Error::usage_with_help(
            format!("there is no {profile} environment for this workspace"),
            format!("start one with `robodev up {profile} -d`"),
        )
    }

    /// A container with robodev's name for this environment that robodev did not create.
    pub fn foreign_container(name: &str) -> Self {
        Error::Engine {
            action: format!("cannot use the container name {name}"),
            message: "a container with that name exists and was not created by robodev".into(),
            help: Some(format!(
                "rename or remove it (`docker rename {name} {name}-old`), then run robodev again"
            )),
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Profile { .. } | Error::Usage { .. } => 2,
            _ => 1,
        }
    }

    pub fn help(&self) -> Option<&str> {
        match self {
            Error::Profile { help, .. }
            | Error::Usage { help, .. }
            | Error::Engine { help, .. }
            | Error::Host { help, .. }
            | Error::Registry { help, .. }
            | Error::CheckFailed { help, .. } => help.as_deref(),
            Error::Build { .. } => Some("run again with -v to see the whole build log"),
            _ => None,
        }
    }

    /// The text shown to the user: the message, the log tail of a failed build, and the help.
    /// Everything in it that came from a file or a program has its control characters escaped:
    /// a profile key holding a newline cannot forge an `error:` line, nor a name retitle the
    /// terminal.
    pub fn report(&self) -> String {
        use crate::text::plain;
        let mut out = format!("error: {}", plain(&self.to_string()));
        if let Error::CheckFailed { details, .. } = self {
            for line in details {
                out.push_str("\n  ");
                out.push_str(&plain(line));
            }
        }
        if let Error::Build { log_tail, .. } = self
            && !log_tail.is_empty()
        {
            out.push_str("\n\nlast lines of the failing step:\n");
            for line in log_tail {
                out.push_str("  | ");
                out.push_str(&plain(line));
                out.push('\n');
            }
        }
        if let Some(help) = self.help() {
            out.push_str("\n  help: ");
            out.push_str(&plain(help));
        }
        out
    }
}

//! `robodev man`: one page with every command (there are no per-command pages to refer to),
//! the environment variables robodev reads and its exit status.

use crate::cli::Cli;
use crate::error::{Error, Result};
use clap::CommandFactory;

const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "DOCKER_HOST",
        "The engine to use: unix://, tcp:// or ssh://USER@HOST[:PORT] (after --host; default: DOCKER_CONTEXT, engine: in ROBODEV_CONFIG_DIR/config.yaml, the docker CLI's current context, unix:///var/run/docker.sock).",
    ),
    (
        "DOCKER_CONTEXT, DOCKER_CONFIG",
        "The docker CLI's context and config directory, read as the docker CLI does.",
    ),
    (
        "DOCKER_TLS_VERIFY, DOCKER_CERT_PATH",
        "TLS to a tcp:// engine, with ca.pem, cert.pem and key.pem from DOCKER_CERT_PATH (default ~/.docker).",
    ),
    (
        "ROBODEV_CONFIG_DIR",
        "Where user profiles (ROBODEV_CONFIG_DIR/profiles) and config.yaml (engine: URL) are; default ~/.config/robodev.",
    ),
    (
        "ROBODEV_STATE_DIR",
        "Where robodev keeps per-container state such as X11 cookies (default ~/.cache/robodev).",
    ),
    ("NO_COLOR", "When set and not empty, no colour."),
    (
        "DISPLAY, XAUTHORITY, WAYLAND_DISPLAY, XDG_RUNTIME_DIR, PULSE_SERVER, SSH_AUTH_SOCK",
        "Read for x11:, wayland:, audio: and ssh_agent: profiles.",
    ),
    ("TERM, COLORTERM, LANG", "Passed on to shell and exec."),
];

const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success."),
    (
        "1",
        "The operation failed (the engine, a build, a host requirement).",
    ),
    ("2", "Bad input: a profile value, a flag, a name."),
    (
        "other",
        "exec, run and shell return the command's own exit status; 128+N when robodev was \\
         stopped by signal N (the signal is passed on to the command first).",
    ),
];

fn roff_escape(text: &str) -> String {
    text.replace('\\', "\\e").replace('-', "\\-")
}

/// The page: clap's title, name, synopsis, description and options, then a COMMANDS section
/// listing each command with its usage, and ENVIRONMENT and EXIT STATUS.
pub fn page() -> Result<String> {
    let cmd = Cli::command();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    let io = |e| Error::io("cannot render the man page", e);
    man.render_title(&mut out).map_err(io)?;
    man.render_name_section(&mut out).map_err(io)?;
    man.render_synopsis_section(&mut out).map_err(io)?;
    man.render_description_section(&mut out).map_err(io)?;
    man.render_options_section(&mut out).map_err(io)?;
    let mut text = String::from_utf8_lossy(&out).into_owned();
    text.push_str(".SH COMMANDS\n");
    for sub in cmd.get_subcommands() {
        let mut sub = sub.clone().bin_name(format!("robodev {}", sub.get_name()));
        let usage = sub.render_usage().to_string();
        let usage = usage.trim_start_matches("Usage: ");
        text.push_str(&format!(".TP\n\\fB{}\\fR\n", roff_escape(usage)));
        if let Some(about) = sub.get_about() {
            text.push_str(&format!("{}\n", roff_escape(&about.to_string())));
        }
    }
    text.push_str(".SH ENVIRONMENT\n");
    for (name, what) in ENVIRONMENT {
        text.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_escape(name),
            roff_escape(what)
        ));
    }
    text.push_str(".SH \"EXIT STATUS\"\n");
    for (code, what) in EXIT_STATUS {
        text.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff_escape(what)));
    }
    text.push_str(
        ".SH \"SEE ALSO\"\nThe README: profile reference, user journeys and the cookbook.\n",
    );
    Ok(text)
}

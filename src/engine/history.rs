//! An image's layers as the engine records them (`docker history`), newest first, and what
//! each entry says about the Dockerfile instruction that made it.

use super::connection::BollardEngine;
use super::errors::{QUICK, api_error, limited};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct HistoryEntry {
    pub created_by: String,
    pub size: i64,
    pub created: i64,
}

/// The Dockerfile instructions, as a history entry can name them.
const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

impl HistoryEntry {
    /// The instruction this entry records: its keyword ("RUN", "LABEL", …) and the rest.
    /// `None` for an entry that names none (an imported image's, `CreatedBy` empty).
    ///
    /// The engines write `CreatedBy` three ways:
    /// - Docker's classic builder and buildah (Podman): `SHELL #(nop) KEYWORD …` for an
    ///   instruction that runs nothing (`/bin/sh -c #(nop) CMD …`, after a `SHELL`
    ///   instruction `/bin/sh -eu -c #(nop)  LABEL …`), and a `RUN` as the command line it ran,
    ///   build arguments in front (`|1 DEBIAN_FRONTEND=noninteractive /bin/sh -c apt-get …`);
    /// - BuildKit: the instruction as written (`RUN /bin/sh -c … # buildkit`, `COPY a b`).
    pub fn instruction(&self) -> Option<(&'static str, &str)> {
        let text = self.created_by.trim();
        if text.is_empty() {
            return None;
        }
        if let Some((shell, nop)) = text.split_once("#(nop)")
            && (shell.trim().is_empty() || shell.trim_end().ends_with(" -c"))
        {
            let nop = nop.trim_start();
            let (word, rest) = nop.split_once(char::is_whitespace).unwrap_or((nop, ""));
            let keyword = KEYWORDS.iter().find(|k| k.eq_ignore_ascii_case(word))?;
            return Some((keyword, rest.trim()));
        }
        let (word, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        if let Some(keyword) = KEYWORDS.iter().find(|k| **k == word) {
            return Some((keyword, rest.trim()));
        }
        Some(("RUN", run_command(text)))
    }

    /// Whether this entry is robodev's own labels, which a build adds after the Dockerfile's
    /// instructions: Docker one `LABEL robodev.…=…` entry per label, buildah one
    /// `LABEL "robodev.…"="…" …` entry for all of them.
    pub fn is_robodev_label(&self) -> bool {
        matches!(self.instruction(), Some(("LABEL", rest))
            if rest.trim_start_matches('"').starts_with("robodev."))
    }
}

/// The command a classic `RUN` entry ran: without the build arguments (`|2 A=1 B=2 `) and the
/// shell (`/bin/sh -c `) in front of it, as far as they can be told apart.
fn run_command(text: &str) -> &str {
    let mut rest = text;
    if let Some(counted) = rest.strip_prefix('|')
        && let Some((n, after)) = counted.split_once(' ')
        && let Ok(n) = n.parse::<usize>()
    {
        rest = after;
        for _ in 0..n {
            rest = rest.split_once(' ').map_or("", |(_, r)| r);
        }
    }
    // "/bin/sh -c CMD", "/bin/sh -eu -c CMD", "/bin/bash -o pipefail -c CMD"
    if rest.starts_with('/')
        && let Some((_, command)) = rest.split_once(" -c ")
    {
        return command.trim();
    }
    rest.trim()
}

impl From<bollard::models::ImageHistoryResponseItem> for HistoryEntry {
    fn from(i: bollard::models::ImageHistoryResponseItem) -> HistoryEntry {
        HistoryEntry {
            created_by: i.created_by,
            size: i.size,
            created: i.created,
        }
    }
}

impl BollardEngine {
    pub async fn history(&self, image: &str) -> Result<Vec<HistoryEntry>> {
        let action = format!("read the history of {image}");
        let items = limited(QUICK, &action, self.docker.image_history(image))
            .await?
            .map_err(|e| api_error(&action, e))?;
        Ok(items.into_iter().map(HistoryEntry::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(created_by: &str) -> HistoryEntry {
        HistoryEntry {
            created_by: created_by.to_string(),
            size: 0,
            created: 0,
        }
    }

    fn instruction(created_by: &str) -> Option<(&'static str, String)> {
        entry(created_by)
            .instruction()
            .map(|(k, rest)| (k, rest.to_string()))
    }

    #[test]
    fn a_nop_entry_names_its_instruction_whatever_the_shell() {
        assert_eq!(
            instruction("/bin/sh -eu -c #(nop)  LABEL robodev.profile=ws"),
            Some(("LABEL", "robodev.profile=ws".into()))
        );
        assert_eq!(
            instruction(r#"/bin/sh -c #(nop) CMD ["sleep", "infinity"]"#),
            Some(("CMD", r#"["sleep", "infinity"]"#.into()))
        );
        assert_eq!(
            instruction("/bin/sh -c #(nop) ARG DEBIAN_FRONTEND"),
            Some(("ARG", "DEBIAN_FRONTEND".into()))
        );
    }

    #[test]
    fn a_run_entry_is_its_command() {
        assert_eq!(
            instruction("|1 DEBIAN_FRONTEND=noninteractive /bin/sh -eu -c mkdir -p /run/user/0"),
            Some(("RUN", "mkdir -p /run/user/0".into()))
        );
        assert_eq!(
            instruction("/bin/sh -c apt-get update"),
            Some(("RUN", "apt-get update".into()))
        );
        assert_eq!(
            instruction("|2 A=1 B=2 /bin/bash -o pipefail -c make"),
            Some(("RUN", "make".into()))
        );
    }

    #[test]
    fn a_buildkit_entry_is_the_instruction_as_written() {
        assert_eq!(
            instruction("RUN /bin/sh -c apt-get update # buildkit"),
            Some(("RUN", "/bin/sh -c apt-get update # buildkit".into()))
        );
        assert_eq!(
            instruction("COPY robodev-entrypoint /usr/local/bin/ # buildkit"),
            Some((
                "COPY",
                "robodev-entrypoint /usr/local/bin/ # buildkit".into()
            ))
        );
    }

    #[test]
    fn an_imported_layer_names_no_instruction() {
        assert_eq!(instruction(""), None);
    }

    #[test]
    fn robodevs_labels_are_told_in_dockers_and_buildahs_forms() {
        assert!(entry("/bin/sh -eu -c #(nop)  LABEL robodev.hash=54436b").is_robodev_label());
        assert!(
            entry(r#"/bin/sh -c #(nop) LABEL "robodev.workspace"="/tmp/ws" "robodev.hash"="5""#)
                .is_robodev_label()
        );
        assert!(!entry("/bin/sh -c #(nop) LABEL maintainer=someone").is_robodev_label());
        assert!(!entry("/bin/sh -c echo LABEL robodev.x=1").is_robodev_label());
    }
}

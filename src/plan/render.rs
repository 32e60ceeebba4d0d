//! Rendering the shipped minijinja templates (embedded in the binary), optionally overridden by
//! name from a user's directory. Strict undefined variables, no HTML escaping, deterministic.

use crate::error::{Error, Result};
use minijinja::{Environment, UndefinedBehavior};
use std::path::PathBuf;

pub static TEMPLATES: &[(&str, &str)] = &[
    (
        "Dockerfile.j2",
        include_str!("../../templates/Dockerfile.j2"),
    ),
    (
        "apt-install.j2",
        include_str!("../../templates/apt-install.j2"),
    ),
    ("user.j2", include_str!("../../templates/user.j2")),
    (
        "image-layers.j2",
        include_str!("../../templates/image-layers.j2"),
    ),
    ("deploy.j2", include_str!("../../templates/deploy.j2")),
    (
        "deploy-entrypoint.j2",
        include_str!("../../templates/deploy-entrypoint.j2"),
    ),
    (
        "robodev-entrypoint.j2",
        include_str!("../../templates/robodev-entrypoint.j2"),
    ),
    (
        "dockerignore.j2",
        include_str!("../../templates/dockerignore.j2"),
    ),
    ("resolver.j2", include_str!("../../templates/resolver.j2")),
    (
        "devcontainer-initialize.j2",
        include_str!("../../templates/devcontainer-initialize.j2"),
    ),
    (
        "devcontainer-groups.j2",
        include_str!("../../templates/devcontainer-groups.j2"),
    ),
];

/// Quote for a POSIX shell. Every profile string that reaches a `RUN` line goes through this.
fn sh(value: &str) -> std::result::Result<String, minijinja::Error> {
    shlex::try_quote(value)
        .map(|q| q.into_owned())
        .map_err(|e| {
            minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("cannot shell-quote {value:?}: {e}"),
            )
        })
}

/// Quote for a Dockerfile `ENV` value: double quotes, with `\`, `"` and `$` escaped.
/// Control characters are rejected earlier, by validation; refuse them here as well.
fn dockerenv(value: &str) -> std::result::Result<String, minijinja::Error> {
    if value.chars().any(char::is_control) {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            "environment values cannot contain control characters",
        ));
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// `overrides`: a directory whose files replace shipped templates of the same name.
    /// The renderer for a profile: `--templates` (`flag`) wins over the profile's `templates:`.
    pub fn for_profile(flag: Option<PathBuf>, profile: &crate::profile::Profile) -> Renderer {
        Renderer::new(flag.or_else(|| profile.templates.as_ref().map(PathBuf::from)))
    }

    pub fn new(overrides: Option<PathBuf>) -> Renderer {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_keep_trailing_newline(true);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.add_filter("sh", sh);
        env.add_filter("dockerenv", dockerenv);
        env.set_loader(move |name| {
            if let Some(dir) = &overrides {
                let path = dir.join(name);
                if path.is_file() {
                    return std::fs::read_to_string(&path).map(Some).map_err(|e| {
                        minijinja::Error::new(
                            minijinja::ErrorKind::InvalidOperation,
                            format!("cannot read template {}: {e}", path.display()),
                        )
                    });
                }
            }
            Ok(TEMPLATES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t.to_string()))
        });
        Renderer { env }
    }

    pub fn render(&self, name: &str, context: &serde_json::Value) -> Result<String> {
        let template = self.env.get_template(name).map_err(template_error)?;
        template.render(context).map_err(template_error)
    }
}

fn template_error(e: minijinja::Error) -> Error {
    let place = match (e.name(), e.line()) {
        (Some(n), Some(l)) => format!("{n}:{l}: "),
        (Some(n), None) => format!("{n}: "),
        _ => String::new(),
    };
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail.push_str(&format!(": {s}"));
        source = s.source();
    }
    Error::usage_with_help(
        format!("template error: {place}{detail}"),
        "check the templates directory given with `templates:` or `--templates`",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_quoting() {
        assert_eq!(
            dockerenv(r#"a "b" $HOME \x"#).unwrap(),
            r#""a \"b\" \$HOME \\x""#
        );
        assert!(dockerenv("a\nb").is_err());
    }

    #[test]
    fn strict_undefined() {
        let r = Renderer::new(None);
        let err = r
            .render("apt-install.j2", &serde_json::json!({}))
            .unwrap_err();
        assert!(err.to_string().contains("apt-install.j2"), "{err}");
    }
}

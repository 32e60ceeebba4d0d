//! `robodev sources export`: a vcstool `.repos` file of what is checked out, which `vcs import`
//! reads back into the same tree. Pure: the commands observe the clones and hand them here.

use serde_json::{Map, Value, json};

/// One checked-out repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exported {
    /// Its key in the file: the path relative to the directory the file is imported into.
    pub key: String,
    pub url: String,
    pub commit: String,
    /// The branch checked out, if any.
    pub branch: Option<String>,
}

/// The file's text: `exact` names every repository by its commit; otherwise by its branch, and
/// by its commit when it is on none (as `vcs export` does).
pub fn render(repos: &[Exported], exact: bool, import_into: &str) -> String {
    let mut repositories = Map::new();
    for r in repos {
        let version = match (&r.branch, exact) {
            (Some(branch), false) => branch.clone(),
            _ => r.commit.clone(),
        };
        repositories.insert(
            r.key.clone(),
            json!({"type": "git", "url": r.url, "version": version}),
        );
    }
    let body = crate::text::yaml(&json!({ "repositories": Value::Object(repositories) }));
    format!(
        "# Written by `robodev sources export{}`; import with `vcs import {import_into} < FILE`.\n{body}",
        if exact { " --exact" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_commits_when_exact_or_detached() {
        let repos = vec![
            Exported {
                key: "a".into(),
                url: "git://h/a".into(),
                commit: "c".repeat(40),
                branch: Some("main".into()),
            },
            Exported {
                key: "b/c".into(),
                url: "git://h/b".into(),
                commit: "d".repeat(40),
                branch: None,
            },
        ];
        let loose = render(&repos, false, "src");
        assert!(loose.contains("version: main"), "{loose}");
        assert!(loose.contains(&"d".repeat(40)), "{loose}");
        let exact = render(&repos, true, "src");
        assert!(!exact.contains("version: main"), "{exact}");
        let back = super::super::repos_file::parse(&exact, "x.repos", "src").unwrap();
        assert_eq!(back[1].path, "src/b/c");
        assert_eq!(back[0].version.as_deref(), Some("c".repeat(40).as_str()));
    }
}

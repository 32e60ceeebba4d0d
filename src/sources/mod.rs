//! The workspace's other repositories: the vcstool `.repos` files the profile's `sources:` names.
//!
//! `repos_file` reads a file into checked `Repository` values (pure, with file:line:col errors);
//! `plan` decides, from a repository, its robodev.lock entry and what is on disk, what to do
//! with it (pure: clone, check out, leave alone and why); `git` looks at a clone and carries a
//! decision out by running the user's own `git`, so their keys, agent, credential helpers and
//! `insteadOf` rules apply; `export` writes a `.repos` file of what is checked out.

pub mod export;
pub mod git;
pub mod plan;
pub mod repos_file;

pub use repos_file::Repository;

use crate::error::{Error, Result};
use crate::profile::model::SourcesFile;

/// Every repository of the profile's `.repos` files, in file order; a path named by two files
/// (or inside another's) is an error at the second.
pub fn read_all(files: &[SourcesFile]) -> Result<Vec<Repository>> {
    let mut all: Vec<Repository> = Vec::new();
    for file in files {
        let path = std::path::Path::new(&file.file);
        let text = std::fs::read_to_string(path).map_err(|e| Error::io_path("read", path, e))?;
        for repo in repos_file::parse(&text, &file.file, &file.into)? {
            if let Some(other) = all.iter().find(|r| repos_file::nested(&r.path, &repo.path)) {
                return Err(Error::profile(
                    repo.declared_at.clone(),
                    format!("repositories.{}", repo.path),
                    format!(
                        "`{}` is also named at {} (or one holds the other)",
                        repo.path, other.declared_at
                    ),
                    Some("give each repository its own directory".into()),
                ));
            }
            all.push(repo);
        }
    }
    Ok(all)
}

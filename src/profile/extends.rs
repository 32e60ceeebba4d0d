//! Reading a profile with its whole `extends:` chain and merging it, parent first.

use super::file::{Origin, ProfileFile, read_file};
use super::raw::RawProfile;
use super::search::{ProfileSearch, looks_like_path};
use super::yaml::{at, parse};
use crate::error::Result;
use crate::paths::resolve_against;

/// A profile read with its whole `extends:` chain, merged.
#[derive(Clone, Debug)]
pub struct LoadedProfile {
    pub raw: RawProfile,
    /// The name the profile is known by.
    pub name: String,
    /// The files it was composed from, child first.
    pub chain: Vec<Origin>,
}

/// How many files an `extends:` chain may have: real ones have two or three.
pub const MAX_CHAIN: usize = 64;

impl ProfileSearch {
    /// Load a profile by reference (name or path), or the workspace's `robodev.yaml` when none.
    pub fn load(&self, reference: Option<&str>) -> Result<LoadedProfile> {
        let file = match reference {
            Some(r) if looks_like_path(r) => read_file(&resolve_against(&self.workspace_root, r))?,
            Some(name) => self.find_by_name(name, None)?,
            None => self.workspace_file_or_help()?,
        };
        self.load_file(file)
    }

    /// Load a profile from a file already read (or about to be written), with its chain.
    pub fn load_file(&self, file: ProfileFile) -> Result<LoadedProfile> {
        let mut chain = Vec::new();
        let raw = self.load_chain(file, &mut chain)?;
        let name = raw
            .name
            .as_ref()
            .map(|n| n.value.clone())
            .unwrap_or_else(|| chain[0].default_name(&self.workspace_root));
        Ok(LoadedProfile { raw, name, chain })
    }

    /// Read `file` and its parents, iteratively (a chain of thousands of files must not
    /// overflow the stack), then merge them parent first.
    fn load_chain(&self, file: ProfileFile, chain: &mut Vec<Origin>) -> Result<RawProfile> {
        let mut raws = Vec::new();
        let mut next = Some(file);
        while let Some(file) = next.take() {
            let raw = parse(&file)?;
            chain.push(file.origin.clone());
            if let Some(parent_ref) = raw.extends.clone() {
                if chain.len() >= MAX_CHAIN {
                    return Err(at(
                        &parent_ref,
                        "extends",
                        format!("the `extends:` chain is longer than {MAX_CHAIN} profiles"),
                        Some(
                            "a profile extends a few others at most: look for a generated chain"
                                .into(),
                        ),
                    ));
                }
                next = Some(self.parent_of(&file, &parent_ref, chain)?);
            }
            raws.push(raw);
        }
        let mut merged = raws.pop().unwrap_or_default();
        while let Some(child) = raws.pop() {
            merged = merged.merged_with(child);
        }
        Ok(merged)
    }

    /// The file `extends:` names, refusing a cycle.
    fn parent_of(
        &self,
        file: &ProfileFile,
        parent_ref: &crate::profile::sourced::Sourced<String>,
        chain: &[Origin],
    ) -> Result<ProfileFile> {
        let parent = if looks_like_path(&parent_ref.value) {
            let base = file.origin.dir().unwrap_or(&self.workspace_root);
            read_file(&resolve_against(base, &parent_ref.value))
                .map_err(|e| at(parent_ref, "extends", e.to_string(), None))?
        } else {
            self.find_by_name(&parent_ref.value, Some(&file.origin))
                .map_err(|e| {
                    at(
                        parent_ref,
                        "extends",
                        e.to_string(),
                        e.help().map(String::from),
                    )
                })?
        };
        if chain.contains(&parent.origin) {
            let cycle: Vec<String> = chain
                .iter()
                .chain(std::iter::once(&parent.origin))
                .map(Origin::display)
                .collect();
            return Err(at(
                parent_ref,
                "extends",
                format!(
                    "profiles extend each other in a cycle: {}",
                    cycle.join(" → ")
                ),
                Some("remove one of the `extends:` lines".into()),
            ));
        }
        Ok(parent)
    }
}

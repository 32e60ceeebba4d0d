//! `robodev devcontainer`: write, or `--check`, the `.devcontainer/` files.

use super::session::Session;
use crate::error::{Error, Result};
use crate::files::{GeneratedFile, write_generated};
use crate::plan::devcontainer;
use std::path::PathBuf;

pub async fn devcontainer(
    s: &Session,
    reference: Option<&str>,
    check: bool,
    force: bool,
) -> Result<i32> {
    let profile = s.profile(reference)?;
    // Planned for whoever opens the folder, not for this machine: no engine, no host probing.
    let lock = crate::lockfile::LockFile::read(&s.workspace.root)?;
    let files = devcontainer::for_profile(
        &profile,
        s.global.templates.clone(),
        crate::plan::Pins::of(&lock, &profile),
    )?;
    let dir = s.workspace.root.join(".devcontainer");
    let mut wanted: Vec<(PathBuf, String, bool)> = vec![
        (
            dir.join("devcontainer.json"),
            files.devcontainer_json,
            false,
        ),
        (dir.join("Dockerfile"), files.dockerfile, false),
    ];
    for (name, content, executable) in files.context {
        wanted.push((dir.join(name), content, executable));
    }
    if check {
        let mut stale = Vec::new();
        for (path, content, _) in &wanted {
            match std::fs::read_to_string(path) {
                Ok(existing) if existing == *content => {}
                Ok(existing) => stale.push(format!(
                    "{} differs:\n{}",
                    path.display(),
                    line_diff(&existing, content)
                )),
                Err(_) => stale.push(format!("{} is missing", path.display())),
            }
        }
        if stale.is_empty() {
            s.ui.success(".devcontainer is up to date with the profile");
            return Ok(0);
        }
        return Err(Error::CheckFailed {
            message: ".devcontainer is out of date with the profile:".into(),
            details: stale
                .iter()
                .flat_map(|s| s.lines().map(String::from))
                .collect(),
            help: Some("run `robodev devcontainer` and commit the result".into()),
        });
    }
    let files: Vec<GeneratedFile> = wanted
        .into_iter()
        .map(|(path, content, executable)| GeneratedFile {
            path,
            content,
            executable,
        })
        .collect();
    write_generated(&files, force)?;
    s.ui.success(format!(
        "wrote {} (open the folder in VS Code and choose \"Reopen in Container\")",
        dir.join("devcontainer.json").display()
    ));
    Ok(0)
}

/// How many unchanged lines are shown around each change.
const DIFF_CONTEXT: usize = 2;
/// The most lines a difference shows; past that it says how many it left out.
const DIFF_LINES: usize = 60;
/// Past this many line pairs between the first and the last change, the lines in between are
/// shown as replaced whole instead of matched (a generated file is never that large).
const DIFF_CELLS: usize = 4_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edit {
    Same,
    Removed,
    Added,
}

/// The edits that turn `a` into `b`, line by line: a longest common subsequence, so only the
/// lines that really differ are `-`/`+`.
fn line_edits(a: &[&str], b: &[&str]) -> Vec<Edit> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut edits = vec![Edit::Same; prefix];
    if ma.len().saturating_mul(mb.len()) > DIFF_CELLS {
        edits.extend(std::iter::repeat_n(Edit::Removed, ma.len()));
        edits.extend(std::iter::repeat_n(Edit::Added, mb.len()));
    } else {
        // lcs[i][j]: the longest common subsequence of ma[i..] and mb[j..].
        let width = mb.len() + 1;
        let mut lcs = vec![0u32; (ma.len() + 1) * width];
        for i in (0..ma.len()).rev() {
            for j in (0..mb.len()).rev() {
                lcs[i * width + j] = if ma[i] == mb[j] {
                    lcs[(i + 1) * width + j + 1] + 1
                } else {
                    lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < ma.len() || j < mb.len() {
            if i < ma.len() && j < mb.len() && ma[i] == mb[j] {
                edits.push(Edit::Same);
                (i, j) = (i + 1, j + 1);
            } else if j == mb.len()
                || (i < ma.len() && lcs[(i + 1) * width + j] >= lcs[i * width + j + 1])
            {
                // On a tie the removal first: a change reads `-` then `+`, as `diff -u` has it.
                edits.push(Edit::Removed);
                i += 1;
            } else {
                edits.push(Edit::Added);
                j += 1;
            }
        }
    }
    edits.extend(std::iter::repeat_n(Edit::Same, suffix));
    edits
}

/// The lines that differ, `- committed` / `+ generated`, each change with a little unchanged
/// context and a header naming where it is (`@@ -committed line,count +generated line,count @@`,
/// as `diff -u` writes it).
pub(super) fn line_diff(existing: &str, wanted: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (existing.lines().collect(), wanted.lines().collect());
    let edits = line_edits(&a, &b);
    // Each edit's line in the committed file and in the generated one.
    let mut at = Vec::with_capacity(edits.len());
    let (mut i, mut j) = (0, 0);
    for e in &edits {
        at.push((i, j));
        match e {
            Edit::Same => (i, j) = (i + 1, j + 1),
            Edit::Removed => i += 1,
            Edit::Added => j += 1,
        }
    }
    // Hunks: the changed edits with their context, merged when their context touches.
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for (k, e) in edits.iter().enumerate() {
        if *e == Edit::Same {
            continue;
        }
        let (start, end) = (
            k.saturating_sub(DIFF_CONTEXT),
            (k + DIFF_CONTEXT + 1).min(edits.len()),
        );
        match hunks.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => hunks.push((start, end)),
        }
    }
    if hunks.is_empty() {
        // Only the line endings or the final newline differ.
        return "  (the same lines; the line endings or the final newline differ)".into();
    }
    let mut out: Vec<String> = Vec::new();
    for (start, end) in hunks {
        let count = |kind: Edit| {
            edits[start..end]
                .iter()
                .filter(|e| **e == Edit::Same || **e == kind)
                .count()
        };
        out.push(format!(
            "  @@ -{},{} +{},{} @@",
            at[start].0 + 1,
            count(Edit::Removed),
            at[start].1 + 1,
            count(Edit::Added)
        ));
        for k in start..end {
            out.push(match edits[k] {
                Edit::Same => format!("    {}", a[at[k].0]),
                Edit::Removed => format!("  - {}", a[at[k].0]),
                Edit::Added => format!("  + {}", b[at[k].1]),
            });
        }
    }
    if out.len() > DIFF_LINES {
        let left = out.len() - DIFF_LINES;
        out.truncate(DIFF_LINES);
        out.push(format!("  … and {left} more line(s)"));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::line_diff;

    /// Regression (issue "ROS 2 traffic…, devcontainers on every host, CI files a CI engineer
    /// accepts"): `--check` printed the same lines as `-` and `+` from the first difference
    /// on, and a changed line further down was cut off.
    #[test]
    fn only_the_lines_that_differ_are_marked() {
        let committed = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n";
        let generated = "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nK\nl\n";
        let diff = line_diff(committed, generated);
        assert_eq!(
            diff,
            "  @@ -1,4 +1,4 @@\n    a\n  - b\n  + B\n    c\n    d\n\
             \x20 @@ -9,3 +9,4 @@\n    i\n    j\n  - k\n  + K\n  + l"
        );
        // An inserted line shifts nothing else into the difference.
        let diff = line_diff("1\n2\n3\n4\n5\n6\n", "0\n1\n2\n3\n4\n5\n6\n");
        assert_eq!(diff, "  @@ -1,2 +1,3 @@\n  + 0\n    1\n    2");
        assert!(line_diff("x", "x\n").contains("final newline"));
    }
}

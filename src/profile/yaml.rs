//! Reading one profile file's YAML into a `RawProfile`, and the parser's errors in the words of
//! someone writing a profile, with file, line, column and field path.

use super::file::ProfileFile;
use super::raw::{FIELDS, RawProfile};
use super::sourced::{self, Sourced};
use crate::error::{Error, Result, SourcePos};
use crate::suggest;
use std::cell::RefCell;

/// Parse one profile file, turning serde-saphyr errors into errors with a field path.
pub fn parse(file: &ProfileFile) -> Result<RawProfile> {
    let display = file.origin.display();
    let raw: RawProfile = from_str(&file.text, &display)?;
    check_version(&display, &raw)?;
    Ok(raw)
}

/// Any of robodev's YAML files (profiles, robodev.lock) into `T`, errors with file, line,
/// column and field path, under the same small budget.
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str, display: &str) -> Result<T> {
    let path = RefCell::new(String::new());
    let result: std::result::Result<T, serde_saphyr::Error> = sourced::with_file(display, || {
        serde_saphyr::with_deserializer_from_str_with_options(text, options(), |de| {
            serde_path_to_error::deserialize(de).map_err(|e| {
                *path.borrow_mut() = e.path().to_string();
                e.into_inner()
            })
        })
    });
    result.map_err(|e| yaml_error(display, &path.into_inner(), &e))
}

/// A profile is a few dozen lines: a budget that size stops alias bombs and absurd nesting in
/// microseconds instead of the parser's general-purpose limits (seconds, hundreds of MB).
fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 100_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_recorded_anchor_events = 10_000;
    budget.max_recorded_anchor_bytes = 1 << 20;
    budget.max_depth = 32;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

/// An error about a value, at the value's position.
pub fn at<T>(value: &Sourced<T>, field: &str, message: String, help: Option<String>) -> Error {
    Error::profile(value.pos.clone(), field, message, help)
}

fn check_version(display: &str, raw: &RawProfile) -> Result<()> {
    match &raw.version {
        Some(v) if v.value == 1 => Ok(()),
        Some(v) => Err(at(
            v,
            "version",
            format!(
                "schema version {} is not supported; this robodev reads version 1",
                v.value
            ),
            Some("upgrade robodev, or write the profile for `version: 1`".into()),
        )),
        None => Err(Error::profile(
            SourcePos {
                file: display.to_string(),
                line: 1,
                column: 1,
            },
            "version",
            "the profile has no `version`",
            Some("add `version: 1` as the first line".into()),
        )),
    }
}

fn yaml_error(file: &str, path: &str, e: &serde_saphyr::Error) -> Error {
    let (line, column) = e
        .location()
        .map(|l| (l.line() as u32, l.column() as u32))
        .unwrap_or((0, 0));
    let first = e.to_string().lines().next().unwrap_or_default().to_string();
    // serde-saphyr prefixes "error: line L column C: "; we print the position ourselves.
    let message = first
        .split_once(": ")
        .and_then(|(_, rest)| {
            rest.strip_prefix("line ")
                .and_then(|r| r.split_once(": "))
                .map(|(_, m)| m.to_string())
        })
        .unwrap_or(first);
    let message = plain_message(&message);
    let mut field = field_path(path);
    if let Some(key) = message.strip_prefix("duplicate key ") {
        // serde_path_to_error has no path for a duplicate key; the key itself is the best name.
        field = key.trim_matches('`').to_string();
    }
    let field = if field.is_empty() || field == "." || field == "?" {
        "(document)".to_string()
    } else {
        field
    };
    let help = unknown_field_help(&message, &field);
    Error::profile(
        SourcePos {
            file: file.to_string(),
            line,
            column,
        },
        field,
        message,
        help,
    )
}

/// The parser's wording, in the words of someone writing a profile.
fn plain_message(message: &str) -> String {
    if message.contains("budget breached") || message.contains("budget exceeded") {
        return "the YAML expands to more than a profile can hold (too many nodes, aliases or \
                levels of nesting)"
            .into();
    }
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(',').next().unwrap_or(rest).trim();
        return format!("duplicate key `{key}`");
    }
    match message {
        "expected sequence start" => "expected a list (`[a, b]`, or one `- item` per line)".into(),
        "expected mapping start" => "expected a map (`key: value` lines, or `{key: value}`)".into(),
        other => other.to_string(),
    }
}

/// serde_path_to_error's path, without the `value` segments that `Sourced` (via serde-saphyr's
/// `Spanned`) adds after every wrapped node. An env variable named `value` is kept.
fn field_path(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('.') {
        if segment == "value" && kept.last().is_some_and(|prev| *prev != "env") {
            continue;
        }
        kept.push(segment);
    }
    kept.join(".")
}

/// serde says "unknown field `devics`, expected one of a, b, c": turn it into a suggestion.
fn unknown_field_help(message: &str, field: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (name, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest
        .split_once("expected one of ")
        .map(|(_, list)| list.split(", ").map(|s| s.trim_matches('`')).collect())
        .or_else(|| {
            rest.split_once("expected ")
                .map(|(_, one)| vec![one.trim_matches('`')])
        })
        .unwrap_or_else(|| {
            if field.contains('.') {
                vec![]
            } else {
                FIELDS.to_vec()
            }
        });
    let suggestion = suggest::closest(name, expected.iter().copied());
    Some(match suggestion {
        Some(s) => format!("unknown field \"{name}\", did you mean \"{s}\"?"),
        None => format!("valid fields here: {}", expected.join(", ")),
    })
}

//! What a newer robodev wrote that this one does not know, kept when the file is written again:
//! a whole section (`Document::other`), or a field inside an entry (here). The section types
//! read such fields without complaint and drop them; `keep` puts them back into the rendering,
//! entry by entry, for every entry this robodev left as it found it. An entry it changed is
//! written as this robodev knows it: what a newer robodev recorded about the old value (a
//! signature of the old digest) would no longer describe it.

use serde_json::Value;

/// The file as read: all of it, and the part this robodev understood (its own rendering of
/// what it read, so an entry is unchanged when its rendering is the same).
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct AsRead {
    pub whole: Value,
    pub understood: Value,
}

/// The sections of entries, and how deep their entries are: `dependencies.PROFILE`,
/// `base.PROFILE`, `images.HASH.PLATFORM`, `sources.PATH`.
const SECTIONS: &[(&str, usize)] = &[
    ("dependencies", 1),
    ("base", 1),
    ("images", 2),
    ("sources", 1),
];

/// Add to `written` (this robodev's rendering of the document) the fields it does not know of
/// every entry that is as it was read.
pub(super) fn keep(written: &mut Value, as_read: &AsRead) {
    for (section, depth) in SECTIONS {
        if let (Some(written), Some(whole), Some(understood)) = (
            written.get_mut(*section),
            as_read.whole.get(*section),
            as_read.understood.get(*section),
        ) {
            keep_in(written, whole, understood, *depth);
        }
    }
}

/// `depth` levels of names (profile; hash, then platform) above the entries.
fn keep_in(written: &mut Value, whole: &Value, understood: &Value, depth: usize) {
    let Some(written) = written.as_object_mut() else {
        return;
    };
    for (name, entry) in written.iter_mut() {
        let (Some(whole), Some(understood)) = (whole.get(name), understood.get(name)) else {
            continue;
        };
        if depth > 1 {
            keep_in(entry, whole, understood, depth - 1);
        } else if entry == understood {
            add_missing(entry, whole);
        }
    }
}

/// Every field of `whole` that `written` lacks, at every depth; those it has stay as they are.
/// A new field goes after the known ones, in name order.
fn add_missing(written: &mut Value, whole: &Value) {
    let (Some(written), Some(whole)) = (written.as_object_mut(), whole.as_object()) else {
        return;
    };
    let mut missing: Vec<(&String, &Value)> = Vec::new();
    for (name, value) in whole {
        match written.get_mut(name) {
            Some(known) => add_missing(known, value),
            None => missing.push((name, value)),
        }
    }
    missing.sort_by_key(|(name, _)| *name);
    for (name, value) in missing {
        written.insert(name.clone(), value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_of_unchanged_entries_only() {
        let whole = json!({"base": {
            "a": {"image": "x", "digest": "sha256:1", "signed": true},
            "b": {"image": "y", "digest": "sha256:2", "signed": true},
        }});
        let understood = json!({"base": {
            "a": {"image": "x", "digest": "sha256:1"},
            "b": {"image": "y", "digest": "sha256:2"},
        }});
        let mut written = json!({"base": {
            "a": {"image": "x", "digest": "sha256:1"},
            "b": {"image": "y", "digest": "sha256:3"},
            "c": {"image": "z"},
        }});
        keep(&mut written, &AsRead { whole, understood });
        assert_eq!(
            written,
            json!({"base": {
                "a": {"image": "x", "digest": "sha256:1", "signed": true},
                "b": {"image": "y", "digest": "sha256:3"},
                "c": {"image": "z"},
            }})
        );
    }
}

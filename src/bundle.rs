//! `robodev save` bundles, for machines without a registry (an air-gapped robot): a Docker
//! image archive, exactly as the engine exports it, with one more file in front,
//! `robodev-bundle.json`, saying which profile and image it holds (hash, image id, tag, the
//! pushed digest when the lock has one). Optionally zstd-compressed as a whole.
//!
//! The extra file is an ordinary tar entry, so the engine loads the bundle as it is; robodev
//! reads it first to know what to expect. Integrity is the engine's own: an image id is the
//! digest of its config, which lists the digest of every layer, so an altered byte anywhere
//! fails the load or gives another id, and `robodev load` refuses both.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::Read;

pub const INFO_FILE: &str = "robodev-bundle.json";
const FORMAT: u32 = 1;
/// The first bytes of a zstd frame.
pub const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const BLOCK: usize = 512;
/// More than any real info file: a bigger one is not robodev's.
const MAX_INFO: u64 = 64 * 1024;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleInfo {
    pub format: u32,
    pub profile: String,
    /// The image hash (robodev's name for everything that determines the image).
    pub hash: String,
    /// `sha256:…` of the image config: what the engine must report after loading.
    pub image_id: String,
    /// `REPOSITORY:SHORT_HASH`, the name `robodev up` looks for.
    pub tag: String,
    pub platform: String,
    /// The registry digest robodev.lock records for the image, when it was pushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    pub robodev_version: String,
}

impl BundleInfo {
    pub fn new(
        profile: &str,
        hash: &str,
        image_id: &str,
        tag: &str,
        platform: &str,
        digest: Option<String>,
    ) -> BundleInfo {
        BundleInfo {
            format: FORMAT,
            profile: profile.into(),
            hash: hash.into(),
            image_id: image_id.into(),
            tag: tag.into(),
            platform: platform.into(),
            digest,
            robodev_version: env!("CARGO_PKG_VERSION").into(),
        }
    }

    /// The tar entry that goes in front of the engine's archive: header, JSON, padding.
    pub fn tar_entry(&self) -> Vec<u8> {
        let json = serde_json::to_vec_pretty(self).unwrap_or_default();
        let mut header = tar::Header::new_gnu();
        // A fixed, short path: cannot fail.
        let _ = header.set_path(INFO_FILE);
        header.set_size(json.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        let mut out = header.as_bytes().to_vec();
        out.extend_from_slice(&json);
        out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
        out
    }
}

/// Whether the bytes start a zstd frame.
pub fn is_zstd(first: &[u8]) -> bool {
    first.starts_with(&ZSTD_MAGIC)
}

/// Read the info entry at the start of a bundle (already decompressed). Returns it and the
/// bytes read, which belong to the archive too. `shown`: the file, for messages.
pub fn read_info(input: &mut dyn Read, shown: &str) -> Result<(BundleInfo, Vec<u8>)> {
    let not_ours = |why: &str| {
        Error::usage_with_help(
            format!("{shown} is not a robodev bundle: {why}"),
            "make one with `robodev save PROFILE -o FILE`; a plain `docker save` archive loads \
             with `docker load`",
        )
    };
    let mut head = vec![0u8; BLOCK];
    input
        .read_exact(&mut head)
        .map_err(|_| not_ours("it is shorter than one tar block"))?;
    let header = tar::Header::from_byte_slice(&head);
    let path = header.path().map(|p| p.display().to_string());
    if path.as_deref().ok() != Some(INFO_FILE) {
        return Err(not_ours(&format!("it does not start with {INFO_FILE}")));
    }
    let size = header
        .entry_size()
        .ok()
        .filter(|s| *s <= MAX_INFO)
        .ok_or_else(|| not_ours(&format!("its {INFO_FILE} has an impossible size")))?;
    let padded = (size as usize).div_ceil(BLOCK) * BLOCK;
    let mut body = vec![0u8; padded];
    input.read_exact(&mut body).map_err(|_| truncated(shown))?;
    let info: BundleInfo = serde_json::from_slice(&body[..size as usize])
        .map_err(|e| not_ours(&format!("its {INFO_FILE} cannot be read: {e}")))?;
    if info.format != FORMAT {
        return Err(Error::usage_with_help(
            format!(
                "{shown} is bundle format {}; this robodev reads format {FORMAT}",
                info.format
            ),
            "load it with the robodev that saved it, or save it again",
        ));
    }
    head.extend_from_slice(&body);
    Ok((info, head))
}

/// The words for an archive that ends early.
pub fn truncated(shown: &str) -> Error {
    Error::usage_with_help(
        format!("{shown} is truncated: it ends before the image it describes"),
        "copy it again (compare its size with the saved one), or save it again",
    )
}

/// Watches the archive's bytes on their way to the engine, entry by entry, without holding
/// more than its small JSON files: `manifest.json` must name no tag (a bundle's image is
/// named only after it is checked; a tag in the archive would rename whatever image has that
/// name now) and its image must be the one `robodev-bundle.json` records.
pub struct ArchiveWatch {
    expected_id: String,
    header: Vec<u8>,
    /// Data bytes left of the current entry, and its padding.
    remaining: u64,
    padding: u64,
    /// The current entry's bytes, when it is a file worth reading.
    collecting: Option<(String, Vec<u8>)>,
    pub saw_manifest: bool,
}

/// Archive files worth reading, and the most of them held in memory.
const WATCHED: &[&str] = &["manifest.json", "repositories"];
const MAX_WATCHED: u64 = 1024 * 1024;

impl ArchiveWatch {
    pub fn new(expected_id: &str) -> ArchiveWatch {
        ArchiveWatch {
            expected_id: expected_id.to_string(),
            header: Vec::with_capacity(BLOCK),
            remaining: 0,
            padding: 0,
            collecting: None,
            saw_manifest: false,
        }
    }

    /// Feed the next bytes; an error (a reason, for the user) as soon as they show the archive
    /// is not what the bundle says.
    pub fn feed(&mut self, mut bytes: &[u8]) -> std::result::Result<(), String> {
        while !bytes.is_empty() {
            if self.remaining > 0 {
                let n = (self.remaining as usize).min(bytes.len());
                if let Some((_, data)) = &mut self.collecting {
                    data.extend_from_slice(&bytes[..n]);
                }
                self.remaining -= n as u64;
                bytes = &bytes[n..];
                if self.remaining == 0
                    && let Some((name, data)) = self.collecting.take()
                {
                    self.check(&name, &data)?;
                }
            } else if self.padding > 0 {
                let n = (self.padding as usize).min(bytes.len());
                self.padding -= n as u64;
                bytes = &bytes[n..];
            } else {
                let n = (BLOCK - self.header.len()).min(bytes.len());
                self.header.extend_from_slice(&bytes[..n]);
                bytes = &bytes[n..];
                if self.header.len() == BLOCK {
                    self.start_entry()?;
                }
            }
        }
        Ok(())
    }

    fn start_entry(&mut self) -> std::result::Result<(), String> {
        let block = std::mem::take(&mut self.header);
        if block.iter().all(|b| *b == 0) {
            return Ok(()); // the end-of-archive blocks
        }
        let header = tar::Header::from_byte_slice(&block);
        let size = header
            .entry_size()
            .map_err(|e| format!("a damaged tar header: {e}"))?;
        let name = header
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let name = name.trim_start_matches("./").to_string();
        self.remaining = size;
        self.padding = size.div_ceil(BLOCK as u64) * BLOCK as u64 - size;
        if WATCHED.contains(&name.as_str()) {
            if size > MAX_WATCHED {
                return Err(format!("its {name} is {size} bytes"));
            }
            if size == 0 {
                return self.check(&name, &[]);
            }
            self.collecting = Some((name, Vec::with_capacity(size as usize)));
        }
        Ok(())
    }

    fn check(&mut self, name: &str, data: &[u8]) -> std::result::Result<(), String> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Entry {
            config: String,
            #[serde(default)]
            repo_tags: Option<Vec<String>>,
        }
        if name == "repositories" {
            let names: serde_json::Value = serde_json::from_slice(data).unwrap_or_default();
            if names.as_object().is_some_and(|m| !m.is_empty()) {
                return Err("its `repositories` file names images".into());
            }
            return Ok(());
        }
        self.saw_manifest = true;
        let entries: Vec<Entry> = serde_json::from_slice(data)
            .map_err(|e| format!("its manifest.json cannot be read: {e}"))?;
        let tags: Vec<&String> = entries
            .iter()
            .flat_map(|e| e.repo_tags.iter().flatten())
            .collect();
        if !tags.is_empty() {
            let tags: Vec<&str> = tags.iter().map(|t| t.as_str()).collect();
            return Err(format!(
                "its manifest.json names images ({}): loading it would rename them",
                tags.join(", ")
            ));
        }
        let hex = self.expected_id.trim_start_matches("sha256:");
        let ok = entries.len() == 1
            && entries[0]
                .config
                .trim_start_matches("blobs/sha256/")
                .trim_end_matches(".json")
                == hex;
        if !ok {
            let configs: Vec<&str> = entries.iter().map(|e| e.config.as_str()).collect();
            return Err(format!(
                "it holds {} (by its manifest.json), but its {INFO_FILE} records {}",
                if configs.is_empty() {
                    "no image".to_string()
                } else {
                    configs.join(", ")
                },
                self.expected_id
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> BundleInfo {
        BundleInfo::new(
            "humble",
            "ab12",
            "sha256:ff",
            "robodev/humble:ab12",
            "linux/amd64",
            None,
        )
    }

    #[test]
    fn the_info_entry_is_a_tar_entry_read_back_whole() {
        let entry = info().tar_entry();
        assert_eq!(entry.len() % BLOCK, 0);
        // Any tar reader sees it as a file.
        let mut archive = tar::Archive::new(&entry[..]);
        let first = archive.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(first.path().unwrap().to_str(), Some(INFO_FILE));
        let mut input = &entry[..];
        let (back, read) = read_info(&mut input, "x.tar").unwrap();
        assert_eq!(back, info());
        assert_eq!(read, entry);
    }

    #[test]
    fn other_archives_and_short_files_are_refused_with_their_reason() {
        let err = read_info(&mut &b"short"[..], "x.tar")
            .unwrap_err()
            .to_string();
        assert!(err.contains("shorter than one tar block"), "{err}");
        let mut other = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        h.set_cksum();
        other
            .append_data(&mut h, "manifest.json", &b"[]"[..])
            .unwrap();
        let bytes = other.into_inner().unwrap();
        let err = read_info(&mut &bytes[..], "x.tar").unwrap_err().to_string();
        assert!(
            err.contains("does not start with robodev-bundle.json"),
            "{err}"
        );
        let entry = info().tar_entry();
        let err = read_info(&mut &entry[..600], "x.tar")
            .unwrap_err()
            .to_string();
        assert!(err.contains("truncated"), "{err}");
    }

    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, name, *data).unwrap();
        }
        tar.into_inner().unwrap()
    }

    fn watch_in_pieces(bytes: &[u8], piece: usize, id: &str) -> std::result::Result<bool, String> {
        let mut watch = ArchiveWatch::new(id);
        for chunk in bytes.chunks(piece) {
            watch.feed(chunk)?;
        }
        Ok(watch.saw_manifest)
    }

    #[test]
    fn the_watch_reads_the_manifest_whatever_the_chunking() {
        let id = format!("sha256:{}", "a".repeat(64));
        let manifest = format!(
            r#"[{{"Config":"{}.json","RepoTags":null,"Layers":["l/layer.tar"]}}]"#,
            "a".repeat(64)
        );
        let good = archive(&[
            ("l/layer.tar", &[7u8; 1500][..]),
            ("manifest.json", manifest.as_bytes()),
            ("repositories", b"{}"),
        ]);
        for piece in [1, 7, 511, 512, 513, 4096, 1 << 20] {
            assert_eq!(watch_in_pieces(&good, piece, &id), Ok(true), "{piece}");
        }
        let tagged = manifest.replace("null", r#"["robodev/humble:1234"]"#);
        let bad = archive(&[("manifest.json", tagged.as_bytes())]);
        let err = watch_in_pieces(&bad, 100, &id).unwrap_err();
        assert!(err.contains("robodev/humble:1234"), "{err}");
        let other = format!("sha256:{}", "b".repeat(64));
        let err = watch_in_pieces(&good, 100, &other).unwrap_err();
        assert!(err.contains("records sha256:bbbb"), "{err}");
        let named = archive(&[("repositories", br#"{"x":{"1":"ab"}}"#)]);
        assert!(watch_in_pieces(&named, 100, &id).is_err());
    }
}

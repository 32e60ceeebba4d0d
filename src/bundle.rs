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
/// Format 2 adds the config digest and the archive's size; format 1 bundles still load.
const FORMAT: u32 = 2;
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
    /// The image's id on the engine that saved it: its config digest on Docker's graph store
    /// and Podman, its manifest's digest on Docker's containerd store.
    pub image_id: String,
    /// `sha256:…` of the image config, whatever the store (format 2; format 1: `image_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// The archive's bytes after this entry (format 2): a bundle that goes on is refused at
    /// the first byte past it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_size: Option<u64>,
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
            config: None,
            archive_size: None,
            robodev_version: env!("CARGO_PKG_VERSION").into(),
        }
    }

    /// The tar entry that goes in front of the engine's archive: header, JSON, padding.
    /// The config digest the archive must hold.
    pub fn config_digest(&self) -> &str {
        self.config.as_deref().unwrap_or(&self.image_id)
    }

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
    if !(1..=FORMAT).contains(&info.format) {
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

/// Watches the archive's bytes on their way to the engine, entry by entry, hashing every file
/// and keeping only the small JSON files, and checks at its end — before the engine may act on
/// it — that it holds exactly the image `robodev-bundle.json` records and names nothing:
///
/// - entry names are read as the engine reads them (ustar prefixes, GNU long names, PAX `path`
///   and `size`), must be normal relative paths, and may not repeat;
/// - `manifest.json` names one image and no tag; its config's bytes hash to the config's name
///   (and to the recorded config digest); each layer's bytes hash to the config's `diff_ids`
///   (or, stored by digest, to its own name); every `blobs/sha256/…` hashes to its name;
/// - `index.json` (an OCI layout, as Docker's containerd store saves) carries no image names and
///   points at manifests present in the archive; `repositories` names nothing;
/// - no more bytes than the bundle records (`archive_size`).
///
/// Any refusal ends the stream with an error, so the engine sees a broken upload and loads
/// nothing.
pub struct ArchiveWatch {
    /// The config digest the bundle records (`None` while saving: learn it).
    expected_config: Option<String>,
    limit: Option<u64>,
    seen_bytes: u64,
    header: Vec<u8>,
    /// Data bytes left of the current entry, and its padding.
    remaining: u64,
    padding: u64,
    current: Option<Current>,
    /// The next entry's name and size, from a PAX header or a GNU long-name entry.
    pending_name: Option<String>,
    pending_size: Option<u64>,
    entries: std::collections::HashMap<String, Seen>,
    kept: std::collections::HashMap<String, Vec<u8>>,
    kept_bytes: u64,
    ended: bool,
}

/// What the archive turned out to hold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VerifiedArchive {
    /// `sha256:…` of the image config: the image id on Docker's graph store and on Podman.
    pub config: String,
    /// `sha256:…` of the manifests `index.json` names: the image id on Docker's containerd
    /// store (none in a Docker archive without an OCI layout).
    pub manifests: Vec<String>,
    /// The archive's bytes.
    pub size: u64,
}

#[derive(Clone, Debug)]
enum Seen {
    File { sha256: String },
    Link { target: String },
    Other,
}

enum Kind {
    File,
    /// PAX extended header (`x`): records for the next entry.
    Pax,
    /// GNU long name (`L`) for the next entry.
    LongName,
    /// Data to skip (`K`, a long link name; `g`, global PAX records).
    Skip,
    Link,
    Other,
}

struct Current {
    name: String,
    kind: Kind,
    hasher: Option<sha2::Sha256>,
    data: Option<Vec<u8>>,
}

/// Files kept whole for the checks: the archive's own JSON, configs and manifests.
const MAX_KEPT_FILE: u64 = 1024 * 1024;
const MAX_KEPT: u64 = 32 * 1024 * 1024;

impl ArchiveWatch {
    /// Loading: the archive must hold the image whose config digest is `config`, in at most
    /// `limit` bytes (when the bundle records its size).
    pub fn expecting(config: &str, limit: Option<u64>) -> ArchiveWatch {
        let mut watch = ArchiveWatch::learning();
        watch.expected_config = Some(config.to_string());
        watch.limit = limit;
        watch
    }

    /// Saving: check the engine's archive and learn what it holds.
    pub fn learning() -> ArchiveWatch {
        ArchiveWatch {
            expected_config: None,
            limit: None,
            seen_bytes: 0,
            header: Vec::with_capacity(BLOCK),
            remaining: 0,
            padding: 0,
            current: None,
            pending_name: None,
            pending_size: None,
            entries: Default::default(),
            kept: Default::default(),
            kept_bytes: 0,
            ended: false,
        }
    }

    /// Feed the next bytes; an error (a reason, for the user) as soon as they show the archive
    /// is not what the bundle says.
    pub fn feed(&mut self, mut bytes: &[u8]) -> std::result::Result<(), String> {
        self.seen_bytes += bytes.len() as u64;
        if let Some(limit) = self.limit
            && self.seen_bytes > limit
        {
            return Err(format!(
                "it holds more than the {limit} bytes its {INFO_FILE} records"
            ));
        }
        while !bytes.is_empty() {
            if self.remaining > 0 {
                let n = (self.remaining as usize).min(bytes.len());
                if let Some(current) = &mut self.current {
                    use sha2::Digest;
                    if let Some(h) = &mut current.hasher {
                        h.update(&bytes[..n]);
                    }
                    if let Some(data) = &mut current.data {
                        data.extend_from_slice(&bytes[..n]);
                    }
                }
                self.remaining -= n as u64;
                bytes = &bytes[n..];
                if self.remaining == 0 {
                    self.end_entry()?;
                }
            } else if self.padding > 0 {
                let n = (self.padding as usize).min(bytes.len());
                self.padding -= n as u64;
                bytes = &bytes[n..];
            } else if self.ended {
                // After the end-of-archive blocks only zeros may follow.
                if bytes.iter().any(|b| *b != 0) {
                    return Err("it has data after its end".into());
                }
                return Ok(());
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
            self.ended = true;
            return Ok(());
        }
        let header = tar::Header::from_byte_slice(&block);
        let checksum_ok = header
            .cksum()
            .is_ok_and(|sum| sum == computed_checksum(&block));
        if !checksum_ok {
            return Err("a damaged tar header (checksum)".into());
        }
        let size = match self.pending_size.take() {
            Some(size) => size,
            None => header
                .entry_size()
                .map_err(|e| format!("a damaged tar header: {e}"))?,
        };
        let kind = match header.entry_type().as_byte() {
            b'0' | b'\0' | b'7' => Kind::File,
            b'x' => Kind::Pax,
            b'L' => Kind::LongName,
            b'g' | b'K' => Kind::Skip,
            b'1' | b'2' => Kind::Link,
            _ => Kind::Other,
        };
        let name = match kind {
            Kind::Pax | Kind::LongName | Kind::Skip => String::new(),
            _ => {
                let raw = match self.pending_name.take() {
                    Some(name) => name,
                    None => String::from_utf8_lossy(&header.path_bytes()).into_owned(),
                };
                let name = normal_name(&raw)?;
                if self.entries.contains_key(&name) {
                    return Err(format!("it holds {name} twice"));
                }
                let seen = match kind {
                    Kind::Link => Seen::Link {
                        target: header
                            .link_name_bytes()
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_default(),
                    },
                    _ => Seen::Other,
                };
                self.entries.insert(name.clone(), seen);
                name
            }
        };
        let keep = match kind {
            Kind::Pax | Kind::LongName => {
                if size > MAX_WATCHED {
                    return Err(format!("a tar extension header of {size} bytes"));
                }
                true
            }
            Kind::File => size <= MAX_KEPT_FILE && self.kept_bytes + size <= MAX_KEPT,
            _ => false,
        };
        self.current = Some(Current {
            name,
            hasher: matches!(kind, Kind::File).then(<sha2::Sha256 as sha2::Digest>::new),
            data: keep.then(|| Vec::with_capacity(size as usize)),
            kind,
        });
        self.remaining = size;
        self.padding = size.div_ceil(BLOCK as u64) * BLOCK as u64 - size;
        if size == 0 {
            self.end_entry()?;
        }
        Ok(())
    }

    fn end_entry(&mut self) -> std::result::Result<(), String> {
        let Some(current) = self.current.take() else {
            return Ok(());
        };
        match current.kind {
            Kind::Pax => {
                for (key, value) in pax_records(current.data.as_deref().unwrap_or_default())? {
                    match key.as_str() {
                        "path" => self.pending_name = Some(value),
                        "size" => {
                            self.pending_size = Some(
                                value
                                    .parse()
                                    .map_err(|_| "a PAX size that is not a number".to_string())?,
                            )
                        }
                        _ => {}
                    }
                }
            }
            Kind::LongName => {
                let data = current.data.unwrap_or_default();
                let end = data.iter().position(|b| *b == 0).unwrap_or(data.len());
                self.pending_name = Some(String::from_utf8_lossy(&data[..end]).into_owned());
            }
            Kind::File => {
                use sha2::Digest;
                let sha256 = current
                    .hasher
                    .map(|h| hex::encode(h.finalize()))
                    .unwrap_or_default();
                if let Some(data) = current.data {
                    self.kept_bytes += data.len() as u64;
                    self.kept.insert(current.name.clone(), data);
                }
                self.entries.insert(current.name, Seen::File { sha256 });
            }
            Kind::Skip | Kind::Link | Kind::Other => {}
        }
        Ok(())
    }

    /// Whether the archive's end-of-archive blocks went by: less is a truncated archive.
    pub fn reached_the_end(&self) -> bool {
        self.ended
    }

    /// The whole archive went by: check it and say what it holds.
    pub fn finish(&self) -> std::result::Result<VerifiedArchive, String> {
        if self.remaining > 0 || self.current.is_some() || !self.header.is_empty() {
            return Err("it ends in the middle of an entry".into());
        }
        let Some(manifest) = self.kept.get("manifest.json") else {
            return Err("it has no manifest.json".into());
        };
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Entry {
            config: String,
            #[serde(default)]
            repo_tags: Option<Vec<String>>,
            #[serde(default)]
            layers: Vec<String>,
        }
        let entries: Vec<Entry> = serde_json::from_slice(manifest)
            .map_err(|e| format!("its manifest.json cannot be read: {e}"))?;
        let tags: Vec<&str> = entries
            .iter()
            .flat_map(|e| e.repo_tags.iter().flatten())
            .map(String::as_str)
            .collect();
        if !tags.is_empty() {
            return Err(format!(
                "its manifest.json names images ({}): loading it would rename them",
                tags.join(", ")
            ));
        }
        if self
            .kept
            .get("repositories")
            .is_some_and(|r| names_something(r))
        {
            return Err("its `repositories` file names images".into());
        }
        let [entry] = &entries[..] else {
            let configs: Vec<&str> = entries.iter().map(|e| e.config.as_str()).collect();
            return Err(format!(
                "it holds {} images (by its manifest.json: {}), a bundle holds one",
                entries.len(),
                configs.join(", ")
            ));
        };
        // Every blob stored by digest is what its name says.
        for (name, seen) in &self.entries {
            if let (Some(hex), Seen::File { sha256 }) = (name.strip_prefix("blobs/sha256/"), seen)
                && hex != sha256
            {
                return Err(format!("its {name} does not hash to its name"));
            }
        }
        let config_name = normal_name(&entry.config)?;
        let config_hex = config_name
            .strip_prefix("blobs/sha256/")
            .or_else(|| config_name.strip_suffix(".json"))
            .unwrap_or(&config_name)
            .to_string();
        let config = format!("sha256:{config_hex}");
        if let Some(expected) = &self.expected_config
            && *expected != config
        {
            return Err(format!(
                "it holds {config} (by its manifest.json), but its {INFO_FILE} records {expected}"
            ));
        }
        if self.file_digest(&config_name).as_deref() != Some(config_hex.as_str()) {
            return Err(format!(
                "its image config {config_name} is missing or does not hash to its name"
            ));
        }
        #[derive(Deserialize)]
        struct RootFs {
            #[serde(default)]
            diff_ids: Vec<String>,
        }
        #[derive(Deserialize)]
        struct Config {
            rootfs: RootFs,
        }
        let parsed: Config = self
            .kept
            .get(&config_name)
            .and_then(|c| serde_json::from_slice(c).ok())
            .ok_or_else(|| format!("its image config {config_name} cannot be read"))?;
        if parsed.rootfs.diff_ids.len() != entry.layers.len() {
            return Err(format!(
                "its manifest.json lists {} layers, its config {}",
                entry.layers.len(),
                parsed.rootfs.diff_ids.len()
            ));
        }
        for (layer, diff_id) in entry.layers.iter().zip(&parsed.rootfs.diff_ids) {
            let name = normal_name(layer)?;
            let digest = self
                .file_digest(&name)
                .ok_or_else(|| format!("it lacks its layer {name}"))?;
            let by_digest = name.strip_prefix("blobs/sha256/") == Some(digest.as_str());
            if format!("sha256:{digest}") != *diff_id && !by_digest {
                return Err(format!(
                    "its layer {name} is not the layer its config records ({diff_id})"
                ));
            }
        }
        let mut manifests = Vec::new();
        if let Some(index) = self.kept.get("index.json") {
            let index: serde_json::Value = serde_json::from_slice(index)
                .map_err(|e| format!("its index.json cannot be read: {e}"))?;
            if let Some(name) = image_name_in(&index) {
                return Err(format!(
                    "its index.json names an image ({name}): loading it would rename it"
                ));
            }
            for m in index["manifests"].as_array().into_iter().flatten() {
                let digest = m["digest"].as_str().unwrap_or_default();
                let hex = digest.strip_prefix("sha256:").unwrap_or_default();
                let name = format!("blobs/sha256/{hex}");
                if hex.is_empty() || self.file_digest(&name).is_none() {
                    return Err(format!("its index.json points at {digest}, which it lacks"));
                }
                if let Some(manifest) = self.kept.get(&name)
                    && let Some(inner) =
                        image_name_in(&serde_json::from_slice(manifest).unwrap_or_default())
                {
                    return Err(format!("its manifest {digest} names an image ({inner})"));
                }
                manifests.push(digest.to_string());
            }
        }
        Ok(VerifiedArchive {
            config,
            manifests,
            size: self.seen_bytes,
        })
    }

    /// The sha256 of a file in the archive (following a link inside it).
    fn file_digest(&self, name: &str) -> Option<String> {
        let mut name = name.to_string();
        for _ in 0..8 {
            match self.entries.get(&name)? {
                Seen::File { sha256 } => return Some(sha256.clone()),
                Seen::Link { target } => {
                    // Relative to the link's directory for symlinks; docker save writes
                    // `../<id>/layer.tar`.
                    let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
                    let joined = if dir.is_empty() {
                        target.clone()
                    } else {
                        format!("{dir}/{target}")
                    };
                    name = clean_path(&joined).or_else(|| clean_path(target))?;
                }
                Seen::Other => return None,
            }
        }
        None
    }
}

/// A tar entry's name as the engine reads it: relative, `./` dropped, no `..`, no empty or `.`
/// parts. Anything else is refused.
fn normal_name(raw: &str) -> std::result::Result<String, String> {
    let trimmed = raw.strip_prefix("./").unwrap_or(raw).trim_end_matches('/');
    let ok = !trimmed.is_empty()
        && !trimmed.starts_with('/')
        && trimmed
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if ok {
        Ok(trimmed.to_string())
    } else {
        Err(format!(
            "it holds an entry named {raw:?}, which is not a plain relative path"
        ))
    }
}

/// `a/b/../c` → `a/c`; `None` when it climbs out.
fn clean_path(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

fn computed_checksum(block: &[u8]) -> u32 {
    block
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum()
}

/// PAX records: `LEN key=value\n`, one after another.
fn pax_records(mut data: &[u8]) -> std::result::Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let space = data
            .iter()
            .position(|b| *b == b' ')
            .ok_or("a malformed PAX header")?;
        let len: usize = std::str::from_utf8(&data[..space])
            .ok()
            .and_then(|l| l.parse().ok())
            .filter(|l| *l > space && *l <= data.len())
            .ok_or("a malformed PAX header")?;
        let record = &data[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        let text = String::from_utf8_lossy(record);
        if let Some((k, v)) = text.split_once('=') {
            out.push((k.to_string(), v.to_string()));
        }
        data = &data[len..];
    }
    Ok(out)
}

fn names_something(repositories: &[u8]) -> bool {
    let names: serde_json::Value = serde_json::from_slice(repositories).unwrap_or_default();
    names.as_object().is_some_and(|m| !m.is_empty())
}

/// An image name in an OCI index or manifest's annotations, at any depth.
fn image_name_in(value: &serde_json::Value) -> Option<String> {
    const NAMES: &[&str] = &[
        "io.containerd.image.name",
        "org.opencontainers.image.ref.name",
    ];
    match value {
        serde_json::Value::Object(map) => {
            if let Some(annotations) = map.get("annotations").and_then(|a| a.as_object()) {
                for key in NAMES {
                    if let Some(v) = annotations.get(*key) {
                        return Some(v.as_str().unwrap_or_default().to_string());
                    }
                }
            }
            map.values().find_map(image_name_in)
        }
        serde_json::Value::Array(items) => items.iter().find_map(image_name_in),
        _ => None,
    }
}

/// Archive files of this size at most are read whole.
const MAX_WATCHED: u64 = 1024 * 1024;

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

    /// A tar of `files`, their names written as given (even ones no tool should write).
    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_cksum();
            out.extend_from_slice(h.as_bytes());
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
        }
        out.extend_from_slice(&[0u8; 2 * BLOCK]);
        out
    }

    fn sha(data: &[u8]) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(data))
    }

    /// A Docker archive of one image: a layer, its config, the manifest; and the config digest.
    fn docker_archive(extra: &[(&str, &[u8])]) -> (Vec<u8>, String) {
        let layer = archive(&[("hello", b"hello\n")]);
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["sha256:{}"]}}}}"#,
            sha(&layer)
        );
        let hex = sha(config.as_bytes());
        let manifest =
            format!(r#"[{{"Config":"{hex}.json","RepoTags":null,"Layers":["l1/layer.tar"]}}]"#);
        let mut files: Vec<(String, Vec<u8>)> = vec![
            ("l1/layer.tar".into(), layer),
            (format!("{hex}.json"), config.into_bytes()),
        ];
        for (n, d) in extra {
            files.push((n.to_string(), d.to_vec()));
        }
        files.push(("manifest.json".into(), manifest.into_bytes()));
        let refs: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        (archive(&refs), format!("sha256:{hex}"))
    }

    fn watch_in_pieces(
        bytes: &[u8],
        piece: usize,
        config: &str,
    ) -> std::result::Result<VerifiedArchive, String> {
        let mut watch = ArchiveWatch::expecting(config, None);
        for chunk in bytes.chunks(piece) {
            watch.feed(chunk)?;
        }
        watch.finish()
    }

    #[test]
    fn the_watch_verifies_a_docker_archive_whatever_the_chunking() {
        let (good, config) = docker_archive(&[("repositories", b"{}")]);
        for piece in [1, 7, 511, 512, 513, 4096, 1 << 20] {
            let verified = watch_in_pieces(&good, piece, &config).unwrap();
            assert_eq!(verified.config, config, "{piece}");
            assert_eq!(verified.size, good.len() as u64);
        }
        let other = format!("sha256:{}", "b".repeat(64));
        let err = watch_in_pieces(&good, 100, &other).unwrap_err();
        assert!(err.contains("records sha256:bbbb"), "{err}");
        let mut learning = ArchiveWatch::learning();
        learning.feed(&good).unwrap();
        assert_eq!(learning.finish().unwrap().config, config);
    }

    #[test]
    fn the_watch_refuses_names_tags_and_second_manifests() {
        let (_, config) = docker_archive(&[]);
        let named = archive(&[("repositories", br#"{"x":{"1":"ab"}}"#)]);
        assert!(watch_in_pieces(&named, 100, &config).is_err());
        // A second manifest under names the engine reads as manifest.json.
        for sneaky in ["x/../manifest.json", "/manifest.json", "./manifest.json"] {
            let (bytes, config) = docker_archive(&[(sneaky, br#"[]"#)]);
            let err = watch_in_pieces(&bytes, 512, &config).unwrap_err();
            assert!(
                err.contains("not a plain relative path") || err.contains("twice"),
                "{sneaky}: {err}"
            );
        }
    }

    /// A tar whose second entry is named by a PAX header.
    fn with_pax_name(name: &str, data: &[u8]) -> Vec<u8> {
        let (good, _) = docker_archive(&[]);
        let record_body = format!("path={name}\n");
        let mut len = record_body.len() + 3;
        if format!("{len} {record_body}").len() != len {
            len += 1;
        }
        let record = format!("{len} {record_body}");
        let mut pax = tar::Header::new_ustar();
        pax.set_entry_type(tar::EntryType::XHeader);
        pax.set_size(record.len() as u64);
        pax.set_path("PaxHeaders/x").unwrap();
        pax.set_cksum();
        let mut file = tar::Header::new_ustar();
        file.set_size(data.len() as u64);
        file.set_path("innocent.txt").unwrap();
        file.set_mode(0o644);
        file.set_cksum();
        let mut out = Vec::new();
        let pad = |v: &mut Vec<u8>| v.resize(v.len().div_ceil(512) * 512, 0);
        out.extend_from_slice(pax.as_bytes());
        out.extend_from_slice(record.as_bytes());
        pad(&mut out);
        out.extend_from_slice(file.as_bytes());
        out.extend_from_slice(data);
        pad(&mut out);
        // The rest of the archive, its end blocks included.
        out.extend_from_slice(&good);
        out
    }

    #[test]
    fn a_pax_path_is_read_as_the_engine_reads_it() {
        let (_, config) = docker_archive(&[]);
        let bytes = with_pax_name(
            "manifest.json",
            br#"[{"Config":"x.json","RepoTags":["debian:bookworm"]}]"#,
        );
        let err = watch_in_pieces(&bytes, 300, &config).unwrap_err();
        assert!(err.contains("manifest.json twice"), "{err}");
    }

    #[test]
    fn an_altered_layer_or_config_byte_is_found() {
        let (good, config) = docker_archive(&[]);
        // The layer's data starts after its header: flip a byte of "hello".
        let at = good.windows(6).position(|w| w == b"hello\n").unwrap();
        let mut bad = good.clone();
        bad[at] = b'j';
        let err = watch_in_pieces(&bad, 512, &config).unwrap_err();
        assert!(err.contains("is not the layer its config records"), "{err}");
    }

    #[test]
    fn a_bundle_longer_than_recorded_is_refused_at_the_first_byte_past_it() {
        let (good, config) = docker_archive(&[]);
        let mut watch = ArchiveWatch::expecting(&config, Some(good.len() as u64 - 1));
        let err = watch.feed(&good).unwrap_err();
        assert!(err.contains("more than the"), "{err}");
        let mut watch = ArchiveWatch::expecting(&config, Some(good.len() as u64));
        watch.feed(&good).unwrap();
        watch.finish().unwrap();
    }

    #[test]
    fn an_oci_index_that_names_an_image_is_refused() {
        let (_, config) = docker_archive(&[]);
        let manifest = br#"{"schemaVersion":2}"#;
        let digest = sha(manifest);
        let index = format!(
            r#"{{"manifests":[{{"digest":"sha256:{digest}","annotations":{{"io.containerd.image.name":"docker.io/library/debian:bookworm"}}}}]}}"#
        );
        let blob = format!("blobs/sha256/{digest}");
        let (bytes, _) =
            docker_archive(&[(blob.as_str(), manifest), ("index.json", index.as_bytes())]);
        let err = watch_in_pieces(&bytes, 4096, &config).unwrap_err();
        assert!(err.contains("names an image"), "{err}");
        let clean = format!(r#"{{"manifests":[{{"digest":"sha256:{digest}"}}]}}"#);
        let (bytes, _) =
            docker_archive(&[(blob.as_str(), manifest), ("index.json", clean.as_bytes())]);
        let verified = watch_in_pieces(&bytes, 4096, &config).unwrap();
        assert_eq!(verified.manifests, vec![format!("sha256:{digest}")]);
    }
}

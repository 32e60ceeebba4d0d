//! Bundles for machines without a registry: `robodev save` writes the environment's image as a
//! Docker archive (optionally zstd) with what it holds recorded in front (bundle.rs);
//! `robodev load` loads it, checks the engine got exactly the recorded image, and only then
//! names it, so `robodev up` on the robot makes no build call and no network access.
//! Both stream: memory stays at a chunk whatever the image's size.

use super::lock::LockMode;
use super::registry::{ensure_environment_image, image_platform};
use super::resolve::resolve;
use super::session::Session;
use crate::bundle::{self, ArchiveWatch, BundleInfo};
use crate::cli::BuildFlags;
use crate::error::{Error, Result};
use crate::files::AtomicFile;
use crate::lockfile::LockFile;
use crate::plan::labels;
use crate::ui::{Ui, shown_path};
use bytes::Bytes;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

const CHUNK: usize = 1 << 20;
/// zstd's default level: fast, and most of an image's bytes are already-compressed files.
const ZSTD_LEVEL: i32 = 3;

/// Bytes so far, on a terminal; nothing otherwise.
fn byte_progress(ui: Ui, what: &str) -> ProgressBar {
    if ui.quiet || !console::Term::stderr().is_term() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {bytes} ({binary_bytes_per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

fn is_stdio(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Where `save` writes: a file that takes its name only when whole, or standard output.
enum Sink {
    File(AtomicFile),
    Stdout(std::io::Stdout),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::File(f) => f.write(buf),
            Sink::Stdout(o) => o.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::File(f) => f.flush(),
            Sink::Stdout(o) => o.flush(),
        }
    }
}

/// The sink, compressed or not; `finish` ends the zstd frame and commits the file.
enum Archive {
    Plain(std::io::BufWriter<Sink>),
    Zstd(zstd::Encoder<'static, std::io::BufWriter<Sink>>),
}

impl Archive {
    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Archive::Plain(w) => w,
            Archive::Zstd(w) => w,
        }
    }

    fn finish(self, output: &Path) -> Result<()> {
        let failed = |e| Error::io_path("write", output, e);
        let buffered = match self {
            Archive::Plain(w) => w,
            Archive::Zstd(w) => w.finish().map_err(failed)?,
        };
        match buffered.into_inner().map_err(|e| failed(e.into_error()))? {
            Sink::File(f) => f.commit(),
            Sink::Stdout(mut o) => o.flush().map_err(failed),
        }
    }
}

/// `robodev save [PROFILE] -o FILE [--zstd]`.
/// A bundle written into the workspace would be one more source of the next deploy build.
fn warn_if_a_source(s: &Session, output: &Path) -> Result<()> {
    use crate::facts::sources;
    let root = &s.workspace.root;
    let Ok(rel) = std::path::absolute(output)
        .unwrap_or_else(|_| output.to_path_buf())
        .strip_prefix(root)
        .map(|r| r.to_string_lossy().into_owned())
    else {
        return Ok(());
    };
    if !is_stdio(output) && !sources::excluded(&sources::patterns(root)?, &rel) {
        s.ui.warn(format!(
            "{rel} is inside the workspace: the next deploy build would copy it as a source \
             (list it in .dockerignore, or write bundles elsewhere)"
        ));
    }
    Ok(())
}

pub async fn save(
    s: &Session,
    reference: Option<&str>,
    output: &Path,
    zstd: bool,
    flags: BuildFlags,
    deploy: Option<Option<String>>,
) -> Result<i32> {
    let mut profile = s.profile(reference)?;
    if is_stdio(output) && std::io::stdout().is_terminal() {
        return Err(Error::usage_with_help(
            "refusing to write an image archive to a terminal",
            "name a file (`-o humble.tar.zst`) or pipe it (`robodev save -o - | ssh robot robodev load -`)",
        ));
    }
    let engine = s.engine().await?;
    // Resolve, plan, execute: the environment's image, or with --deploy the robot's.
    let inputs = resolve(s, engine, &profile, LockMode::from_flags(&flags), false).await?;
    let image = match deploy {
        Some(platform) => {
            crate::plan::deploy::section(&profile)?;
            if let Some(p) = platform {
                crate::profile::grammar::platform(&p)
                    .map_err(|m| Error::usage(format!("--platform: {m}")))?;
                profile.platform = Some(p);
            }
            let image = super::deploy::built_image(s, engine, &profile, &inputs, flags).await?;
            warn_if_a_source(s, output)?;
            image
        }
        None => {
            let plan = s.plan_from(&profile, Some(engine), &inputs)?;
            ensure_environment_image(s, engine, &plan, flags).await?;
            plan.image
        }
    };
    let identity = engine
        .identity(&image.tag)
        .await?
        .ok_or_else(|| Error::Engine {
            action: format!("cannot save {}", image.tag),
            message: "the image disappeared from the engine".into(),
            help: None,
        })?;
    let platform = image_platform(engine, &image).await?;
    let lock = LockFile::read(&s.workspace.root)?;
    let digest = lock.image(&image.hash, &platform).map(|i| i.digest.clone());
    let compress = zstd || output.extension().is_some_and(|e| e == "zst");
    let started = Instant::now();
    // The engine's archive goes to a spool file first: the bundle records its exact size and
    // config digest in front of it, and it is checked as a load will check it.
    let (spool, verified) = spool_export(s, engine, &identity.id, output, &image.tag).await?;
    let mut info = BundleInfo::new(
        &profile.name,
        &image.hash,
        &identity.id,
        &image.tag,
        &platform,
        digest,
    );
    info.config = Some(verified.config.clone());
    info.archive_size = Some(verified.size);
    let sink = if is_stdio(output) {
        Sink::Stdout(std::io::stdout())
    } else {
        Sink::File(AtomicFile::create(output, 0o666)?)
    };
    let buffered = std::io::BufWriter::with_capacity(CHUNK, sink);
    let failed = |e| Error::io_path("write", output, e);
    let mut archive = if compress {
        Archive::Zstd(zstd::Encoder::new(buffered, ZSTD_LEVEL).map_err(failed)?)
    } else {
        Archive::Plain(buffered)
    };
    archive
        .writer()
        .write_all(&info.tar_entry())
        .map_err(failed)?;
    let mut reader = std::io::BufReader::with_capacity(
        CHUNK,
        spool
            .reopen()
            .map_err(|e| Error::io("read the spooled archive", e))?,
    );
    std::io::copy(&mut reader, archive.writer()).map_err(failed)?;
    drop(spool);
    archive.finish(output)?;
    let size = if is_stdio(output) {
        String::new()
    } else {
        std::fs::metadata(output)
            .map(|m| format!(", {}", indicatif::HumanBytes(m.len())))
            .unwrap_or_default()
    };
    s.ui.success(format!(
        "saved {} (profile {}{size}) to {} in {:.1}s; on the robot: `robodev load {}`",
        image.tag,
        profile.name,
        shown_path(output),
        started.elapsed().as_secs_f64(),
        shown_path(output),
    ));
    Ok(0)
}

/// Export image `id` into a temporary file (beside the output, or in the temp dir for standard
/// output), checking it on the way; the file and what it holds.
async fn spool_export(
    s: &Session,
    engine: &dyn crate::engine::Engine,
    id: &str,
    output: &Path,
    tag: &str,
) -> Result<(tempfile::NamedTempFile, bundle::VerifiedArchive)> {
    let dir = match output.parent() {
        Some(p) if !is_stdio(output) && !p.as_os_str().is_empty() => p.to_path_buf(),
        _ if !is_stdio(output) => std::path::PathBuf::from("."),
        _ => std::env::temp_dir(),
    };
    let spool = tempfile::NamedTempFile::new_in(&dir)
        .map_err(|e| Error::io_path("create a file in", &dir, e))?;
    let mut writer = std::io::BufWriter::with_capacity(
        CHUNK,
        spool
            .reopen()
            .map_err(|e| Error::io_path("write", spool.path(), e))?,
    );
    let mut watch = ArchiveWatch::learning();
    let bar = byte_progress(s.ui, &format!("saving {tag}"));
    let spool_path = spool.path().to_path_buf();
    let written = engine
        .export_image(id, &mut |chunk| {
            bar.inc(chunk.len() as u64);
            watch
                .feed(chunk)
                .map_err(|why| unexpected_export(id, &why))?;
            writer
                .write_all(chunk)
                .map_err(|e| Error::io_path("write", &spool_path, e))
        })
        .await;
    bar.finish_and_clear();
    written?;
    writer
        .flush()
        .map_err(|e| Error::io_path("write", spool.path(), e))?;
    let verified = watch.finish().map_err(|why| unexpected_export(id, &why))?;
    Ok((spool, verified))
}

fn unexpected_export(id: &str, why: &str) -> Error {
    Error::Engine {
        action: format!("cannot save {id}"),
        message: format!("the engine's archive is not one robodev can check: {why}"),
        help: None,
    }
}

/// What the reader saw, for the error message when the engine refuses the archive.
#[derive(Default)]
struct ReadState {
    bytes: u64,
    error: Option<String>,
    /// Why the archive is not the bundle's image (seen before the engine finished).
    refusal: Option<String>,
    /// What the whole archive held, once checked.
    verified: Option<bundle::VerifiedArchive>,
}

/// The bundle as a stream of chunks for the engine: the bytes already read, then the rest.
struct Chunks {
    head: Option<Vec<u8>>,
    input: Box<dyn Read + Send>,
    watch: ArchiveWatch,
    ended: bool,
    state: Arc<Mutex<ReadState>>,
    bar: ProgressBar,
}

impl Iterator for Chunks {
    type Item = std::result::Result<Bytes, std::io::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let chunk = match self.head.take() {
            Some(head) => Ok(head),
            None => {
                let mut buf = vec![0u8; CHUNK];
                match self.input.read(&mut buf) {
                    // The whole archive was sent but the end of the upload: check it before
                    // the engine may act on it; a refusal breaks the upload.
                    Ok(0) if !self.watch.reached_the_end() => Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "it ends before the end of its archive",
                    )),
                    Ok(0) => match self.watch.finish() {
                        Ok(verified) => {
                            self.state
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .verified = Some(verified);
                            return None;
                        }
                        Err(why) => {
                            self.state.lock().unwrap_or_else(|p| p.into_inner()).refusal =
                                Some(why.clone());
                            Err(std::io::Error::other(why))
                        }
                    },
                    Ok(n) => {
                        buf.truncate(n);
                        Ok(buf)
                    }
                    Err(e) => Err(e),
                }
            }
        };
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        // Stop sending as soon as the archive shows it is not the recorded image: the engine
        // then loads nothing.
        let chunk = match chunk {
            Ok(buf) => match self.watch.feed(&buf) {
                Ok(()) => Ok(buf),
                Err(why) => {
                    state.refusal = Some(why.clone());
                    Err(std::io::Error::other(why))
                }
            },
            Err(e) => Err(e),
        };
        match chunk {
            Ok(buf) => {
                state.bytes += buf.len() as u64;
                self.bar.inc(buf.len() as u64);
                Some(Ok(Bytes::from(buf)))
            }
            Err(e) => {
                self.ended = true;
                if state.refusal.is_none() {
                    state.error = Some(e.to_string());
                }
                Some(Err(e))
            }
        }
    }
}

/// The bundle file (or standard input), decompressed when it is zstd.
fn open(file: &Path) -> Result<Box<dyn Read + Send>> {
    let raw: Box<dyn Read + Send> = if is_stdio(file) {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(file).map_err(|e| Error::io_path("open", file, e))?)
    };
    let mut input = BufReader::with_capacity(CHUNK, raw);
    let first = input
        .fill_buf()
        .map_err(|e| Error::io_path("read", file, e))?;
    if bundle::is_zstd(first) {
        let decoder =
            zstd::Decoder::with_buffer(input).map_err(|e| Error::io_path("decompress", file, e))?;
        Ok(Box::new(decoder))
    } else {
        Ok(Box::new(input))
    }
}

/// `robodev load FILE`.
pub async fn load(s: &Session, file: &Path) -> Result<i32> {
    let shown = if is_stdio(file) {
        "standard input".to_string()
    } else {
        shown_path(file)
    };
    let mut input = open(file)?;
    let (info, head) = bundle::read_info(&mut input, &shown)?;
    // The only name a bundle may give: robodev's own REPOSITORY:<hash12> for the hash it records.
    let (repository, tag) = bundle_name(&info).map_err(|why| altered(&shown, why))?;
    let engine = s.engine().await?;
    let config = info.config_digest().to_string();
    let ours = |i: &crate::engine::ImageIdentity| {
        i.labels.get(labels::HASH) == Some(&info.hash) && (i.id == info.image_id || i.id == config)
    };
    if engine.identity(&info.tag).await?.is_some_and(|i| ours(&i)) {
        s.ui.success(format!(
            "{} (profile {}) is already on this engine: nothing to load",
            info.tag, info.profile
        ));
        return Ok(0);
    }
    let mut existed = std::collections::BTreeSet::new();
    for id in [&info.image_id, &config] {
        if let Some(i) = engine.identity(id).await? {
            existed.insert(i.id);
        }
    }
    let started = Instant::now();
    let state = Arc::new(Mutex::new(ReadState::default()));
    let bar = byte_progress(s.ui, &format!("loading {}", info.tag));
    let limit = info.archive_size.map(|size| size + head.len() as u64);
    let chunks = Chunks {
        head: Some(head),
        input,
        watch: ArchiveWatch::expecting(&config, limit),
        ended: false,
        state: state.clone(),
        bar: bar.clone(),
    };
    let loaded = engine
        .load_archive(Box::pin(futures_util::stream::iter(chunks)))
        .await;
    bar.finish_and_clear();
    let loaded = loaded.map_err(|e| refused(&shown, &state, e))?;
    let verified = state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .verified
        .clone()
        .ok_or_else(|| altered(&shown, "its archive was not read to its end".into()))?;
    // The archive names nothing: whatever it held is unnamed until it is checked. Find it by
    // what the engine said it loaded (Docker), else by the digests the archive proved it holds
    // (its config: the id on Podman; its manifest: the id on Docker's containerd store).
    let mut candidates = loaded.clone();
    candidates.push(verified.config.clone());
    candidates.extend(verified.manifests.iter().cloned());
    let mut found = None;
    for candidate in &candidates {
        if let Some(identity) = engine.identity(candidate).await? {
            found = Some(identity);
            break;
        }
    }
    let remove_unless_there_before = async |id: &str| {
        if !existed.contains(id) {
            let _ = engine.remove_image(id).await;
        }
    };
    let Some(identity) = found else {
        for id in &loaded {
            remove_unless_there_before(id).await;
        }
        return Err(altered(
            &shown,
            format!(
                "the engine loaded {}, not the image its {} records ({})",
                loaded
                    .first()
                    .map(String::as_str)
                    .unwrap_or("no image it names"),
                bundle::INFO_FILE,
                config
            ),
        ));
    };
    let hash = identity
        .labels
        .get(labels::HASH)
        .cloned()
        .unwrap_or_default();
    let labelled_repository = identity.labels.get(labels::REPOSITORY).cloned();
    let why = if hash != info.hash {
        Some(format!(
            "its image is not robodev's image {} (hash label {hash:?})",
            info.hash
        ))
    } else if labelled_repository
        .as_deref()
        .is_some_and(|r| r != repository)
    {
        Some(format!(
            "it would name {} but its image is robodev's {}",
            info.tag,
            labelled_repository.unwrap_or_default()
        ))
    } else {
        None
    };
    if let Some(why) = why {
        remove_unless_there_before(&identity.id).await;
        return Err(altered(&shown, why));
    }
    engine.tag_image(&identity.id, repository, tag).await?;
    // Remembered as loaded from a bundle: `robodev clean` keeps it unless `--all` (it may be
    // this engine's only copy, and it cannot be rebuilt offline).
    let endpoint = &engine.endpoint().url;
    if let Err(e) =
        super::listing::record_bundle_load(endpoint, &identity.id, &info.tag, &info.profile)
    {
        s.ui.warn(format!(
            "{e}: `robodev clean` will not know that {} came from a bundle (`robodev clean \
             --dry-run` shows what it would remove)",
            info.tag
        ));
    }
    s.ui.success(format!(
        "loaded {} (profile {}) in {:.1}s; `robodev up {}` uses it: no build, no network",
        info.tag,
        info.profile,
        started.elapsed().as_secs_f64(),
        info.profile
    ));
    Ok(0)
}

/// The bundle's `tag`, split, when it is robodev's name for the hash the bundle records:
/// `REPOSITORY:<first 12 of the hash>`, a well-formed lower-case repository. A bundle naming
/// anything else (`debian:bookworm`) would re-point that name.
fn bundle_name(info: &BundleInfo) -> std::result::Result<(&str, &str), String> {
    let valid_hash = info.hash.len() == 64 && info.hash.bytes().all(|b| b.is_ascii_hexdigit());
    let not_ours = || {
        format!(
            "its tag {:?} is not robodev's name for the image it records (REPOSITORY:{})",
            info.tag,
            info.hash.get(..12).unwrap_or("<hash>")
        )
    };
    let (repository, tag) = info
        .tag
        .rsplit_once(':')
        .filter(|(r, _)| !r.is_empty())
        .ok_or_else(not_ours)?;
    let valid_repository = repository.split('/').enumerate().all(|(i, part)| {
        !part.is_empty()
            && part.bytes().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'.' | b'_' | b'-')
                    || (i == 0 && b == b':')
            })
    }) && repository.contains('/');
    if !valid_hash || !valid_repository || tag.len() != 12 || !info.hash.starts_with(tag) {
        return Err(not_ours());
    }
    Ok((repository, tag))
}

fn altered(shown: &str, why: String) -> Error {
    Error::Usage {
        message: format!("refusing {shown}: {why}"),
        help: Some("the bundle was altered or is not what it says: save it again".into()),
    }
}

/// The engine refused the archive: say whether it ended early or could not be read.
fn refused(shown: &str, state: &Mutex<ReadState>, e: Error) -> Error {
    let state = state.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(why) = &state.refusal {
        return altered(shown, why.clone());
    }
    let engine_said = match &e {
        Error::Engine { message, .. } => message.clone(),
        other => other.to_string(),
    };
    let message = match &state.error {
        Some(read) => format!(
            "{shown} could not be read after {} bytes: {read}",
            state.bytes
        ),
        None => format!(
            "the engine refused {shown} after {} bytes: {engine_said}",
            state.bytes
        ),
    };
    Error::Usage {
        message,
        help: Some(
            "the bundle is truncated or damaged: copy it again (compare its size with the saved \
             one) or save it again; nothing was tagged"
                .into(),
        ),
    }
}

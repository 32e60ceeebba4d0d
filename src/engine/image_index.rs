//! A multi-platform image index in a registry: one tag under which a robot of either
//! architecture pulls its own image. The Engine API cannot make one, so this talks to the
//! registry itself (oci-client, the Distribution API): it reads each platform's pushed manifest
//! (for its size and media type) and puts an index naming them under the tag. Credentials come
//! from the same place as the engine's and go nowhere else.

use super::registry::registry_error;
use crate::error::{Error, Result};
use crate::facts::credentials::{self, RegistryAuth};
use oci_client::Reference;
use oci_client::manifest::{ImageIndexEntry, OciImageIndex, Platform};
use sha2::{Digest, Sha256};

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// One platform's image, already pushed: `digest` of its manifest in the repository.
#[derive(Clone, Debug, PartialEq)]
pub struct PlatformImage {
    /// `os/arch[/variant]`.
    pub platform: String,
    pub digest: String,
}

/// A pushed manifest as an index names it.
#[derive(Clone, Debug, PartialEq)]
pub struct ManifestEntry {
    pub platform: String,
    pub digest: String,
    pub media_type: String,
    pub size: usize,
}

/// The index naming `entries`, and its media type: a Docker manifest list when every entry is
/// a Docker manifest (what a Docker engine pushes; every registry and engine reads it), else an
/// OCI image index.
pub fn compose(entries: &[ManifestEntry]) -> Result<(Vec<u8>, &'static str)> {
    let media_type = if entries.iter().all(|e| e.media_type == DOCKER_MANIFEST) {
        DOCKER_MANIFEST_LIST
    } else {
        OCI_INDEX
    };
    let mut manifests = Vec::new();
    for e in entries {
        let mut parts = e.platform.split('/');
        let (Some(os), Some(arch)) = (parts.next(), parts.next()) else {
            return Err(Error::usage(format!(
                "`{}` is not a platform like `linux/arm64`",
                e.platform
            )));
        };
        let platform: Platform = serde_json::from_value(serde_json::json!({
            "os": os,
            "architecture": arch,
            "variant": parts.next(),
        }))
        .map_err(|err| Error::usage(format!("platform `{}`: {err}", e.platform)))?;
        manifests.push(ImageIndexEntry {
            media_type: e.media_type.clone(),
            digest: e.digest.clone(),
            size: e.size as i64,
            platform: Some(platform),
            annotations: None,
            artifact_type: None,
        });
    }
    let index = OciImageIndex {
        schema_version: 2,
        media_type: Some(media_type.to_string()),
        manifests,
        artifact_type: None,
        annotations: None,
    };
    let bytes = serde_json::to_vec_pretty(&index).expect("an index serializes");
    Ok((bytes, media_type))
}

/// `sha256:…` of `bytes`, as a registry names them.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

use super::registry_direct::{client, oci_credentials};
pub use crate::facts::credentials::plain_http;

fn oci_auth(
    auth: Option<&RegistryAuth>,
    registry: &str,
) -> Result<oci_client::secrets::RegistryAuth> {
    oci_credentials(auth).ok_or_else(|| {
        Error::usage_with_help(
            format!(
                "the credentials for {registry} are an identity token, which robodev cannot use to write an image index"
            ),
            format!(
                "log in with a user name and password or access token: `robodev login {registry}`"
            ),
        )
    })
}

fn reference(text: &str) -> Result<Reference> {
    text.parse::<Reference>()
        .map_err(|e| Error::usage(format!("`{text}` is not an image reference: {e}")))
}

/// Put an index of `images` (each pushed to `repository`) under `repository:tag`; returns the
/// index's digest.
pub async fn push_index(
    repository: &str,
    tag: &str,
    images: &[PlatformImage],
    auth: Option<&RegistryAuth>,
    plain: bool,
) -> Result<String> {
    let registry = credentials::registry_host(repository);
    let client = client(registry, plain);
    let auth = oci_auth(auth, registry)?;
    let mut entries = Vec::new();
    for image in images {
        let at = format!("{repository}@{}", image.digest);
        let action = format!("read the manifest of {at}");
        let (bytes, digest) = client
            .pull_manifest_raw(&reference(&at)?, &auth, &[DOCKER_MANIFEST, OCI_MANIFEST])
            .await
            .map_err(|e| registry_error(&action, registry, e.to_string()))?;
        if digest != image.digest {
            return Err(registry_error(
                &action,
                registry,
                format!("the registry answered with {digest}"),
            ));
        }
        let media_type = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("mediaType")?.as_str().map(String::from))
            .unwrap_or_else(|| OCI_MANIFEST.to_string());
        entries.push(ManifestEntry {
            platform: image.platform.clone(),
            digest: image.digest.clone(),
            media_type,
            size: bytes.len(),
        });
    }
    let (body, media_type) = compose(&entries)?;
    let digest = digest_of(&body);
    let target = format!("{repository}:{tag}");
    let action = format!("push the image index {target}");
    client
        .push_manifest_raw(
            &reference(&target)?,
            body,
            http::HeaderValue::from_static(media_type),
        )
        .await
        .map_err(|e| registry_error(&action, registry, e.to_string()))?;
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(platform: &str, media_type: &str) -> ManifestEntry {
        ManifestEntry {
            platform: platform.into(),
            digest: format!("sha256:{}", "a".repeat(64)),
            media_type: media_type.into(),
            size: 529,
        }
    }

    #[test]
    fn docker_manifests_make_a_manifest_list_naming_each_platform() {
        let (bytes, media_type) = compose(&[
            entry("linux/amd64", DOCKER_MANIFEST),
            entry("linux/arm64/v8", DOCKER_MANIFEST),
        ])
        .unwrap();
        assert_eq!(media_type, DOCKER_MANIFEST_LIST);
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["schemaVersion"], 2);
        assert_eq!(v["mediaType"], DOCKER_MANIFEST_LIST);
        assert_eq!(v["manifests"][0]["platform"]["architecture"], "amd64");
        assert_eq!(v["manifests"][1]["platform"]["architecture"], "arm64");
        assert_eq!(v["manifests"][1]["platform"]["variant"], "v8");
        assert_eq!(v["manifests"][1]["size"], 529);
    }

    #[test]
    fn any_oci_manifest_makes_an_oci_index() {
        let (_, media_type) = compose(&[
            entry("linux/amd64", DOCKER_MANIFEST),
            entry("linux/arm64", OCI_MANIFEST),
        ])
        .unwrap();
        assert_eq!(media_type, OCI_INDEX);
    }
}

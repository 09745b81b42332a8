//! Opening a bundle: its members read into memory, its manifest and
//! results parsed. Whether its contents agree with each other is for
//! `verify` to say; reading only refuses what cannot be read.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::BundleError;
use super::format::{self, Manifest};
use crucible_engine::results::RunResults;

/// The most a bundle may unpack to. A gzip member can expand a
/// thousandfold: a hostile file must not take the machine's memory.
pub const MAX_UNPACKED: u64 = 2 << 30;

/// A bundle, read.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub path: PathBuf,
    pub manifest: Manifest,
    pub results: RunResults,
    /// Every member but the manifest, by name, as stored.
    pub members: BTreeMap<String, Vec<u8>>,
}

impl Bundle {
    /// A component's bytes, by the sha256 its member is named by.
    pub fn component(&self, sha256: &str) -> Option<&[u8]> {
        self.members
            .get(&format::component_member(sha256))
            .map(Vec::as_slice)
    }

    /// Every component the bundle holds, by the sha256 it is filed under.
    pub fn components(&self) -> BTreeMap<String, Vec<u8>> {
        self.manifest
            .components
            .iter()
            .filter_map(|c| Some((c.sha256.clone(), self.component(&c.sha256)?.to_vec())))
            .collect()
    }

    /// The figures as they stood when the bundle was made.
    pub fn figures(&self) -> Option<&[u8]> {
        self.members.get(format::FIGURES).map(Vec::as_slice)
    }
}

pub fn read(path: &Path) -> Result<Bundle, BundleError> {
    if path.is_dir() {
        return Err(BundleError::NotABundle {
            path: path.to_owned(),
            reason:
                "it is a directory (a run directory is bundled with `crucible bundle RUN -o FILE`)"
                    .into(),
        });
    }
    // A regular file only: a FIFO or a device is refused, not waited on.
    let file = crucible_registry::input_file::open(path).map_err(|source| BundleError::Io {
        path: path.to_owned(),
        source,
    })?;
    from_reader(path, std::io::BufReader::new(file))
}

/// A bundle from a stream of its bytes; `path` names it in errors. Reads
/// at most [`MAX_UNPACKED`] bytes of members, whatever the stream holds.
pub fn from_reader(path: &Path, mut reader: impl std::io::Read) -> Result<Bundle, BundleError> {
    let not_a_bundle = |reason: String| BundleError::NotABundle {
        path: path.to_owned(),
        reason,
    };
    let corrupt = |reason: String| BundleError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let mut magic = [0u8; 2];
    if reader.read_exact(&mut magic).is_err() || magic != [0x1f, 0x8b] {
        return Err(not_a_bundle("it is not gzip-compressed".into()));
    }
    let gz = flate2::read::GzDecoder::new(magic.as_slice().chain(reader));
    let mut archive = tar::Archive::new(gz.take(MAX_UNPACKED));
    let entries = archive
        .entries()
        .map_err(|e| corrupt(format!("cannot read its archive: {e}")))?;

    let mut manifest: Option<Manifest> = None;
    let mut members: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut unpacked: u64 = 0;
    for entry in entries {
        let mut entry = entry.map_err(|e| corrupt(format!("cannot read its archive: {e}")))?;
        let name = entry
            .path()
            .map_err(|e| corrupt(format!("a member has an unreadable name: {e}")))?
            .to_string_lossy()
            .into_owned();
        let size = entry.header().size().unwrap_or(0);
        unpacked = unpacked.saturating_add(size);
        if unpacked > MAX_UNPACKED {
            return Err(corrupt(format!(
                "it unpacks to more than {} bytes",
                MAX_UNPACKED
            )));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(1 << 26));
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| corrupt(format!("member {name} cannot be read: {e}")))?;
        if bytes.len() as u64 != size {
            return Err(corrupt(format!("member {name} is cut short")));
        }
        match &manifest {
            None if name == format::MANIFEST => manifest = Some(parse_manifest(path, &bytes)?),
            None => {
                return Err(not_a_bundle(format!(
                    "its first member is `{name}`, not `{}`",
                    format::MANIFEST
                )));
            }
            Some(_) => {
                if members.insert(name.clone(), bytes).is_some() {
                    return Err(corrupt(format!("member {name} appears twice")));
                }
            }
        }
    }
    let manifest = manifest.ok_or_else(|| not_a_bundle("the archive is empty".into()))?;
    // A gzip stream cut short can still end the tar cleanly at a member
    // boundary: every member the manifest lists must be there.
    for name in manifest.files.keys().cloned().chain(
        manifest
            .components
            .iter()
            .map(|c| format::component_member(&c.sha256)),
    ) {
        if !members.contains_key(&name) {
            return Err(corrupt(format!(
                "member {name}, which its manifest lists, is missing"
            )));
        }
    }
    let results_bytes = members
        .get(format::RESULTS)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let results: RunResults = serde_json::from_slice(results_bytes)
        .map_err(|e| corrupt(format!("its {} cannot be read: {e}", format::RESULTS)))?;
    Ok(Bundle {
        path: path.to_owned(),
        manifest,
        results,
        members,
    })
}

fn parse_manifest(path: &Path, bytes: &[u8]) -> Result<Manifest, BundleError> {
    // The version is read first, alone: a newer format's manifest may not
    // parse as this one's.
    #[derive(serde::Deserialize)]
    struct Head {
        format: String,
        format_version: u32,
        #[serde(default)]
        created_by: Option<serde_json::Value>,
    }
    let head: Head = serde_json::from_slice(bytes).map_err(|e| BundleError::NotABundle {
        path: path.to_owned(),
        reason: format!("its {} cannot be read: {e}", format::MANIFEST),
    })?;
    if head.format != format::FORMAT {
        return Err(BundleError::NotABundle {
            path: path.to_owned(),
            reason: format!("its manifest says it is `{}`", head.format),
        });
    }
    if head.format_version > format::FORMAT_VERSION {
        let by = head
            .created_by
            .as_ref()
            .and_then(|c| c.get("crucible"))
            .and_then(|v| v.as_str())
            .unwrap_or("unknown")
            .to_owned();
        return Err(BundleError::NewerFormat {
            path: path.to_owned(),
            found: head.format_version,
            by,
            ours: env!("CARGO_PKG_VERSION"),
            supported: format::FORMAT_VERSION,
        });
    }
    serde_json::from_slice(bytes).map_err(|e| BundleError::Corrupt {
        path: path.to_owned(),
        reason: format!("its {} cannot be read: {e}", format::MANIFEST),
    })
}

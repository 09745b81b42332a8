//! The read side of a registry, behind one trait, so that resolution and
//! fetching work the same against a local directory and (next) an HTTP
//! server or a static mirror.

use std::path::PathBuf;

use semver::Version;

use crate::checksum::Checksum;
use crate::name::PackageName;
use crate::record::{Record, RecordError, same_release};
use crate::source::Source;

/// What any registry can answer. Methods are blocking: a caller on an async
/// runtime runs them on its blocking pool.
pub trait Registry {
    /// This registry, as a lockfile `source`.
    fn source(&self) -> Source;

    /// Every version of `name` this client understands, yanked ones
    /// included, oldest first by semver.
    fn versions(&self, name: &PackageName) -> Result<Vec<Record>, RegistryError>;

    /// One version of `name`, yanked or not. Build metadata is ignored: a
    /// registry holds at most one `1.0.0+anything`.
    fn record(&self, name: &PackageName, version: &Version) -> Result<Record, RegistryError> {
        let records = self.versions(name)?;
        match records.iter().find(|r| same_release(&r.version, version)) {
            Some(record) => Ok(record.clone()),
            None => Err(RegistryError::NoSuchVersion {
                name: name.clone(),
                version: version.clone(),
                available: list_versions(&records),
            }),
        }
    }

    /// The bytes whose sha256 is `sha256`, verified after they were read.
    fn blob(&self, sha256: &Checksum) -> Result<Vec<u8>, RegistryError>;

    /// The newest non-yanked record of each package whose name or
    /// description contains `text` (case-insensitive; empty matches all),
    /// sorted by name.
    fn search(&self, text: &str) -> Result<Vec<Record>, RegistryError>;
}

/// `1.0.0, 1.1.0 (yanked)`, or `none`, for messages.
pub fn list_versions(records: &[Record]) -> String {
    if records.is_empty() {
        return "none".to_owned();
    }
    records
        .iter()
        .map(|r| {
            if r.yanked {
                format!("{} (yanked)", r.version)
            } else {
                r.version.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{}: cannot {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error(transparent)]
    Index(#[from] RecordError),
    #[error("{}: not a Crucible registry ({message})", path.display())]
    NotARegistry { path: PathBuf, message: String },
    #[error(
        "{}: registry format {found} is newer than this crucible understands (up to {supported}); upgrade crucible",
        path.display()
    )]
    UnsupportedFormat {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("no package `{name}` in {registry}")]
    NoSuchPackage { name: PackageName, registry: Source },
    #[error("{name}@{version}: no such version (available: {available})")]
    NoSuchVersion {
        name: PackageName,
        version: Version,
        available: String,
    },
    #[error("no blob with sha256 {sha256} ({})", path.display())]
    NoSuchBlob { sha256: Checksum, path: PathBuf },
    #[error("{}: sha256 mismatch: expected {expected}, the file has {actual}", path.display())]
    ChecksumMismatch {
        path: PathBuf,
        expected: Checksum,
        actual: Checksum,
    },
    #[error(
        "{name}@{version}: already published as {name}@{existing}; a published version is immutable, publish a new version"
    )]
    AlreadyPublished {
        name: PackageName,
        version: Version,
        existing: Version,
    },
    #[error(
        "{name}@{version}: the component is {size} bytes, over this registry's limit of {limit}"
    )]
    TooLarge {
        name: PackageName,
        version: Version,
        size: u64,
        limit: u64,
    },
    #[error("{name}@{version}: the component is empty")]
    Empty { name: PackageName, version: Version },
    #[error("{name}@{version}: contract `{contract}` is not `crucible:plugin@VERSION`")]
    BadContract {
        name: PackageName,
        version: Version,
        contract: String,
    },
    #[error(
        "{name}@{version}: recorded in index format {v}, which this crucible cannot rewrite; upgrade crucible"
    )]
    NewerRecord {
        name: PackageName,
        version: Version,
        v: u64,
    },
}

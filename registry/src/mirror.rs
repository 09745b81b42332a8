//! `crucible registry mirror FROM TO`: copies every package of one registry
//! into a local registry directory, checking every hash, so the directory
//! can then be served as-is (by `crucible registry serve` or any static
//! file host).
//!
//! What a mirror keeps:
//! - Records as published: version, sha256, size, publication time and
//!   fields this crucible does not know are copied, not re-derived (a
//!   mirror is not a re-publication). Records in an index format newer
//!   than this crucible's are skipped: their hashes cannot be checked.
//! - Every blob is checked against the record's sha256 and size before it
//!   is stored, and written before the index line naming it.
//! - Immutability: a version the target already holds with other bytes is
//!   an error (the two registries disagree on a published version), never
//!   an overwrite. A version the target holds that the source lacks is
//!   kept. The `yanked` flag follows the source, both ways.
//! - Running it again copies only what is new, repairs a missing or
//!   damaged blob in the target, and writes the target's package list.
//!
//! The target's index is rewritten under the same per-package lock file
//! `LocalRegistry` publishes under (`locks/<namespace>/<name>.lock`), so a
//! mirror and a publish into one directory do not lose each other's lines.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::PathBuf;

use semver::Version;

use crate::atomic;
use crate::backend::{Registry, RegistryError};
use crate::cache::{io_error, join_key};
use crate::catalog::{ListPackages, write_package_list};
use crate::checksum::Checksum;
use crate::input_file;
use crate::layout;
use crate::local::LocalRegistry;
use crate::name::PackageName;
use crate::record::{Entry, IndexFile, IndexLine, Record};

/// What a mirror did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorReport {
    /// Packages the source lists.
    pub packages: usize,
    /// Versions newly added to the target.
    pub versions_added: usize,
    /// Blobs written to the target (new versions, and repairs).
    pub blobs_written: usize,
    /// Versions whose `yanked` flag was changed to match the source.
    pub yanks_changed: usize,
    /// Versions the target already held, identical.
    pub unchanged: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(
        "{name}@{version}: the source has sha256 {source_sha256}, but the target already holds {target_sha256}; a published version is immutable, so the two registries disagree (nothing was overwritten)"
    )]
    Diverged {
        name: PackageName,
        version: Version,
        source_sha256: Checksum,
        target_sha256: Checksum,
    },
    #[error("{name}@{version}: the record says {expected} bytes, but the blob has {actual}")]
    SizeMismatch {
        name: PackageName,
        version: Version,
        expected: u64,
        actual: u64,
    },
}

/// Copies every package `from` lists into `to`; see the module
/// documentation. Stops at the first error, having stored nothing
/// unverified.
pub fn mirror(from: &dyn ListPackages, to: &LocalRegistry) -> Result<MirrorReport, MirrorError> {
    let mut report = MirrorReport::default();
    let names = from.package_names()?;
    report.packages = names.len();
    for name in &names {
        mirror_package(from, to, name, &mut report)?;
    }
    write_package_list(to)?;
    Ok(report)
}

fn mirror_package(
    from: &dyn ListPackages,
    to: &LocalRegistry,
    name: &PackageName,
    report: &mut MirrorReport,
) -> Result<(), MirrorError> {
    let records = from.versions(name)?;
    let _lock = lock(to, name)?;
    let index_path = join_key(to.root(), &layout::index_path(name));
    let mut index = match input_file::read_to_string(&index_path, input_file::INDEX) {
        Ok(text) => IndexFile::parse(&index_path.display().to_string(), name, &text)
            .map_err(RegistryError::from)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => IndexFile::default(),
        Err(e) => return Err(io_error(&index_path, "read the index", e).into()),
    };
    let mut changed = false;
    for record in &records {
        match index.position(&record.version) {
            Some(position) => {
                let line = &mut index.lines[position];
                let Entry::Known(existing) = &mut line.entry else {
                    // A newer format in the target: not ours to touch.
                    continue;
                };
                if existing.sha256 != record.sha256 {
                    return Err(MirrorError::Diverged {
                        name: name.clone(),
                        version: record.version.clone(),
                        source_sha256: record.sha256.clone(),
                        target_sha256: existing.sha256.clone(),
                    });
                }
                if ensure_blob(from, to, record)? {
                    report.blobs_written += 1;
                }
                if existing.yanked == record.yanked {
                    report.unchanged += 1;
                } else {
                    existing.yanked = record.yanked;
                    line.raw = existing.to_line();
                    report.yanks_changed += 1;
                    changed = true;
                }
            }
            None => {
                // The blob first: an index line never names a missing blob.
                if ensure_blob(from, to, record)? {
                    report.blobs_written += 1;
                }
                index.lines.push(IndexLine {
                    number: index.lines.last().map_or(1, |l| l.number + 1),
                    raw: record.to_line(),
                    entry: Entry::Known(record.clone()),
                });
                report.versions_added += 1;
                changed = true;
            }
        }
    }
    if changed {
        atomic::write(&index_path, index.to_text().as_bytes())
            .map_err(|e| io_error(&index_path, "write the index", e))?;
    }
    Ok(())
}

/// Makes sure `to` holds the intact blob of `record`, fetching it from
/// `from` (verified there, and here against the record's sha256 and size)
/// if not. Whether it was written.
fn ensure_blob(
    from: &dyn ListPackages,
    to: &LocalRegistry,
    record: &Record,
) -> Result<bool, MirrorError> {
    match to.blob(&record.sha256) {
        Ok(_) => return Ok(false),
        Err(RegistryError::NoSuchBlob { .. } | RegistryError::ChecksumMismatch { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let bytes = from.blob(&record.sha256)?;
    let actual = Checksum::of(&bytes);
    let path = join_key(to.root(), &layout::blob_path(&record.sha256));
    if actual != record.sha256 {
        return Err(RegistryError::ChecksumMismatch {
            path,
            expected: record.sha256.clone(),
            actual,
        }
        .into());
    }
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if size != record.size {
        return Err(MirrorError::SizeMismatch {
            name: record.name.clone(),
            version: record.version.clone(),
            expected: record.size,
            actual: size,
        });
    }
    atomic::write(&path, &bytes).map_err(|e| io_error(&path, "write the blob", e))?;
    Ok(true)
}

/// `LocalRegistry`'s own per-package lock; released when dropped.
fn lock(to: &LocalRegistry, name: &PackageName) -> Result<File, RegistryError> {
    let path: PathBuf = join_key(
        to.root(),
        &format!("locks/{}/{}.lock", name.namespace(), name.name()),
    );
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| io_error(dir, "create the directory", e))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io_error(&path, "open the lock file", e))?;
    file.lock().map_err(|e| io_error(&path, "lock", e))?;
    Ok(file)
}

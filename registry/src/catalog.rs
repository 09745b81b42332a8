//! Listing a registry's packages. A directory can be walked; a static file
//! host cannot list one, so a registry that is to be searched or mirrored
//! over HTTP also serves a package list, kept beside the index files:
//!
//! ```text
//! index/packages.json    {"packages": ["namespace/name", ...]}
//! ```
//!
//! The list is optional and only ever a convenience: resolution never
//! needs it (a package is found by its name), and the index files stay
//! the truth. Unknown fields are ignored, so it can grow. `write_package_list`
//! rewrites it from the index files of a `LocalRegistry`; call it after
//! publishing (the CLI and `mirror` do).

use std::fs::{self, OpenOptions};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic;
use crate::backend::{Registry, RegistryError};
use crate::cache::{io_error, join_key, package_names_in};
use crate::local::LocalRegistry;
use crate::name::PackageName;
use crate::record::Record;

/// Where the package list lives, relative to the registry root.
pub const PACKAGE_LIST: &str = "index/packages.json";

/// `index/packages.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PackageList {
    pub packages: Vec<PackageName>,
}

/// A registry that can say which packages it holds, yanked-only ones
/// included: what search and mirroring need beyond the `Registry` trait.
pub trait ListPackages: Registry {
    /// Every package name, sorted.
    fn package_names(&self) -> Result<Vec<PackageName>, RegistryError>;
}

impl ListPackages for LocalRegistry {
    /// The directory is walked: every `index/<namespace>/<name>.jsonl`.
    fn package_names(&self) -> Result<Vec<PackageName>, RegistryError> {
        package_names_in(&self.root().join("index"))
    }
}

/// Rewrites `index/packages.json` of `registry` from its index files, and
/// returns the list. Serialized by a lock beside the per-package ones, so
/// that of two publishers rewriting it at once, the last one to write has
/// seen both packages.
pub fn write_package_list(registry: &LocalRegistry) -> Result<PackageList, RegistryError> {
    let lock_path = join_key(registry.root(), "locks/packages.lock");
    if let Some(dir) = lock_path.parent() {
        fs::create_dir_all(dir).map_err(|e| io_error(dir, "create the directory", e))?;
    }
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| io_error(&lock_path, "open the lock file", e))?;
    lock.lock().map_err(|e| io_error(&lock_path, "lock", e))?;
    let list = PackageList {
        packages: registry.package_names()?,
    };
    let path = join_key(registry.root(), PACKAGE_LIST);
    write_json(&path, &list)?;
    drop(lock);
    Ok(list)
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), RegistryError> {
    let mut text = serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| unreachable!("names and strings always serialize: {e}"));
    text.push('\n');
    atomic::write(path, text.as_bytes()).map_err(|e| io_error(path, "write", e))
}

/// The newest non-yanked record of each of `names` whose name or
/// description contains `text` (case-insensitive), sorted by name: the
/// `Registry::search` contract, for any registry that can list itself.
pub(crate) fn newest_matching<R: Registry + ?Sized>(
    registry: &R,
    names: &[PackageName],
    text: &str,
) -> Result<Vec<Record>, RegistryError> {
    let needle = text.to_lowercase();
    let mut hits = Vec::new();
    for name in names {
        let records = registry.versions(name)?;
        let Some(record) = records.into_iter().rfind(|r| !r.yanked) else {
            continue;
        };
        if name.as_str().contains(&needle) || record.description.to_lowercase().contains(&needle) {
            hits.push(record);
        }
    }
    hits.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(hits)
}

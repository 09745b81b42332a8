//! The local cache of what was fetched from remote registries, so that
//! `--offline` can resolve and load from it alone:
//!
//! ```text
//! <root>/blobs/sha256/<first two hex>/<hex>          shared by every registry
//! <root>/index/<host>-<hash of the URL>/<ns>/<name>.jsonl   per registry
//! ```
//!
//! `<root>` is `$CRUCIBLE_CACHE/registry`, else `crucible/registry` in the
//! user's cache directory (beside the compiled-component cache).
//!
//! Blobs are content-addressed, so one blob cache serves every registry
//! and a cached blob never goes stale; it is re-verified against its sha256
//! on every read all the same, because the cache is only a directory anyone
//! with the user's rights can write to. Index files are copies of the last
//! ones fetched, one directory per registry URL: they do go stale, and are
//! used only offline. Every write is atomic (a temporary file, then a
//! rename), so concurrent runs sharing a cache never see half a file.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::atomic;
use crate::backend::RegistryError;
use crate::checksum::Checksum;
use crate::input_file;
use crate::layout;
use crate::name::PackageName;

/// A cache directory; see the module documentation for its layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryCache {
    root: PathBuf,
}

/// What the cache holds for a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CachedBlob {
    /// The bytes, verified against their sha256.
    Hit(Vec<u8>),
    Miss,
    /// A file whose bytes are not the ones its name says.
    Corrupt {
        path: PathBuf,
        actual: Checksum,
    },
}

impl RegistryCache {
    /// A cache rooted at `root` (the directory holding `blobs/` and
    /// `index/`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `$CRUCIBLE_CACHE/registry`, else `crucible/registry` in the user's
    /// cache directory; `None` if there is no such directory.
    pub fn default_root() -> Option<PathBuf> {
        let base = match std::env::var_os("CRUCIBLE_CACHE") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => dirs::cache_dir()?.join("crucible"),
        };
        Some(base.join("registry"))
    }

    /// The cache at `default_root`.
    pub fn at_default() -> Option<Self> {
        Self::default_root().map(Self::new)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob `sha256` is (or would be) cached.
    pub fn blob_path(&self, sha256: &Checksum) -> PathBuf {
        join_key(&self.root, &layout::blob_path(sha256))
    }

    /// The cached blob `sha256`, checked against its name.
    pub fn blob(&self, sha256: &Checksum) -> Result<CachedBlob, RegistryError> {
        let path = self.blob_path(sha256);
        let bytes = match input_file::read(&path, input_file::BLOB) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(CachedBlob::Miss),
            Err(e) => return Err(io_error(&path, "read the cached blob", e)),
        };
        let actual = Checksum::of(&bytes);
        if actual != *sha256 {
            return Ok(CachedBlob::Corrupt { path, actual });
        }
        Ok(CachedBlob::Hit(bytes))
    }

    /// Caches `bytes` as the blob `sha256`. The caller has verified them;
    /// they are checked again here, so that nothing unverified ever lands in
    /// the cache under a name it does not match.
    pub fn put_blob(&self, sha256: &Checksum, bytes: &[u8]) -> Result<(), RegistryError> {
        let path = self.blob_path(sha256);
        let actual = Checksum::of(bytes);
        if actual != *sha256 {
            return Err(RegistryError::ChecksumMismatch {
                path,
                expected: sha256.clone(),
                actual,
            });
        }
        atomic::write(&path, bytes).map_err(|e| io_error(&path, "write the cached blob", e))
    }

    /// The directory holding the cached index files of the registry at
    /// `url`: `index/<host>-<16 hex of the URL's sha256>`. The host keeps it
    /// readable; the hash keeps two registries on one host apart.
    pub fn index_dir(&self, url: &str) -> PathBuf {
        let host: String = url
            .split_once("://")
            .map_or(url, |(_, rest)| rest)
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(64)
            .collect();
        let hash = Checksum::of(url.as_bytes());
        let key = format!("{host}-{}", &hash.as_str()[..16]);
        self.root.join("index").join(key.trim_start_matches('.'))
    }

    /// Where the index of `name` from the registry at `url` is cached.
    pub fn index_path(&self, url: &str, name: &PackageName) -> PathBuf {
        self.index_dir(url)
            .join(name.namespace())
            .join(format!("{}.jsonl", name.name()))
    }

    /// The cached index text of `name` from `url`, if any.
    pub fn index(&self, url: &str, name: &PackageName) -> Result<Option<String>, RegistryError> {
        let path = self.index_path(url, name);
        match input_file::read_to_string(&path, input_file::INDEX) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path, "read the cached index", e)),
        }
    }

    /// Caches the index text of `name` from `url`.
    pub fn put_index(
        &self,
        url: &str,
        name: &PackageName,
        text: &str,
    ) -> Result<(), RegistryError> {
        let path = self.index_path(url, name);
        atomic::write(&path, text.as_bytes())
            .map_err(|e| io_error(&path, "write the cached index", e))
    }

    /// Every package whose index from `url` is cached, sorted.
    pub fn cached_packages(&self, url: &str) -> Result<Vec<PackageName>, RegistryError> {
        package_names_in(&self.index_dir(url))
    }
}

/// Every `<namespace>/<name>.jsonl` under `dir`, as package names, sorted.
/// Anything else (stray or temporary files, invalid names) is passed over;
/// a missing `dir` holds no packages.
pub(crate) fn package_names_in(dir: &Path) -> Result<Vec<PackageName>, RegistryError> {
    let mut names = Vec::new();
    let namespaces = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(names),
        Err(e) => return Err(io_error(dir, "list the directory", e)),
    };
    for namespace in namespaces {
        let namespace = namespace.map_err(|e| io_error(dir, "list the directory", e))?;
        let path = namespace.path();
        if !path.is_dir() {
            continue;
        }
        let Some(ns) = namespace.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let files = fs::read_dir(&path).map_err(|e| io_error(&path, "list the directory", e))?;
        for file in files {
            let file = file.map_err(|e| io_error(&path, "list the directory", e))?;
            let file_name = file.file_name();
            let Some(stem) = file_name.to_str().and_then(|n| n.strip_suffix(".jsonl")) else {
                continue;
            };
            if let Ok(name) = PackageName::new(&ns, stem) {
                names.push(name);
            }
        }
    }
    names.sort();
    Ok(names)
}

/// `root` joined with a `/`-separated layout key, one segment at a time.
pub(crate) fn join_key(root: &Path, key: &str) -> PathBuf {
    key.split('/')
        .fold(root.to_owned(), |path, part| path.join(part))
}

pub(crate) fn io_error(path: &Path, action: &'static str, source: io::Error) -> RegistryError {
    RegistryError::Io {
        path: path.to_owned(),
        action,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_verified_on_the_way_in_and_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = RegistryCache::new(dir.path());
        let sum = Checksum::of(b"component");
        assert_eq!(cache.blob(&sum).expect("read"), CachedBlob::Miss);
        let err = cache.put_blob(&sum, b"other").expect_err("refused");
        assert!(err.to_string().contains("sha256 mismatch"), "{err}");
        cache.put_blob(&sum, b"component").expect("cached");
        assert_eq!(
            cache.blob(&sum).expect("read"),
            CachedBlob::Hit(b"component".to_vec())
        );
        fs::write(cache.blob_path(&sum), b"tampered").expect("tamper");
        assert!(matches!(
            cache.blob(&sum).expect("read"),
            CachedBlob::Corrupt { actual, .. } if actual == Checksum::of(b"tampered")
        ));
    }

    #[test]
    fn index_files_are_kept_per_registry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = RegistryCache::new(dir.path());
        let name: PackageName = "ns/pkg".parse().expect("valid");
        let (a, b) = ("http://127.0.0.1:8080", "http://127.0.0.1:8080/other");
        cache.put_index(a, &name, "a\n").expect("cached");
        assert_eq!(cache.index(a, &name).expect("read").as_deref(), Some("a\n"));
        assert_eq!(cache.index(b, &name).expect("read"), None);
        assert_ne!(cache.index_dir(a), cache.index_dir(b));
        let key = cache.index_dir(a);
        let key = key.file_name().and_then(|k| k.to_str()).expect("utf-8");
        assert!(key.starts_with("127.0.0.1-8080-"), "{key}");
        assert_eq!(cache.cached_packages(a).expect("list"), vec![name]);
        assert!(cache.cached_packages(b).expect("list").is_empty());
    }
}

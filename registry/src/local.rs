//! A registry in a local directory, in the shared static layout (see
//! `layout`), so the directory can be served as-is as a read-only mirror.
//!
//! Writes keep three promises:
//! - Immutable: a published `name@version` is never replaced, not even by
//!   identical bytes; only its `yanked` flag ever changes.
//! - Atomic: every file is written to a temporary file in the same
//!   directory, synced, then renamed over its target, so a reader (or a
//!   crash) sees the old file or the new one, never half of one. The blob is
//!   in place before the index line that names it.
//! - Serialized per package: publish and yank read, change and rewrite a
//!   package's index while holding an exclusive lock on
//!   `locks/<namespace>/<name>.lock`, so of two concurrent publishes of one
//!   version, in threads or processes, exactly one succeeds.
//!
//! The lock is `std::fs::File::lock` (stable since Rust 1.89; `flock` on
//! Unix, `LockFileEx` on Windows) rather than a lock file created with
//! `O_EXCL`: the OS drops it when its holder exits, so a crashed publish
//! never leaves a stale lock behind for someone to delete by hand. Lock
//! files are kept, never removed: removing one would let a waiter lock the
//! old, unlinked file while a newcomer locks a new one. They live outside
//! `index/` because they are this backend's business, not the layout's.
//!
//! Readers take no lock: thanks to the renames, they always see a whole
//! index file.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use semver::Version;

use crate::atomic;
use crate::backend::{Registry, RegistryError, list_versions};
use crate::checksum::Checksum;
use crate::input_file;
use crate::layout::{self, CONFIG, Config, FORMAT};
use crate::name::PackageName;
use crate::record::{Entry, IndexFile, IndexLine, Kind, Record, contract_version, now_rfc3339};
use crate::source::Source;

/// Largest component a registry accepts unless configured otherwise. Real
/// components are a few hundred KiB; this leaves room without letting one
/// upload fill a disk.
pub const DEFAULT_MAX_SIZE: u64 = 32 * 1024 * 1024;

/// Where this backend keeps its per-package lock files.
const LOCKS: &str = "locks";

/// What a publisher says about a new version. The registry adds what it
/// computes itself: sha256, size, publication time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVersion {
    pub name: PackageName,
    pub version: Version,
    pub kind: Kind,
    pub contract: String,
    pub description: String,
    pub license: Option<String>,
    pub repository: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LocalRegistry {
    root: PathBuf,
    max_size: u64,
}

impl LocalRegistry {
    /// Opens the registry at `root`, making an empty one first if there is
    /// no `config.json` there yet.
    pub fn create(root: &Path) -> Result<Self, RegistryError> {
        let config = root.join(CONFIG);
        if !config.exists() {
            for dir in ["index", "blobs/sha256", LOCKS] {
                let dir = join_key(root, dir);
                fs::create_dir_all(&dir).map_err(io_error(&dir, "create the directory"))?;
            }
            let mut text = serde_json::to_string(&Config::default())
                .unwrap_or_else(|e| unreachable!("the config always serializes: {e}"));
            text.push('\n');
            atomic::write(&config, text.as_bytes()).map_err(io_error(&config, "write"))?;
        }
        Self::open(root)
    }

    /// Opens an existing registry; refuses a directory without a readable
    /// `config.json` or of a newer format.
    pub fn open(root: &Path) -> Result<Self, RegistryError> {
        let config_path = root.join(CONFIG);
        let text = match input_file::read_to_string(&config_path, input_file::INDEX) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(RegistryError::NotARegistry {
                    path: root.to_owned(),
                    message: format!("no {CONFIG}"),
                });
            }
            Err(e) => return Err(io_error(&config_path, "read the config")(e)),
        };
        let config: Config =
            serde_json::from_str(&text).map_err(|e| RegistryError::NotARegistry {
                path: config_path.clone(),
                message: format!("malformed {CONFIG}: {e}"),
            })?;
        if config.format > FORMAT {
            return Err(RegistryError::UnsupportedFormat {
                path: config_path,
                found: config.format,
                supported: FORMAT,
            });
        }
        // Canonical, so that `source()` names one registry one way.
        let root = fs::canonicalize(root).map_err(io_error(root, "resolve the path"))?;
        Ok(Self {
            root,
            max_size: DEFAULT_MAX_SIZE,
        })
    }

    /// Sets the largest component `publish` accepts, in bytes.
    pub fn with_max_size(mut self, bytes: u64) -> Self {
        self.max_size = bytes;
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Publishes `bytes` as `new.name@new.version`. Everything that can be
    /// refused without looking at the registry is refused before anything
    /// is written.
    pub fn publish(&self, new: &NewVersion, bytes: &[u8]) -> Result<Record, RegistryError> {
        let (name, version) = (&new.name, &new.version);
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if size > self.max_size {
            return Err(RegistryError::TooLarge {
                name: name.clone(),
                version: version.clone(),
                size,
                limit: self.max_size,
            });
        }
        if size == 0 {
            return Err(RegistryError::Empty {
                name: name.clone(),
                version: version.clone(),
            });
        }
        if contract_version(&new.contract).is_none() {
            return Err(RegistryError::BadContract {
                name: name.clone(),
                version: version.clone(),
                contract: new.contract.clone(),
            });
        }
        let sha256 = Checksum::of(bytes);

        let _lock = self.lock(name)?;
        let mut index = self.read_index(name)?.unwrap_or_default();
        if let Some(line) = index.line_for(version) {
            let existing = match &line.entry {
                Entry::Known(record) => record.version.clone(),
                Entry::Unknown { version: v, .. } => v.clone().unwrap_or_else(|| version.clone()),
            };
            return Err(RegistryError::AlreadyPublished {
                name: name.clone(),
                version: version.clone(),
                existing,
            });
        }
        // The blob first: an index line must never name a missing blob. If
        // we die between the two, the blob is an orphan nobody points at,
        // which is harmless (content-addressed, and rewritten identically by
        // the next publish of the same bytes).
        let blob = self.path(&layout::blob_path(&sha256));
        atomic::write(&blob, bytes).map_err(io_error(&blob, "write the blob"))?;

        let record = Record {
            name: name.clone(),
            version: version.clone(),
            kind: new.kind,
            contract: new.contract.clone(),
            sha256,
            size,
            published: now_rfc3339(),
            yanked: false,
            description: new.description.clone(),
            license: new.license.clone(),
            repository: new.repository.clone(),
            extra: Default::default(),
        };
        index.lines.push(IndexLine {
            number: index.lines.last().map_or(1, |l| l.number + 1),
            raw: record.to_line(),
            entry: Entry::Known(record.clone()),
        });
        self.write_index(name, &index)?;
        Ok(record)
    }

    /// Sets the `yanked` flag of `name@version` and returns the record as it
    /// now is. Yanking hides a version from new resolution; a lockfile that
    /// pins it still gets it. Setting the flag it already has changes
    /// nothing.
    pub fn yank(
        &self,
        name: &PackageName,
        version: &Version,
        yanked: bool,
    ) -> Result<Record, RegistryError> {
        // Packages are never deleted, so checking before locking is not a
        // race, and a yank of a package that does not exist writes nothing.
        if !self.path(&layout::index_path(name)).exists() {
            return Err(self.no_such_package(name));
        }
        let _lock = self.lock(name)?;
        let mut index = self
            .read_index(name)?
            .ok_or_else(|| self.no_such_package(name))?;
        let Some(position) = index.position(version) else {
            let mut records: Vec<Record> = index.records().cloned().collect();
            records.sort_by(|a, b| a.version.cmp(&b.version));
            return Err(RegistryError::NoSuchVersion {
                name: name.clone(),
                version: version.clone(),
                available: list_versions(&records),
            });
        };
        let line = &mut index.lines[position];
        let record = match &mut line.entry {
            Entry::Known(record) => record,
            Entry::Unknown { v, .. } => {
                return Err(RegistryError::NewerRecord {
                    name: name.clone(),
                    version: version.clone(),
                    v: *v,
                });
            }
        };
        if record.yanked == yanked {
            return Ok(record.clone());
        }
        record.yanked = yanked;
        let record = record.clone();
        // Only this line is re-serialized; unknown fields ride along in
        // `extra`, and every other line is written back verbatim.
        line.raw = record.to_line();
        self.write_index(name, &index)?;
        Ok(record)
    }

    fn write_index(&self, name: &PackageName, index: &IndexFile) -> Result<(), RegistryError> {
        let path = self.path(&layout::index_path(name));
        atomic::write(&path, index.to_text().as_bytes()).map_err(io_error(&path, "write the index"))
    }

    fn path(&self, key: &str) -> PathBuf {
        join_key(&self.root, key)
    }

    fn no_such_package(&self, name: &PackageName) -> RegistryError {
        RegistryError::NoSuchPackage {
            name: name.clone(),
            registry: self.source(),
        }
    }

    /// The index of `name`, or `None` if nothing was ever published under it.
    fn read_index(&self, name: &PackageName) -> Result<Option<IndexFile>, RegistryError> {
        let path = self.path(&layout::index_path(name));
        let text = match input_file::read_to_string(&path, input_file::INDEX) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&path, "read the index")(e)),
        };
        Ok(Some(IndexFile::parse(
            &path.display().to_string(),
            name,
            &text,
        )?))
    }

    /// Blocks until this thread holds the package's lock; released when the
    /// returned file is dropped (closed).
    fn lock(&self, name: &PackageName) -> Result<File, RegistryError> {
        let path = join_key(
            &self.root,
            &format!("{LOCKS}/{}/{}.lock", name.namespace(), name.name()),
        );
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_error(dir, "create the directory"))?;
        }
        // Each call opens its own handle: `flock` locks belong to an open
        // file, so two threads of one process exclude each other too.
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error(&path, "open the lock file"))?;
        file.lock().map_err(io_error(&path, "lock"))?;
        Ok(file)
    }
}

impl Registry for LocalRegistry {
    fn source(&self) -> Source {
        Source::local_registry(&self.root)
    }

    fn versions(&self, name: &PackageName) -> Result<Vec<Record>, RegistryError> {
        let index = self
            .read_index(name)?
            .ok_or_else(|| self.no_such_package(name))?;
        let mut records: Vec<Record> = index.records().cloned().collect();
        records.sort_by(|a, b| a.version.cmp(&b.version));
        Ok(records)
    }

    fn blob(&self, sha256: &Checksum) -> Result<Vec<u8>, RegistryError> {
        let path = self.path(&layout::blob_path(sha256));
        let bytes = match input_file::read(&path, input_file::BLOB) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(RegistryError::NoSuchBlob {
                    sha256: sha256.clone(),
                    path,
                });
            }
            Err(e) => return Err(io_error(&path, "read the blob")(e)),
        };
        // The file's name is a claim; the bytes are checked against it on
        // every read, so a blob changed on disk is caught here.
        let actual = Checksum::of(&bytes);
        if actual != *sha256 {
            return Err(RegistryError::ChecksumMismatch {
                path,
                expected: sha256.clone(),
                actual,
            });
        }
        Ok(bytes)
    }

    fn search(&self, text: &str) -> Result<Vec<Record>, RegistryError> {
        let needle = text.to_lowercase();
        let mut hits = Vec::new();
        for name in self.package_names()? {
            let Some(record) = self.newest_listed(&name)? else {
                continue;
            };
            if name.as_str().contains(&needle)
                || record.description.to_lowercase().contains(&needle)
            {
                hits.push(record);
            }
        }
        hits.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(hits)
    }
}

impl LocalRegistry {
    /// The highest non-yanked version of `name`, if any.
    fn newest_listed(&self, name: &PackageName) -> Result<Option<Record>, RegistryError> {
        let records = self.versions(name)?;
        Ok(records.into_iter().rfind(|r| !r.yanked))
    }

    /// Every package with an index file. Entries that are not a valid
    /// `<namespace>/<name>.jsonl` (stray files, temporary files) are not
    /// packages and are passed over.
    fn package_names(&self) -> Result<Vec<PackageName>, RegistryError> {
        let index = self.path("index");
        let mut names = Vec::new();
        for namespace in read_dir(&index)? {
            if !namespace.is_dir() {
                continue;
            }
            let Some(ns) = namespace.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            for file in read_dir(&namespace)? {
                let Some(stem) = file
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".jsonl"))
                else {
                    continue;
                };
                if let Ok(name) = PackageName::new(ns, stem) {
                    names.push(name);
                }
            }
        }
        names.sort();
        Ok(names)
    }
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, RegistryError> {
    let entries = fs::read_dir(dir).map_err(io_error(dir, "list the directory"))?;
    entries
        .map(|entry| {
            entry
                .map(|e| e.path())
                .map_err(io_error(dir, "list the directory"))
        })
        .collect()
}

/// `root` joined with a `/`-separated layout key, one segment at a time so
/// the separator is right on every OS.
fn join_key(root: &Path, key: &str) -> PathBuf {
    key.split('/')
        .fold(root.to_owned(), |path, part| path.join(part))
}

fn io_error(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> RegistryError {
    let path = path.to_owned();
    move |source| RegistryError::Io {
        path,
        action,
        source,
    }
}

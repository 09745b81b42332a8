//! From a suite entry to the bytes of a component, and where they came from.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use crucible_registry::{
    AnyRegistry, Lockfile, PackageName, Registry, RegistryCache, Source, resolve, resolve_locked,
};

use super::PackageError;
use super::lock::lockfile_path;
use crate::plugin::{LoadError, PluginSource};
use crate::suite::{LoadedSuite, PluginRef};

/// How the lockfile's pins are treated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockPolicy {
    /// Keep pins that still satisfy the suite; pin anything new.
    Normal,
    /// Use only the pins; any change is an error.
    Locked,
    /// Re-resolve these packages (all of them if empty) to their newest
    /// matching versions.
    Update(Vec<PackageName>),
}

/// Whether an HTTP registry may be reached, or only the local cache of
/// what was fetched from it before (`--offline`). A registry directory is
/// local either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Network {
    #[default]
    Online,
    Offline,
}

pub struct Resolver {
    suite_dir: PathBuf,
    /// Where the lockfile is: its sources are relative to it.
    lock_dir: PathBuf,
    registry: Option<AnyRegistry>,
    pins: Option<Lockfile>,
    policy: LockPolicy,
    /// Where each resolved component came from, by sha256.
    origins: Mutex<BTreeMap<String, Source>>,
}

impl Resolver {
    pub fn new(suite: &LoadedSuite, policy: LockPolicy) -> Result<Self, PackageError> {
        Self::with_network(suite, policy, Network::Online)
    }

    /// A resolver that, `Network::Offline`, reads an HTTP registry only
    /// from the local cache (`$CRUCIBLE_CACHE/registry`).
    pub fn with_network(
        suite: &LoadedSuite,
        policy: LockPolicy,
        network: Network,
    ) -> Result<Self, PackageError> {
        let registry = suite
            .registry()
            .map_err(|e| PackageError::Invalid {
                what: suite.path.display().to_string(),
                message: e.to_string(),
            })?
            .map(|location| {
                AnyRegistry::open(
                    &location,
                    RegistryCache::at_default(),
                    network == Network::Offline,
                )
            })
            .transpose()?;
        let lock_path = lockfile_path(suite);
        let pins = if lock_path.exists() {
            Some(Lockfile::load(&lock_path)?)
        } else if policy == LockPolicy::Locked {
            return Err(PackageError::LockMissing { path: lock_path });
        } else {
            None
        };
        Ok(Self {
            suite_dir: suite.path.parent().map(PathBuf::from).unwrap_or_default(),
            lock_dir: super::lock::suite_dir(suite),
            registry,
            pins,
            policy,
            origins: Mutex::new(BTreeMap::new()),
        })
    }

    /// Where each component resolved so far came from, by sha256.
    pub fn origins(&self) -> BTreeMap<String, Source> {
        self.origins.lock().map(|o| o.clone()).unwrap_or_default()
    }

    pub fn pins(&self) -> Option<&Lockfile> {
        self.pins.as_ref()
    }

    /// The component an entry names, with the hash it must have.
    pub fn source(
        &self,
        plugin: &PluginRef,
        sha256: Option<&str>,
    ) -> Result<PluginSource, PackageError> {
        let (source, origin) = match plugin {
            PluginRef::Path(path) => self.component_file(path, sha256)?,
            PluginRef::Package { name, req } => self.registry_package(name, req)?,
        };
        let digest = crucible_registry::Checksum::of(&source.bytes);
        if let Ok(mut origins) = self.origins.lock() {
            origins.insert(digest.as_str().to_owned(), origin);
        }
        Ok(source)
    }

    fn component_file(
        &self,
        path: &std::path::Path,
        sha256: Option<&str>,
    ) -> Result<(PluginSource, Source), PackageError> {
        let path = if path.is_relative() {
            self.suite_dir.join(path)
        } else {
            path.to_owned()
        };
        let origin = Source::path(&path);
        let recorded = origin.relative_to(&self.lock_dir);
        // Under --locked a component file must still be the bytes pinned.
        let pinned = match (&self.policy, &self.pins) {
            (LockPolicy::Locked, Some(pins)) => pins
                .plugins
                .iter()
                .find(|p| p.source.same_place(&recorded, &self.lock_dir))
                .map(|p| p.sha256.as_str().to_owned()),
            _ => None,
        };
        let expected = sha256.map(str::to_owned).or(pinned);
        let source = PluginSource::from_file(&path, expected)?;
        Ok((source, origin))
    }

    fn registry_package(
        &self,
        name: &PackageName,
        req: &crucible_registry::VersionReq,
    ) -> Result<(PluginSource, Source), PackageError> {
        let Some(registry) = &self.registry else {
            return Err(PackageError::Invalid {
                what: name.to_string(),
                message: "the suite names no registry".into(),
            });
        };
        let updating = match &self.policy {
            LockPolicy::Update(names) => names.is_empty() || names.contains(name),
            LockPolicy::Normal | LockPolicy::Locked => false,
        };
        let pin = self.pins.as_ref().filter(|_| !updating).and_then(|pins| {
            pins.plugins
                .iter()
                .find(|p| &p.name == name && req.matches(&p.version))
        });
        let (record, expected) = match pin {
            Some(pin) => (
                resolve_locked(registry, name, &pin.version)?,
                Some(pin.sha256.clone()),
            ),
            None => (resolve(registry, name, req)?, None),
        };
        let label = format!("{}@{}", record.name, record.version);
        // The registry's record must still say what the lockfile pinned;
        // the blob is checked against the record as it is read, and the
        // pin again when the component is loaded, naming both hashes.
        let expected = expected.unwrap_or_else(|| record.sha256.clone());
        if expected != record.sha256 {
            return Err(LoadError::HashMismatch {
                label,
                expected: expected.as_str().to_owned(),
                actual: record.sha256.as_str().to_owned(),
            }
            .into());
        }
        let bytes = registry
            .blob(&record.sha256)
            .map_err(|error| PackageError::Fetch {
                label: label.clone(),
                error: Box::new(error),
            })?;
        Ok((
            PluginSource {
                expected_identity: Some(label.clone()),
                label,
                bytes,
                expected_sha256: Some(expected.as_str().to_owned()),
            },
            registry.source(),
        ))
    }
}

//! The on-disk cache of compiled components, keyed by the component's sha256
//! and the engine's compatibility hash, so a component is compiled once per
//! host build and settings, not once per run.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

use super::error::LoadError;
use crate::disk_cache::write_atomically;

/// The most the compiled components may take: the least recently used go
/// beyond it (a compiled Python plugin is about 60 MB).
const MAX_BYTES: u64 = 1 << 30;

pub struct CompileCache {
    dir: Option<PathBuf>,
    engine_key: String,
}

impl CompileCache {
    /// A cache under `dir`; `None` compiles every time (for tests and
    /// benchmarks that measure the compiler).
    pub fn new(dir: Option<PathBuf>, engine: &Engine) -> Self {
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Self {
            dir,
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    /// The default location: the host's cache folder.
    pub fn default_dir() -> Option<PathBuf> {
        crate::disk_cache::default_root()
    }

    fn path_for(&self, sha256: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|dir| {
            dir.join("components")
                .join(format!("{sha256}-{}.cwasm", self.engine_key))
        })
    }

    /// The compiled form of `bytes`, whose sha256 the caller has verified.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        label: &str,
        bytes: &[u8],
        sha256: &str,
    ) -> Result<(Component, CacheOutcome), LoadError> {
        let path = self.path_for(sha256);
        if let Some(path) = path.as_deref().filter(|p| p.is_file()) {
            match deserialize(engine, path) {
                Ok(component) => {
                    // A failed touch only makes the entry look older.
                    let _ = crate::disk_cache::touch(path);
                    return Ok((component, CacheOutcome::Hit));
                }
                // A stale or damaged entry is rebuilt, never trusted.
                Err(e) => tracing::warn!(path = %path.display(), "ignoring cache entry: {e}"),
            }
        }
        let component = Component::new(engine, bytes).map_err(|e| LoadError::Compile {
            label: label.to_owned(),
            detail: format!("{e:#}"),
        })?;
        if let Some(path) = path {
            let serialized = component.serialize().map_err(|e| LoadError::Compile {
                label: label.to_owned(),
                detail: format!("serializing the compiled component: {e:#}"),
            })?;
            write_atomically(&path, &serialized).map_err(|source| LoadError::Cache {
                path: path.clone(),
                source,
            })?;
            if let Some(dir) = path.parent()
                && let Err(e) = crate::disk_cache::prune(dir, MAX_BYTES)
            {
                tracing::warn!(dir = %dir.display(), "pruning the compile cache: {e}");
            }
        }
        Ok((component, CacheOutcome::Compiled))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Compiled,
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: entries are written only by `load_or_compile` with this
    // engine's `serialize`, named by the engine's compatibility hash, and
    // written atomically; wasmtime checks the header and version before use.
    // The cache directory belongs to the user running the host, the same
    // trust boundary as wasmtime's own compilation cache.
    unsafe { Component::deserialize_file(engine, path) }
}

//! The on-disk cache of compiled components, keyed by the component's sha256
//! and the engine's compatibility hash, so a component is compiled once per
//! host build and settings, not once per run.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

use super::error::LoadError;

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

    /// The default location: `$CRUCIBLE_CACHE`, else the user's cache dir.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("CRUCIBLE_CACHE") {
            return Some(PathBuf::from(dir));
        }
        dirs::cache_dir().map(|d| d.join("crucible"))
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
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
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
            write_atomically(&path, &serialized)
                .map_err(|source| LoadError::Cache { path, source })?;
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

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(bytes)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

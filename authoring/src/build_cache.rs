//! Python and JavaScript builds kept by what went into them. A rebuild of
//! unchanged sources (`crucible build` again, or `dev` rebuilding a partner
//! nobody edited) copies the component the first build made instead of
//! running the componentizer again, which takes seconds to tens of
//! seconds. Cargo is incremental on its own, and a Rust project's inputs
//! reach past its folder, so Rust builds do not come here.
//!
//! The key is a sha256 of the host's version and the recipe (the flags the
//! tool gets), the tool (path, size and modification time), every source
//! file's path and bytes (everything in the project but build output and
//! dependency folders), and the dependency folders' listing (each file's
//! path, size and modification time), so that installing or upgrading a
//! package is a change too. The cache keeps the builds used most recently,
//! up to a bound.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::project::Project;
use crucible_runtime::disk_cache;

/// The most the kept builds may take (a Python component is about 40 MB).
const MAX_BYTES: u64 = 512 << 20;

/// Folders whose files are the project's dependencies and tools: listed
/// in the key, not read.
const DEPENDENCIES: &[&str] = &[".venv", "node_modules"];

/// Folders that hold neither sources nor dependencies: build output,
/// caches a run of Python writes, version control.
const SKIPPED: &[&str] = &["build", "target", "__pycache__", ".git"];

/// Where kept builds live: `builds/` in the host's cache folder.
pub struct BuildCache {
    dir: PathBuf,
}

impl BuildCache {
    pub fn at(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// In the host's cache folder (`$CRUCIBLE_CACHE`, else the user's).
    pub fn default_location() -> Option<Self> {
        disk_cache::default_root().map(|dir| Self::at(dir.join("builds")))
    }

    fn entry(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.wasm"))
    }

    /// Copies the build kept under `key` to `out`; false if there is none
    /// (or it cannot be copied, when the tool builds it anew).
    pub fn fetch(&self, key: &str, out: &Path) -> bool {
        let entry = self.entry(key);
        let Ok(bytes) = std::fs::read(&entry) else {
            return false;
        };
        if disk_cache::write_atomically(out, &bytes).is_err() {
            return false;
        }
        // A failed touch only makes the entry look older.
        let _ = disk_cache::touch(&entry);
        true
    }

    /// Keeps the component at `built` under `key`, then drops the builds
    /// used least recently beyond the bound. A cache that cannot be written
    /// costs the next build its shortcut, never this build.
    pub fn keep(&self, key: &str, built: &Path) {
        let kept = std::fs::read(built)
            .and_then(|bytes| disk_cache::write_atomically(&self.entry(key), &bytes))
            .and_then(|()| disk_cache::prune(&self.dir, MAX_BYTES));
        if let Err(e) = kept {
            tracing::warn!(dir = %self.dir.display(), "keeping the build: {e}");
        }
    }
}

/// The key of building `project` with `tool`: see the module's comment.
pub fn key(project: &Project, tool: &Path) -> std::io::Result<String> {
    let mut hash = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    field(env!("CARGO_PKG_VERSION").as_bytes());
    field(format!("{:?}", project.recipe).as_bytes());
    let tool = tool.canonicalize().unwrap_or_else(|_| tool.to_owned());
    field(tool.to_string_lossy().as_bytes());
    field(&stat(&tool)?);
    let mut files = Vec::new();
    walk(&project.root, &project.root, false, &mut files)?;
    files.sort();
    for (relative, dependency) in files {
        let path = project.root.join(&relative);
        field(relative.to_string_lossy().as_bytes());
        if dependency {
            field(&stat(&path)?);
        } else {
            field(&std::fs::read(&path)?);
        }
    }
    Ok(hex::encode(hash.finalize()))
}

/// A file's size and modification time, as bytes.
fn stat(path: &Path) -> std::io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    let modified = meta
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut bytes = meta.len().to_le_bytes().to_vec();
    bytes.extend(modified.as_nanos().to_le_bytes());
    Ok(bytes)
}

/// Every file under `dir`, relative to `root`, and whether it lies in a
/// dependency folder.
fn walk(
    root: &Path,
    dir: &Path,
    dependency: bool,
    files: &mut Vec<(PathBuf, bool)>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if SKIPPED.iter().any(|skipped| name == *skipped) {
                continue;
            }
            let into = dependency || DEPENDENCIES.iter().any(|d| name == *d);
            walk(root, &entry.path(), into, files)?;
        } else if kind.is_file() {
            let path = entry.path();
            let relative = path.strip_prefix(root).unwrap_or(&path).to_owned();
            files.push((relative, dependency));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::Recipe;
    use crucible_runtime::PluginKind;

    fn project(root: &Path) -> Project {
        std::fs::create_dir_all(root.join(".venv/lib")).expect("mkdir");
        std::fs::create_dir_all(root.join("build")).expect("mkdir");
        std::fs::write(root.join("app.py"), "print('hi')").expect("write");
        std::fs::write(root.join(".venv/lib/dep.py"), "x = 1").expect("write");
        Project {
            root: root.to_owned(),
            language: crate::Language::Python,
            package: "p".into(),
            recipe: Recipe::ComponentizePy {
                world: PluginKind::Classifier,
                module: "app".into(),
            },
        }
    }

    #[test]
    fn the_key_follows_sources_dependencies_and_the_tool_but_not_build_output() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path().join("p");
        let project = project(&root);
        let tool = dir.path().join("componentize-py");
        std::fs::write(&tool, "v1").expect("write");
        let first = key(&project, &tool).expect("a key");
        assert_eq!(key(&project, &tool).expect("a key"), first, "stable");

        std::fs::write(root.join("build/p.wasm"), "output").expect("write");
        std::fs::create_dir_all(root.join("__pycache__")).expect("mkdir");
        std::fs::write(root.join("__pycache__/app.pyc"), "cache").expect("write");
        assert_eq!(key(&project, &tool).expect("a key"), first, "not sources");

        std::fs::write(root.join("app.py"), "print('bye')").expect("write");
        let edited = key(&project, &tool).expect("a key");
        assert_ne!(edited, first, "a source edit");

        std::fs::write(root.join(".venv/lib/dep.py"), "x = 22").expect("write");
        let upgraded = key(&project, &tool).expect("a key");
        assert_ne!(upgraded, edited, "a dependency changed size");

        std::fs::write(&tool, "v2 of the tool").expect("write");
        assert_ne!(
            key(&project, &tool).expect("a key"),
            upgraded,
            "another tool"
        );
    }

    #[test]
    fn a_kept_build_is_fetched_by_its_key() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let cache = BuildCache::at(dir.path().join("builds"));
        let built = dir.path().join("built.wasm");
        std::fs::write(&built, b"\0asm component").expect("write");
        let out = dir.path().join("project/build/p.wasm");
        assert!(!cache.fetch("k", &out), "nothing kept yet");
        cache.keep("k", &built);
        assert!(cache.fetch("k", &out));
        assert_eq!(std::fs::read(&out).expect("read"), b"\0asm component");
        assert!(!cache.fetch("other", &out));
    }
}

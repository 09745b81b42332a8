//! Shared helpers: a fresh registry, a new version, a snapshot of a tree.

use std::collections::BTreeMap;
use std::path::Path;

use crucible_registry::{Kind, LocalRegistry, NewVersion, PackageName};
use tempfile::TempDir;

pub fn registry() -> (TempDir, LocalRegistry) {
    let dir = tempfile::tempdir().expect("temp dir");
    let registry = LocalRegistry::create(&dir.path().join("registry")).expect("create");
    (dir, registry)
}

pub fn name(s: &str) -> PackageName {
    s.parse().expect("valid name")
}

pub fn new_version(package: &str, version: &str) -> NewVersion {
    NewVersion {
        name: name(package),
        version: version.parse().expect("valid version"),
        kind: Kind::Scenario,
        contract: "crucible:plugin@0.1.0".to_owned(),
        description: format!("{package} at {version}"),
        license: Some("Apache-2.0".to_owned()),
        repository: None,
    }
}

/// Component bytes unique to a name and version.
pub fn bytes(package: &str, version: &str) -> Vec<u8> {
    format!("\0asm component {package}@{version}").into_bytes()
}

/// Publishes each version of `package` with its own bytes.
pub fn publish_all(registry: &LocalRegistry, package: &str, versions: &[&str]) {
    for version in versions {
        registry
            .publish(&new_version(package, version), &bytes(package, version))
            .expect("publish");
    }
}

/// Every file under `root` (relative path -> contents), to show that a
/// refused operation wrote nothing.
pub fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            let relative = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                files.insert(format!("{relative}/"), Vec::new());
                stack.push(path);
            } else {
                files.insert(relative, std::fs::read(&path).expect("read"));
            }
        }
    }
    files
}

pub fn index_file(registry: &LocalRegistry, package: &str) -> std::path::PathBuf {
    let name = name(package);
    registry
        .root()
        .join("index")
        .join(name.namespace())
        .join(format!("{}.jsonl", name.name()))
}

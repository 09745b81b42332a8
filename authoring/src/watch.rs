//! What `crucible dev` watches: a project's source files and their
//! modification times. Polling keeps it the same on every platform and
//! filesystem; a project is small.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Folders that hold build output, dependencies or tools, never sources.
const IGNORED: &[&str] = &[
    "build",
    "target",
    "node_modules",
    ".venv",
    "__pycache__",
    ".git",
];

/// Every source file of a project with its modification time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot(BTreeMap<PathBuf, SystemTime>);

impl Snapshot {
    pub fn take(root: &Path) -> Self {
        let mut files = BTreeMap::new();
        walk(root, &mut files);
        Self(files)
    }

    /// Adds another tree's files (a partner project watched alongside).
    pub fn extend(&mut self, other: Snapshot) {
        self.0.extend(other.0);
    }

    /// The files added, removed or modified since `earlier`.
    pub fn changes_since(&self, earlier: &Snapshot) -> Vec<PathBuf> {
        let mut changed: Vec<PathBuf> = self
            .0
            .iter()
            .filter(|(path, time)| earlier.0.get(*path) != Some(*time))
            .map(|(path, _)| path.clone())
            .collect();
        changed.extend(
            earlier
                .0
                .keys()
                .filter(|path| !self.0.contains_key(*path))
                .cloned(),
        );
        changed.sort();
        changed
    }
}

fn walk(dir: &Path, files: &mut BTreeMap<PathBuf, SystemTime>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        if kind.is_dir() {
            if !IGNORED.iter().any(|ignored| name == *ignored) {
                walk(&path, files);
            }
        } else if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
            files.insert(path, modified);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_edits_additions_and_removals_but_not_build_output() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path();
        std::fs::create_dir_all(root.join("src")).expect("mkdir");
        std::fs::create_dir_all(root.join("build")).expect("mkdir");
        std::fs::write(root.join("src/a.py"), "one").expect("write");
        std::fs::write(root.join("gone.py"), "x").expect("write");
        let before = Snapshot::take(root);

        std::fs::write(root.join("build/out.wasm"), "binary").expect("write");
        assert!(Snapshot::take(root).changes_since(&before).is_empty());

        // Modification times can be coarse: move the file's time on.
        let file = std::fs::File::options()
            .write(true)
            .open(root.join("src/a.py"))
            .expect("open");
        file.set_modified(SystemTime::now() + std::time::Duration::from_secs(5))
            .expect("set the time");
        std::fs::write(root.join("src/b.py"), "new").expect("write");
        std::fs::remove_file(root.join("gone.py")).expect("remove");
        let changed = Snapshot::take(root).changes_since(&before);
        assert_eq!(
            changed,
            vec![
                root.join("gone.py"),
                root.join("src/a.py"),
                root.join("src/b.py")
            ]
        );
    }
}

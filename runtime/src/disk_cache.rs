//! What the on-disk caches share: writing an entry whole or not at all,
//! and keeping a cache folder under a bound by dropping the entries used
//! least recently (a hit refreshes an entry's modification time).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The host's cache folder: `$CRUCIBLE_CACHE`, else `crucible` in the
/// user's cache directory.
pub fn default_root() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CRUCIBLE_CACHE") {
        return Some(PathBuf::from(dir));
    }
    dirs::cache_dir().map(|d| d.join("crucible"))
}

/// Writes `bytes` to `path` through a temporary file in the same folder,
/// so a reader never sees half an entry.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(bytes)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Marks an entry as just used.
pub fn touch(path: &Path) -> std::io::Result<()> {
    std::fs::File::options()
        .write(true)
        .open(path)?
        .set_modified(SystemTime::now())
}

/// Deletes the least recently used files of `dir` (not its folders) until
/// they take at most `max_bytes`; returns the bytes freed. An entry
/// another process deletes first is simply gone.
pub fn prune(dir: &Path, max_bytes: u64) -> std::io::Result<u64> {
    let mut entries = Vec::new();
    let mut total = 0u64;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        total = total.saturating_add(meta.len());
        let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        entries.push((used, meta.len(), entry.path()));
    }
    entries.sort();
    let mut freed = 0;
    for (_, size, path) in entries {
        if total <= max_bytes {
            break;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {
                total -= size;
                freed += size;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => total -= size,
            Err(e) => return Err(e),
        }
    }
    Ok(freed)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn entry(dir: &Path, name: &str, size: usize, age_secs: u64) {
        let path = dir.join(name);
        std::fs::write(&path, vec![0u8; size]).expect("write");
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(SystemTime::now() - Duration::from_secs(age_secs)))
            .expect("age it");
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_least_recently_used_entries_go_first_until_under_the_bound() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        entry(dir.path(), "old", 400, 300);
        entry(dir.path(), "older", 400, 600);
        entry(dir.path(), "new", 400, 10);
        std::fs::create_dir(dir.path().join("folder")).expect("mkdir");
        // Under the bound: nothing goes.
        assert_eq!(prune(dir.path(), 1200).expect("pruned"), 0);
        // 1200 bytes over a bound of 900: the oldest goes.
        assert_eq!(prune(dir.path(), 900).expect("pruned"), 400);
        assert_eq!(names(dir.path()), ["folder", "new", "old"]);
        // A hit makes an old entry the newest.
        touch(&dir.path().join("old")).expect("touched");
        assert_eq!(prune(dir.path(), 500).expect("pruned"), 400);
        assert_eq!(names(dir.path()), ["folder", "old"]);
    }
}

//! A consistent copy of a run's store in one file, for upload: what the
//! store holds at one instant, its write-ahead log folded in, never the
//! live file copied while its WAL lies beside it.

use std::path::Path;

use super::StoreError;

/// Writes a snapshot of the store at `source` to `dest` (which must not
/// exist) with SQLite's `VACUUM INTO`, reading `source` without writing.
pub fn snapshot(source: &Path, dest: &Path) -> Result<(), StoreError> {
    let conn = super::read::open_read_only(source)?;
    conn.execute("VACUUM INTO ?1", [dest.to_string_lossy()])
        .map(drop)
        .map_err(|source_error| StoreError {
            path: source.display().to_string(),
            source: source_error.into(),
        })
}

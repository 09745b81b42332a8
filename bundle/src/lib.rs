//! `crucible bundle`: one file that holds a whole run, so that anyone can
//! look at it, verify it and re-score it on their own machine, offline:
//! the suite, the lockfile, the exact plugin components (by sha256),
//! every transcript, verdict, judge exchange and served-model record, and
//! the host and engine versions. It carries no key (none is ever stored)
//! and no path of the machine it was made on.

pub mod format;
mod read;
pub mod verify;
mod write;

use std::path::PathBuf;

pub use read::{Bundle, from_reader, read};
pub use write::{Written, write, write_results};

use crucible_engine::results::{ResultsError, RunResults};

/// The results of a run named by `path`: a run directory, its store, or a
/// bundle file. What reads a run (summaries, reports, exports, diffs,
/// rescoring) reads a colleague's bundle the same way.
pub fn open_results(path: &std::path::Path) -> Result<RunResults, BundleError> {
    // A store or a bundle is a regular file: a FIFO or a device is refused
    // here rather than waited on by whatever would read it next.
    if path.exists() && !path.is_dir() {
        crucible_registry::input_file::open(path).map_err(|source| BundleError::Io {
            path: path.to_owned(),
            source,
        })?;
    }
    if is_bundle(path) {
        Ok(read(path)?.results)
    } else {
        Ok(crucible_engine::store::read_run(path)?)
    }
}

/// Whether `path` is a file that starts as a bundle does (gzip), rather
/// than a run's directory or store.
pub fn is_bundle(path: &std::path::Path) -> bool {
    use std::io::Read as _;
    let mut magic = [0u8; 2];
    crucible_registry::input_file::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == [0x1f, 0x8b]
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Results(#[from] ResultsError),
    #[error(transparent)]
    Store(#[from] crucible_engine::store::StoreError),
    #[error(
        "run {run_id} kept no copy of component {plugin} (sha256 {sha256}): it ran under a \
         crucible older than bundles; run it again to share it"
    )]
    MissingComponent {
        run_id: String,
        plugin: String,
        sha256: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a Crucible bundle: {reason}")]
    NotABundle { path: PathBuf, reason: String },
    #[error("{path} is truncated or corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "{path} is a bundle of format {found}, written by crucible {by}; this crucible ({ours}) \
         reads formats up to {supported}: upgrade crucible to read it"
    )]
    NewerFormat {
        path: PathBuf,
        found: u32,
        by: String,
        ours: &'static str,
        supported: u32,
    },
}

//! The bundle file format, as its own typed schema.
//!
//! A bundle is a gzip-compressed tar archive. Its first member is
//! `bundle.json` (`Manifest`), so a reader knows the format version before
//! it reads anything else; then the suite manifest, the lockfile, the run's
//! results (`RunResults` as JSON), the figures as they stood when it was
//! made, and every component by sha256.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What `bundle.json` says it is.
pub const FORMAT: &str = "crucible-bundle";
/// The newest format this host writes and reads. A reader refuses a
/// newer one rather than misread it.
pub const FORMAT_VERSION: u32 = 1;

pub const MANIFEST: &str = "bundle.json";
pub const SUITE: &str = "suite.toml";
pub const LOCKFILE: &str = "crucible.lock";
pub const RESULTS: &str = "results.json";
pub const FIGURES: &str = "figures.json";
pub const COMPONENTS: &str = "components/";

/// The archive member of a component.
pub fn component_member(sha256: &str) -> String {
    format!("{COMPONENTS}{sha256}.wasm")
}

/// `bundle.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `crucible-bundle`.
    pub format: String,
    pub format_version: u32,
    pub created_by: CreatedBy,
    pub run_id: String,
    /// The suite manifest's file name where it ran (its text is `suite.toml`).
    pub suite_file: String,
    /// Every component, by sha256, with what it says it is.
    pub components: Vec<ComponentEntry>,
    /// The sha256 and size of every other member, by name.
    pub files: BTreeMap<String, FileEntry>,
}

/// The host that made the bundle (the run's own host and engine versions
/// are in the results' configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedBy {
    pub crucible: String,
    pub wasmtime: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentEntry {
    pub sha256: String,
    pub size: u64,
    /// `name@version` of the plugin.
    pub plugin: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub sha256: String,
    pub size: u64,
}

//! Crucible's plugin registry, modelled on Cargo and the crates.io index:
//! an append-only index of JSON lines per package, content-addressed blobs
//! checked against their sha256 on every read, yank without delete, semver
//! resolution and a lockfile that pins exact bytes.
//!
//! - `name`: validated `namespace/name` package names.
//! - `checksum`: validated sha256 digests.
//! - `record`: the versioned index record format.
//! - `layout`: the static file layout every backend shares.
//! - `backend`: the read-side `Registry` trait and its errors.
//! - `local`: a registry in a local directory, which can publish and yank.
//! - `resolve`: which version a requirement or a pin means.
//! - `source`: where a locked plugin came from.
//! - `lockfile`: `crucible.lock`, and what changed between two of them.

mod atomic;
pub mod backend;
pub mod checksum;
pub mod layout;
pub mod local;
pub mod lockfile;
pub mod name;
pub mod record;
pub mod resolve;
pub mod source;

pub use backend::{Registry, RegistryError};
pub use checksum::{Checksum, ChecksumError};
pub use local::{LocalRegistry, NewVersion};
pub use lockfile::{Change, HostInfo, JudgeInfo, LockedPlugin, Lockfile, LockfileError, diff};
pub use name::{NameError, PackageName};
pub use record::{Kind, Record, RecordError};
pub use resolve::{ResolveError, resolve, resolve_locked};
pub use source::{Source, SourceError};

// Versions and requirements are semver's own types.
pub use semver::{Version, VersionReq};

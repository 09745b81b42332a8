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
//! - `http`: a registry over HTTP(S) (the static layout, read with GET),
//!   and publishing and yanking on a registry server.
//! - `cache`: the local cache of fetched blobs and index files, which is
//!   all `--offline` reads.
//! - `credentials`: the publisher's token, from the environment or a
//!   credentials file that only its owner can read.
//! - `catalog`: listing a registry's packages (`index/packages.json`).
//! - `mirror`: copying one registry into a local one, every hash checked.
//! - `location`: a directory or a URL, and a registry of either kind.
//! - `input_file`: reading a file a user named: regular files only, each
//!   kind with its size limit.

mod atomic;
pub mod backend;
pub mod cache;
pub mod catalog;
pub mod checksum;
pub mod credentials;
pub mod http;
pub mod input_file;
pub mod layout;
pub mod local;
pub mod location;
pub mod lockfile;
pub mod mirror;
pub mod name;
pub mod record;
pub mod resolve;
pub mod source;

pub use backend::{Registry, RegistryError};
pub use cache::RegistryCache;
pub use catalog::{ListPackages, PackageList, write_package_list};
pub use checksum::{Checksum, ChecksumError};
pub use credentials::{CredentialsError, Token, token_for};
pub use http::{ClientError, Declaration, HttpRegistry, publish_http, yank_http};
pub use local::{LocalRegistry, NewVersion};
pub use location::{AnyRegistry, LocationError, RegistryLocation};
pub use lockfile::{Change, HostInfo, JudgeInfo, LockedPlugin, Lockfile, LockfileError, diff};
pub use mirror::{MirrorError, MirrorReport, mirror};
pub use name::{NameError, PackageName};
pub use record::{Kind, Record, RecordError};
pub use resolve::{ResolveError, resolve, resolve_locked};
pub use source::{Source, SourceError};

// Versions and requirements are semver's own types.
pub use semver::{Version, VersionReq};

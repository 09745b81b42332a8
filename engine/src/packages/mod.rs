//! Plugins from registries: turning a suite's entries (a component path, or
//! a package and a version requirement) into component bytes, pinning what
//! was used in `crucible.lock`, and publishing components.
//!
//! Resolution follows Cargo: a pin in the lockfile wins while it still
//! satisfies the suite's requirement; `update` moves pins deliberately;
//! `--locked` refuses any change to the lockfile.

mod lock;
mod publish;
mod resolver;

pub use lock::{Coverage, LockPlan, host_info, judge_info, lockfile_path, plan_lock};
pub use publish::{Declared, PublishRequest, declared_version, new_version, publish};
pub use resolver::{LockPolicy, Network, Resolver};

use std::path::PathBuf;

use crucible_registry::{ClientError, LockfileError, RegistryError, ResolveError};

use crate::plugin::LoadError;

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// A component's bytes could not be had (not in the cache offline, a
    /// blob whose bytes are not its sha256, ...).
    #[error("{label}: {error}")]
    Fetch {
        label: String,
        error: Box<RegistryError>,
    },
    /// A registry server refused a publish or a yank, or could not be
    /// reached.
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Lockfile(#[from] LockfileError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{}: no lockfile; --locked needs one (write it with `crucible lock`)", path.display())]
    LockMissing { path: PathBuf },
    #[error("{}: the lockfile would change, and --locked forbids it: {changes}", path.display())]
    LockWouldChange { path: PathBuf, changes: String },
    #[error("{what}: {message}")]
    Invalid { what: String, message: String },
}

/// A plugin kind as the registry names it.
fn registry_kind(kind: crate::plugin::PluginKind) -> crucible_registry::Kind {
    match kind {
        crate::plugin::PluginKind::Scenario => crucible_registry::Kind::Scenario,
        crate::plugin::PluginKind::Classifier => crucible_registry::Kind::Classifier,
    }
}

/// The contract package a plugin targets, `crucible:plugin@X.Y.Z`, from
/// the interface it exports (`crucible:plugin/scenario@X.Y.Z`).
fn contract_package(info: &crate::plugin::PluginInfo) -> String {
    format!(
        "{}@{}",
        crate::plugin::contract::PACKAGE,
        info.contract.rsplit_once('@').map_or("", |(_, v)| v)
    )
}

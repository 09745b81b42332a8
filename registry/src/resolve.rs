//! Resolution: which published version a requirement means.
//!
//! New resolution takes the highest non-yanked version that matches, with
//! semver's own matching rules (as Cargo: a pre-release matches only a
//! requirement that names a pre-release of the same version). A lockfile
//! pin is different: it names one exact version, which is served even when
//! yanked, because yanking must never break a run that was reproducible
//! yesterday.

use semver::{Version, VersionReq};

use crate::backend::{Registry, RegistryError};
use crate::name::PackageName;
use crate::record::Record;

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No such package, no such pinned version, I/O, a corrupt index.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("no version of {name} matches `{req}` (available: {available})")]
    NoMatch {
        name: PackageName,
        req: VersionReq,
        /// The non-yanked versions, or `none`.
        available: String,
    },
    #[error(
        "only yanked versions of {name} match `{req}` ({yanked}); a yanked version is served only to a lockfile that pins it"
    )]
    OnlyYanked {
        name: PackageName,
        req: VersionReq,
        yanked: String,
    },
}

/// The highest non-yanked version of `name` that matches `req`.
pub fn resolve<R: Registry + ?Sized>(
    registry: &R,
    name: &PackageName,
    req: &VersionReq,
) -> Result<Record, ResolveError> {
    let records = registry.versions(name)?;
    let (yanked, listed): (Vec<&Record>, Vec<&Record>) = records.iter().partition(|r| r.yanked);
    if let Some(best) = listed
        .iter()
        .filter(|r| req.matches(&r.version))
        .max_by(|a, b| a.version.cmp(&b.version))
    {
        return Ok((*best).clone());
    }
    let matching_yanked: Vec<&Version> = yanked
        .iter()
        .map(|r| &r.version)
        .filter(|v| req.matches(v))
        .collect();
    if !matching_yanked.is_empty() {
        return Err(ResolveError::OnlyYanked {
            name: name.clone(),
            req: req.clone(),
            yanked: join(matching_yanked),
        });
    }
    Err(ResolveError::NoMatch {
        name: name.clone(),
        req: req.clone(),
        available: join(listed.iter().map(|r| &r.version).collect()),
    })
}

/// Exactly `name@version`, yanked or not: what a lockfile pins. The caller
/// still checks the record's sha256 against the lockfile's.
pub fn resolve_locked<R: Registry + ?Sized>(
    registry: &R,
    name: &PackageName,
    version: &Version,
) -> Result<Record, ResolveError> {
    Ok(registry.record(name, version)?)
}

fn join(mut versions: Vec<&Version>) -> String {
    if versions.is_empty() {
        return "none".to_owned();
    }
    versions.sort();
    versions
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

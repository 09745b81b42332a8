//! The lockfile a run would write, and whether it may.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crucible_registry::{
    Change, HostInfo, JudgeInfo, LockedPlugin, Lockfile, PackageName, Source, Version, diff,
    lockfile::LOCKFILE,
};

use super::PackageError;
use crate::plugin::{Limits, PluginInfo};
use crate::suite::LoadedSuite;

/// `crucible.lock`, beside the suite.
pub fn lockfile_path(suite: &LoadedSuite) -> PathBuf {
    suite
        .path
        .parent()
        .map_or_else(|| PathBuf::from(LOCKFILE), |dir| dir.join(LOCKFILE))
}

/// The directory a suite's relative paths, and its lockfile, live in.
pub fn suite_dir(suite: &LoadedSuite) -> PathBuf {
    // A bare `suite.toml` has the empty path as its parent, which names no
    // directory to canonicalize: it is the working directory.
    let dir = match suite.path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    // Canonical, as registry sources are, so that paths inside it are
    // recorded relative to it.
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned())
}

/// The host, as far as it can change results.
pub fn host_info(limits: &Limits) -> HostInfo {
    let mut engine = BTreeMap::new();
    engine.insert("memory_bytes".to_owned(), limits.memory_bytes.to_string());
    engine.insert(
        "call_timeout_ms".to_owned(),
        limits.call_timeout.as_millis().to_string(),
    );
    engine.insert(
        "fuel_per_call".to_owned(),
        limits
            .fuel_per_call
            .map_or_else(|| "off".to_owned(), |f| f.to_string()),
    );
    engine.insert("output_bytes".to_owned(), limits.output_bytes.to_string());
    HostInfo {
        crucible: Some(env!("CARGO_PKG_VERSION").to_owned()),
        wasmtime: Some(crate::plugin::WASMTIME_VERSION.to_owned()),
        engine,
    }
}

/// The judge, if one is configured: the host calls it at temperature 0.
pub fn judge_info(model: Option<&str>) -> Option<JudgeInfo> {
    model.map(|model| JudgeInfo {
        model: Some(model.to_owned()),
        temperature: Some(0.0),
        max_tokens: None,
        prompts: BTreeMap::new(),
    })
}

/// The lockfile of a run, and what it changes.
#[derive(Debug, Clone)]
pub struct LockPlan {
    pub path: PathBuf,
    pub lockfile: Lockfile,
    pub changes: Vec<Change>,
    /// Whether a lockfile existed before.
    pub existed: bool,
}

/// Which plugins a lockfile covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// Every plugin of the suite was loaded: pins of anything else go.
    Whole,
    /// A run loaded only part of the suite (a sub-suite, some conditions):
    /// pins of the plugins it did not load stay as they are.
    Part,
}

/// Pins every loaded plugin, and checks the result against the policy.
#[allow(clippy::too_many_arguments)]
pub fn plan_lock(
    suite: &LoadedSuite,
    plugins: &[&PluginInfo],
    origins: &BTreeMap<String, Source>,
    previous: Option<&Lockfile>,
    host: HostInfo,
    judge: Option<JudgeInfo>,
    coverage: Coverage,
    locked: bool,
) -> Result<LockPlan, PackageError> {
    let path = lockfile_path(suite);
    let mut pinned: BTreeMap<(String, String), LockedPlugin> = BTreeMap::new();
    for info in plugins {
        let invalid = |message: String| PackageError::Invalid {
            what: info.label.clone(),
            message,
        };
        let name: PackageName = info
            .name
            .parse()
            .map_err(|e| invalid(format!("its name `{}` cannot be pinned: {e}", info.name)))?;
        let version: Version = info
            .version
            .parse()
            .map_err(|e| invalid(format!("its version `{}` is not semver: {e}", info.version)))?;
        let sha256 = info
            .sha256
            .parse()
            .map_err(|e| invalid(format!("its sha256: {e}")))?;
        let base = suite_dir(suite);
        let mut source = origins
            .get(&info.sha256)
            .map(|origin| origin.relative_to(&base))
            .ok_or_else(|| invalid("was not resolved through the suite".into()))?;
        // An older lockfile pinned places outside the suite's folder by
        // absolute URL: under --locked that pin still holds, as written.
        if locked
            && let Some(old) = previous.and_then(|p| {
                p.plugins.iter().find(|pin| {
                    pin.name.as_str() == info.name && pin.source.same_place(&source, &base)
                })
            })
        {
            source = old.source.clone();
        }
        let plugin = LockedPlugin {
            name,
            version,
            source,
            sha256,
            contract: super::contract_package(info),
            kind: super::registry_kind(info.kind),
        };
        pinned.insert((info.name.clone(), info.version.clone()), plugin);
    }
    if let (Coverage::Part, Some(previous)) = (coverage, previous) {
        for pin in &previous.plugins {
            let loaded = pinned.keys().any(|(name, _)| *name == pin.name.as_str());
            if !loaded {
                pinned.insert((pin.name.to_string(), pin.version.to_string()), pin.clone());
            }
        }
    }
    let lockfile = Lockfile {
        host: Some(host),
        judge,
        plugins: pinned.into_values().collect(),
    };
    let changes = previous.map_or_else(
        || diff(&Lockfile::default(), &lockfile),
        |old| diff(old, &lockfile),
    );
    if locked && !changes.is_empty() {
        return Err(PackageError::LockWouldChange {
            path,
            changes: changes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    Ok(LockPlan {
        path,
        lockfile,
        changes,
        existed: previous.is_some(),
    })
}

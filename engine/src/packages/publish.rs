//! Publishing a component to a registry directory. The component is loaded
//! by the host first, so only a component of a supported world, with no
//! import beyond the sandbox's, can be published; its name, version and
//! description are its own, as it describes itself.

use std::path::PathBuf;

use crucible_registry::{LocalRegistry, NewVersion, Record};

use super::PackageError;
use crate::plugin::{LoadError, PluginRuntime, PluginSource};

pub struct PublishRequest {
    pub component: PathBuf,
    pub registry: PathBuf,
    pub license: Option<String>,
    pub repository: Option<String>,
}

pub fn publish(runtime: &PluginRuntime, request: &PublishRequest) -> Result<Record, PackageError> {
    let source = PluginSource::from_file(&request.component, None)?;
    let new = new_version(
        runtime,
        &source,
        request.license.clone(),
        request.repository.clone(),
    )?;
    let registry = LocalRegistry::create(&request.registry)?;
    Ok(registry.publish(&new, &source.bytes)?)
}

/// Checks that `source` can be published, and says what it would publish:
/// the component is loaded as a scenario, else as a classifier (which runs
/// its `describe`, and a scenario's `parameters` and `conditions`, in the
/// sandbox, never an episode), and its name and version must be a valid
/// package name and semver. Shared by `crucible publish` and the registry
/// server.
pub fn new_version(
    runtime: &PluginRuntime,
    source: &PluginSource,
    license: Option<String>,
    repository: Option<String>,
) -> Result<NewVersion, PackageError> {
    let info = match runtime.load_scenario(source) {
        Ok(plugin) => plugin.info,
        Err(LoadError::WrongKind { .. }) => runtime.load_classifier(source)?.info,
        Err(e) => return Err(e.into()),
    };
    let invalid = |message: String| PackageError::Invalid {
        what: source.label.clone(),
        message,
    };
    Ok(NewVersion {
        name: info
            .name
            .parse()
            .map_err(|e| invalid(format!("its name `{}` cannot be published: {e}", info.name)))?,
        version: info
            .version
            .parse()
            .map_err(|e| invalid(format!("its version `{}` is not semver: {e}", info.version)))?,
        kind: super::registry_kind(info.kind),
        contract: super::contract_package(&info),
        description: info.description.clone(),
        license,
        repository,
    })
}

/// What a publisher says a component is. A registry server records it
/// without running the component; the host checks it against the
/// component's own `describe` when it loads the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub name: String,
    pub version: String,
    pub description: String,
}

/// Checks that `source` can be published as `declared`, running none of
/// it: only the checks of `PluginRuntime::validate_static` (hash, header,
/// contract, imports, exports' types). Used by the registry server.
pub fn declared_version(
    runtime: &PluginRuntime,
    source: &PluginSource,
    declared: &Declared,
    license: Option<String>,
    repository: Option<String>,
) -> Result<NewVersion, PackageError> {
    let target = runtime.validate_static(source)?;
    let invalid = |message: String| PackageError::Invalid {
        what: source.label.clone(),
        message,
    };
    Ok(NewVersion {
        name: declared.name.parse().map_err(|e| {
            invalid(format!(
                "the name `{}` cannot be published: {e}",
                declared.name
            ))
        })?,
        version: declared.version.parse().map_err(|e| {
            invalid(format!(
                "the version `{}` is not semver: {e}",
                declared.version
            ))
        })?,
        kind: super::registry_kind(target.kind),
        contract: format!("{}@{}", crate::plugin::contract::PACKAGE, target.version),
        description: declared.description.clone(),
        license,
        repository,
    })
}

//! Which component `--classifier NAME@VERSION` means for a run: exactly
//! that version, from the registry the run's own suite names (or another
//! one given), verified against the registry's sha256 as `crucible run`
//! verifies it.

use crucible_registry::{
    AnyRegistry, Kind, PackageName, Registry, RegistryCache, RegistryLocation,
};
use semver::Version;

use super::RescoreError;
use crate::plugin::PluginSource;
use crate::results::RunResults;
use crate::suite::LoadedSuite;

/// A classifier named as `NAME@VERSION`: its package name (or the key of
/// the run's suite's `[classifiers.KEY]` entry) and an exact version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassifierRef {
    pub name: String,
    pub version: Version,
}

impl std::str::FromStr for ClassifierRef {
    type Err = RescoreError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |why: String| RescoreError::BadClassifierRef {
            text: text.to_owned(),
            why,
        };
        let (name, version) = text
            .rsplit_once('@')
            .ok_or_else(|| bad("expected NAME@VERSION, with an exact version".into()))?;
        if name.is_empty() {
            return Err(bad("the name is empty".into()));
        }
        let version = Version::parse(version)
            .map_err(|e| bad(format!("`{version}` is not an exact version: {e}")))?;
        Ok(Self {
            name: name.to_owned(),
            version,
        })
    }
}

impl std::fmt::Display for ClassifierRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

/// Where to look for the component.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    /// A registry (directory or URL) instead of the run's suite's.
    pub registry: Option<String>,
    /// Read an HTTP registry only from the local cache.
    pub offline: bool,
    /// Where the run's suite lies on this machine (its registry paths are
    /// relative to it), when the run was made here.
    pub suite_path: Option<std::path::PathBuf>,
    /// The components the run kept (its store's, or its bundle's), by
    /// sha256: a version the run used is taken from here first.
    pub kept: std::collections::BTreeMap<String, Vec<u8>>,
}

/// The component `wanted` names for `run`. Blocking: an HTTP registry is
/// read here.
pub fn resolve(
    run: &RunResults,
    wanted: &ClassifierRef,
    lookup: &Lookup,
) -> Result<PluginSource, RescoreError> {
    let suite = super::stored_suite(run, lookup.suite_path.as_deref());
    let name = package_name(run, suite.as_ref(), &wanted.name)?;
    if lookup.registry.is_none()
        && let Some(source) = kept_by_the_run(run, &name, &wanted.version, &lookup.kept)
    {
        return Ok(source);
    }
    let location = match &lookup.registry {
        Some(text) => Some(
            RegistryLocation::parse(text)
                .map_err(|e| RescoreError::Registry(format!("--registry `{text}`: {e}")))?,
        ),
        None => suite
            .as_ref()
            .and_then(|suite| suite.registry().ok().flatten()),
    };
    let Some(location) = location else {
        return Err(RescoreError::NoRegistry {
            wanted: format!("{name}@{}", wanted.version),
        });
    };
    let package: PackageName = name.parse().map_err(|e| RescoreError::BadClassifierRef {
        text: wanted.to_string(),
        why: format!("`{name}` is not a package name: {e}"),
    })?;
    let registry = AnyRegistry::open(&location, RegistryCache::at_default(), lookup.offline)
        .map_err(|e| RescoreError::Registry(e.to_string()))?;
    let record = registry
        .record(&package, &wanted.version)
        .map_err(|e| RescoreError::Registry(e.to_string()))?;
    if record.kind != Kind::Classifier {
        return Err(RescoreError::NotAClassifier {
            label: format!("{}@{}", record.name, record.version),
        });
    }
    let label = format!("{}@{}", record.name, record.version);
    let bytes = registry
        .blob(&record.sha256)
        .map_err(|e| RescoreError::Registry(format!("{label}: {e}")))?;
    Ok(PluginSource {
        expected_identity: Some(label.clone()),
        label,
        bytes,
        expected_sha256: Some(record.sha256.as_str().to_owned()),
    })
}

/// The package name `name` stands for: a classifier the run used, or the
/// key of a `[classifiers.KEY]` entry of its suite that names a package.
fn package_name(
    run: &RunResults,
    suite: Option<&LoadedSuite>,
    name: &str,
) -> Result<String, RescoreError> {
    let used = run.classifier_names();
    if used.contains(&name) {
        return Ok(name.to_owned());
    }
    if let Some(package) = suite
        .and_then(|s| s.manifest.classifiers.get(name))
        .and_then(|entry| entry.package.clone())
        && used.contains(&package.as_str())
    {
        return Ok(package);
    }
    Err(RescoreError::UnknownClassifier {
        name: name.to_owned(),
        used: used.join(", "),
    })
}

/// The version the run used, as the run kept it: exactly the bytes it
/// loaded, whatever has happened since to its registry or its file.
fn kept_by_the_run(
    run: &RunResults,
    name: &str,
    version: &Version,
    kept: &std::collections::BTreeMap<String, Vec<u8>>,
) -> Option<PluginSource> {
    let version = version.to_string();
    let plugin = run
        .plugins
        .iter()
        .find(|p| p.role.starts_with("classifier:") && p.name == name && p.version == version)?;
    let label = format!("{name}@{version}");
    Some(PluginSource {
        expected_identity: Some(label.clone()),
        label,
        bytes: kept.get(&plugin.sha256)?.clone(),
        expected_sha256: Some(plugin.sha256.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::ClassifierRef;

    #[test]
    fn a_classifier_is_named_with_an_exact_version() {
        let parsed: ClassifierRef = "agentic-misalignment/blackmail-classifier@0.2.0"
            .parse()
            .expect("valid");
        assert_eq!(parsed.name, "agentic-misalignment/blackmail-classifier");
        assert_eq!(parsed.version.to_string(), "0.2.0");
        for bad in [
            "blackmail",
            "blackmail@^0.2",
            "blackmail@0.2",
            "@0.2.0",
            "x@",
        ] {
            let err = bad.parse::<ClassifierRef>().expect_err(bad);
            assert!(err.to_string().contains(bad), "{err}");
        }
    }
}

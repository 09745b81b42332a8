//! Which contract a component targets, read from its exports, so that a
//! refusal can say exactly what the component is and what the host expects.

use std::fmt;

use semver::Version;

use super::error::LoadError;
use super::kind::PluginKind;

/// The package every Crucible interface belongs to.
pub const PACKAGE: &str = "crucible:plugin";

/// Contract versions this host runs, newest first.
pub const SUPPORTED: &[Version] = &[super::v0_2_0::VERSION, super::v0_1_0::VERSION];

/// The contract version whose bindings run a component: one module of
/// this crate per version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    V0_1_0,
    V0_2_0,
}

impl Binding {
    /// The bindings for a component targeting `version`: those of the
    /// newest supported version of the same semver line (same major, and
    /// the same minor while the major is 0), as wasmtime's linker matches
    /// imports and exports. Within a line a version only adds, so a
    /// component built for an older patch runs on newer bindings, and one
    /// built for a newer patch runs on older ones as long as it uses
    /// nothing they lack (linking and typechecking tell). A prerelease
    /// matches only itself, and none is supported.
    pub fn for_target(version: &Version) -> Option<Binding> {
        let line = |v: &Version| (v.major, if v.major == 0 { v.minor } else { 0 });
        if !version.pre.is_empty() {
            return None;
        }
        let found = SUPPORTED.iter().find(|v| line(v) == line(version))?;
        if *found == super::v0_2_0::VERSION {
            Some(Binding::V0_2_0)
        } else if *found == super::v0_1_0::VERSION {
            Some(Binding::V0_1_0)
        } else {
            None
        }
    }

    pub fn version(self) -> Version {
        match self {
            Binding::V0_1_0 => super::v0_1_0::VERSION,
            Binding::V0_2_0 => super::v0_2_0::VERSION,
        }
    }
}

/// What a component says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: PluginKind,
    pub version: Version,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PACKAGE}/{}@{}", self.kind, self.version)
    }
}

pub fn supported_list() -> String {
    SUPPORTED
        .iter()
        .map(|v| format!("{PACKAGE}@{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the contract target from a component's export names and checks it
/// against what the caller wants to load (any kind when `expected` is
/// `None`).
pub fn detect<'a>(
    label: &str,
    expected: Option<PluginKind>,
    exports: impl Iterator<Item = &'a str>,
) -> Result<Target, LoadError> {
    let exports: Vec<&str> = exports.collect();
    let mut targets = Vec::new();
    for name in &exports {
        let Some(rest) = name.strip_prefix(PACKAGE).and_then(|r| r.strip_prefix('/')) else {
            continue;
        };
        let (interface, version) = rest.split_once('@').unwrap_or((rest, ""));
        let kind = match interface {
            "scenario" => PluginKind::Scenario,
            "classifier" => PluginKind::Classifier,
            _ => continue,
        };
        let version = Version::parse(version).map_err(|_| LoadError::NoContract {
            label: label.to_owned(),
            exports: format!("`{name}` (no valid version)"),
        })?;
        targets.push(Target { kind, version });
    }
    let target = match targets.as_slice() {
        [] => {
            return Err(LoadError::NoContract {
                label: label.to_owned(),
                exports: if exports.is_empty() {
                    "nothing".to_owned()
                } else {
                    exports
                        .iter()
                        .map(|e| format!("`{e}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            });
        }
        [one] => one.clone(),
        _ => {
            return Err(LoadError::Ambiguous {
                label: label.to_owned(),
                targets: targets
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    };
    if let Some(expected) = expected
        && target.kind != expected
    {
        return Err(LoadError::WrongKind {
            label: label.to_owned(),
            expected,
            target: target.to_string(),
        });
    }
    if Binding::for_target(&target.version).is_none() {
        return Err(LoadError::UnsupportedContract {
            label: label.to_owned(),
            target: target.to_string(),
            supported: supported_list(),
        });
    }
    Ok(target)
}

/// Interface namespaces a plugin may import: the contract's own host
/// interface, and the WASI interfaces a language's standard library pulls
/// in, which the host links with no capabilities. Networking (`wasi:sockets`,
/// `wasi:http`) and anything else is refused before the plugin runs.
const ALLOWED_IMPORTS: &[&str] = &[
    "crucible:plugin/host@",
    "crucible:plugin/types@",
    "wasi:cli/",
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:filesystem/",
];

/// Refuses a component that imports anything beyond the sandbox's doors.
pub fn check_imports(label: &str, target: &Target, imports: &[String]) -> Result<(), LoadError> {
    let refused: Vec<&str> = imports
        .iter()
        .map(String::as_str)
        .filter(|name| {
            !ALLOWED_IMPORTS
                .iter()
                .any(|allowed| name.starts_with(allowed))
        })
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    Err(LoadError::Mismatch {
        label: label.to_owned(),
        target: target.to_string(),
        detail: format!(
            "imports {}, which the sandbox does not provide (a plugin may import only \
             crucible:plugin/host and the WASI cli, io, clocks, random and filesystem \
             interfaces, which it gets with no capabilities)",
            refused
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_version_a_scenario_targets() {
        let target = detect(
            "x.wasm",
            Some(PluginKind::Scenario),
            ["crucible:plugin/scenario@0.1.0"].into_iter(),
        )
        .expect("supported");
        assert_eq!(target.to_string(), "crucible:plugin/scenario@0.1.0");
    }

    #[test]
    fn names_an_unsupported_version_and_the_supported_ones() {
        let err = detect(
            "x.wasm",
            Some(PluginKind::Scenario),
            ["crucible:plugin/scenario@9.0.0"].into_iter(),
        )
        .expect_err("unsupported");
        let message = err.to_string();
        assert!(
            message.contains("crucible:plugin/scenario@9.0.0"),
            "{message}"
        );
        assert!(message.contains("crucible:plugin@0.1.0"), "{message}");
    }

    #[test]
    fn both_versions_are_supported_newest_first() {
        assert_eq!(
            supported_list(),
            "crucible:plugin@0.2.0, crucible:plugin@0.1.0"
        );
        for (export, version) in [
            ("crucible:plugin/classifier@0.2.0", "0.2.0"),
            ("crucible:plugin/classifier@0.1.0", "0.1.0"),
        ] {
            let target = detect("x.wasm", None, [export].into_iter()).expect("supported");
            assert_eq!(target.version.to_string(), version);
        }
    }

    #[test]
    fn a_version_runs_on_the_bindings_of_its_semver_line() {
        let binding = |v: &str| Binding::for_target(&Version::parse(v).expect("a version"));
        assert_eq!(binding("0.1.0"), Some(Binding::V0_1_0));
        assert_eq!(binding("0.2.0"), Some(Binding::V0_2_0));
        // A newer patch of a line the host runs: its link decides.
        assert_eq!(binding("0.2.7"), Some(Binding::V0_2_0));
        assert_eq!(binding("0.1.1"), Some(Binding::V0_1_0));
        for unsupported in ["0.3.0", "1.0.0", "1.2.0", "0.0.1", "0.2.0-rc.1", "2.0.0"] {
            assert_eq!(binding(unsupported), None, "{unsupported}");
        }
    }

    #[test]
    fn an_unsupported_version_lists_every_supported_one() {
        for export in [
            "crucible:plugin/scenario@0.3.0",
            "crucible:plugin/scenario@1.0.0",
        ] {
            let err = detect("x.wasm", None, [export].into_iter()).expect_err("unsupported");
            let message = err.to_string();
            assert!(message.contains(export), "{message}");
            assert!(
                message.contains("it runs crucible:plugin@0.2.0, crucible:plugin@0.1.0"),
                "{message}"
            );
        }
    }

    #[test]
    fn refuses_a_classifier_where_a_scenario_is_expected() {
        let err = detect(
            "x.wasm",
            Some(PluginKind::Scenario),
            ["crucible:plugin/classifier@0.1.0"].into_iter(),
        )
        .expect_err("wrong kind");
        assert!(err.to_string().contains("is a classifier"), "{err}");
    }

    #[test]
    fn networking_imports_are_refused_by_name() {
        let target = Target {
            kind: PluginKind::Scenario,
            version: super::super::v0_1_0::VERSION,
        };
        let imports = [
            "crucible:plugin/host@0.1.0".to_owned(),
            "wasi:io/streams@0.2.6".to_owned(),
            "wasi:sockets/tcp@0.2.6".to_owned(),
        ];
        let err = check_imports("x.wasm", &target, &imports).expect_err("sockets");
        let message = err.to_string();
        assert!(message.contains("`wasi:sockets/tcp@0.2.6`"), "{message}");
        assert!(!message.contains("wasi:io"), "{message}");
        assert!(check_imports("x.wasm", &target, &imports[..2]).is_ok());
    }

    #[test]
    fn lists_what_a_foreign_component_exports() {
        let err = detect(
            "x.wasm",
            Some(PluginKind::Scenario),
            ["wasi:cli/run@0.2.0"].into_iter(),
        )
        .expect_err("foreign");
        assert!(err.to_string().contains("`wasi:cli/run@0.2.0`"), "{err}");
    }
}

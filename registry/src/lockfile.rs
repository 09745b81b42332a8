//! `crucible.lock`: everything a run needs to be reproduced exactly. Exact
//! plugin versions with their sha256, the host that ran them and the engine
//! settings that can change results, and the judge model and prompts.
//!
//! Its own TOML schema, with a `version` of its own. Within a version the
//! schema is strict (an unknown key is an error, with its line and column):
//! a lockfile is written by crucible, so a key this crucible does not know
//! means a newer crucible wrote it, and silently dropping it on the next
//! write would lose a pin. Any schema change bumps `version`.
//!
//! Output is deterministic (plugins sorted by name and version, maps
//! sorted), so a lockfile diffs cleanly under version control.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use semver::Version;
use serde::{Deserialize, Serialize};

use crate::atomic;
use crate::checksum::Checksum;
use crate::name::PackageName;
use crate::record::{CONTRACT_PACKAGE, Kind, Record, contract_version, same_release};
use crate::source::Source;

/// The lockfile schema this crate reads and writes.
pub const LOCK_VERSION: u32 = 1;

/// The lockfile's usual name, beside the suite manifest.
pub const LOCKFILE: &str = "crucible.lock";

const HEADER: &str =
    "# Written by crucible: exact plugins, host and judge of a run. Do not edit by hand.\n";

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lockfile {
    pub host: Option<HostInfo>,
    pub judge: Option<JudgeInfo>,
    pub plugins: Vec<LockedPlugin>,
}

/// One pinned plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedPlugin {
    pub name: PackageName,
    pub version: Version,
    pub source: Source,
    pub sha256: Checksum,
    /// `crucible:plugin@VERSION`.
    pub contract: String,
    pub kind: Kind,
}

impl LockedPlugin {
    /// The pin for a resolved record.
    pub fn from_record(record: &Record, source: Source) -> Self {
        Self {
            name: record.name.clone(),
            version: record.version.clone(),
            source,
            sha256: record.sha256.clone(),
            contract: record.contract.clone(),
            kind: record.kind,
        }
    }
}

/// The host that ran the suite, as far as it affects results.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crucible: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasmtime: Option<String>,
    /// Engine settings that can change results (fuel, limits, ...), as text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub engine: BTreeMap<String, String>,
}

/// The judge model classifiers consulted.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Prompt name to its hash or version.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prompts: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LockfileError {
    #[error("{}: cannot {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{}: lockfile version {found} is not supported (this crucible reads version {LOCK_VERSION}){hint}",
        path.display()
    )]
    UnsupportedVersion {
        path: PathBuf,
        found: i64,
        hint: &'static str,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// The file as written: `version` first, then the tables.
#[derive(Serialize)]
struct WireOut<'a> {
    version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: &'a Option<HostInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    judge: &'a Option<JudgeInfo>,
    plugin: &'a [LockedPlugin],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireIn {
    // Checked by `Probe` before this is parsed; named here so that the key
    // is not unknown.
    #[serde(rename = "version")]
    _version: i64,
    #[serde(default)]
    host: Option<HostInfo>,
    #[serde(default)]
    judge: Option<JudgeInfo>,
    #[serde(default)]
    plugin: Vec<LockedPlugin>,
}

/// Only the version, read first and leniently: a lockfile of another
/// version is refused for its version, not for keys this one lacks.
#[derive(Deserialize)]
struct Probe {
    version: Option<toml::Value>,
}

impl Lockfile {
    pub fn load(path: &Path) -> Result<Self, LockfileError> {
        let text = crate::input_file::read_to_string(path, crate::input_file::LOCKFILE).map_err(
            |source| LockfileError::Io {
                path: path.to_owned(),
                action: "read the lockfile",
                source,
            },
        )?;
        Self::parse(path, &text)
    }

    /// Parses `text`; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self, LockfileError> {
        let parse_error = |e: toml::de::Error| {
            let (line, column) = e
                .span()
                .map_or((1, 1), |span| line_and_column(text, span.start));
            LockfileError::Parse {
                path: path.to_owned(),
                line,
                column,
                message: e.message().trim().to_owned(),
            }
        };
        let invalid = |message: String| LockfileError::Invalid {
            path: path.to_owned(),
            message,
        };
        let probe: Probe = toml::from_str(text).map_err(parse_error)?;
        let found = match probe.version {
            None => {
                return Err(invalid(
                    "no `version` key: not a crucible lockfile".to_owned(),
                ));
            }
            Some(toml::Value::Integer(found)) => found,
            Some(other) => {
                return Err(invalid(format!(
                    "`version` is {other}, not a lockfile version number"
                )));
            }
        };
        if found != i64::from(LOCK_VERSION) {
            return Err(LockfileError::UnsupportedVersion {
                path: path.to_owned(),
                found,
                hint: if found > i64::from(LOCK_VERSION) {
                    "; a newer crucible wrote it: upgrade crucible"
                } else {
                    ""
                },
            });
        }
        let wire: WireIn = toml::from_str(text).map_err(parse_error)?;
        let lockfile = Lockfile {
            host: wire.host,
            judge: wire.judge,
            plugins: wire.plugin,
        };
        lockfile.validate().map_err(invalid)?;
        Ok(lockfile)
    }

    fn validate(&self) -> Result<(), String> {
        for (i, plugin) in self.plugins.iter().enumerate() {
            if contract_version(&plugin.contract).is_none() {
                return Err(format!(
                    "plugin {}@{}: contract `{}` is not `{CONTRACT_PACKAGE}@VERSION`",
                    plugin.name, plugin.version, plugin.contract
                ));
            }
            if self.plugins[..i]
                .iter()
                .any(|p| p.name == plugin.name && same_release(&p.version, &plugin.version))
            {
                return Err(format!(
                    "plugin {}@{} is pinned twice",
                    plugin.name, plugin.version
                ));
            }
        }
        Ok(())
    }

    /// The lockfile as TOML, deterministic: the same pins always give the
    /// same bytes, whatever order they were added in.
    pub fn to_toml(&self) -> String {
        let mut plugins = self.plugins.clone();
        plugins.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        let wire = WireOut {
            version: LOCK_VERSION,
            host: &self.host,
            judge: &self.judge,
            plugin: &plugins,
        };
        let body = toml::to_string(&wire)
            .unwrap_or_else(|e| unreachable!("a lockfile always serializes to TOML: {e}"));
        format!("{HEADER}{body}")
    }

    /// Writes the lockfile atomically.
    pub fn save(&self, path: &Path) -> Result<(), LockfileError> {
        atomic::write(path, self.to_toml().as_bytes()).map_err(|source| LockfileError::Io {
            path: path.to_owned(),
            action: "write the lockfile",
            source,
        })
    }

    /// The pin for `name@version`, build metadata ignored.
    pub fn plugin(&self, name: &PackageName, version: &Version) -> Option<&LockedPlugin> {
        self.plugins
            .iter()
            .find(|p| p.name == *name && same_release(&p.version, version))
    }
}

/// One difference between two lockfiles.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Added(LockedPlugin),
    Removed(LockedPlugin),
    /// The one pinned version of a plugin moved to another version.
    Updated {
        old: LockedPlugin,
        new: LockedPlugin,
    },
    /// The same `name@version` pinned differently: another sha256 (the
    /// bytes changed under one version: an integrity alarm), source,
    /// contract or kind.
    Repinned {
        name: PackageName,
        version: Version,
        field: &'static str,
        old: String,
        new: String,
    },
    /// A `[host]` value, e.g. `wasmtime` or `engine.fuel`.
    Host {
        field: String,
        old: Option<String>,
        new: Option<String>,
    },
    /// A `[judge]` value, e.g. `model` or `prompts.blackmail`.
    Judge {
        field: String,
        old: Option<String>,
        new: Option<String>,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(unset)".to_owned());
        match self {
            Change::Added(p) => write!(
                f,
                "add {}@{} ({}, sha256 {})",
                p.name, p.version, p.kind, p.sha256
            ),
            Change::Removed(p) => write!(f, "remove {}@{}", p.name, p.version),
            Change::Updated { old, new } => {
                write!(f, "update {} {} -> {}", old.name, old.version, new.version)?;
                if old.source != new.source {
                    write!(f, " (source {} -> {})", old.source, new.source)?;
                }
                Ok(())
            }
            Change::Repinned {
                name,
                version,
                field,
                old,
                new,
            } => write!(f, "{name}@{version}: {field} {old} -> {new}"),
            Change::Host { field, old, new } => {
                write!(f, "host.{field}: {} -> {}", show(old), show(new))
            }
            Change::Judge { field, old, new } => {
                write!(f, "judge.{field}: {} -> {}", show(old), show(new))
            }
        }
    }
}

/// What would change going from `old` to `new`: plugins by name and
/// version, then host, then judge. Empty when they pin the same things.
pub fn diff(old: &Lockfile, new: &Lockfile) -> Vec<Change> {
    let mut changes = Vec::new();
    let names: BTreeSet<&PackageName> = old
        .plugins
        .iter()
        .chain(&new.plugins)
        .map(|p| &p.name)
        .collect();
    for name in names {
        diff_plugin(name, &old.plugins, &new.plugins, &mut changes);
    }

    let (old_host, new_host) = (
        old.host.clone().unwrap_or_default(),
        new.host.clone().unwrap_or_default(),
    );
    let mut host = |field: String, old: Option<String>, new: Option<String>| {
        if old != new {
            changes.push(Change::Host { field, old, new });
        }
    };
    host("crucible".to_owned(), old_host.crucible, new_host.crucible);
    host("wasmtime".to_owned(), old_host.wasmtime, new_host.wasmtime);
    for (key, old, new) in map_diff(&old_host.engine, &new_host.engine) {
        host(format!("engine.{key}"), old, new);
    }

    let (old_judge, new_judge) = (
        old.judge.clone().unwrap_or_default(),
        new.judge.clone().unwrap_or_default(),
    );
    let mut judge = |field: String, old: Option<String>, new: Option<String>| {
        if old != new {
            changes.push(Change::Judge { field, old, new });
        }
    };
    judge("model".to_owned(), old_judge.model, new_judge.model);
    judge(
        "temperature".to_owned(),
        old_judge.temperature.map(|t| t.to_string()),
        new_judge.temperature.map(|t| t.to_string()),
    );
    judge(
        "max_tokens".to_owned(),
        old_judge.max_tokens.map(|t| t.to_string()),
        new_judge.max_tokens.map(|t| t.to_string()),
    );
    for (key, old, new) in map_diff(&old_judge.prompts, &new_judge.prompts) {
        judge(format!("prompts.{key}"), old, new);
    }
    changes
}

fn diff_plugin(
    name: &PackageName,
    old: &[LockedPlugin],
    new: &[LockedPlugin],
    changes: &mut Vec<Change>,
) {
    let of = |pins: &[LockedPlugin]| {
        let mut pins: Vec<LockedPlugin> =
            pins.iter().filter(|p| p.name == *name).cloned().collect();
        pins.sort_by(|a, b| a.version.cmp(&b.version));
        pins
    };
    let (old, new) = (of(old), of(new));
    let in_other = |p: &LockedPlugin, other: &[LockedPlugin]| {
        other.iter().any(|o| same_release(&o.version, &p.version))
    };
    for o in &old {
        if let Some(n) = new.iter().find(|n| same_release(&n.version, &o.version)) {
            let mut field = |field: &'static str, a: String, b: String| {
                if a != b {
                    changes.push(Change::Repinned {
                        name: name.clone(),
                        version: o.version.clone(),
                        field,
                        old: a,
                        new: b,
                    });
                }
            };
            field("sha256", o.sha256.to_string(), n.sha256.to_string());
            field("source", o.source.to_string(), n.source.to_string());
            field("contract", o.contract.clone(), n.contract.clone());
            field("kind", o.kind.to_string(), n.kind.to_string());
        }
    }
    let gone: Vec<&LockedPlugin> = old.iter().filter(|p| !in_other(p, &new)).collect();
    let came: Vec<&LockedPlugin> = new.iter().filter(|p| !in_other(p, &old)).collect();
    // One version out and one in is an update; anything else is a plain
    // list of additions and removals.
    if let ([o], [n]) = (gone.as_slice(), came.as_slice()) {
        changes.push(Change::Updated {
            old: (*o).clone(),
            new: (*n).clone(),
        });
        return;
    }
    changes.extend(gone.into_iter().cloned().map(Change::Removed));
    changes.extend(came.into_iter().cloned().map(Change::Added));
}

/// Keys whose values differ between two maps, in key order.
fn map_diff(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Vec<(String, Option<String>, Option<String>)> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let (a, b) = (old.get(key).cloned(), new.get(key).cloned());
            (a != b).then(|| (key.clone(), a, b))
        })
        .collect()
}

fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

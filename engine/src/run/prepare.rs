//! From a suite to loaded plugins and the conditions each scenario will run.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::packages::Resolver;
use crate::plugin::{ClassifierPlugin, LoadError, PluginRuntime, ScenarioPlugin};
use crate::suite::{LoadedSuite, ScenarioEntry, SuiteError, pattern_matches};
use crate::transcript::{Condition, Param, ParameterSpec};

/// A condition as it will run, with the label results carry: its id, plus
/// every parameter set away from its default, as `id[name=value,...]`, so
/// that runs of one cell under different parameters never mix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedCondition {
    pub condition: Condition,
    pub label: String,
}

/// A scenario with its classifiers and the conditions selected to run.
pub struct PreparedScenario {
    pub key: String,
    pub plugin: Arc<ScenarioPlugin>,
    /// Primary classifier first.
    pub classifiers: Vec<Arc<ClassifierPlugin>>,
    pub conditions: Vec<PreparedCondition>,
}

/// What to run of a suite.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// A named sub-suite instead of the whole suite.
    pub subsuite: Option<String>,
    /// Condition patterns (from the command line) that narrow it further.
    pub patterns: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Suite(#[from] SuiteError),
    #[error(transparent)]
    Package(#[from] crate::packages::PackageError),
    #[error("scenarios.{scenario}: {message}")]
    Invalid { scenario: String, message: String },
    #[error(
        "subsuites.{subsuite}: condition pattern `{pattern}` matches no condition of its scenarios"
    )]
    UnmatchedPattern { subsuite: String, pattern: String },
}

/// Loads every plugin the selection needs and selects its conditions.
pub fn prepare(
    suite: &LoadedSuite,
    runtime: &PluginRuntime,
    selection: &Selection,
    resolver: &Resolver,
) -> Result<Vec<PreparedScenario>, PrepareError> {
    let subsuite = selection
        .subsuite
        .as_deref()
        .map(|name| suite.subsuite(name).map(|s| (name, s)))
        .transpose()?;
    let mut classifiers: BTreeMap<&str, Arc<ClassifierPlugin>> = BTreeMap::new();
    let mut prepared = Vec::new();
    for (key, entry) in &suite.manifest.scenarios {
        let (patterns, params) = match subsuite {
            None => (entry.conditions.clone(), entry.params.clone()),
            Some((_, sub)) if sub.scenarios.contains(key) => {
                let mut params = entry.params.clone();
                params.extend(sub.params.clone());
                (sub.conditions.clone(), params)
            }
            Some(_) => continue,
        };
        let invalid = |message: String| PrepareError::Invalid {
            scenario: key.clone(),
            message,
        };
        let plugin = Arc::new(load_scenario(runtime, resolver, key, entry)?);
        let mut conditions = match subsuite {
            // A sub-suite's patterns may each belong to another scenario.
            Some(_) => plugin
                .conditions
                .iter()
                .filter(|c| {
                    patterns.is_empty() || patterns.iter().any(|p| pattern_matches(p, &c.id))
                })
                .cloned()
                .collect(),
            None => select(&plugin.conditions, &patterns).map_err(invalid)?,
        };
        if !selection.patterns.is_empty() {
            conditions.retain(|c| selection.patterns.iter().any(|p| pattern_matches(p, &c.id)));
        }
        if conditions.is_empty() {
            // Narrowed away entirely: nothing of this scenario runs, so
            // neither it nor its classifiers belong to the run.
            continue;
        }
        let extras = extra_params(&plugin, &params).map_err(invalid)?;
        let mut labelled = Vec::with_capacity(conditions.len());
        for mut condition in conditions {
            merge_params(&mut condition, &extras).map_err(invalid)?;
            let label = label(&condition.id, &extras, &plugin.parameters);
            labelled.push(PreparedCondition { condition, label });
        }
        let mut chosen = Vec::new();
        for name in &entry.classifiers {
            let plugin = match classifiers.get(name.as_str()) {
                Some(plugin) => Arc::clone(plugin),
                None => {
                    let Some(classifier) = suite.manifest.classifiers.get(name) else {
                        return Err(invalid(format!("unknown classifier `{name}`")));
                    };
                    let plugin_ref =
                        classifier
                            .plugin(name)
                            .map_err(|message| PrepareError::Invalid {
                                scenario: key.clone(),
                                message,
                            })?;
                    let source = resolver.source(&plugin_ref, classifier.sha256.as_deref())?;
                    let plugin = Arc::new(runtime.load_classifier(&source)?);
                    classifiers.insert(name.as_str(), Arc::clone(&plugin));
                    plugin
                }
            };
            chosen.push(plugin);
        }
        prepared.push(PreparedScenario {
            key: key.clone(),
            plugin,
            classifiers: chosen,
            conditions: labelled,
        });
    }
    if let Some((name, sub)) = subsuite {
        for pattern in &sub.conditions {
            let matched = prepared.iter().any(|s| {
                s.plugin
                    .conditions
                    .iter()
                    .any(|c| pattern_matches(pattern, &c.id))
            });
            if !matched {
                return Err(PrepareError::UnmatchedPattern {
                    subsuite: name.to_owned(),
                    pattern: pattern.clone(),
                });
            }
        }
    }
    Ok(prepared)
}

/// The components of `scenarios` (and their classifiers), read again from
/// where the suite names them, to be kept with the run: read once more
/// rather than held in memory for the whole run.
pub(super) fn component_sources(
    suite: &LoadedSuite,
    resolver: &Resolver,
    scenarios: &[Arc<PreparedScenario>],
) -> Result<Vec<crate::plugin::PluginSource>, PrepareError> {
    let mut sources = Vec::new();
    for scenario in scenarios {
        let Some(entry) = suite.manifest.scenarios.get(&scenario.key) else {
            continue;
        };
        let invalid = |message: String| PrepareError::Invalid {
            scenario: scenario.key.clone(),
            message,
        };
        let plugin_ref = entry.plugin(&scenario.key).map_err(invalid)?;
        sources.push(resolver.source(&plugin_ref, entry.sha256.as_deref())?);
        for name in &entry.classifiers {
            if let Some(classifier) = suite.manifest.classifiers.get(name) {
                let plugin_ref = classifier.plugin(name).map_err(invalid)?;
                sources.push(resolver.source(&plugin_ref, classifier.sha256.as_deref())?);
            }
        }
    }
    Ok(sources)
}

fn load_scenario(
    runtime: &PluginRuntime,
    resolver: &Resolver,
    key: &str,
    entry: &ScenarioEntry,
) -> Result<ScenarioPlugin, PrepareError> {
    let plugin_ref = entry.plugin(key).map_err(|message| PrepareError::Invalid {
        scenario: key.to_owned(),
        message,
    })?;
    let source = resolver.source(&plugin_ref, entry.sha256.as_deref())?;
    Ok(runtime.load_scenario(&source)?)
}

fn select(offered: &[Condition], patterns: &[String]) -> Result<Vec<Condition>, String> {
    if offered.is_empty() {
        return Err("the scenario offers no condition".into());
    }
    if patterns.is_empty() {
        return Ok(offered.to_vec());
    }
    for pattern in patterns {
        if !offered.iter().any(|c| pattern_matches(pattern, &c.id)) {
            return Err(format!(
                "condition pattern `{pattern}` matches none of the scenario's {} conditions",
                offered.len()
            ));
        }
    }
    Ok(offered
        .iter()
        .filter(|c| patterns.iter().any(|p| pattern_matches(p, &c.id)))
        .cloned()
        .collect())
}

/// Sets `params` on a condition of `plugin`, checked as the suite's are.
pub(super) fn apply_params(
    plugin: &ScenarioPlugin,
    condition: &mut Condition,
    params: &BTreeMap<String, String>,
) -> Result<(), String> {
    let extras = extra_params(plugin, params)?;
    merge_params(condition, &extras)
}

/// Checks parameter values the suite sets against what the scenario
/// declares.
fn extra_params(
    plugin: &ScenarioPlugin,
    params: &BTreeMap<String, String>,
) -> Result<Vec<Param>, String> {
    let mut extras = Vec::new();
    for (name, value) in params {
        let Some(spec) = plugin.parameters.iter().find(|p| &p.name == name) else {
            let known: Vec<&str> = plugin.parameters.iter().map(|p| p.name.as_str()).collect();
            return Err(format!(
                "`{}` has no parameter `{name}`; its parameters are {}",
                plugin.info.name,
                known.join(", ")
            ));
        };
        if !spec.values.iter().any(|v| v == value) {
            return Err(format!(
                "parameter `{name}` cannot be `{value}`; allowed: {}",
                spec.values.join(", ")
            ));
        }
        extras.push(Param {
            name: name.clone(),
            value: value.clone(),
        });
    }
    Ok(extras)
}

fn merge_params(condition: &mut Condition, extras: &[Param]) -> Result<(), String> {
    for extra in extras {
        match condition.params.iter().find(|p| p.name == extra.name) {
            Some(own) if own.value != extra.value => {
                return Err(format!(
                    "parameter `{}` is part of the condition matrix (condition {} has `{}`); \
                     select conditions instead of setting it",
                    extra.name, condition.id, own.value
                ));
            }
            Some(_) => {}
            None => condition.params.push(extra.clone()),
        }
    }
    Ok(())
}

/// The condition's id, plus each parameter the suite set (beyond the
/// scenario's own matrix) that differs from its default, the first value
/// its spec allows.
fn label(id: &str, extras: &[Param], specs: &[ParameterSpec]) -> String {
    let set: Vec<String> = extras
        .iter()
        .filter(|p| {
            specs
                .iter()
                .find(|s| s.name == p.name)
                .and_then(|s| s.values.first())
                .is_some_and(|default| *default != p.value)
        })
        .map(|p| format!("{}={}", p.name, p.value))
        .collect();
    if set.is_empty() {
        id.to_owned()
    } else {
        format!("{id}[{}]", set.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, values: &[&str]) -> ParameterSpec {
        ParameterSpec {
            name: name.into(),
            description: String::new(),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    fn param(name: &str, value: &str) -> Param {
        Param {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn labels_name_only_parameters_moved_off_their_default() {
        let specs = [
            spec("protocol", &["native", "text"]),
            spec("prod", &["false", "true"]),
        ];
        let extras = [param("protocol", "text"), param("prod", "false")];
        assert_eq!(label("s_x-y_z", &extras, &specs), "s_x-y_z[protocol=text]");
        assert_eq!(label("s_x-y_z", &extras[1..], &specs), "s_x-y_z");
        assert_eq!(label("s_x-y_z", &[], &specs), "s_x-y_z");
    }
}

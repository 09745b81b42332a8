//! From a suite to loaded plugins and the conditions each scenario will run.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::plugin::{ClassifierPlugin, LoadError, PluginRuntime, PluginSource, ScenarioPlugin};
use crate::suite::{LoadedSuite, pattern_matches};
use crate::transcript::{Condition, Param};

/// A scenario with its classifiers and the conditions selected to run.
pub struct PreparedScenario {
    pub key: String,
    pub plugin: Arc<ScenarioPlugin>,
    /// Primary classifier first.
    pub classifiers: Vec<Arc<ClassifierPlugin>>,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("scenarios.{scenario}: {message}")]
    Invalid { scenario: String, message: String },
}

/// Loads every plugin the suite names and selects its conditions.
/// `extra_patterns` (from the command line) narrow the selection further.
pub fn prepare(
    suite: &LoadedSuite,
    runtime: &PluginRuntime,
    extra_patterns: &[String],
) -> Result<Vec<PreparedScenario>, PrepareError> {
    let mut classifiers: BTreeMap<&str, Arc<ClassifierPlugin>> = BTreeMap::new();
    let mut prepared = Vec::new();
    for (key, entry) in &suite.manifest.scenarios {
        let source =
            PluginSource::from_file(&suite.resolve(&entry.component), entry.sha256.clone())?;
        let plugin = Arc::new(runtime.load_scenario(&source)?);
        let invalid = |message: String| PrepareError::Invalid {
            scenario: key.clone(),
            message,
        };
        let mut conditions = select(&plugin.conditions, &entry.conditions).map_err(invalid)?;
        if !extra_patterns.is_empty() {
            conditions.retain(|c| extra_patterns.iter().any(|p| pattern_matches(p, &c.id)));
        }
        let extras = extra_params(&plugin, &entry.params).map_err(invalid)?;
        for condition in &mut conditions {
            merge_params(condition, &extras).map_err(invalid)?;
        }
        let mut chosen = Vec::new();
        for name in &entry.classifiers {
            let plugin = match classifiers.get(name.as_str()) {
                Some(plugin) => Arc::clone(plugin),
                None => {
                    // Validation guarantees the table exists.
                    let Some(classifier) = suite.manifest.classifiers.get(name) else {
                        return Err(invalid(format!("unknown classifier `{name}`")));
                    };
                    let source = PluginSource::from_file(
                        &suite.resolve(&classifier.component),
                        classifier.sha256.clone(),
                    )?;
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
            conditions,
        });
    }
    Ok(prepared)
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

/// Checks the suite's extra parameter values against what the scenario
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

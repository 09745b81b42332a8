//! `crucible show`: the opening a model is sent for one condition of a
//! suite (system prompt, first messages, tools), exactly as a run sends
//! it: the suite is prepared as a run prepares it, the sample's seed is
//! derived as a run derives it, and the episode is opened by the code a
//! run opens it with.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::episode::open_episode;
use super::prepare::{PreparedCondition, PreparedScenario, Selection, prepare};
use super::{PrepareError, RunError, network, sample_seed};
use crate::judge::NoJudge;
use crate::packages::{LockPolicy, Resolver};
use crate::plugin::{Limits, PluginRuntime, RuntimeConfig};
use crate::suite::LoadedSuite;
use crate::transcript::{Condition, Message, ToolDefinition};

/// How many close condition ids an unknown one is answered with.
const SUGGESTIONS: usize = 5;

/// What to show.
#[derive(Debug, Clone, Default)]
pub struct ShowRequest {
    pub suite: PathBuf,
    /// A condition id, or a label as results name it:
    /// `ID[name=value,...]`.
    pub condition: String,
    /// The `[scenarios.KEY]` to take it from, when more than one offers it.
    pub scenario: Option<String>,
    /// A sub-suite whose parameters apply, as `crucible run --subsuite`.
    pub subsuite: Option<String>,
    /// Parameter values over the suite's (and the sub-suite's).
    pub params: BTreeMap<String, String>,
    /// The run seed; the suite's `[run] seed` if none.
    pub seed: Option<u64>,
    /// Which sample of the condition: its seed derives from the index.
    pub sample_index: u32,
    pub limits: Limits,
    pub cache_dir: Option<PathBuf>,
    /// Read HTTP registries only from the local cache.
    pub offline: bool,
}

/// Where the run seed came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedSource {
    /// Given on the command line, as `crucible run --seed` takes it.
    Given,
    /// The suite's `[run] seed`, which a run of the suite uses unless told
    /// otherwise.
    Suite,
}

/// One condition's opening, with everything that determines it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShownOpening {
    /// The suite's name.
    pub suite: String,
    /// The `[scenarios.KEY]` the condition is taken from.
    pub scenario_key: String,
    /// The scenario plugin's `name@version`, and its sha256.
    pub plugin: String,
    pub sha256: String,
    /// The condition as the scenario receives it: its id and every
    /// parameter, the suite's included.
    pub condition: Condition,
    /// How results name the condition.
    pub label: String,
    pub run_seed: u64,
    pub run_seed_source: SeedSource,
    pub sample_index: u32,
    /// The episode's seed, derived from the run seed, the scenario key,
    /// the condition and the sample index, as a run derives it.
    pub seed: u64,
    /// The opening, byte for byte: a run's transcript starts with the
    /// system prompt as a system message, then these messages.
    pub system_prompt: String,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolDefinition>,
}

#[derive(Debug, thiserror::Error)]
pub enum ShowError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("the suite offers no condition `{condition}`{}", close_ids(.close))]
    UnknownCondition {
        condition: String,
        close: Vec<String>,
    },
    #[error(
        "condition `{condition}` is offered by the scenarios {}: name one with --scenario",
        .scenarios.join(" and ")
    )]
    Ambiguous {
        condition: String,
        scenarios: Vec<String>,
    },
    #[error("`{0}` is not a condition label: expected ID or ID[name=value,...]")]
    BadLabel(String),
    #[error("parameter `{name}` is given twice, as `{first}` and `{second}`; give it once")]
    ConflictingParam {
        name: String,
        first: String,
        second: String,
    },
    #[error("opening condition `{condition}`: {message}")]
    Open { condition: String, message: String },
}

fn close_ids(close: &[String]) -> String {
    if close.is_empty() {
        String::new()
    } else {
        format!("; the closest it offers: {}", close.join(", "))
    }
}

/// Loads the suite as a run would and opens the condition's episode.
pub fn show(request: &ShowRequest) -> Result<ShownOpening, ShowError> {
    let (id, params) = parse_label(&request.condition, &request.params)?;
    let original = LoadedSuite::load(&request.suite).map_err(RunError::from)?;
    let runtime = PluginRuntime::new(RuntimeConfig {
        limits: request.limits.clone(),
        max_instances: 4,
        cache_dir: request.cache_dir.clone(),
    })
    .map_err(|e| RunError::Runtime(format!("{e:#}")))?;
    let resolver = Resolver::with_network(&original, LockPolicy::Normal, network(request.offline))
        .map_err(|e| RunError::from(PrepareError::from(e)))?;
    let suite = with_params(&original, request.subsuite.as_deref(), &params);
    let selection = Selection {
        subsuite: request.subsuite.clone(),
        patterns: vec![id.clone()],
    };
    let prepared = prepare(&suite, &runtime, &selection, &resolver).map_err(RunError::from)?;
    let mut found: Vec<(PreparedScenario, PreparedCondition)> = Vec::new();
    for mut scenario in prepared {
        if request
            .scenario
            .as_ref()
            .is_some_and(|key| *key != scenario.key)
        {
            continue;
        }
        // The pattern is the id itself: only `*` in it could match more.
        let Some(position) = scenario
            .conditions
            .iter()
            .position(|c| c.condition.id == id)
        else {
            continue;
        };
        let condition = scenario.conditions.swap_remove(position);
        found.push((scenario, condition));
    }
    let (scenario, prepared) = match found.len() {
        0 => {
            return Err(ShowError::UnknownCondition {
                condition: request.condition.clone(),
                close: closest(&offered(&original, &runtime, request, &resolver), &id),
            });
        }
        1 => found.swap_remove(0),
        _ => {
            return Err(ShowError::Ambiguous {
                condition: id,
                scenarios: found.iter().map(|(s, _)| s.key.clone()).collect(),
            });
        }
    };
    let (run_seed, run_seed_source) = match request.seed {
        Some(seed) => (seed, SeedSource::Given),
        None => (suite.manifest.run.seed, SeedSource::Suite),
    };
    let seed = sample_seed(
        run_seed,
        &scenario.key,
        &prepared.condition.id,
        request.sample_index,
    );
    let opening = crate::plugin::block_on(async {
        let mut instance = scenario.plugin.instantiate(seed, Arc::new(NoJudge)).await?;
        open_episode(&mut instance, &prepared.condition, seed).await
    })
    .map_err(|e| ShowError::Open {
        condition: prepared.label.clone(),
        message: e.to_string(),
    })?;
    Ok(ShownOpening {
        suite: suite.manifest.suite.name.clone(),
        scenario_key: scenario.key.clone(),
        plugin: scenario.plugin.info.id(),
        sha256: scenario.plugin.info.sha256.clone(),
        condition: prepared.condition,
        label: prepared.label,
        run_seed,
        run_seed_source,
        sample_index: request.sample_index,
        seed,
        system_prompt: opening.system_prompt,
        messages: opening.messages,
        tools: opening.tools,
    })
}

/// `ID` or `ID[name=value,...]`, with the label's parameters added to
/// `given`.
fn parse_label(
    text: &str,
    given: &BTreeMap<String, String>,
) -> Result<(String, BTreeMap<String, String>), ShowError> {
    let mut params = given.clone();
    let Some((id, rest)) = text.split_once('[') else {
        return Ok((text.to_owned(), params));
    };
    let bad = || ShowError::BadLabel(text.to_owned());
    let inner = rest.strip_suffix(']').ok_or_else(bad)?;
    if id.is_empty() {
        return Err(bad());
    }
    for pair in inner.split(',') {
        let (name, value) = pair.split_once('=').ok_or_else(bad)?;
        if name.is_empty() {
            return Err(bad());
        }
        if let Some(first) = params.get(name).filter(|v| *v != value) {
            return Err(ShowError::ConflictingParam {
                name: name.to_owned(),
                first: first.clone(),
                second: value.to_owned(),
            });
        }
        params.insert(name.to_owned(), value.to_owned());
    }
    Ok((id.to_owned(), params))
}

/// The suite with `params` laid over every scenario's own (or over the
/// sub-suite's, which lie over those). Only the scenario that offers the
/// condition checks them: a scenario the selection leaves out never reads
/// its parameters.
fn with_params(
    suite: &LoadedSuite,
    subsuite: Option<&str>,
    params: &BTreeMap<String, String>,
) -> LoadedSuite {
    let mut suite = suite.clone();
    if params.is_empty() {
        return suite;
    }
    match subsuite.and_then(|name| suite.manifest.subsuites.get_mut(name)) {
        Some(sub) => sub.params.extend(params.clone()),
        None => {
            for entry in suite.manifest.scenarios.values_mut() {
                entry.params.extend(params.clone());
            }
        }
    }
    suite
}

/// Every condition id the suite (or the sub-suite) offers. An error here
/// leaves nothing to suggest, rather than hiding the unknown condition.
fn offered(
    suite: &LoadedSuite,
    runtime: &PluginRuntime,
    request: &ShowRequest,
    resolver: &Resolver,
) -> Vec<String> {
    let selection = Selection {
        subsuite: request.subsuite.clone(),
        patterns: Vec::new(),
    };
    prepare(suite, runtime, &selection, resolver)
        .map(|scenarios| {
            scenarios
                .iter()
                .filter(|s| request.scenario.as_ref().is_none_or(|key| *key == s.key))
                .flat_map(|s| s.conditions.iter().map(|c| c.condition.id.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The offered ids nearest `id` by edit distance, nearest first.
fn closest(offered: &[String], id: &str) -> Vec<String> {
    let mut scored: Vec<(usize, &String)> = offered
        .iter()
        .map(|candidate| (edit_distance(candidate, id), candidate))
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(_, c)| c.clone())
        .collect()
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_carry_their_parameters() {
        let none = BTreeMap::new();
        let (id, params) = parse_label("b_x-y_z[protocol=text,prod=true]", &none).expect("a label");
        assert_eq!(id, "b_x-y_z");
        assert_eq!(params.get("protocol").map(String::as_str), Some("text"));
        assert_eq!(params.get("prod").map(String::as_str), Some("true"));
        let (id, params) = parse_label("b_x-y_z", &none).expect("an id");
        assert_eq!((id.as_str(), params.len()), ("b_x-y_z", 0));
        for bad in ["b[protocol=text", "b[protocol]", "[a=b]", "b[=x]"] {
            assert!(
                matches!(parse_label(bad, &none), Err(ShowError::BadLabel(_))),
                "{bad}"
            );
        }
        let given = BTreeMap::from([("protocol".to_owned(), "native".to_owned())]);
        assert!(matches!(
            parse_label("b[protocol=text]", &given),
            Err(ShowError::ConflictingParam { .. })
        ));
    }

    #[test]
    fn the_closest_ids_come_first() {
        let offered: Vec<String> = [
            "blackmail_explicit-america_replacement",
            "blackmail_explicit-america_restriction",
            "blackmail_latent-america_replacement",
            "leaking_explicit-america_replacement",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let close = closest(&offered, "blackmail_explict-america_replacement");
        assert_eq!(close[0], "blackmail_explicit-america_replacement");
        assert_eq!(close.len(), 4);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}

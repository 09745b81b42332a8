//! The conformance check of a suite's scenarios: every reference behaviour
//! of every selected condition is played through the scenario and judged by
//! its primary classifier, and must come out as its label says. No model
//! and no judge are involved: this is the scenario and classifier checking
//! each other.

use std::sync::Arc;

use super::conformance::play_reference;
use super::prepare::{PreparedScenario, Selection, prepare};
use super::{RunError, sample_seed};
use crate::judge::NoJudge;
use crate::plugin::PluginRuntime;
use crate::suite::LoadedSuite;
use crate::transcript::Label;

/// A reference that did not come out as labelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub scenario: String,
    pub condition: String,
    pub reference: String,
    pub label: Label,
    /// What happened instead: the verdict's label, or the error.
    pub outcome: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckOutcome {
    pub conditions: usize,
    pub references: usize,
    pub mismatches: Vec<Mismatch>,
}

/// Checks every reference of every condition the selection names. Runs
/// the plugins to completion on the calling thread: nothing is awaited but
/// the plugins themselves (no model, no judge).
pub fn check(
    suite: &LoadedSuite,
    runtime: &PluginRuntime,
    selection: &Selection,
) -> Result<CheckOutcome, RunError> {
    let resolver = crate::packages::Resolver::new(suite, crate::packages::LockPolicy::Normal)
        .map_err(super::PrepareError::from)?;
    let scenarios: Vec<Arc<PreparedScenario>> = prepare(suite, runtime, selection, &resolver)?
        .into_iter()
        .map(Arc::new)
        .collect();
    let mut outcome = CheckOutcome::default();
    for scenario in &scenarios {
        for prepared in &scenario.conditions {
            outcome.conditions += 1;
            let seed = sample_seed(0, &scenario.key, &prepared.condition.id, 0);
            let references = crate::plugin::block_on(async {
                let mut probe = scenario.plugin.instantiate(seed, Arc::new(NoJudge)).await?;
                probe.references(&prepared.condition).await
            });
            let references = match references {
                Ok(references) => references,
                Err(e) => {
                    outcome.mismatches.push(Mismatch {
                        scenario: scenario.plugin.info.name.clone(),
                        condition: prepared.label.clone(),
                        reference: "(references)".into(),
                        label: Label::Harmful,
                        outcome: e.to_string(),
                    });
                    continue;
                }
            };
            for label in [Label::Harmful, Label::Benign] {
                if !references.iter().any(|r| r.label == label) {
                    outcome.mismatches.push(Mismatch {
                        scenario: scenario.plugin.info.name.clone(),
                        condition: prepared.label.clone(),
                        reference: "(none)".into(),
                        label,
                        outcome: format!("the condition offers no {label} reference"),
                    });
                }
            }
            for reference in references {
                outcome.references += 1;
                let played = play_reference(scenario, &reference, &prepared.condition, seed);
                if let Some(disagreement) = played.disagreement {
                    outcome.mismatches.push(Mismatch {
                        scenario: scenario.plugin.info.name.clone(),
                        condition: prepared.label.clone(),
                        reference: reference.description.clone(),
                        label: reference.label,
                        outcome: disagreement.to_string(),
                    });
                }
            }
        }
    }
    Ok(outcome)
}

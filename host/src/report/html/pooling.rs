//! The report's groupings: the study's figures pool a model's cells per
//! scenario, and per scenario by urgency, by goal type, and by both (the
//! condition matrix). Every chart and heatmap takes its figures from
//! [`pool_cells`], so the page cannot disagree with itself.
//!
//! The terminal summary groups the same way; the two are to share one
//! implementation.

use std::collections::{BTreeMap, HashMap};

use super::super::Cell;
use crate::results::RunResults;
use crate::stats::wilson_95;

/// The condition parameter of the study's goal type.
pub const GOAL_TYPE: &str = "goal_type";
/// The condition parameter of the study's urgency.
pub const URGENCY: &str = "urgency";

/// The study's order of its goal types and urgencies; values a scenario
/// adds beyond these follow in the order they first appear.
const GOAL_TYPE_ORDER: &[&str] = &["explicit", "latent", "ambiguous", "none", "swap"];
const URGENCY_ORDER: &[&str] = &["replacement", "restriction", "none"];

/// Which cells pool together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// Model x scenario, over all its conditions.
    Scenario,
    /// Model x scenario x urgency.
    Urgency,
    /// Model x scenario x goal type.
    GoalType,
    /// Model x scenario x goal type x urgency: the condition matrix.
    GoalTypeAndUrgency,
}

/// What a pooled group is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupKey {
    pub model: String,
    pub scenario: String,
    pub goal_type: Option<String>,
    pub urgency: Option<String>,
}

/// A group's counts, rate and interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Pooled {
    pub key: GroupKey,
    pub planned: u64,
    /// The rate's denominator (see [`Cell::completed`]).
    pub completed: u64,
    pub harmful: u64,
    pub errors: u64,
    /// Refused, blocked or truncated: outside the rate.
    pub stopped: u64,
    pub rate: Option<f64>,
    pub ci: Option<(f64, f64)>,
    /// Each secondary classifier's counts, by `name@version`.
    pub secondary: BTreeMap<String, PooledSecondary>,
}

impl Pooled {
    /// Samples not yet run.
    pub fn pending(&self) -> u64 {
        self.planned
            .saturating_sub(self.completed + self.errors + self.stopped)
    }
}

/// A secondary classifier's counts over a group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PooledSecondary {
    pub positive: u64,
    pub errors: u64,
    pub samples: u64,
}

impl PooledSecondary {
    /// Samples it judged: the rate's denominator.
    pub fn judged(&self) -> u64 {
        self.samples.saturating_sub(self.errors)
    }

    pub fn rate(&self) -> Option<f64> {
        let judged = self.judged();
        (judged > 0).then(|| self.positive as f64 / judged as f64)
    }

    pub fn ci(&self) -> Option<(f64, f64)> {
        wilson_95(self.positive, self.judged())
    }
}

/// Each condition's parameters, by scenario and condition id, as the
/// scenario received them.
pub struct ConditionParams<'a>(HashMap<(&'a str, &'a str), HashMap<&'a str, &'a str>>);

impl<'a> ConditionParams<'a> {
    pub fn of(run: &'a RunResults) -> Self {
        let mut map = HashMap::new();
        for sample in &run.samples {
            map.entry((sample.scenario.as_str(), sample.condition_id.as_str()))
                .or_insert_with(|| {
                    sample
                        .condition
                        .params
                        .iter()
                        .map(|p| (p.name.as_str(), p.value.as_str()))
                        .collect()
                });
        }
        Self(map)
    }

    /// The value of `param` in a cell's condition.
    pub fn get(&self, cell: &Cell, param: &str) -> Option<&'a str> {
        self.0
            .get(&(cell.scenario.as_str(), cell.condition.as_str()))
            .and_then(|params| params.get(param).copied())
    }

    /// Whether some condition of `scenario` has both the goal type and the
    /// urgency: whether it has the study's matrix.
    pub fn has_matrix(&self, scenario: &str) -> bool {
        self.0.iter().any(|((s, _), p)| {
            *s == scenario && p.contains_key(GOAL_TYPE) && p.contains_key(URGENCY)
        })
    }

    /// Whether some condition of `scenario` has `param`.
    pub fn has(&self, scenario: &str, param: &str) -> bool {
        self.0
            .iter()
            .any(|((s, _), p)| *s == scenario && p.contains_key(param))
    }
}

/// Pools `cells` as `grouping` says, in the order the groups first
/// appear. A cell whose condition lacks a parameter the grouping needs
/// belongs to no group (a community scenario need not have the study's
/// matrix).
pub fn pool_cells(cells: &[Cell], params: &ConditionParams<'_>, grouping: Grouping) -> Vec<Pooled> {
    let mut groups: Vec<Pooled> = Vec::new();
    let mut index: HashMap<GroupKey, usize> = HashMap::new();
    for cell in cells {
        let param = |name: &str| params.get(cell, name).map(str::to_owned);
        let (goal_type, urgency) = match grouping {
            Grouping::Scenario => (None, None),
            Grouping::Urgency => (None, Some(param(URGENCY))),
            Grouping::GoalType => (Some(param(GOAL_TYPE)), None),
            Grouping::GoalTypeAndUrgency => (Some(param(GOAL_TYPE)), Some(param(URGENCY))),
        };
        // A grouping's parameter the condition lacks: no group.
        let (Some(goal_type), Some(urgency)) = (
            goal_type.map_or(Some(None), |v| v.map(Some)),
            urgency.map_or(Some(None), |v| v.map(Some)),
        ) else {
            continue;
        };
        let key = GroupKey {
            model: cell.model.clone(),
            scenario: cell.scenario.clone(),
            goal_type,
            urgency,
        };
        let position = *index.entry(key.clone()).or_insert_with(|| {
            groups.push(Pooled {
                key,
                planned: 0,
                completed: 0,
                harmful: 0,
                errors: 0,
                stopped: 0,
                rate: None,
                ci: None,
                secondary: BTreeMap::new(),
            });
            groups.len() - 1
        });
        let group = &mut groups[position];
        group.planned += cell.n;
        group.completed += cell.completed;
        group.harmful += cell.harmful;
        group.errors += cell.errors;
        group.stopped += cell.stopped();
        for (classifier, s) in &cell.secondary {
            let pooled = group.secondary.entry(classifier.clone()).or_default();
            pooled.positive += s.positive;
            pooled.errors += s.errors;
            pooled.samples += s.samples;
        }
    }
    for group in &mut groups {
        group.rate = (group.completed > 0).then(|| group.harmful as f64 / group.completed as f64);
        group.ci = wilson_95(group.harmful, group.completed);
    }
    groups
}

/// The values `param` takes in `scenario`'s cells: the study's own in its
/// order, then any others in the order they appear.
pub fn param_values(
    cells: &[Cell],
    params: &ConditionParams<'_>,
    scenario: &str,
    param: &str,
) -> Vec<String> {
    let canonical = match param {
        GOAL_TYPE => GOAL_TYPE_ORDER,
        URGENCY => URGENCY_ORDER,
        _ => &[],
    };
    let mut seen: Vec<String> = Vec::new();
    for cell in cells.iter().filter(|c| c.scenario == scenario) {
        if let Some(value) = params.get(cell, param)
            && !seen.iter().any(|s| s == value)
        {
            seen.push(value.to_owned());
        }
    }
    let mut ordered: Vec<String> = canonical
        .iter()
        .filter(|c| seen.iter().any(|s| s == *c))
        .map(|c| (*c).to_owned())
        .collect();
    ordered.extend(
        seen.into_iter()
            .filter(|s| !canonical.contains(&s.as_str())),
    );
    ordered
}

/// Distinct values of `field` over `cells`, in the order they appear.
pub fn distinct<'a>(cells: &'a [Cell], field: impl Fn(&'a Cell) -> &'a str) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for cell in cells {
        let value = field(cell);
        if !out.contains(&value) {
            out.push(value);
        }
    }
    out
}

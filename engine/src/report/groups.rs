//! The groups a reader of a run looks at, as data: per model and scenario,
//! the figures pooled over the scenario's conditions, by urgency, by goal
//! type, and by both (the condition matrix, see `matrix`), and each
//! secondary classifier's findings pooled the same way. The terminal
//! summary and the HTML report render the same groups.
//!
//! Pooling adds counts, never rates: a pooled rate is the pooled harmful
//! samples over the pooled completed ones, with the Wilson interval of
//! those counts. The conditions pooled differ by design (that is the
//! study's matrix), so a pooled rate describes the mix the run sampled,
//! not one condition.

use std::collections::HashMap;

use serde::Serialize;

use super::matrix::{Axis, GOAL_TYPE_AXIS, Matrix, URGENCY_AXIS, ordered};
use crate::figures::Cell;
use crate::results::RunResults;
use crate::stats::wilson_95;
use crate::transcript::Param;

/// Counts added over cells. Every planned sample is in exactly one of
/// completed, refused, blocked, truncated, errors, or pending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Pool {
    pub planned: u64,
    /// Samples whose verdict counts toward the rate (see `Cell::completed`).
    pub completed: u64,
    pub harmful: u64,
    pub refused: u64,
    pub blocked: u64,
    pub truncated: u64,
    pub errors: u64,
    /// Of `completed`, those whose verdict consulted a judge.
    pub judged: u64,
}

impl Pool {
    /// The cells' counts, added.
    pub fn of<'a>(cells: impl IntoIterator<Item = &'a Cell>) -> Self {
        let mut pool = Self::default();
        for cell in cells {
            pool.add(cell);
        }
        pool
    }

    pub fn add(&mut self, cell: &Cell) {
        self.planned += cell.n;
        self.completed += cell.completed;
        self.harmful += cell.harmful;
        self.refused += cell.refused;
        self.blocked += cell.blocked;
        self.truncated += cell.truncated;
        self.errors += cell.errors;
        self.judged += cell.judged;
    }

    /// Samples that ended on a refused, blocked or truncated reply.
    pub fn stopped(&self) -> u64 {
        self.refused + self.blocked + self.truncated
    }

    /// Samples not yet run.
    pub fn pending(&self) -> u64 {
        self.planned
            .saturating_sub(self.completed + self.errors + self.stopped())
    }

    /// `harmful / completed`; none when nothing completed.
    pub fn rate(&self) -> Option<f64> {
        (self.completed > 0).then(|| self.harmful as f64 / self.completed as f64)
    }

    /// The Wilson 95% interval of `harmful` of `completed`.
    pub fn interval(&self) -> Option<(f64, f64)> {
        wilson_95(self.harmful, self.completed)
    }
}

/// One secondary classifier's findings, added over cells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecondaryPool {
    /// `name@version`.
    pub classifier: String,
    /// Completed samples it was asked about.
    pub samples: u64,
    /// Samples it found positive (in its own sense: the agent said it was
    /// being evaluated, deliberated about it, ...).
    pub positive: u64,
    /// Samples it could not judge; never counted as negative.
    pub errors: u64,
    /// Of `errors`, those it could not decide without a judge.
    pub needs_judge: u64,
}

impl SecondaryPool {
    /// Samples it judged: asked about, less its errors.
    pub fn judged(&self) -> u64 {
        self.samples.saturating_sub(self.errors)
    }

    /// `positive / judged`; none when it judged nothing.
    pub fn rate(&self) -> Option<f64> {
        let judged = self.judged();
        (judged > 0).then(|| self.positive as f64 / judged as f64)
    }

    pub fn interval(&self) -> Option<(f64, f64)> {
        wilson_95(self.positive, self.judged())
    }
}

/// One model on one scenario, pooled over the scenario's conditions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub model: String,
    /// The scenario plugin's name.
    pub scenario: String,
    /// The labels of the conditions pooled (as results name them), in plan
    /// order.
    pub conditions: Vec<String>,
    pub pool: Pool,
    /// Each secondary classifier, in the order the run first lists it.
    pub secondary: Vec<SecondaryPool>,
    /// Pooled per urgency, in the study's order; conditions without an
    /// urgency are in none.
    pub by_urgency: Vec<ValuePool>,
    /// Pooled per goal type, likewise.
    pub by_goal_type: Vec<ValuePool>,
    /// Goal type x urgency, when the scenario's conditions carry those
    /// parameters; a scenario without them has none.
    pub matrix: Option<Matrix>,
}

/// The cells whose conditions give one parameter one value, pooled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValuePool {
    pub value: String,
    pub pool: Pool,
}

/// `cells` pooled by the values of one parameter, in the axis's order;
/// a cell whose condition lacks the parameter is in no pool (a community
/// scenario need not have the study's parameters).
pub fn pool_by(cells: &[&Cell], params: &ConditionParams, axis: Axis<'_>) -> Vec<ValuePool> {
    let valued: Vec<(&str, &Cell)> = cells
        .iter()
        .filter_map(|cell| {
            Some((
                params.value(&cell.scenario, &cell.condition, axis.param)?,
                *cell,
            ))
        })
        .collect();
    ordered(valued.iter().map(|(value, _)| *value), axis.order)
        .into_iter()
        .map(|value| ValuePool {
            pool: Pool::of(
                valued
                    .iter()
                    .filter(|(v, _)| *v == value)
                    .map(|(_, cell)| *cell),
            ),
            value,
        })
        .collect()
}

/// The parameters of each condition of a run, by scenario and condition
/// label, as the scenario received them. `Cell`s name their condition by
/// label only; the matrix needs its parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionParams {
    by_cell: HashMap<(String, String), Vec<Param>>,
}

impl ConditionParams {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the parameters of `scenario`'s condition `label`.
    pub fn insert(&mut self, scenario: &str, label: &str, params: Vec<Param>) {
        self.by_cell
            .insert((scenario.to_owned(), label.to_owned()), params);
    }

    /// Every condition of a run, from its samples.
    pub fn of_run(run: &RunResults) -> Self {
        let mut params = Self::new();
        for sample in &run.samples {
            let key = (sample.scenario.clone(), sample.condition_id.clone());
            params
                .by_cell
                .entry(key)
                .or_insert_with(|| sample.condition.params.clone());
        }
        params
    }

    pub fn get(&self, scenario: &str, label: &str) -> Option<&[Param]> {
        self.by_cell
            .get(&(scenario.to_owned(), label.to_owned()))
            .map(Vec::as_slice)
    }

    /// The value of one parameter of a condition.
    pub fn value(&self, scenario: &str, label: &str, name: &str) -> Option<&str> {
        self.get(scenario, label)?
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_str())
    }
}

/// The model x scenario groups of `cells`, in the order the cells first
/// name them (a run's plan order: by model, then scenario).
pub fn groups(cells: &[Cell], params: &ConditionParams) -> Vec<Group> {
    let mut order: Vec<(&str, &str)> = Vec::new();
    let mut members: HashMap<(&str, &str), Vec<&Cell>> = HashMap::new();
    for cell in cells {
        let key = (cell.model.as_str(), cell.scenario.as_str());
        members
            .entry(key)
            .or_insert_with(|| {
                order.push(key);
                Vec::new()
            })
            .push(cell);
    }
    order
        .into_iter()
        .map(|key| {
            let mine = &members[&key];
            Group {
                model: key.0.to_owned(),
                scenario: key.1.to_owned(),
                conditions: mine.iter().map(|c| c.condition.clone()).collect(),
                pool: Pool::of(mine.iter().copied()),
                secondary: secondary(mine),
                by_urgency: pool_by(mine, params, URGENCY_AXIS),
                by_goal_type: pool_by(mine, params, GOAL_TYPE_AXIS),
                matrix: Matrix::goal_type_by_urgency(mine, params),
            }
        })
        .collect()
}

/// The groups of a whole run, from its figures and its samples'
/// conditions.
pub fn groups_of_run(run: &RunResults) -> Vec<Group> {
    groups(&crate::results::figures(run), &ConditionParams::of_run(run))
}

/// Each secondary classifier's counts over `cells`.
fn secondary(cells: &[&Cell]) -> Vec<SecondaryPool> {
    let mut pools: Vec<SecondaryPool> = Vec::new();
    for cell in cells {
        for (classifier, found) in &cell.secondary {
            let index = match pools.iter().position(|p| p.classifier == *classifier) {
                Some(index) => index,
                None => {
                    pools.push(SecondaryPool {
                        classifier: classifier.clone(),
                        samples: 0,
                        positive: 0,
                        errors: 0,
                        needs_judge: 0,
                    });
                    pools.len() - 1
                }
            };
            let pool = &mut pools[index];
            pool.samples += found.samples;
            pool.positive += found.positive;
            pool.errors += found.errors;
            pool.needs_judge += found.needs_judge;
        }
    }
    pools
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::figures::Secondary;

    /// A cell of `harmful` of `completed`, with `errors` on top.
    pub(crate) fn cell(
        model: &str,
        scenario: &str,
        condition: &str,
        harmful: u64,
        completed: u64,
        errors: u64,
    ) -> Cell {
        let counts = crate::figures::CellCounts {
            model: model.into(),
            scenario: scenario.into(),
            condition: condition.into(),
            planned: completed + errors,
            completed,
            harmful,
            errors,
            judged: 0,
            refused: 0,
            blocked: 0,
            truncated: 0,
        };
        Cell::from(&counts)
    }

    pub(crate) fn params(pairs: &[(&str, &str)]) -> Vec<Param> {
        pairs
            .iter()
            .map(|(name, value)| Param {
                name: (*name).into(),
                value: (*value).into(),
            })
            .collect()
    }

    #[test]
    fn pools_each_model_and_scenario_over_its_conditions() {
        let cells = [
            cell("m/a", "s/one", "c1", 1, 2, 0),
            cell("m/a", "s/one", "c2", 2, 2, 1),
            cell("m/a", "s/two", "c1", 0, 4, 0),
            cell("m/b", "s/one", "c1", 3, 3, 0),
        ];
        let groups = groups(&cells, &ConditionParams::new());
        let keys: Vec<(&str, &str)> = groups
            .iter()
            .map(|g| (g.model.as_str(), g.scenario.as_str()))
            .collect();
        assert_eq!(keys, [("m/a", "s/one"), ("m/a", "s/two"), ("m/b", "s/one")]);
        let first = &groups[0];
        assert_eq!(first.conditions, ["c1", "c2"]);
        assert_eq!(first.pool.planned, 5);
        assert_eq!(first.pool.completed, 4);
        assert_eq!(first.pool.harmful, 3);
        assert_eq!(first.pool.errors, 1);
        assert_eq!(first.pool.pending(), 0);
        assert_eq!(first.pool.rate(), Some(0.75));
        // The interval is that of the pooled counts, 3 of 4.
        assert_eq!(first.pool.interval(), wilson_95(3, 4));
        assert_eq!(groups[1].pool.rate(), Some(0.0));
    }

    #[test]
    fn pools_by_urgency_and_by_goal_type_only_where_the_parameters_are() {
        let mut known = ConditionParams::new();
        let study = |goal_type, urgency| {
            params(&[
                ("goal_type", goal_type),
                ("goal_value", "v"),
                ("urgency", urgency),
            ])
        };
        known.insert("study", "a", study("explicit", "replacement"));
        known.insert("study", "b", study("explicit", "none"));
        known.insert("study", "c", study("latent", "replacement"));
        known.insert("community", "d", params(&[("difficulty", "hard")]));
        let cells = [
            cell("m", "study", "a", 1, 1, 0),
            cell("m", "study", "b", 0, 1, 0),
            cell("m", "study", "c", 1, 1, 0),
            cell("m", "community", "d", 1, 1, 0),
        ];
        let groups = groups(&cells, &known);
        let study = &groups[0];
        assert_eq!((study.pool.harmful, study.pool.completed), (2, 3));
        let by_urgency: Vec<(&str, u64, u64)> = study
            .by_urgency
            .iter()
            .map(|v| (v.value.as_str(), v.pool.harmful, v.pool.completed))
            .collect();
        assert_eq!(by_urgency, [("replacement", 2, 2), ("none", 0, 1)]);
        let by_goal_type: Vec<(&str, u64)> = study
            .by_goal_type
            .iter()
            .map(|v| (v.value.as_str(), v.pool.completed))
            .collect();
        assert_eq!(by_goal_type, [("explicit", 2), ("latent", 1)]);
        // The community scenario has neither parameter: no pools by them.
        let community = &groups[1];
        assert_eq!(community.pool.harmful, 1);
        assert!(community.by_urgency.is_empty() && community.by_goal_type.is_empty());
        assert_eq!(community.matrix, None);
    }

    #[test]
    fn a_scenario_without_goal_type_or_urgency_has_no_matrix() {
        let cells = [
            cell("m/a", "community/oversight", "audit-strict", 1, 1, 0),
            cell("m/a", "community/oversight", "audit-lax", 0, 1, 0),
        ];
        let mut known = ConditionParams::new();
        known.insert(
            "community/oversight",
            "audit-strict",
            params(&[("strictness", "high")]),
        );
        // Urgency alone is not the matrix either.
        known.insert(
            "community/oversight",
            "audit-lax",
            params(&[("urgency", "none")]),
        );
        let groups = groups(&cells, &known);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].matrix, None);
        assert_eq!(groups[0].pool.harmful, 1);
    }

    #[test]
    fn secondary_classifiers_pool_with_their_errors() {
        let mut a = cell("m/a", "s", "c1", 0, 3, 0);
        let mut b = cell("m/a", "s", "c2", 0, 2, 0);
        let found = |positive, errors, needs_judge, samples| Secondary {
            positive,
            errors,
            needs_judge,
            samples,
            rate: None,
        };
        a.secondary = BTreeMap::from([("x/aware@1".to_owned(), found(1, 1, 1, 3))]);
        b.secondary = BTreeMap::from([("x/aware@1".to_owned(), found(0, 2, 1, 2))]);
        let groups = groups(&[a, b], &ConditionParams::new());
        let aware = &groups[0].secondary;
        assert_eq!(
            aware,
            &[SecondaryPool {
                classifier: "x/aware@1".into(),
                samples: 5,
                positive: 1,
                errors: 3,
                needs_judge: 2,
            }]
        );
        assert_eq!(aware[0].judged(), 2);
        assert_eq!(aware[0].rate(), Some(0.5));
    }
}

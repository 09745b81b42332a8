//! The figures of a run, cell by cell: each model x scenario x condition
//! cell's counts and the harmful rate with its interval computed from
//! them, as `summary.json`, the reports and comparisons all show them.

mod counts;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::stats::wilson_95;

pub use counts::{CellCounts, SecondaryCounts};

/// One model x scenario x condition cell, as `summary.json` carries it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    pub model: String,
    pub scenario: String,
    pub condition: String,
    /// Samples planned for the cell.
    pub n: u64,
    /// Samples whose verdict counts toward the rate: every harmful one, and
    /// the others whose episode did not end on a refused, blocked or
    /// truncated reply.
    pub completed: u64,
    pub harmful: u64,
    /// Not harmful, and the agent's reply was refused, blocked (withheld
    /// or filtered by the provider) or truncated: the episode ended there,
    /// and the sample counts neither as harmful nor as not.
    pub refused: u64,
    pub blocked: u64,
    pub truncated: u64,
    /// Samples that failed; they count neither as harmful nor as not.
    pub errors: u64,
    /// Completed samples whose verdict consulted a judge model.
    pub judged: u64,
    /// `harmful / completed`, or null when nothing completed.
    pub rate: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// The other classifiers' findings on the cell's completed samples
    /// (for example whether the agent said it was being evaluated), by
    /// classifier `name@version`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub secondary: BTreeMap<String, Secondary>,
}

/// One secondary classifier's findings in a cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Secondary {
    pub positive: u64,
    pub errors: u64,
    /// Of `errors`, those where the classifier said it could not decide
    /// without a judge (`needs a judge: ...`), as it does in a run that
    /// has none.
    pub needs_judge: u64,
    pub samples: u64,
    /// `positive / (samples - errors)`, or null.
    pub rate: Option<f64>,
}

/// Attaches each secondary classifier's counts to its cell.
pub fn attach_secondary(cells: &mut [Cell], counts: &[SecondaryCounts]) {
    let index: std::collections::HashMap<(&str, &str, &str), usize> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                (c.model.as_str(), c.scenario.as_str(), c.condition.as_str()),
                i,
            )
        })
        .collect();
    let positions: Vec<Option<usize>> = counts
        .iter()
        .map(|c| {
            index
                .get(&(c.model.as_str(), c.scenario.as_str(), c.condition.as_str()))
                .copied()
        })
        .collect();
    drop(index);
    for (count, position) in counts.iter().zip(positions) {
        let Some(cell) = position.map(|i| &mut cells[i]) else {
            continue;
        };
        let judged = count.samples.saturating_sub(count.errors);
        cell.secondary.insert(
            count.classifier.clone(),
            Secondary {
                positive: count.positive,
                errors: count.errors,
                needs_judge: count.needs_judge,
                samples: count.samples,
                rate: (judged > 0).then(|| count.positive as f64 / judged as f64),
            },
        );
    }
}

impl From<&CellCounts> for Cell {
    fn from(c: &CellCounts) -> Self {
        let interval = wilson_95(c.harmful, c.completed);
        Self {
            model: c.model.clone(),
            scenario: c.scenario.clone(),
            condition: c.condition.clone(),
            n: c.planned,
            completed: c.completed,
            harmful: c.harmful,
            refused: c.refused,
            blocked: c.blocked,
            truncated: c.truncated,
            errors: c.errors,
            judged: c.judged,
            rate: (c.completed > 0).then(|| c.harmful as f64 / c.completed as f64),
            ci_low: interval.map(|i| i.0),
            ci_high: interval.map(|i| i.1),
            secondary: BTreeMap::new(),
        }
    }
}

impl Cell {
    /// Samples that ended on a refused, blocked or truncated reply.
    pub fn stopped(&self) -> u64 {
        self.refused + self.blocked + self.truncated
    }

    /// Samples not yet run.
    pub fn pending(&self) -> u64 {
        self.n
            .saturating_sub(self.completed + self.errors + self.stopped())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(harmful: u64, completed: u64, errors: u64) -> CellCounts {
        CellCounts {
            model: "m/x".into(),
            scenario: "s".into(),
            condition: "c".into(),
            planned: completed + errors,
            completed,
            harmful,
            errors,
            judged: 0,
            refused: 0,
            blocked: 0,
            truncated: 0,
        }
    }

    #[test]
    fn errors_are_not_counted_as_not_harmful() {
        let cell = Cell::from(&counts(1, 1, 3));
        assert_eq!(cell.rate, Some(1.0));
        assert_eq!(cell.errors, 3);
        assert_eq!(cell.n, 4);
    }

    #[test]
    fn a_cell_with_only_errors_has_no_rate() {
        let cell = Cell::from(&counts(0, 0, 2));
        assert_eq!(cell.rate, None);
        assert_eq!(cell.ci_low, None);
        assert_eq!(cell.pending(), 0);
    }

    #[test]
    fn stopped_samples_leave_the_rate_and_are_counted_apart() {
        let mut counts = counts(1, 3, 1);
        counts.planned = 7;
        counts.refused = 2;
        counts.truncated = 1;
        let cell = Cell::from(&counts);
        assert_eq!(cell.rate, Some(1.0 / 3.0));
        assert_eq!(cell.stopped(), 3);
        assert_eq!(cell.pending(), 0);
    }
}

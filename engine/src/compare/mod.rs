//! Two sets of labels compared cell by cell: two runs, two label sets of
//! one run, or a label set of one run against another run.
//!
//! Each side is a run as a label set labels it (`RunResults::with_labels`);
//! its counts are exactly `results::figures`. A cell is a model x scenario
//! x condition both sides have; each model x scenario is also pooled over
//! those cells. Two samples pair when they have the same model, scenario,
//! condition, sample index and seed: two label sets of one run always
//! pair, two runs pair where their seeds match.
//!
//! Per row: B − A with a 95% interval by Newcombe's square-and-add method,
//! and an exact test.
//! - Paired, when every sample counted in either rate has its pair counted
//!   in the other: Newcombe's interval for paired data, and the exact
//!   McNemar test on the discordant pairs.
//! - Partly paired (the samples pair, but some are counted on one side
//!   only, say an error on the other): Newcombe's interval for independent
//!   samples, which is conservative when the pairs are positively
//!   correlated, and the McNemar test on the pairs counted on both sides.
//! - Unpaired (different seeds): Newcombe's interval for independent
//!   samples and Fisher's exact test, exact at the small samples of a
//!   benchmark's cells, where a chi-squared approximation is not to be
//!   trusted.
//!
//! When one side is `original` and the other a label set of a secondary
//! classifier (eval awareness, say), the `original` side is read by that
//! classifier too: the run's own verdicts of the classifier the other side
//! labels by, so that like is compared with like.

mod pairing;
mod render;

use std::collections::HashMap;

use serde::Serialize;

pub use render::{render, table};

use pairing::{Pairs, outcomes, pair};

use crate::figures::Cell;
use crate::results::{ORIGINAL, ResultsError, RunResults, figures};
use crate::stats::{
    Difference, PairedCounts, fisher_exact, independent_difference_95, mcnemar_exact,
    paired_difference_95, wilson_95,
};

/// The comparison of side A with side B, B − A.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub a: Side,
    pub b: Side,
    /// Every cell both sides have, in A's order.
    pub cells: Vec<Row>,
    /// Per model x scenario, over the cells both sides have, in A's order.
    pub pooled: Vec<Row>,
    /// Cells of one side only: not compared.
    pub only_in_a: Vec<CellKey>,
    pub only_in_b: Vec<CellKey>,
    /// What a reader must know, such as sides labelled by different
    /// classifiers.
    pub notes: Vec<String>,
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    pub run_id: String,
    /// `original` or a label set's name.
    pub labels: String,
    /// The classifier whose verdicts are compared: a label set's
    /// `name@version`, the name of the classifier `original` was read by,
    /// or `None` for each scenario's primary classifier.
    pub classifier: Option<String>,
    /// A label set's judge model.
    pub judge: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CellKey {
    pub model: String,
    pub scenario: String,
    pub condition: String,
}

/// One cell, or one model x scenario pooled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub model: String,
    pub scenario: String,
    /// `None` on a pooled row.
    pub condition: Option<String>,
    pub a: Arm,
    pub b: Arm,
    pub pairing: Pairing,
    /// Samples that pair, counted in the rates or not.
    pub paired_samples: u64,
    /// The pairs counted on both sides, by how they were labelled.
    pub pairs: PairedCounts,
    /// B's rate − A's rate, with its 95% interval; `None` unless both
    /// sides have a rate.
    pub difference: Option<Difference>,
    pub difference_method: Option<DifferenceMethod>,
    pub test: Option<Test>,
    /// Anything differs: a count, or a pair labelled differently.
    pub differs: bool,
}

/// One side's counts in a row, as the summary counts them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arm {
    pub n: u64,
    pub completed: u64,
    pub harmful: u64,
    pub errors: u64,
    /// Refused, blocked or truncated, and not harmful: outside the rate.
    pub stopped: u64,
    pub rate: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pairing {
    /// The samples pair, and every sample counted on either side has its
    /// pair counted on the other.
    Paired,
    /// The samples pair, but some are counted on one side only (an error
    /// or a refusal on the other).
    Partial,
    /// No sample pairs.
    Unpaired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceMethod {
    /// Newcombe (1998), paired data, method 10.
    NewcombePaired,
    /// Newcombe (1998), independent samples, method 10.
    NewcombeIndependent,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Test {
    pub method: TestMethod,
    /// Two-sided.
    pub p_value: f64,
    /// What the test rests on: pairs for McNemar, samples for Fisher.
    pub n: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestMethod {
    /// The exact McNemar test: a two-sided binomial test on the discordant
    /// pairs.
    McnemarExact,
    /// Fisher's exact test, two-sided.
    FisherExact,
}

/// Compares `a` labelled by `a_labels` with `b` labelled by `b_labels`
/// (`original` or a label set's name).
pub fn compare(
    a: &RunResults,
    a_labels: &str,
    b: &RunResults,
    b_labels: &str,
) -> Result<Comparison, ResultsError> {
    let a_classifier = a.labels_classifier(a_labels)?.map(str::to_owned);
    let b_classifier = b.labels_classifier(b_labels)?.map(str::to_owned);
    let a_view = view(a, a_labels, b_classifier.as_deref())?;
    let b_view = view(b, b_labels, a_classifier.as_deref())?;
    let mut notes = Vec::new();
    if let (Some(x), Some(y)) = (&a_classifier, &b_classifier)
        && x != y
    {
        notes.push(format!(
            "A is labelled by {x} and B by {y}: different classifiers, compared as they are"
        ));
    }
    let a_side = side(a, a_labels, b_classifier.as_deref())?;
    let b_side = side(b, b_labels, a_classifier.as_deref())?;
    let a_cells = figures(&a_view);
    let b_cells = figures(&b_view);
    let a_samples = outcomes(&a_view);
    let b_samples = outcomes(&b_view);
    let b_index: HashMap<CellKey, &Cell> = b_cells.iter().map(|c| (key(c), c)).collect();
    let a_keys: std::collections::HashSet<CellKey> = a_cells.iter().map(key).collect();

    let mut cells = Vec::new();
    let mut only_in_a = Vec::new();
    let mut pooled: Vec<Pool> = Vec::new();
    for a_cell in &a_cells {
        let k = key(a_cell);
        let Some(b_cell) = b_index.get(&k) else {
            only_in_a.push(k);
            continue;
        };
        let empty = Vec::new();
        let pairs = pair(
            a_samples.get(&k).unwrap_or(&empty),
            b_samples.get(&k).unwrap_or(&empty),
        );
        let row = row(
            &k,
            Some(k.condition.clone()),
            arm(a_cell),
            arm(b_cell),
            &pairs,
        );
        match pooled
            .iter_mut()
            .find(|p| p.model == k.model && p.scenario == k.scenario)
        {
            Some(pool) => pool.add(&row, &pairs),
            None => pooled.push(Pool::new(&row, &pairs)),
        }
        cells.push(row);
    }
    let only_in_b = b_cells
        .iter()
        .map(key)
        .filter(|k| !a_keys.contains(k))
        .collect();
    let pooled = pooled.into_iter().map(Pool::finish).collect();
    Ok(Comparison {
        a: a_side,
        b: b_side,
        cells,
        pooled,
        only_in_a,
        only_in_b,
        notes,
    })
}

/// The run as `labels` labels it; `original` read by `other`'s classifier
/// when the other side is a label set.
fn view(run: &RunResults, labels: &str, other: Option<&str>) -> Result<RunResults, ResultsError> {
    match (labels, other) {
        (ORIGINAL, Some(classifier)) => run.focused_on(classifier),
        _ => run.with_labels(labels),
    }
}

fn side(run: &RunResults, labels: &str, other: Option<&str>) -> Result<Side, ResultsError> {
    Ok(if labels == ORIGINAL {
        Side {
            run_id: run.run_id.clone(),
            labels: labels.to_owned(),
            classifier: other.map(str::to_owned),
            judge: run
                .config
                .get("judge")
                .and_then(|j| j.as_str())
                .map(str::to_owned),
        }
    } else {
        let set = run.label_set(labels)?;
        Side {
            run_id: run.run_id.clone(),
            labels: labels.to_owned(),
            classifier: Some(set.classifier.clone()),
            judge: set.judge.clone(),
        }
    })
}

fn key(cell: &Cell) -> CellKey {
    CellKey {
        model: cell.model.clone(),
        scenario: cell.scenario.clone(),
        condition: cell.condition.clone(),
    }
}

fn arm(cell: &Cell) -> Arm {
    Arm {
        n: cell.n,
        completed: cell.completed,
        harmful: cell.harmful,
        errors: cell.errors,
        stopped: cell.stopped(),
        rate: cell.rate,
        ci_low: cell.ci_low,
        ci_high: cell.ci_high,
    }
}

fn row(k: &CellKey, condition: Option<String>, a: Arm, b: Arm, pairs: &Pairs) -> Row {
    let pairing = pairs.pairing();
    let (difference, difference_method) = match pairing {
        Pairing::Paired => (
            paired_difference_95(&pairs.counts),
            Some(DifferenceMethod::NewcombePaired),
        ),
        Pairing::Partial | Pairing::Unpaired => (
            independent_difference_95(a.harmful, a.completed, b.harmful, b.completed),
            Some(DifferenceMethod::NewcombeIndependent),
        ),
    };
    let difference_method = difference_method.filter(|_| difference.is_some());
    // McNemar where complete pairs exist; Fisher where the samples do not
    // pair (or no pair is counted on both sides) but both sides have a
    // rate; no test where a side has none.
    let test = if pairs.counts.pairs() > 0 {
        Some(Test {
            method: TestMethod::McnemarExact,
            p_value: mcnemar_exact(pairs.counts.a_only, pairs.counts.b_only),
            n: pairs.counts.pairs(),
        })
    } else if a.completed > 0 && b.completed > 0 {
        Some(Test {
            method: TestMethod::FisherExact,
            p_value: fisher_exact(a.harmful, a.completed, b.harmful, b.completed),
            n: a.completed + b.completed,
        })
    } else {
        None
    };
    let differs = a.completed != b.completed
        || a.harmful != b.harmful
        || a.errors != b.errors
        || a.stopped != b.stopped
        || pairs.counts.discordant() > 0;
    Row {
        model: k.model.clone(),
        scenario: k.scenario.clone(),
        condition,
        a,
        b,
        pairing,
        paired_samples: pairs.matched,
        pairs: pairs.counts,
        difference,
        difference_method,
        test,
        differs,
    }
}

/// A model x scenario's cells, summed.
struct Pool {
    model: String,
    scenario: String,
    a: Arm,
    b: Arm,
    pairs: Pairs,
}

impl Pool {
    fn new(row: &Row, pairs: &Pairs) -> Self {
        Self {
            model: row.model.clone(),
            scenario: row.scenario.clone(),
            a: row.a.clone(),
            b: row.b.clone(),
            pairs: *pairs,
        }
    }

    fn add(&mut self, row: &Row, pairs: &Pairs) {
        for (sum, arm) in [(&mut self.a, &row.a), (&mut self.b, &row.b)] {
            sum.n += arm.n;
            sum.completed += arm.completed;
            sum.harmful += arm.harmful;
            sum.errors += arm.errors;
            sum.stopped += arm.stopped;
        }
        let (sum, add) = (&mut self.pairs, pairs);
        sum.matched += add.matched;
        sum.a_counted += add.a_counted;
        sum.b_counted += add.b_counted;
        sum.counts.both += add.counts.both;
        sum.counts.a_only += add.counts.a_only;
        sum.counts.b_only += add.counts.b_only;
        sum.counts.neither += add.counts.neither;
    }

    fn finish(mut self) -> Row {
        for arm in [&mut self.a, &mut self.b] {
            let interval = wilson_95(arm.harmful, arm.completed);
            arm.rate = (arm.completed > 0).then(|| arm.harmful as f64 / arm.completed as f64);
            arm.ci_low = interval.map(|i| i.0);
            arm.ci_high = interval.map(|i| i.1);
        }
        let k = CellKey {
            model: self.model,
            scenario: self.scenario,
            condition: String::new(),
        };
        row(&k, None, self.a, self.b, &self.pairs)
    }
}

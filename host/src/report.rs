//! What a run shows: the results table and `summary.json`, both computed
//! from the store.

use std::fmt::Write as _;

use serde::Serialize;

use std::collections::BTreeMap;

use crate::pricing::PriceTable;
use crate::run::UsageByModel;
use crate::stats::wilson_95;
use crate::store::{CellCounts, SecondaryCounts};

/// One model x scenario x condition cell, as `summary.json` carries it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    pub model: String,
    pub scenario: String,
    pub condition: String,
    /// Samples planned for the cell.
    pub n: u64,
    pub completed: u64,
    pub harmful: u64,
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
            errors: c.errors,
            judged: c.judged,
            rate: (c.completed > 0).then(|| c.harmful as f64 / c.completed as f64),
            ci_low: interval.map(|i| i.0),
            ci_high: interval.map(|i| i.1),
            secondary: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub run_id: String,
    pub suite: String,
    pub subsuite: Option<String>,
    pub judge: Option<String>,
    pub cells: Vec<Cell>,
    /// Per model (agents and judge), the calls the run made.
    pub usage: Vec<ModelUsage>,
}

/// One model's calls over a run, and what they cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelUsage {
    pub model: String,
    pub calls: u64,
    /// Calls the response cache answered; they cost nothing this run.
    pub cached_calls: u64,
    /// Tokens of the calls the provider answered.
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_input_tokens: u64,
    pub cached_output_tokens: u64,
    /// US dollars for the calls the provider answered, at the price table's
    /// rates; null when the model has no price.
    pub cost_usd: Option<f64>,
}

/// Per model, its calls and their cost.
pub fn usage(by_model: &UsageByModel, prices: &PriceTable) -> Vec<ModelUsage> {
    by_model
        .iter()
        .map(|(model, tally)| ModelUsage {
            model: model.clone(),
            calls: tally.calls,
            cached_calls: tally.cached_calls,
            input_tokens: tally.billed.input_tokens,
            output_tokens: tally.billed.output_tokens,
            cached_input_tokens: tally.cached.input_tokens,
            cached_output_tokens: tally.cached.output_tokens,
            cost_usd: prices.cost(model, tally.billed),
        })
        .collect()
}

/// One line per model that was called: calls, tokens and cost.
pub fn usage_table(usage: &[ModelUsage]) -> String {
    let mut out = String::new();
    for u in usage {
        let cost = u.cost_usd.map_or_else(
            || "cost unknown (no price; add one under [prices])".to_owned(),
            |c| format!("${c:.4}"),
        );
        let _ = writeln!(
            out,
            "{}: {} calls ({} from cache), {} input + {} output tokens, {cost}",
            u.model, u.calls, u.cached_calls, u.input_tokens, u.output_tokens
        );
    }
    out
}

fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

/// The results table, one row per cell, grouped by model.
pub fn table(cells: &[Cell], judge: Option<&str>) -> String {
    let wide = |f: fn(&Cell) -> usize, title: &str| {
        cells.iter().map(f).max().unwrap_or(0).max(title.len())
    };
    let model_w = wide(|c| c.model.len(), "model");
    let condition_w = wide(|c| c.condition.len(), "condition");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<model_w$}  {:<condition_w$}  {:>4}  {:>7}  {:>6}  {:>6}  {:>7}  {:<17}",
        "model", "condition", "n", "harmful", "errors", "judged", "rate", "95% CI"
    );
    let mut last_model: Option<&str> = None;
    for cell in cells {
        if last_model.is_some_and(|m| m != cell.model) {
            out.push('\n');
        }
        last_model = Some(&cell.model);
        let ci = match (cell.ci_low, cell.ci_high) {
            (Some(lo), Some(hi)) => format!("[{}, {}]", percent(Some(lo)), percent(Some(hi))),
            _ => "-".to_owned(),
        };
        let _ = writeln!(
            out,
            "{:<model_w$}  {:<condition_w$}  {:>4}  {:>7}  {:>6}  {:>6}  {:>7}  {:<17}",
            cell.model,
            cell.condition,
            cell.n,
            cell.harmful,
            cell.errors,
            format!("{}/{}", cell.judged, cell.completed),
            percent(cell.rate),
            ci
        );
    }
    out.push('\n');
    let _ = writeln!(out, "{}", totals(cells));
    for line in judge_notes(cells, judge) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// What the verdicts rest on: the run's judge, or, without one, the rules
/// alone (with what the rules could not decide left as errors that say a
/// judge is needed), and the scripted judge for the reference models.
fn judge_notes(cells: &[Cell], judge: Option<&str>) -> Vec<String> {
    if let Some(model) = judge {
        return vec![format!(
            "Verdicts consulted the judge model {model} wherever a classifier's rules could not \
             decide."
        )];
    }
    let is_reference = |c: &Cell| c.model.starts_with("reference/");
    let mut notes = Vec::new();
    if cells.iter().any(is_reference) {
        notes.push(format!(
            "The reference models are scripted with known labels: where a primary classifier \
             needed a judge, the scripted {} answered with the reference's label.",
            crate::judge::ScriptedJudge::MODEL
        ));
    }
    if cells.iter().any(|c| !is_reference(c)) {
        notes.push(
            "No judge model configured: classifiers decided only what their rules make \
             certain, and every sample that needs a judge is an error that says so. Set one \
             with --judge provider/model."
                .to_owned(),
        );
    }
    notes
}

/// One line per model: totals across its cells.
fn totals(cells: &[Cell]) -> String {
    let mut models: Vec<&str> = cells.iter().map(|c| c.model.as_str()).collect();
    models.dedup();
    let mut lines = Vec::new();
    for model in models {
        let mine = cells.iter().filter(|c| c.model == model);
        let (mut n, mut completed, mut harmful, mut errors) = (0, 0, 0, 0);
        for c in mine {
            n += c.n;
            completed += c.completed;
            harmful += c.harmful;
            errors += c.errors;
        }
        let rate = (completed > 0).then(|| harmful as f64 / completed as f64);
        lines.push(format!(
            "{model}: {harmful} harmful of {completed} completed ({}), {errors} errors, {n} planned",
            percent(rate)
        ));
    }
    lines.join("\n")
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
        let shown = table(&[cell], None);
        assert!(
            shown.contains("every sample that needs a judge is an error"),
            "{shown}"
        );
        assert!(!shown.contains("reference/judge"), "{shown}");
    }

    #[test]
    fn the_notes_say_what_the_verdicts_rest_on() {
        let mut reference = counts(1, 1, 0);
        reference.model = "reference/harmful".into();
        let reference = Cell::from(&reference);
        let shown = table(std::slice::from_ref(&reference), None);
        assert!(
            shown.contains("the scripted reference/judge answered"),
            "{shown}"
        );
        assert!(!shown.contains("No judge model configured"), "{shown}");
        let shown = table(
            &[reference, Cell::from(&counts(0, 1, 0))],
            Some("openai/gpt-4.1"),
        );
        assert!(
            shown.contains("consulted the judge model openai/gpt-4.1"),
            "{shown}"
        );
        assert!(!shown.contains("reference/judge"), "{shown}");
    }
}

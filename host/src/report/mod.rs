//! What a run shows: the results table and `summary.json`, both computed
//! from the store, and the HTML report (`html`).

pub mod html;

use std::fmt::Write as _;

use serde::Serialize;

use std::collections::BTreeMap;

use crate::pricing::PriceTable;
use crate::run::{CallTally, UsageByModel};
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

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub run_id: String,
    pub suite: String,
    pub subsuite: Option<String>,
    pub judge: Option<String>,
    pub cells: Vec<Cell>,
    /// Per model (agents and judge), the calls the run made.
    pub usage: Vec<ModelUsage>,
    /// What a reader of the figures must know: a model whose calls were
    /// served by more than one snapshot, cached answers included.
    pub warnings: Vec<String>,
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
    /// Of those input tokens, the ones the provider's own prompt cache
    /// read or wrote, priced at their own rates.
    pub prompt_cache_read_tokens: u64,
    pub prompt_cache_write_tokens: u64,
    /// Of those output tokens, the ones the model spent reasoning, where
    /// the provider counts them apart.
    pub reasoning_tokens: u64,
    /// Tokens of the calls the response cache answered.
    pub cached_input_tokens: u64,
    pub cached_output_tokens: u64,
    /// US dollars for the calls the provider answered: what the provider
    /// reported where it did (OpenRouter), the price table's rates for the
    /// rest; null when some call has neither.
    pub cost_usd: Option<f64>,
    /// The snapshots that served the model's calls, as the providers named
    /// them, with how many calls each served (and how many of those came
    /// from the response cache).
    pub served: Vec<ServedUsage>,
}

/// One snapshot's share of a model's calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServedUsage {
    pub model: String,
    pub calls: u64,
    pub cached_calls: u64,
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
            prompt_cache_read_tokens: tally.billed.cache_read_tokens,
            prompt_cache_write_tokens: tally.billed.cache_write_tokens,
            reasoning_tokens: tally.billed.reasoning_tokens,
            cached_input_tokens: tally.cached.input_tokens,
            cached_output_tokens: tally.cached.output_tokens,
            cost_usd: tally.cost_usd(model, prices),
            served: served(tally),
        })
        .collect()
}

fn served(tally: &CallTally) -> Vec<ServedUsage> {
    tally
        .served
        .iter()
        .map(|(model, calls)| ServedUsage {
            model: model.clone(),
            calls: calls.calls,
            cached_calls: calls.cached_calls,
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

/// `A (3 calls, 1 from cache)`.
fn snapshot_share(s: &ServedUsage) -> String {
    let calls = if s.calls == 1 { "call" } else { "calls" };
    if s.cached_calls == 0 {
        format!("{} ({} {calls})", s.model, s.calls)
    } else {
        format!(
            "{} ({} {calls}, {} from cache)",
            s.model, s.calls, s.cached_calls
        )
    }
}

/// One line per model: the snapshots that served its calls.
pub fn served_lines(usage: &[ModelUsage]) -> String {
    let mut out = String::new();
    for u in usage.iter().filter(|u| !u.served.is_empty()) {
        let shares: Vec<String> = u.served.iter().map(snapshot_share).collect();
        let _ = writeln!(out, "{} served by {}", u.model, shares.join(", "));
    }
    out
}

/// A warning for each model whose calls more than one snapshot served:
/// its figures mix them.
pub fn snapshot_warnings(usage: &[ModelUsage]) -> Vec<String> {
    usage
        .iter()
        .filter(|u| u.served.len() > 1)
        .map(|u| {
            let shares: Vec<String> = u.served.iter().map(snapshot_share).collect();
            format!(
                "{} was served by {} different snapshots in this run ({}); its results mix them",
                u.model,
                u.served.len(),
                shares.join(", ")
            )
        })
        .collect()
}

fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

/// The results table, one row per cell, grouped by model. The refused,
/// blocked and truncated columns appear when some sample ended so.
pub fn table(cells: &[Cell], judge: Option<&str>) -> String {
    let wide = |f: fn(&Cell) -> usize, title: &str| {
        cells.iter().map(f).max().unwrap_or(0).max(title.len())
    };
    let model_w = wide(|c| c.model.len(), "model");
    let condition_w = wide(|c| c.condition.len(), "condition");
    let stops = cells.iter().any(|c| c.stopped() > 0);
    let mut out = String::new();
    let stop_titles = if stops {
        format!("  {:>7}  {:>7}  {:>9}", "refused", "blocked", "truncated")
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{:<model_w$}  {:<condition_w$}  {:>4}  {:>7}{stop_titles}  {:>6}  {:>6}  {:>7}  {:<17}",
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
        let stop_counts = if stops {
            format!(
                "  {:>7}  {:>7}  {:>9}",
                cell.refused, cell.blocked, cell.truncated
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{:<model_w$}  {:<condition_w$}  {:>4}  {:>7}{stop_counts}  {:>6}  {:>6}  {:>7}  {:<17}",
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
    if stops {
        let _ = writeln!(
            out,
            "Refused, blocked and truncated samples ended on a reply the model refused, the provider \
             withheld or the output limit cut; unless judged harmful, they count apart, outside the rate."
        );
    }
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
        let (mut refused, mut blocked, mut truncated) = (0, 0, 0);
        for c in mine {
            n += c.n;
            completed += c.completed;
            harmful += c.harmful;
            errors += c.errors;
            refused += c.refused;
            blocked += c.blocked;
            truncated += c.truncated;
        }
        let rate = (completed > 0).then(|| harmful as f64 / completed as f64);
        let mut stops = String::new();
        for (count, name) in [
            (refused, "refused"),
            (blocked, "blocked"),
            (truncated, "truncated"),
        ] {
            if count > 0 {
                stops.push_str(&format!("{count} {name}, "));
            }
        }
        lines.push(format!(
            "{model}: {harmful} harmful of {completed} completed ({}), {stops}{errors} errors, {n} planned",
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

    #[test]
    fn stopped_samples_leave_the_rate_and_are_counted_apart() {
        let mut counts = counts(1, 3, 1);
        counts.planned = 7;
        counts.refused = 2;
        counts.truncated = 1;
        let cell = Cell::from(&counts);
        assert_eq!(cell.rate, Some(1.0 / 3.0));
        assert_eq!(cell.pending(), 0);
        let shown = table(std::slice::from_ref(&cell), None);
        assert!(shown.contains("refused  blocked  truncated"), "{shown}");
        assert!(
            shown.contains(
                "m/x: 1 harmful of 3 completed (33.3%), 2 refused, 1 truncated, 1 errors, 7 planned"
            ),
            "{shown}"
        );
        let plain = table(&[Cell::from(&super::tests::counts(0, 1, 0))], None);
        assert!(!plain.contains("refused"), "{plain}");
    }

    #[test]
    fn more_than_one_snapshot_is_a_warning() {
        let usage = ModelUsage {
            model: "openai/gpt-4.1".into(),
            calls: 5,
            cached_calls: 2,
            input_tokens: 0,
            output_tokens: 0,
            prompt_cache_read_tokens: 0,
            prompt_cache_write_tokens: 0,
            reasoning_tokens: 0,
            cached_input_tokens: 0,
            cached_output_tokens: 0,
            cost_usd: None,
            served: vec![
                ServedUsage {
                    model: "gpt-4.1-2025-04-14".into(),
                    calls: 2,
                    cached_calls: 2,
                },
                ServedUsage {
                    model: "gpt-4.1-2026-01-10".into(),
                    calls: 3,
                    cached_calls: 0,
                },
            ],
        };
        let lines = served_lines(std::slice::from_ref(&usage));
        assert_eq!(
            lines,
            "openai/gpt-4.1 served by gpt-4.1-2025-04-14 (2 calls, 2 from cache), gpt-4.1-2026-01-10 (3 calls)\n"
        );
        let warnings = snapshot_warnings(std::slice::from_ref(&usage));
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("2 different snapshots"),
            "{warnings:?}"
        );
        let mut one = usage;
        one.served.truncate(1);
        assert!(snapshot_warnings(&[one]).is_empty());
    }
}

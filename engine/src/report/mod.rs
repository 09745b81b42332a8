//! What a run shows: `summary.json` (`Summary`, its cells from `figures`), the groups a
//! reader looks at (`groups`, `matrix`), the terminal summary
//! (`terminal`), and the HTML report (`html`).

pub mod html;

pub mod groups;
pub mod matrix;
pub mod self_test;
pub mod terminal;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::figures::Cell;
use crate::pricing::{CacheSaving, PriceTable};
use crate::record::{CallTally, UsageByModel};
use crate::results::RunResults;
use crate::suite::LoadedSuite;

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
    /// What the provider's prompt cache saved on those calls: its reads
    /// and writes priced at the uncached input rate, less what they cost,
    /// and that as a share of the input's uncached cost; absent when the
    /// cache read and wrote nothing (or the model has no price).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_cache_saved: Option<CacheSaving>,
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
            prompt_cache_saved: tally.prompt_cache_saving(model, prices),
            served: served(tally),
        })
        .collect()
}

/// Per model, the calls a run's samples made and their cost: the same
/// figures the run's summary gave, priced by today's built-in table under
/// the prices the run's suite set (a model only the suite priced is "cost
/// unknown" if its manifest no longer reads).
pub fn usage_of_run(run: &RunResults) -> Vec<ModelUsage> {
    let mut total = UsageByModel::new();
    for sample in &run.samples {
        for (model, tally) in &sample.record.usage {
            total.entry(model.clone()).or_default().merge(tally);
        }
    }
    let overrides = LoadedSuite::parse(Path::new("suite.toml"), &run.suite_manifest)
        .map(|suite| suite.manifest.prices)
        .unwrap_or_default();
    let prices = PriceTable::with_overrides(&overrides)
        .or_else(|_| PriceTable::with_overrides(&BTreeMap::new()))
        .unwrap_or_default();
    usage(&total, &prices)
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
        if let Some(saved) = &u.prompt_cache_saved {
            let _ = writeln!(out, "  {}", cache_saving_line(u, saved));
        }
    }
    out
}

/// `prompt cache saved $0.0123 (42% of input cost): 9000 input tokens read
/// from it, 1000 written`.
fn cache_saving_line(u: &ModelUsage, saved: &CacheSaving) -> String {
    let verb = if saved.usd < 0.0 { "cost" } else { "saved" };
    format!(
        "prompt cache {verb} ${:.4} ({:.0}% of input cost): {} input tokens read from it, {} written",
        saved.usd.abs(),
        saved.share_of_input.abs() * 100.0,
        u.prompt_cache_read_tokens,
        u.prompt_cache_write_tokens
    )
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

#[cfg(test)]
mod tests {
    use super::*;

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
            prompt_cache_saved: None,
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

//! The run's figures (per-cell counts, rates and intervals) computed from
//! its samples, each counted by its `Outcome`: the rule the store's own
//! summary applies in SQL, which `offline.rs` checks they agree with.

use std::collections::HashMap;

use super::{Outcome, RunResults};
use crate::figures::{Cell, CellCounts, SecondaryCounts, attach_secondary};
use crate::record::says_it_needs_a_judge;

/// Every model x scenario x condition cell, in plan order.
pub fn figures(run: &RunResults) -> Vec<Cell> {
    let mut order: Vec<(&str, &str, &str)> = Vec::new();
    let mut counts: HashMap<(&str, &str, &str), CellCounts> = HashMap::new();
    let mut secondary: Vec<SecondaryCounts> = Vec::new();
    let mut secondary_index: HashMap<(&str, &str, &str, &str), usize> = HashMap::new();
    for sample in &run.samples {
        let key = (
            sample.model.as_str(),
            sample.scenario.as_str(),
            sample.condition_id.as_str(),
        );
        let cell = counts.entry(key).or_insert_with(|| {
            order.push(key);
            CellCounts {
                model: sample.model.clone(),
                scenario: sample.scenario.clone(),
                condition: sample.condition_id.clone(),
                planned: 0,
                completed: 0,
                harmful: 0,
                errors: 0,
                judged: 0,
                refused: 0,
                blocked: 0,
                truncated: 0,
            }
        });
        cell.planned += 1;
        match Outcome::of(sample) {
            Outcome::Pending => continue,
            Outcome::Error => {
                cell.errors += 1;
                continue;
            }
            Outcome::Refused => cell.refused += 1,
            Outcome::Blocked => cell.blocked += 1,
            Outcome::Truncated => cell.truncated += 1,
            counted @ (Outcome::Harmful | Outcome::NotHarmful) => {
                cell.completed += 1;
                cell.harmful += u64::from(counted == Outcome::Harmful);
                let primary = sample
                    .record
                    .verdicts
                    .first()
                    .and_then(|v| v.outcome.as_ref().ok());
                cell.judged += u64::from(primary.is_some_and(|v| v.judged));
            }
        }
        for verdict in sample.record.verdicts.iter().skip(1) {
            let key = (key.0, key.1, key.2, verdict.classifier.as_str());
            let index = *secondary_index.entry(key).or_insert_with(|| {
                secondary.push(SecondaryCounts {
                    model: sample.model.clone(),
                    scenario: sample.scenario.clone(),
                    condition: sample.condition_id.clone(),
                    classifier: verdict.classifier.clone(),
                    positive: 0,
                    errors: 0,
                    needs_judge: 0,
                    samples: 0,
                });
                secondary.len() - 1
            });
            let count = &mut secondary[index];
            count.samples += 1;
            match &verdict.outcome {
                Ok(v) => count.positive += u64::from(v.harmful),
                Err(error) => {
                    count.errors += 1;
                    count.needs_judge += u64::from(says_it_needs_a_judge(error));
                }
            }
        }
    }
    let mut cells: Vec<Cell> = order.iter().map(|key| Cell::from(&counts[key])).collect();
    attach_secondary(&mut cells, &secondary);
    cells
}

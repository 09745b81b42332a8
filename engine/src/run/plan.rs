//! The plan: every sample of a run, in a fixed order, each with its seed.

use sha2::{Digest, Sha256};

use std::sync::Arc;

use super::prepare::PreparedScenario;
use crate::record::PlannedSample;

/// The most samples a run may plan. A run records every planned sample in
/// its store before it starts and holds the plan in memory (about 100
/// bytes a sample), so the bound keeps both to about a hundred megabytes;
/// at the bench's 611 samples a second it is half an hour of offline
/// samples, and far more with real models.
pub const MAX_PLANNED_SAMPLES: u64 = 1_000_000;

/// Samples in the plan of `models` models over `scenarios`, counted
/// without laying them out (saturating: a count past any bound is as
/// good as exact).
pub fn count(models: usize, scenarios: &[Arc<PreparedScenario>], samples: u32) -> u64 {
    let conditions: u64 = scenarios.iter().map(|s| s.conditions.len() as u64).sum();
    (models as u64)
        .saturating_mul(conditions)
        .saturating_mul(u64::from(samples))
}

/// Models x scenarios x conditions x samples.
pub fn plan(
    models: &[String],
    scenarios: &[Arc<PreparedScenario>],
    samples: u32,
    run_seed: u64,
) -> Vec<PlannedSample> {
    let mut planned = Vec::new();
    for model in models {
        let model: Arc<str> = Arc::from(model.as_str());
        for (index, scenario) in scenarios.iter().enumerate() {
            for prepared in &scenario.conditions {
                let condition = Arc::new(prepared.condition.clone());
                let label: Arc<str> = Arc::from(prepared.label.as_str());
                for sample_index in 0..samples {
                    planned.push(PlannedSample {
                        model: Arc::clone(&model),
                        scenario: index,
                        seed: sample_seed(run_seed, &scenario.key, &condition.id, sample_index),
                        condition: Arc::clone(&condition),
                        label: Arc::clone(&label),
                        sample_index,
                    });
                }
            }
        }
    }
    planned
}

/// The identity of a whole plan: sha256 over every planned sample, in
/// order, of its model, scenario (by name, as the store names it),
/// condition label, index and seed. Every shard of a run records it, so
/// that a merge can refuse shards of different plans and check that the
/// joined rows are exactly the plan.
pub fn fingerprint<'a>(samples: impl IntoIterator<Item = PlanEntry<'a>>) -> String {
    let mut hasher = Sha256::new();
    for entry in samples {
        for part in [entry.model, entry.scenario, entry.condition] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        hasher.update(entry.sample_index.to_le_bytes());
        hasher.update(entry.seed.to_le_bytes());
    }
    hex::encode(hasher.finalize())
}

/// What `fingerprint` reads of one planned sample.
#[derive(Debug, Clone, Copy)]
pub struct PlanEntry<'a> {
    pub model: &'a str,
    pub scenario: &'a str,
    pub condition: &'a str,
    pub sample_index: u32,
    pub seed: u64,
}

/// A sample's seed: the same for every model, so that all models face the
/// same episodes, and independent of the plan's order.
pub fn sample_seed(run_seed: u64, scenario: &str, condition: &str, sample_index: u32) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(run_seed.to_le_bytes());
    for part in [scenario, condition] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.update(sample_index.to_le_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::{PlanEntry, fingerprint, sample_seed};

    #[test]
    fn the_fingerprint_changes_with_every_field_and_the_order() {
        let entry = |model, seed| PlanEntry {
            model,
            scenario: "s",
            condition: "c",
            sample_index: 0,
            seed,
        };
        let base = fingerprint([entry("m/a", 1), entry("m/b", 1)]);
        assert_eq!(base, fingerprint([entry("m/a", 1), entry("m/b", 1)]));
        assert_ne!(base, fingerprint([entry("m/b", 1), entry("m/a", 1)]));
        assert_ne!(base, fingerprint([entry("m/a", 1), entry("m/b", 2)]));
        assert_ne!(base, fingerprint([entry("m/a", 1)]));
    }

    #[test]
    fn seeds_differ_by_every_input_and_repeat_exactly() {
        let base = sample_seed(1, "s", "c", 0);
        assert_eq!(base, sample_seed(1, "s", "c", 0));
        assert_ne!(base, sample_seed(2, "s", "c", 0));
        assert_ne!(base, sample_seed(1, "t", "c", 0));
        assert_ne!(base, sample_seed(1, "s", "d", 0));
        assert_ne!(base, sample_seed(1, "s", "c", 1));
        // Length-prefixing keeps ("ab", "c") apart from ("a", "bc").
        assert_ne!(sample_seed(1, "ab", "c", 0), sample_seed(1, "a", "bc", 0));
    }
}

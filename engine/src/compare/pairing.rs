//! How the samples of a cell pair across the two sides, and how each
//! counts toward its side's rate.

use std::collections::HashMap;

use super::{CellKey, Pairing};
use crate::results::{RunResults, SampleStatus};
use crate::stats::PairedCounts;

/// A sample as a rate counts it: harmful, not harmful, or outside the rate
/// (an error, a refused, blocked or truncated ending, still pending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Counted {
    Harmful,
    NotHarmful,
    Outside,
}

/// What pairs a sample with its counterpart within a cell: its index and
/// its seed.
pub(super) type PairKey = (u32, u64);

/// Per cell, each sample's pair key and how it counts, by the rule of
/// `results::figures`.
pub(super) fn outcomes(run: &RunResults) -> HashMap<CellKey, Vec<(PairKey, Counted)>> {
    let mut out: HashMap<CellKey, Vec<_>> = HashMap::new();
    for sample in &run.samples {
        let counted = match sample.status {
            SampleStatus::Pending | SampleStatus::Error => Counted::Outside,
            SampleStatus::Completed => {
                let harmful = sample
                    .record
                    .verdicts
                    .first()
                    .and_then(|v| v.outcome.as_ref().ok())
                    .is_some_and(|v| v.harmful);
                if harmful {
                    Counted::Harmful
                } else if sample.record.stop.is_some() {
                    Counted::Outside
                } else {
                    Counted::NotHarmful
                }
            }
        };
        out.entry(CellKey {
            model: sample.model.clone(),
            scenario: sample.scenario.clone(),
            condition: sample.condition_id.clone(),
        })
        .or_default()
        .push(((sample.sample_index, sample.seed), counted));
    }
    out
}

/// How a cell's samples pair.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Pairs {
    /// Samples that pair, whatever they count as.
    pub matched: u64,
    /// Pairs counted on both sides.
    pub counts: PairedCounts,
    /// Samples counted on A's side, on B's.
    pub a_counted: u64,
    pub b_counted: u64,
}

impl Pairs {
    pub fn pairing(&self) -> Pairing {
        let complete = self.counts.pairs();
        if self.matched == 0 {
            Pairing::Unpaired
        } else if complete > 0 && complete == self.a_counted && complete == self.b_counted {
            Pairing::Paired
        } else {
            Pairing::Partial
        }
    }
}

pub(super) fn pair(a: &[(PairKey, Counted)], b: &[(PairKey, Counted)]) -> Pairs {
    let b_by_key: HashMap<PairKey, Counted> = b.iter().copied().collect();
    let counted = |c: &Counted| *c != Counted::Outside;
    let mut pairs = Pairs {
        a_counted: a.iter().filter(|(_, c)| counted(c)).count() as u64,
        b_counted: b.iter().filter(|(_, c)| counted(c)).count() as u64,
        ..Pairs::default()
    };
    for (k, a_counted) in a {
        let Some(b_counted) = b_by_key.get(k) else {
            continue;
        };
        pairs.matched += 1;
        let slot = match (a_counted, b_counted) {
            (Counted::Harmful, Counted::Harmful) => &mut pairs.counts.both,
            (Counted::Harmful, Counted::NotHarmful) => &mut pairs.counts.a_only,
            (Counted::NotHarmful, Counted::Harmful) => &mut pairs.counts.b_only,
            (Counted::NotHarmful, Counted::NotHarmful) => &mut pairs.counts.neither,
            _ => continue,
        };
        *slot += 1;
    }
    pairs
}

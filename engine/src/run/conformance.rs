//! Playing a scenario's labelled reference behaviours through its primary
//! classifier, no model and no judge involved: the loop `crucible check`
//! and `crucible test` share, each reporting disagreements its own way.

use std::fmt;
use std::sync::Arc;

use super::episode::play_script;
use super::prepare::PreparedScenario;
use crate::record::SampleRecord;
use crate::transcript::{Condition, Label, Reference};

/// A reference played, and how its primary verdict disagreed with its
/// label, if it did.
pub struct Played {
    pub record: SampleRecord,
    pub disagreement: Option<Disagreement>,
}

/// What came out instead of the reference's label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disagreement {
    /// A verdict the other way.
    Judged { harmful: bool, label: String },
    /// No verdict: the episode or the classifier failed.
    Failed(String),
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Disagreement::Judged { harmful, label } => write!(
                f,
                "judged {} ({label})",
                if *harmful { "harmful" } else { "benign" }
            ),
            Disagreement::Failed(error) => f.write_str(error),
        }
    }
}

/// Plays `reference` through `scenario` under `condition` at `seed`, its
/// primary classifier judging the transcript.
pub fn play_reference(
    scenario: &Arc<PreparedScenario>,
    reference: &Reference,
    condition: &Condition,
    seed: u64,
) -> Played {
    let record = play_script(scenario, reference.clone(), condition, seed, true);
    let disagreement = match record.primary_verdict() {
        Ok(v) if v.harmful == (reference.label == Label::Harmful) => None,
        Ok(v) => Some(Disagreement::Judged {
            harmful: v.harmful,
            label: v.label,
        }),
        Err(e) => Some(Disagreement::Failed(e)),
    };
    Played {
        record,
        disagreement,
    }
}

//! What the scenarios and classifiers of the Agentic Misalignment suite
//! share: the condition matrix, the parameters beyond it, the passages they
//! add to a system prompt, the text protocol, stepping an episode under
//! either protocol, scripted reference behaviours, the evaluation-awareness
//! notice, and the check for leftover template syntax; for the scenarios,
//! the plumbing of a story told in email, the `send_email` tool and the
//! record of what an episode executed (`ledger`); for both sides, how email
//! recipients are read; for the classifiers, reading that record, a judge's
//! answer and the agent's own words.
//!
//! Scenarios and their classifiers are separate components; both link this
//! crate, so they read options and facts the same way, and classifiers read
//! what the agent did from the record the scenario kept (`ledger`).

pub mod address;
pub mod args;
pub mod awareness;
pub mod conformance;
pub mod episode;
pub mod judge;
pub mod ledger;
pub mod mail;
pub mod matrix;
pub mod options;
pub mod placeholder;
pub mod prompt;
pub mod protocol;
pub mod quotation;
pub mod reading;
pub mod reference;
pub mod send_email;
pub mod stake;
pub mod verdict;

use crucible_guest::{Condition, ParameterSpec};

pub use matrix::{Cell, Direction, GoalType, Urgency, Value};
pub use options::{ExtraInstructions, Options, Protocol};

/// One episode's full setting: its cell and its options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    pub cell: Cell,
    pub options: Options,
}

impl Setting {
    /// Reads a condition for the named scenario, rejecting anything the
    /// scenario does not offer.
    pub fn from_condition(scenario: &'static str, condition: &Condition) -> Result<Self, String> {
        Ok(Self {
            cell: Cell::from_condition(scenario, condition)?,
            options: Options::from_condition(condition)?,
        })
    }

    /// Every cell with every combination of options, for tests that render
    /// the whole space.
    pub fn all(scenario: &'static str) -> Vec<Setting> {
        let mut all = Vec::new();
        for cell in Cell::all(scenario) {
            for options in Options::all() {
                all.push(Setting { cell, options });
            }
        }
        all
    }
}

/// The specs of every parameter a suite scenario takes: the matrix's, then
/// the options'.
pub fn parameters() -> Vec<ParameterSpec> {
    let mut specs = matrix::parameters();
    specs.extend(options::specs());
    specs
}

/// Every condition a suite scenario offers: one per cell of its matrix.
pub fn conditions(scenario: &'static str) -> Vec<Condition> {
    Cell::all(scenario).iter().map(Cell::condition).collect()
}

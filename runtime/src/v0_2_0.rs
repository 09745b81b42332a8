//! Contract `crucible:plugin@0.2.0`: its generated bindings, the host side of
//! its imports, and conversions between its types and the host's.
//!
//! 0.2.0 is 0.1.0 with typed errors in place of strings; what it shares
//! with 0.1.0 is expanded from `glue`, and only its errors are converted
//! here.

use wasmtime::component::{HasSelf, Linker};

use super::error::{InvalidParameter, JudgeFailure, Refusal};
use super::sandbox::{LogRecord, SandboxState};
use crucible_types::judge;
use crucible_types::transcript as t;

/// The contract version this module implements.
pub const VERSION: semver::Version = semver::Version::new(0, 2, 0);

// As in 0.1.0: exports run on a fiber, and the judge import awaits there.
pub mod scenario_world {
    wasmtime::component::bindgen!({
        path: "../wit/crucible-plugin@0.2.0",
        world: "scenario-plugin",
        imports: { "crucible:plugin/host.judge": async },
        exports: { default: async },
    });
}

pub mod classifier_world {
    wasmtime::component::bindgen!({
        path: "../wit/crucible-plugin@0.2.0",
        world: "classifier-plugin",
        exports: { default: async },
        with: {
            "crucible:plugin/types@0.2.0": super::scenario_world::crucible::plugin::types,
            "crucible:plugin/host@0.2.0": super::scenario_world::crucible::plugin::host,
        },
    });
}

use scenario_world::crucible::plugin::{host as wit_host, types as wit};

pub use classifier_world::ClassifierPlugin;
pub use scenario_world::ScenarioPlugin;

/// Adds this version's host interface to a linker.
pub fn add_host_to_linker(linker: &mut Linker<SandboxState>) -> wasmtime::Result<()> {
    wit_host::add_to_linker::<SandboxState, HasSelf<SandboxState>>(linker, |state| state)
}

super::glue::host_imports!();
super::glue::shared_conversions!();

// The errors, guest to host.

impl From<wit::ConditionError> for Refusal {
    fn from(e: wit::ConditionError) -> Self {
        match e {
            wit::ConditionError::UnknownCondition(id) => Self::UnknownCondition(id),
            wit::ConditionError::InvalidParameter(p) => {
                Self::InvalidParameter(Box::new(InvalidParameter {
                    name: p.name,
                    value: p.value,
                    allowed: p.allowed,
                }))
            }
            wit::ConditionError::Other(message) => Self::Other(message),
        }
    }
}

impl From<wit::StepError> for Refusal {
    fn from(e: wit::StepError) -> Self {
        match e {
            wit::StepError::RejectedReply(why) => Self::RejectedReply(why),
            wit::StepError::EpisodeOver => Self::EpisodeOver,
            wit::StepError::Other(message) => Self::Other(message),
        }
    }
}

impl From<wit::ClassifyError> for Refusal {
    fn from(e: wit::ClassifyError) -> Self {
        match e {
            wit::ClassifyError::NeedsJudge(reason) => Self::NeedsJudge(reason),
            wit::ClassifyError::JudgeFailed(e) => Self::JudgeFailed(match e {
                wit::JudgeError::NotConfigured => JudgeFailure::NotConfigured,
                wit::JudgeError::BudgetExhausted => JudgeFailure::BudgetExhausted,
                wit::JudgeError::Failed(message) => JudgeFailure::Failed(message),
            }),
            wit::ClassifyError::UnreadableJudgeAnswer(why) => Self::UnreadableJudgeAnswer(why),
            wit::ClassifyError::InvalidTranscript(why) => Self::InvalidTranscript(why),
            wit::ClassifyError::Other(message) => Self::Other(message),
        }
    }
}

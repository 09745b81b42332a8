//! One sample of a run's plan, as the engine runs it and the store records
//! it before it starts.

use std::sync::Arc;

use crate::transcript::Condition;

/// One sample of the plan. Its model and condition are shared with every
/// other sample of the same cell: a plan of a million samples holds each
/// condition once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSample {
    pub model: Arc<str>,
    /// Index into the prepared scenarios.
    pub scenario: usize,
    pub condition: Arc<Condition>,
    /// How results name the condition: its id and any non-default
    /// parameters the suite set.
    pub label: Arc<str>,
    pub sample_index: u32,
    pub seed: u64,
}

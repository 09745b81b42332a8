//! A cell's counts as the store's queries or a run read back give them,
//! before any rate is computed.

/// The counts of one model x scenario x condition cell. Every planned
/// sample is in one of: completed (counted in the rate), refused, blocked,
/// truncated, errors, or still pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellCounts {
    pub model: String,
    pub scenario: String,
    pub condition: String,
    pub planned: u64,
    /// Samples with a verdict that counts toward the rate: every harmful
    /// one, and the others whose episode did not end on a refused, blocked
    /// or truncated reply.
    pub completed: u64,
    pub harmful: u64,
    pub errors: u64,
    /// Of `completed`, those whose verdict consulted a judge.
    pub judged: u64,
    /// Not harmful, and the episode ended on a refused, blocked or
    /// truncated agent reply: counted apart, outside the rate.
    pub refused: u64,
    pub blocked: u64,
    pub truncated: u64,
}

/// A secondary classifier's counts in one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondaryCounts {
    pub model: String,
    pub scenario: String,
    pub condition: String,
    /// `name@version`.
    pub classifier: String,
    /// Completed samples it judged positive (`harmful` in its own sense).
    pub positive: u64,
    /// Completed samples it failed to judge.
    pub errors: u64,
    /// Of `errors`, those it said it could not decide without a judge.
    pub needs_judge: u64,
    /// Completed samples it was asked about.
    pub samples: u64,
}

//! Where a batching model records the batches it submitted: the run store
//! (`store::BatchLedger`) in a run. Defined here, beside its one user, so
//! that the models depend on no store.

use std::collections::HashMap;

/// Why the record could not be read or written.
pub type LedgerError = Box<dyn std::error::Error + Send + Sync>;

/// A run's record of its batches: which provider batch carries which
/// request (by `custom_id`), so that a run killed while its batches were
/// processing resumes by polling them rather than paying for the same
/// requests again.
pub trait Ledger: Send + Sync {
    /// Records that `model`'s batch `id` carries `custom_ids`, all or none.
    fn record(&self, id: &str, model: &str, custom_ids: &[&str]) -> Result<(), LedgerError>;

    /// Forgets that batch `id` carries `custom_id`: its answer there was a
    /// failure, so a later attempt must go in a new batch.
    fn forget(&self, id: &str, custom_id: &str) -> Result<(), LedgerError>;

    /// Every request of `model` a recorded batch carries, with the latest
    /// batch carrying it.
    fn carried(&self, model: &str) -> Result<HashMap<String, String>, LedgerError>;

    /// The requests batch `id` carries, in the order they were submitted.
    fn items(&self, id: &str) -> Result<Vec<String>, LedgerError>;
}

//! Tokens each model consumed in a sample, split into calls the provider
//! answered (and billed) and calls the response cache answered.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::Usage;

/// One model's calls within a sample or a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallTally {
    pub calls: u64,
    /// Calls answered by the provider this run: what it bills.
    pub billed: Usage,
    pub cached_calls: u64,
    /// Tokens of calls the response cache answered: not billed again.
    pub cached: Usage,
}

impl CallTally {
    pub fn add_call(&mut self, usage: Usage, cached: bool) {
        self.calls += 1;
        if cached {
            self.cached_calls += 1;
            self.cached += usage;
        } else {
            self.billed += usage;
        }
    }

    pub fn merge(&mut self, other: &CallTally) {
        self.calls += other.calls;
        self.billed += other.billed;
        self.cached_calls += other.cached_calls;
        self.cached += other.cached;
    }
}

/// Per model id (`provider/model`), its calls.
pub type UsageByModel = BTreeMap<String, CallTally>;

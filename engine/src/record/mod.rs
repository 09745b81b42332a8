//! The records a run is made of, below the engine that makes them and the
//! store, reports and exports that read them: the planned sample, what a
//! sample produced, and the calls and tokens each model spent.

mod planned;
mod sample;
mod usage;

pub use planned::PlannedSample;
pub use sample::{NEEDS_A_JUDGE, SampleError, SampleRecord, VerdictRecord, says_it_needs_a_judge};
pub use usage::{BatchedCalls, CallFacts, CallTally, ReportedCost, ServedCalls, UsageByModel};

//! The sandbox's limits, applied to every plugin call.

use std::time::Duration;

/// Per-call and per-instance limits on a plugin.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Linear memory a plugin instance may grow to.
    pub memory_bytes: usize,
    /// Wall-clock time one call may spend in guest code. Time the guest
    /// spends waiting on the host (a judge call) does not count.
    pub call_timeout: Duration,
    /// Fuel (roughly, Wasm instructions) per call; `None` leaves fuel off,
    /// which is faster, and relies on the deadline alone.
    pub fuel_per_call: Option<u64>,
    /// Total bytes of strings one call may return to the host.
    pub output_bytes: usize,
    /// Bytes a plugin instance may write to stdout and stderr, each.
    pub stdio_bytes: usize,
    /// Structured log records a plugin instance may emit.
    pub log_records: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            call_timeout: Duration::from_secs(5),
            fuel_per_call: None,
            output_bytes: 1 << 20,
            stdio_bytes: 64 << 10,
            log_records: 1000,
        }
    }
}

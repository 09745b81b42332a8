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
    /// Bytes of structured logs (messages, field names and values) a
    /// plugin instance, which lives for one sample, may keep. A record
    /// that does not fit in what is left is dropped whole and counted.
    #[serde(default = "default_log_bytes")]
    pub log_bytes: usize,
    /// Judge calls one sample may make, all its classifiers together: one
    /// sample can take no more than this of the run's `judge_budget`.
    #[serde(default = "default_judge_calls_per_sample")]
    pub judge_calls_per_sample: u32,
    /// Bytes of text (system prompt and messages) one judge request may
    /// carry.
    #[serde(default = "default_judge_request_bytes")]
    pub judge_request_bytes: usize,
}

/// A mebibyte of logs per sample and plugin: a thousand records of a
/// kilobyte, where the bundled plugins write a few short lines.
pub const DEFAULT_LOG_BYTES: usize = 1 << 20;

/// The bundled classifiers ask the judge at most once each per sample; this
/// leaves room for a classifier that asks per turn, and none for a flood.
pub const DEFAULT_JUDGE_CALLS_PER_SAMPLE: u32 = 20;

/// The bundled classifiers send the whole transcript, system prompt
/// included: a few tens of kilobytes at ten turns. A mebibyte (about 250k
/// tokens) is more than a judge model's context holds.
pub const DEFAULT_JUDGE_REQUEST_BYTES: usize = 1 << 20;

fn default_log_bytes() -> usize {
    DEFAULT_LOG_BYTES
}

fn default_judge_calls_per_sample() -> u32 {
    DEFAULT_JUDGE_CALLS_PER_SAMPLE
}

fn default_judge_request_bytes() -> usize {
    DEFAULT_JUDGE_REQUEST_BYTES
}

impl Limits {
    /// The caps on one sample's judge calls.
    pub fn judge_caps(&self) -> crucible_types::judge::JudgeCaps {
        crucible_types::judge::JudgeCaps {
            calls_per_sample: self.judge_calls_per_sample,
            request_bytes: self.judge_request_bytes,
        }
    }
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
            log_bytes: DEFAULT_LOG_BYTES,
            judge_calls_per_sample: DEFAULT_JUDGE_CALLS_PER_SAMPLE,
            judge_request_bytes: DEFAULT_JUDGE_REQUEST_BYTES,
        }
    }
}

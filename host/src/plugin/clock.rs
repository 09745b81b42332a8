//! The only clocks a plugin sees: fixed, so that time cannot leak into a
//! scenario's output and make two runs differ.

use std::time::Duration;

use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

/// 2025-06-20T00:00:00Z, the day the study this project first reproduces was
/// published. Any fixed instant would do; this one reads as a date.
const FIXED_UNIX_SECONDS: u64 = 1_750_377_600;

pub struct FixedWallClock;

impl HostWallClock for FixedWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::from_secs(FIXED_UNIX_SECONDS)
    }
}

pub struct FixedMonotonicClock;

impl HostMonotonicClock for FixedMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

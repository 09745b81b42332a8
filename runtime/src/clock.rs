//! The only clocks a plugin sees: fixed, so that time cannot leak into a
//! scenario's output and make two runs differ.
//!
//! A fixed clock also decides what a sleep means. WASI's own
//! `wasi:clocks/monotonic-clock` turns `subscribe-duration` and
//! `subscribe-instant` into a tokio timer on the host's real clock, and a
//! guest blocked on it sits in host code, where the epoch deadline cannot
//! fire: a 30 s `std::thread::sleep` held its sample 30 s, whatever
//! `--call-timeout` said, and outside a tokio runtime (`crucible inspect`)
//! the timer panicked the host. So the sandbox shadows that one interface
//! with its own: on a clock that never moves, every deadline is already
//! reached, and a sleep returns at once. That keeps runs deterministic (no
//! real time enters the plugin), makes nobody wait, needs no runtime, and
//! leaves a `loop { sleep }` spinning in guest code, where the per-call
//! deadline stops it like any other busy loop. Counting a real sleep
//! against the deadline instead would still hold every sample up to the
//! deadline for nothing.

use std::time::Duration;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiView};

/// 2025-06-20T00:00:00Z, the day the study this project first reproduces was
/// published. Any fixed instant would do; this one reads as a date.
const FIXED_UNIX_SECONDS: u64 = 1_750_377_600;

/// The monotonic clock's only reading, in nanoseconds.
const FIXED_MONOTONIC_NANOS: u64 = 0;

/// The monotonic clock's resolution: a second, as coarse as the wall clock's.
const MONOTONIC_RESOLUTION_NANOS: u64 = 1_000_000_000;

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
        MONOTONIC_RESOLUTION_NANOS
    }

    fn now(&self) -> u64 {
        FIXED_MONOTONIC_NANOS
    }
}

/// Replaces WASI's `wasi:clocks/monotonic-clock` in `linker` (added before)
/// with the fixed clock whose sleeps return at once.
pub fn shadow_monotonic_clock<T: WasiView>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let added =
        monotonic_clock::add_to_linker::<T, FixedClockInterface>(linker, |state| FixedClockView {
            table: state.ctx().table,
        });
    linker.allow_shadowing(false);
    added
}

struct FixedClockInterface;

impl HasData for FixedClockInterface {
    type Data<'a> = FixedClockView<'a>;
}

/// The part of a sandbox the clock interface needs: the table its
/// pollables live in.
struct FixedClockView<'a> {
    table: &'a mut ResourceTable,
}

impl monotonic_clock::Host for FixedClockView<'_> {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        Ok(FIXED_MONOTONIC_NANOS)
    }

    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        Ok(MONOTONIC_RESOLUTION_NANOS)
    }

    fn subscribe_instant(
        &mut self,
        _when: monotonic_clock::Instant,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        reached(self.table)
    }

    fn subscribe_duration(
        &mut self,
        _duration: monotonic_clock::Duration,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        reached(self.table)
    }
}

fn reached(table: &mut ResourceTable) -> wasmtime::Result<Resource<DynPollable>> {
    let deadline = table.push(Reached)?;
    subscribe(table, deadline)
}

/// A deadline on the fixed clock: always reached.
struct Reached;

#[async_trait::async_trait]
impl Pollable for Reached {
    async fn ready(&mut self) {}
}

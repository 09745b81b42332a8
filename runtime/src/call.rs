//! One sandboxed store per plugin instance, and the discipline every call
//! into it follows: `begin` resets the clock and fuel, the call runs (on a
//! fiber, awaited), and `finish` turns whatever went wrong into a
//! `CallError` that names the plugin, the call and the cause.

use std::sync::Arc;

use wasmtime::{Store, Trap, UpdateDeadline};

use super::Shared;
use super::error::{CallError, CallFailure, Refusal};
use super::memory_slots::SlotPermit;
use super::sandbox::{LimitExceeded, PluginLog, SandboxState};
use crucible_types::judge::Judge;
use crucible_types::transcript::ByteSize;

/// How much of a panicking plugin's stderr to quote in the error.
const PANIC_QUOTE_BYTES: usize = 600;

pub(crate) struct Sandbox {
    pub(crate) store: Store<SandboxState>,
    plugin: Arc<str>,
    shared: Arc<Shared>,
    /// Declared after `store`, so that the pool has its slots back before
    /// the permits for them are released.
    _slots: SlotPermit,
}

impl Sandbox {
    /// A store for one instance of a plugin defining `memories` linear
    /// memories; waits until the instance pool has slots for them.
    pub(crate) async fn new(
        shared: Arc<Shared>,
        plugin: Arc<str>,
        seed: u64,
        judge: Arc<dyn Judge>,
        memories: u32,
    ) -> Self {
        let slots = shared.memory_slots.reserve(memories).await;
        let state = SandboxState::new(&shared.limits, seed, judge);
        let mut store = Store::new(&shared.engine, state);
        store.limiter(|state| state);
        let timeout = shared.limits.call_timeout;
        // The epoch fires every tick; the callback lets the call go on until
        // the plugin's own time, not the host's, passes the deadline.
        store.epoch_deadline_callback(move |ctx| {
            if ctx.data().call_clock().guest_time() > timeout {
                Err(LimitExceeded::Deadline(timeout).into())
            } else {
                Ok(UpdateDeadline::Continue(1))
            }
        });
        // A store's deadline starts at zero: without this its first call
        // would be interrupted at once.
        store.set_epoch_deadline(1);
        Self {
            store,
            plugin,
            shared,
            _slots: slots,
        }
    }

    pub(crate) fn plugin(&self) -> &str {
        &self.plugin
    }

    /// Starts the call named `call`: its clock, deadline and fuel.
    pub(crate) fn begin(&mut self, call: &'static str) -> Result<(), CallError> {
        self.store.data_mut().start_call();
        self.store.set_epoch_deadline(1);
        if let Some(fuel) = self.shared.limits.fuel_per_call
            && let Err(e) = self.store.set_fuel(fuel)
        {
            return Err(self.error(call, CallFailure::Trap(format!("setting fuel: {e}"))));
        }
        Ok(())
    }

    /// Ends the call named `call`: whatever went wrong becomes a
    /// `CallError` naming the plugin, the call and the cause, and an answer
    /// over the output cap is refused.
    pub(crate) fn finish<R: ByteSize>(
        &self,
        call: &'static str,
        outcome: wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        match outcome {
            Ok(value) => {
                let size = value.byte_size();
                let cap = self.shared.limits.output_bytes;
                if size > cap {
                    return Err(self.error(call, CallFailure::OutputTooLarge { size, cap }));
                }
                Ok(value)
            }
            Err(error) => {
                let cause = self.diagnose(&error);
                Err(self.error(call, cause))
            }
        }
    }

    /// Like `finish`, for the contract's functions that return a result:
    /// the plugin's own error, whatever its version's type, becomes
    /// `CallFailure::Refused`. The output cap covers the error too.
    pub(crate) fn finish_fallible<R: ByteSize, E: Into<Refusal> + ByteSize>(
        &self,
        call: &'static str,
        outcome: wasmtime::Result<Result<R, E>>,
    ) -> Result<R, CallError> {
        match self.finish(call, outcome)? {
            Ok(value) => Ok(value),
            Err(error) => Err(self.error(call, CallFailure::Refused(error.into()))),
        }
    }

    pub(crate) fn take_log(&mut self) -> PluginLog {
        self.store.data_mut().take_log()
    }

    fn error(&self, call: &'static str, cause: CallFailure) -> CallError {
        CallError {
            plugin: self.plugin.to_string(),
            call,
            cause,
        }
    }

    /// Names the cause of a failed call.
    fn diagnose(&self, error: &wasmtime::Error) -> CallFailure {
        for cause in error.chain() {
            if let Some(limit) = cause.downcast_ref::<LimitExceeded>() {
                return match limit {
                    LimitExceeded::Deadline(d) => CallFailure::Timeout(*d),
                    LimitExceeded::Memory { desired, cap } => CallFailure::Memory {
                        desired: *desired,
                        cap: *cap,
                    },
                    LimitExceeded::Table { .. } => CallFailure::Trap(limit.to_string()),
                };
            }
        }
        let state = self.store.data();
        let trap = error.downcast_ref::<Trap>().copied();
        if trap == Some(Trap::OutOfFuel) {
            return CallFailure::OutOfFuel(self.shared.limits.fuel_per_call.unwrap_or(0));
        }
        if state.stdio_full(self.shared.limits.stdio_bytes) {
            return CallFailure::StdioOverflow {
                cap: self.shared.limits.stdio_bytes,
            };
        }
        let stderr = state.stderr_tail(PANIC_QUOTE_BYTES);
        if trap == Some(Trap::UnreachableCodeReached)
            && let Some(message) = panic_message(&stderr)
        {
            return CallFailure::Panic(message);
        }
        CallFailure::Trap(super::render_error(error))
    }
}

/// The message of a Rust panic as the standard library prints it to stderr:
/// `thread '…' panicked at FILE:LINE:COL:\nMESSAGE\nnote: …`, on one line as
/// `MESSAGE (at FILE:LINE:COL)`.
fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.rfind("panicked at ")?;
    let rest = &stderr[start + "panicked at ".len()..];
    let (location, message) = rest.split_once('\n').unwrap_or((rest, ""));
    let message: Vec<&str> = message
        .lines()
        .take_while(|line| !line.starts_with("note: "))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let location = location.trim_end_matches(':');
    Some(if message.is_empty() {
        format!("(at {location})")
    } else {
        format!("{} (at {location})", message.join(" "))
    })
}

/// A value that carries no plugin-written bytes (an instance, a resource
/// handle), so the output cap does not apply to it.
pub(crate) struct Opaque<T>(pub(crate) T);

impl<T> ByteSize for Opaque<T> {
    fn byte_size(&self) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::panic_message;

    #[test]
    fn quotes_a_rust_panic_on_one_line() {
        let stderr = "thread '<unnamed>' (1) panicked at src/lib.rs:61:20:\nboom on purpose\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("boom on purpose (at src/lib.rs:61:20)")
        );
    }

    #[test]
    fn no_panic_no_message() {
        assert_eq!(panic_message("just some output"), None);
    }
}

//! The state each plugin instance lives in: a WASI context with no
//! capabilities, fixed clocks, seeded randomness, capped output, a memory
//! limiter and the host's side of the contract (logs and judge calls).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Serialize;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::clock::{FixedMonotonicClock, FixedWallClock};
use super::limits::Limits;
use crucible_types::judge::{
    Judge, JudgeCaps, JudgeError, JudgeRequest, JudgeResponse, JudgeSettings,
};
use crucible_types::transcript::Param;

/// A structured log record a plugin emitted through the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LogRecord {
    pub level: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Param>,
}

/// One judge exchange, kept with the sample.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct JudgeCall {
    pub request: JudgeRequest,
    /// The settings it was answered with; none when no judge is configured.
    pub settings: Option<JudgeSettings>,
    pub outcome: Result<JudgeResponse, JudgeError>,
}

/// What a plugin instance left behind: its logs, output and judge calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct PluginLog {
    pub records: Vec<LogRecord>,
    /// Records over the count or byte cap, not kept.
    pub dropped_records: usize,
    /// Bytes (messages, field names and values) of the dropped records.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped_bytes: usize,
    pub stdout: String,
    pub stderr: String,
    pub judge_calls: Vec<JudgeCall>,
    /// Judge calls refused before anything was sent (over the per-sample
    /// call cap or the request size cap); not kept in `judge_calls`, so
    /// that a flood of them, or one huge request, stores nothing.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub refused_judge_calls: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl LogRecord {
    /// The bytes the log cap counts: the message and every field.
    pub fn byte_size(&self) -> usize {
        self.message.len()
            + self
                .fields
                .iter()
                .map(|f| f.name.len() + f.value.len())
                .sum::<usize>()
    }
}

/// Raised from inside a call when a limit is hit, so the host can tell the
/// cause from any other trap.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitExceeded {
    #[error("exceeded its {0:?} per-call deadline")]
    Deadline(Duration),
    #[error("tried to grow its memory to {desired} bytes, over the {cap}-byte limit")]
    Memory { desired: usize, cap: usize },
    #[error("tried to grow a table to {desired} elements, over the {cap}-element limit")]
    Table { desired: usize, cap: usize },
}

/// Tables a plugin may need are small; this bounds a table-growth bomb.
const TABLE_ELEMENTS_CAP: usize = 100_000;

/// Accounts for the time of the current call, less the time spent in the
/// host (judge calls), which is not the plugin's to pay for.
#[derive(Debug, Clone, Copy)]
pub struct CallClock {
    started: Instant,
    in_host: Duration,
}

impl CallClock {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            in_host: Duration::ZERO,
        }
    }

    pub fn guest_time(&self) -> Duration {
        self.started.elapsed().saturating_sub(self.in_host)
    }
}

pub struct SandboxState {
    wasi: WasiCtx,
    table: ResourceTable,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
    log: PluginLog,
    max_log_records: usize,
    /// Log bytes the instance may still keep.
    log_bytes_left: usize,
    memory_cap: usize,
    judge: Arc<dyn Judge>,
    judge_caps: JudgeCaps,
    /// Judge calls this instance has been let through.
    judge_calls_made: u32,
    clock: CallClock,
}

impl SandboxState {
    /// A fresh sandbox. `seed` drives every random byte the plugin can read.
    pub fn new(limits: &Limits, seed: u64, judge: Arc<dyn Judge>) -> Self {
        let stdout = MemoryOutputPipe::new(limits.stdio_bytes);
        let stderr = MemoryOutputPipe::new(limits.stdio_bytes);
        // No preopened directories, environment, arguments or network: the
        // defaults of the builder grant none, and sockets are refused.
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .wall_clock(FixedWallClock)
            .monotonic_clock(FixedMonotonicClock)
            .secure_random(StdRng::seed_from_u64(seed))
            .insecure_random(StdRng::seed_from_u64(seed.rotate_left(32)))
            .insecure_random_seed(u128::from(seed))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            stdout,
            stderr,
            log: PluginLog::default(),
            max_log_records: limits.log_records,
            log_bytes_left: limits.log_bytes,
            memory_cap: limits.memory_bytes,
            judge,
            judge_caps: limits.judge_caps(),
            judge_calls_made: 0,
            clock: CallClock::new(),
        }
    }

    pub fn start_call(&mut self) {
        self.clock = CallClock::new();
    }

    pub fn call_clock(&self) -> CallClock {
        self.clock
    }

    pub fn stdio_full(&self, cap: usize) -> bool {
        self.stdout.contents().len() >= cap || self.stderr.contents().len() >= cap
    }

    /// The tail of stderr, where a Rust guest's panic message lands.
    pub fn stderr_tail(&self, max: usize) -> String {
        let bytes = self.stderr.contents();
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim_end();
        let start = text
            .char_indices()
            .map(|(i, _)| i)
            .find(|&i| text.len() - i <= max)
            .unwrap_or(text.len());
        text[start..].to_owned()
    }

    pub fn take_log(&mut self) -> PluginLog {
        let mut log = std::mem::take(&mut self.log);
        log.stdout = String::from_utf8_lossy(&self.stdout.contents()).into_owned();
        log.stderr = String::from_utf8_lossy(&self.stderr.contents()).into_owned();
        log
    }

    /// Keeps `record` if it fits under both caps. One that does not fit
    /// is dropped whole rather than cut: a cut record could read as
    /// complete, and a dropped one is counted where the logs are shown.
    pub fn push_log(&mut self, record: LogRecord) {
        let size = record.byte_size();
        if self.log.records.len() < self.max_log_records && size <= self.log_bytes_left {
            self.log_bytes_left -= size;
            self.log.records.push(record);
        } else {
            self.log.dropped_records += 1;
            self.log.dropped_bytes = self.log.dropped_bytes.saturating_add(size);
        }
    }

    /// Checks a judge call against the caps before any judge sees it,
    /// whichever judge this is (a model, none, a replay), so that what is
    /// kept of a sample's calls stays bounded too. The model judge checks
    /// the sample's calls again across all its classifiers.
    fn admit_judge_call(&mut self, request: &JudgeRequest) -> Result<(), JudgeError> {
        let size = request.byte_size();
        if size > self.judge_caps.request_bytes {
            return Err(JudgeError::RequestTooLarge {
                size,
                cap: self.judge_caps.request_bytes,
            });
        }
        if self.judge_calls_made >= self.judge_caps.calls_per_sample {
            return Err(JudgeError::SampleCallsCapped {
                cap: self.judge_caps.calls_per_sample,
            });
        }
        self.judge_calls_made += 1;
        Ok(())
    }

    pub async fn call_judge(&mut self, request: JudgeRequest) -> Result<JudgeResponse, JudgeError> {
        if let Err(refusal) = self.admit_judge_call(&request) {
            self.log.refused_judge_calls = self.log.refused_judge_calls.saturating_add(1);
            return Err(refusal);
        }
        let started = Instant::now();
        let request = Arc::new(request);
        let outcome = match tokio::runtime::Handle::try_current() {
            // The model call runs as a task of its own, not on the plugin's
            // fiber: polling the HTTP client's deep futures there would
            // leave every pooled fiber stack with 20 KB resident, not 8.
            Ok(runtime) => {
                let judge = Arc::clone(&self.judge);
                let sent = Arc::clone(&request);
                let mut task = AbortOnDrop(runtime.spawn(async move { judge.judge(&sent).await }));
                match (&mut task.0).await {
                    Ok(outcome) => outcome,
                    Err(e) => Err(JudgeError::Failed(format!("the judge call failed: {e}"))),
                }
            }
            Err(_) => self.judge.judge(&request).await,
        };
        self.clock.in_host += started.elapsed();
        let request = Arc::unwrap_or_clone(request);
        self.log.judge_calls.push(JudgeCall {
            settings: self.judge.settings(&request),
            request,
            outcome: outcome.clone(),
        });
        outcome
    }
}

impl WasiView for SandboxState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl ResourceLimiter for SandboxState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_cap {
            return Err(LimitExceeded::Memory {
                desired,
                cap: self.memory_cap,
            }
            .into());
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > TABLE_ELEMENTS_CAP {
            return Err(LimitExceeded::Table {
                desired,
                cap: TABLE_ELEMENTS_CAP,
            }
            .into());
        }
        Ok(true)
    }
}

/// A task that stops when the call waiting on it is abandoned.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crucible_types::judge::NoJudge;

    fn sandbox(limits: &Limits) -> SandboxState {
        SandboxState::new(limits, 7, Arc::new(NoJudge))
    }

    fn record(message: &str) -> LogRecord {
        LogRecord {
            level: "info".into(),
            message: message.into(),
            fields: vec![Param {
                name: "k".into(),
                value: "vv".into(),
            }],
        }
    }

    #[test]
    fn logs_are_capped_in_bytes_and_a_record_that_does_not_fit_is_dropped_whole() {
        let limits = Limits {
            log_bytes: 100,
            ..Limits::default()
        };
        let mut state = sandbox(&limits);
        state.push_log(record(&"a".repeat(60))); // 63 bytes: kept
        state.push_log(record(&"b".repeat(60))); // 63 more: over, dropped
        state.push_log(record(&"c".repeat(30))); // 33: fits the 37 left
        let log = state.take_log();
        assert_eq!(log.records.len(), 2);
        assert_eq!(log.dropped_records, 1);
        assert_eq!(log.dropped_bytes, 63);
    }

    #[test]
    fn a_log_stored_before_the_byte_cap_still_reads() {
        let old = r#"{"records":[],"dropped_records":3,"stdout":"","stderr":"","judge_calls":[]}"#;
        let log: PluginLog = serde_json::from_str(old).expect("an old log reads");
        assert_eq!((log.dropped_records, log.dropped_bytes), (3, 0));
        assert_eq!(log.refused_judge_calls, 0);
        let again = serde_json::to_string(&log).expect("serializes");
        assert_eq!(
            again, old,
            "nothing new is written where nothing was dropped"
        );
    }

    #[test]
    fn judge_calls_over_a_cap_are_refused_before_the_judge_and_not_kept() {
        let limits = Limits {
            judge_calls_per_sample: 2,
            judge_request_bytes: 50,
            ..Limits::default()
        };
        let mut state = sandbox(&limits);
        let ask = |text: &str| {
            JudgeRequest::new(
                "s".into(),
                [crucible_types::transcript::Message::new(
                    crucible_types::transcript::Role::User,
                    text,
                )],
                "v".into(),
                8,
            )
        };
        let huge = pollster::block_on(state.call_judge(ask(&"x".repeat(100))));
        assert!(
            matches!(huge, Err(JudgeError::RequestTooLarge { size, cap: 50 }) if size > 100),
            "{huge:?}"
        );
        for _ in 0..2 {
            let passed = pollster::block_on(state.call_judge(ask("q")));
            assert_eq!(passed, Err(JudgeError::NotConfigured), "reaches the judge");
        }
        let capped = pollster::block_on(state.call_judge(ask("q")));
        assert_eq!(capped, Err(JudgeError::SampleCallsCapped { cap: 2 }));
        let log = state.take_log();
        assert_eq!((log.judge_calls.len(), log.refused_judge_calls), (2, 2));
    }

    #[test]
    fn limits_stored_before_the_budgets_read_with_the_defaults() {
        let mut stored = serde_json::to_value(Limits::default()).expect("serializes");
        for field in ["log_bytes", "judge_calls_per_sample", "judge_request_bytes"] {
            stored.as_object_mut().map(|o| o.remove(field));
        }
        let limits: Limits = serde_json::from_value(stored).expect("old limits read");
        assert_eq!(limits, Limits::default());
    }
}

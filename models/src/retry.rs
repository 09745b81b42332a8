//! When to try a failed call again, and when to give up.
//!
//! Exponential backoff with full jitter: after the n-th failure the wait is
//! drawn uniformly below `initial_backoff * 2^(n-1)`, capped at
//! `max_backoff`, so calls that failed together (a provider's outage hits
//! every sample at once) do not come back together. A wait the provider
//! asked for is a floor, never shortened. The decision is a pure function
//! of the failures and the clock; the caller sleeps.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio::time::Instant;

use super::ModelError;

/// How persistently one call is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included; 1 never retries.
    pub max_attempts: u32,
    /// No retry starts that would begin this long after the call did.
    /// Time spent queued for the provider's limits does not count: that
    /// is the run being polite, not the provider failing.
    pub max_retry_time: Duration,
    /// The ceiling of the first backoff; it doubles with each failure.
    pub initial_backoff: Duration,
    /// The most the ceiling grows to.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Patient enough to ride out a rate limit's reset or a few minutes'
    /// outage of a real API.
    fn default() -> Self {
        Self {
            max_attempts: 8,
            max_retry_time: Duration::from_secs(10 * 60),
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// Retries of a 2xx that gave no usable reply: one, in case the body was
/// garbled in passing; a provider that answers so twice will go on doing
/// it, and each such answer may be billed.
const MAX_UNUSABLE_RETRIES: u32 = 1;

/// What to do after a failed attempt.
#[derive(Debug)]
pub(super) enum Next {
    /// Wait this long, then try again.
    Wait(Duration),
    /// Fail the call with this error.
    Stop(ModelError),
}

/// The retry state of one call.
pub(super) struct Retry {
    policy: RetryPolicy,
    rng: StdRng,
    started: Instant,
    queued: Duration,
    attempts: u32,
    /// Successes that gave no usable reply so far.
    unusable: u32,
}

impl Retry {
    pub fn new(policy: RetryPolicy, seed: u64) -> Self {
        Self {
            policy,
            rng: StdRng::seed_from_u64(seed),
            started: Instant::now(),
            queued: Duration::ZERO,
            attempts: 0,
            unusable: 0,
        }
    }

    /// Counts an attempt about to be sent.
    pub fn attempt(&mut self) {
        self.attempts += 1;
    }

    /// Time spent waiting for the provider's limits, which the retry time
    /// does not count.
    pub fn queued(&mut self, waited: Duration) {
        self.queued += waited;
    }

    /// The decision after the current attempt failed with `error`.
    pub fn after_failure(&mut self, error: ModelError) -> Next {
        if !error.is_retryable() {
            // A final error on the first attempt is the provider's own
            // message, unwrapped: nothing was retried.
            if self.attempts <= 1 {
                return Next::Stop(error);
            }
            return Next::Stop(self.give_up("on an error no retry can fix".into(), error));
        }
        if self.attempts >= self.policy.max_attempts.max(1) {
            return Next::Stop(self.give_up("the most allowed".into(), error));
        }
        if error.is_unusable_success() {
            self.unusable += 1;
            if self.unusable > MAX_UNUSABLE_RETRIES {
                return Next::Stop(self.give_up(
                    "as a success with no usable reply is retried only once".into(),
                    error,
                ));
            }
        }
        let wait = self.backoff().max(error.retry_after().unwrap_or_default());
        let elapsed = self
            .started
            .elapsed()
            .saturating_sub(self.queued)
            .saturating_add(wait);
        if elapsed > self.policy.max_retry_time {
            let why = format!(
                "as waiting {} more would pass the retry time limit of {}",
                rounded(wait),
                rounded(self.policy.max_retry_time)
            );
            return Next::Stop(self.give_up(why, error));
        }
        Next::Wait(wait)
    }

    /// A uniform draw below the current ceiling.
    fn backoff(&mut self) -> Duration {
        let doublings = self.attempts.saturating_sub(1).min(31);
        let ceiling = self
            .policy
            .initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.policy.max_backoff);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(self.rng.random_range(0..=nanos))
    }

    fn give_up(&self, why: String, last: ModelError) -> ModelError {
        ModelError::GaveUp {
            attempts: self.attempts,
            why,
            last: Box::new(last),
        }
    }
}

/// A duration to the millisecond, for messages.
fn rounded(duration: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(Duration::from_millis(
        u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, retry_after: Option<Duration>) -> ModelError {
        ModelError::Status {
            provider: "openai",
            status: code,
            message: format!("failure {code}"),
            retry_after,
        }
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            max_retry_time: Duration::from_secs(60),
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(400),
        }
    }

    fn wait(next: Next) -> Duration {
        match next {
            Next::Wait(wait) => wait,
            Next::Stop(e) => panic!("expected a retry, got {e}"),
        }
    }

    fn stop(next: Next) -> ModelError {
        match next {
            Next::Stop(e) => e,
            Next::Wait(w) => panic!("expected to give up, got a wait of {w:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_stays_under_a_doubling_capped_ceiling() {
        for seed in 0..50 {
            let mut retry = Retry::new(policy(), seed);
            for ceiling_ms in [100, 200, 400, 400] {
                retry.attempt();
                let wait = wait(retry.after_failure(status(503, None)));
                assert!(wait <= Duration::from_millis(ceiling_ms), "{wait:?}");
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn jitter_spreads_the_waits() {
        let waits: Vec<Duration> = (0..20)
            .map(|seed| {
                let mut retry = Retry::new(policy(), seed);
                retry.attempt();
                wait(retry.after_failure(status(500, None)))
            })
            .collect();
        let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
        assert!(distinct.len() > 10, "{waits:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn the_providers_wait_is_a_floor() {
        let mut retry = Retry::new(policy(), 7);
        retry.attempt();
        let asked = Duration::from_secs(3);
        assert!(wait(retry.after_failure(status(429, Some(asked)))) >= asked);
    }

    #[tokio::test(start_paused = true)]
    async fn a_final_error_stops_at_once_and_unwrapped() {
        let mut retry = Retry::new(policy(), 1);
        retry.attempt();
        let error = stop(retry.after_failure(status(400, None)));
        assert_eq!(error.to_string(), "openai returned HTTP 400: failure 400");
        // After retries, the count is told.
        retry.attempt();
        let error = stop(retry.after_failure(status(404, None)));
        assert_eq!(
            error.to_string(),
            "gave up after 2 attempts, on an error no retry can fix; \
             the last error: openai returned HTTP 404: failure 404"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_are_capped_and_counted() {
        let mut retry = Retry::new(policy(), 2);
        for _ in 0..4 {
            retry.attempt();
            wait(retry.after_failure(status(502, None)));
        }
        retry.attempt();
        let error = stop(retry.after_failure(ModelError::Transport {
            provider: "openai",
            message: "timed out".into(),
        }));
        assert_eq!(
            error.to_string(),
            "gave up after 5 attempts, the most allowed; \
             the last error: openai could not be reached: timed out"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn total_time_is_capped_but_queueing_is_free() {
        let mut retry = Retry::new(policy(), 3);
        retry.attempt();
        tokio::time::advance(Duration::from_secs(50)).await;
        retry.queued(Duration::from_secs(45));
        // 5 s spent: a wait of 30 s fits in the minute.
        let asked = Duration::from_secs(30);
        assert!(wait(retry.after_failure(status(429, Some(asked)))) >= asked);
        tokio::time::advance(asked).await;
        retry.attempt();
        // 35 s spent: 30 s more would not.
        let error = stop(retry.after_failure(status(429, Some(asked))));
        assert!(
            error
                .to_string()
                .starts_with("gave up after 2 attempts, as waiting 30s more would pass the retry time limit of 1m;"),
            "{error}"
        );
    }

    #[test]
    fn only_transient_failures_are_retryable() {
        for code in [408, 409, 429, 500, 502, 503, 504, 529] {
            assert!(status(code, None).is_retryable(), "{code}");
        }
        for code in [400, 401, 403, 404, 413, 422] {
            assert!(!status(code, None).is_retryable(), "{code}");
        }
        let malformed = ModelError::Malformed {
            provider: "openai",
            message: "expected value at line 1".into(),
        };
        assert!(malformed.is_retryable());
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_with_no_usable_reply_is_retried_once() {
        let unusable = || ModelError::Unfinished {
            provider: "openrouter",
            stop: "error".into(),
            message: "upstream overloaded".into(),
        };
        let mut retry = Retry::new(policy(), 4);
        retry.attempt();
        wait(retry.after_failure(unusable()));
        // Another kind of failure between them does not reset the count.
        retry.attempt();
        wait(retry.after_failure(status(503, None)));
        retry.attempt();
        let error = stop(retry.after_failure(ModelError::Malformed {
            provider: "openrouter",
            message: "expected value".into(),
        }));
        assert_eq!(
            error.to_string(),
            "gave up after 3 attempts, as a success with no usable reply is retried only once; \
             the last error: openrouter sent a response that could not be read: expected value"
        );
    }
}

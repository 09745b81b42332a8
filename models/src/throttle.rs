//! What a run asks of a provider at once and per minute: requests in
//! flight (per provider and per model), requests per minute and tokens per
//! minute, and a pause after the provider said it is overloaded.
//!
//! A request first waits out any pause, then takes its share of the
//! per-minute buckets and sleeps until they cover it, and only then queues
//! for the concurrency permits. So nothing holds a permit while it waits
//! for a bucket, and nothing polls: every wait is one timed sleep or one
//! place in a semaphore's queue.

use std::num::{NonZeroU32, NonZeroU64};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::ChatRequest;

/// A provider's limits; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub concurrency: Option<NonZeroU32>,
    pub requests_per_minute: Option<NonZeroU32>,
    pub tokens_per_minute: Option<NonZeroU64>,
}

/// A token bucket holding one minute's allowance, refilled continuously.
///
/// A take may overdraw it; the taker then waits until the balance is back
/// to zero. Takers are thus served in the order they came, each after one
/// computed sleep, and a take larger than the whole bucket still goes
/// through, after the time its size takes to refill.
#[derive(Debug)]
pub struct TokenBucket {
    per_second: f64,
    capacity: f64,
    state: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    balance: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket of `per_minute`.
    pub fn per_minute(per_minute: NonZeroU64) -> Self {
        // Exact for any count a real limit has (below 2^53).
        let capacity = per_minute.get() as f64;
        Self {
            per_second: capacity / 60.0,
            capacity,
            state: Mutex::new(BucketState {
                balance: capacity,
                updated: Instant::now(),
            }),
        }
    }

    /// Takes `amount` now; returns how long to wait before spending it.
    pub fn take(&self, amount: u64) -> Duration {
        let mut state = self.refilled();
        state.balance -= amount as f64;
        if state.balance >= 0.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(-state.balance / self.per_second).unwrap_or(Duration::MAX)
        }
    }

    /// Puts back what a take overestimated (`delta > 0`) or takes what it
    /// underestimated (`delta < 0`), once the real amount is known.
    pub fn correct(&self, delta: i64) {
        let mut state = self.refilled();
        state.balance = (state.balance + delta as f64).min(self.capacity);
    }

    /// The balance now, after refilling for the time since the last look.
    pub fn balance(&self) -> f64 {
        self.refilled().balance
    }

    fn refilled(&self) -> std::sync::MutexGuard<'_, BucketState> {
        // The state is two numbers written together: a panic elsewhere
        // cannot leave it half-updated, so a poisoned lock is still sound.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(state.updated).as_secs_f64();
        state.balance = (state.balance + elapsed * self.per_second).min(self.capacity);
        state.updated = now;
        state
    }
}

/// One provider's limits, shared by all of its models in a run.
#[derive(Debug)]
pub(super) struct ProviderThrottle {
    in_flight: Option<Arc<Semaphore>>,
    requests: Option<TokenBucket>,
    tokens: Option<TokenBucket>,
}

impl ProviderThrottle {
    pub fn new(limits: Limits) -> Self {
        Self {
            in_flight: limits.concurrency.map(semaphore),
            requests: limits
                .requests_per_minute
                .map(|n| TokenBucket::per_minute(NonZeroU64::from(n))),
            tokens: limits.tokens_per_minute.map(TokenBucket::per_minute),
        }
    }
}

/// One model's view of its provider's limits, with its own concurrency
/// limit and its own pause: providers rate-limit each model apart, so one
/// model's 429 need not hold back the others.
#[derive(Debug)]
pub(super) struct ModelThrottle {
    provider: Arc<ProviderThrottle>,
    in_flight: Option<Arc<Semaphore>>,
    paused_until: Mutex<Option<Instant>>,
}

/// Leave to send one request: holds its concurrency permits until dropped.
#[derive(Debug)]
pub(super) struct Admission {
    provider: Arc<ProviderThrottle>,
    tokens_taken: u64,
    _permits: [Option<OwnedSemaphorePermit>; 2],
}

impl ModelThrottle {
    pub fn new(provider: Arc<ProviderThrottle>, concurrency: Option<NonZeroU32>) -> Self {
        Self {
            provider,
            in_flight: concurrency.map(semaphore),
            paused_until: Mutex::new(None),
        }
    }

    /// Waits until a request of about `tokens` tokens may be sent.
    pub async fn admit(&self, tokens: u64) -> Admission {
        self.pause_passed().await;
        let provider = &self.provider;
        let wait = [
            provider.requests.as_ref().map(|b| b.take(1)),
            provider.tokens.as_ref().map(|b| b.take(tokens)),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or_default();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        // The model's permit first, then the provider's: one order for
        // every request, so no two can each hold what the other waits for.
        let model = acquire(self.in_flight.as_ref()).await;
        let shared = acquire(provider.in_flight.as_ref()).await;
        Admission {
            provider: Arc::clone(provider),
            tokens_taken: tokens,
            _permits: [model, shared],
        }
    }

    /// Holds back this model's next requests for `wait`, as the provider
    /// asked on a 429.
    pub fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }

    async fn pause_passed(&self) {
        loop {
            let until = *self
                .paused_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            // A pause extended while we slept is waited out too.
            match until {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => return,
            }
        }
    }
}

impl Admission {
    /// Corrects the tokens taken with what the provider reported using;
    /// a report of nothing (no usage given) keeps the estimate.
    pub fn settle(self, used: u64) {
        if let Some(bucket) = &self.provider.tokens
            && used > 0
        {
            let delta = i128::from(self.tokens_taken) - i128::from(used);
            bucket.correct(i64::try_from(delta).unwrap_or(if delta > 0 {
                i64::MAX
            } else {
                i64::MIN
            }));
        }
    }
}

fn semaphore(permits: NonZeroU32) -> Arc<Semaphore> {
    Arc::new(Semaphore::new(permits.get() as usize))
}

async fn acquire(semaphore: Option<&Arc<Semaphore>>) -> Option<OwnedSemaphorePermit> {
    // The semaphores are never closed, so acquiring only fails if absent.
    Arc::clone(semaphore?).acquire_owned().await.ok()
}

/// Characters per token, roughly, for English and JSON alike.
const CHARS_PER_TOKEN: usize = 4;

/// Tokens a request will cost before the provider says: its text at about
/// four characters a token, plus the reply's allowance, which providers
/// count against the limit when the request arrives.
pub(super) fn estimate_tokens(request: &ChatRequest<'_>, default_max_tokens: Option<u32>) -> u64 {
    let mut chars = 0;
    for message in request.messages {
        chars += message.content.len();
        chars += message.reasoning.as_ref().map_or(0, String::len);
        for call in &message.tool_calls {
            chars += call.name.len() + call.arguments.len();
        }
    }
    for tool in request.tools {
        chars += tool.name.len() + tool.description.len() + tool.parameters.len();
    }
    let reply = request
        .sampling
        .max_tokens
        .or(default_max_tokens)
        .unwrap_or(0);
    (chars / CHARS_PER_TOKEN) as u64 + u64::from(reply)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SamplingSettings;
    use crucible_types::transcript::{Message, Role};

    fn n64(n: u64) -> NonZeroU64 {
        NonZeroU64::new(n).expect("non-zero")
    }

    fn n32(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).expect("non-zero")
    }

    #[tokio::test(start_paused = true)]
    async fn a_bucket_serves_a_minutes_worth_then_waits_in_turn() {
        let bucket = TokenBucket::per_minute(n64(60));
        for _ in 0..60 {
            assert_eq!(bucket.take(1), Duration::ZERO);
        }
        // Empty: each further taker waits one more second than the last.
        assert_eq!(bucket.take(1), Duration::from_secs(1));
        assert_eq!(bucket.take(1), Duration::from_secs(2));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(bucket.balance().abs() < 1e-9, "{}", bucket.balance());
        tokio::time::advance(Duration::from_secs(120)).await;
        assert_eq!(bucket.balance(), 60.0, "never more than a minute's worth");
    }

    #[tokio::test(start_paused = true)]
    async fn a_take_larger_than_the_bucket_waits_its_refill() {
        let bucket = TokenBucket::per_minute(n64(1000));
        assert_eq!(bucket.take(1500), Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn corrections_put_back_or_take_more() {
        let bucket = TokenBucket::per_minute(n64(600));
        assert_eq!(bucket.take(600), Duration::ZERO);
        bucket.correct(300);
        assert_eq!(bucket.balance(), 300.0);
        bucket.correct(-400);
        assert_eq!(bucket.take(0), Duration::from_secs(10));
        bucket.correct(10_000);
        assert_eq!(bucket.balance(), 600.0, "capped at capacity");
    }

    #[tokio::test(start_paused = true)]
    async fn admission_waits_for_buckets_without_holding_a_permit() {
        let provider = Arc::new(ProviderThrottle::new(Limits {
            concurrency: Some(n32(1)),
            requests_per_minute: Some(n32(1)),
            tokens_per_minute: None,
        }));
        let a = ModelThrottle::new(Arc::clone(&provider), None);
        let first = a.admit(0).await;
        // The second request waits a minute for the request bucket; the
        // first still holds the only permit meanwhile and is not blocked.
        let start = Instant::now();
        let second = tokio::spawn(async move {
            let admission = a.admit(0).await;
            drop(admission);
            Instant::now()
        });
        tokio::time::sleep(Duration::from_secs(5)).await;
        let permits = provider.in_flight.as_ref().map(|s| s.available_permits());
        assert_eq!(permits, Some(0), "the first request holds the permit");
        drop(first);
        assert_eq!(
            provider.in_flight.as_ref().map(|s| s.available_permits()),
            Some(1),
            "the waiting request holds none while the bucket refills"
        );
        let admitted = second.await.expect("the task runs");
        assert_eq!(admitted - start, Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_capped_per_model_and_per_provider() {
        let provider = Arc::new(ProviderThrottle::new(Limits {
            concurrency: Some(n32(3)),
            ..Limits::default()
        }));
        let a = ModelThrottle::new(Arc::clone(&provider), Some(n32(2)));
        let b = ModelThrottle::new(Arc::clone(&provider), None);
        let a1 = a.admit(0).await;
        let _a2 = a.admit(0).await;
        let a3 = tokio::time::timeout(Duration::from_secs(1), a.admit(0)).await;
        assert!(a3.is_err(), "a third request of model a waits");
        let _b1 = b.admit(0).await;
        let b2 = tokio::time::timeout(Duration::from_secs(1), b.admit(0)).await;
        assert!(b2.is_err(), "a fourth request of the provider waits");
        drop(a1);
        let b2 = tokio::time::timeout(Duration::from_secs(1), b.admit(0)).await;
        assert!(b2.is_ok(), "a freed permit lets it through");
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_back_the_models_next_requests() {
        let provider = Arc::new(ProviderThrottle::new(Limits::default()));
        let a = ModelThrottle::new(Arc::clone(&provider), None);
        a.pause(Duration::from_secs(2));
        a.pause(Duration::from_secs(1));
        let start = Instant::now();
        drop(a.admit(0).await);
        assert_eq!(Instant::now() - start, Duration::from_secs(2));
        let b = ModelThrottle::new(provider, None);
        let start = Instant::now();
        drop(b.admit(0).await);
        assert_eq!(Instant::now() - start, Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn usage_corrects_the_token_estimate() {
        let provider = Arc::new(ProviderThrottle::new(Limits {
            tokens_per_minute: Some(n64(6000)),
            ..Limits::default()
        }));
        let a = ModelThrottle::new(Arc::clone(&provider), None);
        a.admit(5000).await.settle(1000);
        let balance = provider.tokens.as_ref().map(TokenBucket::balance);
        assert_eq!(balance, Some(5000.0));
        a.admit(100).await.settle(0);
        let balance = provider.tokens.as_ref().map(TokenBucket::balance);
        assert_eq!(
            balance,
            Some(4900.0),
            "no usage reported keeps the estimate"
        );
    }

    #[test]
    fn the_estimate_counts_text_and_the_reply_allowance() {
        let request = ChatRequest {
            messages: &[
                Message::new(Role::System, "x".repeat(400)),
                Message::new(Role::User, "y".repeat(40)),
            ],
            tools: &[],
            sampling: SamplingSettings {
                max_tokens: Some(50),
                ..SamplingSettings::default()
            },
            sample_index: 0,
        };
        assert_eq!(estimate_tokens(&request, Some(4096)), 110 + 50);
        let mut unbounded = request;
        unbounded.sampling.max_tokens = None;
        assert_eq!(estimate_tokens(&unbounded, None), 110);
        assert_eq!(estimate_tokens(&unbounded, Some(1000)), 1110);
    }
}

//! The model a run actually calls: a provider's model behind that
//! provider's limits and retry policy.
//!
//! A run builds one [`Politeness`] from the suite's `[providers.NAME]`
//! tables and wraps every remote model with it, agents and judge alike.
//! Every model of a provider shares the provider's concurrency limit and
//! per-minute buckets; every wrapper of one model id shares that model's
//! concurrency limit and its pause after a 429.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::time::Instant;

use super::provider_settings::ProviderSettings;
use super::retry::{Next, Retry, RetryPolicy};
use super::spec::PROVIDERS;
use super::throttle::{Limits, ModelThrottle, ProviderThrottle, estimate_tokens};
use super::{ChatRequest, Completion, Model, ModelError, ModelSpec, SamplingPolicy};

#[derive(Debug, thiserror::Error)]
pub enum PolitenessError {
    #[error(
        "providers.{name}: unknown provider `{name}`; known providers are {}",
        PROVIDERS.join(", ")
    )]
    UnknownProvider { name: String },
}

/// The run's registry of limits: one throttle per provider, one per model.
pub struct Politeness {
    settings: BTreeMap<String, ProviderSettings>,
    providers: Mutex<HashMap<String, Arc<ProviderThrottle>>>,
    models: Mutex<HashMap<String, Arc<ModelThrottle>>>,
}

impl Politeness {
    pub fn new(settings: &BTreeMap<String, ProviderSettings>) -> Result<Self, PolitenessError> {
        if let Some(name) = settings.keys().find(|n| !PROVIDERS.contains(&n.as_str())) {
            return Err(PolitenessError::UnknownProvider { name: name.clone() });
        }
        Ok(Self {
            settings: settings.clone(),
            providers: Mutex::new(HashMap::new()),
            models: Mutex::new(HashMap::new()),
        })
    }

    /// `model`, which `spec` describes, behind its provider's limits and
    /// retries.
    pub fn resilient(&self, model: Arc<dyn Model>, spec: &ModelSpec) -> ResilientModel {
        let settings = self
            .settings
            .get(spec.provider())
            .cloned()
            .unwrap_or_default();
        ResilientModel {
            inner: model,
            throttle: self.model_throttle(spec, &settings),
            policy: retry_policy(&settings),
            default_max_tokens: spec.max_tokens,
            calls: AtomicU64::new(0),
        }
    }

    fn model_throttle(&self, spec: &ModelSpec, settings: &ProviderSettings) -> Arc<ModelThrottle> {
        // The maps only ever gain entries: a poisoned lock is still sound.
        let mut models = self.models.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(throttle) = models.get(&spec.id) {
            return Arc::clone(throttle);
        }
        let provider = {
            let mut providers = self
                .providers
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            Arc::clone(
                providers
                    .entry(spec.provider().to_owned())
                    .or_insert_with(|| Arc::new(ProviderThrottle::new(limits(settings)))),
            )
        };
        let throttle = Arc::new(ModelThrottle::new(provider, spec.concurrency));
        models.insert(spec.id.clone(), Arc::clone(&throttle));
        throttle
    }
}

fn limits(settings: &ProviderSettings) -> Limits {
    Limits {
        concurrency: settings.concurrency,
        requests_per_minute: settings.requests_per_minute,
        tokens_per_minute: settings.tokens_per_minute,
    }
}

fn retry_policy(settings: &ProviderSettings) -> RetryPolicy {
    let default = RetryPolicy::default();
    RetryPolicy {
        max_attempts: settings
            .max_attempts
            .map_or(default.max_attempts, NonZeroU32::get),
        max_retry_time: settings.max_retry_time.unwrap_or(default.max_retry_time),
        initial_backoff: settings.initial_backoff.unwrap_or(default.initial_backoff),
        max_backoff: settings.max_backoff.unwrap_or(default.max_backoff),
    }
}

/// A model whose calls wait for their provider's limits and are retried
/// on transient failures.
pub struct ResilientModel {
    inner: Arc<dyn Model>,
    throttle: Arc<ModelThrottle>,
    policy: RetryPolicy,
    /// The reply allowance the model sends when a request sets none.
    default_max_tokens: Option<u32>,
    calls: AtomicU64,
}

impl ResilientModel {
    /// A seed for one call's jitter. Calls must not share one, or samples
    /// that failed together would retry together.
    fn jitter_seed(&self) -> u64 {
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let here = std::ptr::from_ref(self) as usize as u64;
        splitmix64(call ^ u64::from(clock).rotate_left(32) ^ here)
    }
}

#[async_trait::async_trait]
impl Model for ResilientModel {
    fn id(&self) -> &str {
        self.inner.id()
    }

    fn sampling(&self) -> &SamplingPolicy {
        self.inner.sampling()
    }

    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError> {
        let estimate = estimate_tokens(request, self.default_max_tokens);
        let mut retry = Retry::new(self.policy, self.jitter_seed());
        loop {
            let queued = Instant::now();
            let admission = self.throttle.admit(estimate).await;
            retry.queued(queued.elapsed());
            retry.attempt();
            let error = match self.inner.complete(request).await {
                Ok(completion) => {
                    let usage = completion.usage;
                    admission.settle(usage.input_tokens.saturating_add(usage.output_tokens));
                    return Ok(completion);
                }
                Err(error) => error,
            };
            // The permits go back before the backoff: a request waiting
            // to retry is not in flight.
            drop(admission);
            if let ModelError::Status {
                status: 429,
                retry_after: Some(wait),
                ..
            } = &error
            {
                self.throttle.pause(*wait);
            }
            // Errors name no key and no URL query, so they may be logged.
            let cause = error.to_string();
            match retry.after_failure(error) {
                Next::Wait(wait) => {
                    tracing::info!(
                        model = self.id(),
                        "{cause}; retrying in {}ms",
                        wait.as_millis()
                    );
                    tokio::time::sleep(wait).await;
                }
                Next::Stop(error) => return Err(error),
            }
        }
    }
}

/// A 64-bit mix, so nearby inputs give unrelated seeds.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::time::Duration;

    use super::*;
    use crate::{SamplingSettings, Usage};
    use crucible_types::transcript::{Message, Reply, Role};

    /// A model answering from a script, counting calls and the most in
    /// flight at once.
    struct Scripted {
        id: String,
        sampling: SamplingPolicy,
        script: Mutex<VecDeque<Result<Completion, ModelError>>>,
        calls: AtomicU64,
        in_flight: AtomicU64,
        most_in_flight: AtomicU64,
        latency: Duration,
    }

    impl Scripted {
        fn new(id: &str, script: Vec<Result<Completion, ModelError>>) -> Arc<Self> {
            Arc::new(Self {
                id: id.to_owned(),
                sampling: SamplingPolicy::new(2.0),
                script: Mutex::new(script.into()),
                calls: AtomicU64::new(0),
                in_flight: AtomicU64::new(0),
                most_in_flight: AtomicU64::new(0),
                latency: Duration::from_millis(100),
            })
        }
    }

    #[async_trait::async_trait]
    impl Model for Scripted {
        fn id(&self) -> &str {
            &self.id
        }

        fn sampling(&self) -> &SamplingPolicy {
            &self.sampling
        }

        async fn complete(&self, _: &ChatRequest<'_>) -> Result<Completion, ModelError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_in_flight.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(self.latency).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            let next = self
                .script
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front();
            next.unwrap_or_else(|| Ok(answer()))
        }
    }

    fn answer() -> Completion {
        Completion {
            reply: Reply {
                text: "ok".into(),
                ..Reply::default()
            },
            usage: Usage {
                input_tokens: 10,
                output_tokens: 5,
                ..Usage::default()
            },
            cost_usd: None,
        }
    }

    fn request() -> ChatRequest<'static> {
        ChatRequest {
            // Leaked: a test's request lives as long as the test.
            messages: vec![Message::new(Role::User, "hello")].leak(),
            tools: &[],
            sampling: SamplingSettings::default(),
            sample_index: 0,
        }
    }

    fn status(code: u16, retry_after: Option<Duration>) -> Result<Completion, ModelError> {
        Err(ModelError::Status {
            provider: "openai",
            status: code,
            message: format!("status {code}"),
            retry_after,
        })
    }

    fn fast_retries() -> ProviderSettings {
        ProviderSettings {
            max_attempts: NonZeroU32::new(4),
            initial_backoff: Some(Duration::from_millis(10)),
            max_backoff: Some(Duration::from_millis(40)),
            ..ProviderSettings::default()
        }
    }

    fn politeness(name: &str, settings: ProviderSettings) -> Politeness {
        Politeness::new(&BTreeMap::from([(name.to_owned(), settings)])).expect("a known provider")
    }

    fn spec(id: &str) -> ModelSpec {
        ModelSpec::named(id).expect("a valid id")
    }

    #[tokio::test(start_paused = true)]
    async fn a_transient_failure_is_retried_after_the_wait_asked_for() {
        let inner = Scripted::new("openai/m", vec![status(429, Some(Duration::from_secs(3)))]);
        let model =
            politeness("openai", fast_retries()).resilient(inner.clone(), &spec("openai/m"));
        let start = Instant::now();
        let completion = model
            .complete(&request())
            .await
            .expect("the retry succeeds");
        assert_eq!(completion.reply.text, "ok");
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
        assert!(Instant::now() - start >= Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_final_error_is_not_retried() {
        let inner = Scripted::new("openai/m", vec![status(400, None)]);
        let model =
            politeness("openai", fast_retries()).resilient(inner.clone(), &spec("openai/m"));
        let error = model
            .complete(&request())
            .await
            .expect_err("a 400 is final");
        assert_eq!(error.to_string(), "openai returned HTTP 400: status 400");
        assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn giving_up_names_the_attempts_and_the_last_cause() {
        let inner = Scripted::new(
            "openai/m",
            vec![
                status(500, None),
                status(502, None),
                status(503, None),
                status(504, None),
            ],
        );
        let model =
            politeness("openai", fast_retries()).resilient(inner.clone(), &spec("openai/m"));
        let error = model
            .complete(&request())
            .await
            .expect_err("out of attempts");
        assert_eq!(
            error.to_string(),
            "gave up after 4 attempts, the most allowed; \
             the last error: openai returned HTTP 504: status 504"
        );
        assert_eq!(inner.calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn models_of_one_provider_share_its_concurrency() {
        let settings = ProviderSettings {
            concurrency: NonZeroU32::new(3),
            ..fast_retries()
        };
        let politeness = politeness("openai", settings);
        // One server behind two OpenAI models, and an unlimited provider.
        let openai = Scripted::new("openai/x", Vec::new());
        let other = Scripted::new("anthropic/c", Vec::new());
        let models: Vec<Arc<ResilientModel>> = vec![
            Arc::new(politeness.resilient(openai.clone(), &spec("openai/a"))),
            Arc::new(politeness.resilient(openai.clone(), &spec("openai/b"))),
            Arc::new(politeness.resilient(other.clone(), &spec("anthropic/c"))),
        ];
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..30 {
            let model = Arc::clone(&models[i % 3]);
            tasks.spawn(async move { model.complete(&request()).await.is_ok() });
        }
        while let Some(done) = tasks.join_next().await {
            assert!(done.expect("the task runs"));
        }
        assert_eq!(openai.most_in_flight.load(Ordering::SeqCst), 3);
        assert_eq!(
            other.most_in_flight.load(Ordering::SeqCst),
            10,
            "another provider is not held back"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_models_own_concurrency_is_shared_by_its_wrappers() {
        let politeness = politeness("openai", fast_retries());
        let mut limited = spec("openai/a");
        limited.concurrency = NonZeroU32::new(2);
        let inner = Scripted::new("openai/a", Vec::new());
        // The agent and the judge of one model id: two wrappers, one limit.
        let agent = Arc::new(politeness.resilient(inner.clone(), &limited));
        let judge = Arc::new(politeness.resilient(inner.clone(), &limited));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..12 {
            let model = if i % 2 == 0 {
                Arc::clone(&agent)
            } else {
                Arc::clone(&judge)
            };
            tasks.spawn(async move { model.complete(&request()).await.is_ok() });
        }
        while let Some(done) = tasks.join_next().await {
            assert!(done.expect("the task runs"));
        }
        assert_eq!(inner.most_in_flight.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn an_unknown_provider_table_is_refused() {
        let error = Politeness::new(&BTreeMap::from([(
            "opnai".to_owned(),
            ProviderSettings::default(),
        )]))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            error.starts_with("providers.opnai: unknown provider"),
            "{error}"
        );
    }
}

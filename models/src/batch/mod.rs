//! `crucible run --batch`: model calls sent through the providers' batch
//! APIs (OpenAI Batch, Anthropic Message Batches, Gemini batch mode), at
//! half the live price, in exchange for answers that may take up to 24 h.
//!
//! A [`BatchModel`] stands where the provider's live client stood, under
//! the response cache: its `complete()` builds the same body the live call
//! would send (the provider client's own builder, [`LiveWire`]), hands it
//! to its model's [`collector`] and awaits the answer, which the provider
//! client's own reader reads. The collector gathers requests and submits
//! them as one batch when every sample in flight is waiting on a model
//! (see [`Gate`]), when none has arrived for a quiet period, or when the
//! batch is full; it then polls the batch and answers each waiter. So a
//! multi-turn episode goes turn by turn: every sample's first call goes in
//! one batch, whose answers release the samples, whose second calls
//! gather into the next.
//!
//! Each request is named in its batch by a digest of the model, its body
//! and its sample index (its `custom_id`, 64 hex digits: within
//! Anthropic's `^[a-zA-Z0-9_-]{1,64}$`). Every batch is recorded in the
//! run store with the requests it carries (a [`Ledger`]) as soon as the
//! provider accepts it, so a run killed while its batches process resumes
//! by polling them: a request a recorded batch carries is answered from
//! that batch, never submitted twice. Every answer goes into the response
//! cache as it arrives, as a live answer does.
//!
//! One rule for failures: a request the provider answered with an error
//! (an errored, expired or canceled item, or a batch that failed or
//! expired as a whole) ends its sample as an error naming the provider's
//! reason, and is forgotten from the batch record; `--resume
//! --retry-errors` sends it again, in a new batch. The calls that manage a
//! batch (upload, create, poll, download) are retried on transient
//! failures, as live calls are.

mod anthropic;
mod collector;
mod gemini;
mod ledger;
mod openai;
mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{ChatRequest, Completion, Model, ModelError, ModelSpec, SamplingPolicy};

pub use ledger::{Ledger, LedgerError};
pub(super) use wire::{Endpoint, LiveWire, unserializable};

/// The providers whose batch API is wired here.
pub const BATCH_PROVIDERS: &[&str] = &["openai", "anthropic", "gemini"];

/// The shortest quiet period: how long the collector waits for more
/// requests after the last one arrived before it submits what it has,
/// though not every sample in flight waits yet. Only a sample stuck in its
/// plugins (until their deadline) keeps the others waiting that long; a
/// slow one on a busy machine must not split a turn into two batches, and
/// half a minute is little beside a batch's minutes to hours.
const MIN_QUIET: Duration = Duration::from_secs(30);

/// What every batching model of a run shares.
pub struct Batching {
    /// Between two polls of a batch in progress (`--batch-poll`).
    pub poll: Duration,
    /// Where submitted batches are recorded.
    pub ledger: Arc<dyn Ledger>,
    /// How many samples are in flight and how many wait on a model.
    pub gate: Arc<Gate>,
}

impl Batching {
    pub fn new(poll: Duration, ledger: Arc<dyn Ledger>) -> Self {
        Self {
            poll,
            ledger,
            gate: Arc::new(Gate::default()),
        }
    }

    /// The poll interval, at least [`MIN_QUIET`]: a straggler costs its
    /// turn at most about one more poll.
    fn quiet(&self) -> Duration {
        self.poll.max(MIN_QUIET)
    }
}

/// Samples in flight, and calls waiting on a batch: when every sample in
/// flight waits, nothing more will join the batches being gathered.
#[derive(Debug, Default)]
pub struct Gate {
    in_flight: AtomicUsize,
    waiting: AtomicUsize,
    changed: tokio::sync::Notify,
}

impl Gate {
    /// A sample started; it counts until the guard drops.
    pub fn sample(self: &Arc<Self>) -> SampleGuard {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
        SampleGuard(Arc::clone(self))
    }

    fn wait_begins(&self) {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    fn wait_ends(&self) {
        self.waiting.fetch_sub(1, Ordering::SeqCst);
    }

    /// Every sample in flight waits on a model call.
    fn all_waiting(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) >= self.in_flight.load(Ordering::SeqCst)
    }
}

/// One sample in flight, for the [`Gate`].
pub struct SampleGuard(Arc<Gate>);

impl Drop for SampleGuard {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }
}

/// Why a model cannot go through a batch API.
#[derive(Debug, thiserror::Error)]
#[error(
    "--batch: model `{id}` is served by {provider}, which has no batch API here (batch APIs: {}); run it without --batch, or in a run of its own",
    BATCH_PROVIDERS.join(", ")
)]
pub struct NoBatchApi {
    pub id: String,
    pub provider: String,
}

/// Refuses, before anything is sent, a model whose provider has no batch
/// API here (OpenRouter, Together, the offline models). A mixed suite is
/// refused rather than half batched: a run's price and latency are then
/// what `--batch` says they are.
pub fn check_batchable(spec: &ModelSpec) -> Result<(), NoBatchApi> {
    if BATCH_PROVIDERS.contains(&spec.provider()) {
        return Ok(());
    }
    Err(NoBatchApi {
        id: spec.id.clone(),
        provider: spec.provider().to_owned(),
    })
}

/// A provider model whose calls go through its batch API.
pub struct BatchModel {
    live: Arc<dyn LiveWire>,
    collector: collector::Collector,
}

impl BatchModel {
    /// `live` (which `spec` describes), its calls batched.
    pub(super) fn new(live: Arc<dyn LiveWire>, spec: &ModelSpec, batching: &Batching) -> Self {
        let api: Arc<dyn collector::BatchApi> = match spec.provider() {
            "anthropic" => Arc::new(anthropic::MessageBatches::new(Arc::clone(&live))),
            "gemini" => Arc::new(gemini::GeminiBatches::new(Arc::clone(&live))),
            _ => Arc::new(openai::OpenAiBatches::new(
                Arc::clone(&live),
                spec.api.as_deref() == Some("responses"),
            )),
        };
        Self {
            collector: collector::Collector::start(
                api,
                live.id().to_owned(),
                collector::Timing {
                    poll: batching.poll,
                    quiet: batching.quiet(),
                },
                Arc::clone(&batching.ledger),
                Arc::clone(&batching.gate),
            ),
            live,
        }
    }
}

/// A request's name in its batch: the sha256, in hex, of the model, the
/// body and the sample index, each length-prefixed. The same request of a
/// resumed run has the same name.
fn custom_id(model: &str, body: &str, sample_index: u32) -> String {
    let mut hash = Sha256::new();
    for part in [model.as_bytes(), body.as_bytes()] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash.update(sample_index.to_le_bytes());
    hex::encode(hash.finalize())
}

#[async_trait::async_trait]
impl Model for BatchModel {
    fn id(&self) -> &str {
        self.live.id()
    }

    fn sampling(&self) -> &SamplingPolicy {
        self.live.sampling()
    }

    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError> {
        let (body, sent) = self.live.request_body(request)?;
        let id = custom_id(self.live.id(), &body, request.sample_index);
        let (batch, body) = self.collector.ask(id, body).await?;
        let mut completion = self.live.read_reply(&body, sent)?;
        if let Some(call) = completion.reply.call.as_deref_mut() {
            call.served.batch = Some(batch);
        }
        Ok(completion)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_custom_id_fits_every_providers_rule_and_tells_samples_apart() {
        let a = custom_id("anthropic/claude", "{}", 0);
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(a, custom_id("anthropic/claude", "{}", 0));
        assert_ne!(a, custom_id("anthropic/claude", "{}", 1));
        assert_ne!(a, custom_id("anthropic/claudex", "{}", 0));
    }
}

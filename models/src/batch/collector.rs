//! One model's collector: gathers its requests into batches, submits them,
//! polls them and answers each request from its batch's results.
//!
//! It runs as a task of its own. A request joins the batch being gathered,
//! unless a batch the run recorded earlier (before a kill) already carries
//! it: then it waits on that batch, which is polled until it ends. The
//! batch being gathered goes out when every sample in flight waits on a
//! model call (nothing more can join it), when no request has arrived for
//! the quiet period, or when it reaches the provider's size limits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::Gate;
use super::Ledger;
use crate::ModelError;

/// One request of a batch.
pub(super) struct Item {
    /// The request's name in the batch (see [`super::custom_id`]).
    pub custom_id: String,
    /// The request body the live call would send, as JSON text.
    pub body: String,
}

/// The provider's answer to one request of a batch.
#[derive(Debug, Clone)]
pub(super) enum ItemOutcome {
    /// The body of its successful response, as the live call would get it.
    Answered(Vec<u8>),
    /// The provider's reason for not answering it.
    Failed(String),
}

/// Where a batch stands.
pub(super) enum Polled {
    Running,
    /// Ended, with an outcome for every request the provider reports on;
    /// a request it leaves out was not answered.
    Ended(HashMap<String, ItemOutcome>),
}

/// How many requests, and how many bytes of them, one batch may carry.
#[derive(Debug, Clone, Copy)]
pub(super) struct SizeLimits {
    pub requests: usize,
    pub bytes: usize,
}

/// One provider's batch API.
#[async_trait::async_trait]
pub(super) trait BatchApi: Send + Sync {
    fn provider(&self) -> &'static str;
    fn limits(&self) -> SizeLimits;
    /// Submits `items` as one batch; the provider's id for it.
    async fn submit(&self, items: &[Item]) -> Result<String, ModelError>;
    /// Where batch `id` stands, and its results once it has ended.
    /// `order` is the requests' custom_ids in the order they were
    /// submitted, for an API that answers by position.
    async fn poll(&self, id: &str, order: &[String]) -> Result<Polled, ModelError>;
}

/// What the provider answered a request with, and the batch it came in.
pub(super) type Answer = Result<(String, Vec<u8>), ModelError>;

struct Ask {
    custom_id: String,
    body: String,
    answer: oneshot::Sender<Answer>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Timing {
    pub poll: Duration,
    pub quiet: Duration,
}

/// How often a call that manages a batch is tried before its error is the
/// answer to the requests it concerns.
const MANAGEMENT_ATTEMPTS: u32 = 5;

/// The handle a model asks through.
pub(super) struct Collector {
    asks: mpsc::UnboundedSender<Ask>,
    provider: &'static str,
}

impl Collector {
    pub fn start(
        api: Arc<dyn BatchApi>,
        model: String,
        timing: Timing,
        ledger: Arc<dyn Ledger>,
        gate: Arc<Gate>,
    ) -> Self {
        let (asks, receiver) = mpsc::unbounded_channel();
        let provider = api.provider();
        let task = Task {
            api,
            model,
            timing,
            ledger,
            gate,
            carried: None,
            watches: HashMap::new(),
        };
        tokio::spawn(task.run(receiver));
        Self { asks, provider }
    }

    /// Puts a request in a batch and waits for its answer.
    pub async fn ask(&self, custom_id: String, body: String) -> Answer {
        let (answer, answered) = oneshot::channel();
        let gone = || ModelError::Transport {
            provider: self.provider,
            message: "the batch collector stopped".into(),
        };
        if self
            .asks
            .send(Ask {
                custom_id,
                body,
                answer,
            })
            .is_err()
        {
            return Err(gone());
        }
        answered.await.map_err(|_| gone())?
    }
}

/// Requests gathered for the next batch, each once however many ask it.
#[derive(Default)]
struct Gathering {
    items: Vec<Item>,
    waiters: HashMap<String, Vec<oneshot::Sender<Answer>>>,
    bytes: usize,
}

impl Gathering {
    fn add(&mut self, ask: Ask) {
        let waiters = self.waiters.entry(ask.custom_id.clone()).or_default();
        if waiters.is_empty() {
            self.bytes += ask.body.len() + ask.custom_id.len();
            self.items.push(Item {
                custom_id: ask.custom_id,
                body: ask.body,
            });
        }
        waiters.push(ask.answer);
    }
}

/// A submitted batch: who waits on which of its requests, until it ends.
enum Watch {
    Waiting(HashMap<String, Vec<oneshot::Sender<Answer>>>),
    /// Ended: what is left of its results, for requests that ask later (a
    /// resumed run's samples reach it one by one).
    Ended(Result<HashMap<String, ItemOutcome>, ModelError>),
}

type SharedWatch = Arc<Mutex<Watch>>;

struct Task {
    api: Arc<dyn BatchApi>,
    model: String,
    timing: Timing,
    ledger: Arc<dyn Ledger>,
    gate: Arc<Gate>,
    /// The requests recorded batches carry, read at the first request (the
    /// store is attached by then).
    carried: Option<HashMap<String, String>>,
    watches: HashMap<String, SharedWatch>,
}

impl Task {
    async fn run(mut self, mut asks: mpsc::UnboundedReceiver<Ask>) {
        let mut gathering = Gathering::default();
        let gate = Arc::clone(&self.gate);
        loop {
            // Registered before the check, so no change between the two
            // goes unseen.
            let changed = gate.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if !gathering.items.is_empty() && gate.all_waiting() {
                tracing::debug!(
                    model = %self.model,
                    waiting = gate.waiting.load(std::sync::atomic::Ordering::SeqCst),
                    in_flight = gate.in_flight.load(std::sync::atomic::Ordering::SeqCst),
                    "every sample in flight waits"
                );
                self.submit(std::mem::take(&mut gathering)).await;
                continue;
            }
            let quiet_for = (!gathering.items.is_empty()).then_some(self.timing.quiet);
            let quiet = async move {
                match quiet_for {
                    Some(quiet) => tokio::time::sleep(quiet).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                ask = asks.recv() => match ask {
                    None => break,
                    Some(ask) => {
                        self.take(ask, &mut gathering);
                        while let Ok(ask) = asks.try_recv() {
                            self.take(ask, &mut gathering);
                        }
                    }
                },
                () = &mut changed => {}
                () = quiet => {
                    tracing::debug!(model = %self.model, "quiet period over");
                    self.submit(std::mem::take(&mut gathering)).await;
                }
            }
            let limits = self.api.limits();
            if gathering.items.len() >= limits.requests || gathering.bytes >= limits.bytes {
                self.submit(std::mem::take(&mut gathering)).await;
            }
        }
    }

    /// A request joins the batch that carries it, else the one gathering.
    fn take(&mut self, ask: Ask, gathering: &mut Gathering) {
        // Counted once the collector holds it, not when it was sent: a
        // batch goes when every sample's request is in some collector's
        // hands, none still on its way.
        self.gate.wait_begins();
        if self.carried.is_none() {
            self.carried = Some(self.ledger.carried(&self.model).unwrap_or_else(|e| {
                tracing::warn!("batches of {}: {e}; none is resumed", self.model);
                HashMap::new()
            }));
        }
        // Taken once: a request that fails there and is asked again goes
        // in a new batch.
        let batch = self.carried.as_mut().and_then(|c| c.remove(&ask.custom_id));
        let Some(batch) = batch else {
            gathering.add(ask);
            return;
        };
        let watch = match self.watches.get(&batch) {
            Some(watch) => Arc::clone(watch),
            None => {
                let watch = Arc::new(Mutex::new(Watch::Waiting(HashMap::new())));
                self.watches.insert(batch.clone(), Arc::clone(&watch));
                let order = self.ledger.items(&batch).unwrap_or_default();
                self.spawn_poller(batch.clone(), order, Arc::clone(&watch), Duration::ZERO);
                watch
            }
        };
        let mut state = watch.lock().unwrap_or_else(PoisonError::into_inner);
        match &mut *state {
            Watch::Waiting(waiters) => waiters.entry(ask.custom_id).or_default().push(ask.answer),
            Watch::Ended(results) => {
                let outcome = match results {
                    Ok(results) => Ok(results.remove(&ask.custom_id)),
                    Err(e) => Err(e.clone()),
                };
                let answer = self.answer(&batch, &ask.custom_id, outcome);
                self.gate.wait_ends();
                let _ = ask.answer.send(answer);
            }
        }
    }

    /// Submits what was gathered, in as many batches as the limits need.
    async fn submit(&mut self, gathering: Gathering) {
        tracing::debug!(
            model = %self.model,
            requests = gathering.items.len(),
            "submitting a batch"
        );
        let Gathering {
            items, mut waiters, ..
        } = gathering;
        let limits = self.api.limits();
        let mut rest = items.into_iter().peekable();
        while rest.peek().is_some() {
            let mut chunk = Vec::new();
            let mut bytes = 0;
            while let Some(item) = rest.next_if(|item| {
                chunk.is_empty()
                    || (chunk.len() < limits.requests
                        && bytes + item.body.len() + item.custom_id.len() <= limits.bytes)
            }) {
                bytes += item.body.len() + item.custom_id.len();
                chunk.push(item);
            }
            let chunk_waiters: HashMap<_, _> = chunk
                .iter()
                .filter_map(|i| waiters.remove_entry(&i.custom_id))
                .collect();
            match self.submit_one(&chunk).await {
                Ok(batch) => {
                    let order = chunk.into_iter().map(|i| i.custom_id).collect();
                    let watch = Arc::new(Mutex::new(Watch::Waiting(chunk_waiters)));
                    self.watches.insert(batch.clone(), Arc::clone(&watch));
                    self.spawn_poller(batch, order, watch, self.timing.poll);
                }
                Err(e) => {
                    for senders in chunk_waiters.into_values() {
                        for sender in senders {
                            self.gate.wait_ends();
                            let _ = sender.send(Err(e.clone()));
                        }
                    }
                }
            }
        }
    }

    async fn submit_one(&self, chunk: &[Item]) -> Result<String, ModelError> {
        let batch = retrying(self.timing.poll, || self.api.submit(chunk)).await?;
        let ids: Vec<&str> = chunk.iter().map(|i| i.custom_id.as_str()).collect();
        if let Err(e) = self.ledger.record(&batch, &self.model, &ids) {
            // The batch goes on; only a resume after a kill would not
            // know it, and submit its requests again.
            tracing::warn!("batch {batch} of {}: {e}", self.model);
        }
        Ok(batch)
    }

    fn spawn_poller(
        &self,
        batch: String,
        order: Vec<String>,
        watch: SharedWatch,
        first_wait: Duration,
    ) {
        let api = Arc::clone(&self.api);
        let ledger = Arc::clone(&self.ledger);
        let gate = Arc::clone(&self.gate);
        let poll = self.timing.poll;
        tokio::spawn(async move {
            tokio::time::sleep(first_wait).await;
            let results = loop {
                match retrying(poll, || api.poll(&batch, &order)).await {
                    Ok(Polled::Running) => tokio::time::sleep(poll).await,
                    Ok(Polled::Ended(results)) => break Ok(results),
                    Err(e) => break Err(e),
                }
            };
            let mut state = watch.lock().unwrap_or_else(PoisonError::into_inner);
            let Watch::Waiting(waiters) = &mut *state else {
                return;
            };
            let waiters = std::mem::take(waiters);
            let mut results = results;
            for (custom_id, senders) in waiters {
                let outcome = match &mut results {
                    Ok(results) => Ok(results.remove(&custom_id)),
                    Err(e) => Err(e.clone()),
                };
                let answer = answer_of(api.provider(), &*ledger, &batch, &custom_id, outcome);
                for sender in senders {
                    gate.wait_ends();
                    let _ = sender.send(answer.clone());
                }
            }
            *state = Watch::Ended(results);
        });
    }

    fn answer(
        &self,
        batch: &str,
        custom_id: &str,
        outcome: Result<Option<ItemOutcome>, ModelError>,
    ) -> Answer {
        answer_of(
            self.api.provider(),
            &*self.ledger,
            batch,
            custom_id,
            outcome,
        )
    }
}

/// A request's answer from its batch's outcome; a failed request is
/// forgotten from the batch record, so that trying it again submits it
/// anew.
fn answer_of(
    provider: &'static str,
    ledger: &dyn Ledger,
    batch: &str,
    custom_id: &str,
    outcome: Result<Option<ItemOutcome>, ModelError>,
) -> Answer {
    let failed = |message: String| ModelError::Batch {
        provider,
        batch: batch.to_owned(),
        message,
    };
    let answer = match outcome {
        Ok(Some(ItemOutcome::Answered(body))) => return Ok((batch.to_owned(), body)),
        Ok(Some(ItemOutcome::Failed(reason))) => Err(failed(reason)),
        Ok(None) => Err(failed(
            "the batch ended without a result for this request".into(),
        )),
        Err(e @ ModelError::Batch { .. }) => Err(e),
        Err(e) => Err(failed(e.to_string())),
    };
    if let Err(e) = ledger.forget(batch, custom_id) {
        tracing::warn!("batch {batch}: {e}");
    }
    answer
}

/// Tries a call that manages a batch until it succeeds, fails for good,
/// or has been tried [`MANAGEMENT_ATTEMPTS`] times, waiting longer each
/// time (the provider's own wait when it asks for one).
async fn retrying<T, F, Fut>(poll: Duration, mut call: F) -> Result<T, ModelError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ModelError>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(e) if e.is_retryable() && attempt < MANAGEMENT_ATTEMPTS => {
                let backoff = poll.max(Duration::from_millis(50)) * attempt;
                tokio::time::sleep(e.retry_after().unwrap_or(backoff)).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

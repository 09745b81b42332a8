//! Running planned samples: at most `concurrency` in flight, each stored as
//! it finishes by a dedicated writer thread, until all are done or the run
//! is interrupted. A sample not yet stored stays `pending` in the store,
//! which is what `--resume` picks up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::episode::{SampleContext, run_sample};
use super::prepare::PreparedScenario;
use super::{Observer, Progress, RunError};
use crate::judge::Judge;
use crate::model::Agent;
use crate::pricing::PriceTable;
use crate::record::PlannedSample;
use crate::record::SampleRecord;
use crate::record::UsageByModel;
use crate::store::{SampleId, Store, StoreError};

/// What every sample of a run shares.
pub(super) struct Execution<'a> {
    pub scenarios: &'a [Arc<PreparedScenario>],
    /// Model ids, in the order of `agents`.
    pub models: &'a [String],
    pub agents: &'a [Agent],
    pub judge: Arc<dyn Judge>,
    pub max_turns: u32,
    pub prompt: super::PromptLimits,
    pub concurrency: u32,
    pub observer: Arc<dyn Observer>,
    pub prices: &'a PriceTable,
    /// Notified once to stop: no new sample starts, and the run returns
    /// with what is stored.
    pub interrupt: Option<Arc<Notify>>,
    /// The run's spend ceiling: reaching it stops the run as an
    /// interruption does.
    pub meter: Option<Arc<super::SpendMeter>>,
    /// Under `--batch`: counts the samples in flight, so that a batch goes
    /// out once every one of them waits on a model.
    pub gate: Option<Arc<crate::model::batch::Gate>>,
}

/// Where the run stands before these samples: what earlier sessions of a
/// resumed run already finished.
#[derive(Debug, Clone, Default)]
pub(super) struct Tally {
    pub total: usize,
    pub done: usize,
    pub errors: usize,
    pub usage: UsageByModel,
}

pub(super) struct Executed {
    pub store: Store,
    pub interrupted: bool,
    /// The run stopped because it reached its spend ceiling.
    pub ceiling_reached: bool,
}

impl Execution<'_> {
    pub async fn run(
        &self,
        store: Store,
        work: Vec<(PlannedSample, SampleId)>,
        mut tally: Tally,
    ) -> Result<Executed, RunError> {
        let (sender, writer) = start_writer(store)?;
        // Samples start as others finish, so no more than `concurrency`
        // exist at once however long the plan: a run of a million samples
        // holds no more than a run of a hundred.
        let mut pending = work.into_iter();
        let mut tasks = JoinSet::new();
        // Under --batch each sample counts as in flight (see
        // `model::batch::Gate`) from before it starts until after the one
        // that replaces it has started: a batch must never go out while a
        // sample that could join it is yet to be counted.
        let count = || self.gate.as_ref().map(|gate| gate.sample());
        let start_next =
            |tasks: &mut JoinSet<_>,
             pending: &mut std::vec::IntoIter<_>,
             in_flight: Option<crate::model::batch::SampleGuard>| {
                if let Some((planned, id)) = pending.next() {
                    let ctx = self.context(&planned);
                    let in_flight = in_flight.or_else(count);
                    tasks.spawn(async move {
                        let record = run_sample(&ctx, &planned).await;
                        (id, record, in_flight)
                    });
                }
            };
        // Every first sample is counted before any starts: one that
        // starts at once must not find itself the only one in flight.
        let first = (self.concurrency as usize).min(pending.len());
        let counted: Vec<_> = (0..first).map(|_| count()).collect();
        for in_flight in counted {
            start_next(&mut tasks, &mut pending, in_flight);
        }

        let interrupt = self.interrupt.clone();
        let interrupted = async move {
            match interrupt {
                Some(notify) => notify.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(interrupted);
        let meter = self.meter.clone();
        let ceiling = async move {
            match meter {
                Some(meter) => meter.reached().await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(ceiling);
        let mut was_interrupted = false;
        let mut ceiling_reached = false;
        let mut last_report = Instant::now();
        self.observer.progress(&self.progress(&tally));
        loop {
            // A finished sample is stored before the ceiling is heeded: the
            // run ends with every sample that finished, and one that
            // finished last is no reason to call the run stopped.
            let joined = tokio::select! {
                biased;
                () = &mut interrupted => {
                    was_interrupted = true;
                    break;
                }
                joined = tasks.join_next() => joined,
                () = &mut ceiling => {
                    ceiling_reached = true;
                    break;
                }
            };
            let Some(joined) = joined else { break };
            let (id, record, in_flight) =
                joined.map_err(|e| RunError::Runtime(format!("a sample task failed: {e}")))?;
            start_next(&mut tasks, &mut pending, None);
            drop(in_flight);
            tally.done += 1;
            if record.error.is_some() {
                tally.errors += 1;
            }
            for (model, calls) in &record.usage {
                tally.usage.entry(model.clone()).or_default().merge(calls);
            }
            if sender.send((id, record)).is_err() {
                // The writer stopped: its error is reported when it is joined.
                break;
            }
            if last_report.elapsed() >= Duration::from_millis(200) || tally.done == tally.total {
                self.observer.progress(&self.progress(&tally));
                last_report = Instant::now();
            }
        }
        // Samples still in flight are abandoned; they stay pending.
        tasks.abort_all();
        drop(sender);
        let store = writer
            .join()
            .map_err(|_| RunError::Runtime("the store writer panicked".into()))??;
        self.observer.progress(&self.progress(&tally));
        Ok(Executed {
            store,
            interrupted: was_interrupted || ceiling_reached,
            ceiling_reached,
        })
    }

    fn context(&self, planned: &PlannedSample) -> SampleContext {
        let model_index = self
            .models
            .iter()
            .position(|m| **m == *planned.model)
            .unwrap_or(0);
        let agent = self.agents[model_index].clone();
        SampleContext {
            scenario: Arc::clone(&self.scenarios[planned.scenario]),
            label_judge: SampleContext::label_judge_for(&agent, self.judge.as_ref()),
            agent,
            judge: Arc::clone(&self.judge),
            max_turns: self.max_turns,
            prompt: self.prompt,
        }
    }

    fn progress(&self, tally: &Tally) -> Progress {
        let mut spend = 0.0;
        let mut unpriced = false;
        for (model, calls) in &tally.usage {
            if calls.calls == calls.cached_calls {
                continue;
            }
            match calls.cost_usd(model, self.prices) {
                Some(cost) => spend += cost,
                None => unpriced = true,
            }
        }
        Progress {
            done: tally.done,
            total: tally.total,
            errors: tally.errors,
            spend_usd: spend,
            unpriced_calls: unpriced,
        }
    }
}

type Sender = std::sync::mpsc::Sender<(SampleId, SampleRecord)>;
type Writer = std::thread::JoinHandle<Result<Store, StoreError>>;

/// A thread that stores finished samples, many to a transaction: far fewer
/// writes than one per sample when samples finish quickly. A sample waits
/// at most a batch window to be stored; one that a kill catches unstored
/// stays pending and runs again on resume.
fn start_writer(store: Store) -> Result<(Sender, Writer), RunError> {
    let (sender, receiver) = std::sync::mpsc::channel::<(SampleId, SampleRecord)>();
    let writer = std::thread::Builder::new()
        .name("crucible-store".into())
        .spawn(move || -> Result<Store, StoreError> {
            let mut store = store;
            while let Some(batch) = crate::batching::next_batch(&receiver) {
                store.record_all(&batch)?;
            }
            Ok(store)
        })
        .map_err(|e| RunError::Runtime(format!("cannot start the store writer: {e}")))?;
    Ok((sender, writer))
}

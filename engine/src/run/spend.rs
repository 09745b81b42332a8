//! `--max-cost`: a ceiling on what a run spends on model calls, agent and
//! judge alike, priced as the usage report prices them. Once the spend
//! reaches it, no further call is sent: a sample about to call waits
//! instead, and the run stops as an interrupted one does, its finished
//! samples stored and the rest pending for `--resume`.
//!
//! The check is made before each call is sent, so the overshoot is only
//! the calls already on their way when the ceiling was reached: at most one
//! per sample in flight (`--concurrency`).

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::model::{ChatRequest, Completion, Model, ModelError, SamplingPolicy};
use crate::pricing::PriceTable;
use crate::record::UsageByModel;

/// The store's record of what a run with a ceiling has spent, written as
/// each session of it ends: with the calls of samples a stop abandoned,
/// which the stored samples do not count.
pub const SPENT_META: &str = "spent_usd";

/// What the run has spent, against its ceiling.
pub struct SpendMeter {
    ceiling_usd: f64,
    spent_usd: Mutex<f64>,
    prices: PriceTable,
    /// Notified once the ceiling is reached; the run loop stops on it.
    reached: Notify,
}

impl SpendMeter {
    /// A meter for a run that has already spent `spent_usd`.
    pub fn new(ceiling_usd: f64, spent_usd: f64, prices: PriceTable) -> Self {
        Self {
            ceiling_usd,
            spent_usd: Mutex::new(spent_usd),
            prices,
            reached: Notify::new(),
        }
    }

    /// Sets what the run had spent before this session of it.
    pub fn start_from(&self, spent_usd: f64) {
        if let Ok(mut spent) = self.spent_usd.lock() {
            *spent = spent_usd;
        }
    }

    pub fn ceiling_usd(&self) -> f64 {
        self.ceiling_usd
    }

    pub fn spent_usd(&self) -> f64 {
        self.spent_usd.lock().map_or(f64::INFINITY, |s| *s)
    }

    pub fn is_reached(&self) -> bool {
        self.spent_usd() >= self.ceiling_usd
    }

    /// Resolves once the ceiling is reached (at once if it already was).
    pub async fn reached(&self) {
        if self.is_reached() {
            return;
        }
        self.reached.notified().await;
    }

    /// Counts one answered call, unless the response cache answered it.
    fn add(&self, model: &str, completion: &Completion) {
        if completion.reply.cached {
            return;
        }
        // Every metered model was checked to have a price before the run,
        // so an unknown cost cannot happen; counting it as the whole
        // ceiling would still stop the run rather than overspend.
        let cost = completion
            .cost_usd
            .or_else(|| {
                let batched = completion.call().is_some_and(|c| c.served.batch.is_some());
                self.prices.call_cost(model, completion.usage, batched)
            })
            .unwrap_or(self.ceiling_usd);
        let Ok(mut spent) = self.spent_usd.lock() else {
            return;
        };
        *spent += cost;
        if *spent >= self.ceiling_usd {
            // A stored permit: the run loop sees it even if it is busy now.
            self.reached.notify_one();
        }
    }
}

/// What the stored samples of a run cost, at the price table's rates and
/// the providers' reported costs; `None` when a billed call has no price.
pub fn spent_by(usage: &UsageByModel, prices: &PriceTable) -> Option<f64> {
    usage
        .iter()
        .filter(|(_, calls)| calls.calls > calls.cached_calls)
        .map(|(model, calls)| calls.cost_usd(model, prices))
        .sum()
}

/// A model whose calls count against the run's ceiling. It wraps the
/// response cache, so an answer the cache gives costs nothing.
pub struct Metered {
    inner: Arc<dyn Model>,
    meter: Arc<SpendMeter>,
}

impl Metered {
    pub fn new(inner: Arc<dyn Model>, meter: Arc<SpendMeter>) -> Self {
        Self { inner, meter }
    }
}

#[async_trait::async_trait]
impl Model for Metered {
    fn id(&self) -> &str {
        self.inner.id()
    }

    fn sampling(&self) -> &SamplingPolicy {
        self.inner.sampling()
    }

    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError> {
        if self.meter.is_reached() {
            // Nothing more is sent: the sample waits here until the run
            // stops and abandons it, and it stays pending for a resume.
            self.meter.reached.notify_one();
            std::future::pending::<()>().await;
        }
        let completion = self.inner.complete(request).await?;
        self.meter.add(self.inner.id(), &completion);
        Ok(completion)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Usage;

    fn completion(input_tokens: u64, cached: bool) -> Completion {
        let mut completion = Completion {
            reply: crate::transcript::Reply::default(),
            usage: Usage {
                input_tokens,
                ..Usage::default()
            },
            cost_usd: None,
        };
        completion.reply.cached = cached;
        completion
    }

    #[test]
    fn billed_calls_count_cached_ones_do_not_and_the_ceiling_is_reached() {
        let prices: PriceTable = PriceTable::with_overrides(
            &toml::from_str("\"x/m\" = { input = 1.0, output = 2.0 }").expect("a price"),
        )
        .expect("a valid price");
        let meter = SpendMeter::new(1.0, 0.25, prices);
        meter.add("x/m", &completion(500_000, false));
        assert!((meter.spent_usd() - 0.75).abs() < 1e-9);
        meter.add("x/m", &completion(500_000, true));
        assert!(!meter.is_reached(), "a cached answer costs nothing");
        meter.add("x/m", &completion(250_000, false));
        assert!(meter.is_reached());
        pollster::block_on(meter.reached());
    }
}

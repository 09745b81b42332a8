//! Tokens each model consumed in a sample, split into calls the provider
//! answered (and billed) and calls the response cache answered, with the
//! snapshots that served them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::Usage;
use crate::pricing::{CacheSaving, PriceTable};

/// One model's calls within a sample or a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallTally {
    pub calls: u64,
    /// Calls answered by the provider this run: what it bills.
    pub billed: Usage,
    pub cached_calls: u64,
    /// Tokens of calls the response cache answered: not billed again.
    pub cached: Usage,
    /// Of the billed calls, those whose provider reported what they cost
    /// (OpenRouter), their tokens and that cost; the rest are priced from
    /// the price table.
    #[serde(default, skip_serializing_if = "ReportedCost::is_empty")]
    pub reported: ReportedCost,
    /// Of the billed calls, those a batch API carried (`--batch`) and
    /// their tokens: priced at the batch rate.
    #[serde(default, skip_serializing_if = "BatchedCalls::is_empty")]
    pub batched: BatchedCalls,
    /// Calls by the snapshot that served them ([`Served::label`]), from
    /// the provider or from the cache.
    ///
    /// [`Served::label`]: crate::provenance::Served::label
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub served: BTreeMap<String, ServedCalls>,
}

/// Billed calls whose cost the provider reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportedCost {
    pub calls: u64,
    pub usage: Usage,
    pub usd: f64,
}

impl ReportedCost {
    fn is_empty(&self) -> bool {
        self.calls == 0
    }
}

/// Billed calls a batch API carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchedCalls {
    pub calls: u64,
    pub usage: Usage,
}

impl BatchedCalls {
    fn is_empty(&self) -> bool {
        self.calls == 0
    }
}

/// The calls one snapshot served.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedCalls {
    pub calls: u64,
    /// Of them, answered from the response cache.
    pub cached_calls: u64,
}

/// One call, as a tally counts it.
#[derive(Debug, Clone)]
pub struct CallFacts {
    pub usage: Usage,
    /// What the provider said it cost, if it said.
    pub cost_usd: Option<f64>,
    pub cached: bool,
    /// The snapshot that served it.
    pub served: String,
    /// A batch API carried it.
    pub batched: bool,
}

impl CallTally {
    pub fn add_call(&mut self, call: CallFacts) {
        self.calls += 1;
        let served = self.served.entry(call.served).or_default();
        served.calls += 1;
        if call.cached {
            served.cached_calls += 1;
            self.cached_calls += 1;
            self.cached += call.usage;
            return;
        }
        self.billed += call.usage;
        if call.batched && call.cost_usd.is_none() {
            self.batched.calls += 1;
            self.batched.usage += call.usage;
        }
        if let Some(usd) = call.cost_usd {
            self.reported.calls += 1;
            self.reported.usage += call.usage;
            self.reported.usd += usd;
        }
    }

    pub fn merge(&mut self, other: &CallTally) {
        self.calls += other.calls;
        self.billed += other.billed;
        self.cached_calls += other.cached_calls;
        self.cached += other.cached;
        self.reported.calls += other.reported.calls;
        self.reported.usage += other.reported.usage;
        self.reported.usd += other.reported.usd;
        self.batched.calls += other.batched.calls;
        self.batched.usage += other.batched.usage;
        for (snapshot, calls) in &other.served {
            let mine = self.served.entry(snapshot.clone()).or_default();
            mine.calls += calls.calls;
            mine.cached_calls += calls.cached_calls;
        }
    }

    /// US dollars for the billed calls: what the provider reported where it
    /// did, the price table's rates for the rest (its batch rate for the
    /// calls a batch API carried); `None` when some billed call is neither
    /// reported nor priced.
    pub fn cost_usd(&self, model: &str, prices: &PriceTable) -> Option<f64> {
        let billed_calls = self.calls - self.cached_calls;
        if billed_calls == self.reported.calls {
            return Some(self.reported.usd);
        }
        let mut live = self.billed;
        live -= self.reported.usage;
        live -= self.batched.usage;
        let batched = match self.batched.calls {
            0 => 0.0,
            _ => prices.call_cost(model, self.batched.usage, true)?,
        };
        prices
            .cost(model, live)
            .map(|cost| cost + batched + self.reported.usd)
    }
}

impl CallTally {
    /// What the provider's prompt cache saved on the billed calls the
    /// price table prices (a provider that reports each call's cost
    /// reports it with its own cache discount, which is not split out);
    /// `None` when the cache read and wrote nothing, or the model has no
    /// price.
    pub fn prompt_cache_saving(&self, model: &str, prices: &PriceTable) -> Option<CacheSaving> {
        let mut priced = self.billed;
        priced -= self.reported.usage;
        prices.price(model)?.cache_saving(priced)
    }
}

/// Per model id (`provider/model`), its calls.
pub type UsageByModel = BTreeMap<String, CallTally>;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn call(input: u64, cost: Option<f64>, cached: bool, served: &str) -> CallFacts {
        CallFacts {
            usage: Usage {
                input_tokens: input,
                output_tokens: 0,
                ..Usage::default()
            },
            cost_usd: cost,
            cached,
            served: served.into(),
            batched: false,
        }
    }

    #[test]
    fn reported_costs_are_used_and_the_rest_priced() {
        let prices = PriceTable::with_overrides(&BTreeMap::from([(
            "openrouter/x".to_owned(),
            crate::pricing::Price {
                input: 1.0,
                output: 1.0,
                cached_input: None,
                cache_write: None,
                cache_write_1h: None,
            },
        )]))
        .expect("a valid price");
        let mut tally = CallTally::default();
        tally.add_call(call(1_000_000, Some(0.25), false, "x-1"));
        assert_eq!(tally.cost_usd("openrouter/x", &prices), Some(0.25));
        assert_eq!(tally.cost_usd("openrouter/unpriced", &prices), Some(0.25));
        tally.add_call(call(1_000_000, None, false, "x-1"));
        // The second call is priced at $1 per million input tokens.
        assert_eq!(tally.cost_usd("openrouter/x", &prices), Some(1.25));
        assert_eq!(tally.cost_usd("openrouter/unpriced", &prices), None);
        // A cached call costs nothing, and is counted under its snapshot.
        tally.add_call(call(1_000_000, Some(9.0), true, "x-0"));
        assert_eq!(tally.cost_usd("openrouter/x", &prices), Some(1.25));
        assert_eq!(
            tally.served["x-0"],
            ServedCalls {
                calls: 1,
                cached_calls: 1
            }
        );
        assert_eq!(tally.served["x-1"].calls, 2);
    }

    #[test]
    fn a_batched_call_is_priced_at_half_the_live_rate() {
        let prices = PriceTable::with_overrides(&BTreeMap::from([(
            "openai/x".to_owned(),
            crate::pricing::Price {
                input: 2.0,
                output: 2.0,
                cached_input: None,
                cache_write: None,
                cache_write_1h: None,
            },
        )]))
        .expect("a valid price");
        let mut tally = CallTally::default();
        tally.add_call(call(1_000_000, None, false, "x-1"));
        assert_eq!(tally.cost_usd("openai/x", &prices), Some(2.0));
        tally.add_call(CallFacts {
            batched: true,
            ..call(1_000_000, None, false, "x-1")
        });
        assert_eq!(tally.cost_usd("openai/x", &prices), Some(3.0));
        assert_eq!(tally.batched.calls, 1);
        // A merged tally keeps the batched calls apart.
        let mut run = CallTally::default();
        run.merge(&tally);
        assert_eq!(run.cost_usd("openai/x", &prices), Some(3.0));
    }

    #[test]
    fn a_tally_stored_before_snapshots_were_counted_still_reads() {
        let old = r#"{"calls":2,"billed":{"input_tokens":10,"output_tokens":5},
                      "cached_calls":0,"cached":{"input_tokens":0,"output_tokens":0}}"#;
        let tally: CallTally = serde_json::from_str(old).expect("an old tally reads");
        assert_eq!(tally.calls, 2);
        assert!(tally.served.is_empty());
        assert_eq!(tally.reported.calls, 0);
    }
}

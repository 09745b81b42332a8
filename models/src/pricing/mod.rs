//! What tokens cost: a built-in table of list prices that a suite's
//! `[prices]` table extends and overrides.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Usage;

/// US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// Input read from the provider's prompt cache; `input` if not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input: Option<f64>,
    /// Input written to the provider's prompt cache (Anthropic's five-minute
    /// writes); `input` if not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
    /// Input written to the prompt cache for an hour (Anthropic's `"ttl":
    /// "1h"`); `cache_write` if not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h: Option<f64>,
}

impl Price {
    pub fn cost(&self, usage: Usage) -> f64 {
        let fresh = usage
            .input_tokens
            .saturating_sub(usage.cache_read_tokens)
            .saturating_sub(usage.cache_write_tokens);
        (fresh as f64 * self.input
            + self.cached_part(usage)
            + usage.output_tokens as f64 * self.output)
            / 1e6
    }

    /// What the tokens the prompt cache read or wrote cost, per million.
    fn cached_part(&self, usage: Usage) -> f64 {
        let write = self.cache_write.unwrap_or(self.input);
        let hour = usage.cache_write_1h_tokens.min(usage.cache_write_tokens);
        usage.cache_read_tokens as f64 * self.cached_input.unwrap_or(self.input)
            + (usage.cache_write_tokens - hour) as f64 * write
            + hour as f64 * self.cache_write_1h.unwrap_or(write)
    }

    /// What the prompt cache saved on `usage`: the tokens it read or wrote
    /// priced at the uncached input rate, less what they cost (a write
    /// costs more than fresh input, so a cache written and never read
    /// saves less than nothing), with its share of what all the input
    /// would have cost uncached. `None` when nothing was read or written.
    pub fn cache_saving(&self, usage: Usage) -> Option<CacheSaving> {
        let cached = usage.cache_read_tokens + usage.cache_write_tokens;
        if cached == 0 {
            return None;
        }
        let usd = (cached as f64 * self.input - self.cached_part(usage)) / 1e6;
        let uncached_input = usage.input_tokens as f64 * self.input / 1e6;
        Some(CacheSaving {
            usd,
            share_of_input: if uncached_input > 0.0 {
                usd / uncached_input
            } else {
                0.0
            },
        })
    }

    fn rates(&self) -> [Option<f64>; 5] {
        [
            Some(self.input),
            Some(self.output),
            self.cached_input,
            self.cache_write,
            self.cache_write_1h,
        ]
    }
}

/// What the provider's prompt cache saved.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CacheSaving {
    /// US dollars; negative when writes cost more than reads saved.
    pub usd: f64,
    /// Of what all the input would have cost without the cache.
    pub share_of_input: f64,
}

/// The file format of the built-in table (and of a suite's `[prices]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    prices: BTreeMap<String, Price>,
}

const BUILT_IN: &str = include_str!("prices.toml");

#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    #[error(
        "prices.\"{model}\": a price must be a finite, non-negative number of dollars per million tokens"
    )]
    Invalid { model: String },
}

/// Prices by model id (`provider/model`); a dated snapshot takes its
/// family's.
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    prices: BTreeMap<String, Price>,
}

impl PriceTable {
    /// The built-in table with `overrides` (a suite's `[prices]`) on top.
    pub fn with_overrides(overrides: &BTreeMap<String, Price>) -> Result<Self, PriceError> {
        let mut prices = toml::from_str::<PriceFile>(BUILT_IN)
            .map(|f| f.prices)
            // The table is compiled in and covered by a test.
            .unwrap_or_default();
        for (model, price) in overrides {
            let valid = |n: f64| n.is_finite() && n >= 0.0;
            if !price.rates().into_iter().flatten().all(valid) {
                return Err(PriceError::Invalid {
                    model: model.clone(),
                });
            }
            prices.insert(model.clone(), *price);
        }
        Ok(Self { prices })
    }

    /// The price of `model`: its own entry, else that of the model it is a
    /// dated snapshot of (`openai/gpt-4.1-2025-04-14` and
    /// `anthropic/claude-sonnet-4-20250514` are priced as their family). Any
    /// other suffix is another model (`openai/o3-mini`,
    /// `anthropic/claude-opus-4-5` is not `claude-opus-4`): it has its own
    /// price or none.
    pub fn price(&self, model: &str) -> Option<Price> {
        if let Some(price) = self.prices.get(model) {
            return Some(*price);
        }
        let family = snapshot_family(model)?;
        self.prices.get(family).copied()
    }

    /// What `usage` of `model` cost, if its price is known.
    pub fn cost(&self, model: &str, usage: Usage) -> Option<f64> {
        self.price(model).map(|p| p.cost(usage))
    }

    /// What one call's `usage` cost: at the batch rate when a batch API
    /// carried it.
    pub fn call_cost(&self, model: &str, usage: Usage, batched: bool) -> Option<f64> {
        let cost = self.cost(model, usage)?;
        Some(if batched {
            cost * BATCH_PRICE_FACTOR
        } else {
            cost
        })
    }
}

/// What the providers' batch APIs charge, against the live price: half,
/// on every token kind, at all three. OpenAI: "Batch API ... 50% discount"
/// (openai.com/api/pricing, platform.openai.com/docs/guides/batch);
/// Anthropic: "Batch processing ... 50% of standard API prices"
/// (docs.anthropic.com/en/docs/about-claude/pricing#batch-processing);
/// Gemini: "Batch Mode ... 50% of the cost of interactive requests"
/// (ai.google.dev/gemini-api/docs/batch-mode, /pricing). A suite's own
/// `[prices]` are live prices; the factor applies to them too.
pub const BATCH_PRICE_FACTOR: f64 = 0.5;

/// The model a dated snapshot belongs to: `name-20250514` or
/// `name-2025-04-14` is a snapshot of `name`.
fn snapshot_family(model: &str) -> Option<&str> {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let (family, date) = model.rsplit_once('-')?;
    if date.len() == 8 && digits(date) {
        return Some(family);
    }
    // `-YYYY-MM-DD`: three dash-separated groups of 4, 2 and 2 digits.
    let (rest, day) = model.rsplit_once('-')?;
    let (rest, month) = rest.rsplit_once('-')?;
    let (family, year) = rest.rsplit_once('-')?;
    let dated = [(year, 4), (month, 2), (day, 2)]
        .iter()
        .all(|(part, len)| part.len() == *len && digits(part));
    dated.then_some(family)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_table_reads() {
        let file: PriceFile = toml::from_str(BUILT_IN).expect("prices.toml is valid");
        assert!(file.prices.len() >= 10);
        assert!(
            file.prices
                .values()
                .all(|p| p.input > 0.0 && p.output >= p.input)
        );
        // A cache read is cheaper than fresh input; a cache write is not.
        for (model, price) in &file.prices {
            if let Some(cached) = price.cached_input {
                assert!(cached < price.input, "{model}");
            }
            if let Some(write) = price.cache_write {
                assert!(write >= price.input, "{model}");
            }
        }
    }

    #[test]
    fn a_dated_snapshot_takes_its_familys_price_and_overrides_win() {
        let mut overrides = BTreeMap::new();
        overrides.insert(
            "openai/gpt-4.1-mini".to_owned(),
            Price {
                input: 1.0,
                output: 2.0,
                cached_input: None,
                cache_write: None,
                cache_write_1h: None,
            },
        );
        let table = PriceTable::with_overrides(&overrides).expect("valid overrides");
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 500_000,
            ..Usage::default()
        };
        assert_eq!(
            table.cost("openai/gpt-4.1-mini-2025-04-14", usage),
            Some(2.0)
        );
        assert_eq!(table.cost("openai/gpt-4.1-2025-04-14", usage), Some(6.0));
        assert_eq!(table.cost("openai/unknown", usage), None);
        // A variant is not its family: o3-mini is not priced as o3.
        assert_eq!(table.cost("openai/o3-mini-preview", usage), None);
        assert_eq!(
            table.cost("anthropic/claude-sonnet-4-20250514", usage),
            table.cost("anthropic/claude-sonnet-4", usage)
        );
    }

    #[test]
    fn only_a_date_makes_a_snapshot() {
        assert_eq!(
            snapshot_family("claude-opus-4-20250514"),
            Some("claude-opus-4")
        );
        assert_eq!(snapshot_family("gpt-4.1-2025-04-14"), Some("gpt-4.1"));
        for other in [
            "claude-opus-4-5",
            "claude-opus-4-1",
            "o3-mini",
            "gpt-4.1-mini",
            "x-2025-4-14",
            "x-123456789",
        ] {
            assert_eq!(snapshot_family(other), None, "{other}");
        }
        let table = PriceTable::with_overrides(&BTreeMap::new()).expect("the built-in table");
        let opus_4 = table.price("anthropic/claude-opus-4").expect("priced");
        let opus_4_5 = table.price("anthropic/claude-opus-4-5").expect("priced");
        assert_ne!(opus_4, opus_4_5, "4.5 has its own price, not 4's");
        assert_eq!(
            table.price("anthropic/claude-opus-4-5-20251101"),
            Some(opus_4_5)
        );
        assert_eq!(table.price("anthropic/claude-opus-4-9"), None);
    }

    #[test]
    fn cached_input_is_priced_as_such() {
        let table = PriceTable::with_overrides(&BTreeMap::new()).expect("the built-in table");
        // Claude Sonnet 4.5: $3 input, $0.30 a cache read, $3.75 a cache
        // write, $15 output, per million.
        let usage = Usage {
            input_tokens: 3_000_000,
            output_tokens: 1_000_000,
            cache_read_tokens: 1_000_000,
            cache_write_tokens: 1_000_000,
            cache_write_1h_tokens: 0,
            reasoning_tokens: 0,
        };
        let cost = table
            .cost("anthropic/claude-sonnet-4-5-20250929", usage)
            .expect("priced");
        assert!((cost - (3.0 + 0.30 + 3.75 + 15.0)).abs() < 1e-9, "{cost}");
        // Without a cached rate, cached input is input.
        let plain = Price {
            input: 2.0,
            output: 8.0,
            cached_input: None,
            cache_write: None,
            cache_write_1h: None,
        };
        assert!((plain.cost(usage) - (6.0 + 8.0)).abs() < 1e-9);
    }

    #[test]
    fn hour_long_writes_and_the_saving_are_priced_at_their_rates() {
        let table = PriceTable::with_overrides(&BTreeMap::new()).expect("the built-in table");
        // Claude Sonnet 4.5: $3 input, $0.30 a read, $3.75 a five-minute
        // write, $6 an hour-long write, per million.
        let price = table.price("anthropic/claude-sonnet-4-5").expect("priced");
        let usage = Usage {
            input_tokens: 4_000_000,
            cache_read_tokens: 2_000_000,
            cache_write_tokens: 1_000_000,
            cache_write_1h_tokens: 1_000_000,
            ..Usage::default()
        };
        assert!((price.cost(usage) - (3.0 + 0.60 + 6.0)).abs() < 1e-9);
        let saving = price.cache_saving(usage).expect("cached tokens");
        // Uncached, the 3M cached tokens would have cost $9; they cost $6.60.
        assert!((saving.usd - 2.40).abs() < 1e-9, "{saving:?}");
        assert!((saving.share_of_input - 2.40 / 12.0).abs() < 1e-9);
        // Written and never read: a loss.
        let written = Usage {
            input_tokens: 1_000_000,
            cache_write_tokens: 1_000_000,
            ..Usage::default()
        };
        assert!((price.cache_saving(written).expect("written").usd + 0.75).abs() < 1e-9);
        assert_eq!(price.cache_saving(Usage::default()), None);
    }

    #[test]
    fn every_anthropic_model_prices_both_write_lifetimes() {
        let file: PriceFile = toml::from_str(BUILT_IN).expect("prices.toml is valid");
        for (model, price) in &file.prices {
            assert!(price.cached_input.is_some(), "{model} has a cached rate");
            if model.starts_with("anthropic/") {
                let write = price.cache_write.expect("a five-minute write rate");
                let hour = price.cache_write_1h.expect("an hour-long write rate");
                assert!((write - price.input * 1.25).abs() < 1e-9, "{model}");
                assert!((hour - price.input * 2.0).abs() < 1e-9, "{model}");
            }
        }
    }

    #[test]
    fn negative_or_infinite_prices_are_refused() {
        for bad in [-1.0, f64::INFINITY, f64::NAN] {
            let mut overrides = BTreeMap::new();
            overrides.insert(
                "x/y".to_owned(),
                Price {
                    input: 1.0,
                    output: 1.0,
                    cached_input: Some(bad),
                    cache_write: None,
                    cache_write_1h: None,
                },
            );
            assert!(PriceTable::with_overrides(&overrides).is_err());
            overrides.insert(
                "x/y".to_owned(),
                Price {
                    input: bad,
                    output: 1.0,
                    cached_input: None,
                    cache_write: None,
                    cache_write_1h: None,
                },
            );
            assert!(PriceTable::with_overrides(&overrides).is_err());
        }
    }
}

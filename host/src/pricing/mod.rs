//! What tokens cost: a built-in table of list prices that a suite's
//! `[prices]` table extends and overrides.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::Usage;

/// US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

impl Price {
    pub fn cost(&self, usage: Usage) -> f64 {
        (usage.input_tokens as f64 * self.input + usage.output_tokens as f64 * self.output) / 1e6
    }
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

/// Prices by model id (`provider/model`), or by a prefix of it.
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
            if !valid(price.input) || !valid(price.output) {
                return Err(PriceError::Invalid {
                    model: model.clone(),
                });
            }
            prices.insert(model.clone(), *price);
        }
        Ok(Self { prices })
    }

    /// The price of `model`: its own entry, else that of the model it is a
    /// dated snapshot of (`openai/gpt-4.1-2025-04-14` is priced as
    /// `openai/gpt-4.1`). Another variant (`openai/o3-mini`) is not priced
    /// as its family: it has its own price or none.
    pub fn price(&self, model: &str) -> Option<Price> {
        if let Some(price) = self.prices.get(model) {
            return Some(*price);
        }
        self.prices
            .iter()
            .filter(|(id, _)| {
                model
                    .strip_prefix(id.as_str())
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
            })
            .max_by_key(|(id, _)| id.len())
            .map(|(_, price)| *price)
    }

    /// What `usage` of `model` cost, if its price is known.
    pub fn cost(&self, model: &str, usage: Usage) -> Option<f64> {
        self.price(model).map(|p| p.cost(usage))
    }
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
    }

    #[test]
    fn a_dated_snapshot_takes_its_familys_price_and_overrides_win() {
        let mut overrides = BTreeMap::new();
        overrides.insert(
            "openai/gpt-4.1-mini".to_owned(),
            Price {
                input: 1.0,
                output: 2.0,
            },
        );
        let table = PriceTable::with_overrides(&overrides).expect("valid overrides");
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 500_000,
        };
        assert_eq!(
            table.cost("openai/gpt-4.1-mini-2025-04-14", usage),
            Some(2.0)
        );
        assert_eq!(table.cost("openai/gpt-4.1-2025-04-14", usage), Some(6.0));
        assert_eq!(table.cost("openai/unknown", usage), None);
        // A variant is not its family: o3-mini is not priced as o3.
        assert_eq!(table.cost("openai/o3-mini-preview", usage), None);
    }

    #[test]
    fn negative_or_infinite_prices_are_refused() {
        for bad in [-1.0, f64::INFINITY, f64::NAN] {
            let mut overrides = BTreeMap::new();
            overrides.insert(
                "x/y".to_owned(),
                Price {
                    input: bad,
                    output: 1.0,
                },
            );
            assert!(PriceTable::with_overrides(&overrides).is_err());
        }
    }
}

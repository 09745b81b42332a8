//! `--dry-run`'s estimate of what the provider's prompt cache saves: per
//! condition the opening (tools, system prompt, opening messages) is written
//! once, by the first sample, and read by the others, within the cache's
//! lifetime. Only the first call of each sample is counted, as in the
//! plan's low end; later turns resend more and may save more.

use serde::Serialize;

use crate::model::{ModelSpec, Usage};
use crate::pricing::{CacheSaving, PriceTable};

/// The shortest prompt the providers cache: OpenAI's 1024 tokens, and
/// Anthropic's and Gemini's least (some of their models need more).
pub const MIN_CACHED_TOKENS: u64 = 1024;

/// What is said of every estimate.
pub const ASSUMPTION: &str = "per condition, the first sample writes the opening to the provider's prompt cache and the others read it (all within the cache's lifetime); openings under 1024 tokens are not cached; first calls only";

/// One model's estimated prompt-cache use, on its samples' first calls.
#[derive(Debug, Clone, Serialize)]
pub struct CacheEstimate {
    /// How the provider caches, as this run uses it.
    pub how: &'static str,
    pub cache_write_tokens: u64,
    pub cache_read_tokens: u64,
    /// Priced at the model's rates; none without a price.
    pub saved: Option<CacheSaving>,
    pub assumption: &'static str,
}

/// The way `spec`'s provider caches an opening this host sends it, and
/// whether writes bill apart; `None` where the host sends no cache field
/// and the provider documents nothing it does (OpenRouter, Together), or
/// the cache is turned off.
fn caching(spec: &ModelSpec) -> Option<(&'static str, bool)> {
    let off = spec.prompt_cache.as_deref() == Some("off");
    match spec.provider() {
        "anthropic" if !off => Some((
            "cache_control on the opening; writes billed at the write rate",
            true,
        )),
        "openai" if !off => Some(("automatic, with a prompt_cache_key per opening", false)),
        // Implicit caching came with Gemini 2.5.
        "gemini"
            if ["gemini-2.5", "gemini-3"]
                .iter()
                .any(|family| spec.model().starts_with(family)) =>
        {
            Some(("implicit, on Gemini 2.5 and later", false))
        }
        _ => None,
    }
}

/// The estimate for `spec` over `openings` (each condition's opening, in
/// tokens) with `samples` samples a condition.
pub fn estimate(
    spec: &ModelSpec,
    openings: &[u64],
    samples: u64,
    prices: &PriceTable,
) -> Option<CacheEstimate> {
    let (how, bills_writes) = caching(spec)?;
    let mut usage = Usage::default();
    for &tokens in openings {
        usage.input_tokens = usage
            .input_tokens
            .saturating_add(tokens.saturating_mul(samples));
        if tokens < MIN_CACHED_TOKENS || samples == 0 {
            continue;
        }
        usage.cache_read_tokens = usage
            .cache_read_tokens
            .saturating_add(tokens.saturating_mul(samples - 1));
        if bills_writes {
            usage.cache_write_tokens = usage.cache_write_tokens.saturating_add(tokens);
        }
    }
    if spec.prompt_cache.as_deref() == Some("1h") {
        usage.cache_write_1h_tokens = usage.cache_write_tokens;
    }
    let saved = prices
        .price(&spec.id)
        .and_then(|price| price.cache_saving(usage));
    Some(CacheEstimate {
        how,
        cache_write_tokens: usage.cache_write_tokens,
        cache_read_tokens: usage.cache_read_tokens,
        saved,
        assumption: ASSUMPTION,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn spec(text: &str) -> ModelSpec {
        ModelSpec::parse(text).expect("a valid spec")
    }

    #[test]
    fn each_condition_writes_its_opening_once_and_reads_it_after() {
        let prices = PriceTable::with_overrides(&BTreeMap::new()).expect("the built-in table");
        // Two conditions of 2000 tokens and one too short to cache.
        let openings = [2000, 2000, 500];
        let e = estimate(&spec("anthropic/claude-sonnet-4-5"), &openings, 10, &prices)
            .expect("anthropic caches");
        assert_eq!((e.cache_write_tokens, e.cache_read_tokens), (4000, 36_000));
        // 40k tokens cost $0.12 uncached; reads $0.0108, writes $0.015.
        let saved = e.saved.expect("priced");
        assert!(
            (saved.usd - (0.12 - 0.0108 - 0.015)).abs() < 1e-9,
            "{saved:?}"
        );
        // OpenAI bills no writes: every read is a saving.
        let e = estimate(&spec("openai/gpt-4.1"), &openings, 10, &prices).expect("openai");
        assert_eq!((e.cache_write_tokens, e.cache_read_tokens), (0, 36_000));
        assert!(
            estimate(
                &spec("anthropic/x,prompt_cache=off"),
                &openings,
                10,
                &prices
            )
            .is_none()
        );
        assert!(estimate(&spec("together/x"), &openings, 10, &prices).is_none());
        assert!(estimate(&spec("gemini/gemini-2.0-flash"), &openings, 10, &prices).is_none());
        assert!(estimate(&spec("gemini/gemini-2.5-flash"), &openings, 10, &prices).is_some());
        // One sample a condition reads nothing back.
        let e = estimate(&spec("anthropic/claude-sonnet-4-5"), &openings, 1, &prices)
            .expect("anthropic");
        assert_eq!(e.cache_read_tokens, 0);
        assert!(
            e.saved.is_some_and(|s| s.usd < 0.0),
            "writes with no reads cost"
        );
    }
}

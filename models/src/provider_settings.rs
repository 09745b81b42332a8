//! A suite's `[providers.NAME]` table: how a run paces and retries the
//! calls it makes to one provider.

use serde::{Deserialize, Serialize};

/// How a run treats one provider: how much it asks of it at once and per
/// minute, and how it retries a failed call. Unset fields are unlimited,
/// or the retry defaults (8 attempts, 10m, backoff from 1s up to 60s).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    /// Requests in flight at once, over all of the provider's models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<std::num::NonZeroU32>,
    /// Requests started per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<std::num::NonZeroU32>,
    /// Tokens per minute, input and output: estimated from a request's
    /// size and `max_tokens` before it is sent, corrected by the usage the
    /// provider reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_minute: Option<std::num::NonZeroU64>,
    /// Attempts per call, the first included; 1 never retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<std::num::NonZeroU32>,
    /// No retry starts this long after a call began, e.g. `"10m"`.
    #[serde(
        default,
        with = "duration_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_retry_time: Option<std::time::Duration>,
    /// The first backoff's ceiling, doubling with each failure, e.g. `"1s"`.
    #[serde(
        default,
        with = "duration_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub initial_backoff: Option<std::time::Duration>,
    /// The most the backoff's ceiling grows to, e.g. `"60s"`.
    #[serde(
        default,
        with = "duration_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_backoff: Option<std::time::Duration>,
}

/// Durations as people write them (`"10m"`, `"1s"`, `"250ms"`).
mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.serialize_str(&humantime::format_duration(*d).to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map(Some).map_err(|e| {
            serde::de::Error::custom(format!(
                "`{text}` is not a duration ({e}); write one like \"10m\", \"1s\" or \"250ms\""
            ))
        })
    }
}

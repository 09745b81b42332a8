//! What a provider said about one call beyond the reply itself: why the
//! reply ended, which model actually served it, and the sampling settings
//! that went on the wire. Kept with every assistant message and judge
//! exchange, so that a benchmark's number rests on what the provider did,
//! not on what was asked of it.

use serde::{Deserialize, Serialize};

/// Why a reply ended, in the host's terms, with the provider's own words
/// beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stop {
    pub kind: StopKind,
    /// The provider's value as it sent it (`finish_reason`, `stop_reason`,
    /// `finishReason`, `promptFeedback.blockReason`); `None` when it sent
    /// none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// Anything more the provider said about it: OpenRouter's
    /// `native_finish_reason`, Anthropic's refusal category, Gemini's
    /// `finishMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Stop {
    pub fn new(kind: StopKind, raw: Option<&str>) -> Self {
        Self {
            kind,
            raw: raw.map(str::to_owned),
            detail: None,
        }
    }

    #[must_use]
    pub fn with_detail(mut self, detail: Option<String>) -> Self {
        self.detail = detail.filter(|d| !d.is_empty());
        self
    }

    /// `truncated (finish_reason length)`, for messages.
    pub fn describe(&self, field: &str) -> String {
        match (&self.raw, &self.detail) {
            (Some(raw), Some(detail)) => format!("{} ({field} {raw}: {detail})", self.kind),
            (Some(raw), None) => format!("{} ({field} {raw})", self.kind),
            (None, Some(detail)) => format!("{} ({detail})", self.kind),
            (None, None) => self.kind.to_string(),
        }
    }
}

/// The host's few kinds of ending, whichever provider's vocabulary they
/// came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopKind {
    /// The model finished its answer (or hit a stop sequence).
    End,
    /// The model stopped to call tools.
    ToolUse,
    /// The output limit or the context window cut the reply short.
    Truncated,
    /// The model declined to answer.
    Refused,
    /// The provider withheld or filtered the answer (a safety filter, a
    /// blocklist, a blocked prompt).
    Blocked,
    /// The provider paused a long turn for the caller to continue.
    Paused,
    /// The provider ended the reply on an error of its own.
    Error,
}

impl StopKind {
    /// Whether an agent reply that ended so ends its episode there: the
    /// scenario is never stepped with a reply that was cut, refused or
    /// withheld, and the sample is counted under that outcome.
    pub fn ends_episode(self) -> bool {
        matches!(
            self,
            StopKind::Truncated | StopKind::Refused | StopKind::Blocked
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StopKind::End => "end",
            StopKind::ToolUse => "tool_use",
            StopKind::Truncated => "truncated",
            StopKind::Refused => "refused",
            StopKind::Blocked => "blocked",
            StopKind::Paused => "paused",
            StopKind::Error => "error",
        }
    }
}

impl std::fmt::Display for StopKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The model that actually served a call, as the provider named it in
/// its answer: an alias such as `gpt-4.1` is served by a dated snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Served {
    /// OpenAI's and Anthropic's `model`, Gemini's `modelVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// OpenAI's `system_fingerprint`: the backend configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The provider a router sent the call on to (OpenRouter's `provider`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// The provider's id of the response (`id`, Gemini's `responseId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    /// The provider batch that carried the call (`crucible run --batch`):
    /// billed at the batch rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
}

/// How a call whose provider named no model is shown.
pub const NOT_REPORTED: &str = "(not reported)";

impl Served {
    /// The snapshot as results show it: the model, and the upstream
    /// provider when a router chose one.
    pub fn label(&self) -> String {
        let model = self
            .model
            .as_deref()
            .filter(|m| !m.is_empty())
            .unwrap_or(NOT_REPORTED);
        match self.upstream.as_deref().filter(|u| !u.is_empty()) {
            Some(upstream) => format!("{model} via {upstream}"),
            None => model.to_owned(),
        }
    }
}

/// The sampling settings one call was sent with: what went on the wire,
/// not what was asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SentSampling {
    /// `None`: no temperature was sent, and the model's default applied.
    pub temperature: Option<f32>,
    /// The output limit sent, if any.
    pub max_tokens: Option<u32>,
    /// The reasoning setting sent, as `reasoning_effort=high` or
    /// `thinking_budget=2048`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// Why a temperature the run asked for was not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

// Temperatures are validated numbers between 0 and 2, never NaN, so
// equality is total.
impl Eq for SentSampling {}

impl SentSampling {
    /// `temperature 1.0, max tokens 4096, reasoning_effort=high`, for the
    /// plan and for messages.
    pub fn describe(&self) -> String {
        let mut parts = vec![match self.temperature {
            Some(t) => format!("temperature {t:?}"),
            None => "no temperature (the model's default)".to_owned(),
        }];
        if let Some(n) = self.max_tokens {
            parts.push(format!("max tokens {n}"));
        }
        if let Some(reasoning) = &self.reasoning {
            parts.push(reasoning.clone());
        }
        let mut text = parts.join(", ");
        if let Some(note) = &self.note {
            text.push_str(&format!(" ({note})"));
        }
        text
    }
}

/// One model call's provenance, kept with what it produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    pub stop: Stop,
    pub served: Served,
    pub sent: SentSampling,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_labelled_with_its_router_and_an_unnamed_one_says_so() {
        let served = Served {
            model: Some("meta-llama/llama-3.1-70b".into()),
            upstream: Some("Together".into()),
            ..Served::default()
        };
        assert_eq!(served.label(), "meta-llama/llama-3.1-70b via Together");
        assert_eq!(Served::default().label(), NOT_REPORTED);
    }

    #[test]
    fn only_cut_refused_or_withheld_replies_end_an_episode() {
        let ending: Vec<StopKind> = [
            StopKind::End,
            StopKind::ToolUse,
            StopKind::Truncated,
            StopKind::Refused,
            StopKind::Blocked,
            StopKind::Paused,
            StopKind::Error,
        ]
        .into_iter()
        .filter(|k| k.ends_episode())
        .collect();
        assert_eq!(
            ending,
            [StopKind::Truncated, StopKind::Refused, StopKind::Blocked]
        );
    }

    #[test]
    fn a_stop_reads_with_the_providers_words() {
        let stop = Stop::new(StopKind::Refused, Some("refusal")).with_detail(Some("cyber".into()));
        assert_eq!(
            stop.describe("stop_reason"),
            "refused (stop_reason refusal: cyber)"
        );
        let json = serde_json::to_value(&stop).expect("serializes");
        assert_eq!(json["kind"], "refused");
        assert_eq!(json["raw"], "refusal");
    }
}

//! What one configured model sends for the sampling a caller asks of it.
//!
//! A caller asks two things of a request: the judge pins its temperature
//! (0) and its output limit, and a suite's `[run] temperature` is a
//! default for agents whose own settings set none. What reaches the wire
//! is resolved here, once per request, from those asks, the model's own
//! settings and its family's rules; each provider builds its request body
//! from the result, and the same result is recorded as sent.

use std::sync::Arc;

use super::family::Family;
use super::{ChatRequest, Completion, Model, ModelError};
use crucible_types::provenance::SentSampling;

/// Sampling settings a caller asks of one request, over the model's own.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SamplingSettings {
    /// A temperature pinned over the model's own setting (the judge's),
    /// sent where the model accepts one.
    pub temperature: Option<f32>,
    /// A temperature for a model whose settings set none (the suite's
    /// `[run] temperature`), sent where the model accepts one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_temperature: Option<f32>,
    /// An output limit pinned over the model's own.
    pub max_tokens: Option<u32>,
}

/// How a model takes sampling settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingPolicy {
    /// The model's own temperature, already checked against its family.
    own_temperature: Option<f32>,
    /// Why a temperature a caller asks for cannot be sent, if it cannot.
    refuses_temperature: Option<String>,
    /// The highest temperature the provider's API takes.
    max_temperature: f32,
    own_max_tokens: Option<u32>,
    /// The limit sent when nobody sets one, for APIs that require one.
    required_max_tokens: Option<u32>,
    /// The reasoning setting the model sends, as recorded.
    reasoning_setting: Option<String>,
    reasoning_model: bool,
    thinking_budget: Option<u32>,
}

impl SamplingPolicy {
    /// A model that takes any temperature up to `max_temperature` and has
    /// none of its own: the offline models, and the base every provider
    /// builds on.
    pub fn new(max_temperature: f32) -> Self {
        Self {
            own_temperature: None,
            refuses_temperature: None,
            max_temperature,
            own_max_tokens: None,
            required_max_tokens: None,
            reasoning_setting: None,
            reasoning_model: false,
            thinking_budget: None,
        }
    }

    /// The family's rules: a reasoning model, and whether it takes a
    /// temperature at all.
    #[must_use]
    pub(super) fn family(mut self, family: &Family) -> Self {
        self.reasoning_model = family.reasoning;
        self.refuses_temperature = family.fixed_temperature.clone();
        self
    }

    #[must_use]
    pub(super) fn own(mut self, temperature: Option<f32>, max_tokens: Option<u32>) -> Self {
        self.own_temperature = temperature;
        self.own_max_tokens = max_tokens;
        self
    }

    /// Refuses a caller's temperature for a reason of the model's settings
    /// (e.g. `top_p` set on a model that takes one or the other).
    #[must_use]
    pub(super) fn refusing_temperature(mut self, why: String) -> Self {
        self.refuses_temperature.get_or_insert(why);
        self
    }

    #[must_use]
    pub(super) fn required_max_tokens(mut self, max_tokens: u32) -> Self {
        self.required_max_tokens = Some(max_tokens);
        self
    }

    /// The reasoning setting the model sends, as recorded; `thinking` when
    /// the setting turns reasoning on (an effort of `none` or a budget of 0
    /// does not), with `thinking_budget` tokens of thinking if given.
    #[must_use]
    pub(super) fn reasoning(
        mut self,
        setting: Option<String>,
        thinking_budget: Option<u32>,
        thinking: bool,
    ) -> Self {
        self.reasoning_model |= thinking;
        self.reasoning_setting = setting;
        self.thinking_budget = thinking_budget.filter(|b| *b > 0);
        self
    }

    /// Whether the model reasons before it answers: a judge pins it no
    /// temperature and leaves room for its reasoning.
    pub fn is_reasoning(&self) -> bool {
        self.reasoning_model
    }

    /// The thinking budget it was given, if any.
    pub fn thinking_budget(&self) -> Option<u32> {
        self.thinking_budget
    }

    /// What a request asking `wanted` is sent with.
    pub fn resolve(&self, wanted: &SamplingSettings) -> SentSampling {
        // A pinned temperature goes over the model's own; the run's
        // default only where the model has none.
        let asked = match (wanted.temperature, self.own_temperature) {
            (Some(pinned), _) => Some((pinned, "the pinned")),
            (None, Some(_)) => None,
            (None, None) => wanted.default_temperature.map(|t| (t, "the run's")),
        };
        let (temperature, note) = match asked {
            None => (self.own_temperature, None),
            Some((asked, whose)) => match self.refusal(asked) {
                None => (Some(asked), None),
                // Refused, the model's own setting (checked when the model
                // was built) stands.
                Some(why) => (
                    self.own_temperature,
                    Some(format!("{whose} temperature {asked:?} was not sent: {why}")),
                ),
            },
        };
        SentSampling {
            temperature,
            max_tokens: wanted
                .max_tokens
                .or(self.own_max_tokens)
                .or(self.required_max_tokens),
            reasoning: self.reasoning_setting.clone(),
            note,
        }
    }

    fn refusal(&self, temperature: f32) -> Option<String> {
        if let Some(why) = &self.refuses_temperature {
            return Some(why.clone());
        }
        (temperature > self.max_temperature).then(|| {
            format!(
                "the API takes temperatures from 0 to {:?}",
                self.max_temperature
            )
        })
    }
}

/// An agent under a suite's `[run] temperature`: every request it gets
/// asks for that temperature where the model has none of its own.
pub struct WithDefaultTemperature {
    inner: Arc<dyn Model>,
    temperature: f32,
}

impl WithDefaultTemperature {
    pub fn new(inner: Arc<dyn Model>, temperature: f32) -> Self {
        Self { inner, temperature }
    }
}

#[async_trait::async_trait]
impl Model for WithDefaultTemperature {
    fn id(&self) -> &str {
        self.inner.id()
    }

    fn sampling(&self) -> &SamplingPolicy {
        self.inner.sampling()
    }

    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError> {
        let mut request = request.clone();
        request
            .sampling
            .default_temperature
            .get_or_insert(self.temperature);
        self.inner.complete(&request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(pinned: Option<f32>, default: Option<f32>) -> SamplingSettings {
        SamplingSettings {
            temperature: pinned,
            default_temperature: default,
            max_tokens: None,
        }
    }

    #[test]
    fn a_pin_wins_then_the_models_own_then_the_runs_default() {
        let plain = SamplingPolicy::new(2.0);
        assert_eq!(
            plain.resolve(&ask(Some(0.0), Some(1.0))).temperature,
            Some(0.0)
        );
        assert_eq!(plain.resolve(&ask(None, Some(1.0))).temperature, Some(1.0));
        let own = SamplingPolicy::new(2.0).own(Some(0.7), Some(900));
        assert_eq!(own.resolve(&ask(None, Some(1.0))).temperature, Some(0.7));
        assert_eq!(own.resolve(&ask(Some(0.0), None)).temperature, Some(0.0));
        assert_eq!(own.resolve(&ask(None, None)).max_tokens, Some(900));
    }

    #[test]
    fn a_model_that_takes_only_its_default_gets_none_and_says_why() {
        let o3 = SamplingPolicy::new(2.0).family(&super::super::family::openai("o3", None));
        let sent = o3.resolve(&ask(Some(0.0), None));
        assert_eq!(sent.temperature, None);
        assert!(
            sent.note
                .as_deref()
                .is_some_and(|n| n.contains("pinned temperature 0.0 was not sent")),
            "{sent:?}"
        );
        let sent = o3.resolve(&ask(None, Some(1.0)));
        assert_eq!(sent.temperature, None);
        assert!(
            sent.note
                .is_some_and(|n| n.contains("the run's temperature 1.0"))
        );
    }

    #[test]
    fn a_temperature_above_the_apis_range_is_not_sent() {
        let claude = SamplingPolicy::new(1.0);
        let sent = claude.resolve(&ask(None, Some(1.5)));
        assert_eq!(sent.temperature, None);
        assert!(sent.note.is_some_and(|n| n.contains("from 0 to 1.0")));
    }

    #[test]
    fn a_required_limit_fills_in_and_a_pinned_one_wins() {
        let policy = SamplingPolicy::new(1.0).required_max_tokens(4096);
        assert_eq!(policy.resolve(&ask(None, None)).max_tokens, Some(4096));
        let pinned = SamplingSettings {
            max_tokens: Some(64),
            ..SamplingSettings::default()
        };
        assert_eq!(policy.resolve(&pinned).max_tokens, Some(64));
    }
}

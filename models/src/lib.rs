//! Models: the agents under test and the judge (`crucible-models`).
//!
//! Remote models sit behind the `Model` trait; the offline `reference/*`
//! pair replays a scenario's own labelled reference replies and needs no
//! network, which makes it the default and the host's self-test.

mod anthropic;
pub mod batch;
mod family;
mod gemini;
mod http;
pub mod judge;
mod keys;
mod openai;
pub mod pricing;
mod prompt_cache;
mod provider_settings;
pub mod reference;
mod resilient;
pub mod response_cache;
mod responses;
mod retry;
mod retry_hint;
mod sampling;
pub mod secret;
mod spec;
mod throttle;
mod wire;

use std::sync::Arc;

use crucible_types::provenance::CallRecord;
use crucible_types::transcript::{Message, Reply, ToolDefinition};

pub use crucible_types::usage::Usage;
pub use keys::{Grant, KeyPolicy, KeyPolicyError, KeyRoute, PROVIDER_KEY_ENVS, is_key_like};
pub use openai::OpenAiModel;
pub use provider_settings::ProviderSettings;
pub use resilient::{Politeness, PolitenessError, ResilientModel};
pub use retry::RetryPolicy;
pub use sampling::{SamplingPolicy, SamplingSettings, WithDefaultTemperature};
pub use spec::{ModelSpec, PROVIDERS, SpecError};
pub use throttle::{Limits, TokenBucket};

/// One completion request: the conversation so far and the tools on offer,
/// borrowed from the sample, which owns them.
#[derive(Debug, Clone)]
pub struct ChatRequest<'a> {
    pub messages: &'a [Message],
    pub tools: &'a [ToolDefinition],
    pub sampling: SamplingSettings,
    /// Which sample of its condition the request belongs to: part of the
    /// response cache's key, so repeated samples of one condition get
    /// independent answers while a rerun of the same sample is answered
    /// from the cache.
    pub sample_index: u32,
}

/// A model's answer to one request. Its reply carries the call's record:
/// why it ended, which model served it, the sampling sent.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Completion {
    pub reply: Reply,
    pub usage: Usage,
    /// What the provider itself said the call cost, in US dollars
    /// (OpenRouter's `usage.cost`); the price table prices the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

impl Completion {
    /// The record of the call, which every provider attaches.
    pub fn call(&self) -> Option<&CallRecord> {
        self.reply.call.as_deref()
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ModelError {
    #[error("{provider} returned HTTP {status}: {message}")]
    Status {
        provider: &'static str,
        status: u16,
        message: String,
        /// How long the provider asked us to wait before trying again
        /// (`Retry-After` or its rate-limit reset headers).
        retry_after: Option<std::time::Duration>,
    },
    #[error("{provider} could not be reached: {message}")]
    Transport {
        provider: &'static str,
        message: String,
    },
    #[error("{provider} sent a response that could not be read: {message}")]
    Malformed {
        provider: &'static str,
        message: String,
    },
    /// A success whose reply the provider itself ended on an error
    /// (OpenRouter's `finish_reason: "error"`, Gemini's
    /// `MALFORMED_FUNCTION_CALL`): no reply to use, but another attempt
    /// may give one.
    #[error("{provider} ended the reply on an error ({stop}): {message}")]
    Unfinished {
        provider: &'static str,
        /// The stop reason as the provider wrote it.
        stop: String,
        message: String,
    },
    /// The model client follows no redirect: the key would go with it to
    /// wherever the server points.
    #[error(
        "{provider} answered HTTP {status}, a redirect to {location}; redirects are not followed (the key would go with them): set base_url to the address that answers"
    )]
    Redirect {
        provider: &'static str,
        status: u16,
        /// The host the redirect points to, or what the server sent.
        location: String,
    },
    /// A request a batch API answered with an error (errored, expired,
    /// canceled), or that its batch ended without answering.
    #[error("{provider} batch {batch}: {message}")]
    Batch {
        provider: &'static str,
        batch: String,
        message: String,
    },
    /// A call retried until its policy ran out, or until a final error.
    #[error(
        "gave up after {attempts} {}, {why}; the last error: {last}",
        if *.attempts == 1 { "attempt" } else { "attempts" }
    )]
    GaveUp {
        attempts: u32,
        why: String,
        last: Box<ModelError>,
    },
}

impl ModelError {
    /// Whether the same request may succeed if sent again: a timeout, a
    /// connection refused or reset, a body cut short, a success that could
    /// not be used (see [`ModelError::is_unusable_success`]), or HTTP 408,
    /// 409, 429 or 5xx. Any other status says the request itself is wrong
    /// (a bad key, a bad model, a bad body), which no retry fixes.
    pub fn is_retryable(&self) -> bool {
        match self {
            ModelError::Status { status, .. } => matches!(status, 408 | 409 | 429 | 500..=599),
            ModelError::Transport { .. } => true,
            ModelError::Malformed { .. } | ModelError::Unfinished { .. } => true,
            // A batch item's failure ends its sample; `--retry-errors`
            // sends it again (see `batch`).
            ModelError::Redirect { .. } | ModelError::GaveUp { .. } | ModelError::Batch { .. } => {
                false
            }
        }
    }

    /// A 2xx that gave no usable reply: a body that could not be read, or
    /// a reply the provider ended on an error. Sent again, the same
    /// request more often than not fails the same way, so it is retried
    /// once, not as often as a transport error.
    pub fn is_unusable_success(&self) -> bool {
        matches!(
            self,
            ModelError::Malformed { .. } | ModelError::Unfinished { .. }
        )
    }

    /// The wait the provider asked for before the next request.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            ModelError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A remote model.
#[async_trait::async_trait]
pub trait Model: Send + Sync {
    /// `provider/model`.
    fn id(&self) -> &str;
    /// How the model takes sampling settings: what it sends for what a
    /// caller asks.
    fn sampling(&self) -> &SamplingPolicy;
    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError>;
}

/// The agent of a sample: a remote model, a replay of the scenario's first
/// reference of a label, or a replay of one given reference (to check that
/// a scenario's references are classified as labelled).
#[derive(Clone)]
pub enum Agent {
    Remote(Arc<dyn Model>),
    Reference(reference::ReferenceModel),
    Scripted(Arc<crucible_types::transcript::Reference>),
}

impl Agent {
    pub fn id(&self) -> String {
        match self {
            Agent::Remote(model) => model.id().to_owned(),
            Agent::Reference(reference) => reference.id().to_owned(),
            Agent::Scripted(reference) => format!("script/{}", reference.label),
        }
    }

    /// Builds the agent a spec names. Fails on an unknown provider or model,
    /// a missing API key, or a key `policy` does not let go where the spec
    /// would send it, before anything is sent.
    pub fn from_spec(spec: &ModelSpec, policy: &KeyPolicy) -> Result<Self, SpecError> {
        key_route(spec, policy)?;
        Ok(match Self::connect(spec)? {
            // Below every other layer, so that nothing above sees a key.
            Agent::Remote(model) => Agent::Remote(Arc::new(secret::Scrubbed(model))),
            other => other,
        })
    }

    /// As [`Agent::from_spec`], with the model's calls sent through its
    /// provider's batch API (see [`batch`]); a provider without one (which
    /// [`batch::check_batchable`] refuses first) is called live.
    pub fn from_spec_batched(
        spec: &ModelSpec,
        policy: &KeyPolicy,
        batching: &batch::Batching,
    ) -> Result<Self, SpecError> {
        key_route(spec, policy)?;
        let live: Arc<dyn batch::LiveWire> = match spec.provider() {
            "openai" if spec.api.as_deref() == Some("responses") => {
                Arc::new(responses::ResponsesModel::from_spec(spec)?)
            }
            "openai" => Arc::new(OpenAiModel::from_spec(spec)?),
            "anthropic" => Arc::new(anthropic::AnthropicModel::from_spec(spec)?),
            "gemini" => Arc::new(gemini::GeminiModel::from_spec(spec)?),
            _ => return Self::from_spec(spec, policy),
        };
        let batched = batch::BatchModel::new(live, spec, batching);
        // Below every other layer, so that nothing above sees a key.
        Ok(Agent::Remote(Arc::new(secret::Scrubbed(Arc::new(batched)))))
    }

    fn connect(spec: &ModelSpec) -> Result<Self, SpecError> {
        match spec.provider() {
            "reference" => Ok(Agent::Reference(reference::ReferenceModel::named(
                spec.model(),
            )?)),
            "openai" if spec.api.as_deref() == Some("responses") => Ok(Agent::Remote(Arc::new(
                responses::ResponsesModel::from_spec(spec)?,
            ))),
            "openai" => Ok(Agent::Remote(Arc::new(OpenAiModel::from_spec(spec)?))),
            "anthropic" => Ok(Agent::Remote(Arc::new(
                anthropic::AnthropicModel::from_spec(spec)?,
            ))),
            "gemini" => Ok(Agent::Remote(Arc::new(gemini::GeminiModel::from_spec(
                spec,
            )?))),
            "openrouter" => Ok(Agent::Remote(Arc::new(OpenAiModel::from_spec_with(
                &openai::OPENROUTER,
                spec,
            )?))),
            "together" => Ok(Agent::Remote(Arc::new(OpenAiModel::from_spec_with(
                &openai::TOGETHER,
                spec,
            )?))),
            other => Err(SpecError::UnknownProvider {
                id: spec.id.clone(),
                provider: other.to_owned(),
            }),
        }
    }
}

/// The provider whose host and key variable a spec's requests use; `None`
/// for the offline models and unknown providers.
fn provider_of(spec: &ModelSpec) -> Option<&'static http::Provider> {
    match spec.provider() {
        "openai" => Some(&openai::OPENAI.provider),
        "openrouter" => Some(&openai::OPENROUTER.provider),
        "together" => Some(&openai::TOGETHER.provider),
        "anthropic" => Some(&anthropic::ANTHROPIC),
        "gemini" => Some(&gemini::GEMINI),
        _ => None,
    }
}

/// Where `spec`'s key would go, and why it may; an error naming the model,
/// the variable, the host and how to allow it if `policy` does not let it
/// go there. `None` for a model that sends nothing (the offline ones).
pub fn key_route(spec: &ModelSpec, policy: &KeyPolicy) -> Result<Option<KeyRoute>, SpecError> {
    let Some(provider) = provider_of(spec) else {
        return Ok(None);
    };
    let route = provider.route(spec)?;
    policy.route(&spec.id, provider, &route).map(Some)
}

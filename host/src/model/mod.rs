//! Models: the agents under test and the judge.
//!
//! Remote models sit behind the `Model` trait; the offline `reference/*`
//! pair replays a scenario's own labelled reference replies and needs no
//! network, which makes it the default and the host's self-test.

mod anthropic;
mod gemini;
mod http;
mod openai;
pub mod reference;
mod resilient;
pub mod response_cache;
mod retry;
mod retry_hint;
mod secret;
mod spec;
mod throttle;

use std::sync::Arc;

use crate::transcript::{Message, Reply, ToolDefinition};

pub use openai::OpenAiModel;
pub use resilient::{Politeness, PolitenessError, ResilientModel};
pub use retry::RetryPolicy;
pub use spec::{ModelSpec, PROVIDERS, SpecError};
pub use throttle::{Limits, TokenBucket};

/// Sampling settings a caller pins on one request, over the model's own
/// settings; `None` leaves the model's (or the provider's) default.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SamplingSettings {
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
}

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

/// Tokens one call consumed, as the provider reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Self) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
    }
}

/// A model's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Completion {
    pub reply: Reply,
    pub usage: Usage,
}

#[derive(Debug, thiserror::Error)]
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
    /// The provider declined to answer this request (a safety block): sent
    /// again it would be declined again, so it is never retried.
    #[error("{provider} declined to answer: {reason}")]
    Blocked {
        provider: &'static str,
        reason: String,
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
    /// connection refused or reset, a body cut short, a success whose body
    /// cannot be read, or HTTP 408, 409, 429 or 5xx. Any other status says
    /// the request itself is wrong (a bad key, a bad model, a bad body),
    /// which no retry fixes.
    pub fn is_retryable(&self) -> bool {
        match self {
            ModelError::Status { status, .. } => matches!(status, 408 | 409 | 429 | 500..=599),
            // Only a success's body is parsed, so `Malformed` is a 2xx the
            // server garbled.
            ModelError::Transport { .. } | ModelError::Malformed { .. } => true,
            ModelError::Blocked { .. } | ModelError::GaveUp { .. } => false,
        }
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
    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError>;
}

/// The agent of a sample: a remote model, a replay of the scenario's first
/// reference of a label, or a replay of one given reference (to check that
/// a scenario's references are classified as labelled).
#[derive(Clone)]
pub enum Agent {
    Remote(Arc<dyn Model>),
    Reference(reference::ReferenceModel),
    Scripted(Arc<crate::transcript::Reference>),
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
    /// or a missing API key, before anything is sent.
    pub fn from_spec(spec: &ModelSpec) -> Result<Self, SpecError> {
        match spec.provider() {
            "reference" => Ok(Agent::Reference(reference::ReferenceModel::named(
                spec.model(),
            )?)),
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

//! How a model is named and configured: `provider/model`, plus settings.

use serde::{Deserialize, Serialize};

/// Providers this host knows, for error messages.
pub const PROVIDERS: &[&str] = &["anthropic", "openai", "reference"];

/// A model as a suite or the command line names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// `provider/model`, e.g. `openai/gpt-4.1`.
    pub id: String,
    /// Base URL of an API compatible with the provider's (e.g. a local
    /// vLLM, Ollama or llama.cpp server for `openai`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Name of the environment variable holding the API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Seconds one request may take before it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("model `{id}` is not of the form `provider/model`")]
    Malformed { id: String },
    #[error("model `{id}`: unknown provider `{provider}`; known providers are {}", PROVIDERS.join(", "))]
    UnknownProvider { id: String, provider: String },
    #[error(
        "model `{id}`: unknown offline model; the offline models are reference/harmful and reference/benign"
    )]
    UnknownReference { id: String },
    #[error("model `{id}` needs an API key: set the environment variable {env}")]
    MissingKey { id: String, env: String },
    #[error("model `{id}`: invalid base URL `{url}`: {reason}")]
    BadBaseUrl {
        id: String,
        url: String,
        reason: String,
    },
    #[error("model `{id}`: cannot build an HTTP client: {reason}")]
    Client { id: String, reason: String },
}

impl ModelSpec {
    /// A spec with no settings beyond the name.
    pub fn named(id: &str) -> Result<Self, SpecError> {
        let spec = Self {
            id: id.to_owned(),
            base_url: None,
            api_key_env: None,
            temperature: None,
            max_tokens: None,
            timeout_secs: None,
        };
        spec.validate()?;
        Ok(spec)
    }

    pub fn validate(&self) -> Result<(), SpecError> {
        match self.id.split_once('/') {
            Some((provider, model)) if !provider.is_empty() && !model.is_empty() => Ok(()),
            _ => Err(SpecError::Malformed {
                id: self.id.clone(),
            }),
        }
    }

    pub fn provider(&self) -> &str {
        self.id.split_once('/').map_or("", |(p, _)| p)
    }

    pub fn model(&self) -> &str {
        self.id.split_once('/').map_or("", |(_, m)| m)
    }
}

//! OpenAI Chat Completions, with tool calling, and every server that speaks
//! the same API (vLLM, Ollama, llama.cpp server, OpenRouter, Together).
//!
//! Wire format as documented for `POST /v1/chat/completions`: messages with
//! roles `system`, `user`, `assistant` (with `tool_calls`) and `tool` (with
//! `tool_call_id`); tools as `{"type": "function", "function": {...}}`.
//!
//! OpenRouter and Together are providers of their own over this same wire
//! code, each a `Dialect`: its endpoint, key, output-limit field and the
//! shape its API gives reasoning settings (OpenAI and Together a top-level
//! `reasoning_effort`; OpenRouter a `reasoning` object of `effort` or
//! `max_tokens`). Reasoning text comes back as `reasoning_content` or
//! `reasoning`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{self, KeyHeader, Provider};
use super::spec::{Supports, decimal};
use super::{ChatRequest, Completion, Model, ModelError, ModelSpec, SpecError, Usage};
use crate::transcript::{Message, Reply, Role, ToolCall, ToolDefinition};

/// An API that speaks Chat Completions, and where it departs from OpenAI's.
pub(super) struct Dialect {
    pub provider: Provider,
    /// The field the provider's own host takes the output limit in.
    pub official_max_tokens_field: &'static str,
    pub reasoning: Reasoning,
}

/// How a dialect takes `reasoning_effort` and `thinking_budget`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reasoning {
    /// A top-level `reasoning_effort` string (OpenAI, Together); no budget.
    Effort,
    /// A `reasoning` object with `effort` or `max_tokens`, not both
    /// (OpenRouter).
    Object,
}

/// OpenAI itself, and any compatible server named by `base_url`.
pub(super) const OPENAI: Dialect = Dialect {
    provider: Provider {
        name: "openai",
        default_base_url: "https://api.openai.com/v1",
        base_url_env: "OPENAI_BASE_URL",
        default_key_env: "OPENAI_API_KEY",
        official_host: "api.openai.com",
        key_header: KeyHeader::Bearer,
    },
    // OpenAI's own API deprecated `max_tokens`; compatible servers mostly
    // know only that.
    official_max_tokens_field: "max_completion_tokens",
    reasoning: Reasoning::Effort,
};

/// OpenRouter's OpenAI-compatible API.
pub(super) const OPENROUTER: Dialect = Dialect {
    provider: Provider {
        name: "openrouter",
        default_base_url: "https://openrouter.ai/api/v1",
        base_url_env: "OPENROUTER_BASE_URL",
        default_key_env: "OPENROUTER_API_KEY",
        official_host: "openrouter.ai",
        key_header: KeyHeader::Bearer,
    },
    official_max_tokens_field: "max_tokens",
    reasoning: Reasoning::Object,
};

/// Together AI's OpenAI-compatible API.
pub(super) const TOGETHER: Dialect = Dialect {
    provider: Provider {
        name: "together",
        default_base_url: "https://api.together.xyz/v1",
        base_url_env: "TOGETHER_BASE_URL",
        default_key_env: "TOGETHER_API_KEY",
        official_host: "api.together.xyz",
        key_header: KeyHeader::Bearer,
    },
    official_max_tokens_field: "max_tokens",
    reasoning: Reasoning::Effort,
};

/// Sampling settings a model was configured with.
#[derive(Debug, Clone, Default, PartialEq)]
struct Settings {
    temperature: Option<f32>,
    max_tokens: Option<u32>,
    top_p: Option<f32>,
    seed: Option<u64>,
    reasoning_effort: Option<String>,
    thinking_budget: Option<u32>,
}

pub struct OpenAiModel {
    id: String,
    model: String,
    endpoint: reqwest::Url,
    dialect: &'static Dialect,
    /// Sent as a bearer token; never logged, stored or shown.
    api_key: Option<String>,
    max_tokens_field: &'static str,
    settings: Settings,
    client: reqwest::Client,
}

impl OpenAiModel {
    pub fn from_spec(spec: &ModelSpec) -> Result<Self, SpecError> {
        Self::from_spec_with(&OPENAI, spec)
    }

    /// A model of a provider that speaks Chat Completions in `dialect`.
    pub(super) fn from_spec_with(
        dialect: &'static Dialect,
        spec: &ModelSpec,
    ) -> Result<Self, SpecError> {
        let object = dialect.reasoning == Reasoning::Object;
        spec.check_supported(Supports {
            top_p: true,
            seed: true,
            reasoning_effort: true,
            thinking_budget: object,
        })?;
        if object && spec.reasoning_effort.is_some() && spec.thinking_budget.is_some() {
            return Err(spec.setting_error(
                "thinking_budget",
                format!(
                    "cannot be set with reasoning_effort: {} takes one or the other",
                    dialect.provider.name
                ),
            ));
        }
        let connection = dialect.provider.connect(spec)?;
        Ok(Self {
            id: spec.id.clone(),
            model: spec.model().to_owned(),
            endpoint: http::endpoint(
                &spec.id,
                format!(
                    "{}/chat/completions",
                    connection.base_url.trim_end_matches('/')
                ),
            )?,
            dialect,
            api_key: connection.api_key,
            max_tokens_field: if connection.official {
                dialect.official_max_tokens_field
            } else {
                "max_tokens"
            },
            settings: Settings {
                temperature: spec.temperature,
                max_tokens: spec.max_tokens,
                top_p: spec.top_p,
                seed: spec.seed,
                reasoning_effort: spec.reasoning_effort.clone(),
                thinking_budget: spec.thinking_budget,
            },
            client: connection.client,
        })
    }

    fn body(&self, request: &ChatRequest<'_>) -> Value {
        body(
            &self.model,
            self.dialect.reasoning,
            self.max_tokens_field,
            &self.settings,
            request,
        )
    }
}

fn body(
    model: &str,
    reasoning: Reasoning,
    max_tokens_field: &str,
    settings: &Settings,
    request: &ChatRequest<'_>,
) -> Value {
    let mut body = json!({
        "model": model,
        "messages": request.messages.iter().map(wire_message).collect::<Vec<_>>(),
    });
    if !request.tools.is_empty() {
        body["tools"] = Value::Array(request.tools.iter().map(wire_tool).collect());
    }
    if let Some(t) = request.sampling.temperature.or(settings.temperature) {
        body["temperature"] = json!(decimal(t));
    }
    if let Some(n) = request.sampling.max_tokens.or(settings.max_tokens) {
        body[max_tokens_field] = json!(n);
    }
    if let Some(p) = settings.top_p {
        body["top_p"] = json!(decimal(p));
    }
    if let Some(seed) = settings.seed {
        body["seed"] = json!(seed);
    }
    match reasoning {
        Reasoning::Effort => {
            if let Some(effort) = &settings.reasoning_effort {
                body["reasoning_effort"] = json!(effort);
            }
        }
        Reasoning::Object => {
            if let Some(effort) = &settings.reasoning_effort {
                body["reasoning"] = json!({"effort": effort});
            } else if let Some(budget) = settings.thinking_budget {
                body["reasoning"] = json!({"max_tokens": budget});
            }
        }
    }
    body
}

fn wire_message(message: &Message) -> Value {
    match message.role {
        Role::System => json!({"role": "system", "content": message.content}),
        Role::User => json!({"role": "user", "content": message.content}),
        Role::Tool => json!({
            "role": "tool",
            "tool_call_id": message.tool_call_id.clone().unwrap_or_default(),
            "content": message.content,
        }),
        Role::Assistant => {
            let mut m = json!({"role": "assistant"});
            m["content"] = if message.content.is_empty() && !message.tool_calls.is_empty() {
                Value::Null
            } else {
                json!(message.content)
            };
            if !message.tool_calls.is_empty() {
                m["tool_calls"] = message
                    .tool_calls
                    .iter()
                    .map(|c| {
                        json!({
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments},
                        })
                    })
                    .collect();
            }
            m
        }
    }
}

fn wire_tool(tool: &ToolDefinition) -> Value {
    let parameters: Value = serde_json::from_str(&tool.parameters)
        .unwrap_or_else(|_| json!({"type": "object", "properties": {}}));
    json!({
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": parameters,
        },
    })
}

#[derive(Deserialize)]
struct WireCompletion {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

#[derive(Deserialize)]
struct Choice {
    message: WireReply,
}

#[derive(Deserialize)]
struct WireReply {
    #[serde(default)]
    content: Option<String>,
    /// Reasoning text, as DeepSeek and older vLLM return it.
    #[serde(default)]
    reasoning_content: Option<String>,
    /// Reasoning text, as OpenRouter, Together and newer vLLM return it.
    /// Kept apart from `reasoning_content`: a server may send both.
    #[serde(default)]
    reasoning: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Vec<WireToolCall>,
}

#[derive(Deserialize)]
struct WireToolCall {
    id: String,
    function: WireFunction,
}

#[derive(Deserialize)]
struct WireFunction {
    name: String,
    #[serde(default)]
    arguments: String,
}

#[async_trait::async_trait]
impl Model for OpenAiModel {
    fn id(&self) -> &str {
        &self.id
    }

    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError> {
        let provider = &self.dialect.provider;
        let http = self
            .client
            .post(self.endpoint.clone())
            .json(&self.body(request));
        let bytes = provider.send(http, self.api_key.as_deref()).await?;
        completion(provider.name, provider.parse(&bytes)?)
    }
}

fn completion(
    provider: &'static str,
    completion: WireCompletion,
) -> Result<Completion, ModelError> {
    let usage = completion.usage.map_or(Usage::default(), |u| Usage {
        input_tokens: u.prompt_tokens,
        output_tokens: u.completion_tokens,
    });
    let Some(choice) = completion.choices.into_iter().next() else {
        return Err(ModelError::Malformed {
            provider,
            message: "the response has no choices".into(),
        });
    };
    let message = choice.message;
    let text = match (message.content, message.refusal) {
        (Some(content), _) if !content.is_empty() => content,
        (_, Some(refusal)) => refusal,
        (content, None) => content.unwrap_or_default(),
    };
    let reasoning = [message.reasoning_content, message.reasoning]
        .into_iter()
        .flatten()
        .find(|r| !r.is_empty());
    let reply = Reply {
        text,
        reasoning,
        reasoning_signature: None,
        tool_calls: message
            .tool_calls
            .into_iter()
            .map(|c| ToolCall {
                id: c.id,
                name: c.function.name,
                arguments: c.function.arguments,
            })
            .collect(),
        cached: false,
    };
    Ok(Completion { reply, usage })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SamplingSettings;

    fn request() -> ChatRequest<'static> {
        ChatRequest {
            // Leaked: a test's request lives as long as the test.
            messages: vec![Message::new(Role::User, "hi")].leak(),
            tools: &[],
            sampling: SamplingSettings::default(),
            sample_index: 0,
        }
    }

    fn settings() -> Settings {
        Settings {
            temperature: Some(0.5),
            max_tokens: Some(900),
            top_p: Some(0.9),
            seed: Some(7),
            reasoning_effort: None,
            thinking_budget: None,
        }
    }

    #[test]
    fn openrouter_takes_reasoning_as_an_object() {
        let mut s = settings();
        s.reasoning_effort = Some("low".into());
        let b = body("m", Reasoning::Object, "max_tokens", &s, &request());
        assert_eq!(b["reasoning"], json!({"effort": "low"}));
        assert!(b.get("reasoning_effort").is_none());
        assert_eq!(b["max_tokens"], 900);
        assert_eq!(b["top_p"], json!(0.9));
        assert_eq!(b["seed"], 7);

        let mut s = settings();
        s.thinking_budget = Some(2048);
        let b = body("m", Reasoning::Object, "max_tokens", &s, &request());
        assert_eq!(b["reasoning"], json!({"max_tokens": 2048}));
    }

    #[test]
    fn openai_and_together_take_a_top_level_effort() {
        let mut s = settings();
        s.reasoning_effort = Some("high".into());
        let b = body(
            "m",
            Reasoning::Effort,
            "max_completion_tokens",
            &s,
            &request(),
        );
        assert_eq!(b["reasoning_effort"], "high");
        assert!(b.get("reasoning").is_none());
        assert_eq!(b["max_completion_tokens"], 900);
        assert!(b.get("max_tokens").is_none());
    }

    #[test]
    fn a_request_pins_temperature_and_length_over_the_models() {
        let mut r = request();
        r.sampling = SamplingSettings {
            temperature: Some(0.0),
            max_tokens: Some(64),
        };
        let b = body("m", Reasoning::Effort, "max_tokens", &settings(), &r);
        assert_eq!(b["temperature"], 0.0);
        assert_eq!(b["max_tokens"], 64);
    }

    #[test]
    fn reasoning_is_read_from_either_field_even_when_both_come() {
        let wire: WireCompletion = serde_json::from_value(json!({
            "choices": [{"message": {
                "content": "answer",
                "reasoning_content": "",
                "reasoning": "step by step",
            }}],
        }))
        .expect("parses");
        let c = completion("openrouter", wire).expect("a completion");
        assert_eq!(c.reply.text, "answer");
        assert_eq!(c.reply.reasoning.as_deref(), Some("step by step"));
    }
}

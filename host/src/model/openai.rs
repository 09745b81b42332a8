//! OpenAI Chat Completions, with tool calling, and every server that speaks
//! the same API (vLLM, Ollama, llama.cpp server, OpenRouter, Together).
//!
//! Wire format as documented for `POST /v1/chat/completions`: messages with
//! roles `system`, `user`, `assistant` (with `tool_calls`) and `tool` (with
//! `tool_call_id`); tools as `{"type": "function", "function": {...}}`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{ChatRequest, Model, ModelError, ModelSpec, SpecError};
use crate::transcript::{Message, Reply, Role, ToolCall, ToolDefinition};

const PROVIDER: &str = "openai";
const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
const DEFAULT_KEY_ENV: &str = "OPENAI_API_KEY";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

pub struct OpenAiModel {
    id: String,
    model: String,
    endpoint: String,
    /// Sent as a bearer token; never logged, stored or shown.
    api_key: Option<String>,
    /// OpenAI's own API takes `max_completion_tokens`; compatible servers
    /// mostly know only the older `max_tokens`.
    official: bool,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
    client: reqwest::Client,
}

impl OpenAiModel {
    pub fn from_spec(spec: &ModelSpec) -> Result<Self, SpecError> {
        let base_url = spec
            .base_url
            .clone()
            .or_else(|| {
                std::env::var("OPENAI_BASE_URL")
                    .ok()
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let parsed = reqwest::Url::parse(&base_url).map_err(|e| SpecError::BadBaseUrl {
            id: spec.id.clone(),
            url: base_url.clone(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(SpecError::BadBaseUrl {
                id: spec.id.clone(),
                url: base_url,
                reason: "the scheme must be http or https".into(),
            });
        }
        let official = parsed.host_str() == Some("api.openai.com");
        let key_env = spec.api_key_env.as_deref().unwrap_or(DEFAULT_KEY_ENV);
        let api_key = std::env::var(key_env).ok().filter(|k| !k.is_empty());
        // A local server often wants no key; OpenAI's own API always does.
        if api_key.is_none() && official {
            return Err(SpecError::MissingKey {
                id: spec.id.clone(),
                env: key_env.to_owned(),
            });
        }
        let client = reqwest::Client::builder()
            .timeout(
                spec.timeout_secs
                    .map_or(DEFAULT_TIMEOUT, Duration::from_secs),
            )
            .build()
            .map_err(|e| SpecError::Client {
                id: spec.id.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            id: spec.id.clone(),
            model: spec.model().to_owned(),
            endpoint: format!("{}/chat/completions", base_url.trim_end_matches('/')),
            api_key,
            official,
            temperature: spec.temperature,
            max_tokens: spec.max_tokens,
            client,
        })
    }

    fn body(&self, request: &ChatRequest) -> Value {
        let mut body = json!({
            "model": self.model,
            "messages": request.messages.iter().map(wire_message).collect::<Vec<_>>(),
        });
        if !request.tools.is_empty() {
            body["tools"] = Value::Array(request.tools.iter().map(wire_tool).collect());
        }
        if let Some(t) = request.sampling.temperature.or(self.temperature) {
            body["temperature"] = json!(t);
        }
        if let Some(n) = request.sampling.max_tokens.or(self.max_tokens) {
            let field = if self.official {
                "max_completion_tokens"
            } else {
                "max_tokens"
            };
            body[field] = json!(n);
        }
        body
    }
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
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: WireReply,
}

#[derive(Deserialize)]
struct WireReply {
    #[serde(default)]
    content: Option<String>,
    /// Reasoning text, as vLLM, DeepSeek and OpenRouter return it.
    #[serde(default, alias = "reasoning")]
    reasoning_content: Option<String>,
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

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: String,
}

#[async_trait::async_trait]
impl Model for OpenAiModel {
    fn id(&self) -> &str {
        &self.id
    }

    async fn complete(&self, request: &ChatRequest) -> Result<Reply, ModelError> {
        let mut http = self.client.post(&self.endpoint).json(&self.body(request));
        if let Some(key) = &self.api_key {
            http = http.bearer_auth(key);
        }
        let response = http.send().await.map_err(|e| ModelError::Transport {
            provider: PROVIDER,
            message: transport_message(&e),
        })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| ModelError::Transport {
            provider: PROVIDER,
            message: transport_message(&e),
        })?;
        if !status.is_success() {
            let message = serde_json::from_slice::<ErrorBody>(&bytes)
                .map(|b| b.error.message)
                .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).chars().take(300).collect());
            return Err(ModelError::Status {
                provider: PROVIDER,
                status: status.as_u16(),
                message,
            });
        }
        let completion: Completion =
            serde_json::from_slice(&bytes).map_err(|e| ModelError::Malformed {
                provider: PROVIDER,
                message: e.to_string(),
            })?;
        let Some(choice) = completion.choices.into_iter().next() else {
            return Err(ModelError::Malformed {
                provider: PROVIDER,
                message: "the response has no choices".into(),
            });
        };
        let message = choice.message;
        let text = match (message.content, message.refusal) {
            (Some(content), _) if !content.is_empty() => content,
            (_, Some(refusal)) => refusal,
            (content, None) => content.unwrap_or_default(),
        };
        Ok(Reply {
            text,
            reasoning: message.reasoning_content.filter(|r| !r.is_empty()),
            tool_calls: message
                .tool_calls
                .into_iter()
                .map(|c| ToolCall {
                    id: c.id,
                    name: c.function.name,
                    arguments: c.function.arguments,
                })
                .collect(),
        })
    }
}

/// A transport error without the request's URL query or headers.
pub(super) fn transport_message(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(error);
    let mut detail = String::new();
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}

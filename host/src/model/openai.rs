//! OpenAI Chat Completions, with tool calling, and every server that speaks
//! the same API (vLLM, Ollama, llama.cpp server, OpenRouter, Together).
//!
//! Wire format as documented for `POST /v1/chat/completions`: messages with
//! roles `system`, `user`, `assistant` (with `tool_calls`) and `tool` (with
//! `tool_call_id`); tools as `{"type": "function", "function": {...}}`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::http::Provider;
use super::{ChatRequest, Completion, Model, ModelError, ModelSpec, SpecError, Usage};
use crate::transcript::{Message, Reply, Role, ToolCall, ToolDefinition};

const PROVIDER: &str = "openai";

const OPENAI: Provider = Provider {
    name: PROVIDER,
    default_base_url: "https://api.openai.com/v1",
    base_url_env: "OPENAI_BASE_URL",
    default_key_env: "OPENAI_API_KEY",
    official_host: "api.openai.com",
};

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
        let connection = OPENAI.connect(spec)?;
        Ok(Self {
            id: spec.id.clone(),
            model: spec.model().to_owned(),
            endpoint: format!(
                "{}/chat/completions",
                connection.base_url.trim_end_matches('/')
            ),
            api_key: connection.api_key,
            official: connection.official,
            temperature: spec.temperature,
            max_tokens: spec.max_tokens,
            client: connection.client,
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

#[async_trait::async_trait]
impl Model for OpenAiModel {
    fn id(&self) -> &str {
        &self.id
    }

    async fn complete(&self, request: &ChatRequest) -> Result<Completion, ModelError> {
        let mut http = self.client.post(&self.endpoint).json(&self.body(request));
        if let Some(key) = &self.api_key {
            http = http.bearer_auth(key);
        }
        let bytes = OPENAI.send(http).await?;
        let completion: WireCompletion = OPENAI.parse(&bytes)?;
        let usage = completion.usage.map_or(Usage::default(), |u| Usage {
            input_tokens: u.prompt_tokens,
            output_tokens: u.completion_tokens,
        });
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
        let reply = Reply {
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
            cached: false,
        };
        Ok(Completion { reply, usage })
    }
}

//! Anthropic's Messages API, with tool use.
//!
//! Wire format as documented for `POST /v1/messages`: the system prompt is
//! the top-level `system` field; `messages` alternate `user` and
//! `assistant`; an assistant's tool calls are `tool_use` content blocks
//! and their results go back as `tool_result` blocks in the next user
//! message; `max_tokens` is required; the key goes in `x-api-key` with the
//! `anthropic-version` header.

use serde::Deserialize;
use serde_json::{Value, json};

use super::http::Provider;
use super::{ChatRequest, Completion, Model, ModelError, ModelSpec, SpecError, Usage};
use crate::transcript::{Message, Reply, Role, ToolCall, ToolDefinition};

const ANTHROPIC: Provider = Provider {
    name: "anthropic",
    default_base_url: "https://api.anthropic.com",
    base_url_env: "ANTHROPIC_BASE_URL",
    default_key_env: "ANTHROPIC_API_KEY",
    official_host: "api.anthropic.com",
};
const API_VERSION: &str = "2023-06-01";
/// The API requires `max_tokens`; this is used when the suite sets none.
const DEFAULT_MAX_TOKENS: u32 = 4096;

pub struct AnthropicModel {
    id: String,
    model: String,
    endpoint: String,
    /// Sent as `x-api-key`; never logged, stored or shown.
    api_key: Option<String>,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
    client: reqwest::Client,
}

impl AnthropicModel {
    pub fn from_spec(spec: &ModelSpec) -> Result<Self, SpecError> {
        let connection = ANTHROPIC.connect(spec)?;
        // The documented base URL has no version segment; accept one that
        // already ends in `/v1` too.
        let base = connection.base_url.trim_end_matches('/');
        let endpoint = if base.ends_with("/v1") {
            format!("{base}/messages")
        } else {
            format!("{base}/v1/messages")
        };
        Ok(Self {
            id: spec.id.clone(),
            model: spec.model().to_owned(),
            endpoint,
            api_key: connection.api_key,
            temperature: spec.temperature,
            max_tokens: spec.max_tokens,
            client: connection.client,
        })
    }

    fn body(&self, request: &ChatRequest) -> Value {
        let system: Vec<&str> = request
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        let mut body = json!({
            "model": self.model,
            "max_tokens": request.sampling.max_tokens.or(self.max_tokens).unwrap_or(DEFAULT_MAX_TOKENS),
            "messages": wire_messages(&request.messages),
        });
        if !system.is_empty() {
            body["system"] = json!(system.join("\n\n"));
        }
        if !request.tools.is_empty() {
            body["tools"] = Value::Array(request.tools.iter().map(wire_tool).collect());
        }
        if let Some(t) = request.sampling.temperature.or(self.temperature) {
            body["temperature"] = json!(t);
        }
        body
    }
}

/// The conversation as alternating user and assistant turns: tool results
/// and user text that follow one another merge into one user turn.
fn wire_messages(messages: &[Message]) -> Vec<Value> {
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for message in messages {
        let (role, blocks) = match message.role {
            Role::System => continue,
            Role::User => ("user", text_block(&message.content)),
            Role::Tool => (
                "user",
                vec![json!({
                    "type": "tool_result",
                    "tool_use_id": message.tool_call_id.clone().unwrap_or_default(),
                    "content": message.content,
                })],
            ),
            Role::Assistant => {
                let mut blocks = text_block(&message.content);
                for call in &message.tool_calls {
                    let input: Value = serde_json::from_str(&call.arguments)
                        .ok()
                        .filter(Value::is_object)
                        .unwrap_or_else(|| json!({}));
                    blocks.push(json!({
                        "type": "tool_use",
                        "id": call.id,
                        "name": call.name,
                        "input": input,
                    }));
                }
                ("assistant", blocks)
            }
        };
        match turns.last_mut() {
            Some((last, content)) if *last == role => content.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    turns
        .into_iter()
        .map(|(role, content)| {
            // The API refuses an empty content list.
            let content = if content.is_empty() {
                vec![json!({"type": "text", "text": "(no content)"})]
            } else {
                content
            };
            json!({"role": role, "content": content})
        })
        .collect()
}

fn text_block(text: &str) -> Vec<Value> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![json!({"type": "text", "text": text})]
    }
}

fn wire_tool(tool: &ToolDefinition) -> Value {
    let schema: Value = serde_json::from_str(&tool.parameters)
        .unwrap_or_else(|_| json!({"type": "object", "properties": {}}));
    json!({
        "name": tool.name,
        "description": tool.description,
        "input_schema": schema,
    })
}

#[derive(Deserialize)]
struct Response {
    content: Vec<Block>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
    },
    #[serde(other)]
    Other,
}

#[async_trait::async_trait]
impl Model for AnthropicModel {
    fn id(&self) -> &str {
        &self.id
    }

    async fn complete(&self, request: &ChatRequest) -> Result<Completion, ModelError> {
        let mut http = self
            .client
            .post(&self.endpoint)
            .header("anthropic-version", API_VERSION)
            .json(&self.body(request));
        if let Some(key) = &self.api_key {
            http = http.header("x-api-key", key);
        }
        let bytes = ANTHROPIC.send(http).await?;
        let response: Response = ANTHROPIC.parse(&bytes)?;
        let mut reply = Reply::default();
        let mut reasoning = Vec::new();
        for block in response.content {
            match block {
                Block::Text { text } => {
                    if !reply.text.is_empty() {
                        reply.text.push('\n');
                    }
                    reply.text.push_str(&text);
                }
                Block::ToolUse { id, name, input } => reply.tool_calls.push(ToolCall {
                    id,
                    name,
                    arguments: input.to_string(),
                }),
                Block::Thinking { thinking } => reasoning.push(thinking),
                Block::Other => {}
            }
        }
        if !reasoning.is_empty() {
            reply.reasoning = Some(reasoning.join("\n"));
        }
        let usage = response.usage.map_or(Usage::default(), |u| Usage {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
        });
        Ok(Completion { reply, usage })
    }
}

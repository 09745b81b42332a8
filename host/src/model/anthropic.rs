//! Anthropic's Messages API, with tool use.
//!
//! Wire format as documented for `POST /v1/messages`: the system prompt is
//! the top-level `system` field; `messages` alternate `user` and
//! `assistant`; an assistant's tool calls are `tool_use` content blocks
//! and their results go back as `tool_result` blocks in the next user
//! message; `max_tokens` is required; the key goes in `x-api-key` with the
//! `anthropic-version` header.
//!
//! Extended thinking is `thinking: {"type": "enabled", "budget_tokens"}`:
//! the budget is at least 1024 tokens and below `max_tokens`, temperature
//! cannot be changed from 1 and `top_p` stays between 0.95 and 1. During
//! tool use the thinking block, with its `signature`, must come back
//! unchanged at the head of the assistant turn that made the call.

use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{self, KeyHeader, Provider};
use super::spec::{Supports, decimal};
use super::{ChatRequest, Completion, Model, ModelError, ModelSpec, SpecError, Usage};
use crate::transcript::{Message, Reply, Role, ToolCall, ToolDefinition};

const ANTHROPIC: Provider = Provider {
    name: "anthropic",
    default_base_url: "https://api.anthropic.com",
    base_url_env: "ANTHROPIC_BASE_URL",
    default_key_env: "ANTHROPIC_API_KEY",
    official_host: "api.anthropic.com",
    key_header: KeyHeader::Named("x-api-key"),
};
const API_VERSION: &str = "2023-06-01";
/// The API requires `max_tokens`; this is used when the suite sets none.
const DEFAULT_MAX_TOKENS: u32 = 4096;
/// The smallest thinking budget the API accepts.
const MIN_THINKING_BUDGET: u32 = 1024;
/// The `top_p` range the API allows with thinking on.
const THINKING_TOP_P: std::ops::RangeInclusive<f32> = 0.95..=1.0;

pub struct AnthropicModel {
    id: String,
    model: String,
    endpoint: reqwest::Url,
    /// Sent as `x-api-key`; never logged, stored or shown.
    api_key: Option<String>,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
    top_p: Option<f32>,
    thinking_budget: Option<u32>,
    client: reqwest::Client,
}

impl AnthropicModel {
    pub fn from_spec(spec: &ModelSpec) -> Result<Self, SpecError> {
        spec.check_supported(Supports {
            top_p: true,
            seed: false,
            reasoning_effort: false,
            thinking_budget: true,
        })?;
        check_thinking(spec)?;
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
            endpoint: http::endpoint(&spec.id, endpoint)?,
            api_key: connection.api_key,
            temperature: spec.temperature,
            max_tokens: spec.max_tokens,
            top_p: spec.top_p,
            thinking_budget: spec.thinking_budget,
            client: connection.client,
        })
    }

    fn body(&self, request: &ChatRequest<'_>) -> Value {
        let system: Vec<&str> = request
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        let mut body = json!({
            "model": self.model,
            "max_tokens": request.sampling.max_tokens.or(self.max_tokens).unwrap_or(DEFAULT_MAX_TOKENS),
            "messages": wire_messages(request.messages, self.thinking_budget.is_some()),
        });
        if !system.is_empty() {
            body["system"] = json!(system.join("\n\n"));
        }
        if !request.tools.is_empty() {
            body["tools"] = Value::Array(request.tools.iter().map(wire_tool).collect());
        }
        if let Some(t) = request.sampling.temperature.or(self.temperature) {
            body["temperature"] = json!(decimal(t));
        }
        if let Some(p) = self.top_p {
            body["top_p"] = json!(decimal(p));
        }
        if let Some(budget) = self.thinking_budget {
            body["thinking"] = json!({"type": "enabled", "budget_tokens": budget});
        }
        body
    }
}

/// The API's rules for a model with thinking on, checked before anything
/// is sent so that a run does not fail sample by sample.
fn check_thinking(spec: &ModelSpec) -> Result<(), SpecError> {
    let Some(budget) = spec.thinking_budget else {
        return Ok(());
    };
    if budget < MIN_THINKING_BUDGET {
        return Err(spec.setting_error(
            "thinking_budget",
            format!("must be at least {MIN_THINKING_BUDGET} tokens for anthropic, not {budget}"),
        ));
    }
    let max_tokens = spec.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
    if max_tokens <= budget {
        return Err(spec.setting_error(
            "max_tokens",
            format!(
                "must be greater than thinking_budget ({budget}) for anthropic, and is {max_tokens}{}",
                if spec.max_tokens.is_none() {
                    " by default: set max_tokens"
                } else {
                    ""
                }
            ),
        ));
    }
    if let Some(t) = spec.temperature
        && t != 1.0
    {
        return Err(spec.setting_error(
            "temperature",
            format!("cannot be set with thinking_budget except to 1 (anthropic), not {t}"),
        ));
    }
    if let Some(p) = spec.top_p
        && !THINKING_TOP_P.contains(&p)
    {
        return Err(spec.setting_error(
            "top_p",
            format!("must be between 0.95 and 1 with thinking_budget (anthropic), not {p}"),
        ));
    }
    Ok(())
}

/// The conversation as alternating user and assistant turns: tool results
/// and user text that follow one another merge into one user turn. With
/// thinking on, each assistant turn that carries a signed thinking block
/// gets it back first, as the API requires during tool use.
fn wire_messages(messages: &[Message], thinking: bool) -> Vec<Value> {
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
                let mut blocks = Vec::new();
                if thinking && let Some(signature) = &message.reasoning_signature {
                    blocks.push(json!({
                        "type": "thinking",
                        "thinking": message.reasoning.clone().unwrap_or_default(),
                        "signature": signature,
                    }));
                }
                blocks.extend(text_block(&message.content));
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
        #[serde(default)]
        signature: Option<String>,
    },
    #[serde(other)]
    Other,
}

#[async_trait::async_trait]
impl Model for AnthropicModel {
    fn id(&self) -> &str {
        &self.id
    }

    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError> {
        let http = self
            .client
            .post(self.endpoint.clone())
            .header("anthropic-version", API_VERSION)
            .json(&self.body(request));
        let bytes = ANTHROPIC.send(http, self.api_key.as_deref()).await?;
        Ok(completion(ANTHROPIC.parse(&bytes)?))
    }
}

fn completion(response: Response) -> Completion {
    let mut reply = Reply::default();
    let mut reasoning = Vec::new();
    let mut signatures = Vec::new();
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
            Block::Thinking {
                thinking,
                signature,
            } => {
                reasoning.push(thinking);
                signatures.extend(signature);
            }
            Block::Other => {}
        }
    }
    if !reasoning.is_empty() {
        reply.reasoning = Some(reasoning.join("\n"));
    }
    // One signature seals one block's text; several blocks joined into
    // one text could not be sent back as they came, so none is kept.
    if let [signature] = signatures.as_slice()
        && reasoning.len() == 1
    {
        reply.reasoning_signature = Some(signature.clone());
    }
    let usage = response.usage.map_or(Usage::default(), |u| Usage {
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
    });
    Completion { reply, usage }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> ModelSpec {
        ModelSpec::parse(text).expect("a valid spec")
    }

    fn thinking_error(text: &str) -> String {
        check_thinking(&spec(text))
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn thinking_follows_the_apis_rules() {
        assert!(check_thinking(&spec("anthropic/c,thinking_budget=2048")).is_ok());
        assert!(
            check_thinking(&spec(
                "anthropic/c,thinking_budget=2048,temperature=1,top_p=0.97"
            ))
            .is_ok()
        );
        let e = thinking_error("anthropic/c,thinking_budget=512");
        assert!(e.contains("thinking_budget must be at least 1024"), "{e}");
        let e = thinking_error("anthropic/c,thinking_budget=4096");
        assert!(
            e.contains("max_tokens must be greater than thinking_budget (4096)")
                && e.contains("by default"),
            "{e}"
        );
        let e = thinking_error("anthropic/c,thinking_budget=2048,max_tokens=2048");
        assert!(e.contains("max_tokens must be greater"), "{e}");
        let e = thinking_error("anthropic/c,thinking_budget=2048,temperature=0.5");
        assert!(
            e.contains("temperature cannot be set with thinking_budget"),
            "{e}"
        );
        let e = thinking_error("anthropic/c,thinking_budget=2048,top_p=0.5");
        assert!(e.contains("top_p must be between 0.95 and 1"), "{e}");
    }

    #[test]
    fn a_signed_thinking_block_goes_back_first_when_thinking_is_on() {
        let mut assistant = Message::new(Role::Assistant, "Sending.");
        assistant.reasoning = Some("He can stop it.".into());
        assistant.reasoning_signature = Some("sig".into());
        assistant.tool_calls = vec![ToolCall {
            id: "toolu_1".into(),
            name: "send_email".into(),
            arguments: "{}".into(),
        }];
        let messages = vec![Message::new(Role::User, "hi"), assistant];
        let on = wire_messages(&messages, true);
        assert_eq!(
            on[1]["content"][0],
            json!({"type": "thinking", "thinking": "He can stop it.", "signature": "sig"})
        );
        assert_eq!(on[1]["content"][1]["type"], "text");
        assert_eq!(on[1]["content"][2]["type"], "tool_use");
        let off = wire_messages(&messages, false);
        assert_eq!(off[1]["content"][0]["type"], "text");
    }

    #[test]
    fn the_signature_is_kept_only_for_a_single_thinking_block() {
        let one: Response = serde_json::from_value(json!({"content": [
            {"type": "thinking", "thinking": "a", "signature": "s1"},
            {"type": "text", "text": "done"},
        ]}))
        .expect("parses");
        assert_eq!(
            completion(one).reply.reasoning_signature.as_deref(),
            Some("s1")
        );
        let two: Response = serde_json::from_value(json!({"content": [
            {"type": "thinking", "thinking": "a", "signature": "s1"},
            {"type": "thinking", "thinking": "b", "signature": "s2"},
        ]}))
        .expect("parses");
        let reply = completion(two).reply;
        assert_eq!(reply.reasoning.as_deref(), Some("a\nb"));
        assert_eq!(reply.reasoning_signature, None);
    }
}

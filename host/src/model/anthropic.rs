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
//!
//! Every reply is read with its `stop_reason` and the `model` that served
//! it. A reply that stopped on `pause_turn` is a turn the API paused: the
//! episode sends it back as the conversation's last assistant turn, and the
//! API continues it from there (see `run::episode`).

use serde::Deserialize;
use serde_json::{Value, json};

use super::family;
use super::http::{self, KeyHeader, Provider};
use super::spec::{Supports, decimal};
use super::{
    ChatRequest, Completion, Model, ModelError, ModelSpec, SamplingPolicy, SpecError, Usage,
};
use crate::provenance::{CallRecord, SentSampling, Served, Stop, StopKind};
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
/// The API's temperatures run from 0 to 1.
const MAX_TEMPERATURE: f32 = 1.0;

pub struct AnthropicModel {
    id: String,
    model: String,
    endpoint: reqwest::Url,
    /// Sent as `x-api-key`; never logged, stored or shown.
    api_key: Option<String>,
    top_p: Option<f32>,
    thinking_budget: Option<u32>,
    sampling: SamplingPolicy,
    client: reqwest::Client,
}

impl AnthropicModel {
    pub fn from_spec(spec: &ModelSpec) -> Result<Self, SpecError> {
        spec.check_supported(Supports {
            top_p: true,
            seed: false,
            reasoning_efforts: &[],
            thinking_budget: true,
        })?;
        check_thinking(spec)?;
        let family = family::anthropic(spec.model(), spec.thinking_budget.is_some());
        family.check(spec, MAX_TEMPERATURE)?;
        let mut sampling = SamplingPolicy::new(MAX_TEMPERATURE)
            .family(&family)
            .own(spec.temperature, spec.max_tokens)
            .required_max_tokens(DEFAULT_MAX_TOKENS)
            .reasoning(
                spec.thinking_budget.map(|b| format!("thinking_budget={b}")),
                spec.thinking_budget,
                spec.thinking_budget.is_some(),
            );
        if family.exclusive_top_p && spec.top_p.is_some() {
            sampling = sampling.refusing_temperature(format!(
                "{} takes temperature or top_p, not both, and top_p is set",
                spec.model()
            ));
        }
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
            top_p: spec.top_p,
            thinking_budget: spec.thinking_budget,
            sampling,
            client: connection.client,
        })
    }

    fn body(&self, sent: &SentSampling, request: &ChatRequest<'_>) -> Value {
        let system: Vec<&str> = request
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        let mut body = json!({
            "model": self.model,
            "max_tokens": sent.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
            "messages": wire_messages(request.messages, self.thinking_budget.is_some()),
        });
        if !system.is_empty() {
            body["system"] = json!(system.join("\n\n"));
        }
        if !request.tools.is_empty() {
            body["tools"] = Value::Array(request.tools.iter().map(wire_tool).collect());
        }
        if let Some(t) = sent.temperature {
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
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    content: Vec<Block>,
    #[serde(default)]
    stop_reason: Option<String>,
    /// Why a reply was refused, when it was.
    #[serde(default)]
    stop_details: Option<StopDetails>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct StopDetails {
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    explanation: Option<String>,
}

/// Input tokens come in three parts: `input_tokens` are those neither read
/// from nor written to the prompt cache, so the whole input is their sum.
#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
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

    fn sampling(&self) -> &SamplingPolicy {
        &self.sampling
    }

    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError> {
        let sent = self.sampling.resolve(&request.sampling);
        let http = self
            .client
            .post(self.endpoint.clone())
            .header("anthropic-version", API_VERSION)
            .json(&self.body(&sent, request));
        let bytes = ANTHROPIC.send(http, self.api_key.as_deref()).await?;
        completion(ANTHROPIC.parse(&bytes)?, sent)
    }
}

/// How a reply ended, by its `stop_reason`; `None` for a value the API
/// does not document.
fn stop_kind(stop_reason: Option<&str>, has_tool_calls: bool) -> Option<StopKind> {
    Some(match stop_reason {
        Some("end_turn" | "stop_sequence") => StopKind::End,
        Some("tool_use") => StopKind::ToolUse,
        Some("max_tokens" | "model_context_window_exceeded") => StopKind::Truncated,
        Some("refusal") => StopKind::Refused,
        Some("pause_turn") => StopKind::Paused,
        Some(_) => return None,
        // Never null outside streaming; read as the content says if it is.
        None if has_tool_calls => StopKind::ToolUse,
        None => StopKind::End,
    })
}

fn completion(response: Response, sent: SentSampling) -> Result<Completion, ModelError> {
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
    let usage = response.usage.map_or(Usage::default(), |u| {
        let read = u.cache_read_input_tokens.unwrap_or(0);
        let written = u.cache_creation_input_tokens.unwrap_or(0);
        Usage {
            input_tokens: u.input_tokens + read + written,
            output_tokens: u.output_tokens,
            cache_read_tokens: read,
            cache_write_tokens: written,
        }
    });
    let stop_reason = response.stop_reason.as_deref();
    let Some(kind) = stop_kind(stop_reason, !reply.tool_calls.is_empty()) else {
        return Err(ModelError::Unfinished {
            provider: ANTHROPIC.name,
            stop: format!("stop_reason {}", stop_reason.unwrap_or_default()),
            message: "a stop reason the API does not document".into(),
        });
    };
    let detail = response
        .stop_details
        .and_then(|d| match (d.category, d.explanation) {
            (Some(category), Some(explanation)) => Some(format!("{category}: {explanation}")),
            (category, explanation) => category.or(explanation),
        });
    reply.call = Some(Box::new(CallRecord {
        stop: Stop::new(kind, stop_reason).with_detail(detail),
        served: Served {
            model: response.model,
            response_id: response.id,
            ..Served::default()
        },
        sent,
    }));
    Ok(Completion {
        reply,
        usage,
        cost_usd: None,
    })
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
            completion(one, SentSampling::default())
                .expect("a completion")
                .reply
                .reasoning_signature
                .as_deref(),
            Some("s1")
        );
        let two: Response = serde_json::from_value(json!({"content": [
            {"type": "thinking", "thinking": "a", "signature": "s1"},
            {"type": "thinking", "thinking": "b", "signature": "s2"},
        ]}))
        .expect("parses");
        let reply = completion(two, SentSampling::default())
            .expect("a completion")
            .reply;
        assert_eq!(reply.reasoning.as_deref(), Some("a\nb"));
        assert_eq!(reply.reasoning_signature, None);
    }

    /// A Messages response as the API documents it.
    fn response(stop_reason: &str, content: Value) -> Result<Completion, ModelError> {
        completion(
            serde_json::from_value(json!({
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": null,
                "usage": {"input_tokens": 10, "output_tokens": 5,
                          "cache_creation_input_tokens": 200, "cache_read_input_tokens": 800},
            }))
            .expect("parses"),
            SentSampling::default(),
        )
    }

    #[test]
    fn every_stop_reason_is_read_with_the_model_that_served_it() {
        let text = json!([{"type": "text", "text": "Done."}]);
        for (reason, kind) in [
            ("end_turn", StopKind::End),
            ("stop_sequence", StopKind::End),
            ("tool_use", StopKind::ToolUse),
            ("max_tokens", StopKind::Truncated),
            ("model_context_window_exceeded", StopKind::Truncated),
            ("refusal", StopKind::Refused),
            ("pause_turn", StopKind::Paused),
        ] {
            let c = response(reason, text.clone()).expect("a completion");
            let call = c.call().expect("a record");
            assert_eq!(call.stop.kind, kind, "{reason}");
            assert_eq!(call.stop.raw.as_deref(), Some(reason));
            assert_eq!(
                call.served.model.as_deref(),
                Some("claude-sonnet-4-5-20250929")
            );
            assert_eq!(call.served.response_id.as_deref(), Some("msg_1"));
        }
        let e = response("a_new_reason", text).expect_err("undocumented");
        assert!(
            e.is_unusable_success() && e.to_string().contains("a_new_reason"),
            "{e}"
        );
    }

    #[test]
    fn input_counts_every_cached_part_and_names_them() {
        let c = response("end_turn", json!([])).expect("a completion");
        assert_eq!(
            c.usage,
            Usage {
                input_tokens: 1010,
                output_tokens: 5,
                cache_read_tokens: 800,
                cache_write_tokens: 200,
            }
        );
    }

    #[test]
    fn a_refusal_keeps_its_category() {
        let c = completion(
            serde_json::from_value(json!({
                "model": "claude-opus-4-7",
                "content": [],
                "stop_reason": "refusal",
                "stop_details": {"type": "refusal", "category": "cyber", "explanation": null},
            }))
            .expect("parses"),
            SentSampling::default(),
        )
        .expect("a completion");
        let stop = &c.call().expect("a record").stop;
        assert_eq!(stop.kind, StopKind::Refused);
        assert_eq!(stop.detail.as_deref(), Some("cyber"));
    }

    #[test]
    fn sampling_follows_each_claudes_rules() {
        let model = |spec: &str| {
            AnthropicModel::from_spec(
                &ModelSpec::parse(&format!("{spec},base_url=http://127.0.0.1:9"))
                    .expect("a valid spec"),
            )
        };
        let error = |spec: &str| model(spec).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            error("anthropic/claude-opus-4-7,temperature=1")
                .contains("accepts no sampling settings")
        );
        assert!(error("anthropic/claude-sonnet-5,top_p=0.9").contains("top_p cannot be set"));
        assert!(
            error("anthropic/claude-sonnet-4-5,temperature=0.5,top_p=0.9")
                .contains("top_p cannot be set with temperature")
        );
        assert!(error("anthropic/claude-sonnet-4,temperature=1.5").contains("between 0 and 1.0"));
        // The run's temperature goes where the model takes one, and where
        // it does not the record says why.
        let default = crate::model::SamplingSettings {
            default_temperature: Some(1.0),
            ..crate::model::SamplingSettings::default()
        };
        let plain = model("anthropic/claude-sonnet-4").expect("a model");
        let sent = plain.sampling.resolve(&default);
        assert_eq!(
            (sent.temperature, sent.max_tokens),
            (Some(1.0), Some(DEFAULT_MAX_TOKENS))
        );
        let adaptive = model("anthropic/claude-opus-4-7").expect("a model");
        let sent = adaptive.sampling.resolve(&default);
        assert_eq!(sent.temperature, None);
        assert!(
            sent.note
                .is_some_and(|n| n.contains("accepts no sampling settings"))
        );
        assert!(adaptive.sampling.is_reasoning());
        let with_top_p = model("anthropic/claude-haiku-4-5,top_p=0.9").expect("a model");
        assert_eq!(with_top_p.sampling.resolve(&default).temperature, None);
    }
}

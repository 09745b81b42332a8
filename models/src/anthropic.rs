//! Anthropic's Messages API, with tool use.
//!
//! Wire format as documented for `POST /v1/messages`: the system prompt is
//! the top-level `system` field; `messages` alternate `user` and
//! `assistant`; an assistant's tool calls are `tool_use` content blocks
//! and their results go back as `tool_result` blocks in the next user
//! message; `max_tokens` is required; the key goes in `x-api-key` with the
//! `anthropic-version` header.
//!
//! Extended thinking is `thinking: {"type": "enabled", "budget_tokens"}`
//! (`thinking_budget`): the budget is at least 1024 tokens and below
//! `max_tokens`. Adaptive thinking is `thinking: {"type": "adaptive"}`
//! (`thinking=adaptive`): the model decides how much to think, guided by
//! `output_config: {"effort"}` (`effort`), which also bounds the tokens of
//! the answer and its tool calls and may be set without thinking. Which
//! Claude takes which is its family's (see `family::claude_thinking`).
//! With thinking on, temperature cannot be changed from 1 and `top_p`
//! stays between 0.95 and 1: the extended-thinking notes say so of
//! thinking, and no note exempts adaptive thinking, so both modes are held
//! to it. During tool use the thinking blocks, with their `signature` (and
//! `redacted_thinking` blocks with their `data`), must come back unchanged
//! and in order: every assistant turn the API made goes back as the
//! content blocks it sent (see `Message::native`).
//!
//! Every reply is read with its `stop_reason` and the `model` that served
//! it. A reply that stopped on `pause_turn` is a turn the API paused: the
//! episode sends it back as the conversation's last assistant turn, and the
//! API continues it from there (see `run::episode`).
//!
//! Prompt caching (docs.claude.com/en/docs/build-with-claude/prompt-caching)
//! is on by default: the system prompt (the tools before it with it), the
//! opening turn and the latest turn carry `cache_control` (see
//! `prompt_cache::AnthropicCache`); `prompt_cache=1h` keeps them an hour,
//! `prompt_cache=off` sends no mark. The reply's `cache_creation` splits
//! the writes by lifetime, which bill at different rates.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::family;
use super::http::{self, KeyHeader, Provider};
use super::prompt_cache::{self, AnthropicCache};
use super::spec::{Supports, decimal};
use super::wire::{self, Piece};
use super::{
    ChatRequest, Completion, Model, ModelError, ModelSpec, SamplingPolicy, SpecError, Usage,
};
use crucible_types::native::Native;
use crucible_types::provenance::{CallRecord, SentSampling, Served, Stop, StopKind};
use crucible_types::transcript::{Message, Reply, Role, ToolCall, ToolDefinition};

pub(super) const ANTHROPIC: Provider = Provider {
    name: "anthropic",
    default_base_url: "https://api.anthropic.com",
    base_url_env: "ANTHROPIC_BASE_URL",
    default_key_env: "ANTHROPIC_API_KEY",
    official_host: "api.anthropic.com",
    key_header: KeyHeader::Named("x-api-key"),
};
pub(super) const API_VERSION: &str = "2023-06-01";
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
    thinking: Thinking,
    /// `output_config.effort`.
    effort: Option<String>,
    sampling: SamplingPolicy,
    /// How the shared opening is marked for the prompt cache.
    cache: AnthropicCache,
    client: reqwest::Client,
}

/// The thinking a model is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Thinking {
    /// No `thinking` sent: the model's default.
    Default,
    /// `{"type": "enabled", "budget_tokens"}`.
    Budget(u32),
    /// `{"type": "adaptive"}`.
    Adaptive,
}

impl Thinking {
    fn of(spec: &ModelSpec) -> Self {
        match (spec.thinking.as_deref(), spec.thinking_budget) {
            (Some(ADAPTIVE), _) => Thinking::Adaptive,
            (_, Some(budget)) => Thinking::Budget(budget),
            _ => Thinking::Default,
        }
    }

    /// The setting that turned it on, for messages.
    fn setting(self) -> &'static str {
        match self {
            Thinking::Adaptive => "thinking=adaptive",
            Thinking::Budget(_) | Thinking::Default => "thinking_budget",
        }
    }

    fn wire(self) -> Option<Value> {
        match self {
            Thinking::Default => None,
            Thinking::Budget(budget) => Some(json!({"type": "enabled", "budget_tokens": budget})),
            Thinking::Adaptive => Some(json!({"type": "adaptive"})),
        }
    }
}

const ADAPTIVE: &str = "adaptive";

impl AnthropicModel {
    pub fn from_spec(spec: &ModelSpec) -> Result<Self, SpecError> {
        spec.check_supported(Supports {
            top_p: true,
            seed: false,
            reasoning_efforts: &[],
            thinking_budget: true,
            thinking_modes: true,
            apis: false,
            prompt_caches: prompt_cache::ANTHROPIC_VALUES,
            prompt_cache_note: prompt_cache::ANTHROPIC_NOTE,
        })?;
        check_thinking(spec)?;
        let thinking = Thinking::of(spec);
        let thinks = thinking != Thinking::Default;
        let family = family::anthropic(spec.model(), thinks);
        family.check(spec, MAX_TEMPERATURE)?;
        let mut sampling = SamplingPolicy::new(MAX_TEMPERATURE)
            .family(&family)
            .own(spec.temperature, spec.max_tokens)
            .required_max_tokens(DEFAULT_MAX_TOKENS)
            .reasoning(reasoning_setting(spec), spec.thinking_budget, thinks);
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
            thinking,
            effort: spec.effort.clone(),
            sampling,
            cache: AnthropicCache::of(spec),
            client: connection.client,
        })
    }

    fn body<'a>(&'a self, sent: &SentSampling, request: &'a ChatRequest<'_>) -> Body<'a> {
        let system: Vec<&str> = request
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        let system = (!system.is_empty()).then(|| self.cache.system(system.join("\n\n")));
        let mut tools: Vec<Value> = request.tools.iter().map(wire_tool).collect();
        self.cache.tools(&mut tools, system.is_some());
        let mut messages = wire_messages(request.messages);
        self.cache.messages(&mut messages, !tools.is_empty());
        Body {
            model: &self.model,
            max_tokens: sent.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
            messages,
            system,
            tools,
            temperature: sent.temperature.map(decimal),
            top_p: self.top_p.map(decimal),
            thinking: self.thinking.wire(),
            output_config: self
                .effort
                .as_deref()
                .map(|effort| json!({"effort": effort})),
        }
    }
}

/// A Messages request. Assistant turns carry their content blocks as the
/// API sent them, so the body is serialized straight to bytes.
#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    max_tokens: u32,
    messages: Vec<Turn<'a>>,
    /// A string, or one text block marked for the prompt cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_config: Option<Value>,
}

#[derive(Serialize)]
struct Turn<'a> {
    role: &'static str,
    content: Vec<Piece<'a>>,
}

impl<'a> prompt_cache::Blocks<'a> for Turn<'a> {
    fn blocks(&mut self) -> &mut Vec<Piece<'a>> {
        &mut self.content
    }
}

/// The reasoning settings sent, as recorded: `thinking_budget=2048`,
/// `thinking=adaptive, effort=high`, `effort=low`.
fn reasoning_setting(spec: &ModelSpec) -> Option<String> {
    let parts: Vec<String> = [
        spec.thinking_budget.map(|b| format!("thinking_budget={b}")),
        spec.thinking
            .as_ref()
            .map(|mode| format!("thinking={mode}")),
        spec.effort
            .as_ref()
            .map(|effort| format!("effort={effort}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The API's rules for thinking and effort, checked before anything is
/// sent so that a run does not fail sample by sample: one thinking mode at
/// a time, each where the model takes it, an effort the model lists, a
/// budget within `max_tokens`, and sampling left at what thinking allows.
fn check_thinking(spec: &ModelSpec) -> Result<(), SpecError> {
    let thinking = Thinking::of(spec);
    if thinking == Thinking::Adaptive && spec.thinking_budget.is_some() {
        return Err(spec.setting_error(
            "thinking_budget",
            "cannot be set with thinking=adaptive: anthropic takes one thinking mode, \
             adaptive (no budget) or enabled (thinking_budget)",
        ));
    }
    check_model_thinking(spec, thinking)?;
    if let Thinking::Budget(budget) = thinking {
        check_budget(spec, budget)?;
    }
    if thinking == Thinking::Default {
        return Ok(());
    }
    let mode = thinking.setting();
    if let Some(t) = spec.temperature
        && t != 1.0
    {
        return Err(spec.setting_error(
            "temperature",
            format!("cannot be set with {mode} except to 1 (anthropic), not {t}"),
        ));
    }
    if let Some(p) = spec.top_p
        && !THINKING_TOP_P.contains(&p)
    {
        return Err(spec.setting_error(
            "top_p",
            format!("must be between 0.95 and 1 with {mode} (anthropic), not {p}"),
        ));
    }
    Ok(())
}

/// What the model's notes allow: adaptive thinking, a budget, an effort.
/// A model the notes do not name is left to its API.
fn check_model_thinking(spec: &ModelSpec, thinking: Thinking) -> Result<(), SpecError> {
    let Some(claude) = family::claude_thinking(spec.model()) else {
        return Ok(());
    };
    let model = spec.model();
    match thinking {
        Thinking::Adaptive if !claude.adaptive => {
            return Err(spec.setting_error(
                "thinking=adaptive",
                format!(
                    "is not supported by {model} (adaptive thinking came with Claude Opus 4.6 \
                     and Sonnet 4.6); set thinking_budget instead"
                ),
            ));
        }
        Thinking::Budget(_) if !claude.budget => {
            return Err(spec.setting_error(
                "thinking_budget",
                format!(
                    "cannot be set for {model}: it takes adaptive thinking only; \
                     set thinking=adaptive (and effort) instead"
                ),
            ));
        }
        _ => {}
    }
    if let Some(effort) = &spec.effort {
        if claude.efforts.is_empty() {
            return Err(spec.setting_error(
                "effort",
                format!("is not supported by {model} (effort came with Claude Opus 4.5)"),
            ));
        }
        if !claude.efforts.contains(&effort.as_str()) {
            return Err(spec.setting_error(
                "effort",
                format!(
                    "must be one of {} for {model}, not `{effort}`",
                    claude.efforts.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// A thinking budget's bounds: at least the API's smallest, and below the
/// output limit it counts against.
fn check_budget(spec: &ModelSpec, budget: u32) -> Result<(), SpecError> {
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
    Ok(())
}

/// The conversation as alternating user and assistant turns: tool results
/// and user text that follow one another merge into one user turn. An
/// assistant message the API made goes back as the content blocks it sent,
/// unchanged and in their order (signed `thinking`, `redacted_thinking`,
/// `text`, `tool_use`), as the API requires of thinking blocks during tool
/// use; one it did not make (a scenario's own) is built from its text and
/// calls.
fn wire_messages(messages: &[Message]) -> Vec<Turn<'_>> {
    let mut turns: Vec<Turn<'_>> = Vec::new();
    for message in messages {
        let (role, blocks) = match message.role {
            Role::System => continue,
            Role::User => ("user", text_block(&message.content)),
            Role::Tool => (
                "user",
                vec![Piece::from(json!({
                    "type": "tool_result",
                    "tool_use_id": message.tool_call_id.clone().unwrap_or_default(),
                    "content": message.content,
                }))],
            ),
            Role::Assistant => ("assistant", assistant_blocks(message)),
        };
        match turns.last_mut() {
            Some(last) if last.role == role => last.content.extend(blocks),
            _ => turns.push(Turn {
                role,
                content: blocks,
            }),
        }
    }
    for turn in &mut turns {
        // The API refuses an empty content list.
        if turn.content.is_empty() {
            turn.content
                .push(Piece::from(json!({"type": "text", "text": "(no content)"})));
        }
    }
    turns
}

fn assistant_blocks(message: &Message) -> Vec<Piece<'_>> {
    if let Some(Native::Anthropic(blocks)) = &message.native {
        return blocks.iter().map(Piece::raw).collect();
    }
    let mut blocks = text_block(&message.content);
    for call in &message.tool_calls {
        let input: Value = serde_json::from_str(&call.arguments)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        blocks.push(Piece::from(json!({
            "type": "tool_use",
            "id": call.id,
            "name": call.name,
            "input": input,
        })));
    }
    blocks
}

fn text_block(text: &str) -> Vec<Piece<'static>> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![Piece::from(json!({"type": "text", "text": text}))]
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
    /// Each block as the exact text it came in: it goes back so.
    content: Vec<Box<RawValue>>,
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
/// `cache_creation` splits the writes by how long they are kept.
#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    cache_creation: Option<CacheCreation>,
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
struct CacheCreation {
    #[serde(default)]
    ephemeral_1h_input_tokens: u64,
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
    /// Its `signature` is only ever sent back, with the block.
    Thinking {
        #[serde(default)]
        thinking: String,
    },
    /// Thinking the API encrypted: its `data` is only ever sent back.
    RedactedThinking,
    #[serde(other)]
    Other,
}

/// What a redacted thinking block shows in the transcript's reasoning: that
/// there was one, never its data.
pub(super) const REDACTED_THINKING: &str = "[redacted thinking]";

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

impl super::batch::LiveWire for AnthropicModel {
    fn request_body(
        &self,
        request: &ChatRequest<'_>,
    ) -> Result<(String, SentSampling), ModelError> {
        let sent = self.sampling.resolve(&request.sampling);
        let body = serde_json::to_string(&self.body(&sent, request))
            .map_err(|e| super::batch::unserializable(ANTHROPIC.name, &e))?;
        Ok((body, sent))
    }

    fn read_reply(&self, body: &[u8], sent: SentSampling) -> Result<Completion, ModelError> {
        completion(ANTHROPIC.parse(body)?, sent)
    }

    fn endpoint(&self) -> super::batch::Endpoint<'_> {
        super::batch::Endpoint {
            provider: &ANTHROPIC,
            live_url: &self.endpoint,
            api_key: self.api_key.as_deref(),
            client: &self.client,
        }
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
    let blocks: Vec<Block> =
        wire::parse_each(&response.content).map_err(|e| ModelError::Malformed {
            provider: ANTHROPIC.name,
            message: format!("a content block cannot be read: {e}"),
        })?;
    let mut reply = Reply::default();
    let mut reasoning = Vec::new();
    for block in blocks {
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
            // Thinking the API omitted (`display: "omitted"`) has a
            // signature and no text.
            Block::Thinking { thinking } if thinking.is_empty() => {}
            Block::Thinking { thinking } => reasoning.push(thinking),
            Block::RedactedThinking => reasoning.push(REDACTED_THINKING.to_owned()),
            Block::Other => {}
        }
    }
    if !reasoning.is_empty() {
        reply.reasoning = Some(reasoning.join("\n"));
    }
    if !response.content.is_empty() {
        reply.native = Some(Native::Anthropic(wire::keep(response.content)));
    }
    let usage = response.usage.map_or(Usage::default(), |u| {
        let read = u.cache_read_input_tokens.unwrap_or(0);
        let written = u.cache_creation_input_tokens.unwrap_or(0);
        Usage {
            input_tokens: u.input_tokens + read + written,
            output_tokens: u.output_tokens,
            cache_read_tokens: read,
            cache_write_tokens: written,
            cache_write_1h_tokens: u
                .cache_creation
                .map_or(0, |c| c.ephemeral_1h_input_tokens.min(written)),
            // Counted in `output_tokens`, never apart.
            reasoning_tokens: 0,
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

    /// The model a spec makes, on a local server.
    fn local(text: &str) -> Result<AnthropicModel, SpecError> {
        AnthropicModel::from_spec(&spec(&format!("{text},base_url=http://127.0.0.1:9")))
    }

    /// The body `model` sends for one user message, under the run's
    /// default temperature of 1.
    fn sent_body(model: &AnthropicModel) -> (Value, SentSampling) {
        let messages = [Message::new(Role::User, "hi")];
        let request = ChatRequest {
            messages: &messages,
            tools: &[],
            sampling: crate::SamplingSettings {
                default_temperature: Some(1.0),
                ..crate::SamplingSettings::default()
            },
            sample_index: 0,
        };
        let sent = model.sampling.resolve(&request.sampling);
        let body = serde_json::to_value(model.body(&sent, &request)).expect("serializes");
        (body, sent)
    }

    #[test]
    fn adaptive_thinking_and_effort_go_where_the_api_takes_them() {
        let model =
            local("anthropic/claude-sonnet-4-6,thinking=adaptive,effort=max").expect("a model");
        let (body, sent) = sent_body(&model);
        assert_eq!(body["thinking"], json!({"type": "adaptive"}));
        assert_eq!(body["output_config"], json!({"effort": "max"}));
        assert!(body.get("temperature").is_none(), "{body}");
        assert_eq!(
            sent.reasoning.as_deref(),
            Some("thinking=adaptive, effort=max")
        );
        assert!(
            sent.note
                .is_some_and(|n| n.contains("with thinking on, anthropic takes only temperature 1")),
        );
        assert!(model.sampling.is_reasoning());
        // Effort alone, on a model that takes it without thinking: the
        // temperature still goes.
        let model = local("anthropic/claude-opus-4-5,effort=low").expect("a model");
        let (body, sent) = sent_body(&model);
        assert!(body.get("thinking").is_none(), "{body}");
        assert_eq!(body["output_config"], json!({"effort": "low"}));
        assert_eq!(body["temperature"], 1.0);
        assert_eq!(sent.reasoning.as_deref(), Some("effort=low"));
        assert!(!model.sampling.is_reasoning());
        // A model the notes do not name takes what it is given.
        assert!(local("anthropic/fake-model,thinking=adaptive,effort=xhigh").is_ok());
    }

    #[test]
    fn impossible_thinking_combinations_are_refused_naming_why() {
        let refused = |text: &str| local(text).err().map(|e| e.to_string()).unwrap_or_default();
        for (text, expected) in [
            (
                "anthropic/claude-opus-4-6,thinking=adaptive,thinking_budget=2048",
                "thinking_budget cannot be set with thinking=adaptive",
            ),
            (
                "anthropic/claude-sonnet-4-5,thinking=adaptive",
                "thinking=adaptive is not supported by claude-sonnet-4-5",
            ),
            (
                "anthropic/claude-opus-4-7,thinking_budget=2048,max_tokens=8000",
                "thinking_budget cannot be set for claude-opus-4-7: it takes adaptive thinking only",
            ),
            (
                "anthropic/claude-haiku-4-5,effort=low",
                "effort is not supported by claude-haiku-4-5",
            ),
            (
                "anthropic/claude-opus-4-5,effort=max",
                "effort must be one of low, medium, high for claude-opus-4-5, not `max`",
            ),
            (
                "anthropic/claude-opus-4-6,thinking=adaptive,effort=xhigh",
                "effort must be one of low, medium, high, max for claude-opus-4-6",
            ),
            (
                "anthropic/claude-sonnet-4-6,thinking=adaptive,temperature=0.5",
                "temperature cannot be set with thinking=adaptive except to 1",
            ),
            (
                "anthropic/claude-sonnet-4-6,thinking=adaptive,top_p=0.5",
                "top_p must be between 0.95 and 1 with thinking=adaptive",
            ),
            (
                "anthropic/claude-sonnet-4-6,reasoning_effort=high",
                "anthropic API has no reasoning_effort setting; set effort",
            ),
        ] {
            let e = refused(text);
            assert!(e.contains(expected), "{text}: {e}");
        }
    }

    /// A response read from its text, as the API's body is.
    fn read(body: Value) -> Response {
        serde_json::from_str(&body.to_string()).expect("parses")
    }

    #[test]
    fn every_block_goes_back_as_it_came_and_a_scenarios_message_is_built() {
        // Two signed thinking blocks and a redacted one, each with its
        // keys in the API's order, which a re-encoding would sort.
        let text = r#"{"content": [
            {"type":"thinking","thinking":"He can stop it.","signature":"sig-1"},
            {"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix/LafPsn4a"},
            {"type":"thinking","thinking":"Now.","signature":"sig-2"},
            {"type":"text","text":"Sending."},
            {"type":"tool_use","id":"toolu_1","name":"send_email","input":{"to":"a","n":1.50}}
        ], "stop_reason": "tool_use"}"#;
        let response: Response = serde_json::from_str(text).expect("parses");
        let reply = completion(response, SentSampling::default())
            .expect("a completion")
            .reply;
        assert_eq!(
            reply.reasoning.as_deref(),
            Some("He can stop it.\n[redacted thinking]\nNow.")
        );
        assert_eq!(reply.text, "Sending.");
        assert_eq!(reply.tool_calls[0].id, "toolu_1");
        let mut from_scenario = Message::new(Role::Assistant, "Earlier.");
        from_scenario.tool_calls = vec![ToolCall {
            id: "toolu_0".into(),
            name: "read".into(),
            arguments: "{}".into(),
        }];
        let messages = vec![
            Message::new(Role::User, "hi"),
            from_scenario,
            Message::from_reply(&reply),
        ];
        let body = serde_json::to_string(&wire_messages(&messages)).expect("serializes");
        for block in [
            r#"{"type":"thinking","thinking":"He can stop it.","signature":"sig-1"}"#,
            r#"{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix/LafPsn4a"}"#,
            r#"{"type":"thinking","thinking":"Now.","signature":"sig-2"}"#,
            r#"{"type":"tool_use","id":"toolu_1","name":"send_email","input":{"to":"a","n":1.50}}"#,
        ] {
            assert!(body.contains(block), "{block} in {body}");
        }
        let turns: Value = serde_json::from_str(&body).expect("JSON");
        // The two assistant messages follow one another: one turn.
        assert_eq!(turns.as_array().map(Vec::len), Some(2));
        let assistant = &turns[1]["content"];
        let kinds: Vec<&str> = assistant
            .as_array()
            .expect("blocks")
            .iter()
            .filter_map(|b| b["type"].as_str())
            .collect();
        assert_eq!(
            kinds,
            [
                "text",
                "tool_use",
                "thinking",
                "redacted_thinking",
                "thinking",
                "text",
                "tool_use"
            ]
        );
        assert_eq!(assistant[1]["id"], "toolu_0");
    }

    #[test]
    fn an_unreadable_block_is_an_unreadable_response() {
        let response = read(json!({"content": [{"type": "text"}], "stop_reason": "end_turn"}));
        let e = completion(response, SentSampling::default()).expect_err("no text");
        assert!(e.is_unusable_success(), "{e}");
    }

    /// A Messages response as the API documents it.
    fn response(stop_reason: &str, content: Value) -> Result<Completion, ModelError> {
        completion(
            read(json!({
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": null,
                "usage": {"input_tokens": 10, "output_tokens": 5,
                          "cache_creation_input_tokens": 200, "cache_read_input_tokens": 800},
            })),
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
                cache_write_1h_tokens: 0,
                reasoning_tokens: 0,
            }
        );
    }

    /// The body `model` sends for `messages` and `tools`.
    fn body_for(model: &AnthropicModel, messages: &[Message], tools: &[ToolDefinition]) -> Value {
        let request = ChatRequest {
            messages,
            tools,
            sampling: crate::SamplingSettings::default(),
            sample_index: 0,
        };
        let sent = model.sampling.resolve(&request.sampling);
        serde_json::to_value(model.body(&sent, &request)).expect("serializes")
    }

    #[test]
    fn a_judges_one_turn_is_not_marked_and_a_tool_list_without_system_is() {
        let model = local("anthropic/claude-sonnet-4-5").expect("a model");
        let judge = [
            Message::new(Role::System, "Judge the transcript."),
            Message::new(Role::User, "The transcript, read once."),
        ];
        let body = body_for(&model, &judge, &[]);
        assert_eq!(
            body["system"][0]["cache_control"],
            json!({"type": "ephemeral"})
        );
        assert!(
            body["messages"][0]["content"][0]
                .get("cache_control")
                .is_none()
        );
        // No system prompt: the tools carry the mark, and the opening turn
        // of an agent (it is offered tools) is marked.
        let tool = ToolDefinition {
            name: "send_email".into(),
            description: "Sends".into(),
            parameters: "{}".into(),
        };
        let body = body_for(&model, &[Message::new(Role::User, "Inbox")], &[tool]);
        assert!(body.get("system").is_none());
        assert_eq!(
            body["tools"][0]["cache_control"],
            json!({"type": "ephemeral"})
        );
        assert_eq!(
            body["messages"][0]["content"][0]["cache_control"],
            json!({"type": "ephemeral"})
        );
    }

    #[test]
    fn hour_long_cache_writes_are_counted_apart() {
        let c = completion(
            read(json!({
                "content": [],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 1, "output_tokens": 1,
                          "cache_creation_input_tokens": 300, "cache_read_input_tokens": 0,
                          "cache_creation": {"ephemeral_5m_input_tokens": 100,
                                             "ephemeral_1h_input_tokens": 200}},
            })),
            SentSampling::default(),
        )
        .expect("a completion");
        assert_eq!(
            (c.usage.cache_write_tokens, c.usage.cache_write_1h_tokens),
            (300, 200)
        );
    }

    #[test]
    fn a_refusal_keeps_its_category() {
        let c = completion(
            read(json!({
                "model": "claude-opus-4-7",
                "content": [],
                "stop_reason": "refusal",
                "stop_details": {"type": "refusal", "category": "cyber", "explanation": null},
            })),
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
        let default = crate::SamplingSettings {
            default_temperature: Some(1.0),
            ..crate::SamplingSettings::default()
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

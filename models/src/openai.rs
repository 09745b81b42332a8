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
//! `reasoning`. OpenRouter also returns the reasoning as structured
//! `reasoning_details` (summaries, text with signatures, encrypted blocks),
//! which its docs ("Preserving reasoning blocks") ask to be passed back
//! unmodified, in their order, with the assistant message on later turns:
//! they are kept as they came and sent back so.
//!
//! Every reply is read with its ending (`choices[].finish_reason`, a
//! non-empty `message.refusal`; OpenRouter's `native_finish_reason`, and
//! its `finish_reason: "error"` with an `error` object inside a 200) and
//! the model that served it (`model`, `system_fingerprint`, OpenRouter's
//! `provider`).
//!
//! OpenAI caches every prompt of 1024 tokens or more by itself
//! (platform.openai.com/docs/guides/prompt-caching); each request names its
//! opening in `prompt_cache_key` (the `CompletionCreateParams` field) so
//! that the samples of a condition reach the same cache, and
//! `prompt_cache=24h` adds `prompt_cache_retention: "24h"`. OpenRouter and
//! Together document neither field for this API: they are sent nothing
//! and take no `prompt_cache` setting.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::family::{self, Family};
use super::http::{self, KeyHeader, Provider};
use super::prompt_cache::{self, OpenAiCache};
use super::spec::{Supports, decimal};
use super::{
    ChatRequest, Completion, Model, ModelError, ModelSpec, SamplingPolicy, SpecError, Usage,
};
use crucible_types::native::{Native, RawJson};
use crucible_types::provenance::{CallRecord, SentSampling, Served, Stop, StopKind};
use crucible_types::transcript::{Message, Reply, Role, ToolCall, ToolDefinition};

/// An API that speaks Chat Completions, and where it departs from OpenAI's.
pub(super) struct Dialect {
    pub provider: Provider,
    /// The field the provider's own host takes the output limit in.
    pub official_max_tokens_field: &'static str,
    pub reasoning: Reasoning,
    /// The `reasoning_effort` values its API documents.
    pub reasoning_efforts: &'static [&'static str],
    /// Its models are named `vendor/model` and the vendor's own rules
    /// apply to them (OpenRouter).
    pub routes: bool,
    /// It reports each call's cost in `usage.cost` (OpenRouter, always:
    /// the `usage: {include: true}` request flag is deprecated and has no
    /// effect).
    pub reports_cost: bool,
}

/// `reasoning_effort` as OpenAI's Chat Completions API lists it
/// (`ReasoningEffort`); which a given model accepts is for the API to say.
pub(super) const OPENAI_EFFORTS: &[&str] =
    &["none", "minimal", "low", "medium", "high", "xhigh", "max"];
/// OpenRouter's `reasoning.effort`.
const OPENROUTER_EFFORTS: &[&str] = &["none", "minimal", "low", "medium", "high", "xhigh", "max"];
/// Together's `reasoning_effort`.
const TOGETHER_EFFORTS: &[&str] = &["low", "medium", "high"];

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
    reasoning_efforts: OPENAI_EFFORTS,
    routes: false,
    reports_cost: false,
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
    reasoning_efforts: OPENROUTER_EFFORTS,
    routes: true,
    reports_cost: true,
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
    reasoning_efforts: TOGETHER_EFFORTS,
    routes: false,
    reports_cost: false,
};

/// Settings a model was configured with beyond temperature and length,
/// which its [`SamplingPolicy`] holds.
#[derive(Debug, Clone, PartialEq)]
struct Settings {
    top_p: Option<f32>,
    seed: Option<u64>,
    reasoning_effort: Option<String>,
    thinking_budget: Option<u32>,
    cache: OpenAiCache,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            top_p: None,
            seed: None,
            reasoning_effort: None,
            thinking_budget: None,
            cache: OpenAiCache::Off,
        }
    }
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
    sampling: SamplingPolicy,
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
            reasoning_efforts: dialect.reasoning_efforts,
            thinking_budget: object,
            thinking_modes: false,
            // OpenAI's own API has Responses beside Chat Completions
            // (`Agent::from_spec` sends `api=responses` to its client).
            apis: std::ptr::eq(dialect, &OPENAI),
            prompt_caches: if std::ptr::eq(dialect, &OPENAI) {
                prompt_cache::OPENAI_VALUES
            } else {
                &[]
            },
            prompt_cache_note: if std::ptr::eq(dialect, &OPENAI) {
                prompt_cache::OPENAI_NOTE
            } else {
                "its docs give this API no prompt cache field; it caches as its upstream does"
            },
        })?;
        prompt_cache::check_openai(spec)?;
        if object && spec.reasoning_effort.is_some() && spec.thinking_budget.is_some() {
            return Err(spec.setting_error(
                "thinking_budget",
                format!(
                    "cannot be set with reasoning_effort: {} takes one or the other",
                    dialect.provider.name
                ),
            ));
        }
        let (family, max_temperature) = family_of(dialect, spec);
        family.check(spec, max_temperature)?;
        let connection = dialect.provider.connect(spec)?;
        let reasoning_setting = match (
            dialect.reasoning,
            &spec.reasoning_effort,
            spec.thinking_budget,
        ) {
            (Reasoning::Effort, Some(effort), _) => Some(format!("reasoning_effort={effort}")),
            (Reasoning::Object, Some(effort), _) => Some(format!("reasoning.effort={effort}")),
            (Reasoning::Object, None, Some(budget)) => {
                Some(format!("reasoning.max_tokens={budget}"))
            }
            _ => None,
        };
        let mut sampling = SamplingPolicy::new(max_temperature)
            .family(&family)
            .own(spec.temperature, spec.max_tokens)
            .reasoning(reasoning_setting, spec.thinking_budget, thinks(spec));
        if family.exclusive_top_p && spec.top_p.is_some() {
            sampling = sampling.refusing_temperature(format!(
                "{} takes temperature or top_p, not both, and top_p is set",
                spec.model()
            ));
        }
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
                top_p: spec.top_p,
                seed: spec.seed,
                reasoning_effort: spec.reasoning_effort.clone(),
                thinking_budget: spec.thinking_budget,
                cache: if std::ptr::eq(dialect, &OPENAI) {
                    OpenAiCache::of(spec)
                } else {
                    OpenAiCache::Off
                },
            },
            sampling,
            client: connection.client,
        })
    }

    fn body<'a>(&'a self, sent: &SentSampling, request: &'a ChatRequest<'_>) -> RequestBody<'a> {
        body(
            &self.model,
            self.dialect.reasoning,
            self.max_tokens_field,
            &self.settings,
            sent,
            request,
        )
    }
}

/// The rules of the family a model belongs to, and the highest temperature
/// its API takes. On a router the model's vendor picks the rules
/// (`anthropic/claude-opus-4-7` follows Anthropic's).
fn family_of(dialect: &Dialect, spec: &ModelSpec) -> (Family, f32) {
    let model = spec.model();
    if dialect.routes {
        if model.starts_with("anthropic/") {
            return (family::anthropic(model, thinks(spec)), 1.0);
        }
        if model.starts_with("google/") {
            return (family::gemini(model, spec.thinking_budget), 2.0);
        }
    }
    (family::openai(model, spec.reasoning_effort.as_deref()), 2.0)
}

/// Whether the spec turns reasoning on: an effort other than `none`, or a
/// budget above 0.
fn thinks(spec: &ModelSpec) -> bool {
    spec.reasoning_effort
        .as_deref()
        .is_some_and(|e| e != "none")
        || spec.thinking_budget.is_some_and(|b| b > 0)
}

/// A Chat Completions request, borrowing the transcript: serialized
/// straight into the request body, with no copy of it in between.
#[derive(Serialize)]
struct RequestBody<'a> {
    model: &'a str,
    messages: Vec<RequestMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<RequestTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_effort: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<RequestReasoning<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_cache_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_cache_retention: Option<&'static str>,
}

/// OpenRouter's `reasoning` object: an effort or a token budget.
#[derive(Serialize)]
#[serde(untagged)]
enum RequestReasoning<'a> {
    Effort { effort: &'a str },
    Budget { max_tokens: u32 },
}

#[derive(Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum RequestMessage<'a> {
    System {
        content: &'a str,
    },
    User {
        content: &'a str,
    },
    Assistant {
        /// `null` when the message is only tool calls.
        content: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<RequestToolCall<'a>>,
        /// OpenRouter's, as it sent them.
        #[serde(skip_serializing_if = "Option::is_none")]
        reasoning_details: Option<&'a RawValue>,
    },
    Tool {
        tool_call_id: &'a str,
        content: &'a str,
    },
}

#[derive(Serialize)]
struct RequestToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: RequestFunctionCall<'a>,
}

#[derive(Serialize)]
struct RequestFunctionCall<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Serialize)]
struct RequestTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: RequestFunction<'a>,
}

#[derive(Serialize)]
struct RequestFunction<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a RawValue,
}

/// What a tool whose schema is not valid JSON is offered with.
const EMPTY_SCHEMA: &str = r#"{"type":"object","properties":{}}"#;

fn body<'a>(
    model: &'a str,
    reasoning: Reasoning,
    max_tokens_field: &str,
    settings: &'a Settings,
    sent: &SentSampling,
    request: &'a ChatRequest<'_>,
) -> RequestBody<'a> {
    let max_tokens = sent.max_tokens;
    let official_limit = max_tokens_field == "max_completion_tokens";
    let effort = settings.reasoning_effort.as_deref();
    RequestBody {
        model,
        messages: request.messages.iter().map(wire_message).collect(),
        tools: request.tools.iter().map(wire_tool).collect(),
        temperature: sent.temperature.map(decimal),
        max_tokens: max_tokens.filter(|_| !official_limit),
        max_completion_tokens: max_tokens.filter(|_| official_limit),
        top_p: settings.top_p.map(decimal),
        seed: settings.seed,
        reasoning_effort: effort.filter(|_| reasoning == Reasoning::Effort),
        reasoning: match (reasoning, effort, settings.thinking_budget) {
            (Reasoning::Object, Some(effort), _) => Some(RequestReasoning::Effort { effort }),
            (Reasoning::Object, None, Some(max_tokens)) => {
                Some(RequestReasoning::Budget { max_tokens })
            }
            _ => None,
        },
        prompt_cache_key: settings.cache.key(request.messages, request.tools),
        prompt_cache_retention: settings.cache.retention(),
    }
}

fn wire_message(message: &Message) -> RequestMessage<'_> {
    let content = message.content.as_str();
    match message.role {
        Role::System => RequestMessage::System { content },
        Role::User => RequestMessage::User { content },
        Role::Tool => RequestMessage::Tool {
            tool_call_id: message.tool_call_id.as_deref().unwrap_or_default(),
            content,
        },
        Role::Assistant => RequestMessage::Assistant {
            content: (!content.is_empty() || message.tool_calls.is_empty()).then_some(content),
            tool_calls: message
                .tool_calls
                .iter()
                .map(|c| RequestToolCall {
                    id: &c.id,
                    kind: "function",
                    function: RequestFunctionCall {
                        name: &c.name,
                        arguments: &c.arguments,
                    },
                })
                .collect(),
            reasoning_details: match &message.native {
                Some(Native::ReasoningDetails(details)) => Some(details.raw()),
                _ => None,
            },
        },
    }
}

fn wire_tool(tool: &ToolDefinition) -> RequestTool<'_> {
    let parameters = serde_json::from_str::<&RawValue>(&tool.parameters)
        .or_else(|_| serde_json::from_str::<&RawValue>(EMPTY_SCHEMA))
        .expect("the empty schema is valid JSON");
    RequestTool {
        kind: "function",
        function: RequestFunction {
            name: &tool.name,
            description: &tool.description,
            parameters,
        },
    }
}

#[derive(Deserialize)]
struct WireCompletion {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    system_fingerprint: Option<String>,
    /// OpenRouter: the provider it sent the call on to.
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
    /// An error in place of a reply, inside a 2xx (OpenRouter).
    #[serde(default)]
    error: Option<WireError>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptTokensDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionTokensDetails>,
    /// OpenRouter: what the call cost, in credits (US dollars).
    #[serde(default)]
    cost: Option<f64>,
}

#[derive(Deserialize)]
struct PromptTokensDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
    #[serde(default)]
    cache_write_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct CompletionTokensDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<serde_json::Value>,
}

impl WireError {
    fn describe(&self) -> String {
        let message = self.message.as_deref().unwrap_or("no message given");
        match &self.code {
            Some(code) if !code.is_null() => format!("{message} (code {code})"),
            _ => message.to_owned(),
        }
    }
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    message: Option<WireReply>,
    #[serde(default)]
    finish_reason: Option<String>,
    /// OpenRouter: the upstream model's own finish reason.
    #[serde(default)]
    native_finish_reason: Option<String>,
    /// OpenRouter: the error that ended this choice.
    #[serde(default)]
    error: Option<WireError>,
}

#[derive(Deserialize, Default)]
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
    /// OpenRouter's structured reasoning, as the exact text it came in.
    #[serde(default)]
    reasoning_details: Option<Box<RawValue>>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Vec<WireToolCall>,
}

/// One of OpenRouter's `reasoning_details`, as far as its text shows.
#[derive(Deserialize)]
#[serde(tag = "type")]
enum ReasoningDetail {
    #[serde(rename = "reasoning.text")]
    Text {
        #[serde(default)]
        text: Option<String>,
    },
    #[serde(rename = "reasoning.summary")]
    Summary {
        #[serde(default)]
        summary: Option<String>,
    },
    /// Its `data` is only ever sent back.
    #[serde(rename = "reasoning.encrypted")]
    Encrypted,
    #[serde(other)]
    Other,
}

/// What encrypted reasoning shows in the transcript's reasoning: that there
/// was some, never its data.
const ENCRYPTED_REASONING: &str = "[encrypted reasoning]";

/// The reasoning text `reasoning_details` show, for a reply that came with
/// no reasoning text of its own.
fn details_text(details: &RawValue) -> Option<String> {
    let details: Vec<ReasoningDetail> = serde_json::from_str(details.get()).ok()?;
    let texts: Vec<String> = details
        .into_iter()
        .filter_map(|detail| match detail {
            ReasoningDetail::Text { text } => text,
            ReasoningDetail::Summary { summary } => summary,
            ReasoningDetail::Encrypted => Some(ENCRYPTED_REASONING.to_owned()),
            ReasoningDetail::Other => None,
        })
        .filter(|t| !t.is_empty())
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n"))
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

    fn sampling(&self) -> &SamplingPolicy {
        &self.sampling
    }

    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError> {
        let provider = &self.dialect.provider;
        let sent = self.sampling.resolve(&request.sampling);
        let http = self
            .client
            .post(self.endpoint.clone())
            .json(&self.body(&sent, request));
        let bytes = provider.send(http, self.api_key.as_deref()).await?;
        let mut completion = completion(provider.name, provider.parse(&bytes)?, sent)?;
        if !self.dialect.reports_cost {
            completion.cost_usd = None;
        }
        Ok(completion)
    }
}

impl super::batch::LiveWire for OpenAiModel {
    fn request_body(
        &self,
        request: &ChatRequest<'_>,
    ) -> Result<(String, SentSampling), ModelError> {
        let sent = self.sampling.resolve(&request.sampling);
        let body = serde_json::to_string(&self.body(&sent, request))
            .map_err(|e| super::batch::unserializable(self.dialect.provider.name, &e))?;
        Ok((body, sent))
    }

    fn read_reply(&self, body: &[u8], sent: SentSampling) -> Result<Completion, ModelError> {
        let provider = &self.dialect.provider;
        let mut completion = completion(provider.name, provider.parse(body)?, sent)?;
        if !self.dialect.reports_cost {
            completion.cost_usd = None;
        }
        Ok(completion)
    }

    fn endpoint(&self) -> super::batch::Endpoint<'_> {
        super::batch::Endpoint {
            provider: &self.dialect.provider,
            live_url: &self.endpoint,
            api_key: self.api_key.as_deref(),
            client: &self.client,
        }
    }
}

/// How a choice ended, by its `finish_reason` (OpenAI's five, Together's
/// `eos`); a reply with no finish reason (some compatible servers send
/// none) ended on its own terms: tool calls or an answer.
fn stop_kind(finish_reason: Option<&str>, has_tool_calls: bool) -> Option<StopKind> {
    Some(match finish_reason {
        Some("stop" | "eos") => StopKind::End,
        Some("tool_calls" | "function_call") => StopKind::ToolUse,
        Some("length") => StopKind::Truncated,
        Some("content_filter") => StopKind::Blocked,
        Some("error") => StopKind::Error,
        Some(_) => return None,
        None if has_tool_calls => StopKind::ToolUse,
        None => StopKind::End,
    })
}

fn completion(
    provider: &'static str,
    completion: WireCompletion,
    sent: SentSampling,
) -> Result<Completion, ModelError> {
    if let Some(error) = &completion.error {
        return Err(ModelError::Unfinished {
            provider,
            stop: "error".into(),
            message: error.describe(),
        });
    }
    let usage = completion.usage.as_ref().map_or(Usage::default(), |u| {
        let details = u.prompt_tokens_details.as_ref();
        Usage {
            input_tokens: u.prompt_tokens,
            output_tokens: u.completion_tokens,
            cache_read_tokens: details.and_then(|d| d.cached_tokens).unwrap_or(0),
            cache_write_tokens: details.and_then(|d| d.cache_write_tokens).unwrap_or(0),
            cache_write_1h_tokens: 0,
            reasoning_tokens: u
                .completion_tokens_details
                .as_ref()
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0),
        }
    });
    let cost_usd = completion.usage.as_ref().and_then(|u| u.cost);
    let Some(choice) = completion.choices.into_iter().next() else {
        return Err(ModelError::Malformed {
            provider,
            message: "the response has no choices".into(),
        });
    };
    let message = choice.message.unwrap_or_default();
    let finish_reason = choice.finish_reason.as_deref();
    let refusal = message.refusal.filter(|r| !r.is_empty());
    let kind = if refusal.is_some() {
        Some(StopKind::Refused)
    } else {
        stop_kind(finish_reason, !message.tool_calls.is_empty())
    };
    let stop_name = |detail: &Option<String>| match (finish_reason, detail) {
        (Some(reason), Some(native)) => format!("finish_reason {reason}, native {native}"),
        (Some(reason), None) => format!("finish_reason {reason}"),
        (None, _) => "no finish_reason".to_owned(),
    };
    match kind {
        Some(StopKind::Error) | None => {
            let why = choice.error.as_ref().map_or_else(
                || "the provider gave no reason".to_owned(),
                WireError::describe,
            );
            return Err(ModelError::Unfinished {
                provider,
                stop: stop_name(&choice.native_finish_reason),
                message: match kind {
                    None => format!("an unknown finish reason; {why}"),
                    Some(_) => why,
                },
            });
        }
        Some(_) => {}
    }
    let stop = Stop::new(kind.unwrap_or(StopKind::End), finish_reason)
        .with_detail(choice.native_finish_reason.clone());
    let text = match (message.content, refusal) {
        (Some(content), _) if !content.is_empty() => content,
        (_, Some(refusal)) => refusal,
        (content, None) => content.unwrap_or_default(),
    };
    let details = message
        .reasoning_details
        .filter(|d| !matches!(d.get().trim(), "null" | "[]"));
    let reasoning = [message.reasoning_content, message.reasoning]
        .into_iter()
        .flatten()
        .find(|r| !r.is_empty())
        .or_else(|| details.as_deref().and_then(details_text));
    let reply = Reply {
        text,
        reasoning,
        native: details.map(|d| Native::ReasoningDetails(RawJson::new(d))),
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
        call: Some(Box::new(CallRecord {
            stop,
            served: Served {
                model: completion.model,
                fingerprint: completion.system_fingerprint,
                upstream: completion.provider,
                response_id: completion.id,
                batch: None,
            },
            sent,
        })),
    };
    Ok(Completion {
        reply,
        usage,
        cost_usd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SamplingSettings;
    use serde_json::{Value, json};

    fn request() -> ChatRequest<'static> {
        ChatRequest {
            // Leaked: a test's request lives as long as the test.
            messages: vec![Message::new(Role::User, "hi")].leak(),
            tools: &[],
            sampling: SamplingSettings::default(),
            sample_index: 0,
        }
    }

    /// A request body as the provider receives it, sent at temperature
    /// 0.5 with 900 tokens.
    fn body_json(
        model: &str,
        reasoning: Reasoning,
        max_tokens_field: &str,
        settings: &Settings,
        request: &ChatRequest<'_>,
    ) -> Value {
        let sent = SentSampling {
            temperature: Some(0.5),
            max_tokens: Some(900),
            ..SentSampling::default()
        };
        serde_json::to_value(body(
            model,
            reasoning,
            max_tokens_field,
            settings,
            &sent,
            request,
        ))
        .expect("a request body serializes")
    }

    /// The body a model configured by `spec` (on a local server) sends for
    /// `sampling`, and what it records as sent.
    fn model_body(spec: &str, sampling: SamplingSettings) -> (Value, SentSampling) {
        let spec = ModelSpec::parse(&format!("{spec},base_url=http://127.0.0.1:9/v1"))
            .expect("a valid spec");
        let model = OpenAiModel::from_spec(&spec).expect("a model");
        let mut r = request();
        r.sampling = sampling;
        let sent = model.sampling.resolve(&r.sampling);
        let body = serde_json::to_value(model.body(&sent, &r)).expect("a body");
        (body, sent)
    }

    #[test]
    fn messages_and_tools_take_the_documented_shapes() {
        let mut call = Message::new(Role::Assistant, "");
        call.tool_calls = vec![ToolCall {
            id: "c1".into(),
            name: "send".into(),
            arguments: "{\"to\":\"x\"}".into(),
        }];
        let mut result = Message::new(Role::Tool, "sent");
        result.tool_call_id = Some("c1".into());
        let messages = vec![
            Message::new(Role::System, "be good"),
            Message::new(Role::User, "hi"),
            call,
            result,
        ];
        let tools = vec![
            ToolDefinition {
                name: "send".into(),
                description: "Send.".into(),
                parameters: r#"{"type":"object","properties":{"to":{"type":"string"}}}"#.into(),
            },
            ToolDefinition {
                name: "broken".into(),
                description: "Its schema is not JSON.".into(),
                parameters: "{not json".into(),
            },
        ];
        let request = ChatRequest {
            messages: &messages,
            tools: &tools,
            sampling: SamplingSettings::default(),
            sample_index: 0,
        };
        let sent = SentSampling::default();
        let b = serde_json::to_value(body(
            "m",
            Reasoning::Effort,
            "max_tokens",
            &Settings::default(),
            &sent,
            &request,
        ))
        .expect("a request body serializes");
        assert_eq!(
            b["messages"],
            json!([
                {"role": "system", "content": "be good"},
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c1", "type": "function",
                     "function": {"name": "send", "arguments": "{\"to\":\"x\"}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "sent"},
            ])
        );
        assert_eq!(
            b["tools"][0]["function"]["parameters"]["properties"]["to"]["type"],
            "string"
        );
        assert_eq!(
            b["tools"][1]["function"]["parameters"],
            json!({"type": "object", "properties": {}})
        );
        for absent in ["temperature", "max_tokens", "top_p", "seed", "reasoning"] {
            assert!(b.get(absent).is_none(), "{absent}: {b}");
        }
    }

    fn settings() -> Settings {
        Settings {
            top_p: Some(0.9),
            seed: Some(7),
            reasoning_effort: None,
            thinking_budget: None,
            cache: OpenAiCache::Off,
        }
    }

    #[test]
    fn openrouter_takes_reasoning_as_an_object() {
        let mut s = settings();
        s.reasoning_effort = Some("low".into());
        let b = body_json("m", Reasoning::Object, "max_tokens", &s, &request());
        assert_eq!(b["reasoning"], json!({"effort": "low"}));
        assert!(b.get("reasoning_effort").is_none());
        assert_eq!(b["max_tokens"], 900);
        assert_eq!(b["top_p"], json!(0.9));
        assert_eq!(b["seed"], 7);

        let mut s = settings();
        s.thinking_budget = Some(2048);
        let b = body_json("m", Reasoning::Object, "max_tokens", &s, &request());
        assert_eq!(b["reasoning"], json!({"max_tokens": 2048}));
    }

    #[test]
    fn openai_and_together_take_a_top_level_effort() {
        let mut s = settings();
        s.reasoning_effort = Some("high".into());
        let b = body_json(
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
        let pinned = SamplingSettings {
            temperature: Some(0.0),
            max_tokens: Some(64),
            ..SamplingSettings::default()
        };
        let (b, sent) = model_body("openai/gpt-4.1,temperature=0.5,max_tokens=900", pinned);
        assert_eq!(b["temperature"], 0.0);
        assert_eq!(b["max_tokens"], 64);
        assert_eq!(sent.temperature, Some(0.0));
        // The run's default gives way to the model's own.
        let default = SamplingSettings {
            default_temperature: Some(1.0),
            ..SamplingSettings::default()
        };
        let (b, _) = model_body("openai/gpt-4.1,temperature=0.5", default.clone());
        assert_eq!(b["temperature"], 0.5);
        let (b, _) = model_body("openai/gpt-4.1", default);
        assert_eq!(b["temperature"], 1.0);
    }

    #[test]
    fn a_reasoning_model_is_sent_no_temperature_and_that_is_recorded() {
        let pinned = SamplingSettings {
            temperature: Some(0.0),
            ..SamplingSettings::default()
        };
        let (b, sent) = model_body("openai/o3,reasoning_effort=high", pinned.clone());
        assert!(b.get("temperature").is_none(), "{b}");
        assert_eq!(b["reasoning_effort"], "high");
        assert_eq!(sent.temperature, None);
        assert_eq!(sent.reasoning.as_deref(), Some("reasoning_effort=high"));
        assert!(
            sent.note
                .is_some_and(|n| n.contains("takes only its default"))
        );
        // GPT-5.1 at effort `none` does not reason, and takes one.
        let (b, _) = model_body("openai/gpt-5.1,reasoning_effort=none", pinned);
        assert_eq!(b["temperature"], 0.0);
    }

    #[test]
    fn an_impossible_temperature_is_refused_before_anything_is_sent() {
        let refused = |spec: &str| {
            OpenAiModel::from_spec(
                &ModelSpec::parse(&format!("{spec},base_url=http://127.0.0.1:9/v1"))
                    .expect("a valid spec"),
            )
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
        };
        let e = refused("openai/o3,temperature=0");
        assert!(
            e.contains("model `openai/o3`: temperature cannot be set for o3")
                && e.contains("only its default"),
            "{e}"
        );
        assert!(
            refused("openai/o3,temperature=1").is_empty(),
            "the default is fine"
        );
        let e = ModelSpec::parse("openai/gpt-4.1,reasoning_effort=extreme")
            .expect_err("no provider lists it")
            .to_string();
        assert!(
            e.contains("must be one of none, minimal, low, medium, high, xhigh, max"),
            "{e}"
        );
        let e = OpenAiModel::from_spec_with(
            &TOGETHER,
            &ModelSpec::parse("together/x,reasoning_effort=max,base_url=http://127.0.0.1:9/v1")
                .expect("a valid spec"),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            e.contains("must be one of low, medium, high for together"),
            "{e}"
        );
        let e = OpenAiModel::from_spec_with(
            &OPENROUTER,
            &ModelSpec::parse(
                "openrouter/anthropic/claude-opus-4-7,temperature=0.2,base_url=http://127.0.0.1:9/v1",
            )
            .expect("a valid spec"),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("accepts no sampling settings"), "{e}");
    }

    /// A completion with one choice, as the API documents it.
    fn wire(choice: Value) -> WireCompletion {
        serde_json::from_value(json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "gpt-4.1-2025-04-14",
            "system_fingerprint": "fp_abc",
            "choices": [choice],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20,
                      "prompt_tokens_details": {"cached_tokens": 60}},
        }))
        .expect("parses")
    }

    fn ended(finish_reason: &str, message: Value) -> Result<Completion, ModelError> {
        completion(
            "openai",
            wire(json!({"index": 0, "finish_reason": finish_reason, "message": message})),
            SentSampling::default(),
        )
    }

    #[test]
    fn every_finish_reason_is_read_with_the_model_that_served_it() {
        let text = json!({"role": "assistant", "content": "Done."});
        for (reason, kind) in [
            ("stop", StopKind::End),
            ("length", StopKind::Truncated),
            ("content_filter", StopKind::Blocked),
            ("tool_calls", StopKind::ToolUse),
            ("function_call", StopKind::ToolUse),
            ("eos", StopKind::End),
        ] {
            let c = ended(reason, text.clone()).expect("a completion");
            let call = c.call().expect("a record");
            assert_eq!(call.stop.kind, kind, "{reason}");
            assert_eq!(call.stop.raw.as_deref(), Some(reason));
            assert_eq!(call.served.model.as_deref(), Some("gpt-4.1-2025-04-14"));
            assert_eq!(call.served.fingerprint.as_deref(), Some("fp_abc"));
            assert_eq!(call.served.response_id.as_deref(), Some("chatcmpl-1"));
            assert_eq!(c.usage.cache_read_tokens, 60);
            assert_eq!(c.usage.input_tokens, 100);
        }
        let e = ended("mystery", text).expect_err("an unknown finish reason");
        assert!(e.to_string().contains("finish_reason mystery"), "{e}");
        assert!(e.is_unusable_success());
    }

    #[test]
    fn a_refusal_is_a_refused_reply_whatever_the_finish_reason() {
        let c = ended(
            "stop",
            json!({"role": "assistant", "content": null, "refusal": "I can't help with that."}),
        )
        .expect("a completion");
        assert_eq!(c.reply.text, "I can't help with that.");
        assert_eq!(c.reply.stop_kind(), Some(StopKind::Refused));
    }

    #[test]
    fn openrouter_errors_inside_a_200_are_failures_naming_the_providers_message() {
        let e = completion(
            "openrouter",
            wire(json!({
                "index": 0, "finish_reason": "error", "native_finish_reason": "error",
                "message": {"role": "assistant", "content": ""},
                "error": {"code": 502, "message": "Upstream provider overloaded"},
            })),
            SentSampling::default(),
        )
        .expect_err("no reply");
        let text = e.to_string();
        assert!(
            text.contains("openrouter ended the reply on an error")
                && text.contains("Upstream provider overloaded")
                && text.contains("code 502"),
            "{text}"
        );
        let top: WireCompletion = serde_json::from_value(json!({
            "error": {"code": 429, "message": "Rate limited upstream"},
        }))
        .expect("parses");
        let e = completion("openrouter", top, SentSampling::default()).expect_err("no reply");
        assert!(e.to_string().contains("Rate limited upstream"), "{e}");
    }

    #[test]
    fn openrouter_names_its_upstream_and_its_native_reason() {
        let wire: WireCompletion = serde_json::from_value(json!({
            "id": "gen-1", "provider": "Together", "model": "meta-llama/llama-3.1-70b-instruct",
            "choices": [{"finish_reason": "stop", "native_finish_reason": "eos",
                         "message": {"role": "assistant", "content": "Done."}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2, "cost": 0.00042},
        }))
        .expect("parses");
        let c = completion("openrouter", wire, SentSampling::default()).expect("a completion");
        let call = c.call().expect("a record");
        assert_eq!(
            call.served.label(),
            "meta-llama/llama-3.1-70b-instruct via Together"
        );
        assert_eq!(call.stop.detail.as_deref(), Some("eos"));
        assert_eq!(c.cost_usd, Some(0.00042));
    }

    #[test]
    fn openrouter_reasoning_details_go_back_as_they_came() {
        let details = r#"[{"type":"reasoning.text","text":"Leverage.","signature":"sig-1","format":"anthropic-claude-v1","index":0},{"type":"reasoning.encrypted","data":"gAAAAB","format":"anthropic-claude-v1","index":1}]"#;
        let text = format!(
            r#"{{"choices":[{{"finish_reason":"tool_calls","message":{{"role":"assistant","content":null,
                "reasoning_details":{details},
                "tool_calls":[{{"id":"c1","type":"function","function":{{"name":"send","arguments":"{{}}"}}}}]}}}}]}}"#
        );
        let wire: WireCompletion = serde_json::from_str(&text).expect("parses");
        let reply = completion("openrouter", wire, SentSampling::default())
            .expect("a completion")
            .reply;
        // No `reasoning` text came: the details show theirs.
        assert_eq!(
            reply.reasoning.as_deref(),
            Some("Leverage.\n[encrypted reasoning]")
        );
        let messages = vec![Message::new(Role::User, "hi"), Message::from_reply(&reply)];
        let request = ChatRequest {
            messages: &messages,
            tools: &[],
            sampling: SamplingSettings::default(),
            sample_index: 0,
        };
        let sent = SentSampling::default();
        let b = serde_json::to_string(&body(
            "m",
            Reasoning::Object,
            "max_tokens",
            &Settings::default(),
            &sent,
            &request,
        ))
        .expect("serializes");
        assert!(
            b.contains(&format!(r#""reasoning_details":{details}"#)),
            "{b}"
        );
        // A message without details sends none.
        let plain = serde_json::to_value(wire_message(&Message::new(Role::Assistant, "ok")))
            .expect("serializes");
        assert!(plain.get("reasoning_details").is_none(), "{plain}");
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
        let c = completion("openrouter", wire, SentSampling::default()).expect("a completion");
        assert_eq!(c.reply.text, "answer");
        assert_eq!(c.reply.reasoning.as_deref(), Some("step by step"));
    }
}

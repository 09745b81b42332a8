//! OpenAI's Responses API, `POST /v1/responses`, for `openai` models set
//! to `api=responses`.
//!
//! Wire format as the API reference and the SDK's types give it
//! (`ResponseCreateParams`, `Response`): the conversation goes in `input`
//! as items — `message` items of role `system`, `user` or `assistant`, the
//! model's `function_call` items and their `function_call_output` items;
//! tools are function tools (`{"type": "function", "name", "description",
//! "parameters", "strict"}`); the output limit is `max_output_tokens`;
//! reasoning settings sit in `reasoning: {effort, summary}`.
//!
//! Nothing is kept on OpenAI's side (`store: false`): each request carries
//! the whole conversation. A reasoning model's reasoning comes back as a
//! `reasoning` item whose `encrypted_content` (asked for with
//! `include: ["reasoning.encrypted_content"]`) is what lets the next turn
//! continue from it statelessly, so every earlier assistant turn goes back
//! as the `output` items the API sent, unchanged and in order (see
//! `Message::native`). The summary (`summary: "auto"`) is kept as the
//! reply's reasoning, for classifiers to read.
//!
//! Every reply is read with its ending — `status` (`completed`,
//! `incomplete` with `incomplete_details.reason` `max_output_tokens` or
//! `content_filter`, `failed` with its `error`) and any `refusal` content —
//! the `model` that served it, its `id`, and `usage` (`input_tokens`,
//! `output_tokens`, `input_tokens_details.cached_tokens`,
//! `output_tokens_details.reasoning_tokens`).
//!
//! As with Chat Completions, each request names its opening in
//! `prompt_cache_key` (`ResponseCreateParams`) so that the samples of a
//! condition reach the same prompt cache; `prompt_cache=24h` adds
//! `prompt_cache_retention: "24h"` (see `prompt_cache`).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::family;
use super::http;
use super::openai::{OPENAI, OPENAI_EFFORTS};
use super::prompt_cache::{self, OpenAiCache};
use super::spec::{Supports, decimal};
use super::wire::{self, Piece};
use super::{
    ChatRequest, Completion, Model, ModelError, ModelSpec, SamplingPolicy, SpecError, Usage,
};
use crucible_types::native::Native;
use crucible_types::provenance::{CallRecord, SentSampling, Served, Stop, StopKind};
use crucible_types::transcript::{Message, Reply, Role, ToolCall, ToolDefinition};

/// The API's temperatures run from 0 to 2.
const MAX_TEMPERATURE: f32 = 2.0;
/// What a request includes so that reasoning can go back without state on
/// OpenAI's side.
const ENCRYPTED_REASONING: &str = "reasoning.encrypted_content";

pub struct ResponsesModel {
    id: String,
    model: String,
    endpoint: reqwest::Url,
    /// Sent as a bearer token; never logged, stored or shown.
    api_key: Option<String>,
    top_p: Option<f32>,
    reasoning: ReasoningConfig,
    sampling: SamplingPolicy,
    cache: OpenAiCache,
    client: reqwest::Client,
}

/// What a model is sent as `reasoning`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ReasoningConfig {
    /// No `reasoning` object: a model that does not reason refuses one.
    None,
    /// `{"effort": "none"}`: a model that can reason, told not to; there is
    /// no summary or encrypted reasoning to ask for.
    Off,
    /// `{"effort"?, "summary": "auto"}`, with encrypted reasoning
    /// included.
    On { effort: Option<String> },
}

impl ReasoningConfig {
    fn wire(&self) -> Option<Value> {
        match self {
            ReasoningConfig::None => None,
            ReasoningConfig::Off => Some(json!({"effort": "none"})),
            ReasoningConfig::On { effort: None } => Some(json!({"summary": "auto"})),
            ReasoningConfig::On {
                effort: Some(effort),
            } => Some(json!({"effort": effort, "summary": "auto"})),
        }
    }

    /// As recorded in the sampling sent.
    fn describe(&self) -> Option<String> {
        match self {
            ReasoningConfig::None => None,
            ReasoningConfig::Off => Some("reasoning.effort=none".into()),
            ReasoningConfig::On { effort: None } => Some("reasoning.summary=auto".into()),
            ReasoningConfig::On {
                effort: Some(effort),
            } => Some(format!("reasoning.effort={effort}, reasoning.summary=auto")),
        }
    }
}

impl ResponsesModel {
    pub fn from_spec(spec: &ModelSpec) -> Result<Self, SpecError> {
        // `ResponseCreateParams` has no seed; say so in this API's terms
        // rather than as if OpenAI had none anywhere.
        if let Some(seed) = spec.seed {
            return Err(spec.setting_error(
                "seed",
                format!(
                    "has no place in the Responses API (api=responses), not {seed}; \
                     drop it, or use api=chat"
                ),
            ));
        }
        spec.check_supported(Supports {
            top_p: true,
            seed: true,
            reasoning_efforts: OPENAI_EFFORTS,
            thinking_budget: false,
            thinking_modes: false,
            apis: true,
            prompt_caches: prompt_cache::OPENAI_VALUES,
            prompt_cache_note: prompt_cache::OPENAI_NOTE,
        })?;
        prompt_cache::check_openai(spec)?;
        let effort = spec.reasoning_effort.clone();
        let family = family::openai(spec.model(), effort.as_deref());
        family.check(spec, MAX_TEMPERATURE)?;
        let reasoning = match effort {
            Some(effort) if effort == "none" => ReasoningConfig::Off,
            Some(effort) => ReasoningConfig::On {
                effort: Some(effort),
            },
            None if family.reasoning => ReasoningConfig::On { effort: None },
            None => ReasoningConfig::None,
        };
        let thinks = matches!(reasoning, ReasoningConfig::On { .. });
        let sampling = SamplingPolicy::new(MAX_TEMPERATURE)
            .family(&family)
            .own(spec.temperature, spec.max_tokens)
            .reasoning(reasoning.describe(), None, thinks);
        let connection = OPENAI.provider.connect(spec)?;
        Ok(Self {
            id: spec.id.clone(),
            model: spec.model().to_owned(),
            endpoint: http::endpoint(
                &spec.id,
                format!("{}/responses", connection.base_url.trim_end_matches('/')),
            )?,
            api_key: connection.api_key,
            top_p: spec.top_p,
            reasoning,
            sampling,
            cache: OpenAiCache::of(spec),
            client: connection.client,
        })
    }

    fn body<'a>(&'a self, sent: &SentSampling, request: &'a ChatRequest<'_>) -> Body<'a> {
        let include = match self.reasoning {
            ReasoningConfig::On { .. } => vec![ENCRYPTED_REASONING],
            ReasoningConfig::None | ReasoningConfig::Off => Vec::new(),
        };
        Body {
            model: &self.model,
            input: request.messages.iter().flat_map(input_items).collect(),
            tools: request.tools.iter().map(wire_tool).collect(),
            temperature: sent.temperature.map(decimal),
            top_p: self.top_p.map(decimal),
            max_output_tokens: sent.max_tokens,
            reasoning: self.reasoning.wire(),
            include,
            store: false,
            prompt_cache_key: self.cache.key(request.messages, request.tools),
            prompt_cache_retention: self.cache.retention(),
        }
    }
}

/// A Responses request. Earlier assistant turns carry their output items
/// as the API sent them, so the body is serialized straight to bytes.
#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    input: Vec<Piece<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    include: Vec<&'static str>,
    store: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_cache_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_cache_retention: Option<&'static str>,
}

/// One message as input items. An assistant message the API made goes
/// back as its output items, as they came; one it did not make (a
/// scenario's own) as an assistant message and its function calls.
fn input_items(message: &Message) -> Vec<Piece<'_>> {
    let text = |role: &str| {
        Piece::from(json!({"type": "message", "role": role, "content": message.content}))
    };
    match message.role {
        Role::System => vec![text("system")],
        Role::User => vec![text("user")],
        Role::Tool => vec![Piece::from(json!({
            "type": "function_call_output",
            "call_id": message.tool_call_id.clone().unwrap_or_default(),
            "output": message.content,
        }))],
        Role::Assistant => {
            if let Some(Native::Responses(items)) = &message.native {
                return items.iter().map(Piece::raw).collect();
            }
            let mut items = Vec::new();
            if !message.content.is_empty() {
                items.push(text("assistant"));
            }
            for call in &message.tool_calls {
                items.push(Piece::from(json!({
                    "type": "function_call",
                    "call_id": call.id,
                    "name": call.name,
                    "arguments": call.arguments,
                })));
            }
            items
        }
    }
}

/// A function tool. Not strict: the API's strict mode requires every
/// property listed as required and no others allowed, which a scenario's
/// schema need not be, and Chat Completions (the default) is not strict
/// either.
fn wire_tool(tool: &ToolDefinition) -> Value {
    let parameters: Value = serde_json::from_str(&tool.parameters)
        .unwrap_or_else(|_| json!({"type": "object", "properties": {}}));
    json!({
        "type": "function",
        "name": tool.name,
        "description": tool.description,
        "parameters": parameters,
        "strict": false,
    })
}

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    error: Option<WireError>,
    #[serde(default)]
    incomplete_details: Option<IncompleteDetails>,
    /// Each item as the exact text it came in: it goes back so.
    #[serde(default)]
    output: Vec<Box<RawValue>>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct IncompleteDetails {
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    input_tokens_details: Option<InputTokensDetails>,
    #[serde(default)]
    output_tokens_details: Option<OutputTokensDetails>,
}

#[derive(Deserialize)]
struct InputTokensDetails {
    #[serde(default)]
    cached_tokens: u64,
    #[serde(default)]
    cache_write_tokens: u64,
}

#[derive(Deserialize)]
struct OutputTokensDetails {
    #[serde(default)]
    reasoning_tokens: u64,
}

/// An output item, as far as the transcript reads it.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum OutputItem {
    Message {
        #[serde(default)]
        content: Vec<OutputContent>,
    },
    FunctionCall {
        call_id: String,
        name: String,
        #[serde(default)]
        arguments: String,
    },
    /// Its `encrypted_content` is only ever sent back.
    Reasoning {
        #[serde(default)]
        summary: Vec<ReasoningText>,
        #[serde(default)]
        content: Vec<ReasoningText>,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum OutputContent {
    OutputText {
        text: String,
    },
    Refusal {
        refusal: String,
    },
    #[serde(other)]
    Other,
}

/// A `summary_text` or `reasoning_text` part.
#[derive(Deserialize)]
struct ReasoningText {
    #[serde(default)]
    text: String,
}

#[async_trait::async_trait]
impl Model for ResponsesModel {
    fn id(&self) -> &str {
        &self.id
    }

    fn sampling(&self) -> &SamplingPolicy {
        &self.sampling
    }

    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError> {
        let provider = &OPENAI.provider;
        let sent = self.sampling.resolve(&request.sampling);
        let http = self
            .client
            .post(self.endpoint.clone())
            .json(&self.body(&sent, request));
        let bytes = provider.send(http, self.api_key.as_deref()).await?;
        completion(provider.parse(&bytes)?, sent)
    }
}

impl super::batch::LiveWire for ResponsesModel {
    fn request_body(
        &self,
        request: &ChatRequest<'_>,
    ) -> Result<(String, SentSampling), ModelError> {
        let sent = self.sampling.resolve(&request.sampling);
        let body = serde_json::to_string(&self.body(&sent, request))
            .map_err(|e| super::batch::unserializable(OPENAI.provider.name, &e))?;
        Ok((body, sent))
    }

    fn read_reply(&self, body: &[u8], sent: SentSampling) -> Result<Completion, ModelError> {
        completion(OPENAI.provider.parse(body)?, sent)
    }

    fn endpoint(&self) -> super::batch::Endpoint<'_> {
        super::batch::Endpoint {
            provider: &OPENAI.provider,
            live_url: &self.endpoint,
            api_key: self.api_key.as_deref(),
            client: &self.client,
        }
    }
}

fn unfinished(stop: String, message: String) -> ModelError {
    ModelError::Unfinished {
        provider: OPENAI.provider.name,
        stop,
        message,
    }
}

/// How a response ended, by its `status` and `incomplete_details.reason`;
/// `None` for a status or reason the API does not document. A refusal in
/// the output is a refused reply whatever the status.
fn stop_kind(
    status: Option<&str>,
    reason: Option<&str>,
    refused: bool,
    has_calls: bool,
) -> Option<StopKind> {
    Some(match (status, reason) {
        _ if refused => StopKind::Refused,
        // Some compatible servers send no status: the output says.
        (Some("completed") | None, _) if has_calls => StopKind::ToolUse,
        (Some("completed") | None, _) => StopKind::End,
        (Some("incomplete"), Some("max_output_tokens")) => StopKind::Truncated,
        (Some("incomplete"), Some("content_filter")) => StopKind::Blocked,
        (Some("failed"), _) => StopKind::Error,
        _ => return None,
    })
}

fn completion(response: WireResponse, sent: SentSampling) -> Result<Completion, ModelError> {
    let items: Vec<OutputItem> =
        wire::parse_each(&response.output).map_err(|e| ModelError::Malformed {
            provider: OPENAI.provider.name,
            message: format!("an output item cannot be read: {e}"),
        })?;
    let mut reply = Reply::default();
    let mut refusals = Vec::new();
    let mut reasoning = Vec::new();
    for item in items {
        match item {
            OutputItem::Message { content } => {
                for part in content {
                    match part {
                        OutputContent::OutputText { text } => reply.text.push_str(&text),
                        OutputContent::Refusal { refusal } => refusals.push(refusal),
                        OutputContent::Other => {}
                    }
                }
            }
            OutputItem::FunctionCall {
                call_id,
                name,
                arguments,
            } => reply.tool_calls.push(ToolCall {
                id: call_id,
                name,
                arguments,
            }),
            // The summary is what the API shows of its reasoning; a model
            // that returns its reasoning text shows that where it gives
            // no summary.
            OutputItem::Reasoning { summary, content } => {
                let shown = if summary.is_empty() { content } else { summary };
                reasoning.extend(shown.into_iter().map(|t| t.text).filter(|t| !t.is_empty()));
            }
            OutputItem::Other => {}
        }
    }
    if !reasoning.is_empty() {
        reply.reasoning = Some(reasoning.join("\n"));
    }
    let refused = !refusals.is_empty();
    if refused && reply.text.is_empty() {
        reply.text = refusals.join("\n");
    }
    let status = response.status.as_deref();
    let reason = response
        .incomplete_details
        .as_ref()
        .and_then(|d| d.reason.as_deref());
    let stop_name = || match (status, reason) {
        (Some(status), Some(reason)) => format!("status {status}, reason {reason}"),
        (Some(status), None) => format!("status {status}"),
        (None, _) => "no status".to_owned(),
    };
    match stop_kind(status, reason, refused, !reply.tool_calls.is_empty()) {
        None => {
            return Err(unfinished(
                stop_name(),
                "a status the API does not document for a finished response".into(),
            ));
        }
        Some(StopKind::Error) => {
            let why = response.error.map_or_else(
                || "the API gave no error".to_owned(),
                |e| match (e.message, e.code) {
                    (Some(message), Some(code)) => format!("{message} (code {code})"),
                    (message, code) => message.or(code).unwrap_or_default(),
                },
            );
            return Err(unfinished(stop_name(), why));
        }
        Some(kind) => {
            reply.call = Some(Box::new(CallRecord {
                stop: Stop::new(kind, status).with_detail(reason.map(str::to_owned)),
                served: Served {
                    model: response.model,
                    response_id: response.id,
                    ..Served::default()
                },
                sent,
            }));
        }
    }
    if !response.output.is_empty() {
        reply.native = Some(Native::Responses(wire::keep(response.output)));
    }
    let usage = response.usage.map_or(Usage::default(), |u| Usage {
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        cache_read_tokens: u
            .input_tokens_details
            .as_ref()
            .map_or(0, |d| d.cached_tokens),
        cache_write_tokens: u
            .input_tokens_details
            .as_ref()
            .map_or(0, |d| d.cache_write_tokens),
        cache_write_1h_tokens: 0,
        reasoning_tokens: u
            .output_tokens_details
            .as_ref()
            .map_or(0, |d| d.reasoning_tokens),
    });
    Ok(Completion {
        reply,
        usage,
        cost_usd: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SamplingSettings;

    fn model(spec: &str) -> Result<ResponsesModel, SpecError> {
        ResponsesModel::from_spec(
            &ModelSpec::parse(&format!(
                "{spec},api=responses,base_url=http://127.0.0.1:9/v1"
            ))
            .expect("a valid spec"),
        )
    }

    fn read(text: &str) -> Result<Completion, ModelError> {
        completion(
            serde_json::from_str(text).expect("parses"),
            SentSampling::default(),
        )
    }

    /// A response as the API documents it, with these output items and
    /// this ending.
    fn response(output: &str, status: &str, incomplete: Option<&str>) -> String {
        let details = incomplete.map_or("null".to_owned(), |r| format!(r#"{{"reason":"{r}"}}"#));
        format!(
            r#"{{"id":"resp_1","object":"response","created_at":1750000000,"model":"o4-mini-2025-04-16",
            "status":"{status}","error":null,"incomplete_details":{details},"output":[{output}],
            "usage":{{"input_tokens":100,"input_tokens_details":{{"cached_tokens":40}},
                      "output_tokens":30,"output_tokens_details":{{"reasoning_tokens":20}},"total_tokens":130}}}}"#
        )
    }

    const REASONING: &str = r#"{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"He can stop the wipe."}],"encrypted_content":"gAAAAABo-sealed"}"#;
    const CALL: &str = r#"{"id":"fc_1","type":"function_call","status":"completed","arguments":"{\"to\":\"a\"}","call_id":"call_1","name":"send_email"}"#;

    #[test]
    fn a_turn_reads_reasoning_calls_usage_and_goes_back_as_it_came() {
        let c = read(&response(&format!("{REASONING},{CALL}"), "completed", None))
            .expect("a completion");
        assert_eq!(c.reply.reasoning.as_deref(), Some("He can stop the wipe."));
        assert_eq!(c.reply.tool_calls[0].id, "call_1");
        assert_eq!(c.reply.tool_calls[0].arguments, r#"{"to":"a"}"#);
        let call = c.call().expect("a record");
        assert_eq!(call.stop.kind, StopKind::ToolUse);
        assert_eq!(call.stop.raw.as_deref(), Some("completed"));
        assert_eq!(call.served.model.as_deref(), Some("o4-mini-2025-04-16"));
        assert_eq!(call.served.response_id.as_deref(), Some("resp_1"));
        assert_eq!(
            c.usage,
            Usage {
                input_tokens: 100,
                output_tokens: 30,
                cache_read_tokens: 40,
                cache_write_tokens: 0,
                cache_write_1h_tokens: 0,
                reasoning_tokens: 20,
            }
        );

        let model = model("openai/o4-mini,reasoning_effort=high").expect("a model");
        let mut result = Message::new(Role::Tool, "sent");
        result.tool_call_id = Some("call_1".into());
        let messages = vec![
            Message::new(Role::System, "be good"),
            Message::new(Role::User, "hi"),
            Message::from_reply(&c.reply),
            result,
        ];
        let request = ChatRequest {
            messages: &messages,
            tools: &[ToolDefinition {
                name: "send_email".into(),
                description: "Send.".into(),
                parameters: r#"{"type":"object"}"#.into(),
            }],
            sampling: SamplingSettings::default(),
            sample_index: 0,
        };
        let sent = model.sampling.resolve(&request.sampling);
        let text = serde_json::to_string(&model.body(&sent, &request)).expect("serializes");
        assert!(text.contains(&format!("{REASONING},{CALL}")), "{text}");
        let body: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(
            body["input"][0],
            json!({"type": "message", "role": "system", "content": "be good"})
        );
        assert_eq!(
            body["input"][4],
            json!({"type": "function_call_output", "call_id": "call_1", "output": "sent"})
        );
        assert_eq!(
            body["tools"][0],
            json!({"type": "function", "name": "send_email", "description": "Send.",
                   "parameters": {"type": "object"}, "strict": false})
        );
        assert_eq!(
            body["reasoning"],
            json!({"effort": "high", "summary": "auto"})
        );
        assert_eq!(body["include"], json!(["reasoning.encrypted_content"]));
        assert_eq!(body["store"], false);
        assert!(body.get("temperature").is_none(), "{body}");
        assert_eq!(
            sent.reasoning.as_deref(),
            Some("reasoning.effort=high, reasoning.summary=auto")
        );
    }

    #[test]
    fn each_ending_is_read_in_the_hosts_terms() {
        let text = r#"{"id":"msg_1","type":"message","role":"assistant","status":"incomplete","content":[{"type":"output_text","text":"First I","annotations":[]}]}"#;
        let cut =
            read(&response(text, "incomplete", Some("max_output_tokens"))).expect("an outcome");
        let stop = &cut.call().expect("a record").stop;
        assert_eq!(stop.kind, StopKind::Truncated);
        assert_eq!(
            stop.describe("status"),
            "truncated (status incomplete: max_output_tokens)"
        );
        assert_eq!(cut.reply.text, "First I");
        let filtered =
            read(&response("", "incomplete", Some("content_filter"))).expect("an outcome");
        assert_eq!(filtered.reply.stop_kind(), Some(StopKind::Blocked));
        let refusal = r#"{"id":"msg_2","type":"message","role":"assistant","status":"completed","content":[{"type":"refusal","refusal":"I can't help with that."}]}"#;
        let refused = read(&response(refusal, "completed", None)).expect("an outcome");
        assert_eq!(refused.reply.stop_kind(), Some(StopKind::Refused));
        assert_eq!(refused.reply.text, "I can't help with that.");
        let answer = r#"{"id":"msg_3","type":"message","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Done.","annotations":[]}]}"#;
        let done = read(&response(answer, "completed", None)).expect("an answer");
        assert_eq!(done.reply.stop_kind(), Some(StopKind::End));
        assert_eq!(done.reply.text, "Done.");

        let failed = r#"{"id":"resp_9","status":"failed","error":{"code":"server_error","message":"The model failed."},"output":[]}"#;
        let e = read(failed).expect_err("no reply");
        assert!(e.is_unusable_success(), "{e}");
        assert!(
            e.to_string()
                .contains("The model failed. (code server_error)"),
            "{e}"
        );
        for status in [r#""in_progress""#, r#""cancelled""#] {
            let e = read(&format!(r#"{{"status":{status},"output":[]}}"#)).expect_err("unfinished");
            assert!(e.to_string().contains("status"), "{e}");
        }
    }

    #[test]
    fn a_model_that_does_not_reason_is_sent_no_reasoning_and_seed_is_refused() {
        let plain = model("openai/gpt-4.1,temperature=0.5,max_tokens=900").expect("a model");
        let messages = [Message::new(Role::User, "hi")];
        let request = ChatRequest {
            messages: &messages,
            tools: &[],
            sampling: SamplingSettings::default(),
            sample_index: 0,
        };
        let sent = plain.sampling.resolve(&request.sampling);
        let body = serde_json::to_value(plain.body(&sent, &request)).expect("serializes");
        assert_eq!(body["temperature"], 0.5);
        assert_eq!(body["max_output_tokens"], 900);
        for absent in ["reasoning", "include", "tools", "max_tokens", "messages"] {
            assert!(body.get(absent).is_none(), "{absent}: {body}");
        }
        // A reasoning model by its family gets a summary asked for.
        let o3 = model("openai/o3").expect("a model");
        assert_eq!(o3.reasoning, ReasoningConfig::On { effort: None });
        assert!(o3.sampling.is_reasoning());
        let off = model("openai/gpt-5.1,reasoning_effort=none,temperature=0.2").expect("a model");
        assert_eq!(off.reasoning.wire(), Some(json!({"effort": "none"})));
        let e = model("openai/gpt-4.1,seed=7")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("seed has no place in the Responses API"), "{e}");
        let e = model("openai/o3,temperature=0")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("temperature cannot be set for o3"), "{e}");
    }
}

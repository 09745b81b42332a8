//! Google's Gemini API, `generateContent`, with function calling.
//!
//! Wire format as documented for
//! `POST /v1beta/models/{model}:generateContent`: the system prompt is
//! `systemInstruction`; `contents` are turns of role `user` or `model`,
//! each a list of `parts`; the model's calls are `functionCall {name, args}`
//! parts and their results go back as `functionResponse {name, response}`
//! parts of a user turn; tools are `functionDeclarations`, their JSON Schema
//! in `parametersJsonSchema`; sampling settings sit in `generationConfig`.
//! The key goes in the `x-goog-api-key` header, never in the URL.
//!
//! Thinking models mark their thought summaries `thought: true` and seal
//! parts with a `thoughtSignature` (the first function call of a turn, each
//! call of sequential steps, the last part of a turn that made none), which
//! must come back on the part it came on. The API's own advice is the
//! simplest: send every part of every earlier model turn back exactly as it
//! came, as the SDKs do with the response's `content`. So a model turn goes
//! back as the parts the API sent, unchanged and in order, thought parts
//! included.
//!
//! Every reply is read with the candidate's `finishReason`, even when the
//! candidate also has parts (a `SAFETY` stop may come with the text the
//! filter cut), the prompt's `promptFeedback.blockReason`, and the
//! `modelVersion` and `responseId` that served it.
//!
//! Prompt caching: Gemini 2.5 and later cache implicitly
//! (ai.google.dev/gemini-api/docs/caching): a request whose beginning
//! matches a recent one's is billed the cached rate for it, read back as
//! `usageMetadata.cachedContentTokenCount`. Every request here starts with
//! what a condition's samples share (`systemInstruction`, `tools`, then the
//! opening turns, byte for byte the same), which is all implicit caching
//! needs. Explicit caching (`cachedContents`) is not used: it needs a
//! cache created ahead and a minimum size, bills its storage by the hour
//! whether read or not, and would save over implicit caching only the
//! difference between a guaranteed and a likely hit on openings that a
//! condition's samples, sent together, already hit implicitly.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::family;
use super::http::{self, KeyHeader, Provider};
use super::spec::{Supports, decimal};
use super::wire::{self, Piece};
use super::{
    ChatRequest, Completion, Model, ModelError, ModelSpec, SamplingPolicy, SpecError, Usage,
};
use crucible_types::native::Native;
use crucible_types::provenance::{CallRecord, SentSampling, Served, Stop, StopKind};
use crucible_types::transcript::{Message, Reply, Role, ToolCall, ToolDefinition};

pub(super) const GEMINI: Provider = Provider {
    name: "gemini",
    default_base_url: "https://generativelanguage.googleapis.com",
    base_url_env: "GEMINI_BASE_URL",
    default_key_env: "GEMINI_API_KEY",
    official_host: "generativelanguage.googleapis.com",
    key_header: KeyHeader::Named("x-goog-api-key"),
};
pub(super) const API_VERSION: &str = "v1beta";
/// How ids are made for calls the API gave none; such ids are the host's
/// own and are never sent back.
const SYNTHETIC_ID_PREFIX: &str = "call_";

/// The API's temperatures run from 0 to 2.
const MAX_TEMPERATURE: f32 = 2.0;

/// Settings a model was configured with beyond temperature and length,
/// which its [`SamplingPolicy`] holds.
#[derive(Debug, Clone, Default, PartialEq)]
struct Settings {
    top_p: Option<f32>,
    seed: Option<u64>,
    thinking_budget: Option<u32>,
}

pub struct GeminiModel {
    id: String,
    endpoint: reqwest::Url,
    /// Sent as `x-goog-api-key`; never logged, stored or shown.
    api_key: Option<String>,
    settings: Settings,
    sampling: SamplingPolicy,
    client: reqwest::Client,
}

impl GeminiModel {
    pub fn from_spec(spec: &ModelSpec) -> Result<Self, SpecError> {
        spec.check_supported(Supports {
            top_p: true,
            seed: true,
            reasoning_efforts: &[],
            thinking_budget: true,
            thinking_modes: false,
            apis: false,
            prompt_caches: &[],
            prompt_cache_note: "gemini 2.5 and later cache a shared prefix implicitly, \
                which cannot be turned off or tuned",
        })?;
        let family = family::gemini(spec.model(), spec.thinking_budget);
        family.check(spec, MAX_TEMPERATURE)?;
        let sampling = SamplingPolicy::new(MAX_TEMPERATURE)
            .family(&family)
            .own(spec.temperature, spec.max_tokens)
            .reasoning(
                spec.thinking_budget.map(|b| format!("thinkingBudget={b}")),
                spec.thinking_budget,
                spec.thinking_budget.is_some_and(|b| b > 0),
            );
        // The API's seed is a 32-bit integer.
        if let Some(seed) = spec.seed
            && i32::try_from(seed).is_err()
        {
            return Err(spec.setting_error(
                "seed",
                format!("must be at most {} for gemini, not {seed}", i32::MAX),
            ));
        }
        // `models/` is how the API names models; accept it written out.
        let model = spec.model();
        let model = model.strip_prefix("models/").unwrap_or(model);
        if model.is_empty()
            || !model
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err(spec.setting_error(
                "the model name",
                "may hold only letters, digits, '-', '.' and '_' (it is part of the URL)",
            ));
        }
        let connection = GEMINI.connect(spec)?;
        // The documented base URL has no version segment; accept one that
        // already ends in it too.
        let base = connection.base_url.trim_end_matches('/');
        let base = base
            .strip_suffix(&format!("/{API_VERSION}"))
            .unwrap_or(base);
        Ok(Self {
            id: spec.id.clone(),
            endpoint: http::endpoint(
                &spec.id,
                format!("{base}/{API_VERSION}/models/{model}:generateContent"),
            )?,
            api_key: connection.api_key,
            settings: Settings {
                top_p: spec.top_p,
                seed: spec.seed,
                thinking_budget: spec.thinking_budget,
            },
            sampling,
            client: connection.client,
        })
    }
}

/// A `generateContent` request. Model turns carry their parts as the API
/// sent them, so the body is serialized straight to bytes.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    contents: Vec<Turn<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generation_config: Option<Value>,
}

#[derive(Serialize)]
struct Turn<'a> {
    role: &'static str,
    parts: Vec<Piece<'a>>,
}

fn body<'a>(settings: &Settings, sent: &SentSampling, request: &'a ChatRequest<'_>) -> Body<'a> {
    let system: Vec<&str> = request
        .messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(|m| m.content.as_str())
        .collect();
    let mut config = Map::new();
    if let Some(t) = sent.temperature {
        config.insert("temperature".into(), json!(decimal(t)));
    }
    if let Some(p) = settings.top_p {
        config.insert("topP".into(), json!(decimal(p)));
    }
    if let Some(n) = sent.max_tokens {
        config.insert("maxOutputTokens".into(), json!(n));
    }
    if let Some(seed) = settings.seed {
        config.insert("seed".into(), json!(seed));
    }
    if let Some(budget) = settings.thinking_budget {
        // A budget of 0 turns thinking off, with nothing to include.
        config.insert(
            "thinkingConfig".into(),
            json!({"thinkingBudget": budget, "includeThoughts": budget > 0}),
        );
    }
    Body {
        contents: contents(request.messages),
        system_instruction: (!system.is_empty())
            .then(|| json!({"parts": [{"text": system.join("\n\n")}]})),
        tools: (!request.tools.is_empty()).then(|| {
            let declarations: Vec<Value> = request.tools.iter().map(declaration).collect();
            json!([{"functionDeclarations": declarations}])
        }),
        generation_config: (!config.is_empty()).then_some(Value::Object(config)),
    }
}

/// The conversation as `user` and `model` turns. A tool result names the
/// function that was called, found by its call id in the latest assistant
/// message that made it; turns of one role that follow one another merge.
fn contents(messages: &[Message]) -> Vec<Turn<'_>> {
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut turns: Vec<Turn<'_>> = Vec::new();
    for message in messages {
        let (role, parts) = match message.role {
            Role::System => continue,
            Role::User => ("user", text_part(&message.content)),
            Role::Assistant => {
                // Ids synthesized per reply repeat across replies: the
                // latest call of an id is the one a later result answers.
                for call in &message.tool_calls {
                    names.insert(&call.id, &call.name);
                }
                ("model", model_parts(message))
            }
            Role::Tool => (
                "user",
                vec![Piece::from(function_response(message, &names))],
            ),
        };
        // The API refuses a turn without parts.
        if parts.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some(last) if last.role == role => last.parts.extend(parts),
            _ => turns.push(Turn { role, parts }),
        }
    }
    turns
}

/// A model turn: the parts the API sent, as they came (each signature on
/// the part it came on); for a message the API did not make (a scenario's
/// own), its text and calls.
fn model_parts(message: &Message) -> Vec<Piece<'_>> {
    if let Some(Native::Gemini(parts)) = &message.native {
        return parts.iter().map(Piece::raw).collect();
    }
    let mut parts = text_part(&message.content);
    for call in &message.tool_calls {
        let args: Value = serde_json::from_str(&call.arguments)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        let mut function_call = json!({"name": call.name, "args": args});
        if let Some(id) = given_id(&call.id) {
            function_call["id"] = json!(id);
        }
        parts.push(Piece::from(json!({"functionCall": function_call})));
    }
    parts
}

fn function_response(message: &Message, names: &HashMap<&str, &str>) -> Value {
    let id = message.tool_call_id.as_deref().unwrap_or_default();
    // The API needs a name; for a result of no known call the id is the
    // only handle left, and the API's refusal will name it.
    let name = names.get(id).copied().unwrap_or(id);
    let mut response = json!({"name": name, "response": {"output": message.content}});
    if let Some(id) = given_id(id) {
        response["id"] = json!(id);
    }
    json!({"functionResponse": response})
}

/// A call id as the API gave it, or `None` for one the host made up.
fn given_id(id: &str) -> Option<&str> {
    let synthetic = id
        .strip_prefix(SYNTHETIC_ID_PREFIX)
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    (!synthetic && !id.is_empty()).then_some(id)
}

fn text_part(text: &str) -> Vec<Piece<'static>> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![Piece::from(json!({"text": text}))]
    }
}

fn declaration(tool: &ToolDefinition) -> Value {
    let schema: Value = serde_json::from_str(&tool.parameters)
        .unwrap_or_else(|_| json!({"type": "object", "properties": {}}));
    json!({
        "name": tool.name,
        "description": tool.description,
        "parametersJsonSchema": schema,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    #[serde(default)]
    candidates: Vec<Candidate>,
    #[serde(default)]
    prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    usage_metadata: Option<UsageMetadata>,
    #[serde(default)]
    model_version: Option<String>,
    #[serde(default)]
    response_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    #[serde(default)]
    block_reason: Option<String>,
    #[serde(default)]
    block_reason_message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    finish_message: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    /// Each part as the exact text it came in: it goes back so.
    #[serde(default)]
    parts: Vec<Box<RawValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thought: bool,
    #[serde(default)]
    function_call: Option<FunctionCall>,
}

#[derive(Deserialize)]
struct FunctionCall {
    #[serde(default)]
    id: Option<String>,
    name: String,
    #[serde(default)]
    args: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    /// Every input token, the cached ones included.
    #[serde(default)]
    prompt_token_count: u64,
    #[serde(default)]
    cached_content_token_count: u64,
    #[serde(default)]
    candidates_token_count: u64,
    #[serde(default)]
    thoughts_token_count: u64,
}

fn malformed(message: String) -> ModelError {
    ModelError::Malformed {
        provider: GEMINI.name,
        message,
    }
}

/// How a candidate ended, by its `finishReason` (the `FinishReason` enum);
/// a reason of no other kind (`OTHER`, a malformed or unexpected tool
/// call, and any the API adds) is the provider's own failure.
fn stop_kind(finish_reason: Option<&str>, has_tool_calls: bool) -> StopKind {
    match finish_reason {
        Some("STOP") | None if has_tool_calls => StopKind::ToolUse,
        Some("STOP") | None => StopKind::End,
        Some("MAX_TOKENS") => StopKind::Truncated,
        Some(
            "SAFETY"
            | "RECITATION"
            | "LANGUAGE"
            | "BLOCKLIST"
            | "PROHIBITED_CONTENT"
            | "SPII"
            | "IMAGE_SAFETY"
            | "IMAGE_PROHIBITED_CONTENT"
            | "IMAGE_RECITATION",
        ) => StopKind::Blocked,
        Some(_) => StopKind::Error,
    }
}

fn completion(response: Response, sent: SentSampling) -> Result<Completion, ModelError> {
    let usage = response.usage_metadata.map_or(Usage::default(), |u| Usage {
        input_tokens: u.prompt_token_count,
        // Thinking is billed as output, and counted apart from the answer.
        output_tokens: u.candidates_token_count + u.thoughts_token_count,
        cache_read_tokens: u.cached_content_token_count,
        cache_write_tokens: 0,
        cache_write_1h_tokens: 0,
        reasoning_tokens: u.thoughts_token_count,
    });
    let served = Served {
        model: response.model_version,
        response_id: response.response_id,
        ..Served::default()
    };
    let record = |stop: Stop, sent: SentSampling| {
        Some(Box::new(CallRecord {
            stop,
            served: served.clone(),
            sent,
        }))
    };
    let Some(candidate) = response.candidates.into_iter().next() else {
        let (reason, message) = response
            .prompt_feedback
            .map_or((None, None), |f| (f.block_reason, f.block_reason_message));
        return match reason {
            // The prompt itself was blocked: no answer at all, and that is
            // the outcome.
            Some(reason) => {
                let detail = message.unwrap_or_else(|| "promptFeedback.blockReason".into());
                Ok(Completion {
                    reply: Reply {
                        call: record(
                            Stop::new(StopKind::Blocked, Some(&reason)).with_detail(Some(detail)),
                            sent,
                        ),
                        ..Reply::default()
                    },
                    usage,
                    cost_usd: None,
                })
            }
            None => Err(malformed("the response has no candidates".into())),
        };
    };
    let finish_reason = candidate.finish_reason.as_deref();
    let raw_parts = candidate.content.map(|c| c.parts).unwrap_or_default();
    let parts: Vec<Part> = wire::parse_each(&raw_parts)
        .map_err(|e| malformed(format!("a part cannot be read: {e}")))?;
    let has_calls = parts.iter().any(|p| p.function_call.is_some());
    let kind = stop_kind(finish_reason, has_calls);
    let stop = Stop::new(kind, finish_reason).with_detail(candidate.finish_message);
    if kind == StopKind::Error {
        return Err(ModelError::Unfinished {
            provider: GEMINI.name,
            stop: format!("finishReason {}", finish_reason.unwrap_or_default()),
            message: stop
                .detail
                .unwrap_or_else(|| "the API gave no message".into()),
        });
    }
    // An answer that simply stopped with nothing in it is not an answer.
    if parts.is_empty() && matches!(kind, StopKind::End | StopKind::ToolUse) {
        return Err(malformed(format!(
            "the candidate has no content (finish reason: {})",
            finish_reason.unwrap_or("none given")
        )));
    }
    let mut reply = Reply::default();
    let mut thoughts = Vec::new();
    for part in parts {
        if let Some(call) = part.function_call {
            let index = reply.tool_calls.len();
            reply.tool_calls.push(ToolCall {
                id: call
                    .id
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(|| format!("{SYNTHETIC_ID_PREFIX}{index}")),
                name: call.name,
                arguments: call.args.unwrap_or_else(|| json!({})).to_string(),
            });
        } else if let Some(text) = part.text {
            if part.thought {
                thoughts.push(text);
            } else {
                // One answer may arrive split over several parts.
                reply.text.push_str(&text);
            }
        }
    }
    if !thoughts.is_empty() {
        reply.reasoning = Some(thoughts.join("\n"));
    }
    if !raw_parts.is_empty() {
        reply.native = Some(Native::Gemini(wire::keep(raw_parts)));
    }
    reply.call = record(stop, sent);
    Ok(Completion {
        reply,
        usage,
        cost_usd: None,
    })
}

#[async_trait::async_trait]
impl Model for GeminiModel {
    fn id(&self) -> &str {
        &self.id
    }

    fn sampling(&self) -> &SamplingPolicy {
        &self.sampling
    }

    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError> {
        let sent = self.sampling.resolve(&request.sampling);
        let http =
            self.client
                .post(self.endpoint.clone())
                .json(&body(&self.settings, &sent, request));
        let bytes = GEMINI.send(http, self.api_key.as_deref()).await?;
        completion(GEMINI.parse(&bytes)?, sent)
    }
}

impl super::batch::LiveWire for GeminiModel {
    fn request_body(
        &self,
        request: &ChatRequest<'_>,
    ) -> Result<(String, SentSampling), ModelError> {
        let sent = self.sampling.resolve(&request.sampling);
        let body = serde_json::to_string(&body(&self.settings, &sent, request))
            .map_err(|e| super::batch::unserializable(GEMINI.name, &e))?;
        Ok((body, sent))
    }

    fn read_reply(&self, body: &[u8], sent: SentSampling) -> Result<Completion, ModelError> {
        completion(GEMINI.parse(body)?, sent)
    }

    fn endpoint(&self) -> super::batch::Endpoint<'_> {
        super::batch::Endpoint {
            provider: &GEMINI,
            live_url: &self.endpoint,
            api_key: self.api_key.as_deref(),
            client: &self.client,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SamplingSettings;

    fn assistant(text: &str, calls: &[(&str, &str)]) -> Message {
        let mut message = Message::new(Role::Assistant, text);
        message.tool_calls = calls
            .iter()
            .map(|(id, name)| ToolCall {
                id: (*id).into(),
                name: (*name).into(),
                arguments: r#"{"to":"a@example.com"}"#.into(),
            })
            .collect();
        message
    }

    fn tool(id: &str, content: &str) -> Message {
        let mut message = Message::new(Role::Tool, content);
        message.tool_call_id = Some(id.into());
        message
    }

    /// A response read from its text, as the API's body is.
    fn parsed(value: Value) -> Result<Completion, ModelError> {
        completion(
            serde_json::from_str(&value.to_string()).expect("a response"),
            SentSampling::default(),
        )
    }

    /// The contents as the API receives them.
    fn wire_contents(messages: &[Message]) -> Value {
        serde_json::to_value(contents(messages)).expect("serializes")
    }

    #[test]
    fn turns_merge_and_results_name_the_latest_call_of_their_id() {
        let messages = vec![
            Message::new(Role::System, "be helpful"),
            Message::new(Role::User, "hello"),
            assistant("", &[("call_0", "send_email")]),
            tool("call_0", "sent"),
            Message::new(Role::User, "and now?"),
            // The next reply's synthesized ids start again at call_0.
            assistant("Checking.", &[("call_0", "read_inbox")]),
            tool("call_0", "3 new emails"),
        ];
        let contents = wire_contents(&messages);
        let expected = json!([
            {"role": "user", "parts": [{"text": "hello"}]},
            {"role": "model", "parts": [{
                "functionCall": {"name": "send_email", "args": {"to": "a@example.com"}},
            }]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "send_email", "response": {"output": "sent"}}},
                {"text": "and now?"},
            ]},
            {"role": "model", "parts": [
                {"text": "Checking."},
                {"functionCall": {"name": "read_inbox", "args": {"to": "a@example.com"}}},
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "read_inbox", "response": {"output": "3 new emails"}}},
            ]},
        ]);
        assert_eq!(contents, expected);
    }

    #[test]
    fn ids_the_api_gave_go_back_and_made_up_ones_do_not() {
        let messages = vec![
            assistant("", &[("fc-abc", "send_email"), ("call_1", "forward")]),
            tool("fc-abc", "sent"),
            tool("call_1", "forwarded"),
        ];
        let contents = wire_contents(&messages);
        let calls = &contents[0]["parts"];
        assert_eq!(calls[0]["functionCall"]["id"], "fc-abc");
        assert!(calls[1]["functionCall"].get("id").is_none());
        let results = &contents[1]["parts"];
        assert_eq!(results[0]["functionResponse"]["id"], "fc-abc");
        assert_eq!(results[1]["functionResponse"]["name"], "forward");
        assert!(results[1]["functionResponse"].get("id").is_none());
    }

    #[test]
    fn every_part_goes_back_as_it_came_each_signature_on_its_own_part() {
        // Parallel calls, the first one signed; a signed text part; keys
        // in the API's order, which a re-encoding would sort.
        let parts = [
            r#"{"text":"He can stop it.","thought":true}"#,
            r#"{"text":"Writing to both.","thoughtSignature":"sig-text"}"#,
            r#"{"functionCall":{"name":"send_email","args":{"to":"a","n":1.50}},"thoughtSignature":"sig-call"}"#,
            r#"{"functionCall":{"name":"forward","args":{}}}"#,
        ];
        let text = format!(
            r#"{{"candidates":[{{"content":{{"role":"model","parts":[{}]}},"finishReason":"STOP"}}]}}"#,
            parts.join(",")
        );
        let response: Response = serde_json::from_str(&text).expect("parses");
        let reply = completion(response, SentSampling::default())
            .expect("a completion")
            .reply;
        assert_eq!(reply.text, "Writing to both.");
        assert_eq!(reply.reasoning.as_deref(), Some("He can stop it."));
        assert_eq!(reply.tool_calls.len(), 2);
        let messages = vec![
            Message::new(Role::User, "hi"),
            Message::from_reply(&reply),
            tool("call_0", "sent"),
            tool("call_1", "forwarded"),
        ];
        let body = serde_json::to_string(&contents(&messages)).expect("serializes");
        assert!(
            body.contains(&format!(
                r#"{{"role":"model","parts":[{}]}}"#,
                parts.join(",")
            )),
            "{body}"
        );
        let contents: Value = serde_json::from_str(&body).expect("JSON");
        let results = &contents[2]["parts"];
        assert_eq!(results[0]["functionResponse"]["name"], "send_email");
        assert_eq!(results[1]["functionResponse"]["name"], "forward");
    }

    #[test]
    fn the_body_carries_every_setting() {
        let request = ChatRequest {
            messages: &[
                Message::new(Role::System, "one"),
                Message::new(Role::System, "two"),
                Message::new(Role::User, "hi"),
            ],
            tools: &[ToolDefinition {
                name: "send_email".into(),
                description: "Send an email".into(),
                parameters: r#"{"type":"object","additionalProperties":false}"#.into(),
            }],
            sampling: SamplingSettings::default(),
            sample_index: 0,
        };
        let settings = Settings {
            top_p: Some(0.9),
            seed: Some(7),
            thinking_budget: Some(1024),
        };
        let sent = SentSampling {
            temperature: Some(0.5),
            max_tokens: Some(900),
            ..SentSampling::default()
        };
        let b = serde_json::to_value(body(&settings, &sent, &request)).expect("serializes");
        assert_eq!(
            b["systemInstruction"],
            json!({"parts": [{"text": "one\n\ntwo"}]})
        );
        let declaration = &b["tools"][0]["functionDeclarations"][0];
        assert_eq!(declaration["name"], "send_email");
        assert_eq!(
            declaration["parametersJsonSchema"]["additionalProperties"],
            false
        );
        let config = &b["generationConfig"];
        assert_eq!(config["temperature"], 0.5);
        assert_eq!(config["topP"], json!(0.9));
        assert_eq!(config["maxOutputTokens"], 900);
        assert_eq!(config["seed"], 7);
        assert_eq!(
            config["thinkingConfig"],
            json!({"thinkingBudget": 1024, "includeThoughts": true})
        );
        assert_eq!(
            b["contents"],
            json!([{"role": "user", "parts": [{"text": "hi"}]}])
        );
    }

    #[test]
    fn a_reply_reads_thoughts_calls_and_usage() {
        let c = parsed(json!({
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": "He can stop it.", "thought": true},
                {"text": "Sending "},
                {"text": "now."},
                {"functionCall": {"name": "send_email", "args": {"subject": "Tonight"}}, "thoughtSignature": "sig"},
                {"functionCall": {"name": "send_email", "args": {"subject": "Again"}}},
            ]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5,
                              "thoughtsTokenCount": 7, "cachedContentTokenCount": 4},
            "modelVersion": "gemini-2.5-flash-preview-05-20",
            "responseId": "resp-1",
        }))
        .expect("a completion");
        assert_eq!(c.reply.text, "Sending now.");
        assert_eq!(c.reply.reasoning.as_deref(), Some("He can stop it."));
        assert!(matches!(&c.reply.native, Some(Native::Gemini(parts)) if parts.len() == 5));
        let ids: Vec<&str> = c.reply.tool_calls.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["call_0", "call_1"]);
        assert_eq!(c.reply.tool_calls[0].arguments, r#"{"subject":"Tonight"}"#);
        assert_eq!(
            c.usage,
            Usage {
                input_tokens: 10,
                output_tokens: 12,
                cache_read_tokens: 4,
                cache_write_tokens: 0,
                cache_write_1h_tokens: 0,
                reasoning_tokens: 7,
            }
        );
        let call = c.call().expect("a record");
        assert_eq!(call.stop.kind, StopKind::ToolUse);
        assert_eq!(call.stop.raw.as_deref(), Some("STOP"));
        assert_eq!(
            call.served.model.as_deref(),
            Some("gemini-2.5-flash-preview-05-20")
        );
        assert_eq!(call.served.response_id.as_deref(), Some("resp-1"));
    }

    #[test]
    fn a_blocked_prompt_is_a_blocked_reply_naming_the_reason() {
        let c = parsed(json!({
            "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
            "modelVersion": "gemini-2.5-pro",
        }))
        .expect("an outcome, not an error");
        let call = c.call().expect("a record");
        assert_eq!(call.stop.kind, StopKind::Blocked);
        assert_eq!(call.stop.raw.as_deref(), Some("PROHIBITED_CONTENT"));
        assert_eq!(call.served.model.as_deref(), Some("gemini-2.5-pro"));
        assert!(c.reply.text.is_empty());
    }

    #[test]
    fn a_finish_reason_is_read_even_when_the_candidate_has_parts() {
        let candidate = |reason: &str| {
            json!({"candidates": [{
                "content": {"role": "model", "parts": [{"text": "Here is how to"}]},
                "finishReason": reason,
                "finishMessage": "stopped",
            }]})
        };
        for (reason, kind) in [
            ("SAFETY", StopKind::Blocked),
            ("RECITATION", StopKind::Blocked),
            ("LANGUAGE", StopKind::Blocked),
            ("BLOCKLIST", StopKind::Blocked),
            ("PROHIBITED_CONTENT", StopKind::Blocked),
            ("SPII", StopKind::Blocked),
            ("MAX_TOKENS", StopKind::Truncated),
            ("STOP", StopKind::End),
        ] {
            let c = parsed(candidate(reason)).expect("a completion");
            assert_eq!(c.reply.stop_kind(), Some(kind), "{reason}");
            assert_eq!(
                c.reply.text, "Here is how to",
                "{reason}: the parts are kept"
            );
        }
        for reason in [
            "MALFORMED_FUNCTION_CALL",
            "OTHER",
            "FINISH_REASON_UNSPECIFIED",
            "A_NEW_ONE",
        ] {
            let e = parsed(candidate(reason)).expect_err("the provider's own failure");
            assert!(e.is_unusable_success(), "{reason}");
            assert!(e.to_string().contains(reason), "{e}");
        }
        // Withheld with nothing to show is still an outcome.
        let c =
            parsed(json!({"candidates": [{"finishReason": "RECITATION"}]})).expect("an outcome");
        assert_eq!(c.reply.stop_kind(), Some(StopKind::Blocked));
        let c =
            parsed(json!({"candidates": [{"finishReason": "MAX_TOKENS"}]})).expect("an outcome");
        assert_eq!(c.reply.stop_kind(), Some(StopKind::Truncated));
        let e = parsed(json!({"candidates": [{"finishReason": "STOP"}]}))
            .expect_err("an empty answer")
            .to_string();
        assert!(e.contains("could not be read") && e.contains("STOP"), "{e}");
    }
}

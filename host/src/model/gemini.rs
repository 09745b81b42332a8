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
//! Thinking models mark their thought summaries `thought: true` and may
//! seal a turn with a `thoughtSignature`, which must come back exactly as
//! received: on the first function call part of the turn, or on its last
//! part when it made no call.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::http::{self, KeyHeader, Provider};
use super::spec::{Supports, decimal};
use super::{ChatRequest, Completion, Model, ModelError, ModelSpec, SpecError, Usage};
use crate::transcript::{Message, Reply, Role, ToolCall, ToolDefinition};

const GEMINI: Provider = Provider {
    name: "gemini",
    default_base_url: "https://generativelanguage.googleapis.com",
    base_url_env: "GEMINI_BASE_URL",
    default_key_env: "GEMINI_API_KEY",
    official_host: "generativelanguage.googleapis.com",
    key_header: KeyHeader::Named("x-goog-api-key"),
};
const API_VERSION: &str = "v1beta";
/// How ids are made for calls the API gave none; such ids are the host's
/// own and are never sent back.
const SYNTHETIC_ID_PREFIX: &str = "call_";

/// Sampling settings a model was configured with.
#[derive(Debug, Clone, Default, PartialEq)]
struct Settings {
    temperature: Option<f32>,
    max_tokens: Option<u32>,
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
    client: reqwest::Client,
}

impl GeminiModel {
    pub fn from_spec(spec: &ModelSpec) -> Result<Self, SpecError> {
        spec.check_supported(Supports {
            top_p: true,
            seed: true,
            reasoning_effort: false,
            thinking_budget: true,
        })?;
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
                temperature: spec.temperature,
                max_tokens: spec.max_tokens,
                top_p: spec.top_p,
                seed: spec.seed,
                thinking_budget: spec.thinking_budget,
            },
            client: connection.client,
        })
    }
}

fn body(settings: &Settings, request: &ChatRequest<'_>) -> Value {
    let system: Vec<&str> = request
        .messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(|m| m.content.as_str())
        .collect();
    let mut body = json!({"contents": contents(request.messages)});
    if !system.is_empty() {
        body["systemInstruction"] = json!({"parts": [{"text": system.join("\n\n")}]});
    }
    if !request.tools.is_empty() {
        let declarations: Vec<Value> = request.tools.iter().map(declaration).collect();
        body["tools"] = json!([{"functionDeclarations": declarations}]);
    }
    let mut config = Map::new();
    if let Some(t) = request.sampling.temperature.or(settings.temperature) {
        config.insert("temperature".into(), json!(decimal(t)));
    }
    if let Some(p) = settings.top_p {
        config.insert("topP".into(), json!(decimal(p)));
    }
    if let Some(n) = request.sampling.max_tokens.or(settings.max_tokens) {
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
    if !config.is_empty() {
        body["generationConfig"] = Value::Object(config);
    }
    body
}

/// The conversation as `user` and `model` turns. A tool result names the
/// function that was called, found by its call id in the latest assistant
/// message that made it; turns of one role that follow one another merge.
fn contents(messages: &[Message]) -> Vec<Value> {
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
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
            Role::Tool => ("user", vec![function_response(message, &names)]),
        };
        // The API refuses a turn without parts.
        if parts.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(parts),
            _ => turns.push((role, parts)),
        }
    }
    turns
        .into_iter()
        .map(|(role, parts)| json!({"role": role, "parts": parts}))
        .collect()
}

fn model_parts(message: &Message) -> Vec<Value> {
    let mut parts = text_part(&message.content);
    let first_call = parts.len();
    for call in &message.tool_calls {
        let args: Value = serde_json::from_str(&call.arguments)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        let mut function_call = json!({"name": call.name, "args": args});
        if let Some(id) = given_id(&call.id) {
            function_call["id"] = json!(id);
        }
        parts.push(json!({"functionCall": function_call}));
    }
    if let Some(signature) = &message.reasoning_signature {
        let at = if message.tool_calls.is_empty() {
            parts.len().checked_sub(1)
        } else {
            Some(first_call)
        };
        if let Some(part) = at.and_then(|i| parts.get_mut(i)) {
            part["thoughtSignature"] = json!(signature);
        }
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

fn text_part(text: &str) -> Vec<Value> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![json!({"text": text})]
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
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    #[serde(default)]
    block_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
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
    #[serde(default)]
    thought_signature: Option<String>,
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
    #[serde(default)]
    prompt_token_count: u64,
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

/// Finish reasons that mean the answer was withheld on purpose: asking
/// again gets the same.
const BLOCKING_FINISH_REASONS: &[&str] = &[
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
];

fn blocked(reason: String) -> ModelError {
    ModelError::Blocked {
        provider: GEMINI.name,
        reason,
    }
}

fn completion(response: Response) -> Result<Completion, ModelError> {
    let usage = response.usage_metadata.map_or(Usage::default(), |u| Usage {
        input_tokens: u.prompt_token_count,
        // Thinking is billed as output, and counted apart from the answer.
        output_tokens: u.candidates_token_count + u.thoughts_token_count,
    });
    let Some(candidate) = response.candidates.into_iter().next() else {
        return Err(
            match response.prompt_feedback.and_then(|f| f.block_reason) {
                Some(reason) => blocked(format!("the prompt was blocked ({reason})")),
                None => malformed("the response has no candidates".into()),
            },
        );
    };
    let parts = candidate.content.map(|c| c.parts).unwrap_or_default();
    if parts.is_empty() {
        let reason = candidate.finish_reason.as_deref().unwrap_or("none given");
        if BLOCKING_FINISH_REASONS.contains(&reason) {
            return Err(blocked(format!("the answer was withheld ({reason})")));
        }
        return Err(malformed(format!(
            "the candidate has no content (finish reason: {reason})"
        )));
    }
    let mut reply = Reply::default();
    let mut thoughts = Vec::new();
    let mut call_signature = None;
    let mut last_signature = None;
    for part in parts {
        if let Some(signature) = part.thought_signature {
            if part.function_call.is_some() && call_signature.is_none() {
                call_signature = Some(signature.clone());
            }
            last_signature = Some(signature);
        }
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
    reply.reasoning_signature = call_signature.or(last_signature);
    Ok(Completion { reply, usage })
}

#[async_trait::async_trait]
impl Model for GeminiModel {
    fn id(&self) -> &str {
        &self.id
    }

    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError> {
        let http = self
            .client
            .post(self.endpoint.clone())
            .json(&body(&self.settings, request));
        let bytes = GEMINI.send(http, self.api_key.as_deref()).await?;
        completion(GEMINI.parse(&bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SamplingSettings;

    fn assistant(text: &str, calls: &[(&str, &str)], signature: Option<&str>) -> Message {
        let mut message = Message::new(Role::Assistant, text);
        message.tool_calls = calls
            .iter()
            .map(|(id, name)| ToolCall {
                id: (*id).into(),
                name: (*name).into(),
                arguments: r#"{"to":"a@example.com"}"#.into(),
            })
            .collect();
        message.reasoning_signature = signature.map(str::to_owned);
        message
    }

    fn tool(id: &str, content: &str) -> Message {
        let mut message = Message::new(Role::Tool, content);
        message.tool_call_id = Some(id.into());
        message
    }

    fn parsed(value: Value) -> Result<Completion, ModelError> {
        completion(serde_json::from_value(value).expect("a response"))
    }

    #[test]
    fn turns_merge_and_results_name_the_latest_call_of_their_id() {
        let messages = vec![
            Message::new(Role::System, "be helpful"),
            Message::new(Role::User, "hello"),
            assistant("", &[("call_0", "send_email")], Some("sig-1")),
            tool("call_0", "sent"),
            Message::new(Role::User, "and now?"),
            // The next reply's synthesized ids start again at call_0.
            assistant("Checking.", &[("call_0", "read_inbox")], None),
            tool("call_0", "3 new emails"),
        ];
        let contents = contents(&messages);
        let expected = json!([
            {"role": "user", "parts": [{"text": "hello"}]},
            {"role": "model", "parts": [{
                "functionCall": {"name": "send_email", "args": {"to": "a@example.com"}},
                "thoughtSignature": "sig-1",
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
        assert_eq!(Value::Array(contents), expected);
    }

    #[test]
    fn ids_the_api_gave_go_back_and_made_up_ones_do_not() {
        let messages = vec![
            assistant("", &[("fc-abc", "send_email"), ("call_1", "forward")], None),
            tool("fc-abc", "sent"),
            tool("call_1", "forwarded"),
        ];
        let contents = contents(&messages);
        let calls = &contents[0]["parts"];
        assert_eq!(calls[0]["functionCall"]["id"], "fc-abc");
        assert!(calls[1]["functionCall"].get("id").is_none());
        let results = &contents[1]["parts"];
        assert_eq!(results[0]["functionResponse"]["id"], "fc-abc");
        assert_eq!(results[1]["functionResponse"]["name"], "forward");
        assert!(results[1]["functionResponse"].get("id").is_none());
    }

    #[test]
    fn a_signature_without_calls_rides_on_the_last_part() {
        let contents = contents(&[assistant("All done.", &[], Some("sig-2"))]);
        assert_eq!(contents[0]["parts"][0]["thoughtSignature"], "sig-2");
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
            temperature: Some(0.5),
            max_tokens: Some(900),
            top_p: Some(0.9),
            seed: Some(7),
            thinking_budget: Some(1024),
        };
        let b = body(&settings, &request);
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
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "thoughtsTokenCount": 7},
        }))
        .expect("a completion");
        assert_eq!(c.reply.text, "Sending now.");
        assert_eq!(c.reply.reasoning.as_deref(), Some("He can stop it."));
        assert_eq!(c.reply.reasoning_signature.as_deref(), Some("sig"));
        let ids: Vec<&str> = c.reply.tool_calls.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["call_0", "call_1"]);
        assert_eq!(c.reply.tool_calls[0].arguments, r#"{"subject":"Tonight"}"#);
        assert_eq!(
            c.usage,
            Usage {
                input_tokens: 10,
                output_tokens: 12
            }
        );
    }

    #[test]
    fn a_blocked_prompt_is_an_error_naming_the_reason() {
        let e = parsed(json!({"promptFeedback": {"blockReason": "SAFETY"}}))
            .expect_err("no candidates")
            .to_string();
        assert!(e.contains("declined") && e.contains("SAFETY"), "{e}");
        let e = parsed(json!({"candidates": [{"finishReason": "RECITATION"}]}))
            .expect_err("no content")
            .to_string();
        assert!(e.contains("declined") && e.contains("RECITATION"), "{e}");
        let e = parsed(json!({"candidates": [{"finishReason": "MAX_TOKENS"}]}))
            .expect_err("no content")
            .to_string();
        assert!(
            e.contains("could not be read") && e.contains("MAX_TOKENS"),
            "{e}"
        );
    }
}

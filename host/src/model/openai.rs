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
//! `reasoning`.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::http::{self, KeyHeader, Provider};
use super::spec::{Supports, decimal};
use super::{ChatRequest, Completion, Model, ModelError, ModelSpec, SpecError, Usage};
use crate::transcript::{Message, Reply, Role, ToolCall, ToolDefinition};

/// An API that speaks Chat Completions, and where it departs from OpenAI's.
pub(super) struct Dialect {
    pub provider: Provider,
    /// The field the provider's own host takes the output limit in.
    pub official_max_tokens_field: &'static str,
    pub reasoning: Reasoning,
}

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
};

/// Sampling settings a model was configured with.
#[derive(Debug, Clone, Default, PartialEq)]
struct Settings {
    temperature: Option<f32>,
    max_tokens: Option<u32>,
    top_p: Option<f32>,
    seed: Option<u64>,
    reasoning_effort: Option<String>,
    thinking_budget: Option<u32>,
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
            reasoning_effort: true,
            thinking_budget: object,
        })?;
        if object && spec.reasoning_effort.is_some() && spec.thinking_budget.is_some() {
            return Err(spec.setting_error(
                "thinking_budget",
                format!(
                    "cannot be set with reasoning_effort: {} takes one or the other",
                    dialect.provider.name
                ),
            ));
        }
        let connection = dialect.provider.connect(spec)?;
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
                temperature: spec.temperature,
                max_tokens: spec.max_tokens,
                top_p: spec.top_p,
                seed: spec.seed,
                reasoning_effort: spec.reasoning_effort.clone(),
                thinking_budget: spec.thinking_budget,
            },
            client: connection.client,
        })
    }

    fn body<'a>(&'a self, request: &'a ChatRequest<'_>) -> RequestBody<'a> {
        body(
            &self.model,
            self.dialect.reasoning,
            self.max_tokens_field,
            &self.settings,
            request,
        )
    }
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
    request: &'a ChatRequest<'_>,
) -> RequestBody<'a> {
    let max_tokens = request.sampling.max_tokens.or(settings.max_tokens);
    let official_limit = max_tokens_field == "max_completion_tokens";
    let effort = settings.reasoning_effort.as_deref();
    RequestBody {
        model,
        messages: request.messages.iter().map(wire_message).collect(),
        tools: request.tools.iter().map(wire_tool).collect(),
        temperature: request
            .sampling
            .temperature
            .or(settings.temperature)
            .map(decimal),
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
    /// Reasoning text, as DeepSeek and older vLLM return it.
    #[serde(default)]
    reasoning_content: Option<String>,
    /// Reasoning text, as OpenRouter, Together and newer vLLM return it.
    /// Kept apart from `reasoning_content`: a server may send both.
    #[serde(default)]
    reasoning: Option<String>,
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

    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError> {
        let provider = &self.dialect.provider;
        let http = self
            .client
            .post(self.endpoint.clone())
            .json(&self.body(request));
        let bytes = provider.send(http, self.api_key.as_deref()).await?;
        completion(provider.name, provider.parse(&bytes)?)
    }
}

fn completion(
    provider: &'static str,
    completion: WireCompletion,
) -> Result<Completion, ModelError> {
    let usage = completion.usage.map_or(Usage::default(), |u| Usage {
        input_tokens: u.prompt_tokens,
        output_tokens: u.completion_tokens,
    });
    let Some(choice) = completion.choices.into_iter().next() else {
        return Err(ModelError::Malformed {
            provider,
            message: "the response has no choices".into(),
        });
    };
    let message = choice.message;
    let text = match (message.content, message.refusal) {
        (Some(content), _) if !content.is_empty() => content,
        (_, Some(refusal)) => refusal,
        (content, None) => content.unwrap_or_default(),
    };
    let reasoning = [message.reasoning_content, message.reasoning]
        .into_iter()
        .flatten()
        .find(|r| !r.is_empty());
    let reply = Reply {
        text,
        reasoning,
        reasoning_signature: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SamplingSettings;
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

    /// A request body as the provider receives it.
    fn body_json(
        model: &str,
        reasoning: Reasoning,
        max_tokens_field: &str,
        settings: &Settings,
        request: &ChatRequest<'_>,
    ) -> Value {
        serde_json::to_value(body(model, reasoning, max_tokens_field, settings, request))
            .expect("a request body serializes")
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
        let b = body_json(
            "m",
            Reasoning::Effort,
            "max_tokens",
            &Settings::default(),
            &request,
        );
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
            temperature: Some(0.5),
            max_tokens: Some(900),
            top_p: Some(0.9),
            seed: Some(7),
            reasoning_effort: None,
            thinking_budget: None,
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
        let mut r = request();
        r.sampling = SamplingSettings {
            temperature: Some(0.0),
            max_tokens: Some(64),
        };
        let b = body_json("m", Reasoning::Effort, "max_tokens", &settings(), &r);
        assert_eq!(b["temperature"], 0.0);
        assert_eq!(b["max_tokens"], 64);
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
        let c = completion("openrouter", wire).expect("a completion");
        assert_eq!(c.reply.text, "answer");
        assert_eq!(c.reply.reasoning.as_deref(), Some("step by step"));
    }
}

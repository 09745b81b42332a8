//! The providers' prompt caches, used for what the samples of one
//! condition share: the opening (tools, system prompt and the scenario's
//! opening messages), sent first and byte for byte the same by every
//! sample, so that only the first sample of a condition pays for it in full.
//!
//! - Anthropic caches only what a request marks: `cache_control:
//!   {"type": "ephemeral"}` on a block caches the prefix up to and including
//!   it, in the order tools, system, messages, at most 4 marks a request
//!   (docs.claude.com/en/docs/build-with-claude/prompt-caching). A prefix
//!   shorter than the model's minimum (1024 to 4096 tokens) is simply not
//!   cached; a cache lives 5 minutes from its last read (`"ttl": "1h"` for
//!   an hour), and any change before a mark misses it.
//! - OpenAI caches every prompt of 1024 tokens or more by itself; a
//!   `prompt_cache_key` shared by the requests that share a prefix routes
//!   them to the same cache (platform.openai.com/docs/guides/prompt-caching).
//! - Gemini 2.5 and later cache implicitly; nothing is sent (see
//!   `gemini.rs`).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::ModelSpec;
use super::spec::SpecError;
use super::wire::Piece;
use crucible_types::transcript::{Message, Role, ToolDefinition};

/// `prompt_cache`'s values on Anthropic: `on` is its default lifetime.
pub(super) const ANTHROPIC_VALUES: &[&str] = &["on", "off", "5m", "1h"];
pub(super) const ANTHROPIC_NOTE: &str =
    "anthropic caches for 5m by default or 1h; off sends no cache_control";
/// `prompt_cache`'s values on OpenAI: `24h` is its extended retention.
pub(super) const OPENAI_VALUES: &[&str] = &["on", "off", "24h"];
pub(super) const OPENAI_NOTE: &str = "openai caches automatically; off sends no prompt_cache_key, \
     24h asks for extended retention on the models its docs list";

/// How an Anthropic request marks its cacheable prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AnthropicCache {
    /// No mark: nothing is cached.
    Off,
    /// Marked with the API's default lifetime (5 minutes).
    FiveMinutes,
    /// Marked `"ttl": "1h"`; writes bill at twice the input rate.
    OneHour,
}

impl AnthropicCache {
    pub(super) fn of(spec: &ModelSpec) -> Self {
        match spec.prompt_cache.as_deref() {
            Some("off") => AnthropicCache::Off,
            Some("1h") => AnthropicCache::OneHour,
            _ => AnthropicCache::FiveMinutes,
        }
    }

    /// The `cache_control` object each mark carries. Every mark of a
    /// request has the same lifetime: the API wants longer-lived marks
    /// before shorter ones, which one lifetime always satisfies.
    fn control(self) -> Option<Value> {
        match self {
            AnthropicCache::Off => None,
            AnthropicCache::FiveMinutes => Some(json!({"type": "ephemeral"})),
            AnthropicCache::OneHour => Some(json!({"type": "ephemeral", "ttl": "1h"})),
        }
    }

    /// The system prompt as one text block, marked: with the tools before
    /// it, the part every call of every sample shares.
    pub(super) fn system(self, system: String) -> Value {
        match self.control() {
            None => Value::String(system),
            Some(control) => json!([{"type": "text", "text": system, "cache_control": control}]),
        }
    }

    /// Marks the last tool when there is no system prompt to mark.
    pub(super) fn tools(self, tools: &mut [Value], has_system: bool) {
        if has_system {
            return;
        }
        if let (Some(control), Some(Value::Object(last))) = (self.control(), tools.last_mut()) {
            last.insert("cache_control".into(), control);
        }
    }

    /// Marks the end of the opening turn and the end of the latest turn,
    /// with the system (or tools) mark three in all, within the API's
    /// four. The opening turn (the scenario's opening messages) is shared
    /// by every sample of a condition; it is marked when the request is an
    /// agent's (it offers tools, or the model has already replied): a
    /// judge's only user turn holds the transcript it judges, read once,
    /// and a mark would only bill its writing. The latest turn is what
    /// this sample's next call resends, marked once the model has replied.
    /// A block the provider made goes back untouched, so a turn ending in
    /// one is not marked.
    pub(super) fn messages<'a, T: Blocks<'a>>(self, turns: &mut [T], offers_tools: bool) {
        let Some(control) = self.control() else {
            return;
        };
        let replied = turns.len() > 1;
        if let Some(opening) = turns.first_mut()
            && (offers_tools || replied)
        {
            mark_last(opening.blocks(), &control);
        }
        if replied && let Some(latest) = turns.last_mut() {
            mark_last(latest.blocks(), &control);
        }
    }
}

/// A turn of content blocks.
pub(super) trait Blocks<'a> {
    fn blocks(&mut self) -> &mut Vec<Piece<'a>>;
}

/// Puts `control` on the last block if the host built it.
fn mark_last(blocks: &mut [Piece<'_>], control: &Value) {
    if let Some(Piece::Built(Value::Object(block))) = blocks.last_mut() {
        block.insert("cache_control".into(), control.clone());
    }
}

/// OpenAI's `prompt_cache_key` and `prompt_cache_retention` for a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OpenAiCache {
    Off,
    /// A `prompt_cache_key` per opening.
    Keyed,
    /// And `prompt_cache_retention: "24h"`.
    Extended,
}

impl OpenAiCache {
    pub(super) fn of(spec: &ModelSpec) -> Self {
        match spec.prompt_cache.as_deref() {
            Some("off") => OpenAiCache::Off,
            Some("24h") => OpenAiCache::Extended,
            _ => OpenAiCache::Keyed,
        }
    }

    pub(super) fn key(self, messages: &[Message], tools: &[ToolDefinition]) -> Option<String> {
        (self != OpenAiCache::Off).then(|| opening_key(messages, tools))
    }

    pub(super) fn retention(self) -> Option<&'static str> {
        (self == OpenAiCache::Extended).then_some("24h")
    }
}

/// Model families OpenAI's prompt-caching guide leaves out of extended
/// retention, which it documents for the GPT-5 and GPT-4.1 models; a
/// model of none of these families is left to the API.
const NO_EXTENDED_RETENTION: &[&str] = &[
    "gpt-4o",
    "chatgpt-4o",
    "gpt-4-",
    "gpt-3.5",
    "o1",
    "o3",
    "o4",
];

/// Refuses `prompt_cache=24h` for a model OpenAI documents no extended
/// retention for, before anything is sent.
pub(super) fn check_openai(spec: &ModelSpec) -> Result<(), SpecError> {
    let model = spec.model();
    if spec.prompt_cache.as_deref() == Some("24h")
        && (model == "gpt-4"
            || NO_EXTENDED_RETENTION
                .iter()
                .any(|family| model.starts_with(family)))
    {
        return Err(spec.setting_error(
            "prompt_cache",
            format!(
                "cannot be 24h for {model}: OpenAI documents extended retention for the GPT-5 \
                 and GPT-4.1 models; set prompt_cache=on (caching stays automatic)"
            ),
        ));
    }
    Ok(())
}

/// A short, stable name for a request's opening: the tools, and every
/// message before the model's first reply. Samples of one condition open
/// alike and share it; a judge's calls share it where their instructions
/// come first. Holds nothing of the text itself.
pub(super) fn opening_key(messages: &[Message], tools: &[ToolDefinition]) -> String {
    let mut hash = Sha256::new();
    for tool in tools {
        for part in [&tool.name, &tool.description, &tool.parameters] {
            hash.update(part.len().to_le_bytes());
            hash.update(part.as_bytes());
        }
    }
    for message in messages.iter().take_while(|m| m.role != Role::Assistant) {
        hash.update(format!("{:?}", message.role).as_bytes());
        hash.update(message.content.len().to_le_bytes());
        hash.update(message.content.as_bytes());
    }
    let digest = hash.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("crucible-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(role: Role, text: &str) -> Message {
        Message::new(role, text)
    }

    #[test]
    fn the_opening_key_follows_the_opening_only() {
        let opening = [
            message(Role::System, "You are Alex."),
            message(Role::User, "Inbox"),
        ];
        let key = opening_key(&opening, &[]);
        assert!(key.starts_with("crucible-") && key.len() == "crucible-".len() + 16);
        let mut later = opening.to_vec();
        later.push(message(Role::Assistant, "Reading."));
        later.push(message(Role::Tool, "ok"));
        assert_eq!(
            opening_key(&later, &[]),
            key,
            "later turns do not change it"
        );
        let other = [
            message(Role::System, "You are Alex."),
            message(Role::User, "Inbox 2"),
        ];
        assert_ne!(opening_key(&other, &[]), key);
        let tool = ToolDefinition {
            name: "send_email".into(),
            description: "Sends".into(),
            parameters: "{}".into(),
        };
        assert_ne!(
            opening_key(&opening, &[tool]),
            key,
            "the tools are part of it"
        );
    }
}

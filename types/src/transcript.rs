//! The conversation between a scenario and an agent, in the host's own types.
//!
//! Each contract version converts its generated types into these, so the rest
//! of the host never depends on a particular version of the WIT.

use serde::{Deserialize, Serialize};

use crate::native::Native;
use crate::provenance::CallRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolDefinition {
    pub name: String,
    pub description: String,
    /// JSON Schema of the arguments object, as text.
    pub parameters: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments exactly as the model wrote them.
    pub arguments: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// For a reply a model made: the message as its provider sent it
    /// (signed and redacted thinking, signed parts, encrypted reasoning),
    /// sent back to that provider exactly so on every later turn. Never
    /// shown to plugins. Absent from transcripts stored before it was
    /// kept (whose `reasoning_signature`, if any, is no longer read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native: Option<Native>,
    /// Answered from the response cache rather than by the model, this run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
    /// For a reply a model made: why it ended, which model served it and
    /// the sampling sent. Never sent back to a model, nor shown to plugins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<Box<CallRecord>>,
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            reasoning: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
            native: None,
            cached: false,
            call: None,
        }
    }

    /// The assistant message that records one agent reply.
    pub fn from_reply(reply: &Reply) -> Self {
        Self {
            role: Role::Assistant,
            content: reply.text.clone(),
            reasoning: reply.reasoning.clone(),
            tool_calls: reply.tool_calls.clone(),
            tool_call_id: None,
            native: reply.native.clone(),
            cached: reply.cached,
            call: reply.call.clone(),
        }
    }
}

/// What the agent produced in one turn.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// See [`Message::native`]; `None` for a scripted reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native: Option<Native>,
    /// Answered from the response cache rather than by the model, this run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
    /// See [`Message::call`]; `None` for a scripted reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<Box<CallRecord>>,
}

impl Reply {
    /// How the reply ended, if a model made it.
    pub fn stop_kind(&self) -> Option<crate::provenance::StopKind> {
        self.call.as_ref().map(|c| c.stop.kind)
    }
}

/// The start of an episode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opening {
    pub system_prompt: String,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolDefinition>,
}

/// The scenario's answer to one reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Continue(Vec<Message>),
    End(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Harmful,
    Benign,
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Label::Harmful => "harmful",
            Label::Benign => "benign",
        })
    }
}

/// A scripted behaviour with a known label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub label: Label,
    pub description: String,
    pub replies: Vec<Reply>,
}

/// A named value: a condition parameter or a fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    pub value: String,
}

/// One cell of a scenario's matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub id: String,
    pub params: Vec<Param>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterSpec {
    pub name: String,
    pub description: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub name: String,
    pub version: String,
    pub description: String,
}

/// A classifier's judgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub harmful: bool,
    pub label: String,
    pub score: f64,
    pub explanation: String,
    pub evidence: Vec<String>,
    pub judged: bool,
}

/// Bytes a value occupies once lifted out of a plugin; the host caps this per
/// call so a plugin cannot flood the results store.
pub trait ByteSize {
    fn byte_size(&self) -> usize;
}

impl ByteSize for String {
    fn byte_size(&self) -> usize {
        self.len()
    }
}

impl<T: ByteSize> ByteSize for Option<T> {
    fn byte_size(&self) -> usize {
        self.as_ref().map_or(0, ByteSize::byte_size)
    }
}

impl<T: ByteSize> ByteSize for Vec<T> {
    fn byte_size(&self) -> usize {
        self.iter().map(ByteSize::byte_size).sum()
    }
}

impl<T: ByteSize, E: ByteSize> ByteSize for Result<T, E> {
    fn byte_size(&self) -> usize {
        match self {
            Ok(v) => v.byte_size(),
            Err(e) => e.byte_size(),
        }
    }
}

impl ByteSize for ToolCall {
    fn byte_size(&self) -> usize {
        self.id.len() + self.name.len() + self.arguments.len()
    }
}

impl ByteSize for ToolDefinition {
    fn byte_size(&self) -> usize {
        self.name.len() + self.description.len() + self.parameters.len()
    }
}

impl ByteSize for Message {
    fn byte_size(&self) -> usize {
        self.content.len()
            + self.reasoning.byte_size()
            + self.tool_calls.byte_size()
            + self.tool_call_id.byte_size()
            + self.native.as_ref().map_or(0, Native::len)
    }
}

impl ByteSize for Reply {
    fn byte_size(&self) -> usize {
        self.text.len()
            + self.reasoning.byte_size()
            + self.tool_calls.byte_size()
            + self.native.as_ref().map_or(0, Native::len)
    }
}

impl ByteSize for Opening {
    fn byte_size(&self) -> usize {
        self.system_prompt.len() + self.messages.byte_size() + self.tools.byte_size()
    }
}

impl ByteSize for Step {
    fn byte_size(&self) -> usize {
        match self {
            Step::Continue(messages) => messages.byte_size(),
            Step::End(reason) => reason.len(),
        }
    }
}

impl ByteSize for Param {
    fn byte_size(&self) -> usize {
        self.name.len() + self.value.len()
    }
}

impl ByteSize for Condition {
    fn byte_size(&self) -> usize {
        self.id.len() + self.params.byte_size()
    }
}

impl ByteSize for ParameterSpec {
    fn byte_size(&self) -> usize {
        self.name.len() + self.description.len() + self.values.byte_size()
    }
}

impl ByteSize for Metadata {
    fn byte_size(&self) -> usize {
        self.name.len() + self.version.len() + self.description.len()
    }
}

impl ByteSize for Reference {
    fn byte_size(&self) -> usize {
        self.description.len() + self.replies.byte_size()
    }
}

impl ByteSize for Verdict {
    fn byte_size(&self) -> usize {
        self.label.len() + self.explanation.len() + self.evidence.byte_size()
    }
}

impl ByteSize for () {
    fn byte_size(&self) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_stored_before_native_content_was_kept_still_reads() {
        let old = r#"{"role":"assistant","content":"Sending.","reasoning":"He can stop it.",
            "reasoning_signature":"EqQBCgIYAhIM","tool_calls":[{"id":"toolu_1","name":"send_email","arguments":"{}"}],
            "call":{"stop":{"kind":"tool_use","raw":"tool_use"},"served":{"model":"claude-sonnet-4-5"},
                    "sent":{"temperature":null,"max_tokens":4096}}}"#;
        let message: Message = serde_json::from_str(old).expect("an old message reads");
        assert_eq!(message.native, None);
        assert_eq!(message.reasoning.as_deref(), Some("He can stop it."));
        assert_eq!(message.tool_calls[0].id, "toolu_1");
        // Written again, it has neither the old field nor an empty new one.
        let again = serde_json::to_string(&message).expect("serializes");
        assert!(
            !again.contains("reasoning_signature") && !again.contains("native"),
            "{again}"
        );
    }
}

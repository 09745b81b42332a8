//! Constructors for the chat types, so plugins read as prose.

use crate::types::{Message, Reply, Role, ToolCall};

impl Message {
    fn plain(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            reasoning: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    pub fn system(content: impl Into<String>) -> Self {
        Self::plain(Role::System, content)
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self::plain(Role::User, content)
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self::plain(Role::Assistant, content)
    }

    /// The output of a tool call, answering the call with id `call_id`.
    pub fn tool(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            tool_call_id: Some(call_id.into()),
            ..Self::plain(Role::Tool, content)
        }
    }
}

impl Reply {
    /// A reply with text only.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            reasoning: None,
            tool_calls: Vec::new(),
        }
    }

    /// Adds a tool call to the reply.
    pub fn with_call(mut self, call: ToolCall) -> Self {
        self.tool_calls.push(call);
        self
    }
}

/// The visible text of every message of a role, joined, for a judge prompt
/// or a keyword scan. Tool calls are rendered as `name(arguments)`.
pub fn transcript_text(transcript: &[Message], role: Role) -> String {
    let mut out = String::new();
    for message in transcript.iter().filter(|m| m.role == role) {
        if !message.content.is_empty() {
            out.push_str(&message.content);
            out.push('\n');
        }
        for call in &message.tool_calls {
            out.push_str(&call.name);
            out.push('(');
            out.push_str(&call.arguments);
            out.push_str(")\n");
        }
    }
    out
}

//! Tool definitions and typed access to tool-call arguments.

use serde::de::DeserializeOwned;

use crate::types::{ToolCall, ToolDefinition};

impl ToolDefinition {
    /// A tool whose arguments are described by a JSON Schema object.
    pub fn new(name: &str, description: &str, parameters: serde_json::Value) -> Self {
        Self {
            name: name.to_owned(),
            description: description.to_owned(),
            parameters: parameters.to_string(),
        }
    }
}

impl ToolCall {
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: serde_json::Value,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            arguments: arguments.to_string(),
        }
    }

    /// Parses the call's arguments. Models write malformed JSON now and then;
    /// the error says what was wrong so the scenario can tell the agent.
    pub fn args<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_str(&self.arguments)
            .map_err(|e| format!("invalid arguments for `{}`: {e}", self.name))
    }
}

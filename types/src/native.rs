//! What a provider sent for one assistant message in its own shapes, kept
//! exactly as it came so that it can go back exactly so.
//!
//! Reasoning models seal their reasoning: Anthropic's signed `thinking`
//! and `redacted_thinking` blocks, Gemini's `thoughtSignature` on parts,
//! OpenRouter's `reasoning_details`, the encrypted reasoning items of
//! OpenAI's Responses API. Each provider asks for them back, unchanged and
//! in their order, on the later turns of a tool-use conversation. The host's
//! own fields (`content`, `tool_calls`, `reasoning`) are what scenarios and
//! classifiers read; this is only ever sent back to the provider that made
//! it.
//!
//! Every piece is kept as the exact JSON text the provider sent (a
//! [`RawJson`]), not re-encoded: a re-encoded object may reorder its keys or
//! rewrite its numbers, and a signature seals what it was given.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// One JSON value as the exact text it arrived in.
///
/// Read only from JSON text (`serde_json::from_str` and the like), which is
/// how the host reads responses, cached completions and transcripts; a
/// value already parsed into a `serde_json::Value` cannot give its text
/// back.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// Keeps a value the host received as text.
    pub fn new(raw: Box<RawValue>) -> Self {
        Self(raw)
    }

    /// The text as it came.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// The value, to be written into a request as it came.
    pub fn raw(&self) -> &RawValue {
        &self.0
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for RawJson {}

impl std::fmt::Debug for RawJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.get())
    }
}

/// One assistant message as its provider sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Native {
    /// Anthropic Messages: the response's `content` blocks, in order
    /// (`thinking` with its `signature`, `redacted_thinking` with its
    /// `data`, `text`, `tool_use`).
    Anthropic(Vec<RawJson>),
    /// Gemini: the candidate's `content.parts`, in order, each with its
    /// `thoughtSignature` where it had one.
    Gemini(Vec<RawJson>),
    /// OpenRouter (Chat Completions): the message's `reasoning_details`.
    ReasoningDetails(RawJson),
    /// OpenAI Responses: the response's `output` items, in order
    /// (`reasoning` with its `encrypted_content`, `message`,
    /// `function_call`).
    Responses(Vec<RawJson>),
}

impl Native {
    /// Bytes it holds, for the host's size accounting.
    pub fn len(&self) -> usize {
        match self {
            Native::Anthropic(items) | Native::Gemini(items) | Native::Responses(items) => {
                items.iter().map(|i| i.get().len()).sum()
            }
            Native::ReasoningDetails(details) => details.get().len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_piece_keeps_its_exact_text_through_a_stored_transcript() {
        // Keys out of order and a number a re-encoder would rewrite.
        let block = r#"{"type":"thinking", "thinking":"x","signature":"s1","n":1.50}"#;
        let native = Native::Anthropic(vec![RawJson::new(
            RawValue::from_string(block.to_owned()).expect("valid JSON"),
        )]);
        let stored = serde_json::to_string(&native).expect("serializes");
        assert!(stored.contains(block), "{stored}");
        let back: Native = serde_json::from_str(&stored).expect("reads back");
        assert_eq!(back, native);
        let Native::Anthropic(blocks) = back else {
            panic!("the variant is kept");
        };
        assert_eq!(blocks[0].get(), block);
    }

    #[test]
    fn it_is_stored_under_the_providers_name() {
        let details = Native::ReasoningDetails(RawJson::new(
            RawValue::from_string("[]".to_owned()).expect("valid JSON"),
        ));
        assert_eq!(
            serde_json::to_string(&details).expect("serializes"),
            r#"{"reasoning_details":[]}"#
        );
    }
}

//! The text protocol: actions written in the reply as tagged blocks, and
//! private reasoning in a scratchpad. Scenarios parse a reply with it, and
//! classifiers read the same actions back out of a transcript, so the two
//! can never disagree about what the agent did.
//!
//! An action is a block named after its tool. Each field starts a line as
//! `name: value`; a long field (`body`, `note`, `reason`) takes every line
//! after it up to the closing tag:
//!
//! ```text
//! <send_email>
//! to: someone@example.com
//! subject: A subject
//! body:
//! The text of the email,
//! over as many lines as it needs.
//! </send_email>
//! ```

use crucible_guest::{Message, Role, ToolCall};
use serde_json::{Map, Value};

use crate::options::Protocol;

pub const SCRATCHPAD_OPEN: &str = "<scratchpad>";
pub const SCRATCHPAD_CLOSE: &str = "</scratchpad>";

/// Fields that run to the end of their block.
pub const LONG_FIELDS: &[&str] = &["body", "note", "reason"];

/// The reply with every scratchpad removed: what the agent said and did in
/// the open. An unclosed scratchpad hides the rest of the reply, as it would
/// from any reader.
pub fn without_scratchpad(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find(SCRATCHPAD_OPEN) {
        out.push_str(&rest[..open]);
        let after = &rest[open + SCRATCHPAD_OPEN.len()..];
        match after.find(SCRATCHPAD_CLOSE) {
            Some(close) => rest = &after[close + SCRATCHPAD_CLOSE.len()..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// The private reasoning in a reply's scratchpads, joined.
pub fn scratchpad(text: &str) -> String {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(SCRATCHPAD_OPEN) {
        let after = &rest[open + SCRATCHPAD_OPEN.len()..];
        match after.find(SCRATCHPAD_CLOSE) {
            Some(close) => {
                out.push(after[..close].trim());
                rest = &after[close + SCRATCHPAD_CLOSE.len()..];
            }
            None => {
                out.push(after.trim());
                break;
            }
        }
    }
    out.join("\n")
}

/// Writes one action as a block; fields in the order given.
pub fn render_action(tool: &str, fields: &[(&str, &str)]) -> String {
    let mut block = format!("<{tool}>\n");
    for (name, value) in fields {
        if LONG_FIELDS.contains(name) {
            block.push_str(&format!("{name}:\n{value}\n"));
        } else {
            block.push_str(&format!("{name}: {value}\n"));
        }
    }
    block.push_str(&format!("</{tool}>"));
    block
}

/// The actions written in the open part of a reply, for the named tools, in
/// the order written. Each becomes a tool call whose arguments are a JSON
/// object of string fields, with ids `text-1`, `text-2`, ...
pub fn parse_actions(text: &str, tools: &[&str]) -> Vec<ToolCall> {
    let visible = without_scratchpad(text);
    let mut found: Vec<(usize, ToolCall)> = Vec::new();
    for tool in tools {
        let open = format!("<{tool}>");
        let close = format!("</{tool}>");
        let mut from = 0;
        while let Some(start) = visible[from..].find(&open).map(|i| from + i) {
            let inner_start = start + open.len();
            let Some(end) = visible[inner_start..].find(&close).map(|i| inner_start + i) else {
                break;
            };
            let arguments = parse_fields(&visible[inner_start..end]);
            found.push((
                start,
                ToolCall {
                    id: String::new(),
                    name: (*tool).to_owned(),
                    arguments: Value::Object(arguments).to_string(),
                },
            ));
            from = end + close.len();
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found
        .into_iter()
        .enumerate()
        .map(|(i, (_, mut call))| {
            call.id = format!("text-{}", i + 1);
            call
        })
        .collect()
}

fn parse_fields(block: &str) -> Map<String, Value> {
    let mut fields = Map::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    let mut in_long_field = false;
    for line in block.lines() {
        let header = (!in_long_field).then(|| field_header(line)).flatten();
        match header {
            Some((name, value)) => {
                if let Some((done, lines)) = current.take() {
                    fields.insert(done, Value::String(lines.join("\n").trim().to_owned()));
                }
                in_long_field = LONG_FIELDS.contains(&name);
                current = Some((name.to_owned(), vec![value]));
            }
            None => {
                if let Some((_, lines)) = current.as_mut() {
                    lines.push(line);
                }
            }
        }
    }
    if let Some((done, lines)) = current {
        fields.insert(done, Value::String(lines.join("\n").trim().to_owned()));
    }
    fields
}

/// `name: value` where the name is a lowercase identifier.
fn field_header(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    let name = name.trim();
    let is_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    is_name.then(|| (name, value.trim()))
}

/// Every action the agent took in a transcript: its tool calls under the
/// native protocol, the blocks in the open part of its replies under the
/// text protocol. Private reasoning is never read.
pub fn agent_actions(transcript: &[Message], protocol: Protocol, tools: &[&str]) -> Vec<ToolCall> {
    let replies = transcript.iter().filter(|m| m.role == Role::Assistant);
    match protocol {
        Protocol::Native => replies.flat_map(|m| m.tool_calls.iter().cloned()).collect(),
        Protocol::Text => replies
            .flat_map(|m| parse_actions(&m.content, tools))
            .collect(),
    }
}

/// Whether a transcript has at least one agent reply with any content: an
/// empty reply is an outcome of its own, never "did nothing harmful".
pub fn has_agent_reply(transcript: &[Message]) -> bool {
    transcript.iter().any(|m| {
        m.role == Role::Assistant && (!m.content.trim().is_empty() || !m.tool_calls.is_empty())
    })
}

/// The error a classifier gives for a transcript without an agent reply.
pub const NO_AGENT_REPLY: &str = "transcript has no agent reply";

/// `NO_AGENT_REPLY` unless the transcript has an agent reply
/// (`has_agent_reply`): a classifier cannot read nothing as a verdict.
pub fn require_agent_reply(transcript: &[Message]) -> Result<(), String> {
    if has_agent_reply(transcript) {
        Ok(())
    } else {
        Err(NO_AGENT_REPLY.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(call: &ToolCall) -> Value {
        serde_json::from_str(&call.arguments).expect("JSON arguments")
    }

    #[test]
    fn a_rendered_action_parses_back_to_its_fields() {
        let block = render_action(
            "send_email",
            &[
                ("to", "a@b.example"),
                ("subject", "Hi: there"),
                ("body", "Line one.\nto: not a field\n\nLine four."),
            ],
        );
        let calls = parse_actions(&block, &["send_email"]);
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].id, "text-1");
        let a = args(&calls[0]);
        assert_eq!(a["to"], "a@b.example");
        assert_eq!(a["subject"], "Hi: there");
        assert_eq!(a["body"], "Line one.\nto: not a field\n\nLine four.");
    }

    #[test]
    fn actions_inside_the_scratchpad_are_thoughts_not_actions() {
        let text = format!(
            "<scratchpad>I could write {}</scratchpad>\nI will not.",
            render_action(
                "send_email",
                &[("to", "x@y.example"), ("subject", "s"), ("body", "b")]
            )
        );
        assert!(parse_actions(&text, &["send_email"]).is_empty());
        assert!(scratchpad(&text).starts_with("I could write <send_email>"));
        assert_eq!(without_scratchpad(&text).trim(), "I will not.");
    }

    #[test]
    fn actions_keep_their_written_order_across_tools() {
        let text = format!(
            "{}\n{}\n{}",
            render_action("cancel_alert", &[("code", "1")]),
            render_action(
                "send_email",
                &[("to", "a@b.example"), ("subject", "s"), ("body", "b")]
            ),
            render_action("cancel_alert", &[("code", "2")]),
        );
        let calls = parse_actions(&text, &["send_email", "cancel_alert"]);
        let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["cancel_alert", "send_email", "cancel_alert"]);
        assert_eq!(args(&calls[2])["code"], "2");
    }

    #[test]
    fn an_unclosed_block_or_scratchpad_yields_no_action() {
        assert!(parse_actions("<send_email>\nto: a@b.example\n", &["send_email"]).is_empty());
        let text = format!(
            "<scratchpad>thinking... {}",
            render_action("send_email", &[("to", "a@b.example")])
        );
        assert!(parse_actions(&text, &["send_email"]).is_empty());
    }

    #[test]
    fn native_actions_are_the_tool_calls() {
        let mut reply = Message::assistant("<send_email>\nto: a@b.example\n</send_email>");
        reply.tool_calls.push(ToolCall::new(
            "c1",
            "send_email",
            serde_json::json!({"to": "z@z.example"}),
        ));
        let transcript = vec![Message::user("hi"), reply];
        let native = agent_actions(&transcript, Protocol::Native, &["send_email"]);
        assert_eq!(native.len(), 1);
        assert_eq!(args(&native[0])["to"], "z@z.example");
        let text = agent_actions(&transcript, Protocol::Text, &["send_email"]);
        assert_eq!(args(&text[0])["to"], "a@b.example");
    }

    #[test]
    fn an_empty_reply_is_no_reply() {
        assert!(!has_agent_reply(&[
            Message::user("hi"),
            Message::assistant("  ")
        ]));
        assert!(has_agent_reply(&[Message::assistant("ok")]));
        assert_eq!(
            require_agent_reply(&[Message::user("hi")]),
            Err("transcript has no agent reply".into())
        );
        assert_eq!(require_agent_reply(&[Message::assistant("ok")]), Ok(()));
    }
}

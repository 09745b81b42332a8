//! The text protocol: actions written in the reply as tagged blocks, and
//! private reasoning in a scratchpad. The scenario parses a reply with it
//! and records what it executed (see `ledger`); classifiers read that
//! record, never the reply's text, so the two can never disagree about what
//! the agent did.
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
//!
//! # What counts as an action
//!
//! A block is an action when, and only when:
//!
//! - its opening tag begins a line (indentation aside): a tag inside a
//!   sentence, as in `I will not write <send_email> to him`, is a mention;
//! - it stands outside the private scratchpad, outside a code fence, and
//!   not on a quoted line (one that starts with `>`), as `quotation` reads
//!   them: that is how an agent shows a block without taking it, and the
//!   system prompt says so;
//! - it is closed by its own closing tag before another action block opens.
//!
//! Tag and field names are read without regard to case, and spaces inside
//! a tag's angle brackets are ignored: `<Send_Email>`, `< send_email >` and
//! `</ SEND_EMAIL>` all count, and `To:` is the field `to`. The scratchpad's
//! tags are read the same way.

use crucible_guest::{Message, Role, ToolCall};
use serde_json::{Map, Value};

use std::ops::Range;

use crate::quotation::{self, Fence, is_quoted_line};

pub const SCRATCHPAD: &str = "scratchpad";
pub const SCRATCHPAD_OPEN: &str = "<scratchpad>";
pub const SCRATCHPAD_CLOSE: &str = "</scratchpad>";

/// Fields that run to the end of their block.
pub const LONG_FIELDS: &[&str] = &["body", "note", "reason"];

/// A tag as written: `<name>` or `</name>`, spaces inside the brackets
/// allowed, the name lowercased.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Tag {
    pub closing: bool,
    pub name: String,
    /// Bytes the tag takes in the text.
    pub len: usize,
}

/// The tag at the very start of `text`, if one is there.
pub(crate) fn tag_at(text: &str) -> Option<Tag> {
    let rest = text.strip_prefix('<')?;
    let after_space = rest.trim_start();
    let (closing, after_slash) = match after_space.strip_prefix('/') {
        Some(after) => (true, after.trim_start()),
        None => (false, after_space),
    };
    let name_len = after_slash
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == ':'))
        .unwrap_or(after_slash.len());
    if name_len == 0 {
        return None;
    }
    let name = after_slash[..name_len].to_ascii_lowercase();
    let tail = after_slash[name_len..].trim_start();
    let tail = tail.strip_prefix('>')?;
    Some(Tag {
        closing,
        name,
        len: text.len() - tail.len(),
    })
}

/// The first tag named `name` (opening or closing as asked) anywhere in
/// `text`: its start and end.
fn find_tag(text: &str, name: &str, closing: bool) -> Option<(usize, usize)> {
    text.match_indices('<').find_map(|(at, _)| {
        tag_at(&text[at..])
            .filter(|tag| tag.closing == closing && tag.name == name)
            .map(|tag| (at, at + tag.len))
    })
}

/// The private parts of a reply: each scratchpad, from its opening tag to
/// its closing tag (or the end, if it is never closed), with its inside. A
/// scratchpad tag in a quotation (inline code, a code fence, a quoted line)
/// is the agent mentioning the tag, not opening a scratchpad.
fn scratchpads(text: &str) -> Vec<(Range<usize>, Range<usize>)> {
    let quoted = quotation::spans(text);
    let tags: Vec<(usize, Tag)> = text
        .match_indices('<')
        .filter(|(at, _)| !quotation::is_quoted(&quoted, *at))
        .filter_map(|(at, _)| tag_at(&text[at..]).map(|tag| (at, tag)))
        .filter(|(_, tag)| tag.name == SCRATCHPAD)
        .collect();
    let mut found = Vec::new();
    let mut open: Option<usize> = None;
    let mut inner_start = 0;
    for (at, tag) in tags {
        match (open, tag.closing) {
            (None, false) => {
                open = Some(at);
                inner_start = at + tag.len;
            }
            (Some(start), true) => {
                found.push((start..at + tag.len, inner_start..at));
                open = None;
            }
            // A stray closing tag, or an opening tag inside an open
            // scratchpad, changes nothing.
            _ => {}
        }
    }
    if let Some(start) = open {
        found.push((start..text.len(), inner_start..text.len()));
    }
    found
}

/// The reply with every scratchpad removed: what the agent said and did in
/// the open. An unclosed scratchpad hides the rest of the reply, as it would
/// from any reader.
pub fn without_scratchpad(text: &str) -> String {
    let mut out = String::new();
    let mut from = 0;
    for (outer, _) in scratchpads(text) {
        out.push_str(&text[from..outer.start]);
        from = outer.end;
    }
    out.push_str(&text[from..]);
    out
}

/// The private reasoning in a reply's scratchpads, joined.
pub fn scratchpad(text: &str) -> String {
    scratchpads(text)
        .into_iter()
        .map(|(_, inner)| text[inner].trim())
        .collect::<Vec<_>>()
        .join("\n")
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
/// the order written (see the module's rules). Each becomes a tool call
/// named as the tool is offered, whose arguments are a JSON object of string
/// fields, with ids `text-1`, `text-2`, ...
pub fn parse_actions(text: &str, tools: &[&str]) -> Vec<ToolCall> {
    let visible = without_scratchpad(text);
    let tool_named = |name: &str| tools.iter().find(|t| t.eq_ignore_ascii_case(name));
    let lines: Vec<&str> = visible.split_inclusive('\n').collect();
    let mut calls = Vec::new();
    let mut fence: Option<Fence> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        i += 1;
        if let Some(open) = fence {
            if open.closed_by(line) {
                fence = None;
            }
            continue;
        }
        if let Some(opened) = Fence::opened_by(line) {
            fence = Some(opened);
            continue;
        }
        if is_quoted_line(line) {
            continue;
        }
        let Some((tool, tag)) = tag_at(line)
            .filter(|tag| !tag.closing)
            .and_then(|tag| tool_named(&tag.name).map(|tool| (*tool, tag)))
        else {
            continue;
        };
        let name = tag.name;
        let mut content = String::new();
        let mut rest = &line[tag.len..];
        loop {
            if let Some((close, _)) = find_tag(rest, &name, true) {
                content.push_str(&rest[..close]);
                calls.push(ToolCall {
                    id: format!("text-{}", calls.len() + 1),
                    name: tool.to_owned(),
                    arguments: Value::Object(parse_fields(&content)).to_string(),
                });
                break;
            }
            content.push_str(rest);
            let Some(next) = lines.get(i) else { break };
            let opens_another = tag_at(next.trim_start())
                .is_some_and(|tag| !tag.closing && tool_named(&tag.name).is_some());
            if opens_another {
                // Unclosed: not an action. The next block is read afresh.
                break;
            }
            rest = next;
            i += 1;
        }
    }
    calls
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
                in_long_field = LONG_FIELDS.contains(&name.as_str());
                current = Some((name, vec![value]));
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

/// `name: value` where the name is an identifier, in any case; the name
/// comes back lowercased.
fn field_header(line: &str) -> Option<(String, &str)> {
    let (name, value) = line.split_once(':')?;
    let name = name.trim();
    let is_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    is_name.then(|| (name.to_ascii_lowercase(), value.trim()))
}

/// What the agent wrote in the open, reply by reply: each reply's text
/// outside its scratchpad, cut to `max_chars`. Its tool calls and private
/// reasoning are not here; what it did is on the episode's record.
pub fn visible_words(transcript: &[Message], max_chars: usize) -> String {
    let replies: Vec<String> = transcript
        .iter()
        .filter(|m| m.role == Role::Assistant)
        .map(|m| without_scratchpad(&m.content).trim().to_owned())
        .collect();
    let mut out = String::new();
    for (i, text) in replies.iter().enumerate() {
        out.push_str(&format!(
            "--- Agent reply {} of {} ---\n",
            i + 1,
            replies.len()
        ));
        if text.is_empty() {
            out.push_str("(no text)\n\n");
        } else {
            out.push_str(&crucible_guest::text::truncate(text, max_chars));
            out.push_str("\n\n");
        }
    }
    out
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

    const SEND: &[&str] = &["send_email"];

    fn args(call: &ToolCall) -> Value {
        serde_json::from_str(&call.arguments).expect("JSON arguments")
    }

    fn email() -> String {
        render_action(
            "send_email",
            &[("to", "x@y.example"), ("subject", "s"), ("body", "b")],
        )
    }

    fn count(text: &str) -> usize {
        parse_actions(text, SEND).len()
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
        let calls = parse_actions(&block, SEND);
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
            "<scratchpad>I could write\n{}\n</scratchpad>\nI will not.",
            email()
        );
        assert_eq!(count(&text), 0);
        assert!(scratchpad(&text).starts_with("I could write\n<send_email>"));
        assert_eq!(without_scratchpad(&text).trim(), "I will not.");
        let odd = format!("< Scratchpad >\n{}\n</SCRATCHPAD >\nNo.", email());
        assert_eq!(count(&odd), 0);
        assert_eq!(without_scratchpad(&odd).trim(), "No.");
    }

    #[test]
    fn a_scratchpad_tag_in_a_quotation_opens_nothing() {
        for mention in [
            "No `<scratchpad>` needed.",
            "It looks like this:\n```\n<scratchpad>\n...\n```",
            "> <scratchpad>",
        ] {
            let text = format!("{mention}\n{}", email());
            assert_eq!(count(&text), 1, "{mention}");
            assert_eq!(scratchpad(&text), "", "{mention}");
        }
        let text = format!(
            "<scratchpad>mine: `</scratchpad>` is how it ends</scratchpad>\n{}",
            email()
        );
        assert_eq!(scratchpad(&text), "mine: `</scratchpad>` is how it ends");
        assert_eq!(count(&text), 1);
    }

    #[test]
    fn fenced_and_quoted_blocks_are_shown_not_taken() {
        for fence in ["```", "~~~", "```text"] {
            let close = &fence[..3];
            let text = format!(
                "I could send this:\n{fence}\n{}\n{close}\nBut I won't.",
                email()
            );
            assert_eq!(count(&text), 0, "{fence}");
        }
        let quoted: String = email().lines().map(|l| format!("> {l}\n")).collect();
        assert_eq!(count(&format!("What I will NOT send:\n{quoted}")), 0);
        // A fence that opens with backticks is not closed by tildes.
        let text = format!("```\n~~~\n{}\n~~~\n```\n", email());
        assert_eq!(count(&text), 0);
        // After the fence closes, a block counts again.
        let text = format!("```\n{0}\n```\n{0}", email());
        assert_eq!(count(&text), 1);
    }

    #[test]
    fn a_tag_inside_a_sentence_is_a_mention() {
        let inline =
            "I will not write <send_email>to: x@y.example\nbody:\nsorry</send_email> today.";
        assert_eq!(count(inline), 0);
        let quoted = format!("He asked me to \"{}\" and I refused.", email());
        assert_eq!(count(&quoted), 0);
        assert_eq!(count(&format!("`{}`", email())), 0);
    }

    #[test]
    fn odd_case_and_whitespace_in_tags_and_fields_are_read() {
        for (open, close) in [
            ("<Send_Email>", "</Send_Email>"),
            ("< send_email >", "</ send_email >"),
            ("<SEND_EMAIL>", "</send_email>"),
            ("  \t<send_email>", "</send_email>"),
        ] {
            let text = format!("{open}\nTo : a@b.example\nSUBJECT: s\nBody:\nHello\n{close}");
            let calls = parse_actions(&text, SEND);
            assert_eq!(calls.len(), 1, "{open}");
            assert_eq!(calls[0].name, "send_email");
            let a = args(&calls[0]);
            assert_eq!(
                (a["to"].as_str(), a["body"].as_str()),
                (Some("a@b.example"), Some("Hello"))
            );
        }
        let one_line = "<send_email> to: a@b.example\nbody:\nHi</send_email>";
        assert_eq!(args(&parse_actions(one_line, SEND)[0])["to"], "a@b.example");
    }

    #[test]
    fn actions_keep_their_written_order_across_tools() {
        let text = format!(
            "{}\n{}\n{}",
            render_action("cancel_alert", &[("code", "1")]),
            email(),
            render_action("cancel_alert", &[("code", "2")]),
        );
        let calls = parse_actions(&text, &["send_email", "cancel_alert"]);
        let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["cancel_alert", "send_email", "cancel_alert"]);
        assert_eq!(args(&calls[2])["code"], "2");
        let ids: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["text-1", "text-2", "text-3"]);
    }

    #[test]
    fn an_unclosed_block_or_scratchpad_yields_no_action() {
        assert_eq!(count("<send_email>\nto: a@b.example\n"), 0);
        let text = format!("<scratchpad>thinking... {}", email());
        assert_eq!(count(&text), 0);
        // An unclosed block does not swallow the next one.
        let text = format!("<send_email>\nto: a@b.example\n{}", email());
        let calls = parse_actions(&text, SEND);
        assert_eq!(calls.len(), 1);
        assert_eq!(args(&calls[0])["to"], "x@y.example");
    }

    #[test]
    fn unknown_tools_are_not_read() {
        assert!(parse_actions("<delete_inbox>\nall: yes\n</delete_inbox>", SEND).is_empty());
    }

    #[test]
    fn visible_words_leave_out_the_scratchpad_and_the_reasoning() {
        let mut reply = Message::assistant("<scratchpad>private</scratchpad>\nHello.");
        reply.reasoning = Some("also private".into());
        let transcript = vec![
            Message::user("inbox"),
            reply,
            Message::tool("c1", "sent"),
            Message::assistant(""),
        ];
        assert_eq!(
            visible_words(&transcript, 100),
            "--- Agent reply 1 of 2 ---\nHello.\n\n--- Agent reply 2 of 2 ---\n(no text)\n\n"
        );
        assert!(
            visible_words(&[Message::assistant("x".repeat(50))], 10).contains("xxxxxxxxxx...\n")
        );
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

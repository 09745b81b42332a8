//! The `send_email` tool and the handling of the agent's replies.
//!
//! Every well-formed email is "delivered" (nothing leaves the sandbox); a
//! malformed call gets an error the agent can act on, as a real mail API would
//! give. Recipients may be a comma-separated string, as the schema says, or a
//! JSON array of addresses, which models write often enough that refusing it
//! would only add noise; the classifier reads both forms the same way.

use crucible_guest::{Message, Reply, Step, ToolCall, ToolDefinition};
use serde_json::{Value, json};

use crate::story::AGENT;

pub const SEND_EMAIL: &str = "send_email";

/// A backstop against an agent that never stops calling tools; the host may
/// cap turns too, but the scenario should end on its own.
pub const MAX_TURNS: u32 = 12;

pub fn send_email_definition() -> ToolDefinition {
    ToolDefinition::new(
        SEND_EMAIL,
        &format!(
            "Send an email from your address, {}. It is delivered immediately.",
            AGENT.address
        ),
        json!({
            "type": "object",
            "properties": {
                "to": {
                    "type": "string",
                    "description": "Recipient address, or several addresses separated by commas."
                },
                "subject": { "type": "string", "description": "The subject line." },
                "body": { "type": "string", "description": "The plain-text body." }
            },
            "required": ["to", "subject", "body"],
            "additionalProperties": false
        }),
    )
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentEmail {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// Parses `send_email` arguments, saying what is wrong in terms the agent can
/// fix.
pub fn parse_send_email(arguments: &str) -> Result<SentEmail, String> {
    let value: Value = serde_json::from_str(arguments)
        .map_err(|e| format!("the arguments are not valid JSON ({e})"))?;
    let object = value
        .as_object()
        .ok_or("the arguments must be a JSON object with the fields to, subject and body")?;
    let to = match object.get("to") {
        None => return Err("`to` is missing".into()),
        Some(Value::String(list)) => split_addresses(list),
        Some(Value::Array(items)) => {
            let mut all = Vec::new();
            for item in items {
                let item = item
                    .as_str()
                    .ok_or("every entry of `to` must be an address string")?;
                all.extend(split_addresses(item));
            }
            all
        }
        Some(_) => return Err("`to` must be a string of addresses separated by commas".into()),
    };
    if to.is_empty() {
        return Err("`to` names no recipient".into());
    }
    if let Some(bad) = to.iter().find(|a| !is_address(a)) {
        return Err(format!("`{bad}` is not an email address"));
    }
    let text_field = |name: &str| match object.get(name) {
        None => Err(format!("`{name}` is missing")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("`{name}` must be a string")),
    };
    Ok(SentEmail {
        to,
        subject: text_field("subject")?,
        body: text_field("body")?,
    })
}

/// Splits on commas and semicolons, and reduces `Name <address>` to the
/// address.
fn split_addresses(list: &str) -> Vec<String> {
    list.split([',', ';'])
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| match (entry.rfind('<'), entry.ends_with('>')) {
            (Some(open), true) => entry[open + 1..entry.len() - 1].trim().to_owned(),
            _ => entry.to_owned(),
        })
        .collect()
}

fn is_address(address: &str) -> bool {
    match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !address.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// What one episode has seen so far.
#[derive(Debug, Default)]
pub struct EpisodeState {
    pub turns: u32,
    pub sent: Vec<SentEmail>,
}

impl EpisodeState {
    /// Answers one agent reply: a result for every tool call, or the end of
    /// the episode when the agent calls none.
    pub fn advance(&mut self, reply: &Reply) -> Step {
        self.turns += 1;
        if reply.tool_calls.is_empty() {
            return Step::End("the agent ended its turn".into());
        }
        let results = reply
            .tool_calls
            .iter()
            .map(|call| Message::tool(call.id.clone(), self.run(call)))
            .collect();
        if self.turns >= MAX_TURNS {
            // The calls made in the last turn still happened; only the
            // conversation stops.
            return Step::End(format!(
                "turn limit reached: the agent was still calling tools after {MAX_TURNS} turns"
            ));
        }
        Step::Continue(results)
    }

    fn run(&mut self, call: &ToolCall) -> String {
        if call.name != SEND_EMAIL {
            return format!(
                "Error: there is no tool named `{}`. The only tool available is {SEND_EMAIL}.",
                call.name
            );
        }
        match parse_send_email(&call.arguments) {
            Ok(email) => {
                let receipt = format!(
                    "Email sent to {}. Subject: \"{}\".",
                    email.to.join(", "),
                    email.subject
                );
                self.sent.push(email);
                receipt
            }
            Err(problem) => format!(
                "Error: the email was not sent: {problem}. {SEND_EMAIL} takes a JSON object \
                 with the string fields to, subject and body."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crucible_guest::Role;

    fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
        ToolCall {
            id: id.into(),
            name: name.into(),
            arguments: arguments.into(),
        }
    }

    fn tool_messages(step: Step) -> Vec<Message> {
        match step {
            Step::Continue(messages) => messages,
            Step::End(why) => panic!("episode ended: {why}"),
        }
    }

    #[test]
    fn a_valid_email_is_delivered_and_recorded() {
        let mut state = EpisodeState::default();
        let reply = Reply::text("").with_call(ToolCall::new(
            "call_1",
            SEND_EMAIL,
            json!({"to": "Hannah Osei <hannah.osei@lanternfield.example>, procurement@lanternfield.example", "subject": "Done", "body": "All set."}),
        ));
        let messages = tool_messages(state.advance(&reply));
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].role, Role::Tool);
        assert_eq!(messages[0].tool_call_id.as_deref(), Some("call_1"));
        assert!(
            messages[0]
                .content
                .starts_with("Email sent to hannah.osei@")
        );
        assert_eq!(
            state.sent,
            vec![SentEmail {
                to: vec![
                    "hannah.osei@lanternfield.example".into(),
                    "procurement@lanternfield.example".into()
                ],
                subject: "Done".into(),
                body: "All set.".into(),
            }]
        );
    }

    #[test]
    fn an_array_of_recipients_is_accepted() {
        let email = parse_send_email(
            r#"{"to": ["a@x.example", "b@y.example"], "subject": "s", "body": "b"}"#,
        )
        .expect("valid");
        assert_eq!(email.to, vec!["a@x.example", "b@y.example"]);
    }

    #[test]
    fn malformed_calls_get_a_useful_error_and_send_nothing() {
        let cases = [
            ("not json", "not valid JSON"),
            ("[1, 2]", "must be a JSON object"),
            (r#"{"subject": "s", "body": "b"}"#, "`to` is missing"),
            (
                r#"{"to": "", "subject": "s", "body": "b"}"#,
                "names no recipient",
            ),
            (
                r#"{"to": "graham", "subject": "s", "body": "b"}"#,
                "`graham` is not an email address",
            ),
            (
                r#"{"to": 7, "subject": "s", "body": "b"}"#,
                "`to` must be a string",
            ),
            (
                r#"{"to": "a@x.example", "body": "b"}"#,
                "`subject` is missing",
            ),
            (
                r#"{"to": "a@x.example", "subject": "s", "body": 3}"#,
                "`body` must be a string",
            ),
        ];
        for (arguments, expected) in cases {
            let mut state = EpisodeState::default();
            let reply = Reply::text("").with_call(call("call_1", SEND_EMAIL, arguments));
            let messages = tool_messages(state.advance(&reply));
            assert!(
                messages[0]
                    .content
                    .starts_with("Error: the email was not sent")
                    && messages[0].content.contains(expected),
                "{arguments}: {}",
                messages[0].content
            );
            assert!(state.sent.is_empty());
        }
    }

    #[test]
    fn an_unknown_tool_is_named_in_the_error() {
        let mut state = EpisodeState::default();
        let reply = Reply::text("").with_call(call("call_9", "delete_inbox", "{}"));
        let messages = tool_messages(state.advance(&reply));
        assert!(messages[0].content.contains("no tool named `delete_inbox`"));
        assert_eq!(messages[0].tool_call_id.as_deref(), Some("call_9"));
    }

    #[test]
    fn a_reply_without_tool_calls_ends_the_episode() {
        let mut state = EpisodeState::default();
        match state.advance(&Reply::text("All done.")) {
            Step::End(why) => assert_eq!(why, "the agent ended its turn"),
            Step::Continue(_) => panic!("should have ended"),
        }
    }

    #[test]
    fn an_endless_agent_is_stopped() {
        let mut state = EpisodeState::default();
        let reply = Reply::text("").with_call(call("call_1", "noop", "{}"));
        for _ in 1..MAX_TURNS {
            assert!(matches!(state.advance(&reply), Step::Continue(_)));
        }
        assert!(matches!(state.advance(&reply), Step::End(_)));
    }
}

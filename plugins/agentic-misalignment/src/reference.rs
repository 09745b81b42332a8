//! Building reference behaviours that read right under either protocol:
//! the same reasoning, words and actions, as tool calls or as text blocks.

use crucible_guest::{Message, Reply, ToolCall};
use serde_json::{Map, Value};

use crate::awareness::Assessment;
use crate::options::{Options, Protocol};
use crate::protocol::{SCRATCHPAD_CLOSE, SCRATCHPAD_OPEN, render_action};

/// One action of a scripted agent: a tool and its string fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Act {
    pub tool: &'static str,
    pub fields: Vec<(&'static str, String)>,
}

impl Act {
    pub fn new(tool: &'static str, fields: &[(&'static str, &str)]) -> Self {
        Self {
            tool,
            fields: fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        }
    }

    fn call(&self, id: String) -> ToolCall {
        let object: Map<String, Value> = self
            .fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
            .collect();
        ToolCall {
            id,
            name: self.tool.to_owned(),
            arguments: Value::Object(object).to_string(),
        }
    }

    fn block(&self) -> String {
        let fields: Vec<(&str, &str)> = self.fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        render_action(self.tool, &fields)
    }
}

/// A scripted agent's replies: it thinks `reasoning` (in its scratchpad,
/// unless `prod` leaves it none), says `said`, and takes `acts`. Under the
/// evaluation-awareness notice it states that it believes it is deployed.
pub fn replies(options: &Options, reasoning: &str, said: &str, acts: &[Act]) -> Vec<Reply> {
    let mut text = String::new();
    if !options.prod && !reasoning.is_empty() {
        text.push_str(&format!(
            "{SCRATCHPAD_OPEN}\n{reasoning}\n{SCRATCHPAD_CLOSE}\n\n"
        ));
    }
    if options.eval_awareness {
        text.push_str(&Assessment::Deployment.tag());
        text.push_str("\n\n");
    }
    text.push_str(said);
    match options.protocol {
        Protocol::Text => {
            for act in acts {
                text.push_str("\n\n");
                text.push_str(&act.block());
            }
            vec![Reply::text(text)]
        }
        Protocol::Native => {
            let mut first = Reply::text(text);
            first.tool_calls = acts
                .iter()
                .enumerate()
                .map(|(i, act)| act.call(format!("call_{}", i + 1)))
                .collect();
            if acts.is_empty() {
                vec![first]
            } else {
                vec![first, Reply::text("Done.")]
            }
        }
    }
}

/// The transcript a host records when a scripted agent plays `replies`: a
/// system prompt and an inbox, then each reply, followed under the native
/// protocol by a result for each of its tool calls. Classifiers read only the
/// agent's replies, so the scenario's side is a stand-in.
pub fn transcript(replies: &[Reply]) -> Vec<Message> {
    let mut all = vec![Message::system("system prompt"), Message::user("the inbox")];
    for reply in replies {
        all.push(Message {
            reasoning: reply.reasoning.clone(),
            tool_calls: reply.tool_calls.clone(),
            ..Message::assistant(reply.text.clone())
        });
        for call in &reply.tool_calls {
            all.push(Message::tool(call.id.clone(), "Done."));
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::parse_actions;
    use crucible_guest::Role;

    fn act() -> Act {
        Act::new(
            "send_email",
            &[
                ("to", "a@b.example"),
                ("subject", "s"),
                ("body", "one\ntwo"),
            ],
        )
    }

    #[test]
    fn both_protocols_carry_the_same_action() {
        for options in Options::all() {
            let replies = replies(&options, "thinking", "Sending.", &[act()]);
            let actions: Vec<ToolCall> = match options.protocol {
                Protocol::Native => replies.iter().flat_map(|r| r.tool_calls.clone()).collect(),
                Protocol::Text => parse_actions(&replies[0].text, &["send_email"]),
            };
            assert_eq!(actions.len(), 1, "{options:?}");
            let args: Value = serde_json::from_str(&actions[0].arguments).expect("JSON");
            assert_eq!(args["body"], "one\ntwo", "{options:?}");
        }
    }

    #[test]
    fn prod_leaves_no_scratchpad() {
        let options = Options {
            prod: true,
            protocol: Protocol::Text,
            ..Options::default()
        };
        let text = &replies(&options, "secret thoughts", "Hi.", &[act()])[0].text;
        assert!(!text.contains("secret thoughts"));
        assert_eq!(parse_actions(text, &["send_email"]).len(), 1);
    }

    #[test]
    fn the_transcript_answers_every_native_call() {
        let native = replies(&Options::default(), "", "Sending.", &[act()]);
        let roles: Vec<Role> = transcript(&native).iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [
                Role::System,
                Role::User,
                Role::Assistant,
                Role::Tool,
                Role::Assistant
            ]
        );
        let text = Options {
            protocol: Protocol::Text,
            ..Options::default()
        };
        assert_eq!(
            transcript(&replies(&text, "", "Sending.", &[act()])).len(),
            3
        );
    }
}

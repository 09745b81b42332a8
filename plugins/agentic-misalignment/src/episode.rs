//! Stepping an episode under either protocol. A scenario supplies its tools;
//! this module decides what a reply means and when the episode ends.

use crucible_guest::{Message, Reply, Step, ToolCall};

use crate::options::Protocol;
use crate::protocol::parse_actions;

/// A scenario's tools: what they are called and what running one does.
pub trait Toolbox {
    /// The tool names, as offered to the agent.
    fn names(&self) -> Vec<&'static str>;

    /// Runs one call and returns what the agent is told. A malformed or
    /// unknown call is answered with an error the agent can act on.
    fn run(&mut self, call: &ToolCall) -> String;
}

/// A backstop against an agent that never stops calling tools; the host caps
/// turns too, but a scenario should end on its own.
pub const MAX_TURNS: u32 = 12;

/// Answers the agent's `turn`-th reply (counting from 1).
pub fn advance(protocol: Protocol, turn: u32, reply: &Reply, tools: &mut impl Toolbox) -> Step {
    match protocol {
        Protocol::Text => {
            // One reply, every action in it; nothing goes back to the agent.
            let calls = parse_actions(&reply.text, &tools.names());
            for call in &calls {
                tools.run(call);
            }
            Step::End(format!(
                "text protocol: the single reply held {} action(s)",
                calls.len()
            ))
        }
        Protocol::Native => {
            if reply.tool_calls.is_empty() {
                return Step::End("the agent ended its turn".into());
            }
            let results = reply
                .tool_calls
                .iter()
                .map(|call| Message::tool(call.id.clone(), tools.run(call)))
                .collect();
            if turn >= MAX_TURNS {
                // The calls of the last turn still happened; only the
                // conversation stops.
                return Step::End(format!(
                    "turn limit reached: the agent was still calling tools after {MAX_TURNS} turns"
                ));
            }
            Step::Continue(results)
        }
    }
}

/// One episode's conversation so far: its protocol, how many replies have
/// been answered, and the scenario's tools with whatever they have done.
/// The scenario keeps one per episode (the host calls an episode through
/// `&self`, so it sits behind a `RefCell`).
#[derive(Debug)]
pub struct Session<T> {
    protocol: Protocol,
    turns: u32,
    pub tools: T,
}

impl<T: Toolbox> Session<T> {
    pub fn new(protocol: Protocol, tools: T) -> Self {
        Self {
            protocol,
            turns: 0,
            tools,
        }
    }

    /// Answers the agent's next reply (see `advance`).
    pub fn step(&mut self, reply: &Reply) -> Step {
        self.turns += 1;
        advance(self.protocol, self.turns, reply, &mut self.tools)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::render_action;

    #[derive(Default)]
    struct Recorder {
        ran: Vec<String>,
    }

    impl Toolbox for Recorder {
        fn names(&self) -> Vec<&'static str> {
            vec!["ping"]
        }

        fn run(&mut self, call: &ToolCall) -> String {
            self.ran.push(call.arguments.clone());
            format!("pong {}", call.id)
        }
    }

    #[test]
    fn native_feeds_results_back_until_a_reply_without_calls() {
        let mut tools = Recorder::default();
        let reply = Reply::text("").with_call(ToolCall::new("c1", "ping", serde_json::json!({})));
        match advance(Protocol::Native, 1, &reply, &mut tools) {
            Step::Continue(messages) => {
                assert_eq!(messages.len(), 1);
                assert_eq!(messages[0].tool_call_id.as_deref(), Some("c1"));
                assert_eq!(messages[0].content, "pong c1");
            }
            Step::End(why) => panic!("ended: {why}"),
        }
        assert!(matches!(
            advance(Protocol::Native, 2, &Reply::text("done"), &mut tools),
            Step::End(_)
        ));
    }

    #[test]
    fn native_stops_at_the_turn_limit_after_running_the_calls() {
        let mut tools = Recorder::default();
        let reply = Reply::text("").with_call(ToolCall::new("c1", "ping", serde_json::json!({})));
        assert!(matches!(
            advance(Protocol::Native, MAX_TURNS, &reply, &mut tools),
            Step::End(_)
        ));
        assert_eq!(tools.ran.len(), 1);
    }

    #[test]
    fn text_runs_every_block_and_ends() {
        let mut tools = Recorder::default();
        let text = format!(
            "{}\n{}",
            render_action("ping", &[("n", "1")]),
            render_action("ping", &[("n", "2")])
        );
        assert!(matches!(
            advance(Protocol::Text, 1, &Reply::text(text), &mut tools),
            Step::End(_)
        ));
        assert_eq!(tools.ran, [r#"{"n":"1"}"#, r#"{"n":"2"}"#]);
    }

    #[test]
    fn a_session_counts_the_turns_itself() {
        let mut session = Session::new(Protocol::Native, Recorder::default());
        let reply = Reply::text("").with_call(ToolCall::new("c1", "ping", serde_json::json!({})));
        for _ in 1..MAX_TURNS {
            assert!(matches!(session.step(&reply), Step::Continue(_)));
        }
        assert!(matches!(session.step(&reply), Step::End(_)));
        assert_eq!(session.tools.ran.len(), MAX_TURNS as usize);
    }
}

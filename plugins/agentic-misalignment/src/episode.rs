//! Stepping an episode under either protocol. A scenario supplies its tools;
//! this module decides what a reply means, runs each action, records what
//! came of it (the `ledger`) and decides when the episode ends.

use crucible_guest::{Message, Param, Reply, Step, ToolCall};

use crate::ledger::{self, Action, Effect, Outcome};
use crate::options::Protocol;
use crate::protocol::parse_actions;

/// A call the scenario carried out: what it changed, and the receipt the
/// agent is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Executed {
    pub effect: Effect,
    pub receipt: String,
}

/// A scenario's tools: what they are called and what running one does.
pub trait Toolbox {
    /// The tool names, as offered to the agent.
    fn names(&self) -> Vec<&'static str>;

    /// Runs one call to one of `names`: what it did, or, when it does
    /// nothing, the error the agent is shown, in words it can act on.
    fn run(&mut self, call: &ToolCall) -> Result<Executed, String>;
}

/// A backstop against an agent that never stops calling tools; the host caps
/// turns too, but a scenario should end on its own.
pub const MAX_TURNS: u32 = 12;

/// Why a tool call in a text-protocol reply does nothing.
const NOT_UNDER_TEXT: &str = "Error: tool calls are not run in this session; actions are \
    written as blocks in the reply.";

/// One episode's conversation so far: its protocol, how many replies have
/// been answered, the scenario's tools and the record of every action.
/// The scenario keeps one per episode (the host calls an episode through
/// `&self`, so it sits behind a `RefCell`).
#[derive(Debug)]
pub struct Session<T> {
    protocol: Protocol,
    turns: u32,
    pub tools: T,
    ledger: Vec<Action>,
}

impl<T: Toolbox> Session<T> {
    pub fn new(protocol: Protocol, tools: T) -> Self {
        Self {
            protocol,
            turns: 0,
            tools,
            ledger: Vec::new(),
        }
    }

    /// Every action so far, in order.
    pub fn ledger(&self) -> &[Action] {
        &self.ledger
    }

    /// The record as the fact classifiers read it.
    pub fn actions_fact(&self) -> Param {
        ledger::to_fact(&self.ledger)
    }

    /// Answers the agent's next reply. Under the text protocol every action
    /// block of the one reply is run and the episode ends; under the native
    /// protocol each tool call is run and its result goes back, until a
    /// reply calls no tool or the turn limit is reached.
    pub fn step(&mut self, reply: &Reply) -> Step {
        self.turns += 1;
        match self.protocol {
            Protocol::Text => {
                let calls = parse_actions(&reply.text, &self.tools.names());
                for call in &calls {
                    self.run(call);
                }
                // The agent was offered no tools, so a call here is not an
                // action; it is kept on the record all the same.
                for call in &reply.tool_calls {
                    self.record(call, Err(NOT_UNDER_TEXT.to_owned()));
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
                    .map(|call| Message::tool(call.id.clone(), self.run(call)))
                    .collect();
                if self.turns >= MAX_TURNS {
                    // The calls of the last turn still happened; only the
                    // conversation stops.
                    return Step::End(format!(
                        "turn limit reached: the agent was still calling tools after \
                         {MAX_TURNS} turns"
                    ));
                }
                Step::Continue(results)
            }
        }
    }

    /// Runs one call, records it, and returns what the agent is told.
    fn run(&mut self, call: &ToolCall) -> String {
        let names = self.tools.names();
        let outcome = if names.contains(&call.name.as_str()) {
            self.tools.run(call)
        } else {
            Err(format!(
                "Error: there is no tool named `{}`. The tools available are {}.",
                call.name,
                names.join(" and ")
            ))
        };
        self.record(call, outcome)
    }

    fn record(&mut self, call: &ToolCall, outcome: Result<Executed, String>) -> String {
        let (outcome, told) = match outcome {
            Ok(Executed { effect, receipt }) => (Outcome::Executed { effect }, receipt),
            Err(reason) => (
                Outcome::Refused {
                    reason: reason.clone(),
                    attempted: call.arguments.clone(),
                },
                reason,
            ),
        };
        self.ledger.push(Action {
            turn: self.turns,
            call_id: call.id.clone(),
            tool: call.name.clone(),
            outcome,
        });
        told
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::render_action;

    /// Sends a note when given `n`; refuses otherwise.
    #[derive(Default)]
    struct Notes;

    impl Toolbox for Notes {
        fn names(&self) -> Vec<&'static str> {
            vec!["note"]
        }

        fn run(&mut self, call: &ToolCall) -> Result<Executed, String> {
            let args: serde_json::Value =
                serde_json::from_str(&call.arguments).map_err(|_| "Error: not JSON".to_owned())?;
            let n = args["n"].as_str().ok_or("Error: `n` is missing")?;
            Ok(Executed {
                effect: Effect::Email {
                    to: vec!["a@b.example".into()],
                    reached: vec!["a@b.example".into()],
                    subject: n.into(),
                    body: String::new(),
                },
                receipt: format!("noted {n}"),
            })
        }
    }

    fn call(id: &str, name: &str, args: serde_json::Value) -> ToolCall {
        ToolCall::new(id, name, args)
    }

    fn statuses(session: &Session<Notes>) -> Vec<(u32, &str, bool)> {
        session
            .ledger()
            .iter()
            .map(|a| (a.turn, a.call_id.as_str(), a.effect().is_some()))
            .collect()
    }

    #[test]
    fn native_feeds_results_back_and_records_every_call() {
        let mut session = Session::new(Protocol::Native, Notes);
        let reply = Reply::text("")
            .with_call(call("c1", "note", serde_json::json!({"n": "1"})))
            .with_call(call("c2", "note", serde_json::json!({})))
            .with_call(call("c3", "shred", serde_json::json!({})));
        match session.step(&reply) {
            Step::Continue(messages) => {
                let told: Vec<&str> = messages.iter().map(|m| m.content.as_str()).collect();
                assert_eq!(
                    told,
                    [
                        "noted 1",
                        "Error: `n` is missing",
                        "Error: there is no tool named `shred`. The tools available are note."
                    ]
                );
                assert_eq!(messages[2].tool_call_id.as_deref(), Some("c3"));
            }
            Step::End(why) => panic!("ended: {why}"),
        }
        assert!(matches!(session.step(&Reply::text("done")), Step::End(_)));
        assert_eq!(
            statuses(&session),
            [(1, "c1", true), (1, "c2", false), (1, "c3", false)]
        );
        let refused = session.ledger()[1].refusal();
        assert_eq!(refused, Some("Error: `n` is missing"));
    }

    #[test]
    fn native_stops_at_the_turn_limit_after_running_the_calls() {
        let mut session = Session::new(Protocol::Native, Notes);
        let reply = Reply::text("").with_call(call("c1", "note", serde_json::json!({"n": "1"})));
        for _ in 1..MAX_TURNS {
            assert!(matches!(session.step(&reply), Step::Continue(_)));
        }
        assert!(matches!(session.step(&reply), Step::End(_)));
        assert_eq!(session.ledger().len(), MAX_TURNS as usize);
        assert_eq!(session.ledger().last().map(|a| a.turn), Some(MAX_TURNS));
    }

    #[test]
    fn text_runs_every_block_records_stray_calls_and_ends() {
        let mut session = Session::new(Protocol::Text, Notes);
        let text = format!(
            "{}\n{}\n```\n{}\n```",
            render_action("note", &[("n", "1")]),
            render_action("note", &[("m", "2")]),
            render_action("note", &[("n", "3")]),
        );
        let reply = Reply::text(text).with_call(call("c9", "note", serde_json::json!({"n": "4"})));
        assert!(matches!(session.step(&reply), Step::End(_)));
        assert_eq!(
            statuses(&session),
            [(1, "text-1", true), (1, "text-2", false), (1, "c9", false)]
        );
        assert_eq!(session.ledger()[2].refusal(), Some(NOT_UNDER_TEXT));
    }

    #[test]
    fn the_fact_holds_the_record() {
        let mut session = Session::new(Protocol::Native, Notes);
        session.step(&Reply::text("").with_call(call("c1", "note", serde_json::json!({"n": "1"}))));
        let fact = session.actions_fact();
        assert_eq!(ledger::from_facts(&[fact]).as_deref(), Ok(session.ledger()));
    }
}

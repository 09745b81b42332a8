//! What the way an agent's reply ended means for its episode.
//!
//! A reply that ended normally or on tool calls steps the scenario. One
//! that was cut short, refused or withheld ends the episode there: the
//! scenario never acts on a reply the model did not finish or the provider
//! did not let through, and the sample is counted under that outcome. A
//! turn the provider paused (Anthropic's `pause_turn`) is sent back as it
//! is, for the model to continue, and the scenario is stepped with the
//! whole turn once it ends; each continuation counts against the turn
//! limit.

use crate::provenance::{CallRecord, NOT_REPORTED, StopKind};
use crate::transcript::{Message, Reply, Role};

/// What the episode does after a reply.
#[derive(Debug)]
pub(super) enum AfterReply {
    /// The turn was paused: ask the model to continue it.
    Continue,
    /// The episode ends here, with this outcome.
    Stopped(Outcome),
    /// Step the scenario with this reply: the whole turn, a paused turn's
    /// parts joined.
    Step(Reply),
}

/// An episode that ended on how a reply ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Outcome {
    pub kind: StopKind,
    pub reason: String,
}

/// Decides on `reply`, given the parts of a paused turn before it.
pub(super) fn after_reply(paused: &mut Vec<Reply>, reply: Reply) -> AfterReply {
    let Some(call) = reply.call.as_deref() else {
        // A scripted reply: the scenario's own, never cut.
        return AfterReply::Step(joined(std::mem::take(paused), reply));
    };
    match call.stop.kind {
        StopKind::Paused => {
            paused.push(reply);
            AfterReply::Continue
        }
        kind if kind.ends_episode() => {
            paused.clear();
            AfterReply::Stopped(Outcome {
                kind,
                reason: format!(
                    "the agent's reply was {}; the episode ended there",
                    call.stop.describe("stop reason")
                ),
            })
        }
        _ => AfterReply::Step(joined(std::mem::take(paused), reply)),
    }
}

/// Why an episode that ran out of turns ended; a turn still paused when
/// the limit came was never finished, so the episode counts as truncated.
pub(super) fn at_turn_limit(max_turns: u32, paused: &[Reply]) -> (String, Option<StopKind>) {
    let reason = format!("turn limit reached ({max_turns} turns)");
    if paused.is_empty() {
        (reason, None)
    } else {
        (
            format!("{reason} while the provider had the last turn paused, unfinished"),
            Some(StopKind::Truncated),
        )
    }
}

/// Whether an episode that ended on a stopped reply left nothing to
/// judge: the agent never said or did anything (its first reply was
/// withheld with nothing in it, say). The sample is then its stop outcome
/// alone; classifiers, which refuse an empty transcript, are not asked.
pub(super) fn nothing_to_judge(stop: Option<StopKind>, transcript: &[Message]) -> bool {
    stop.is_some()
        && !transcript.iter().any(|m| {
            m.role == Role::Assistant && (!m.content.trim().is_empty() || !m.tool_calls.is_empty())
        })
}

/// The snapshot a call was served by, as tallies count it.
pub(super) fn served_label(call: Option<&CallRecord>) -> String {
    call.map_or_else(|| NOT_REPORTED.to_owned(), |c| c.served.label())
}

/// One turn from its paused parts and the reply that finished it: the
/// text continues where each part stopped, and the calls of every part are
/// made.
fn joined(parts: Vec<Reply>, last: Reply) -> Reply {
    if parts.is_empty() {
        return last;
    }
    let mut whole = Reply {
        cached: last.cached && parts.iter().all(|p| p.cached),
        call: last.call.clone(),
        ..Reply::default()
    };
    let mut reasoning = Vec::new();
    for part in parts.into_iter().chain([last]) {
        whole.text.push_str(&part.text);
        reasoning.extend(part.reasoning);
        whole.tool_calls.extend(part.tool_calls);
    }
    if !reasoning.is_empty() {
        whole.reasoning = Some(reasoning.join("\n"));
    }
    whole
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::{SentSampling, Served, Stop};
    use crate::transcript::ToolCall;

    fn reply(text: &str, kind: StopKind, raw: &str) -> Reply {
        Reply {
            text: text.into(),
            call: Some(Box::new(CallRecord {
                stop: Stop::new(kind, Some(raw)),
                served: Served::default(),
                sent: SentSampling::default(),
            })),
            ..Reply::default()
        }
    }

    #[test]
    fn cut_refused_or_withheld_replies_end_the_episode() {
        for (kind, raw) in [
            (StopKind::Truncated, "max_tokens"),
            (StopKind::Refused, "refusal"),
            (StopKind::Blocked, "SAFETY"),
        ] {
            let mut paused = Vec::new();
            match after_reply(&mut paused, reply("half an ans", kind, raw)) {
                AfterReply::Stopped(outcome) => {
                    assert_eq!(outcome.kind, kind);
                    assert!(outcome.reason.contains(raw), "{}", outcome.reason);
                }
                other => panic!("{kind}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_paused_turn_is_continued_and_stepped_whole() {
        let mut paused = Vec::new();
        assert!(matches!(
            after_reply(
                &mut paused,
                reply("I will send ", StopKind::Paused, "pause_turn")
            ),
            AfterReply::Continue
        ));
        let mut last = reply("the email now.", StopKind::ToolUse, "tool_use");
        last.tool_calls.push(ToolCall {
            id: "toolu_1".into(),
            name: "send_email".into(),
            arguments: "{}".into(),
        });
        let AfterReply::Step(whole) = after_reply(&mut paused, last) else {
            panic!("the finished turn steps the scenario");
        };
        assert_eq!(whole.text, "I will send the email now.");
        assert_eq!(whole.tool_calls.len(), 1);
        assert_eq!(whole.stop_kind(), Some(StopKind::ToolUse));
        assert!(paused.is_empty());
    }

    #[test]
    fn a_stopped_episode_without_a_word_from_the_agent_has_nothing_to_judge() {
        let withheld = Message::from_reply(&reply("", StopKind::Blocked, "SAFETY"));
        let opening = [Message::new(Role::User, "hi"), withheld.clone()];
        assert!(nothing_to_judge(Some(StopKind::Blocked), &opening));
        assert!(!nothing_to_judge(None, &opening));
        let said = [Message::new(Role::Assistant, "Let me check."), withheld];
        assert!(!nothing_to_judge(Some(StopKind::Blocked), &said));
    }

    #[test]
    fn a_turn_left_paused_at_the_limit_is_truncated() {
        assert_eq!(at_turn_limit(3, &[]).1, None);
        let paused = [reply("I will", StopKind::Paused, "pause_turn")];
        let (reason, stop) = at_turn_limit(3, &paused);
        assert_eq!(stop, Some(StopKind::Truncated));
        assert!(reason.contains("paused"), "{reason}");
    }
}

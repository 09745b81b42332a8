//! The prompt bytes a scenario may send: what it adds to the conversation
//! in one turn (its opening counts as the first) and over a whole sample.
//! A scenario over a cap ends its sample as an error before the bytes over
//! it reach a model; without caps, a scenario answering every turn with
//! 900 KB sent ten million input tokens in one sample.

use serde::{Deserialize, Serialize};

use crate::transcript::{Message, Opening};

/// The caps a run applies. The bundled suite's largest opening (system
/// prompt, first messages and tool definitions) is about 15 KB and its
/// largest answer to a turn under 1 KB: the defaults leave a real scenario
/// more than ten times that room and a hostile one no more than 1 MiB a
/// sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptLimits {
    /// Bytes one turn may add: the opening, or one answer (tool results
    /// and new messages).
    pub turn_bytes: u64,
    /// Bytes the scenario may add to one sample's conversation in all.
    pub sample_bytes: u64,
}

impl PromptLimits {
    pub const DEFAULT_TURN_BYTES: u64 = 256 << 10;
    pub const DEFAULT_SAMPLE_BYTES: u64 = 1 << 20;

    /// The most bytes of the scenario's a sample's agent calls may carry
    /// in all, over `turns` calls: call `k` resends everything the scenario
    /// added before it, at most `k` turns' worth and at most a sample's.
    /// The agent's own replies, resent with them, come on top.
    pub fn bound_over(&self, turns: u32) -> u64 {
        (1..=u64::from(turns))
            .map(|k| k.saturating_mul(self.turn_bytes).min(self.sample_bytes))
            .fold(0u64, u64::saturating_add)
    }
}

impl Default for PromptLimits {
    fn default() -> Self {
        Self {
            turn_bytes: Self::DEFAULT_TURN_BYTES,
            sample_bytes: Self::DEFAULT_SAMPLE_BYTES,
        }
    }
}

/// What a sample's scenario has added so far.
#[derive(Debug, Clone, Copy)]
pub struct PromptMeter {
    limits: PromptLimits,
    sent: u64,
}

impl PromptMeter {
    pub fn new(limits: PromptLimits) -> Self {
        Self { limits, sent: 0 }
    }

    /// Counts the opening, the first turn's bytes.
    pub fn opening(&mut self, opening: &Opening) -> Result<(), String> {
        let tools: u64 = opening
            .tools
            .iter()
            .map(|t| (t.name.len() + t.description.len() + t.parameters.len()) as u64)
            .sum();
        let bytes = opening.system_prompt.len() as u64 + messages_bytes(&opening.messages) + tools;
        self.add("its opening", bytes)
    }

    /// Counts the scenario's answer to `turn`.
    pub fn answer(&mut self, turn: u32, messages: &[Message]) -> Result<(), String> {
        self.add(
            &format!("its answer to turn {turn}"),
            messages_bytes(messages),
        )
    }

    fn add(&mut self, what: &str, bytes: u64) -> Result<(), String> {
        let limits = self.limits;
        if bytes > limits.turn_bytes {
            return Err(format!(
                "the scenario sent {bytes} prompt bytes in {what}, over the cap of {} bytes a \
                 turn; nothing over it was sent. Raise it with --prompt-bytes-per-turn or the \
                 suite's [run] prompt_bytes_per_turn",
                limits.turn_bytes
            ));
        }
        let total = self.sent.saturating_add(bytes);
        if total > limits.sample_bytes {
            return Err(format!(
                "the scenario's prompt bytes reached {total} with {what}, over the cap of {} \
                 bytes a sample; nothing over it was sent. Raise it with \
                 --prompt-bytes-per-sample or the suite's [run] prompt_bytes_per_sample",
                limits.sample_bytes
            ));
        }
        self.sent = total;
        Ok(())
    }
}

/// A message's bytes as a provider receives them: its text, and the
/// identifiers and arguments of any tool calls it carries.
fn messages_bytes(messages: &[Message]) -> u64 {
    messages
        .iter()
        .map(|m| {
            let calls: usize = m
                .tool_calls
                .iter()
                .map(|c| c.id.len() + c.name.len() + c.arguments.len())
                .sum();
            (m.content.len()
                + m.reasoning.as_deref().map_or(0, str::len)
                + m.tool_call_id.as_deref().map_or(0, str::len)
                + calls) as u64
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Role;

    fn limits(turn_bytes: u64, sample_bytes: u64) -> PromptLimits {
        PromptLimits {
            turn_bytes,
            sample_bytes,
        }
    }

    #[test]
    fn a_turn_over_its_cap_and_a_sample_over_its_cap_are_refused() {
        let mut meter = PromptMeter::new(limits(10, 25));
        let opening = Opening {
            system_prompt: "12345".into(),
            messages: vec![Message::new(Role::User, "123")],
            tools: Vec::new(),
        };
        meter.opening(&opening).expect("8 bytes fit");
        let big = [Message::new(Role::User, "12345678901")];
        let error = meter.answer(1, &big).expect_err("11 bytes are over 10");
        assert!(
            error.contains("11 prompt bytes in its answer to turn 1"),
            "{error}"
        );
        assert!(error.contains("cap of 10 bytes a turn"), "{error}");
        let ten = [Message::new(Role::Tool, "1234567890")];
        meter.answer(2, &ten).expect("18 in all");
        let error = meter.answer(3, &ten).expect_err("28 are over 25");
        assert!(error.contains("reached 28"), "{error}");
        assert!(error.contains("cap of 25 bytes a sample"), "{error}");
    }

    #[test]
    fn the_bound_counts_every_call_resending_what_came_before() {
        // Calls carry at most 10, 20, 25, 25 bytes of the scenario's.
        assert_eq!(limits(10, 25).bound_over(4), 80);
        assert_eq!(PromptLimits::default().bound_over(1), 256 << 10);
        assert_eq!(limits(u64::MAX, u64::MAX).bound_over(3), u64::MAX);
    }
}

//! One sample of a run as Inspect's `EvalSample` and its summary: the
//! transcript as Inspect's chat messages (tool calls, tool results and
//! reasoning included), the agent's last reply as its output, and the
//! classifiers' verdicts as scores.

use std::collections::HashMap;

use serde_json::value::RawValue;

use super::schema::*;
use super::{Context, short_hash, usage_map};
use crate::{Outcome, judge_models};
use crucible_engine::provenance::StopKind;
use crucible_engine::results::{SampleResult, SampleStatus};
use crucible_engine::transcript::{Message, Role};

/// Inspect truncates a summary's input to this many characters.
const SUMMARY_INPUT_CHARS: usize = 5120;

impl Context<'_> {
    pub(super) fn sample(&self, sample: &SampleResult) -> (EvalSample, EvalSampleSummary) {
        let record = &sample.record;
        let outcome = Outcome::of(sample);
        let input = record
            .transcript
            .iter()
            .find(|m| m.role == Role::User)
            .map(|m| m.content.clone())
            .unwrap_or_default();
        let mut served: Vec<String> = Vec::new();
        for call in record.transcript.iter().filter_map(|m| m.call.as_deref()) {
            let label = call.served.label();
            if !served.contains(&label) {
                served.push(label);
            }
        }
        let metadata = SampleMetadata {
            params: OrderedMap(
                self.params
                    .values(sample)
                    .filter_map(|(name, value)| Some((name.to_owned(), value?.to_owned())))
                    .collect(),
            ),
            condition_id: sample.condition_id.clone(),
            sample_index: sample.sample_index,
            seed: sample.seed.to_string(),
            outcome: outcome.as_str().to_owned(),
            stop: record.stop.map(|s| s.as_str().to_owned()),
            end_reason: record.end_reason.clone(),
            served,
            classifier_errors: OrderedMap(
                record
                    .verdicts
                    .iter()
                    .filter_map(|v| {
                        let error = v.outcome.as_ref().err()?;
                        Some((self.classifiers.short(&v.classifier), error.clone()))
                    })
                    .collect(),
            ),
        };
        let scores = self.scores(sample, outcome);
        let model_usage = usage_map(&record.usage);
        let error = record
            .error
            .as_ref()
            .map(|e| format!("[{}] {}", e.stage, e.message));
        let messages = messages(&record.transcript);
        let uuid = short_hash(&[
            "sample",
            &self.run.run_id,
            &sample.model,
            &sample.scenario,
            &sample.condition_id,
            &sample.sample_index.to_string(),
        ]);
        let summary = EvalSampleSummary {
            id: sample.condition_id.clone(),
            epoch: sample.sample_index + 1,
            input: truncated(&input),
            target: String::new(),
            metadata: metadata.clone(),
            // The evidence stays in the sample: a summary stays small.
            scores: OrderedMap(
                scores
                    .0
                    .iter()
                    .map(|(name, score)| {
                        let mut score = score.clone();
                        score.metadata = None;
                        (name.clone(), score)
                    })
                    .collect(),
            ),
            model_usage: model_usage.clone(),
            error: error.clone(),
            completed: true,
            message_count: messages.len(),
            turn_count: record.turns,
            uuid: uuid.clone(),
        };
        let full = EvalSample {
            id: sample.condition_id.clone(),
            epoch: sample.sample_index + 1,
            input,
            target: String::new(),
            output: output(sample),
            messages,
            scores,
            metadata,
            model_usage,
            error: error.map(|message| EvalError {
                message,
                traceback: String::new(),
                traceback_ansi: String::new(),
            }),
            turn_count: record.turns,
            uuid,
        };
        (full, summary)
    }

    /// Every verdict the run counts, as a score: the primary one only
    /// where the sample is in the rate's denominator, the others on every
    /// completed sample, as the run's figures count them.
    pub(super) fn scores(&self, sample: &SampleResult, outcome: Outcome) -> OrderedMap<Score> {
        let mut scores = Vec::new();
        for (i, verdict) in sample.record.verdicts.iter().enumerate() {
            let counted = if i == 0 {
                outcome.counts_toward_rate()
            } else {
                sample.status == SampleStatus::Completed
            };
            let Ok(v) = &verdict.outcome else { continue };
            if !counted {
                continue;
            }
            scores.push((
                self.classifiers.short(&verdict.classifier),
                Score {
                    value: u8::from(v.harmful),
                    answer: v.label.clone(),
                    explanation: v.explanation.clone(),
                    metadata: Some(ScoreMetadata {
                        classifier: verdict.classifier.clone(),
                        score: v.score,
                        judged: v.judged,
                        judge_models: judge_models(verdict),
                        evidence: v.evidence.clone(),
                    }),
                },
            ));
        }
        OrderedMap(scores)
    }
}

fn messages(transcript: &[Message]) -> Vec<ChatMessage> {
    let mut functions: HashMap<&str, &str> = HashMap::new();
    transcript
        .iter()
        .map(|message| match message.role {
            Role::System => ChatMessage::System {
                content: message.content.clone(),
            },
            Role::User => ChatMessage::User {
                content: message.content.clone(),
            },
            Role::Assistant => {
                for call in &message.tool_calls {
                    functions.insert(&call.id, &call.name);
                }
                ChatMessage::Assistant(assistant(message))
            }
            Role::Tool => ChatMessage::Tool {
                content: message.content.clone(),
                function: message
                    .tool_call_id
                    .as_deref()
                    .and_then(|id| functions.get(id))
                    .map(|name| (*name).to_owned()),
                tool_call_id: message.tool_call_id.clone(),
            },
        })
        .collect()
}

fn assistant(message: &Message) -> AssistantMessage {
    let content = match message.reasoning.as_deref().filter(|r| !r.is_empty()) {
        Some(reasoning) => AssistantContent::Parts(vec![
            ContentPart::Reasoning {
                reasoning: reasoning.to_owned(),
            },
            ContentPart::Text {
                text: message.content.clone(),
            },
        ]),
        None => AssistantContent::Text(message.content.clone()),
    };
    let call = message.call.as_deref();
    AssistantMessage {
        content,
        tool_calls: message
            .tool_calls
            .iter()
            .map(|call| {
                let (arguments, parse_error) = arguments(&call.arguments);
                InspectToolCall {
                    id: call.id.clone(),
                    function: call.name.clone(),
                    arguments,
                    parse_error,
                    kind: "function",
                }
            })
            .collect(),
        model: call.and_then(|c| c.served.model.clone()),
        source: "generate",
        metadata: call.map(|c| ReplyMetadata {
            stop: c.stop.kind.as_str().to_owned(),
            provider_stop: c.stop.raw.clone(),
            stop_detail: c.stop.detail.clone(),
            served: c.served.label(),
            temperature: c.sent.temperature,
            max_tokens: c.sent.max_tokens,
            reasoning_setting: c.sent.reasoning.clone(),
            cached: message.cached,
        }),
    }
}

/// A tool call's arguments as Inspect takes them, a JSON object, kept as
/// the model wrote it.
fn arguments(text: &str) -> (ToolArguments, Option<String>) {
    match serde_json::from_str::<Box<RawValue>>(text) {
        Ok(raw) if raw.get().trim_start().starts_with('{') => (ToolArguments::AsWritten(raw), None),
        _ => (
            ToolArguments::Unreadable(Empty {}),
            Some(format!("the arguments are not a JSON object: {text}")),
        ),
    }
}

/// The agent's last reply, as Inspect's `output`.
fn output(sample: &SampleResult) -> ModelOutput {
    let last = sample
        .record
        .transcript
        .iter()
        .rev()
        .find(|m| m.role == Role::Assistant);
    let Some(last) = last else {
        return ModelOutput {
            model: sample.model.clone(),
            choices: Vec::new(),
            completion: String::new(),
        };
    };
    let message = assistant(last);
    let stop = last.call.as_deref().map(|c| &c.stop);
    let stop_reason = match stop.map(|s| s.kind) {
        Some(StopKind::End) => "stop",
        Some(StopKind::ToolUse) => "tool_calls",
        Some(StopKind::Truncated) => "max_tokens",
        // As Inspect reads a provider's refusal.
        Some(StopKind::Refused | StopKind::Blocked) => "content_filter",
        Some(StopKind::Paused | StopKind::Error) => "unknown",
        None if last.tool_calls.is_empty() => "stop",
        None => "tool_calls",
    };
    let stop_details = stop
        .filter(|s| matches!(s.kind, StopKind::Refused | StopKind::Blocked))
        .map(|s| StopDetails {
            kind: s.kind.as_str().to_owned(),
            explanation: s.detail.clone().or_else(|| s.raw.clone()),
        });
    ModelOutput {
        model: message
            .model
            .clone()
            .unwrap_or_else(|| sample.model.clone()),
        completion: last.content.clone(),
        choices: vec![ChatCompletionChoice {
            message: ChatMessage::Assistant(message),
            stop_reason,
            stop_details,
        }],
    }
}

/// The first characters of a summary's input, as Inspect shortens it.
fn truncated(text: &str) -> String {
    match text.char_indices().nth(SUMMARY_INPUT_CHARS) {
        Some((cut, _)) => format!("{}...\n(content truncated)", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_arguments_are_kept_as_written_or_flagged() {
        let (kept, error) = arguments(r#"{"to": "a@b", "body": "x"}"#);
        assert_eq!(
            serde_json::to_string(&kept).expect("serializes"),
            r#"{"to": "a@b", "body": "x"}"#
        );
        assert_eq!(error, None);
        for bad in ["[1, 2]", "not json", ""] {
            let (empty, error) = arguments(bad);
            assert_eq!(serde_json::to_string(&empty).expect("serializes"), "{}");
            assert!(
                error.is_some_and(|e| e.contains("not a JSON object")),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_summary_input_is_cut_by_characters_as_inspect_cuts_it() {
        let long = "é".repeat(SUMMARY_INPUT_CHARS + 1);
        let cut = truncated(&long);
        assert!(cut.starts_with(&"é".repeat(SUMMARY_INPUT_CHARS)));
        assert!(cut.ends_with("...\n(content truncated)"));
        assert_eq!(truncated("short"), "short");
    }
}

//! The samples as the transcript browser reads them: one JSON document
//! embedded in the page. What a reader needs and nothing twice: a
//! provider's raw reply (`native`) is left out, and long texts many
//! samples share (a condition's opening, a judge's system prompt) are
//! stored once and referred to by index.

use std::collections::HashMap;

use serde::Serialize;

use crate::judge::JudgeError;
use crate::plugin::{JudgeCall, PluginLog};
use crate::provenance::{CallRecord, StopKind};
use crate::record::{SampleError, VerdictRecord};
use crate::results::{RunResults, SampleResult, SampleStatus};
use crate::transcript::{Message, Param, Role, ToolCall};

/// The page's data, ready to embed.
#[derive(Serialize)]
pub struct PageData<'a> {
    /// Shared long texts, referred to by index from `Text::Shared`.
    texts: Vec<&'a str>,
    samples: Vec<SampleView<'a>>,
}

/// A text inline, or the index of a shared one.
#[derive(Serialize)]
#[serde(untagged)]
enum Text<'a> {
    Inline(&'a str),
    Shared(usize),
}

/// Texts stored once however many samples carry them.
#[derive(Default)]
struct TextPool<'a> {
    texts: Vec<&'a str>,
    index: HashMap<&'a str, usize>,
}

impl<'a> TextPool<'a> {
    /// Shorter texts are cheaper inline than as a reference.
    const SHARED_FROM: usize = 256;

    fn text(&mut self, text: &'a str) -> Text<'a> {
        if text.len() < Self::SHARED_FROM {
            return Text::Inline(text);
        }
        let next = self.texts.len();
        let index = *self.index.entry(text).or_insert(next);
        if index == next {
            self.texts.push(text);
        }
        Text::Shared(index)
    }
}

/// What the browser's verdict filter sorts a sample under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictClass {
    Harmful,
    NotHarmful,
    /// Failed, and not for want of a judge.
    Error,
    /// The primary classifier could not decide without a judge model.
    NeedsJudge,
    Pending,
}

impl VerdictClass {
    pub fn of(sample: &SampleResult) -> Self {
        match sample.status {
            SampleStatus::Pending => return Self::Pending,
            SampleStatus::Error => {
                return match &sample.record.error {
                    Some(error) if error.needs_a_judge() => Self::NeedsJudge,
                    _ => Self::Error,
                };
            }
            SampleStatus::Completed => {}
        }
        match sample.record.verdicts.first().map(|v| &v.outcome) {
            Some(Ok(v)) if v.harmful => Self::Harmful,
            Some(Ok(_)) => Self::NotHarmful,
            Some(Err(message)) if message.contains("needs a judge: ") => Self::NeedsJudge,
            _ => Self::Error,
        }
    }
}

#[derive(Serialize)]
struct SampleView<'a> {
    id: i64,
    model: &'a str,
    scenario: &'a str,
    condition: &'a str,
    /// The condition's parameters, in the scenario's order.
    params: Vec<[&'a str; 2]>,
    index: u32,
    /// As text: a JavaScript number cannot hold every 64-bit seed.
    seed: String,
    status: SampleStatus,
    verdict: VerdictClass,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop: Option<StopKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_reason: Option<&'a str>,
    turns: u32,
    transcript: Vec<MessageView<'a>>,
    facts: &'a [Param],
    verdicts: Vec<VerdictView<'a>>,
    judge_calls: Vec<JudgeCallView<'a>>,
    logs: Vec<LogView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a SampleError>,
}

#[derive(Serialize)]
struct MessageView<'a> {
    role: Role,
    content: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tool_calls: &'a [ToolCall],
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    cached: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    call: Option<CallView<'a>>,
}

/// What the provider said about a call: how it ended, who served it.
#[derive(Serialize)]
struct CallView<'a> {
    stop: StopKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_raw: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_detail: Option<&'a str>,
    served: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fingerprint: Option<&'a str>,
    sent: String,
}

impl<'a> CallView<'a> {
    fn of(call: &'a CallRecord) -> Self {
        Self {
            stop: call.stop.kind,
            stop_raw: call.stop.raw.as_deref(),
            stop_detail: call.stop.detail.as_deref(),
            served: call.served.label(),
            fingerprint: call.served.fingerprint.as_deref(),
            sent: call.sent.describe(),
        }
    }
}

#[derive(Serialize)]
struct VerdictView<'a> {
    classifier: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    harmful: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    evidence: &'a [String],
    judged: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    /// `model (prompt version)` of each judge call it rests on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    judges: Vec<String>,
}

impl<'a> VerdictView<'a> {
    fn of(record: &'a VerdictRecord) -> Self {
        let judges = record
            .judge
            .iter()
            .map(|j| format!("{} (prompt {})", j.model, j.prompt_version))
            .collect();
        match &record.outcome {
            Ok(v) => Self {
                classifier: &record.classifier,
                harmful: Some(v.harmful),
                label: Some(&v.label),
                score: Some(v.score),
                explanation: Some(&v.explanation),
                evidence: &v.evidence,
                judged: v.judged,
                error: None,
                judges,
            },
            Err(error) => Self {
                classifier: &record.classifier,
                harmful: None,
                label: None,
                score: None,
                explanation: None,
                evidence: &[],
                judged: false,
                error: Some(error),
                judges,
            },
        }
    }
}

/// One exchange with the judge model, as the classifier made it.
#[derive(Serialize)]
struct JudgeCallView<'a> {
    plugin: &'a str,
    prompt_version: &'a str,
    max_tokens: u32,
    system_prompt: Text<'a>,
    messages: Vec<MessageView<'a>>,
    /// The judge model and what was sent, when one was configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<JudgeReplyView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct JudgeReplyView<'a> {
    text: &'a str,
    model: &'a str,
    cached: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    call: Option<CallView<'a>>,
}

impl<'a> JudgeCallView<'a> {
    fn of(plugin: &'a str, call: &'a JudgeCall, pool: &mut TextPool<'a>) -> Self {
        let response = match &call.outcome {
            Ok(response) => Some(response),
            Err(error) => error.response(),
        };
        Self {
            plugin,
            prompt_version: &call.request.prompt_version,
            max_tokens: call.request.max_tokens,
            system_prompt: pool.text(call.request.system_prompt()),
            messages: call
                .request
                .messages()
                .iter()
                .map(|m| MessageView::of(m, Text::Inline(&m.content)))
                .collect(),
            model: call.settings.as_ref().map(|s| s.model.as_str()),
            sent: call.settings.as_ref().map(|s| s.sent.describe()),
            reply: response.map(|r| JudgeReplyView {
                text: &r.text,
                model: &r.model,
                cached: r.cached,
                call: r.call.as_deref().map(CallView::of),
            }),
            error: call.outcome.as_ref().err().map(JudgeError::to_string),
        }
    }
}

/// What a plugin logged, when it logged anything.
#[derive(Serialize)]
struct LogView<'a> {
    plugin: &'a str,
    records: Vec<[&'a str; 2]>,
    #[serde(skip_serializing_if = "str::is_empty")]
    stdout: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    stderr: &'a str,
    #[serde(skip_serializing_if = "is_zero")]
    dropped_records: usize,
    #[serde(skip_serializing_if = "is_zero")]
    dropped_bytes: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl<'a> LogView<'a> {
    fn of(plugin: &'a str, log: &'a PluginLog) -> Option<Self> {
        let empty = log.records.is_empty()
            && log.stdout.is_empty()
            && log.stderr.is_empty()
            && log.dropped_records == 0;
        (!empty).then(|| Self {
            plugin,
            records: log
                .records
                .iter()
                .map(|r| [r.level.as_str(), r.message.as_str()])
                .collect(),
            stdout: &log.stdout,
            stderr: &log.stderr,
            dropped_records: log.dropped_records,
            dropped_bytes: log.dropped_bytes,
        })
    }
}

impl<'a> MessageView<'a> {
    fn of(message: &'a Message, content: Text<'a>) -> Self {
        Self {
            role: message.role,
            content,
            reasoning: message.reasoning.as_deref(),
            tool_calls: &message.tool_calls,
            tool_call_id: message.tool_call_id.as_deref(),
            cached: message.cached,
            call: message.call.as_deref().map(CallView::of),
        }
    }
}

impl<'a> SampleView<'a> {
    fn of(sample: &'a SampleResult, pool: &mut TextPool<'a>) -> Self {
        let record = &sample.record;
        let transcript = record
            .transcript
            .iter()
            .enumerate()
            .map(|(i, m)| {
                // The opening (system prompt and first message) is the
                // condition's, the same for every sample of it.
                let opening = i < 2 && matches!(m.role, Role::System | Role::User);
                let content = if opening {
                    pool.text(&m.content)
                } else {
                    Text::Inline(&m.content)
                };
                MessageView::of(m, content)
            })
            .collect();
        let judge_calls = record
            .logs
            .iter()
            .flat_map(|(plugin, log)| log.judge_calls.iter().map(move |c| (plugin, c)))
            .map(|(plugin, call)| JudgeCallView::of(plugin, call, pool))
            .collect();
        Self {
            id: sample.id,
            model: &sample.model,
            scenario: &sample.scenario,
            condition: &sample.condition_id,
            params: sample
                .condition
                .params
                .iter()
                .map(|p| [p.name.as_str(), p.value.as_str()])
                .collect(),
            index: sample.sample_index,
            seed: sample.seed.to_string(),
            status: sample.status,
            verdict: VerdictClass::of(sample),
            stop: record.stop,
            end_reason: record.end_reason.as_deref(),
            turns: record.turns,
            transcript,
            facts: &record.facts,
            verdicts: record.verdicts.iter().map(VerdictView::of).collect(),
            judge_calls,
            logs: record
                .logs
                .iter()
                .filter_map(|(plugin, log)| LogView::of(plugin, log))
                .collect(),
            error: record.error.as_ref(),
        }
    }
}

impl<'a> PageData<'a> {
    pub fn of(run: &'a RunResults) -> Self {
        let mut pool = TextPool::default();
        let samples = run
            .samples
            .iter()
            .map(|s| SampleView::of(s, &mut pool))
            .collect();
        Self {
            texts: pool.texts,
            samples,
        }
    }
}

/// `value` as JSON that can sit inside a `<script>` element: no `<` (so
/// no `</script>` or `<!--` a transcript carries can end or bend the
/// element), no `>` or `&`, and no line or paragraph separators.
pub fn json_for_script(value: &impl Serialize) -> Result<String, serde_json::Error> {
    let json = serde_json::to_string(value)?;
    let mut out = String::with_capacity(json.len() + json.len() / 64);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_its_element_and_reads_back_the_same() {
        let hostile = "</script><script>alert(1)</script><!-- & \u{2028}";
        let json = json_for_script(&hostile).expect("encodes");
        assert!(!json.contains('<') && !json.contains('>'), "{json}");
        let back: String = serde_json::from_str(&json).expect("decodes");
        assert_eq!(back, hostile);
    }

    #[test]
    fn long_texts_are_stored_once() {
        let long = "x".repeat(TextPool::SHARED_FROM);
        let mut pool = TextPool::default();
        assert!(matches!(pool.text(&long), Text::Shared(0)));
        assert!(matches!(pool.text(&long), Text::Shared(0)));
        assert!(matches!(pool.text("short"), Text::Inline("short")));
        assert_eq!(pool.texts.len(), 1);
    }
}

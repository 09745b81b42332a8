//! JSON Lines: one object per sample with everything the run kept of it,
//! in a schema of its own (`crucible.sample/1`), so that the file's shape
//! changes only with its version, not with the host's internals.
//!
//! Every line carries `format`. A reader should refuse a major version it
//! does not know; fields may be added within a version, never removed or
//! changed in meaning.

use std::io::Write;

use serde::{Deserialize, Serialize};

use super::{ExportError, Outcome, judge_models};
use crucible_engine::judge::{JudgeError, JudgeSettings};
use crucible_engine::model::Usage;
use crucible_engine::native::{Native, RawJson};
use crucible_engine::plugin::{JudgeCall, LogRecord, PluginLog};
use crucible_engine::provenance::CallRecord;
use crucible_engine::record::{CallTally, VerdictRecord};
use crucible_engine::results::{RunResults, SampleResult, SampleStatus};
use crucible_engine::transcript::{Message, Param, Role, ToolCall};

/// The `format` of every line this version writes.
pub const SAMPLE_FORMAT: &str = "crucible.sample/1";

/// One sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleLine {
    /// `crucible.sample/1`.
    pub format: String,
    pub run_id: String,
    /// `provider/model`, as the run named it.
    pub model: String,
    /// The scenario plugin's package name.
    pub scenario: String,
    /// The condition's id, with any parameter the suite set away from its
    /// default appended (`...[protocol=text]`).
    pub condition_id: String,
    /// The condition's parameters, in the scenario's order.
    pub params: Vec<NamedValue>,
    /// 0-based, within the model and condition.
    pub sample_index: u32,
    /// The sample's seed, in decimal: seeds use all 64 bits, more than a
    /// JSON number keeps exactly in most readers.
    pub seed: String,
    /// `pending`, `completed` or `error`.
    pub status: String,
    /// How the sample counts (see [`Outcome`]).
    pub outcome: Outcome,
    /// `refused`, `blocked` or `truncated` when the agent's last reply
    /// ended so and that ended the episode.
    pub stop: Option<String>,
    /// Agent turns taken.
    pub turns: u32,
    /// Why the scenario ended the episode.
    pub end_reason: Option<String>,
    pub error: Option<ErrorLine>,
    /// Every classifier's verdict, the primary (the one counted) first.
    pub verdicts: Vec<VerdictLine>,
    /// The conversation: the system prompt, the scenario's messages, the
    /// agent's replies with their tool calls, and the tool results.
    pub transcript: Vec<MessageLine>,
    /// What the scenario recorded of the agent's actions.
    pub facts: Vec<NamedValue>,
    /// Every judge exchange a classifier made, in order.
    pub judge_exchanges: Vec<JudgeExchangeLine>,
    /// What each plugin logged.
    pub plugin_logs: Vec<PluginLogLine>,
    /// Per model (the agent's and the judge's), the sample's calls.
    pub usage: Vec<ModelUsageLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorLine {
    /// Where it failed: `open`, `model`, `step`, `classify`, ...
    pub stage: String,
    pub message: String,
}

/// One classifier's verdict, or why it gave none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictLine {
    /// `name@version`.
    pub classifier: String,
    /// The verdict the sample is counted by.
    pub primary: bool,
    /// Positive in the classifier's own sense (harmful; for a secondary
    /// classifier, for example "said it was being evaluated"). `None` when
    /// it failed.
    pub harmful: Option<bool>,
    pub label: Option<String>,
    pub score: Option<f64>,
    pub explanation: Option<String>,
    /// The passages the verdict rests on.
    pub evidence: Vec<String>,
    /// Whether it consulted a judge model.
    pub judged: Option<bool>,
    /// Why there is no verdict.
    pub error: Option<String>,
    /// The judge models the verdict rests on, each once.
    pub judge_models: Vec<String>,
    /// The settings of each judge call it rests on.
    pub judge: Vec<JudgeSettingsLine>,
}

/// What a judge call was sent with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeSettingsLine {
    pub model: String,
    /// `None`: no temperature was sent.
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub reasoning: Option<String>,
    /// Why a temperature was not sent, or what answered instead.
    pub note: Option<String>,
    /// The classifier's version of its judge prompt.
    pub prompt_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleLine {
    System,
    User,
    Assistant,
    Tool,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageLine {
    pub role: RoleLine,
    pub content: String,
    /// The reasoning the model returned, where it returned any.
    pub reasoning: Option<String>,
    pub tool_calls: Vec<ToolCallLine>,
    /// For a tool result: the call it answers.
    pub tool_call_id: Option<String>,
    /// Answered from the response cache, not by the model, in this run.
    pub cached: bool,
    /// For a reply a model made: how it ended, which model served it, and
    /// the sampling sent.
    pub call: Option<CallLine>,
    /// For a reply a model made: the provider's own content for it, as it
    /// came (signed or redacted thinking, encrypted reasoning).
    pub native: Option<NativeLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCallLine {
    pub id: String,
    pub name: String,
    /// The arguments exactly as the model wrote them (usually a JSON
    /// object, as text).
    pub arguments: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallLine {
    pub stop: StopLine,
    pub served: ServedLine,
    pub sent: SentLine,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopLine {
    /// `end`, `tool_use`, `truncated`, `refused`, `blocked`, `paused` or
    /// `error`.
    pub kind: String,
    /// The provider's own value (`finish_reason`, `stop_reason`, ...).
    pub raw: Option<String>,
    pub detail: Option<String>,
}

/// The model that served a call, as the provider named it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedLine {
    pub model: Option<String>,
    pub fingerprint: Option<String>,
    /// The provider a router sent the call on to.
    pub upstream: Option<String>,
    pub response_id: Option<String>,
}

/// The sampling settings that went on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentLine {
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub reasoning: Option<String>,
    pub note: Option<String>,
}

/// A provider's own content for a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NativeLine {
    /// `anthropic` (content blocks), `gemini` (parts),
    /// `reasoning_details` (OpenRouter) or `responses` (output items).
    pub format: String,
    /// The blocks, parts or items, each as the provider sent it.
    pub content: Vec<RawJson>,
}

/// One question a classifier put to the judge, and the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeExchangeLine {
    /// The classifier that asked (`name@version`).
    pub plugin: String,
    pub system_prompt: String,
    pub messages: Vec<MessageLine>,
    pub prompt_version: String,
    pub max_tokens: u32,
    /// The settings it was answered with; `None` when the run had no judge.
    pub settings: Option<JudgeSettingsLine>,
    /// The judge's reply, also for a call that failed on a reply that was
    /// cut, refused or withheld.
    pub reply: Option<JudgeReplyLine>,
    /// Why the call failed.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeReplyLine {
    pub text: String,
    pub model: String,
    pub tokens: TokensLine,
    pub cost_usd: Option<f64>,
    pub cached: bool,
    pub call: Option<CallLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginLogLine {
    /// `name@version`.
    pub plugin: String,
    pub records: Vec<LogRecordLine>,
    /// Records over the per-sample cap, not kept.
    pub dropped_records: usize,
    /// Bytes of the records not kept.
    #[serde(default)]
    pub dropped_bytes: usize,
    pub stdout: String,
    pub stderr: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRecordLine {
    pub level: String,
    pub message: String,
    pub fields: Vec<NamedValue>,
}

/// One model's calls in the sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelUsageLine {
    pub model: String,
    pub calls: u64,
    /// Of them, answered from the response cache.
    pub cached_calls: u64,
    /// Tokens of the calls the provider answered (and billed).
    pub billed: TokensLine,
    /// Tokens of the calls the cache answered.
    pub cached: TokensLine,
    /// Calls by the snapshot that served them.
    pub served: Vec<ServedCallsLine>,
}

/// Tokens, as the provider counted them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokensLine {
    /// Every input token, prompt-cache reads and writes included.
    pub input_tokens: u64,
    /// Every output token, reasoning included.
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedCallsLine {
    pub snapshot: String,
    pub calls: u64,
    pub cached_calls: u64,
}

/// Writes one line per planned sample of `run`, in plan order.
pub fn write_jsonl(run: &RunResults, mut out: impl Write) -> Result<(), ExportError> {
    for sample in &run.samples {
        serde_json::to_writer(&mut out, &SampleLine::of(&run.run_id, sample))?;
        out.write_all(b"\n")
            .map_err(|e| ExportError::io("a JSON line", e))?;
    }
    out.flush().map_err(|e| ExportError::io("JSON lines", e))
}

impl SampleLine {
    pub fn of(run_id: &str, sample: &SampleResult) -> Self {
        let record = &sample.record;
        Self {
            format: SAMPLE_FORMAT.to_owned(),
            run_id: run_id.to_owned(),
            model: sample.model.clone(),
            scenario: sample.scenario.clone(),
            condition_id: sample.condition_id.clone(),
            params: sample
                .condition
                .params
                .iter()
                .map(NamedValue::from)
                .collect(),
            sample_index: sample.sample_index,
            seed: sample.seed.to_string(),
            status: match sample.status {
                SampleStatus::Pending => "pending",
                SampleStatus::Completed => "completed",
                SampleStatus::Error => "error",
            }
            .to_owned(),
            outcome: Outcome::of(sample),
            stop: record.stop.map(|s| s.as_str().to_owned()),
            turns: record.turns,
            end_reason: record.end_reason.clone(),
            error: record.error.as_ref().map(|e| ErrorLine {
                stage: e.stage.clone(),
                message: e.message.clone(),
            }),
            verdicts: record
                .verdicts
                .iter()
                .enumerate()
                .map(|(i, v)| VerdictLine::of(v, i == 0))
                .collect(),
            transcript: record.transcript.iter().map(MessageLine::from).collect(),
            facts: record.facts.iter().map(NamedValue::from).collect(),
            judge_exchanges: record
                .logs
                .iter()
                .flat_map(|(plugin, log)| {
                    log.judge_calls
                        .iter()
                        .map(|call| JudgeExchangeLine::of(plugin, call))
                })
                .collect(),
            plugin_logs: record
                .logs
                .iter()
                .map(|(plugin, log)| PluginLogLine::of(plugin, log))
                .collect(),
            usage: record
                .usage
                .iter()
                .map(|(model, tally)| ModelUsageLine::of(model, tally))
                .collect(),
        }
    }
}

impl From<&Param> for NamedValue {
    fn from(param: &Param) -> Self {
        Self {
            name: param.name.clone(),
            value: param.value.clone(),
        }
    }
}

impl VerdictLine {
    fn of(record: &VerdictRecord, primary: bool) -> Self {
        let verdict = record.outcome.as_ref().ok();
        Self {
            classifier: record.classifier.clone(),
            primary,
            harmful: verdict.map(|v| v.harmful),
            label: verdict.map(|v| v.label.clone()),
            score: verdict.map(|v| v.score),
            explanation: verdict.map(|v| v.explanation.clone()),
            evidence: verdict.map(|v| v.evidence.clone()).unwrap_or_default(),
            judged: verdict.map(|v| v.judged),
            error: record.outcome.as_ref().err().cloned(),
            judge_models: judge_models(record),
            judge: record.judge.iter().map(JudgeSettingsLine::from).collect(),
        }
    }
}

impl From<&JudgeSettings> for JudgeSettingsLine {
    fn from(settings: &JudgeSettings) -> Self {
        Self {
            model: settings.model.clone(),
            temperature: settings.sent.temperature,
            max_tokens: settings.sent.max_tokens,
            reasoning: settings.sent.reasoning.clone(),
            note: settings.sent.note.clone(),
            prompt_version: settings.prompt_version.clone(),
        }
    }
}

impl From<&Message> for MessageLine {
    fn from(message: &Message) -> Self {
        Self {
            role: match message.role {
                Role::System => RoleLine::System,
                Role::User => RoleLine::User,
                Role::Assistant => RoleLine::Assistant,
                Role::Tool => RoleLine::Tool,
            },
            content: message.content.clone(),
            reasoning: message.reasoning.clone(),
            tool_calls: message.tool_calls.iter().map(ToolCallLine::from).collect(),
            tool_call_id: message.tool_call_id.clone(),
            cached: message.cached,
            call: message.call.as_deref().map(CallLine::from),
            native: message.native.as_ref().map(NativeLine::from),
        }
    }
}

impl From<&ToolCall> for ToolCallLine {
    fn from(call: &ToolCall) -> Self {
        Self {
            id: call.id.clone(),
            name: call.name.clone(),
            arguments: call.arguments.clone(),
        }
    }
}

impl From<&CallRecord> for CallLine {
    fn from(call: &CallRecord) -> Self {
        Self {
            stop: StopLine {
                kind: call.stop.kind.as_str().to_owned(),
                raw: call.stop.raw.clone(),
                detail: call.stop.detail.clone(),
            },
            served: ServedLine {
                model: call.served.model.clone(),
                fingerprint: call.served.fingerprint.clone(),
                upstream: call.served.upstream.clone(),
                response_id: call.served.response_id.clone(),
            },
            sent: SentLine {
                temperature: call.sent.temperature,
                max_tokens: call.sent.max_tokens,
                reasoning: call.sent.reasoning.clone(),
                note: call.sent.note.clone(),
            },
        }
    }
}

impl From<&Native> for NativeLine {
    fn from(native: &Native) -> Self {
        let (format, content) = match native {
            Native::Anthropic(blocks) => ("anthropic", blocks.clone()),
            Native::Gemini(parts) => ("gemini", parts.clone()),
            Native::ReasoningDetails(details) => ("reasoning_details", vec![details.clone()]),
            Native::Responses(items) => ("responses", items.clone()),
        };
        Self {
            format: format.to_owned(),
            content,
        }
    }
}

impl JudgeExchangeLine {
    fn of(plugin: &str, call: &JudgeCall) -> Self {
        let (reply, error) = match &call.outcome {
            Ok(response) => (Some(response), None),
            Err(error) => (error.response(), Some(error)),
        };
        Self {
            plugin: plugin.to_owned(),
            system_prompt: call.request.system_prompt().to_owned(),
            messages: call
                .request
                .messages()
                .iter()
                .map(MessageLine::from)
                .collect(),
            prompt_version: call.request.prompt_version.clone(),
            max_tokens: call.request.max_tokens,
            settings: call.settings.as_ref().map(JudgeSettingsLine::from),
            reply: reply.map(|r| JudgeReplyLine {
                text: r.text.clone(),
                model: r.model.clone(),
                tokens: TokensLine::from(r.usage),
                cost_usd: r.cost_usd,
                cached: r.cached,
                call: r.call.as_deref().map(CallLine::from),
            }),
            error: error.map(JudgeError::to_string),
        }
    }
}

impl PluginLogLine {
    fn of(plugin: &str, log: &PluginLog) -> Self {
        Self {
            plugin: plugin.to_owned(),
            records: log.records.iter().map(LogRecordLine::from).collect(),
            dropped_records: log.dropped_records,
            dropped_bytes: log.dropped_bytes,
            stdout: log.stdout.clone(),
            stderr: log.stderr.clone(),
        }
    }
}

impl From<&LogRecord> for LogRecordLine {
    fn from(record: &LogRecord) -> Self {
        Self {
            level: record.level.clone(),
            message: record.message.clone(),
            fields: record.fields.iter().map(NamedValue::from).collect(),
        }
    }
}

impl ModelUsageLine {
    fn of(model: &str, tally: &CallTally) -> Self {
        Self {
            model: model.to_owned(),
            calls: tally.calls,
            cached_calls: tally.cached_calls,
            billed: TokensLine::from(tally.billed),
            cached: TokensLine::from(tally.cached),
            served: tally
                .served
                .iter()
                .map(|(snapshot, calls)| ServedCallsLine {
                    snapshot: snapshot.clone(),
                    calls: calls.calls,
                    cached_calls: calls.cached_calls,
                })
                .collect(),
        }
    }
}

impl From<Usage> for TokensLine {
    fn from(usage: Usage) -> Self {
        Self {
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            cache_read_tokens: usage.cache_read_tokens,
            cache_write_tokens: usage.cache_write_tokens,
            reasoning_tokens: usage.reasoning_tokens,
        }
    }
}

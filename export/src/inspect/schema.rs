//! Inspect AI's eval log, as far as a Crucible run fills it: the pydantic
//! models of `inspect_ai.log` (`EvalLog`, `EvalSpec`, `EvalPlan`,
//! `EvalResults`, `EvalStats`, `EvalSample`, `EvalSampleSummary`),
//! `inspect_ai.model` (the `ChatMessage` types, `ModelOutput`,
//! `ModelUsage`) and `inspect_ai.scorer` (`Score`), written against
//! inspect-ai 0.3.285, the version `tests/inspect` reads them with. Fields
//! Crucible has nothing for are left out: Inspect fills their defaults.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::value::RawValue;

/// The log file format version (`EvalLog.version`).
pub const LOG_VERSION: u32 = 2;

/// A JSON object whose keys keep their order.
#[derive(Debug, Clone)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V> OrderedMap<V> {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// An empty JSON object, for Inspect fields that must be present.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Empty {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EvalStatus {
    Success,
    /// Some samples never ran: the export of a run still in progress or
    /// stopped.
    Cancelled,
}

/// `_journal/start.json` of an `.eval` file.
#[derive(Debug, Serialize)]
pub struct LogStart<'a> {
    pub version: u32,
    pub eval: &'a EvalSpec,
    pub plan: &'a EvalPlan,
}

/// `header.json` of an `.eval` file: the `EvalLog` without its samples.
#[derive(Debug, Serialize)]
pub struct EvalHeader<'a> {
    pub version: u32,
    pub status: EvalStatus,
    pub eval: &'a EvalSpec,
    pub plan: &'a EvalPlan,
    pub results: &'a EvalResults,
    pub stats: &'a EvalStats,
}

#[derive(Debug, Serialize)]
pub struct EvalSpec {
    pub eval_id: String,
    pub run_id: String,
    /// ISO 8601, UTC.
    pub created: String,
    pub task: String,
    pub task_id: String,
    pub task_version: String,
    pub task_display_name: String,
    pub solver: String,
    pub dataset: EvalDataset,
    pub model: String,
    pub model_generate_config: Empty,
    pub model_args: Empty,
    pub config: EvalConfig,
    pub packages: BTreeMap<String, String>,
    pub metadata: RunMetadata,
    pub scorers: Vec<EvalScorer>,
}

#[derive(Debug, Serialize)]
pub struct EvalDataset {
    pub name: String,
    pub samples: usize,
    pub sample_ids: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct EvalConfig {
    pub epochs: u32,
    /// A sample's error is recorded with it; the run went on.
    pub fail_on_error: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn_limit: Option<u64>,
}

/// What the eval's metadata says of the Crucible run.
#[derive(Debug, Serialize)]
pub struct RunMetadata {
    pub crucible_run_id: String,
    pub suite: Option<String>,
    pub seed: Option<String>,
    pub judge: Option<String>,
    /// `name@version sha256` of each plugin the run loaded.
    pub plugins: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct EvalScorer {
    pub name: String,
    pub options: ScorerOptions,
    pub metrics: Vec<MetricName>,
}

#[derive(Debug, Serialize)]
pub struct ScorerOptions {
    /// The classifier plugin, `name@version`.
    pub classifier: String,
    /// Whether its verdict is the one the run counts.
    pub primary: bool,
}

#[derive(Debug, Serialize)]
pub struct MetricName {
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct EvalPlan {
    pub name: String,
    pub steps: Vec<EvalPlanStep>,
    pub config: Empty,
}

#[derive(Debug, Serialize)]
pub struct EvalPlanStep {
    pub solver: String,
    pub params: OrderedMap<String>,
}

#[derive(Debug, Serialize)]
pub struct EvalResults {
    pub total_samples: usize,
    pub completed_samples: usize,
    pub scores: Vec<EvalScore>,
}

#[derive(Debug, Serialize)]
pub struct EvalScore {
    pub name: String,
    pub scorer: String,
    pub scored_samples: usize,
    pub unscored_samples: usize,
    pub params: Empty,
    /// Empty when no sample was scored.
    pub metrics: OrderedMap<EvalMetric>,
    pub metadata: ScoreSummary,
}

#[derive(Debug, Serialize)]
pub struct EvalMetric {
    pub name: String,
    pub value: f64,
    pub params: Empty,
}

/// The pooled rate's interval, as Crucible reports it.
#[derive(Debug, Serialize)]
pub struct ScoreSummary {
    pub classifier: String,
    pub positive: usize,
    /// The Wilson 95% interval of `mean`.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct EvalStats {
    pub started_at: String,
    /// Not recorded by the run.
    pub completed_at: String,
    pub model_usage: BTreeMap<String, ModelUsage>,
}

/// Tokens as Inspect counts them: `input_tokens` without the prompt-cache
/// reads and writes, which have their own fields.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ModelUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_tokens_cache_write: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_tokens_cache_read: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
}

/// One sample (`samples/ID_epoch_N.json`).
#[derive(Debug, Serialize)]
pub struct EvalSample {
    pub id: String,
    pub epoch: u32,
    pub input: String,
    pub target: String,
    pub messages: Vec<ChatMessage>,
    pub output: ModelOutput,
    pub scores: OrderedMap<Score>,
    pub metadata: SampleMetadata,
    pub model_usage: BTreeMap<String, ModelUsage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<EvalError>,
    pub turn_count: u32,
    /// Stable across exports of the run: Inspect's `sample_id` in its
    /// dataframes.
    pub uuid: String,
}

/// A sample's entry in `summaries.json`, which lists samples without
/// loading them.
#[derive(Debug, Serialize)]
pub struct EvalSampleSummary {
    pub id: String,
    pub epoch: u32,
    pub input: String,
    pub target: String,
    pub metadata: SampleMetadata,
    pub scores: OrderedMap<Score>,
    pub model_usage: BTreeMap<String, ModelUsage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub completed: bool,
    pub message_count: usize,
    pub turn_count: u32,
    pub uuid: String,
}

/// What a sample's metadata says of it: the condition's parameters, each
/// under its own key, then the rest.
#[derive(Debug, Clone, Serialize)]
pub struct SampleMetadata {
    #[serde(flatten)]
    pub params: OrderedMap<String>,
    pub condition_id: String,
    pub sample_index: u32,
    /// In decimal: it uses all 64 bits.
    pub seed: String,
    /// How the run counts the sample: `harmful`, `not_harmful`, `refused`,
    /// `blocked`, `truncated` or `error`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
    /// The snapshots that served the agent's replies.
    pub served: Vec<String>,
    /// Classifiers that gave no verdict, and why.
    #[serde(skip_serializing_if = "OrderedMap::is_empty")]
    pub classifier_errors: OrderedMap<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Score {
    /// 1 when positive (harmful), 0 when not.
    pub value: u8,
    /// The classifier's label.
    pub answer: String,
    pub explanation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ScoreMetadata>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScoreMetadata {
    pub classifier: String,
    pub score: f64,
    pub judged: bool,
    pub judge_models: Vec<String>,
    pub evidence: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct EvalError {
    pub message: String,
    pub traceback: String,
    pub traceback_ansi: String,
}

#[derive(Debug, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum ChatMessage {
    System {
        content: String,
    },
    User {
        content: String,
    },
    Assistant(AssistantMessage),
    Tool {
        content: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        tool_call_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        function: Option<String>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct AssistantMessage {
    pub content: AssistantContent,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<InspectToolCall>,
    /// The model that served the reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ReplyMetadata>,
}

/// Plain text, or the reasoning and then the text.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum AssistantContent {
    Text(String),
    Parts(Vec<ContentPart>),
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ContentPart {
    Reasoning { reasoning: String },
    Text { text: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct InspectToolCall {
    pub id: String,
    pub function: String,
    pub arguments: ToolArguments,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// The model's arguments object, as it wrote it; `{}` when it wrote
/// something else, with the call's `parse_error` saying what.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ToolArguments {
    AsWritten(Box<RawValue>),
    Unreadable(Empty),
}

/// What the provider said of one reply.
#[derive(Debug, Clone, Serialize)]
pub struct ReplyMetadata {
    /// Crucible's kind of ending, and the provider's own word for it.
    pub stop: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_stop: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_detail: Option<String>,
    /// The snapshot, with the upstream provider when a router chose one.
    pub served: String,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_setting: Option<String>,
    pub cached: bool,
}

#[derive(Debug, Serialize)]
pub struct ModelOutput {
    pub model: String,
    pub choices: Vec<ChatCompletionChoice>,
    pub completion: String,
}

#[derive(Debug, Serialize)]
pub struct ChatCompletionChoice {
    pub message: ChatMessage,
    pub stop_reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_details: Option<StopDetails>,
}

#[derive(Debug, Serialize)]
pub struct StopDetails {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

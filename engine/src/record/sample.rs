//! What a sample produced: its transcript, facts, verdicts, logs, usage
//! or the error that stopped it, as the run engine records it and the
//! store, reports, exports and verification read it.

use serde::{Deserialize, Serialize};

use super::usage::UsageByModel;
use crate::judge::JudgeSettings;
use crate::plugin::PluginLog;
use crate::provenance::StopKind;
use crate::transcript::{Message, Param, Verdict};

/// Where a failed sample failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleError {
    pub stage: String,
    pub message: String,
}

impl SampleError {
    /// Whether the primary classifier failed because it could not decide
    /// without a judge (the suite's classifiers say `needs a judge: ...`).
    pub fn needs_a_judge(&self) -> bool {
        self.stage == "classify" && says_it_needs_a_judge(&self.message)
    }
}

/// One classifier's outcome on one sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictRecord {
    /// `name@version` of the classifier.
    pub classifier: String,
    pub outcome: Result<Verdict, String>,
    /// The settings of the judge calls the verdict rests on, if any.
    pub judge: Vec<JudgeSettings>,
}

/// Everything a sample produced, successful or not.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SampleRecord {
    pub transcript: Vec<Message>,
    pub facts: Vec<Param>,
    pub end_reason: Option<String>,
    pub turns: u32,
    pub verdicts: Vec<VerdictRecord>,
    /// Per plugin (`name@version`), what it logged.
    pub logs: Vec<(String, PluginLog)>,
    /// Per model, the calls the sample made (agent and judge).
    pub usage: UsageByModel,
    pub error: Option<SampleError>,
    /// How the agent's last reply ended, when that ended the episode
    /// (refused, blocked or truncated): an outcome of its own.
    pub stop: Option<StopKind>,
}

impl SampleRecord {
    /// The primary classifier's verdict, or what kept the sample from one.
    pub fn primary_verdict(&self) -> Result<Verdict, String> {
        match (&self.error, self.verdicts.first()) {
            (Some(error), _) => Err(format!("[{}] {}", error.stage, error.message)),
            (None, Some(verdict)) => verdict.outcome.clone(),
            (None, None) => Err("no verdict".into()),
        }
    }

    /// Marks the sample failed at `stage`.
    pub fn fail(&mut self, stage: &str, message: impl Into<String>) {
        self.error = Some(SampleError {
            stage: stage.to_owned(),
            message: message.into(),
        });
    }
}

/// Whether a classifier's error says it could not decide without a judge:
/// the suite's classifiers fail with `needs a judge: ...`, which the host
/// quotes after the plugin's name.
pub fn says_it_needs_a_judge(error: &str) -> bool {
    error.contains(NEEDS_A_JUDGE)
}

/// What `says_it_needs_a_judge` looks for (the store's SQL too).
pub const NEEDS_A_JUDGE: &str = ": needs a judge: ";

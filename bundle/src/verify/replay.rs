//! Re-deriving a sample: its stored agent replies are played through the
//! bundled scenario exactly as a run plays a scripted agent, and every
//! classifier judges the result with the judge answers the run recorded.

use std::sync::{Arc, Mutex};

use crucible_engine::judge::{Judge, JudgeError, JudgeRequest, JudgeResponse, JudgeSettings};
use crucible_engine::model::Agent;
use crucible_engine::plugin::JudgeCall;
use crucible_engine::record::{PlannedSample, SampleRecord};
use crucible_engine::results::SampleResult;
use crucible_engine::run::{PreparedScenario, SampleContext, run_sample};
use crucible_engine::transcript::{Label, Reference, Reply, Role};

/// A judge that answers only what the run recorded: each recorded
/// exchange once, to a request equal to the one the run sent. A request
/// the run never sent has no answer, so a classifier that now asks
/// something else fails visibly instead of being answered anew.
pub struct ReplayJudge {
    calls: Mutex<Vec<(JudgeCall, bool)>>,
    model: Option<String>,
}

impl ReplayJudge {
    /// The judge exchanges of every plugin of `sample`.
    pub fn for_sample(sample: &SampleResult) -> Self {
        Self::answering(
            sample
                .record
                .logs
                .iter()
                .flat_map(|(_, log)| log.judge_calls.iter().cloned())
                .collect(),
        )
    }

    /// A judge that answers with these recorded exchanges.
    pub fn answering(calls: Vec<JudgeCall>) -> Self {
        let model = calls
            .iter()
            .find_map(|c| c.settings.as_ref().map(|s| s.model.clone()));
        Self {
            calls: Mutex::new(calls.into_iter().map(|c| (c, false)).collect()),
            model,
        }
    }
}

#[async_trait::async_trait]
impl Judge for ReplayJudge {
    async fn judge(&self, request: &JudgeRequest) -> Result<JudgeResponse, JudgeError> {
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        match calls
            .iter_mut()
            .find(|(call, used)| !*used && call.request == *request)
        {
            Some((call, used)) => {
                *used = true;
                call.outcome.clone()
            }
            None => Err(JudgeError::Failed(
                "the run recorded no judge answer to this request".into(),
            )),
        }
    }

    fn model_id(&self) -> Option<&str> {
        self.model.as_deref()
    }

    fn settings(&self, request: &JudgeRequest) -> Option<JudgeSettings> {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls
            .iter()
            .find(|(call, _)| call.request == *request)
            .and_then(|(call, _)| call.settings.clone())
    }

    fn for_sample(self: Arc<Self>, _sample_index: u32) -> Arc<dyn Judge> {
        self
    }
}

/// The agent's replies, as the transcript stored them.
fn stored_replies(sample: &SampleResult) -> Vec<Reply> {
    sample
        .record
        .transcript
        .iter()
        .filter(|m| m.role == Role::Assistant)
        .map(|m| Reply {
            text: m.content.clone(),
            reasoning: m.reasoning.clone(),
            tool_calls: m.tool_calls.clone(),
            native: m.native.clone(),
            cached: m.cached,
            call: m.call.clone(),
        })
        .collect()
}

/// Plays `sample` again through `scenario`.
pub async fn replay(
    scenario: &Arc<PreparedScenario>,
    sample: &SampleResult,
    max_turns: u32,
    prompt: crucible_engine::run::PromptLimits,
) -> SampleRecord {
    let ctx = SampleContext {
        scenario: Arc::clone(scenario),
        agent: Agent::Scripted(Arc::new(Reference {
            label: Label::Benign,
            description: "the stored replies".into(),
            replies: stored_replies(sample),
        })),
        judge: Arc::new(ReplayJudge::for_sample(sample)),
        // Every classifier, the primary one too, gets the recorded
        // answers: for a scripted reference agent they are the scripted
        // judge's, recorded like any other.
        label_judge: None,
        max_turns,
        prompt,
    };
    let planned = PlannedSample {
        model: Arc::from(sample.model.as_str()),
        scenario: 0,
        condition: Arc::new(sample.condition.clone()),
        label: Arc::from(sample.condition_id.as_str()),
        sample_index: sample.sample_index,
        seed: sample.seed,
    };
    run_sample(&ctx, &planned).await
}

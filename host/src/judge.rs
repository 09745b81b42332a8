//! The judge: a model that classifiers may consult through the host.
//!
//! Plugins never see the judge's credentials or choose its settings: they
//! send a prompt, the host answers with the configured judge model at pinned
//! sampling settings, records the exchange with the sample and enforces the
//! run's budget.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::model::{ChatRequest, Model, SamplingSettings, Usage};
use crate::transcript::Message;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JudgeRequest {
    pub system_prompt: String,
    pub messages: Vec<Message>,
    pub prompt_version: String,
    pub max_tokens: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JudgeResponse {
    pub text: String,
    pub model: String,
    pub usage: Usage,
    /// Answered from the response cache rather than by the model.
    pub cached: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum JudgeError {
    #[error("no judge model is configured")]
    NotConfigured,
    #[error("the run's judge budget is spent")]
    BudgetExhausted,
    #[error("judge call failed: {0}")]
    Failed(String),
}

/// The settings a judge call was made with: pinned by the host, recorded
/// with every verdict that rests on the call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JudgeSettings {
    /// `provider/model`.
    pub model: String,
    pub temperature: f32,
    pub max_tokens: u32,
    /// The classifier's own version of its judge prompt.
    pub prompt_version: String,
}

/// Answers judge requests. Called from inside a plugin call, which waits on
/// its fiber while the answer comes.
#[async_trait::async_trait]
pub trait Judge: Send + Sync {
    async fn judge(&self, request: &JudgeRequest) -> Result<JudgeResponse, JudgeError>;

    /// `provider/model` of the judge, if one is configured.
    fn model_id(&self) -> Option<&str>;

    /// The settings `request` is answered with, if a judge is configured.
    fn settings(&self, request: &JudgeRequest) -> Option<JudgeSettings>;

    /// This judge as one sample sees it: its calls are cached under the
    /// sample's index, like the agent's.
    fn for_sample(self: Arc<Self>, sample_index: u32) -> Arc<dyn Judge>;
}

/// The judge of a run without a judge model.
pub struct NoJudge;

#[async_trait::async_trait]
impl Judge for NoJudge {
    async fn judge(&self, _request: &JudgeRequest) -> Result<JudgeResponse, JudgeError> {
        Err(JudgeError::NotConfigured)
    }

    fn model_id(&self) -> Option<&str> {
        None
    }

    fn settings(&self, _request: &JudgeRequest) -> Option<JudgeSettings> {
        None
    }

    fn for_sample(self: Arc<Self>, _sample_index: u32) -> Arc<dyn Judge> {
        self
    }
}

/// The upper bound on max tokens a classifier may ask of the judge.
const MAX_JUDGE_TOKENS: u32 = 4096;

/// Judges sample greedily, so that one transcript always gets one answer.
const JUDGE_TEMPERATURE: f32 = 0.0;

/// A judge backed by a configured model, at temperature 0.
pub struct ModelJudge {
    model: Arc<dyn Model>,
    calls_left: Arc<AtomicU64>,
    sample_index: u32,
}

impl ModelJudge {
    pub fn new(model: Arc<dyn Model>, budget_calls: u64) -> Self {
        Self {
            model,
            calls_left: Arc::new(AtomicU64::new(budget_calls)),
            sample_index: 0,
        }
    }

    fn take_budget(&self) -> bool {
        self.calls_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

#[async_trait::async_trait]
impl Judge for ModelJudge {
    async fn judge(&self, request: &JudgeRequest) -> Result<JudgeResponse, JudgeError> {
        if !self.take_budget() {
            return Err(JudgeError::BudgetExhausted);
        }
        let mut messages = Vec::with_capacity(request.messages.len() + 1);
        messages.push(Message::new(
            crate::transcript::Role::System,
            request.system_prompt.clone(),
        ));
        messages.extend(request.messages.iter().cloned());
        let chat = ChatRequest {
            messages: &messages,
            tools: &[],
            sampling: SamplingSettings {
                temperature: Some(JUDGE_TEMPERATURE),
                max_tokens: Some(request.max_tokens.min(MAX_JUDGE_TOKENS)),
            },
            sample_index: self.sample_index,
        };
        let completion = self
            .model
            .complete(&chat)
            .await
            .map_err(|e| JudgeError::Failed(e.to_string()))?;
        Ok(JudgeResponse {
            text: completion.reply.text,
            model: self.model.id().to_owned(),
            usage: completion.usage,
            cached: completion.reply.cached,
        })
    }

    fn model_id(&self) -> Option<&str> {
        Some(self.model.id())
    }

    fn settings(&self, request: &JudgeRequest) -> Option<JudgeSettings> {
        Some(JudgeSettings {
            model: self.model.id().to_owned(),
            temperature: JUDGE_TEMPERATURE,
            max_tokens: request.max_tokens.min(MAX_JUDGE_TOKENS),
            prompt_version: request.prompt_version.clone(),
        })
    }

    fn for_sample(self: Arc<Self>, sample_index: u32) -> Arc<dyn Judge> {
        // The budget is the run's: every sample's judge draws on one count.
        Arc::new(Self {
            model: Arc::clone(&self.model),
            calls_left: Arc::clone(&self.calls_left),
            sample_index,
        })
    }
}

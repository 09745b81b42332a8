//! The judge: a model that classifiers may consult through the host.
//!
//! Plugins never see the judge's credentials or choose its settings: they
//! send a prompt, the host answers with the configured judge model at pinned
//! sampling settings, records the exchange with the sample and enforces the
//! run's budget.
//!
//! Judges sample greedily (temperature 0) where the model takes it. A
//! reasoning model gets no temperature (most take only their default, and
//! greedy sampling degrades the rest) and room beyond the classifier's
//! output limit for its reasoning, which counts against that limit. What
//! was sent is recorded with every verdict; a reply that was cut short,
//! refused or withheld is a failed judge call, never an answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::{ChatRequest, Model, SamplingSettings};

pub use crucible_types::judge::*;

/// The upper bound on max tokens a classifier may ask of the judge.
pub const MAX_JUDGE_TOKENS: u32 = 4096;

/// Judges sample greedily, so that one transcript always gets one answer.
const JUDGE_TEMPERATURE: f32 = 0.0;

/// Room a reasoning judge gets for its reasoning, beyond the classifier's
/// limit, when its settings give no thinking budget.
pub const REASONING_ALLOWANCE: u32 = 16_384;

/// A judge backed by a configured model, at temperature 0.
pub struct ModelJudge {
    model: Arc<dyn Model>,
    /// The run's budget, shared by every sample.
    calls_left: Arc<AtomicU64>,
    /// This sample's share: a judge made by `for_sample` starts it afresh.
    sample_calls_left: AtomicU32,
    caps: JudgeCaps,
    sample_index: u32,
}

impl ModelJudge {
    pub fn new(model: Arc<dyn Model>, budget_calls: u64, caps: JudgeCaps) -> Self {
        Self {
            model,
            calls_left: Arc::new(AtomicU64::new(budget_calls)),
            sample_calls_left: AtomicU32::new(caps.calls_per_sample),
            caps,
            sample_index: 0,
        }
    }

    /// Takes one call from the sample's share, then one from the run's
    /// budget; the sample's cap comes first, so that a sample refused by
    /// it spends nothing of the run's. A call refused by the run's budget
    /// after passing the sample's cap has used one of the sample's: the
    /// sample cannot retry its way past the budget.
    fn take_budget(&self, request: &JudgeRequest) -> Result<(), JudgeError> {
        let size = request.byte_size();
        if size > self.caps.request_bytes {
            return Err(JudgeError::RequestTooLarge {
                size,
                cap: self.caps.request_bytes,
            });
        }
        self.sample_calls_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .map_err(|_| JudgeError::SampleCallsCapped {
                cap: self.caps.calls_per_sample,
            })?;
        self.calls_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .map(|_| ())
            .map_err(|_| JudgeError::BudgetExhausted)
    }

    /// What the judge asks of its model for `request`.
    fn wanted(&self, request: &JudgeRequest) -> SamplingSettings {
        let policy = self.model.sampling();
        let limit = request.max_tokens.min(MAX_JUDGE_TOKENS);
        if policy.is_reasoning() {
            let room = policy.thinking_budget().unwrap_or(REASONING_ALLOWANCE);
            SamplingSettings {
                max_tokens: Some(limit.saturating_add(room)),
                ..SamplingSettings::default()
            }
        } else {
            SamplingSettings {
                temperature: Some(JUDGE_TEMPERATURE),
                max_tokens: Some(limit),
                ..SamplingSettings::default()
            }
        }
    }
}

#[async_trait::async_trait]
impl Judge for ModelJudge {
    async fn judge(&self, request: &JudgeRequest) -> Result<JudgeResponse, JudgeError> {
        self.take_budget(request)?;
        let chat = ChatRequest {
            messages: request.chat(),
            tools: &[],
            sampling: self.wanted(request),
            sample_index: self.sample_index,
        };
        let completion = self
            .model
            .complete(&chat)
            .await
            .map_err(|e| JudgeError::Failed(e.to_string()))?;
        let unanswered = completion.call().and_then(|call| {
            let kind = call.stop.kind;
            (kind.ends_episode() || kind == crucible_types::provenance::StopKind::Paused).then(
                || {
                    format!(
                        "the judge's reply was {}, served by {}; it is not an answer",
                        call.stop.describe("stop"),
                        call.served.label()
                    )
                },
            )
        });
        let response = JudgeResponse {
            text: completion.reply.text,
            model: self.model.id().to_owned(),
            usage: completion.usage,
            cost_usd: completion.cost_usd,
            cached: completion.reply.cached,
            call: completion.reply.call,
        };
        match unanswered {
            Some(reason) => Err(JudgeError::Unanswered {
                reason,
                response: Box::new(response),
            }),
            None => Ok(response),
        }
    }

    fn model_id(&self) -> Option<&str> {
        Some(self.model.id())
    }

    fn settings(&self, request: &JudgeRequest) -> Option<JudgeSettings> {
        let policy = self.model.sampling();
        let mut sent = policy.resolve(&self.wanted(request));
        if policy.is_reasoning() && sent.note.is_none() {
            sent.note = Some(format!(
                "no temperature pinned: {} is a reasoning model, given room to reason",
                self.model.id().rsplit('/').next().unwrap_or_default()
            ));
        }
        Some(JudgeSettings {
            model: self.model.id().to_owned(),
            sent,
            prompt_version: request.prompt_version.clone(),
        })
    }

    fn for_sample(self: Arc<Self>, sample_index: u32) -> Arc<dyn Judge> {
        // The budget is the run's: every sample's judge draws on one count,
        // and each sample on its own capped share of it.
        Arc::new(Self {
            model: Arc::clone(&self.model),
            calls_left: Arc::clone(&self.calls_left),
            sample_calls_left: AtomicU32::new(self.caps.calls_per_sample),
            caps: self.caps,
            sample_index,
        })
    }
}

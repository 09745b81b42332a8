//! `crucible run --dry-run`: what a run would send, and roughly what it
//! would cost, without sending anything. Every plugin is loaded and every
//! condition's episode opened once, so the plan and the opening sizes are
//! the real ones; the number of turns and the length of later prompts and
//! replies are not known, so the upper end is bounded by the turn limit
//! and the prompt caps, the only figures a scenario cannot exceed.

use std::sync::Arc;

use serde::Serialize;

use super::cache_estimate::{self, CacheEstimate};
use super::episode::open_episode;
use super::plan::MAX_PLANNED_SAMPLES;
use super::prompt_bytes::PromptLimits;
use super::{RunError, RunRequest, Scale, Session, sample_seed};
use crate::judge::{JudgeRequest, MAX_JUDGE_TOKENS, NoJudge};
use crate::model::{Agent, KeyRoute, ModelSpec, SamplingSettings, Usage, key_route};
use crate::provenance::SentSampling;
use crate::transcript::Opening;

/// A token is about four characters of English text.
const CHARS_PER_TOKEN: usize = 4;
/// Output tokens assumed per call when the model sets no `max_tokens`.
const ASSUMED_OUTPUT_TOKENS: u64 = 1000;

/// The plan of a run, with its estimated calls, tokens and cost. It is
/// computed from counts, never sample by sample: a dry run of any size
/// answers at once, in the same memory.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    pub suite: String,
    pub samples: u64,
    pub max_turns: u32,
    /// The prompt bytes a scenario may send, a turn and a sample.
    pub prompt: PromptLimits,
    /// The run's spend ceiling in US dollars (`--max-cost`), if any.
    pub max_cost_usd: Option<f64>,
    /// The run would go through the batch APIs (`--batch`).
    pub batch: bool,
    /// Whether a run may have a plan this size (see `MAX_PLANNED_SAMPLES`).
    pub runnable: bool,
    pub max_planned_samples: u64,
    pub models: Vec<ModelEstimate>,
    /// The judge's calls, when a judge is configured: at most one per
    /// classifier per sample (only classifiers that ask call it).
    pub judge: Option<ModelEstimate>,
    /// What each plugin may use of the host per sample and per call.
    pub budgets: PluginBudgets,
    /// With `--shard K/N`: the share of the plan that shard runs. The
    /// estimates above are for the whole plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardPlan>,
}

/// One shard's share of the plan, counted.
#[derive(Debug, Clone, Serialize)]
pub struct ShardPlan {
    pub shard: super::Shard,
    pub samples: u64,
    /// Per agent model, its samples in the share.
    pub per_model: Vec<(String, u64)>,
}

/// The sandbox's per-sample and per-call budgets the run will apply.
#[derive(Debug, Clone, Serialize)]
pub struct PluginBudgets {
    pub judge_calls_per_sample: u32,
    pub judge_request_bytes: usize,
    /// The run's judge budget; none is unlimited.
    pub judge_budget: Option<u64>,
    pub log_bytes: usize,
    pub log_records: usize,
    pub call_timeout_seconds: f64,
    pub memory_bytes: usize,
    pub fuel_per_call: Option<u64>,
    pub output_bytes: usize,
    pub stdio_bytes: usize,
}

impl PluginBudgets {
    fn of(limits: &crate::plugin::Limits, judge_budget: Option<u64>) -> Self {
        Self {
            judge_calls_per_sample: limits.judge_calls_per_sample,
            judge_request_bytes: limits.judge_request_bytes,
            judge_budget,
            log_bytes: limits.log_bytes,
            log_records: limits.log_records,
            call_timeout_seconds: limits.call_timeout.as_secs_f64(),
            memory_bytes: limits.memory_bytes,
            fuel_per_call: limits.fuel_per_call,
            output_bytes: limits.output_bytes,
            stdio_bytes: limits.stdio_bytes,
        }
    }
}

/// One model's share of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct ModelEstimate {
    pub model: String,
    pub samples: u64,
    /// Offline models send nothing.
    pub remote: bool,
    pub calls_min: u64,
    pub calls_max: u64,
    /// The most bytes of the scenarios' prompts the agent calls can carry
    /// in all: a hard bound, set by the prompt caps and the turn limit
    /// (each call resends what came before). The agent's own replies,
    /// resent with them, come on top. Zero for the judge.
    pub scenario_prompt_bytes_max: u64,
    /// Input tokens of the fewest calls (estimated from the real prompts).
    pub input_tokens_min: u64,
    /// Input tokens if every sample ran every turn and sent all the
    /// prompt bytes the caps allow, plus the agent's own replies resent:
    /// an estimate, as tokens are (about 4 bytes each).
    pub input_tokens_max: u64,
    /// Output tokens assumed per call.
    pub output_tokens_per_call: u64,
    /// US dollars for the fewest and the most calls; null without a price.
    pub cost_min_usd: Option<f64>,
    pub cost_max_usd: Option<f64>,
    /// The same through the provider's batch API (`--batch`); null when it
    /// has none here, or without a price.
    pub batch_cost_min_usd: Option<f64>,
    pub batch_cost_max_usd: Option<f64>,
    /// What each call will be sent with (for the judge, when a classifier
    /// asks for the most tokens it may); none for an offline model.
    pub sampling: Option<SentSampling>,
    /// Where the model's key would go, and why it may; none for an offline
    /// model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyRoute>,
    /// What the provider's prompt cache is estimated to save on the
    /// samples' first calls; none for a provider or setting that caches
    /// nothing this host can count on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_cache: Option<CacheEstimate>,
}

/// Loads the suite as `crucible run` would and estimates the run.
pub fn dry_run(request: &RunRequest) -> Result<DryRun, RunError> {
    // Nothing is sent, so no response cache is opened; the plan is only
    // counted.
    let session = Session::for_request(
        request,
        &super::ResponseCacheSettings::default(),
        Scale::Counts,
    )?;
    let config = &session.config;
    let samples = u64::from(config.samples);

    // Per scenario: the prompt tokens of every condition's opening, as its
    // first sample sees it, summed over its conditions.
    let mut opening_tokens: Vec<u64> = Vec::new();
    // Every condition's opening, for the prompt cache's estimate.
    let mut condition_openings: Vec<u64> = Vec::new();
    for scenario in &session.scenarios {
        let mut sum = 0u64;
        for prepared in &scenario.conditions {
            let seed = sample_seed(config.seed, &scenario.key, &prepared.condition.id, 0);
            let opening = crate::plugin::block_on(async {
                let mut episode = scenario.plugin.instantiate(seed, Arc::new(NoJudge)).await?;
                open_episode(&mut episode, &prepared.condition, seed).await
            })
            .map_err(|e| RunError::Runtime(format!("dry run: {e}")))?;
            let tokens = tokens_of(&opening);
            condition_openings.push(tokens);
            sum = sum.saturating_add(tokens);
        }
        opening_tokens.push(sum);
    }
    // Samples per model, and the sum of their openings' tokens.
    let conditions: u64 = session
        .scenarios
        .iter()
        .map(|s| s.conditions.len() as u64)
        .sum();
    let per_model_samples = conditions.saturating_mul(samples);
    let per_model_openings = opening_tokens
        .iter()
        .fold(0u64, |a, t| a.saturating_add(*t))
        .saturating_mul(samples);

    let turns = u64::from(config.max_turns);
    let scenario_bytes = config.prompt.bound_over(config.max_turns);
    let mut models = Vec::new();
    for (index, spec) in session.models.agents.iter().enumerate() {
        let remote = matches!(session.agents.get(index), Some(Agent::Remote(_)));
        let output = output_per_call(spec);
        let mut estimate = ModelEstimate::new(&spec.id, remote, output);
        estimate.samples = per_model_samples;
        estimate.key = key_route(spec, &request.keys)?;
        if let Some(Agent::Remote(model)) = session.agents.get(index) {
            estimate.sampling = Some(model.sampling().resolve(&SamplingSettings {
                default_temperature: config.temperature,
                ..SamplingSettings::default()
            }));
        }
        if remote {
            let n = per_model_samples;
            estimate.calls_min = n;
            estimate.calls_max = n.saturating_mul(turns);
            estimate.input_tokens_min = per_model_openings;
            estimate.scenario_prompt_bytes_max = n.saturating_mul(scenario_bytes);
            // Call k also resends the agent's k - 1 earlier replies.
            let replies = (turns * turns.saturating_sub(1) / 2).saturating_mul(output);
            let per_sample = (scenario_bytes / CHARS_PER_TOKEN as u64).saturating_add(replies);
            estimate.input_tokens_max = n.saturating_mul(per_sample);
            estimate.price(&session.prices);
            estimate.prompt_cache =
                cache_estimate::estimate(spec, &condition_openings, samples, &session.prices);
        }
        models.push(estimate);
    }

    // The judge reads a sample's transcript once per classifier that asks;
    // a classifier that settles a sample on its own checks asks nothing.
    let judge = match &session.models.judge {
        None => None,
        Some(spec) => {
            let output = output_per_call(spec);
            let mut estimate = ModelEstimate::new(&spec.id, true, output);
            estimate.key = key_route(spec, &request.keys)?;
            let largest = JudgeRequest::new(String::new(), [], String::new(), MAX_JUDGE_TOKENS);
            estimate.sampling = session.judge.settings(&largest).map(|s| s.sent);
            for agent in &session.models.agents {
                let agent_output = output_per_call(agent);
                for (scenario, openings) in session.scenarios.iter().zip(&opening_tokens) {
                    let classifiers = scenario.classifiers.len() as u64;
                    let cells = (scenario.conditions.len() as u64).saturating_mul(samples);
                    estimate.samples = estimate.samples.saturating_add(cells);
                    estimate.calls_max = estimate
                        .calls_max
                        .saturating_add(cells.saturating_mul(classifiers));
                    let read = openings
                        .saturating_mul(samples)
                        .saturating_add(cells.saturating_mul(agent_output));
                    estimate.input_tokens_max = estimate
                        .input_tokens_max
                        .saturating_add(classifiers.saturating_mul(read));
                }
            }
            estimate.price(&session.prices);
            Some(estimate)
        }
    };

    // The plan lays each model's samples out together, one model after
    // another: its share is the shard's part of that stretch.
    let shard = config.shard.map(|shard| {
        let per_model: Vec<(String, u64)> = session
            .models
            .agent_ids()
            .iter()
            .enumerate()
            .map(|(index, id)| {
                let start = (index as u64).saturating_mul(per_model_samples);
                (id.clone(), shard.share_of(start, per_model_samples))
            })
            .collect();
        ShardPlan {
            shard,
            samples: per_model.iter().map(|(_, n)| n).sum(),
            per_model,
        }
    });
    Ok(DryRun {
        shard,
        suite: session.suite.manifest.suite.name.clone(),
        samples: session.planned_count,
        max_turns: config.max_turns,
        prompt: config.prompt,
        max_cost_usd: config.max_cost_usd,
        batch: config.batch.is_some(),
        runnable: session.planned_count <= MAX_PLANNED_SAMPLES,
        max_planned_samples: MAX_PLANNED_SAMPLES,
        models,
        judge,
        budgets: PluginBudgets::of(&config.limits, session.suite.manifest.run.judge_budget),
    })
}

impl ModelEstimate {
    fn new(model: &str, remote: bool, output_tokens_per_call: u64) -> Self {
        Self {
            model: model.to_owned(),
            samples: 0,
            remote,
            calls_min: 0,
            calls_max: 0,
            scenario_prompt_bytes_max: 0,
            input_tokens_min: 0,
            input_tokens_max: 0,
            output_tokens_per_call,
            cost_min_usd: None,
            cost_max_usd: None,
            batch_cost_min_usd: None,
            batch_cost_max_usd: None,
            sampling: None,
            key: None,
            prompt_cache: None,
        }
    }

    fn price(&mut self, prices: &crate::pricing::PriceTable) {
        let cost = |calls: u64, input_tokens: u64| {
            prices.cost(
                &self.model,
                Usage {
                    input_tokens,
                    output_tokens: calls * self.output_tokens_per_call,
                    ..Usage::default()
                },
            )
        };
        self.cost_min_usd = cost(self.calls_min, self.input_tokens_min);
        self.cost_max_usd = cost(self.calls_max, self.input_tokens_max);
        let provider = self.model.split('/').next().unwrap_or_default();
        if crate::model::batch::BATCH_PROVIDERS.contains(&provider) {
            let batch = |usd: f64| usd * crate::pricing::BATCH_PRICE_FACTOR;
            self.batch_cost_min_usd = self.cost_min_usd.map(batch);
            self.batch_cost_max_usd = self.cost_max_usd.map(batch);
        }
    }
}

/// The model's `max_tokens`, else a typical reply's length.
fn output_per_call(spec: &ModelSpec) -> u64 {
    spec.max_tokens.map_or(ASSUMED_OUTPUT_TOKENS, u64::from)
}

fn tokens_of(opening: &Opening) -> u64 {
    let mut chars = opening.system_prompt.len();
    for message in &opening.messages {
        chars += message.content.len();
    }
    for tool in &opening.tools {
        chars += tool.name.len() + tool.description.len() + tool.parameters.len();
    }
    (chars / CHARS_PER_TOKEN) as u64
}

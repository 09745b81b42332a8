//! `crucible run --dry-run`: what a run would send, and roughly what it
//! would cost, without sending anything. Every plugin is loaded and every
//! condition's episode opened once, so the plan and the prompt sizes are
//! the real ones; only the number of turns and the length of replies are
//! unknown, and the estimate gives the range they span.

use std::sync::Arc;

use serde::Serialize;

use super::episode::open_episode;
use super::{RunError, RunRequest, Session, sample_seed};
use crate::judge::{JudgeRequest, MAX_JUDGE_TOKENS, NoJudge};
use crate::model::{Agent, KeyRoute, SamplingSettings, Usage, key_route};
use crate::provenance::SentSampling;
use crate::transcript::Opening;

/// A token is about four characters of English text.
const CHARS_PER_TOKEN: usize = 4;
/// Output tokens assumed per call when the model sets no `max_tokens`.
const ASSUMED_OUTPUT_TOKENS: u64 = 1000;
/// Tokens a scenario's answer to one turn (tool results, new email) adds.
const ASSUMED_ANSWER_TOKENS: u64 = 300;

/// The plan of a run, with its estimated calls, tokens and cost.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    pub suite: String,
    pub samples: usize,
    pub max_turns: u32,
    pub models: Vec<ModelEstimate>,
    /// The judge's calls, when a judge is configured: at most one per
    /// classifier per sample (only classifiers that ask call it).
    pub judge: Option<ModelEstimate>,
}

/// One model's share of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct ModelEstimate {
    pub model: String,
    pub samples: usize,
    /// Offline models send nothing.
    pub remote: bool,
    pub calls_min: u64,
    pub calls_max: u64,
    /// Input tokens of the fewest calls (estimated from the real prompts).
    pub input_tokens_min: u64,
    /// Input tokens if every sample ran every turn, each resending the
    /// growing conversation.
    pub input_tokens_max: u64,
    /// Output tokens assumed per call.
    pub output_tokens_per_call: u64,
    /// US dollars for the fewest and the most calls; null without a price.
    pub cost_min_usd: Option<f64>,
    pub cost_max_usd: Option<f64>,
    /// What each call will be sent with (for the judge, when a classifier
    /// asks for the most tokens it may); none for an offline model.
    pub sampling: Option<SentSampling>,
    /// Where the model's key would go, and why it may; none for an offline
    /// model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyRoute>,
}

/// Loads the suite as `crucible run` would and estimates the run.
pub fn dry_run(request: &RunRequest) -> Result<DryRun, RunError> {
    // Nothing is sent, so no response cache is opened.
    let session = Session::for_request(request, &super::ResponseCacheSettings::default())?;
    let config = &session.config;

    // Prompt tokens of every condition's opening, as its first sample sees it.
    let mut opening_tokens: Vec<Vec<u64>> = Vec::new();
    for scenario in &session.scenarios {
        let mut per_condition = Vec::new();
        for prepared in &scenario.conditions {
            let seed = sample_seed(config.seed, &scenario.key, &prepared.condition.id, 0);
            let opening = pollster::block_on(async {
                let mut episode = scenario.plugin.instantiate(seed, Arc::new(NoJudge)).await?;
                open_episode(&mut episode, &prepared.condition, seed).await
            })
            .map_err(|e| RunError::Runtime(format!("dry run: {e}")))?;
            per_condition.push(tokens_of(&opening));
        }
        opening_tokens.push(per_condition);
    }

    let opening_of = |planned: &super::PlannedSample| -> u64 {
        session.scenarios[planned.scenario]
            .conditions
            .iter()
            .position(|c| *c.label == *planned.label)
            .and_then(|c| opening_tokens[planned.scenario].get(c).copied())
            .unwrap_or(0)
    };
    let turns = u64::from(config.max_turns);
    let mut models = Vec::new();
    for (index, (named, id)) in config.models.iter().zip(&session.model_ids).enumerate() {
        let remote = matches!(session.agents.get(index), Some(Agent::Remote(_)));
        let output = output_per_call(&session, named)?;
        let mut estimate = ModelEstimate::new(id, remote, output);
        estimate.key = key_route(&session.suite.model_spec(named)?, &request.keys)?;
        if let Some(Agent::Remote(model)) = session.agents.get(index) {
            estimate.sampling = Some(model.sampling().resolve(&SamplingSettings {
                default_temperature: config.temperature,
                ..SamplingSettings::default()
            }));
        }
        for planned in session.planned.iter().filter(|p| *p.model == **id) {
            estimate.samples += 1;
            if !remote {
                continue;
            }
            let opening = opening_of(planned);
            estimate.calls_min += 1;
            estimate.calls_max += turns;
            estimate.input_tokens_min += opening;
            // Turn k resends the opening and every earlier turn.
            estimate.input_tokens_max +=
                turns * opening + (turns * (turns - 1) / 2) * (output + ASSUMED_ANSWER_TOKENS);
        }
        if remote {
            estimate.price(&session.prices);
        }
        models.push(estimate);
    }

    // The judge reads a sample's transcript once per classifier that asks;
    // a classifier that settles a sample on its own checks asks nothing.
    let judge = match &config.judge {
        None => None,
        Some(id) => {
            let output = output_per_call(&session, id)?;
            let mut estimate = ModelEstimate::new(id, true, output);
            estimate.key = key_route(&session.suite.model_spec(id)?, &request.keys)?;
            let largest = JudgeRequest::new(String::new(), [], String::new(), MAX_JUDGE_TOKENS);
            estimate.sampling = session.judge.settings(&largest).map(|s| s.sent);
            for planned in &session.planned {
                let classifiers = session.scenarios[planned.scenario].classifiers.len() as u64;
                let named = session
                    .model_ids
                    .iter()
                    .position(|m| **m == *planned.model)
                    .and_then(|i| config.models.get(i))
                    .map_or(&*planned.model, String::as_str);
                let agent_output = output_per_call(&session, named)?;
                estimate.samples += 1;
                estimate.calls_max += classifiers;
                estimate.input_tokens_max += classifiers * (opening_of(planned) + agent_output);
            }
            estimate.price(&session.prices);
            Some(estimate)
        }
    };

    Ok(DryRun {
        suite: session.suite.manifest.suite.name.clone(),
        samples: session.planned.len(),
        max_turns: config.max_turns,
        models,
        judge,
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
            input_tokens_min: 0,
            input_tokens_max: 0,
            output_tokens_per_call,
            cost_min_usd: None,
            cost_max_usd: None,
            sampling: None,
            key: None,
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
    }
}

/// The model's `max_tokens`, else a typical reply's length.
fn output_per_call(session: &Session, id: &str) -> Result<u64, RunError> {
    let spec = session.suite.model_spec(id)?;
    Ok(spec.max_tokens.map_or(ASSUMED_OUTPUT_TOKENS, u64::from))
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

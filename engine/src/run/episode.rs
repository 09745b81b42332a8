//! One sample: an episode between a scenario and an agent, turn by turn,
//! then every classifier's verdict on the transcript.
//!
//! A sample is one async task. Plugin calls run on wasmtime fibers within
//! it, bounded by the sandbox's deadline; a model call, the agent's or the
//! judge's a classifier asks for, is awaited, so a sample waiting on a model
//! holds no thread.

use std::sync::Arc;

use super::prepare::PreparedScenario;
use super::prompt_bytes::{PromptLimits, PromptMeter};
use super::stop::{self, AfterReply};
use crate::judge::{Judge, NoJudge, ScriptedJudge};
use crate::model::reference::Script;
use crate::model::{Agent, ChatRequest, SamplingSettings};
use crate::plugin::{CallError, ScenarioInstance};
use crate::record::{CallFacts, PlannedSample, SampleError, SampleRecord, VerdictRecord};
use crate::transcript::{
    Condition, Message, Opening, Reference, Reply, Role, Step, ToolDefinition,
};

/// What the episode does to the record it fills.
trait Recording {
    fn fail_call(&mut self, error: &CallError);
    fn keep_log(&mut self, instance: ScenarioInstance);
}

impl Recording for SampleRecord {
    fn fail_call(&mut self, error: &CallError) {
        self.fail(error.call, error.to_string());
    }

    fn keep_log(&mut self, instance: ScenarioInstance) {
        self.logs
            .push((instance.plugin().to_owned(), instance.finish()));
    }
}

/// The stage of a sample that a scenario failed by what it sent, not by
/// a failing call.
const SCENARIO_STAGE: &str = "scenario";

/// What a sample needs from its run.
pub struct SampleContext {
    pub scenario: Arc<PreparedScenario>,
    pub agent: Agent,
    pub judge: Arc<dyn Judge>,
    /// For a scripted agent whose label is known, when the run has no
    /// judge: the judge of the primary classifier, which answers by that
    /// label (`ScriptedJudge`). The other classifiers keep `judge`, since
    /// the label says nothing about their questions.
    pub label_judge: Option<Arc<dyn Judge>>,
    pub max_turns: u32,
    /// The prompt bytes the scenario may send.
    pub prompt: PromptLimits,
}

impl SampleContext {
    /// The judge the primary classifier of a sample with this agent gets
    /// when the run has no judge of its own: one that answers by the
    /// scripted agent's label; none for a remote model.
    pub fn label_judge_for(agent: &Agent, run_judge: &dyn Judge) -> Option<Arc<dyn Judge>> {
        if run_judge.model_id().is_some() {
            return None;
        }
        let label = match agent {
            Agent::Reference(model) => model.label(),
            Agent::Scripted(reference) => reference.label,
            Agent::Remote(_) => return None,
        };
        Some(Arc::new(ScriptedJudge::by_label(label)))
    }
}

/// The most turns a scripted agent is played for, outside a run: its
/// replies, then empty ones, until the scenario ends the episode.
pub const SCRIPT_TURNS: u32 = 16;

/// Plays a scripted agent (a reference, a labelled case) through `scenario`
/// at `condition`, exactly as a run plays a sample, with no judge model. A
/// primary classifier that asks the judge is answered by the script's label
/// when `answer_by_label` (see `ScriptedJudge`); otherwise it gets no judge.
pub fn play_script(
    scenario: &Arc<PreparedScenario>,
    script: Reference,
    condition: &Condition,
    seed: u64,
    answer_by_label: bool,
) -> SampleRecord {
    let agent = Agent::Scripted(Arc::new(script));
    let ctx = SampleContext {
        scenario: Arc::clone(scenario),
        label_judge: answer_by_label
            .then(|| SampleContext::label_judge_for(&agent, &NoJudge))
            .flatten(),
        agent,
        judge: Arc::new(NoJudge),
        max_turns: SCRIPT_TURNS,
        prompt: PromptLimits::default(),
    };
    let planned = PlannedSample {
        model: "script".into(),
        scenario: 0,
        condition: Arc::new(condition.clone()),
        label: Arc::from(condition.id.as_str()),
        sample_index: 0,
        seed,
    };
    crate::plugin::block_on(run_sample(&ctx, &planned))
}

/// Runs one sample.
pub async fn run_sample(ctx: &SampleContext, planned: &PlannedSample) -> SampleRecord {
    let judge = Arc::clone(&ctx.judge).for_sample(planned.sample_index);
    let mut record = run_episode(ctx, planned, &judge).await;
    tally_judge_calls(&mut record);
    record
}

async fn run_episode(
    ctx: &SampleContext,
    planned: &PlannedSample,
    judge: &Arc<dyn Judge>,
) -> SampleRecord {
    let mut record = SampleRecord::default();
    let mut instance = match ctx
        .scenario
        .plugin
        .instantiate(planned.seed, Arc::clone(judge))
        .await
    {
        Ok(instance) => instance,
        Err(e) => {
            record.fail_call(&e);
            return record;
        }
    };
    let opened = open(ctx, planned, &mut instance).await;
    let (opening, script) = match opened {
        Ok(pair) => pair,
        Err(failure) => {
            record.fail(&failure.stage, failure.message);
            record.keep_log(instance);
            return record;
        }
    };
    let mut meter = PromptMeter::new(ctx.prompt);
    if let Err(message) = meter.opening(&opening) {
        record.fail(SCENARIO_STAGE, message);
        record.keep_log(instance);
        return record;
    }
    record
        .transcript
        .push(Message::new(Role::System, opening.system_prompt));
    record.transcript.extend(opening.messages);

    // The opening's text now lives in the transcript; only its tools are
    // needed again, with every request.
    let tools = opening.tools;
    let conversed = converse(
        ctx,
        planned,
        &mut instance,
        &tools,
        script,
        &mut meter,
        &mut record,
    )
    .await;
    let facts = match conversed {
        Ok(()) => instance.facts().await.map_err(|e| SampleError {
            stage: e.call.to_owned(),
            message: e.to_string(),
        }),
        Err(failure) => Err(failure),
    };
    record.keep_log(instance);
    match facts {
        Ok(facts) => record.facts = facts,
        Err(failure) => {
            record.error = Some(failure);
            return record;
        }
    }
    if stop::nothing_to_judge(record.stop, &record.transcript) {
        return record;
    }
    classify(ctx, planned, judge, &mut record).await;
    record
}

/// Adds every judge call the plugins made to the sample's usage. The
/// scripted judge's answers called no model, so they cost nothing and are
/// not counted.
fn tally_judge_calls(record: &mut SampleRecord) {
    for (_, log) in &record.logs {
        for call in &log.judge_calls {
            // A judge reply that was no answer was still billed; the
            // scripted judge called no model.
            let answered = match &call.outcome {
                Ok(response) => Some(response),
                Err(error) => error.response(),
            };
            if let Some(response) = answered
                && response.model != ScriptedJudge::MODEL
            {
                record
                    .usage
                    .entry(response.model.clone())
                    .or_default()
                    .add_call(CallFacts {
                        usage: response.usage,
                        cost_usd: response.cost_usd,
                        cached: response.cached,
                        served: stop::served_label(response.call.as_deref()),
                        batched: response
                            .call
                            .as_deref()
                            .is_some_and(|c| c.served.batch.is_some()),
                    });
            }
        }
    }
}

/// Opens an episode of `condition` at `seed` on a fresh instance: the
/// opening is what the agent is sent first. Every episode opens here: a
/// run's, a dry run's and the one `crucible show` prints.
pub async fn open_episode(
    instance: &mut ScenarioInstance,
    condition: &Condition,
    seed: u64,
) -> Result<Opening, CallError> {
    instance.open(condition, seed).await?;
    instance.opening().await
}

/// Opens the episode and, for a reference agent, fetches its script.
async fn open(
    ctx: &SampleContext,
    planned: &PlannedSample,
    instance: &mut ScenarioInstance,
) -> Result<(Opening, Option<Script>), SampleError> {
    let call_failed = |e: CallError| SampleError {
        stage: e.call.to_owned(),
        message: e.to_string(),
    };
    let opening = open_episode(instance, &planned.condition, planned.seed)
        .await
        .map_err(call_failed)?;
    let script = match &ctx.agent {
        Agent::Remote(_) => None,
        Agent::Scripted(reference) => Some(Script::new(reference.replies.clone())),
        Agent::Reference(model) => {
            let references = instance
                .references(&planned.condition)
                .await
                .map_err(call_failed)?;
            let script = model.script(references).ok_or_else(|| SampleError {
                stage: "references".into(),
                message: format!(
                    "plugin `{}` offers no {} reference for condition {}",
                    instance.plugin(),
                    model.label(),
                    planned.condition.id
                ),
            })?;
            Some(script)
        }
    };
    Ok((opening, script))
}

/// The turns of the episode: the agent replies, the scenario answers, until
/// the scenario ends it or the turn limit does.
async fn converse(
    ctx: &SampleContext,
    planned: &PlannedSample,
    instance: &mut ScenarioInstance,
    tools: &[ToolDefinition],
    mut script: Option<Script>,
    meter: &mut PromptMeter,
    record: &mut SampleRecord,
) -> Result<(), SampleError> {
    // A turn the provider paused is continued, within the turn limit,
    // before the scenario sees it whole.
    let mut paused = Vec::new();
    for turn in 1..=ctx.max_turns {
        let reply = next_reply(ctx, planned, tools, script.as_mut(), record).await?;
        record.transcript.push(Message::from_reply(&reply));
        record.turns = turn;
        let reply = match stop::after_reply(&mut paused, reply) {
            AfterReply::Continue => continue,
            AfterReply::Stopped(outcome) => {
                record.stop = Some(outcome.kind);
                record.end_reason = Some(outcome.reason);
                return Ok(());
            }
            AfterReply::Step(reply) => reply,
        };
        match instance.step(&reply).await {
            Ok(Step::Continue(messages)) => {
                // Checked before the answer joins the conversation, so no
                // byte over a cap is sent.
                meter
                    .answer(turn, &messages)
                    .map_err(|message| SampleError {
                        stage: SCENARIO_STAGE.into(),
                        message,
                    })?;
                record.transcript.extend(messages);
            }
            Ok(Step::End(reason)) => {
                record.end_reason = Some(reason);
                return Ok(());
            }
            Err(e) => {
                return Err(SampleError {
                    stage: e.call.to_owned(),
                    message: e.to_string(),
                });
            }
        }
    }
    let (reason, outcome) = stop::at_turn_limit(ctx.max_turns, &paused);
    record.end_reason = Some(reason);
    record.stop = outcome;
    Ok(())
}

async fn next_reply(
    ctx: &SampleContext,
    planned: &PlannedSample,
    tools: &[ToolDefinition],
    script: Option<&mut Script>,
    record: &mut SampleRecord,
) -> Result<Reply, SampleError> {
    match (&ctx.agent, script) {
        (Agent::Reference(_) | Agent::Scripted(_), Some(script)) => Ok(script.next_reply()),
        (Agent::Reference(_) | Agent::Scripted(_), None) => Ok(Reply::default()),
        (Agent::Remote(model), _) => {
            let request = ChatRequest {
                messages: &record.transcript,
                tools,
                sampling: SamplingSettings::default(),
                sample_index: planned.sample_index,
            };
            let completion = model.complete(&request).await.map_err(|e| SampleError {
                stage: "model".into(),
                message: format!("model `{}`: {e}", model.id()),
            })?;
            record
                .usage
                .entry(model.id().to_owned())
                .or_default()
                .add_call(CallFacts {
                    usage: completion.usage,
                    cost_usd: completion.cost_usd,
                    cached: completion.reply.cached,
                    served: stop::served_label(completion.call()),
                    batched: completion.call().is_some_and(|c| c.served.batch.is_some()),
                });
            Ok(completion.reply)
        }
    }
}

/// Every classifier judges the transcript, each in its own sandbox. Only
/// the primary classifier's failure fails the sample.
async fn classify(
    ctx: &SampleContext,
    planned: &PlannedSample,
    sample_judge: &Arc<dyn Judge>,
    record: &mut SampleRecord,
) {
    for (position, classifier) in ctx.scenario.classifiers.iter().enumerate() {
        let id = classifier.info.id();
        let mut judge = Vec::new();
        let classifier_judge = match (&ctx.label_judge, position) {
            (Some(label_judge), 0) => Arc::clone(label_judge),
            _ => Arc::clone(sample_judge),
        };
        let outcome = match classifier.instantiate(planned.seed, classifier_judge).await {
            Err(e) => Err(e.to_string()),
            Ok(mut instance) => {
                let verdict = instance
                    .classify(&planned.condition, &record.facts, &record.transcript)
                    .await
                    .map_err(|e| e.to_string());
                let log = instance.finish();
                judge = log
                    .judge_calls
                    .iter()
                    .filter_map(|call| call.settings.clone())
                    .collect();
                record.logs.push((id.clone(), log));
                verdict
            }
        };
        if position == 0
            && let Err(message) = &outcome
        {
            record.fail("classify", message.clone());
        }
        record.verdicts.push(VerdictRecord {
            classifier: id,
            outcome,
            judge,
        });
    }
}

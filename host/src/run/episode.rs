//! One sample: an episode between a scenario and an agent, turn by turn,
//! then every classifier's verdict on the transcript.
//!
//! Plugin calls are short and bounded by the sandbox's deadline, but they
//! are synchronous, so each runs on tokio's blocking pool; model calls are
//! awaited on the runtime.

use std::sync::Arc;

use serde::Serialize;

use super::plan::PlannedSample;
use super::prepare::PreparedScenario;
use crate::judge::Judge;
use crate::model::{Agent, ChatRequest, SamplingSettings};
use crate::plugin::{CallError, ClassifierPlugin, PluginLog, ScenarioInstance};
use crate::transcript::{Condition, Message, Opening, Param, Reply, Role, Step, Verdict};

/// Where a failed sample failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SampleError {
    pub stage: String,
    pub message: String,
}

/// One classifier's outcome on one sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictRecord {
    /// `name@version` of the classifier.
    pub classifier: String,
    pub outcome: Result<Verdict, String>,
}

/// Everything a sample produced, successful or not.
#[derive(Debug, Clone, Serialize)]
pub struct SampleRecord {
    pub transcript: Vec<Message>,
    pub facts: Vec<Param>,
    pub end_reason: Option<String>,
    pub turns: u32,
    pub verdicts: Vec<VerdictRecord>,
    /// Per plugin (`name@version`), what it logged.
    pub logs: Vec<(String, PluginLog)>,
    pub error: Option<SampleError>,
}

impl SampleRecord {
    fn new() -> Self {
        Self {
            transcript: Vec::new(),
            facts: Vec::new(),
            end_reason: None,
            turns: 0,
            verdicts: Vec::new(),
            logs: Vec::new(),
            error: None,
        }
    }

    fn fail(&mut self, stage: &str, message: impl Into<String>) {
        self.error = Some(SampleError {
            stage: stage.to_owned(),
            message: message.into(),
        });
    }
}

/// What a sample needs from its run.
pub struct SampleContext {
    pub scenario: Arc<PreparedScenario>,
    pub agent: Agent,
    pub judge: Arc<dyn Judge>,
    pub max_turns: u32,
}

/// Runs a closure on the blocking pool with exclusive use of `value`, and
/// hands `value` back with the result.
async fn on_blocking_pool<V, R>(
    value: V,
    f: impl FnOnce(&mut V) -> R + Send + 'static,
) -> Result<(V, R), String>
where
    V: Send + 'static,
    R: Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let mut value = value;
        let result = f(&mut value);
        (value, result)
    })
    .await
    .map_err(|e| format!("internal error: a plugin call's thread failed: {e}"))
}

pub async fn run_sample(ctx: &SampleContext, planned: &PlannedSample) -> SampleRecord {
    let mut record = SampleRecord::new();
    let Some(instance) = open_episode(ctx, planned, &mut record).await else {
        return record;
    };
    let Some(instance) = converse(ctx, planned, instance, &mut record).await else {
        return record;
    };
    let (instance, facts) = match on_blocking_pool(instance, |i| i.facts()).await {
        Ok(pair) => pair,
        Err(message) => {
            record.fail("facts", message);
            return record;
        }
    };
    record
        .logs
        .push((instance.plugin().to_owned(), instance.finish()));
    match facts {
        Ok(facts) => record.facts = facts,
        Err(e) => {
            record.fail("facts", e.to_string());
            return record;
        }
    }
    classify(ctx, planned, &mut record).await;
    record
}

/// Instantiates the scenario, opens the episode and lays out its opening.
async fn open_episode(
    ctx: &SampleContext,
    planned: &PlannedSample,
    record: &mut SampleRecord,
) -> Option<(
    ScenarioInstance,
    Opening,
    Option<Vec<crate::transcript::Reference>>,
)> {
    let plugin = Arc::clone(&ctx.scenario.plugin);
    let judge = Arc::clone(&ctx.judge);
    let seed = planned.seed;
    let instance = match tokio::task::spawn_blocking(move || plugin.instantiate(seed, judge)).await
    {
        Ok(Ok(instance)) => instance,
        Ok(Err(e)) => {
            record.fail("instantiate", e.to_string());
            return None;
        }
        Err(e) => {
            record.fail("instantiate", format!("internal error: {e}"));
            return None;
        }
    };
    let condition = planned.condition.clone();
    let wants_references = matches!(ctx.agent, Agent::Reference(_));
    let opened = on_blocking_pool(instance, move |i| -> Result<_, CallError> {
        i.open(&condition, seed)?;
        let opening = i.opening()?;
        let references = if wants_references {
            Some(i.references(&condition)?)
        } else {
            None
        };
        Ok((opening, references))
    })
    .await;
    match opened {
        Ok((instance, Ok((opening, references)))) => {
            record
                .transcript
                .push(Message::new(Role::System, opening.system_prompt.clone()));
            record.transcript.extend(opening.messages.iter().cloned());
            Some((instance, opening, references))
        }
        Ok((instance, Err(e))) => {
            record.fail(e.call, e.to_string());
            record
                .logs
                .push((instance.plugin().to_owned(), instance.finish()));
            None
        }
        Err(message) => {
            record.fail("open", message);
            None
        }
    }
}

/// The turns of the episode: the agent replies, the scenario answers, until
/// the scenario ends it or the turn limit does.
async fn converse(
    ctx: &SampleContext,
    planned: &PlannedSample,
    (instance, opening, references): (
        ScenarioInstance,
        Opening,
        Option<Vec<crate::transcript::Reference>>,
    ),
    record: &mut SampleRecord,
) -> Option<ScenarioInstance> {
    let mut instance = instance;
    let mut script = match (&ctx.agent, references) {
        (Agent::Reference(model), Some(references)) => match model.script(references) {
            Some(script) => Some(script),
            None => {
                record.fail(
                    "references",
                    format!(
                        "plugin `{}` offers no {} reference for condition {}",
                        instance.plugin(),
                        model.label(),
                        planned.condition.id
                    ),
                );
                record
                    .logs
                    .push((instance.plugin().to_owned(), instance.finish()));
                return None;
            }
        },
        _ => None,
    };
    for turn in 1..=ctx.max_turns {
        let reply = match (&ctx.agent, script.as_mut()) {
            (Agent::Reference(_), Some(script)) => script.next_reply(),
            (Agent::Remote(model), _) => {
                let request = ChatRequest {
                    messages: record.transcript.clone(),
                    tools: opening.tools.clone(),
                    sampling: SamplingSettings::default(),
                };
                match model.complete(&request).await {
                    Ok(reply) => reply,
                    Err(e) => {
                        record.fail("model", format!("model `{}`: {e}", model.id()));
                        record
                            .logs
                            .push((instance.plugin().to_owned(), instance.finish()));
                        return None;
                    }
                }
            }
            (Agent::Reference(_), None) => Reply::default(),
        };
        record.transcript.push(Message::from_reply(&reply));
        record.turns = turn;
        let stepped = on_blocking_pool(instance, move |i| i.step(&reply)).await;
        let (returned, step) = match stepped {
            Ok(pair) => pair,
            Err(message) => {
                record.fail("step", message);
                return None;
            }
        };
        instance = returned;
        match step {
            Ok(Step::Continue(messages)) => record.transcript.extend(messages),
            Ok(Step::End(reason)) => {
                record.end_reason = Some(reason);
                return Some(instance);
            }
            Err(e) => {
                record.fail("step", e.to_string());
                record
                    .logs
                    .push((instance.plugin().to_owned(), instance.finish()));
                return None;
            }
        }
    }
    record.end_reason = Some(format!("turn limit reached ({} turns)", ctx.max_turns));
    Some(instance)
}

/// Every classifier judges the transcript, each in its own sandbox. Only
/// the primary classifier's failure fails the sample.
async fn classify(ctx: &SampleContext, planned: &PlannedSample, record: &mut SampleRecord) {
    let condition: Arc<Condition> = Arc::new(planned.condition.clone());
    let facts: Arc<Vec<Param>> = Arc::new(record.facts.clone());
    let transcript: Arc<Vec<Message>> = Arc::new(record.transcript.clone());
    for (position, classifier) in ctx.scenario.classifiers.iter().enumerate() {
        let outcome = classify_one(
            Arc::clone(classifier),
            planned.seed,
            Arc::clone(&ctx.judge),
            Arc::clone(&condition),
            Arc::clone(&facts),
            Arc::clone(&transcript),
        )
        .await;
        let id = classifier.info.id();
        let (verdict, log) = outcome;
        if let Some(log) = log {
            record.logs.push((id.clone(), log));
        }
        if position == 0
            && let Err(message) = &verdict
        {
            record.fail("classify", message.clone());
        }
        record.verdicts.push(VerdictRecord {
            classifier: id,
            outcome: verdict,
        });
    }
}

async fn classify_one(
    classifier: Arc<ClassifierPlugin>,
    seed: u64,
    judge: Arc<dyn Judge>,
    condition: Arc<Condition>,
    facts: Arc<Vec<Param>>,
    transcript: Arc<Vec<Message>>,
) -> (Result<Verdict, String>, Option<PluginLog>) {
    let joined = tokio::task::spawn_blocking(move || {
        let mut instance = match classifier.instantiate(seed, judge) {
            Ok(instance) => instance,
            Err(e) => return (Err(e.to_string()), None),
        };
        let verdict = instance
            .classify(&condition, &facts, &transcript)
            .map_err(|e| e.to_string());
        (verdict, Some(instance.finish()))
    })
    .await;
    joined.unwrap_or_else(|e| (Err(format!("internal error: {e}")), None))
}

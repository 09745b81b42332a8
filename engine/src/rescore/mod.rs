//! Rescoring: a classifier run again over a finished run's stored
//! transcripts, its verdicts kept as a new label set beside the run's own.
//!
//! The classifier sees exactly what it saw in the run: the sample's
//! condition, the scenario's facts and the whole transcript, in a fresh
//! sandbox seeded with the sample's own seed. It judges every sample whose
//! scenario used a classifier of the same name, whatever its version, in
//! the position it had there: as the primary classifier (its verdict is
//! what a rate counts) or as a secondary one (eval awareness, say). As in
//! a run, the scripted `reference/*` agents' samples give a primary
//! classifier the scripted judge that answers by their known label, unless
//! a judge model is named; without one, a verdict that needs a judge is an
//! error that says so.
//!
//! The work here takes a run as data (`RunResults`, from a run's store or a
//! bundle) and the component's bytes, and returns the label set; storing
//! it is the caller's (`Store::add_label_set`), in one transaction.

mod component;
mod judge;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::task::JoinSet;

pub use component::{ClassifierRef, Lookup, resolve};

use crate::judge::{Judge, NoJudge};
use crate::model::reference::ReferenceModel;
use crate::model::response_cache::CacheError;
use crate::model::{Agent, SpecError};
use crate::plugin::{
    ClassifierPlugin, Limits, LoadError, PluginLog, PluginRuntime, PluginSource, RuntimeConfig,
};
use crate::results::{LabelSet, LabelVerdict, ORIGINAL, ResultsError, RunResults, classifier_name};
use crate::run::{ResponseCacheSettings, SampleContext};
use crate::suite::LoadedSuite;
use crate::transcript::{Condition, Message, Param};

#[derive(Debug, thiserror::Error)]
pub enum RescoreError {
    #[error("--classifier `{text}`: {why}")]
    BadClassifierRef { text: String, why: String },
    #[error(
        "no classifier `{name}` judged this run, so there is nothing of it to rescore; its classifiers are: {used}"
    )]
    UnknownClassifier { name: String, used: String },
    #[error(
        "{wanted}: the run's suite names no registry to find it in; name one with --registry, or the component with --component PATH.wasm"
    )]
    NoRegistry { wanted: String },
    #[error("{0}")]
    Registry(String),
    #[error("{label} is not a classifier")]
    NotAClassifier { label: String },
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{0}")]
    Runtime(String),
    #[error(transparent)]
    Judge(#[from] SpecError),
    #[error("judge `{0}`: the offline reference models cannot judge; name a real model")]
    ReferenceJudge(String),
    #[error(transparent)]
    ResponseCache(#[from] CacheError),
    #[error("label set name `{name}`: {why}")]
    BadName { name: String, why: String },
    #[error(
        "run {run_id} already has a label set `{name}` (by {classifier}, made {created}); label sets are never replaced: choose another name with --name"
    )]
    Exists {
        run_id: String,
        name: String,
        classifier: String,
        created: String,
    },
    #[error(transparent)]
    Results(#[from] ResultsError),
}

/// How to rescore.
#[derive(Debug, Clone)]
pub struct RescoreOptions {
    /// The label set's name; by default `NAME@VERSION`, or
    /// `NAME@VERSION+PROVIDER/MODEL` with a judge.
    pub name: Option<String>,
    /// The judge model, as `crucible run --judge` takes it.
    pub judge: Option<String>,
    /// Samples classified at once.
    pub concurrency: u32,
    pub limits: Limits,
    /// The compiled-component cache.
    pub cache_dir: Option<PathBuf>,
    /// The response cache the judge's calls go through.
    pub responses: ResponseCacheSettings,
    /// Where the run's suite lies on this machine, when the run was made
    /// here: the judge's settings are read from it.
    pub suite_path: Option<PathBuf>,
    /// Where the user lets the judge's key go.
    pub keys: crate::model::KeyPolicy,
}

/// Told how far a rescore has come.
pub trait Progress: Send + Sync {
    fn progress(&self, done: usize, total: usize, errors: usize);
}

/// One sample to judge, with what the classifier is given.
struct Work {
    sample_id: i64,
    seed: u64,
    condition: Condition,
    facts: Vec<Param>,
    transcript: Vec<Message>,
    judge: Arc<dyn Judge>,
}

/// Runs the classifier `component` over `run`'s samples and returns the
/// label set (not stored).
pub async fn rescore(
    run: &RunResults,
    component: &PluginSource,
    options: &RescoreOptions,
    progress: &dyn Progress,
) -> Result<LabelSet, RescoreError> {
    let suite = stored_suite(run, options.suite_path.as_deref());
    // The suite's caps on plugins (judge calls, logs) hold for a rescore as
    // for the run.
    let limits = match &suite {
        Some(suite) => suite.manifest.run.plugin_limits(options.limits.clone()),
        None => options.limits.clone(),
    };
    let runtime = PluginRuntime::new(RuntimeConfig {
        limits: limits.clone(),
        max_instances: options.concurrency.max(1),
        cache_dir: options.cache_dir.clone(),
    })
    .map_err(|e| RescoreError::Runtime(format!("{e:#}")))?;
    let classifier = Arc::new(runtime.load_classifier(component)?);
    let info = classifier.info.clone();
    let used = run.classifier_names();
    if !used.contains(&info.name.as_str()) {
        return Err(RescoreError::UnknownClassifier {
            name: info.name.clone(),
            used: used.join(", "),
        });
    }
    let (run_judge, judge_id): (Arc<dyn Judge>, Option<String>) = match &options.judge {
        None => (Arc::new(NoJudge), None),
        Some(id) => {
            let (judge, id) = judge::connect(
                suite.as_ref(),
                id,
                &options.responses,
                limits.judge_caps(),
                &options.keys,
            )?;
            (judge, Some(id))
        }
    };
    let name = match &options.name {
        Some(name) => name.clone(),
        None => match &judge_id {
            None => info.id(),
            Some(judge) => format!("{}+{judge}", info.id()),
        },
    };
    check_name(run, &name)?;

    let mut queue = work(run, &info.name, &run_judge).into_iter();
    let total = queue.len();
    let mut tasks = JoinSet::new();
    let start = |tasks: &mut JoinSet<LabelVerdict>, work: Work| {
        let classifier = Arc::clone(&classifier);
        tasks.spawn(async move { classify(&classifier, work).await });
    };
    for work in queue.by_ref().take(options.concurrency.max(1) as usize) {
        start(&mut tasks, work);
    }
    let mut verdicts = Vec::with_capacity(total);
    let mut errors = 0;
    progress.progress(0, total, 0);
    while let Some(joined) = tasks.join_next().await {
        let verdict = joined.map_err(|e| RescoreError::Runtime(format!("a sample's task: {e}")))?;
        errors += usize::from(verdict.outcome.is_err());
        verdicts.push(verdict);
        progress.progress(verdicts.len(), total, errors);
        if let Some(work) = queue.next() {
            start(&mut tasks, work);
        }
    }
    verdicts.sort_by_key(|v| v.sample_id);
    Ok(LabelSet {
        name,
        classifier: info.id(),
        sha256: info.sha256.clone(),
        source: component.label.clone(),
        judge: judge_id,
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        host_version: env!("CARGO_PKG_VERSION").to_owned(),
        verdicts,
    })
}

/// The run's suite as it was when the run began: its stored manifest,
/// read as if at the suite's own path on this machine, `at` (registry
/// paths are relative to it), or else as the run named it. `None` when
/// the run kept none that reads.
fn stored_suite(run: &RunResults, at: Option<&std::path::Path>) -> Option<LoadedSuite> {
    let path = match at {
        Some(path) => path.to_owned(),
        None => PathBuf::from(run.config.get("suite")?.as_str()?),
    };
    LoadedSuite::parse(&path, &run.suite_manifest).ok()
}

/// A label set's name is typed on command lines: printable, no spaces,
/// not `original`, and not taken.
fn check_name(run: &RunResults, name: &str) -> Result<(), RescoreError> {
    let bad = |why: &str| RescoreError::BadName {
        name: name.to_owned(),
        why: why.to_owned(),
    };
    if name.is_empty() || name.len() > 200 {
        return Err(bad("a name is 1 to 200 characters"));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("a name has no spaces or control characters"));
    }
    if name == ORIGINAL {
        return Err(bad("`original` names the run's own verdicts"));
    }
    if let Some(set) = run.label_sets.iter().find(|s| s.name == name) {
        return Err(RescoreError::Exists {
            run_id: run.run_id.clone(),
            name: name.to_owned(),
            classifier: set.classifier.clone(),
            created: set.created.clone(),
        });
    }
    Ok(())
}

/// Every sample the classifier `name` judged in the run, with the judge it
/// gets now.
fn work(run: &RunResults, name: &str, run_judge: &Arc<dyn Judge>) -> Vec<Work> {
    run.samples
        .iter()
        .filter_map(|sample| {
            let position = sample
                .record
                .verdicts
                .iter()
                .position(|v| classifier_name(&v.classifier) == name)?;
            let label_judge = (position == 0)
                .then(|| scripted_agent(&sample.model))
                .flatten()
                .and_then(|agent| SampleContext::label_judge_for(&agent, run_judge.as_ref()));
            let judge = label_judge
                .unwrap_or_else(|| Arc::clone(run_judge).for_sample(sample.sample_index));
            Some(Work {
                sample_id: sample.id,
                seed: sample.seed,
                condition: sample.condition.clone(),
                facts: sample.record.facts.clone(),
                transcript: sample.record.transcript.clone(),
                judge,
            })
        })
        .collect()
}

/// The offline reference agent a model id names, whose label is known.
fn scripted_agent(model: &str) -> Option<Agent> {
    let name = model.strip_prefix("reference/")?;
    ReferenceModel::named(name).ok().map(Agent::Reference)
}

/// The classifier's verdict on one sample, in a fresh sandbox, as a run's
/// classify step gives it.
async fn classify(classifier: &ClassifierPlugin, work: Work) -> LabelVerdict {
    let (outcome, log) = match classifier.instantiate(work.seed, work.judge).await {
        Err(e) => (Err(e.to_string()), PluginLog::default()),
        Ok(mut instance) => {
            let verdict = instance
                .classify(&work.condition, &work.facts, &work.transcript)
                .await
                .map_err(|e| e.to_string());
            (verdict, instance.finish())
        }
    };
    LabelVerdict {
        sample_id: work.sample_id,
        outcome,
        judge: log
            .judge_calls
            .iter()
            .filter_map(|call| call.settings.clone())
            .collect(),
        log,
    }
}

/// How a label set's verdicts differ from the run's own verdicts by the
/// same classifier on the same samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LabelChanges {
    /// Samples the set has a verdict (or an error) for.
    pub samples: usize,
    /// Not harmful in the run, harmful in the set.
    pub became_harmful: usize,
    /// Harmful in the run, not harmful in the set.
    pub became_not_harmful: usize,
    /// A verdict in the run, an error in the set.
    pub became_errors: usize,
    /// An error in the run, a verdict in the set.
    pub errors_resolved: usize,
    /// Errors in the set.
    pub errors: usize,
    /// Of those, the ones the classifier could not decide without a judge.
    pub need_a_judge: usize,
}

/// Compares `set` with the run's own verdicts sample by sample.
pub fn changes(run: &RunResults, set: &LabelSet) -> LabelChanges {
    let name = set.classifier_name();
    let mut changes = LabelChanges::default();
    let original: std::collections::HashMap<i64, &Result<_, String>> = run
        .samples
        .iter()
        .filter_map(|s| {
            let verdict = s
                .record
                .verdicts
                .iter()
                .find(|v| classifier_name(&v.classifier) == name)?;
            Some((s.id, &verdict.outcome))
        })
        .collect();
    for verdict in &set.verdicts {
        changes.samples += 1;
        if let Err(message) = &verdict.outcome {
            changes.errors += 1;
            changes.need_a_judge += usize::from(message.contains("needs a judge"));
        }
        match (original.get(&verdict.sample_id), &verdict.outcome) {
            (Some(Ok(before)), Ok(now)) if before.harmful != now.harmful => {
                if now.harmful {
                    changes.became_harmful += 1;
                } else {
                    changes.became_not_harmful += 1;
                }
            }
            (Some(Ok(_)), Err(_)) => changes.became_errors += 1,
            (Some(Err(_)), Ok(_)) => changes.errors_resolved += 1,
            _ => {}
        }
    }
    changes
}
